# ImageNet with the "same image preprocessing as Inception" (Section 6.1.1): mmpretrain's own
# ImageNet dataset, loaders and Accuracy evaluator, with the pipeline of TF-slim's
# inception_preprocessing: a random crop covering 5%-100% of the image with aspect ratio 3/4-4/3,
# horizontal flip, colour distortion, inputs scaled to [-1, 1]; evaluation on the central 87.5%
# (224 = 0.875 x 256).
_base_ = ['mmpretrain::_base_/datasets/imagenet_bs32.py']

data_root = 'data/imagenet/'  # train/, val/ and meta/{train,val}.txt (mmpretrain's layout)

data_preprocessor = dict(
    num_classes=1000,
    mean=[127.5, 127.5, 127.5],  # [0, 255] -> [-1, 1], as inception_preprocessing
    std=[127.5, 127.5, 127.5],
    to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.05, 1.0),
         aspect_ratio_range=(3. / 4., 4. / 3.)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    # inception_preprocessing.distort_color (fast mode): brightness 32/255, saturation 0.5-1.5
    dict(type='ColorJitter', brightness=32. / 255., saturation=0.5),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),  # 256 = 224 / 0.875
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

# 4096 = 32 GPUs x 128 images (the paper: 4x4 TPU pod, 128 images per chip)
train_dataloader = dict(
    batch_size=128, num_workers=8,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128, num_workers=8,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
