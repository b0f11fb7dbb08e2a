# Table 5, h-swish @112, "no-opt" column: the no-opt ops with h-swish from 112 channels on.
_base_ = './v3large-noopt_w100_r224_imagenet.py'
model = dict(backbone=dict(nl_layout='hswish@112'))
