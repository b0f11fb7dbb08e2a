# Table 5, ReLU: ReLU everywhere, the classifier's 1280 conv included.
_base_ = './v3large_w100_r224_imagenet.py'
model = dict(backbone=dict(nl_layout='relu'), head=dict(act_cfg=dict(type='ReLU')))
