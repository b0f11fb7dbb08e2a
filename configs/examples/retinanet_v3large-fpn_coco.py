# Worked example: mmdet's RetinaNet R-50 FPN config with MobileNetV3-Large as the backbone. Only
# the backbone and the FPN's input widths change; data, schedule and runtime are mmdet's.
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['mnv3_plugin'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,  # the R-50 options do not apply
        type='mnv3_plugin.MobileNetV3',
        arch='large',
        # four maps at strides 4, 8, 16, 32, as ResNet's (python tools/misc/print_taps.py
        # --arch large): rows 3 and 6, C4 (the expansion of the first stride-32 block) and C5
        out_indices=(3, 6, 'C4', 'C5'),
        # from ImageNet weights: init_cfg=dict(type='Pretrained', prefix='backbone.',
        #     checkpoint='checkpoints/mobilenet_v3_large-torchvision.pth') (docs/dropin.md)
    ),
    neck=dict(in_channels=[24, 40, 672, 960]))  # the taps' widths (start_level=1 as R-50's)
