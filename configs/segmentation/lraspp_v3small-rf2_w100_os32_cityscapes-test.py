# Table 8, "V3-Small, OS 32": row 11's model without atrous convolution on the test set; 68.3
# mIoU, 2.06B MAdds at 1024 x 2048, 0.53B at 512 x 1024.
_base_ = './lraspp_v3large-rf2_w100_os32_cityscapes-test.py'
model = dict(backbone=dict(arch='small'))
