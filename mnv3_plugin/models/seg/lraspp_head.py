"""Lite R-ASPP, the segmentation head of Section 6.4 and Figure 10."""
import warnings
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from torch import nn

from ...registry import MODELS
from ..layers import build_act


@MODELS.register_module()
class LRASPPHead(BaseDecodeHead):
    """Lite R-ASPP (Figure 10) as the authors released it (TF DeepLab).

    Two inputs, ``(low, high)``, selected from the backbone outputs by ``in_index``:

    * branch 1: ``high`` -> 1x1 conv (no bias) + BN + ReLU to ``channels``
      (F = 128 or 256 in Table 7);
    * gate (the second branch): ``high`` -> large-kernel average pool ("in a fashion similar to
      the Squeeze-and-Excitation module ... a large pooling kernel with a large stride",
      Section 6.4) -> 1x1 conv with bias, no BN -> h-sigmoid; resized bilinearly to branch 1's
      size and multiplied into it;
    * the gated map is upsampled to ``low``'s size (1/8) and classified by a 1x1 conv
      (``conv_seg``); ``low`` (the skip connection) has its own 1x1 classifier; the sum of the
      two is the logits, which mmseg upsamples to the input.

    The pool is VALID with kernel and stride in feature-map pixels: the release uses kernel
    ``(crop - 1) / OS + 1 = 49`` for a 769 crop at OS16 and stride (4, 5). The kernel is
    clamped to the feature map, so a map smaller than the kernel is pooled globally instead
    of failing.

    Args:
        pool_kernel: average-pool kernel (h, w) in feature pixels; ``None`` pools globally
            (torchvision's and mmseg's variant).
        pool_stride: average-pool stride (h, w) in feature pixels (ignored when global).
        gate_cfg: the gate's activation: ``mnv3_plugin.HSigmoid`` (release: "q-sigmoid") or
            ``Sigmoid`` (torchvision, mmseg).
        gate_bias: whether the gate's 1x1 conv has a bias (release: yes; torchvision: no).
        **kwargs: :class:`mmseg.models.decode_heads.decode_head.BaseDecodeHead` arguments;
            ``in_channels`` and ``in_index`` are pairs (low, high) and ``input_transform``
            must be ``'multiple_select'``. ``dropout_ratio`` defaults to 0 (the release has
            no dropout in this head).
    """

    def __init__(self,
                 pool_kernel: Optional[Sequence[int]] = (49, 49),
                 pool_stride: Sequence[int] = (4, 5),
                 gate_cfg: dict = dict(type='mnv3_plugin.HSigmoid'),
                 gate_bias: bool = True,
                 **kwargs):
        kwargs.setdefault('input_transform', 'multiple_select')
        kwargs.setdefault('dropout_ratio', 0.0)
        super().__init__(**kwargs)
        if self.input_transform != 'multiple_select' or len(self.in_channels) != 2:
            raise ValueError("LRASPPHead takes two inputs (low, high): in_channels and in_index "
                             "must be pairs and input_transform 'multiple_select', got "
                             f'in_channels={self.in_channels}, '
                             f'input_transform={self.input_transform!r}')
        low_channels, high_channels = self.in_channels
        self.pool_kernel = None if pool_kernel is None else _pair(pool_kernel, 'pool_kernel')
        self.pool_stride = _pair(pool_stride, 'pool_stride')
        self.branch = ConvModule(high_channels, self.channels, 1, bias=False,
                                 conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                                 act_cfg=self.act_cfg)
        self.gate = nn.Sequential(nn.Conv2d(high_channels, self.channels, 1, bias=gate_bias),
                                  build_act(gate_cfg))
        self.low_classifier = nn.Conv2d(low_channels, self.out_channels, 1)

    def check_pool(self, crop: Optional[Sequence[int]], output_stride: int) -> None:
        """Warns when ``pool_kernel`` does not cover the feature map of the training crop.

        The release pools the whole crop: kernel ``(crop - 1) / OS + 1`` = the feature map
        ``ceil(crop / OS)`` (49 for the 769 crop at OS16). A smaller kernel pools local windows
        instead, e.g. the OS16 kernel 49 kept after switching the backbone to OS8 (map 97); a
        larger one is clamped to the map (global pooling) and is fine.

        Args:
            crop: the training crop (h, w) in pixels (the data preprocessor's ``size``).
            output_stride: the output stride of the high-level input.
        """
        if self.pool_kernel is None or not crop:
            return
        fit = tuple(-(-c // output_stride) for c in crop)
        if any(k < f for k, f in zip(self.pool_kernel, fit)):
            warnings.warn(
                f'LRASPPHead: pool_kernel={self.pool_kernel} does not cover the {crop[0]}x'
                f'{crop[1]} crop at output stride {output_stride} (feature map {fit[0]}x'
                f'{fit[1]}); the release pools the whole crop, kernel (crop - 1) / OS + 1: set '
                f'decode_head.pool_kernel={fit} (or None to pool globally)')

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """The gate's average pool, its kernel clamped to the feature map.

        Args:
            x: the high-level feature, (N, C, H, W).

        Returns:
            (N, C, H', W') with H' = (H - kh) // sh + 1 where H >= kh, else 1 (global along
            that side); likewise W'.
        """
        if self.pool_kernel is None:
            return F.adaptive_avg_pool2d(x, 1)
        return clamped_avg_pool2d(x, self.pool_kernel, self.pool_stride)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        low, high = self._transform_inputs(inputs)
        x = self.branch(high)
        gate = self.gate(self.pool(high))
        x = x * resize(gate, x.shape[2:], mode='bilinear', align_corners=self.align_corners)
        x = resize(x, low.shape[2:], mode='bilinear', align_corners=self.align_corners)
        return self.cls_seg(x) + self.low_classifier(low)


def clamped_avg_pool2d(x: torch.Tensor, kernel: Tuple[int, int],
                       stride: Tuple[int, int]) -> torch.Tensor:
    """VALID average pool whose kernel is clamped to the map, written without Python ints
    taken from ``x.shape``, so that tracing (``torch.fx``, ``torch.export``, the ONNX exporter)
    keeps it correct at every input size.

    A side shorter than the kernel is zero-padded up to the kernel (by
    ``torch.sym_max(size, k) - size``, symbolic under tracing) and pooled with the fixed kernel;
    the padding is then divided out by pooling a map of ones the same way. Along a padded side
    there is exactly one window, so every output averages the real pixels only: the same
    numbers as ``F.avg_pool2d(x, min(kernel, size), stride)``.

    Args:
        x: (N, C, H, W).
        kernel: (kh, kw) in pixels.
        stride: (sh, sw) in pixels.

    Returns:
        (N, C, H', W'): H' = (max(H, kh) - kh) // sh + 1, likewise W'.
    """
    h, w = x.shape[2], x.shape[3]
    if torch.jit.is_tracing():
        # TorchScript's tracer (torch.onnx.export(dynamo=False), the int8 route) hands sizes
        # over as tensors and records a static graph anyway
        h, w = int(h), int(w)
    pad_h = torch.sym_max(h, kernel[0]) - h
    pad_w = torch.sym_max(w, kernel[1]) - w
    pooled = F.avg_pool2d(F.pad(x, (0, pad_w, 0, pad_h)), kernel, stride)
    # the fraction of real pixels in each window (1 where nothing was padded)
    real = F.avg_pool2d(F.pad(torch.ones_like(x[:1, :1]), (0, pad_w, 0, pad_h)), kernel, stride)
    return pooled / real


def _pair(value: Sequence[int], name: str) -> Tuple[int, int]:
    value = (value, value) if isinstance(value, int) else tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) and v > 0 for v in value):
        raise ValueError(f'{name} must be a positive int or a pair of them, got {value!r}')
    return value
