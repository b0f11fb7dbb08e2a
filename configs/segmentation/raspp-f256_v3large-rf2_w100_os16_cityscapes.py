# Table 7, row 6: row 8 with the R-ASPP head of MobileNetV2 and F = 256; 71.91 mIoU, 1.76M, 11.24B.
_base_ = './lraspp_v3large_os16_cityscapes.py'
model = dict(
    backbone=dict(out_indices=('C5', )),  # R-ASPP reads the last layer only (480 with RF2)
    decode_head=dict(_delete_=True, **_base_.raspp_head))
