"""SSDLite on MobileNet backbones (Section 6.3, Table 6).

- :class:`SSDLiteNeck`: C4 and C5 (the backbone's named taps) plus four extra layers of
  1x1 conv (half depth) -> 3x3 depthwise stride 2 -> 1x1 conv, BN + ReLU6 after each, 512, 256,
  256 and 128 wide (TF object detection API's ``multi_resolution_feature_maps`` with
  ``use_depthwise``, as used by the released SSDLite models).
- :class:`SSDLiteHead`: mmdet's ``SSDHead`` with the SSDLite predictors (3x3 depthwise + BN +
  ReLU6 -> 1x1 conv) and the released anchors (:class:`SSDLiteAnchorGenerator`); assigner,
  sampler, hard negative mining loss and NMS are mmdet's.
- :class:`SSDLite`: mmdet's ``SingleStageDetector`` that takes the neck's input widths from
  what the backbone declares and the head's from the neck, so a Table 6 row's config only states
  its backbone.
"""
from typing import Optional, Sequence, Tuple

import torch
from mmcv.cnn import ConvModule
from mmdet.models.dense_heads import SSDHead
from mmdet.models.detectors import SingleStageDetector
from mmdet.models.detectors.base import BaseDetector
from mmdet.models.losses import smooth_l1_loss
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.model import BaseModule
from torch import nn

from ...batch_check import guard_batch_norm
from ...registry import MODELS
from ..wiring import wire
from .anchors import SSDLiteAnchorGenerator  # noqa: F401  (registers it)

# The released SSDLite models' BN (TF configs: decay 0.97 -> momentum 0.03, epsilon 1e-3).
SSDLITE_NORM = dict(type='BN', eps=1e-3, momentum=0.03)


def scaled_depth(depth: float, widen_factor: float, min_channels: int) -> int:
    """TF's ``get_depth_fn``: max(int(depth x multiplier), min_depth)."""
    return max(int(depth * widen_factor), min_channels)


@MODELS.register_module()
class SSDLiteNeck(BaseModule):
    """C4, C5 and the SSDLite extra layers (Section 6.3; MobileNetV2 paper, Section 6.2).

    Each extra layer is 1x1 conv to half its depth -> 3x3 depthwise conv with stride 2 -> 1x1
    conv to its depth, each followed by BN and ReLU6. At 320x320 the six maps are 20, 10, 5, 3,
    2 and 1 pixels wide.

    Args:
        in_channels: widths of C4 and C5; the :class:`SSDLite` detector fills them from the
            backbone's declared ``out_channels`` when left out.
        extra_channels: widths of the extra layers, as released: (512, 256, 256, 128).
        widen_factor: multiplier applied to the extra layers, TF's rule
            (``max(int(depth x m), min_channels)``; the TF feature extractors pass their depth
            multiplier here, and :class:`SSDLite` fills it from the backbone). 1.0 keeps the
            released widths.
        min_channels: TF's ``min_depth`` (16 in the released configs).
        norm_cfg: normalization of every conv.
        act_cfg: activation of every conv.
        init_cfg: initialisation; TF's truncated normal with std 0.03 by default.
    """

    def __init__(self,
                 in_channels: Optional[Sequence[int]] = None,
                 extra_channels: Sequence[int] = (512, 256, 256, 128),
                 widen_factor: float = 1.0,
                 min_channels: int = 16,
                 norm_cfg: dict = SSDLITE_NORM,
                 act_cfg: dict = dict(type='ReLU6'),
                 init_cfg: Optional[dict] = dict(type='TruncNormal', layer='Conv2d',
                                                 std=0.03)):
        super().__init__(init_cfg=init_cfg)
        if in_channels is None or len(in_channels) != 2:
            raise ValueError(f'SSDLiteNeck takes two inputs (C4, C5), got in_channels='
                             f'{in_channels}; use the SSDLite detector to fill them from the '
                             f'backbone, or give them')
        self.in_channels = list(in_channels)
        self.extra_layers = nn.ModuleList()
        prev = in_channels[-1]
        extra_out = []
        for depth in extra_channels:
            mid = scaled_depth(depth / 2, widen_factor, min_channels)
            out = scaled_depth(depth, widen_factor, min_channels)
            conv = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
            self.extra_layers.append(nn.Sequential(
                ConvModule(prev, mid, 1, **conv),
                ConvModule(mid, mid, 3, stride=2, padding=1, groups=mid, **conv),
                ConvModule(mid, out, 1, **conv)))
            extra_out.append(out)
            prev = out
        self.out_channels = self.in_channels + extra_out
        # the last extra layers run on 1x1 maps at 320x320
        guard_batch_norm(self, 'SSDLiteNeck')

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        outs = list(inputs)
        x = outs[-1]
        for layer in self.extra_layers:
            x = layer(x)
            outs.append(x)
        return tuple(outs)


