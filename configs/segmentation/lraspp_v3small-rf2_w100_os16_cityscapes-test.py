# Table 8, "V3-Small, OS 16": row 11's model on the Cityscapes test set; 69.4 mIoU, 2.90B MAdds
# at 1024 x 2048, 0.74B at 512 x 1024.
_base_ = './lraspp_v3large-rf2_w100_os16_cityscapes-test.py'
model = dict(backbone=dict(arch='small'))
