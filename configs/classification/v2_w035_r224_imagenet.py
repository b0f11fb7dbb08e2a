_base_ = [
    './_base_/models/v2.py', './_base_/imagenet_inception.py',
    './_base_/schedule_paper.py', 'mmpretrain::_base_/default_runtime.py'
]
# Table 3, V2 0.35: width multiplier 0.35; the 1280 conv before pooling keeps its width below
# 1.0 (MobileNetV2 paper, Section 4), so the classifier input stays 1280
model = dict(backbone=dict(widen_factor=0.35))
