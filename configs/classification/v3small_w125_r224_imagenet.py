_base_ = [
    './_base_/models/v3small.py', './_base_/imagenet_inception.py',
    './_base_/schedule_paper.py', 'mmpretrain::_base_/default_runtime.py'
]
# Figure 7, V3-Small: width multiplier 1.25 (the released models' rounding, tf rule)
model = dict(
    backbone=dict(widen_factor=1.25),
    # last conv 576 x 1.25 -> 720; for multipliers > 1 the head widens too:
    # 1024 x 1.25 -> 1280
    head=dict(in_channels=720, mid_channels=[1280]))
