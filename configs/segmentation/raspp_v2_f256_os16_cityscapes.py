# Table 7, row 2: the R-ASPP head of MobileNetV2 (Sandler et al.), F = 256, on MobileNetV2 1.0
# with RF2; 72.56 mIoU, 1.15M, 13.68B.
_base_ = './lraspp_v3large_os16_cityscapes.py'

model = dict(
    backbone=dict(
        type='mnv3_plugin.DeepLabMobileNetV2',  # stops at the last bottleneck, as TF DeepLab
        arch='v2',
        reduced_tail='detection',  # RF2 for V2, see lraspp_v2_os16_cityscapes.py
        out_indices=(17, )),  # the last bottleneck: 160 channels with RF2
    decode_head=dict(
        _delete_=True,
        type='mnv3_plugin.RASPPHead',
        in_channels=160,
        channels=256,  # Table 7's F
        dropout_ratio=0.1,  # DeepLab keeps 0.9 after the concat projection
        num_classes=19,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        loss_decode={{_base_.model.decode_head.loss_decode}}))
