# Table 5, h-swish @16: h-swish from the first 16-channel layer, the stem, so everywhere.
_base_ = './v3large_w100_r224_imagenet.py'
model = dict(backbone=dict(nl_layout='hswish@16'))
