# Table 7, row 2: the R-ASPP head of MobileNetV2, F = 256, on MobileNetV2 1.0 with RF2; 72.56
# mIoU, 1.15M, 13.68B.
_base_ = './lraspp_v2-rf2_w100_os16_cityscapes.py'
model = dict(
    backbone=dict(out_indices=(17, )),  # the last bottleneck: 160 channels with RF2
    decode_head=dict(_delete_=True, **_base_.raspp_head))
