# MobileNetV3-Small (Table 2) with the Section 5.1 classifier. The conv after pooling is 1024
# wide, as in every released model; the printed Table 2 says 1280 (mid_channels=[1280] gives
# the printed "2.9M" / "66M" version).
custom_imports = dict(imports=['mnv3_plugin'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mnv3_plugin.MobileNetV3', arch='small', widen_factor=1.0),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='StackedLinearClsHead',
        num_classes=1000,
        in_channels=576,  # the last row of Table 2
        mid_channels=[1024],
        dropout_rate=0.2,
        act_cfg=dict(type='mnv3_plugin.HSwish'),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
