# Figure 7, V3-Small at input resolution 96: the V3-Large row's data, the Small network.
_base_ = './v3large_w100_r096_imagenet.py'
model = dict(backbone=dict(arch='small'))
