# Table 7, row 3: row 4 with F = 256; 72.97 mIoU, 1.02M, 12.83B.
_base_ = './lraspp_v2-rf2_w100_os16_cityscapes.py'
model = dict(decode_head=dict(channels=256))
