# Table 7, row 4: row 8's head (LR-ASPP, F = 128) on MobileNetV2 1.0 with RF2, as TF DeepLab
# builds it; 72.74 mIoU, 0.98M, 12.57B.
_base_ = './lraspp_v3large_os16_cityscapes.py'
model = dict(backbone=_base_.deeplab_v2)
