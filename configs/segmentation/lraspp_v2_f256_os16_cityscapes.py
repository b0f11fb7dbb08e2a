# Table 7, row 3: row 4 (LR-ASPP on MobileNetV2 1.0 with RF2) with F = 256; 72.97 mIoU, 1.02M,
# 12.83B.
_base_ = './lraspp_v3large_os16_cityscapes.py'

model = dict(
    backbone=dict(
        type='mnv3_plugin.DeepLabMobileNetV2',  # stops at the last bottleneck, as TF DeepLab
        arch='v2',
        reduced_tail='detection',  # RF2 for V2, see lraspp_v2_os16_cityscapes.py
        out_indices=('os8_dw', 17)),
    decode_head=dict(in_channels=(192, 160), channels=256))
