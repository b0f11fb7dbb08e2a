_base_ = [
    './_base_/models/v3large.py', './_base_/imagenet_inception.py',
    './_base_/schedule_paper.py', 'mmpretrain::_base_/default_runtime.py'
]
# Figure 7, V3-Large: width multiplier 0.5 (the released models' rounding, tf rule)
model = dict(
    backbone=dict(widen_factor=0.5),
    # last conv 960 x 0.5 -> 480 (rounded to 8); the 1280 head is not narrowed
    # below 1.0 (released models)
    head=dict(in_channels=480))
