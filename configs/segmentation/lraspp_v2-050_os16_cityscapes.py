# Table 7, row 9: row 4 (LR-ASPP, F = 128, on MobileNetV2 with RF2) at depth multiplier 0.5;
# 68.57 mIoU, 0.28M, 4.00B.
_base_ = './lraspp_v3large_os16_cityscapes.py'

model = dict(
    backbone=dict(
        type='mnv3_plugin.DeepLabMobileNetV2',  # stops at the last bottleneck, as TF DeepLab
        arch='v2',
        widen_factor=0.5,
        reduced_tail='detection',  # RF2 for V2, see lraspp_v2_os16_cityscapes.py
        out_indices=('os8_dw', 17)),
    # low level: 16 x 6 = 96 expansion channels; high level: 320 / 2 x 0.5 = 80
    decode_head=dict(in_channels=(96, 80)))
