# Table 7, row 5: row 6 without RF2 (the full 960-wide last stage); 72.64 mIoU, 3.60M, 18.43B.
_base_ = './raspp-f256_v3large-rf2_w100_os16_cityscapes.py'
model = dict(backbone=dict(reduced_tail=None))
