# Section 6.4's data protocol: "We employ the same training protocol as [8, 39]" (DeepLabv3 and
# MobileNetV2, i.e. TF DeepLab's Cityscapes recipe), Cityscapes 'fine' annotations only,
# single-scale evaluation. mmseg's Cityscapes dataset is inherited.
_base_ = ['mmseg::_base_/datasets/cityscapes.py']

# data_root = 'data/cityscapes/' (inherited): leftImg8bit/{train,val,test}/<city>/*_leftImg8bit.png
# and gtFine/{train,val}/<city>/*_gtFine_labelTrainIds.png (mmseg's tools/dataset_converters/
# cityscapes.py writes the labelTrainIds from the official gtFine polygons).

# DeepLab's crop: 769 = 48 x 16 + 1, so that the OS16 feature map is 49 x 49 and the LR-ASPP
# pool kernel (crop - 1) / OS + 1 = 49 covers it.
crop_size = (769, 769)
# The runner gives the segmentor this data preprocessor (model.data_preprocessor).
data_preprocessor = dict(
    type='SegDataPreProcessor',
    # TF DeepLab's MobileNet input scaling: (x - 127.5) / 127.5 maps pixels to [-1, 1]
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    bgr_to_rgb=True,
    size=crop_size,
    pad_val=0,  # after normalisation: DeepLab pads crops with the mean pixel
    seg_pad_val=255)

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

# Table 8 (the Cityscapes test set, whose labels are not public): the test-set configs select
# these by name and write the benchmark server's submission files (labelIds PNGs) with mmseg's
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
