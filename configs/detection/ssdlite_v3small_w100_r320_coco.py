# Table 6, V3-Small: C4 = the 288-wide expansion of the 9th bneck, C5 = the 576 conv.
_base_ = './ssdlite_v3large_w100_r320_coco.py'
model = dict(backbone=dict(arch='small'))
