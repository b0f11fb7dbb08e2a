# Table 7, row 1: row 2 without RF2 (the last bottleneck 320 wide): Mobile DeepLabv3 as in the
# MobileNetV2 paper; 72.84 mIoU, 2.11M, 21.29B.
_base_ = './raspp-f256_v2-rf2_w100_os16_cityscapes.py'
model = dict(backbone=dict(reduced_tail=None))
