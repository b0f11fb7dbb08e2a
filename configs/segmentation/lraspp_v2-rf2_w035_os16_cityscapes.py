# Table 7, row 10: row 4 at depth multiplier 0.35; 66.83 mIoU, 0.16M, 2.54B.
_base_ = './lraspp_v2-rf2_w100_os16_cityscapes.py'
model = dict(backbone=dict(widen_factor=0.35))
