# Table 7, row 8 (the MobileNetV3-Large segmentation candidate): V3-Large with RF2, LR-ASPP with
# F = 128 filters, output stride 16; 72.36 mIoU on Cityscapes val, 1.51M params, 9.74B MAdds.
# Every other segmentation config states its difference from this one.
_base_ = ['./_base_/cityscapes_769x769_90k.py']

# BN as the backbone's default (eps 1e-3, decay 0.99 = momentum 0.01); mmengine turns SyncBN
# into BN in a single process.
norm_cfg = dict(type='SyncBN', eps=1e-3, momentum=0.01, requires_grad=True)
model = dict(
    backbone=dict(
        type='mnv3_plugin.MobileNetV3',
        arch='large',
        # RF2 as TF DeepLab's mobilenet_v3_large_seg: the last stage, its first expansion
        # included, is halved (672 -> 336, 960 -> 480)
        reduced_tail='segmentation',
        output_stride=16,  # atrous convolution in the last block (Table 8's "OS = 16")
        # low level: the depthwise output of the last 1/8 block (120 channels), as released;
        # high level: the last layer (480 channels with RF2)
        out_indices=('os8_dw', 'C5'),
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='mnv3_plugin.LRASPPHead',
        in_channels=(120, 480),
        in_index=(0, 1),
        channels=128,  # Table 7's F
        # the gate's pool in feature pixels: kernel (769 - 1) / 16 + 1 = 49 for the 769 crop,
        # stride (4, 5) as released (Figure 10 prints it in image pixels)
        pool_kernel=(49, 49),
        pool_stride=(4, 5),
        gate_cfg=dict(type='mnv3_plugin.HSigmoid'),
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        # averaged over the labelled pixels, as DeepLab's loss
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                         avg_non_ignore=True)))
