# Table 5, h-swish @112: ReLU before the first 112-channel layer, h-swish from it on.
_base_ = './v3large_w100_r224_imagenet.py'
model = dict(backbone=dict(nl_layout='hswish@112'))
