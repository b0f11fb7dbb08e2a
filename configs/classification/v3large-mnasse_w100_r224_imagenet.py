_base_ = './v3large_w100_r224_imagenet.py'
# Section 5.3 ablation: squeeze-and-excite bottleneck relative to the convolutional bottleneck,
# as in MnasNet (int(block input / 4) channels), instead of fixed at 1/4 of the expansion layer
# (make_divisible(exp / 4, 8)). The paper: the large SE increases accuracy at a modest increase of
# parameters and no discernible latency cost.
model = dict(backbone=dict(se_squeeze='input'))
