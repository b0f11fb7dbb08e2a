_base_ = './v3large_w100_r224_imagenet.py'
# Section 5.1 ablation: a 32-filter stem with ReLU instead of 16 filters with h-swish. The first
# bneck keeps filtering at the stem's width (3x3 depthwise on 32 channels, projection to 16), as
# MobileNetV2's and MnasNet's first block. The paper: 16 h-swish filters keep the accuracy and
# save 2 ms and about 10M MAdds.
model = dict(backbone=dict(stem=dict(channels=32, nl='RE')))
