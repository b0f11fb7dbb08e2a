# MobileNetV3-Large (Table 1) with the ImageNet classifier of Section 5.1: pool, 1x1 conv without
# BN + h-swish, dropout (keep probability 0.8), 1x1 conv to 1000 classes (an FC on the pooled
# vector: mmpretrain's StackedLinearClsHead). The plugin's ImageClassifier takes the head's
# widths from the backbone: in_channels from the last row (960), mid_channels from the Section
# 5.1 head width rule (1280 Large, 1024 Small; widened above 1.0, never narrowed).
custom_imports = dict(imports=['mnv3_plugin'], allow_failed_imports=False)

model = dict(
    type='mnv3_plugin.ImageClassifier',
    backbone=dict(type='mnv3_plugin.MobileNetV3', arch='large', widen_factor=1.0),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='StackedLinearClsHead',
        num_classes=1000,
        dropout_rate=0.2,
        act_cfg=dict(type='mnv3_plugin.HSwish'),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
