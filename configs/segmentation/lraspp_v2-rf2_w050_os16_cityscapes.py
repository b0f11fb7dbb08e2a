# Table 7, row 9: row 4 at depth multiplier 0.5; 68.57 mIoU, 0.28M, 4.00B.
_base_ = './lraspp_v2-rf2_w100_os16_cityscapes.py'
model = dict(backbone=dict(widen_factor=0.5))
