# Worked example: mmseg's DeepLabV3+ R-50-D8 Cityscapes config with MobileNetV3-Large at output
# stride 8 (atrous convolution, as the base's dilated ResNet). Only the backbone and the heads'
# input widths change. The base's `pretrained='open-mmlab://resnet50_v1c'` names ResNet weights:
# the backbone ignores such host model-zoo names with a warning (set model.pretrained=None to
# silence it), so nothing is downloaded.
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py'
custom_imports = dict(imports=['mnv3_plugin'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mnv3_plugin.MobileNetV3',
        arch='large',
        output_stride=8,
        # as ResNet's out_indices (0, 1, 2, 3): the 1/4 low-level map, 1/8, C4 and C5
        out_indices=(3, 6, 'C4', 'C5'),
        norm_cfg=dict(type='SyncBN', eps=1e-3, momentum=0.01, requires_grad=True)),
    decode_head=dict(in_channels=960, c1_in_channels=24),  # C5 (in_index=3), row 3 (c1)
    auxiliary_head=dict(in_channels=672))  # C4 (in_index=2)
