_base_ = [
    './_base_/models/v3large.py', './_base_/imagenet_inception.py',
    './_base_/schedule_paper.py', 'mmpretrain::_base_/default_runtime.py'
]
# Table 5, ReLU: ReLU everywhere, the classifier's 1280 conv included
model = dict(backbone=dict(nl_layout='relu'), head=dict(act_cfg=dict(type='ReLU')))
