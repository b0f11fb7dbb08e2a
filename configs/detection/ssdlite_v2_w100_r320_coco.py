# Table 6, V2 (MobileNetV2 paper, Section 6.2): C4 = the 576 expansion of the first 160 block
# (TF's layer_15/expansion_output), C5 = the 1280 conv (layer_19).
_base_ = './ssdlite_v3large_w100_r320_coco.py'
model = dict(backbone=dict(type='mnv3_plugin.MobileNetV2', arch='v2'))
