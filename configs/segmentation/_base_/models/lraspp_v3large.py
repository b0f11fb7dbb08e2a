# Table 7, row 8's network (the MobileNetV3-Large segmentation candidate): V3-Large with RF2,
# output stride 16, Lite R-ASPP with F = 128 filters. The other rows select the two alternatives
# defined below by name (`raspp_head`, `deeplab_v2`) or change one value.
custom_imports = dict(imports=['mnv3_plugin'], allow_failed_imports=False)

# BN as the backbone's default (eps 1e-3, decay 0.99 = momentum 0.01); mmengine turns SyncBN
# into BN in a single process.
norm_cfg = dict(type='SyncBN', eps=1e-3, momentum=0.01, requires_grad=True)
# averaged over the labelled pixels, as DeepLab's loss
loss_decode = dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                   avg_non_ignore=True)
model = dict(
    type='mnv3_plugin.EncoderDecoder',  # the heads' in_channels come from the backbone
    pretrained=None,  # trained from scratch (Section 6.4)
    backbone=dict(
        type='mnv3_plugin.MobileNetV3',
        arch='large',
        widen_factor=1.0,
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
        loss_decode=loss_decode),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))  # single-scale, whole 1024 x 2048 image

# The R-ASPP head of MobileNetV2 (Sandler et al.), Table 7's "R-ASPP" rows: F = 256 and the last
# backbone feature only; DeepLab keeps 0.9 after the concat projection.
raspp_head = dict(
    type='mnv3_plugin.RASPPHead',
    channels=256,
    dropout_ratio=0.1,
    num_classes=19,
    norm_cfg=norm_cfg,
    align_corners=False,
    loss_decode=loss_decode)
# MobileNetV2 as TF DeepLab's feature extractor builds it, Table 7's "V2" rows: it stops at the
# last (320-wide) bottleneck, so the 1x1 conv to 1280 is never built (row 1: 2.11M params; with
# it 2.52M). RF2 for V2: the last stage's outputs are halved (160 -> 80, 320 -> 160) and the
# expansions follow their (halved) inputs, the first one's (96 x 6 = 576) unchanged. Low level:
# the depthwise output of the last 1/8 block (192, TF DeepLab's layer_7/depthwise_output); high
# level: the last bottleneck (row 17: 160 with RF2).
deeplab_v2 = dict(
    type='mnv3_plugin.MobileNetV2',
    arch='v2',
    reduced_tail='detection',
    features_only=True,
    out_indices=('os8_dw', 17))
