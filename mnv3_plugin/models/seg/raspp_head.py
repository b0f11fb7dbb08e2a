"""Reduced ASPP, the MobileNetV2 paper's segmentation head (the "x" rows of Table 7)."""
from typing import List

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize

from ...batch_check import guard_batch_norm
from ...registry import MODELS


@MODELS.register_module()
class RASPPHead(BaseDecodeHead):
    """R-ASPP (Sandler et al., Section 6.3; Section 6.4 here): ASPP reduced to two branches.

    Branch 1 is a 1x1 conv + BN + ReLU; branch 2 ("image pooling") global-average-pools the
    feature, applies a 1x1 conv + BN + ReLU and is upsampled back. The two are concatenated,
    projected by a 1x1 conv + BN + ReLU, dropped out (the release keeps 0.9) and classified by
    a 1x1 conv. This is TF DeepLab's ASPP with no atrous branches and its default concat
    projection; mmseg's ``ASPPHead(dilations=(1,))`` differs by a 3x3 projection.

    Args:
        **kwargs: :class:`mmseg.models.decode_heads.decode_head.BaseDecodeHead` arguments
            (one input: the last backbone feature); ``channels`` is Table 7's F.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.input_transform is not None:
            raise ValueError('RASPPHead takes one input (input_transform=None)')
        conv = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.branch = ConvModule(self.in_channels, self.channels, 1, bias=False, **conv)
        self.image_pool = ConvModule(self.in_channels, self.channels, 1, bias=False, **conv)
        self.project = ConvModule(2 * self.channels, self.channels, 1, bias=False, **conv)
        # the image pool's BN sees one value per channel at one image per process
        guard_batch_norm(self, 'RASPPHead')

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        x = self._transform_inputs(inputs)
        pooled = self.image_pool(F.adaptive_avg_pool2d(x, 1))
        pooled = resize(pooled, x.shape[2:], mode='bilinear', align_corners=self.align_corners)
        return self.cls_seg(self.project(torch.cat([self.branch(x), pooled], dim=1)))
