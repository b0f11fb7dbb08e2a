# SSDLite on MobileNetV3-Large (Section 6.3, Table 6's "V3" row; C4/C5 taps), trained from
# scratch. Every other row of Table 6 overrides only the backbone: the neck's widths and width
# multiplier and the head's widths are wired from it by the SSDLite detector.
custom_imports = dict(imports=['mnv3_plugin'], allow_failed_imports=False)

# TF's SSDLite BN: decay 0.97 (momentum 0.03), epsilon 1e-3; truncated-normal init, std 0.03.
norm_cfg = dict(type='BN', eps=1e-3, momentum=0.03)
model = dict(
    type='mnv3_plugin.SSDLite',  # mmdet's SingleStageDetector, widths wired from the backbone
    backbone=dict(
        type='mnv3_plugin.MobileNetV3',
        arch='large',
        widen_factor=1.0,
        out_indices=('C4', 'C5'),  # Section 6.3: expansion of the 13th bneck; layer before pool
        # the TF object detection API's rule for depth multipliers below 1: the last conv
        # (1280 in V2 and MnasNet) scales too (the classification models keep it)
        fix_last_conv=False,
        norm_cfg=norm_cfg,
        init_cfg=dict(type='TruncNormal', layer='Conv2d', std=0.03)),
    neck=dict(
        type='mnv3_plugin.SSDLiteNeck',
        extra_channels=(512, 256, 256, 128),  # x the backbone's widen_factor (wired)
        min_channels=16,
        norm_cfg=norm_cfg),
    bbox_head=dict(
        type='mnv3_plugin.SSDLiteHead',
        num_classes=80,  # mmdet's CocoDataset; the released TF models predict 90 (+ background)
        norm_cfg=norm_cfg,
        # released anchors: 6 layers, scales 0.2-0.95, ratios {1, 2, 1/2, 3, 1/3} + 1 interpolated,
        # 3 boxes on the lowest layer; mmdet's alternative: anchors.MMDET_SSDLITE_ANCHORS
        anchor_generator=dict(type='mnv3_plugin.SSDLiteAnchorGenerator', input_size=320)),
    train_cfg=dict(
        # TF's argmax matcher (matched and unmatched thresholds 0.5, force match per gt)
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.5,
            min_pos_iou=0.,
            ignore_iof_thr=-1,
            gt_max_assign_all=False),
        sampler=dict(type='PseudoSampler'),
        smoothl1_beta=1.,
        allowed_border=-1,
        pos_weight=-1,
        neg_pos_ratio=3,  # 3:1 hard negative mining
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        nms=dict(type='nms', iou_threshold=0.45),
        min_bbox_size=0,
        score_thr=0.02,
        max_per_img=200))
