_base_ = [
    './_base_/models/v3large.py', './_base_/imagenet_inception_r256.py',
    './_base_/schedule_paper.py', 'mmpretrain::_base_/default_runtime.py'
]
# Figure 7, V3-Large at input resolution 256: only the data differs
