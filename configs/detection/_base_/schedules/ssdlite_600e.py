# Recipe: mmdet's from-scratch SSDLite (mmdet::ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py,
# 21.3 box mAP for V2; the MobileNetV2 paper reports 22.1), restated here rather than inherited
# to keep within three levels of inheritance. The authors' TF release trained with batch 512 for
# 400k steps (about 1731 epochs = 400,000 x 512 / 118,287); the mmdet recipe is what fits 8 GPUs:
#   batch 192 = 8 GPUs x 24 images; SGD lr 0.015, momentum 0.9, weight decay 4e-5;
#   600 COCO epochs = 120 epochs of a 5x RepeatDataset, about 366k iterations
#   (600 x 117,266 non-empty train2017 images / 192); linear warm-up over the first 500
#   iterations, then cosine decay to 0 over the 120 (repeated) epochs.
_base_ = ['mmdet::_base_/default_runtime.py']

max_epochs = 120
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='CosineAnnealingLR', begin=0, T_max=max_epochs, end=max_epochs, by_epoch=True,
         eta_min=0),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.015, momentum=0.9, weight_decay=4.0e-5))
custom_hooks = [
    dict(type='NumClassCheckHook'),
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW'),
]
# lr 0.015 is for 192 images per step; auto_scale_lr (off unless enabled) rescales it
auto_scale_lr = dict(enable=False, base_batch_size=192)
