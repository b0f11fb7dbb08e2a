_base_ = [
    './_base_/models/v3large.py', './_base_/imagenet_inception.py',
    './_base_/schedule_paper.py', 'mmpretrain::_base_/default_runtime.py'
]
# Table 5, h-swish @16: h-swish from the first 16-channel layer (the stem): everywhere
model = dict(backbone=dict(nl_layout='hswish@16'))
