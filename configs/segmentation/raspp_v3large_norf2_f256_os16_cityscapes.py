# Table 7, row 5: row 8 without RF2 (the full 960-wide last stage) and with the R-ASPP head of
# MobileNetV2 (Sandler et al.), F = 256; 72.64 mIoU, 3.60M, 18.43B.
_base_ = './lraspp_v3large_os16_cityscapes.py'

model = dict(
    backbone=dict(reduced_tail=None, out_indices=('C5', )),  # the last layer: 960 channels
    decode_head=dict(
        _delete_=True,
        type='mnv3_plugin.RASPPHead',
        in_channels=960,
        channels=256,  # Table 7's F
        dropout_ratio=0.1,  # DeepLab keeps 0.9 after the concat projection
        num_classes=19,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        loss_decode={{_base_.model.decode_head.loss_decode}}))
