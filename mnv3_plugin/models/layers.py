"""Building blocks of the paper (Section 5): h-swish, h-sigmoid, squeeze-and-excite, bottleneck."""
from collections import OrderedDict
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from torch import nn

from ..registry import MODELS


@MODELS.register_module()
class HSwish(nn.Module):
    """h-swish(x) = x * ReLU6(x + 3) / 6 (Section 5.2).

    Args:
        fused: use torch's single-kernel ``hardswish`` (the paper's optimized, piece-wise
            implementation). ``False`` computes it as separate ops, the "no-opt" column of Table 5.
        inplace: accepted for act_cfg compatibility; the fused op runs in place when True.
    """

    def __init__(self, fused: bool = True, inplace: bool = False):
        super().__init__()
        self.fused = fused
        self.inplace = inplace

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fused:
            return F.hardswish(x, inplace=self.inplace)
        return x * F.relu6(x + 3.0) / 6.0

    def extra_repr(self) -> str:
        return f'fused={self.fused}'


@MODELS.register_module()
class HSigmoid(nn.Module):
    """h-sigmoid(x) = ReLU6(x + 3) / 6 (Section 5.2), fused or as separate ops."""

    def __init__(self, fused: bool = True, inplace: bool = False):
        super().__init__()
        self.fused = fused
        self.inplace = inplace

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fused:
            return F.hardsigmoid(x, inplace=self.inplace)
        return F.relu6(x + 3.0) / 6.0

    def extra_repr(self) -> str:
        return f'fused={self.fused}'


def build_act(cfg: Optional[dict]) -> nn.Module:
    """Builds an activation from a config; ``None`` means identity (a linear layer)."""
    if cfg is None:
        return nn.Identity()
    return MODELS.build(dict(cfg))


class ConvBNAct(nn.Sequential):
    """conv (no bias) -> norm -> activation, as one sequential so BN can be folded for deploy."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 dilation: int = 1, groups: int = 1, norm_cfg: dict = dict(type='BN'),
                 act_cfg: Optional[dict] = None):
        padding = (kernel_size - 1) // 2 * dilation
        layers = OrderedDict(
            conv=nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation,
                           groups, bias=False),
            bn=build_norm_layer(norm_cfg, out_channels)[1])
        if act_cfg is not None:
            layers['act'] = build_act(act_cfg)
        super().__init__(layers)


class SqueezeExcite(nn.Module):
    """Squeeze-and-excite: pool -> 1x1 conv (bias) -> ReLU -> 1x1 conv (bias) -> gate -> scale.

    The squeeze width is chosen by the architecture: 1/4 of the expansion for MobileNetV3
    (Section 5.3), 1/4 of the block input for MnasNet.
    """

    def __init__(self, channels: int, squeeze_channels: int, gate_cfg: dict):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)
        self.gate = build_act(gate_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = F.adaptive_avg_pool2d(x, 1)
        scale = self.gate(self.fc2(self.relu(self.fc1(scale))))
        return x * scale


class Bottleneck(nn.Module):
    """One table row of type ``bneck`` (inverted residual) or ``dwsep`` (MobileNetV1).

    ``bneck``: [1x1 expansion + BN + act] -> kxk depthwise + BN + act -> [SE] -> 1x1 linear
    projection + BN, with a residual when the stride is 1 and the widths match. The expansion
    conv is omitted when the expansion width equals the input width (block 1 of Tables 1-2).
    ``dwsep``: kxk depthwise + BN + act -> 1x1 + BN + act, no residual.

    ``forward_taps`` also returns the intermediate maps the detection/segmentation taps use:
    ``expand`` (the input of the depthwise conv: C4 in Section 6.3) and ``dw`` (the depthwise
    output before SE: the LR-ASPP low-level feature).
    """

    def __init__(self, kind: str, in_channels: int, mid_channels: int, out_channels: int,
                 kernel_size: int, stride: int, dilation: int, se_channels: int,
                 act_cfg: dict, gate_cfg: dict, norm_cfg: dict, residual: bool,
                 with_cp: bool = False):
        super().__init__()
        assert kind in ('bneck', 'dwsep'), kind
        self.with_cp = with_cp
        self.use_residual = residual
        self.expand = None
        if mid_channels != in_channels:
            self.expand = ConvBNAct(in_channels, mid_channels, 1, norm_cfg=norm_cfg,
                                    act_cfg=act_cfg)
        self.dw = ConvBNAct(mid_channels, mid_channels, kernel_size, stride, dilation,
                            groups=mid_channels, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.se = SqueezeExcite(mid_channels, se_channels, gate_cfg) if se_channels else None
        self.project = ConvBNAct(mid_channels, out_channels, 1, norm_cfg=norm_cfg,
                                 act_cfg=act_cfg if kind == 'dwsep' else None)

    def forward_taps(self, x: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        expanded = self.expand(x) if self.expand is not None else x
        dw = self.dw(expanded)
        out = self.project(self.se(dw) if self.se is not None else dw)
        if self.use_residual:
            out = out + x
        return out, dict(expand=expanded, dw=dw)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        # The plain path, without the bookkeeping of forward_taps (it runs at every block).
        out = self.expand(x) if self.expand is not None else x
        out = self.dw(out)
        if self.se is not None:
            out = self.se(out)
        out = self.project(out)
        return out + x if self.use_residual else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad and self.training:
            from torch.utils.checkpoint import checkpoint
            return checkpoint(self._forward, x, use_reentrant=False)
        return self._forward(x)
