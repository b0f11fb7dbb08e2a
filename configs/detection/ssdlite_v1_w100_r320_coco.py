# Table 6, V1 (MobileNetV2 paper, Section 6.2): C4 = the 512-wide output of the last stride-16
# layer (TF's Conv2d_11_pointwise), C5 = the 1024 output of the last layer (Conv2d_13_pointwise).
_base_ = './ssdlite_v3large_w100_r320_coco.py'
model = dict(backbone=dict(type='mnv3_plugin.MobileNetV1', arch='v1'))
