# Table 7, row 7: row 8 with F = 256 filters in the LR-ASPP head; 72.37 mIoU, 1.63M, 10.33B.
_base_ = './lraspp_v3large_os16_cityscapes.py'
model = dict(decode_head=dict(channels=256))