@MODELS.register_module()
class SSDLiteHead(SSDHead):
    """mmdet's ``SSDHead`` with the SSDLite defaults of the released models.

    Predictors: 3x3 depthwise conv + BN + ReLU6 -> 1x1 conv, one for classes and one for boxes
    on each map (``SSDHead(use_depthwise=True)``). Anchors: :class:`SSDLiteAnchorGenerator`
    (released; 3 boxes per location on the lowest map, 6 elsewhere); mmdet's
    ``SSDAnchorGenerator`` settings (``anchors.MMDET_SSDLITE_ANCHORS``) are the alternative.
    Box coding as TF's ``faster_rcnn_box_coder`` with scales (10, 10, 5, 5), i.e. stds
    (0.1, 0.1, 0.2, 0.2).

    Classification loss, a named choice (docs/detection.md):
    - ``loss_cls=None`` (default): SSD's softmax cross entropy with 3:1 hard negative mining, as
      mmdet's and torchvision's SSDLite (``SSDHead``'s own loss).
    - ``loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.75)``: the released
      TF models' ``weighted_sigmoid_focal`` over all anchors, normalised by the matches, with
      the class predictors' bias at -4.6 (``class_prediction_bias_init``); mmdet's FocalLoss.
      The sigmoid head has no background output (mmdet's convention; TF keeps a background
      slot that inference drops).

    Validation and inference go through mmdet's ``BaseDenseHead`` post-processing and NMS, with
    the ``ssd_head_loss_cls`` fix of :mod:`mnv3_plugin.compat`.

    Args:
        num_classes: object classes (without background).
        in_channels: width of every input map; filled by :class:`SSDLite` when left out.
        loss_cls: None (softmax + hard negative mining) or a sigmoid classification loss.
        cls_bias_init: initial bias of the class predictors with a sigmoid loss (TF: -4.6,
            a prior probability of 0.01).
        anchor_generator: anchor generator config.
        bbox_coder: box coder config.
        norm_cfg: normalization of the depthwise convs.
        act_cfg: activation of the depthwise convs.
        init_cfg: initialisation (mmdet's SSDLite: normal with std 0.001).
        **kwargs: the other arguments of ``SSDHead``.
    """

    def __init__(self,
                 num_classes: int = 80,
                 in_channels: Optional[Sequence[int]] = None,
                 anchor_generator: dict = dict(type='mnv3_plugin.SSDLiteAnchorGenerator'),
                 bbox_coder: dict = dict(type='DeltaXYWHBBoxCoder',
                                         target_means=[.0, .0, .0, .0],
                                         target_stds=[0.1, 0.1, 0.2, 0.2]),
                 norm_cfg: dict = SSDLITE_NORM,
                 act_cfg: dict = dict(type='ReLU6'),
                 init_cfg: Optional[dict] = dict(type='Normal', layer='Conv2d', std=0.001),
                 loss_cls: Optional[dict] = None,
                 cls_bias_init: float = -4.6,
                 **kwargs):
        if in_channels is None:
            raise ValueError('SSDLiteHead needs in_channels; the SSDLite detector fills them '
                             'from the neck')
        sigmoid = bool(loss_cls and loss_cls.get('use_sigmoid', False))
        if loss_cls is not None and not sigmoid:
            raise ValueError('loss_cls must be None (softmax with hard negative mining) or a '
                             f'sigmoid loss (use_sigmoid=True), got {loss_cls}')
        self._sigmoid = sigmoid  # read by _init_layers, which SSDHead.__init__ calls
        self.cls_bias_init = cls_bias_init
        kwargs.setdefault('use_depthwise', True)
        super().__init__(num_classes=num_classes, in_channels=tuple(in_channels),
                         anchor_generator=anchor_generator, bbox_coder=bbox_coder,
                         norm_cfg=norm_cfg, act_cfg=act_cfg, init_cfg=init_cfg, **kwargs)
        if sigmoid:
            self.use_sigmoid_cls = True
            self.loss_cls = MMDET_MODELS.build(loss_cls)
        if self.prior_generator.num_levels != len(in_channels):
            raise ValueError(f'{self.prior_generator.num_levels} anchor levels for '
                             f'{len(in_channels)} feature maps')
        guard_batch_norm(self, 'SSDLiteHead')

    def _init_layers(self) -> None:
        # mmdet's sigmoid convention: no background output
        self.cls_out_channels = self.num_classes + (0 if self._sigmoid else 1)
        super()._init_layers()

    def init_weights(self) -> None:
        super().init_weights()
        if self._sigmoid:
            for branch in self.cls_convs:
                nn.init.constant_(branch[-1].bias, self.cls_bias_init)

    def loss_by_feat_single(self, cls_score, bbox_pred, anchor, labels, label_weights,
                            bbox_targets, bbox_weights, avg_factor):
        """SSD's loss of one image; with a sigmoid loss, focal loss over every anchor
        instead of hard negative mining (TF's ``weighted_sigmoid_focal``)."""
        if not self._sigmoid:
            return super().loss_by_feat_single(cls_score, bbox_pred, anchor, labels,
                                               label_weights, bbox_targets, bbox_weights,
                                               avg_factor)
        loss_cls = self.loss_cls(cls_score, labels, label_weights, avg_factor=avg_factor)
        if self.reg_decoded_bbox:
            bbox_pred = self.bbox_coder.decode(anchor, bbox_pred)
        loss_bbox = smooth_l1_loss(bbox_pred, bbox_targets, bbox_weights,
                                   beta=self.train_cfg['smoothl1_beta'], avg_factor=avg_factor)
        return loss_cls[None], loss_bbox


