_base_ = './_base_/models/v3large.py'
# Table 5, h-swish @112: ReLU before the first 112-channel layer, h-swish from it on
model = dict(backbone=dict(nl_layout='hswish@112'))
