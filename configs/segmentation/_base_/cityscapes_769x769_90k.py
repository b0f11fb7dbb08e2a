# Section 6.4's training protocol: "We employ the same training protocol as [8, 39]" (DeepLabv3
# and MobileNetV2, i.e. TF DeepLab's Cityscapes recipe), Cityscapes 'fine' annotations only,
# "trained from scratch without pretraining on ImageNet", single-scale evaluation.
# The row configs add the network; mmseg's Cityscapes dataset and runtime are inherited.
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
]
custom_imports = dict(imports=['mnv3_plugin'], allow_failed_imports=False)

# data_root = 'data/cityscapes/' (inherited): leftImg8bit/{train,val,test}/<city>/*_leftImg8bit.png
# and gtFine/{train,val}/<city>/*_gtFine_labelTrainIds.png (mmseg's tools/dataset_converters/
# cityscapes.py writes the labelTrainIds from the official gtFine polygons).

# DeepLab's crop: 769 = 48 x 16 + 1, so that the OS16 feature map is 49 x 49 and the LR-ASPP
# pool kernel (crop - 1) / OS + 1 = 49 covers it.
crop_size = (769, 769)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    # TF DeepLab's MobileNet input scaling: (x - 127.5) / 127.5 maps pixels to [-1, 1]
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    bgr_to_rgb=True,
    size=crop_size,
    pad_val=0,  # after normalisation: DeepLab pads crops with the mean pixel
    seg_pad_val=255)
# The segmentor; the row configs give it a backbone and a decode head.
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,  # trained from scratch (Section 6.4)
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))  # single-scale, whole 1024 x 2048 image

# DeepLab's augmentation: one random scale from 0.5 to 2.0 in steps of 0.25 (7 scales of the
# 2048 x 1024 image), a random 769 x 769 crop (padded when the scaled image is smaller), a random
# left-right flip; no photometric distortion.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomChoiceResize',
         scales=[(1024, 512), (1536, 768), (2048, 1024), (2560, 1280), (3072, 1536),
                 (3584, 1792), (4096, 2048)],
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
# Batch 8 crops (DeepLab: "large batch size (> 8)" with BN trained). mmengine's batch_size is per
# process: on 4 GPUs use batch_size=2 (4 x 2 = 8), or pass --auto-scale-lr to scale the lr.
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
auto_scale_lr = dict(enable=False, base_batch_size=8)

# Schedule: DeepLab's "poly" policy, lr = base x (1 - iter / max_iter) ^ 0.9, down to 0, SGD
# with momentum 0.9 and DeepLab's MobileNet weight decay 4e-5. 90,000 iterations x 8 crops =
# 720,000 crops = 242 epochs of the 2,975 train_fine images. The paper prints no learning rate;
# 0.01 is mmseg's Cityscapes base lr for this batch size.
max_iters = 90000
optim_wrapper = dict(optimizer=dict(lr=0.01, weight_decay=4e-5))
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters, by_epoch=False)
]
# validate and checkpoint every 10% of the schedule (9,000 iterations)
train_cfg = dict(max_iters=max_iters, val_interval=max_iters // 10)
default_hooks = dict(checkpoint=dict(interval=max_iters // 10))

# Table 8 (the Cityscapes test set, whose labels are not public): the test-set configs switch
# to these and write the benchmark server's submission files (labelIds PNGs) with mmseg's
# CityscapesMetric, which needs `pip install cityscapesscripts`.
test_split_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CityscapesDataset',
        data_root='data/cityscapes/',
        data_prefix=dict(img_path='leftImg8bit/test', seg_map_path='gtFine/test'),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
            dict(type='PackSegInputs'),
        ]))
test_split_evaluator = dict(type='CityscapesMetric', format_only=True, keep_results=True,
                            output_dir='work_dirs/cityscapes_test_submission')
