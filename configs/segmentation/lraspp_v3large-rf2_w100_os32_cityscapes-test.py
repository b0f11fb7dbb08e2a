# Table 8, "V3, OS 32": row 8's model without atrous convolution on the Cityscapes test set;
# 72.0 mIoU, 7.74B MAdds at 1024 x 2048, 1.98B at 512 x 1024. Atrous convolution changes no
# weight: a checkpoint of any V3-Large config with RF2 and F = 128 loads. The 769 crop at OS32:
# pool kernel (769 - 1) / 32 + 1 = 25; stride (4, 5) feature pixels at every output stride.
_base_ = './lraspp_v3large-rf2_w100_os16_cityscapes-test.py'
model = dict(backbone=dict(output_stride=32), decode_head=dict(pool_kernel=(25, 25)))
