# Figure 7, V3-Small 1.25: width multiplier 1.25 (the released models' rounding, 'tf' rule);
# the classifier's widths follow from the backbone.
_base_ = './v3small_w100_r224_imagenet.py'
model = dict(backbone=dict(widen_factor=1.25))
