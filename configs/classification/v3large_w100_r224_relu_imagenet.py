_base_ = './_base_/models/v3large.py'
# Table 5, ReLU: ReLU everywhere, the classifier's 1280 conv included
model = dict(backbone=dict(nl_layout='relu'), head=dict(act_cfg=dict(type='ReLU')))
