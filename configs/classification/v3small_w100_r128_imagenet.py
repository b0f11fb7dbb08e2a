# Figure 7, V3-Small at input resolution 128: the V3-Large row's data, the Small network.
_base_ = './v3large_w100_r128_imagenet.py'
model = dict(backbone=dict(arch='small'))
