_base_ = [
    './_base_/models/v3small.py', './_base_/imagenet_inception_r192.py',
    './_base_/schedule_paper.py', 'mmpretrain::_base_/default_runtime.py'
]
# Figure 7, V3-Small at input resolution 192: only the data differs
