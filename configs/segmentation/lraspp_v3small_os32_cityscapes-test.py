# Table 8, "V3-Small, OS 32": row 11's model without atrous convolution on the Cityscapes test
# set; 68.3 mIoU, 2.06B MAdds at 1024 x 2048, 0.53B at 512 x 1024.
_base_ = './lraspp_v3large_os16_cityscapes.py'

model = dict(
    backbone=dict(arch='small', output_stride=32),
    # the 769 crop at OS32: kernel (769 - 1) / 32 + 1 = 25
    decode_head=dict(in_channels=(88, 288), pool_kernel=(25, 25)))
test_dataloader = {{_base_.test_split_dataloader}}
test_evaluator = {{_base_.test_split_evaluator}}
