# Table 8, "V3-Small, OS 16": row 11's model (row 8 on V3-Small with RF2) on the Cityscapes test
# set; 69.4 mIoU, 2.90B MAdds at 1024 x 2048, 0.74B at 512 x 1024.
_base_ = './lraspp_v3large_os16_cityscapes.py'

model = dict(backbone=dict(arch='small'), decode_head=dict(in_channels=(88, 288)))
test_dataloader = {{_base_.test_split_dataloader}}
test_evaluator = {{_base_.test_split_evaluator}}
