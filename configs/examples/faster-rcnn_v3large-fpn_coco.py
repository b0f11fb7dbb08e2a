# Worked example: mmdet's Faster R-CNN R-50 FPN config with MobileNetV3-Large as the backbone.
# Only the backbone and the FPN's input widths change.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['mnv3_plugin'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mnv3_plugin.MobileNetV3',
        arch='large',
        out_indices=(3, 6, 'C4', 'C5'),  # strides 4, 8, 16, 32 as ResNet's four stages
    ),
    neck=dict(in_channels=[24, 40, 672, 960]))
