# Table 7, row 1: the R-ASPP head of MobileNetV2 (Sandler et al.), F = 256, on MobileNetV2 1.0
# (no RF2): Mobile DeepLabv3 as in the MobileNetV2 paper; 72.84 mIoU, 2.11M, 21.29B.
_base_ = './lraspp_v3large_os16_cityscapes.py'

model = dict(
    backbone=dict(
        type='mnv3_plugin.DeepLabMobileNetV2',  # stops at the last bottleneck, as TF DeepLab
        arch='v2',
        reduced_tail=None,
        out_indices=(17, )),  # the last bottleneck: 320 channels
    decode_head=dict(
        _delete_=True,
        type='mnv3_plugin.RASPPHead',
        in_channels=320,
        channels=256,  # Table 7's F
        dropout_ratio=0.1,  # DeepLab keeps 0.9 after the concat projection
        num_classes=19,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        loss_decode={{_base_.model.decode_head.loss_decode}}))
