_base_ = [
    './_base_/models/v3small.py', './_base_/imagenet_inception.py',
    './_base_/schedule_paper.py', 'mmpretrain::_base_/default_runtime.py'
]
# Figure 7, V3-Small: width multiplier 0.35 (the released models' rounding, tf rule)
model = dict(
    backbone=dict(widen_factor=0.35),
    # last conv 576 x 0.35 -> 200 (rounded to 8); the 1024 head is not narrowed
    # below 1.0 (released models)
    head=dict(in_channels=200))
