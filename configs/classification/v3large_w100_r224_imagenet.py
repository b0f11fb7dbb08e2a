# Table 3, V3-Large 1.0: the classification row every other classification config starts from.
_base_ = [
    './_base_/models/v3large.py', './_base_/datasets/imagenet_inception.py',
    './_base_/schedules/paper.py', 'mmpretrain::_base_/default_runtime.py'
]
