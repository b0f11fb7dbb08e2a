# Table 7, row 4: row 8's head (LR-ASPP, F = 128) on MobileNetV2 1.0 with RF2; 72.74 mIoU,
# 0.98M, 12.57B.
_base_ = './lraspp_v3large_os16_cityscapes.py'

model = dict(
    backbone=dict(
        type='mnv3_plugin.DeepLabMobileNetV2',  # stops at the last bottleneck, as TF DeepLab
        arch='v2',
        # RF2 for V2: the last stage's outputs are halved (160 -> 80, 320 -> 160) and the
        # expansions follow their (halved) inputs, the first one's (96 x 6 = 576) unchanged
        reduced_tail='detection',
        # low level: depthwise output of the last 1/8 block (192, TF DeepLab's
        # layer_7/depthwise_output); high level: the last bottleneck (row 17: 160 with RF2)
        out_indices=('os8_dw', 17)),
    decode_head=dict(in_channels=(192, 160)))
