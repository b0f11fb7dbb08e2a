# Table 5, h-swish @16, "no-opt" column: the no-opt ops with h-swish everywhere.
_base_ = './v3large-noopt_w100_r224_imagenet.py'
model = dict(backbone=dict(nl_layout='hswish@16'))
