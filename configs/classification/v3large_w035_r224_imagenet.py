_base_ = './_base_/models/v3large.py'
# Figure 7, V3-Large: width multiplier 0.35 (the released models' rounding, tf rule)
model = dict(
    backbone=dict(widen_factor=0.35),
    # last conv 960 x 0.35 -> 336 (rounded to 8); the 1280 head is not narrowed
    # below 1.0 (released models)
    head=dict(in_channels=336))
