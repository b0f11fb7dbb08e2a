# Table 7, row 11 (the MobileNetV3-Small segmentation candidate): row 8 on V3-Small with RF2 as
# TF DeepLab's mobilenet_v3_small_seg (288 -> 144, 576 -> 288); low level 88, high level 288;
# 68.38 mIoU, 0.47M, 2.90B.
_base_ = './lraspp_v3large_os16_cityscapes.py'
model = dict(backbone=dict(arch='small'))
