# Worked example: MobileNetV3-Small in mmpretrain's ImageClassifier on your own image folders
# (mmpretrain's CustomDataset: data/my_dataset/{train,val}/<class>/<image>), from mmpretrain's
# own MobileNetV3-Small config, whose backbone is replaced by the plugin's.
_base_ = 'mmpretrain::mobilenet_v3/mobilenet-v3-small_8xb128_in1k.py'
custom_imports = dict(imports=['mnv3_plugin'], allow_failed_imports=False)

num_classes = 5  # the number of class folders
model = dict(
    backbone=dict(_delete_=True, type='mnv3_plugin.MobileNetV3', arch='small'),  # C5: 576
    head=dict(num_classes=num_classes, topk=(1, )))

data_root = 'data/my_dataset'
train_dataloader = dict(
    batch_size=32,
    dataset=dict(_delete_=True, type='CustomDataset', data_root=data_root, data_prefix='train',
                 pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    batch_size=32,
    dataset=dict(_delete_=True, type='CustomDataset', data_root=data_root, data_prefix='val',
                 pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
