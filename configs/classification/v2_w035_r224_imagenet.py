# Table 3, V2 0.35: the 1280 conv before pooling keeps its width below 1.0 (MobileNetV2 paper,
# Section 4), so the classifier input stays 1280.
_base_ = './v2_w100_r224_imagenet.py'
model = dict(backbone=dict(widen_factor=0.35))