@MODELS.register_module()
class SSDLite(SingleStageDetector):
    """SSDLite (mmdet's ``SingleStageDetector``) with widths wired from the backbone.

    The neck's ``in_channels`` default to the backbone's declared ``out_channels`` (C4, C5), its
    ``widen_factor`` to the backbone's (the TF object detection API scales the extra layers with
    the feature extractor's depth multiplier), and the head's ``in_channels`` to the neck's
    ``out_channels``; values given in the config must agree with them.

    Args:
        backbone: backbone config; must declare ``out_channels`` (every ``TableNet`` does).
        neck: neck config (``SSDLiteNeck``).
        bbox_head: head config (``SSDLiteHead``).
        train_cfg, test_cfg, data_preprocessor, init_cfg: as ``SingleStageDetector``.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 bbox_head: dict,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        BaseDetector.__init__(self, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MMDET_MODELS.build(backbone)
        neck = wire(neck, 'in_channels', list(self.backbone.out_channels), 'backbone outputs')
        if hasattr(self.backbone, 'widen_factor'):
            neck = wire(neck, 'widen_factor', self.backbone.widen_factor, 'backbone multiplier')
        self.neck = MMDET_MODELS.build(neck)
        bbox_head = wire(bbox_head, 'in_channels', list(self.neck.out_channels), 'neck outputs')
        bbox_head.update(train_cfg=train_cfg, test_cfg=test_cfg)
        self.bbox_head = MMDET_MODELS.build(bbox_head)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
