_base_ = [
    './_base_/models/v3large.py', './_base_/imagenet_inception.py',
    './_base_/schedule_paper.py', 'mmpretrain::_base_/default_runtime.py'
]
# Table 5, h-swish @112: ReLU before the first 112-channel layer, h-swish from it on
model = dict(backbone=dict(nl_layout='hswish@112'))
