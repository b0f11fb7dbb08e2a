# Table 6, MnasNet (MnasNet-A1 + SSDLite, MnasNet paper): C4 = the 672 expansion of the first 160
# block, C5 = the 1280 conv.
_base_ = './ssdlite_v3large_w100_r320_coco.py'
model = dict(backbone=dict(type='mnv3_plugin.MnasNet', arch='a1'))
