# Table 7, row 6: row 8 with the R-ASPP head of MobileNetV2 (Sandler et al.) and F = 256;
# 71.91 mIoU, 1.76M, 11.24B.
_base_ = './lraspp_v3large_os16_cityscapes.py'

model = dict(
    backbone=dict(out_indices=('C5', )),  # R-ASPP reads the last layer only (480 with RF2)
    decode_head=dict(
        _delete_=True,
        type='mnv3_plugin.RASPPHead',
        in_channels=480,
        channels=256,  # Table 7's F
        dropout_ratio=0.1,  # DeepLab keeps 0.9 after the concat projection
        num_classes=19,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        loss_decode={{_base_.model.decode_head.loss_decode}}))
