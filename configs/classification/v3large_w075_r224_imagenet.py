_base_ = [
    './_base_/models/v3large.py', './_base_/imagenet_inception.py',
    './_base_/schedule_paper.py', 'mmpretrain::_base_/default_runtime.py'
]
# Table 3, V3-Large 0.75: width multiplier 0.75 (the released models' rounding, tf rule)
model = dict(
    backbone=dict(widen_factor=0.75),
    # last conv 960 x 0.75 -> 720 (rounded to 8); the 1280 head is not narrowed
    # below 1.0 (released models)
    head=dict(in_channels=720))
