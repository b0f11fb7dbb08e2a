_base_ = './_base_/models/v3large.py'
# Table 5, h-swish @16: h-swish from the first 16-channel layer (the stem): everywhere
model = dict(backbone=dict(nl_layout='hswish@16'))
