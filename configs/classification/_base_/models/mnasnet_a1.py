# MnasNet-A1 (Tan et al., Figure 7a): 1280 conv before pooling, then one FC.
# Trained with the same recipe as the V3 rows, as the paper compares them in Table 3.
custom_imports = dict(imports=['mnv3_plugin'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mnv3_plugin.MnasNet', arch='a1', widen_factor=1.0),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
