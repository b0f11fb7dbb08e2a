_base_ = './_base_/ssdlite_r320_coco.py'
# Table 6, V3-Small: C4 = the 288-wide expansion of the 9th bneck, C5 = the 576 conv.
model = dict(backbone=dict(arch='small'))
