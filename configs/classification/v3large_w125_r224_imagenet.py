_base_ = [
    './_base_/models/v3large.py', './_base_/imagenet_inception.py',
    './_base_/schedule_paper.py', 'mmpretrain::_base_/default_runtime.py'
]
# Figure 7, V3-Large: width multiplier 1.25 (the released models' rounding, tf rule)
model = dict(
    backbone=dict(widen_factor=1.25),
    # last conv 960 x 1.25 -> 1200; for multipliers > 1 the head widens too:
    # 1280 x 1.25 -> 1600
    head=dict(in_channels=1200, mid_channels=[1600]))
