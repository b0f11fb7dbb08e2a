# Table 8, "V3, OS 16": row 8's model on the Cityscapes test set (72.6 mIoU from the benchmark
# server); 9.74B MAdds at 1024 x 2048, 2.48B at 512 x 1024. The test labels are not public:
# `tools/test.py` writes the submission files (labelIds PNGs) instead of computing mIoU.
_base_ = './lraspp_v3large_os16_cityscapes.py'
test_dataloader = _base_.test_split_dataloader
test_evaluator = _base_.test_split_evaluator
