# Table 3, MnasNet-A1 (Tan et al., Figure 7a): 1280 conv before pooling, then one FC, as V2.
_base_ = './v2_w100_r224_imagenet.py'
model = dict(backbone=dict(type='mnv3_plugin.MnasNet', arch='a1'))
