# Table 3, Mnas-small: the small MnasNet as released (TF mnasnet_models / timm mnasnet_small).
_base_ = './v2_w100_r224_imagenet.py'
model = dict(backbone=dict(type='mnv3_plugin.MnasNet', arch='small'))
