"""Building blocks of the paper (Section 5): h-swish, h-sigmoid, squeeze-and-excite, bottleneck.

Every block is built from one resolved table row (:class:`~.backbones.mobilenet.LayerSpec`):
the widths, stride and dilation are decided by the builder, the block only assembles convs.
"""
import contextlib
from collections import OrderedDict
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..registry import MODELS


class _HardActivation(nn.Module):
    """A piece-wise linear activation of Section 5.2, fused (one kernel) or as separate ops.

    Args:
        fused: use torch's single-kernel op (the paper's optimized implementation); ``False``
            computes it from ReLU6 and arithmetic, the "no-opt" column of Table 5.
        inplace: accepted for ``act_cfg`` compatibility; the fused op runs in place when True.
    """

    def __init__(self, fused: bool = True, inplace: bool = False):
        super().__init__()
        self.fused = fused
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f'fused={self.fused}'


@MODELS.register_module()
class HSwish(_HardActivation):
    """h-swish(x) = x * ReLU6(x + 3) / 6 (Section 5.2); any shape in, same shape out."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fused:
            return F.hardswish(x, inplace=self.inplace)
        return x * F.relu6(x + 3.0) / 6.0


@MODELS.register_module()
class HSigmoid(_HardActivation):
    """h-sigmoid(x) = ReLU6(x + 3) / 6 (Section 5.2); any shape in, same shape out."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fused:
            return F.hardsigmoid(x, inplace=self.inplace)
        return F.relu6(x + 3.0) / 6.0


def build_act(cfg: Optional[dict]) -> nn.Module:
    """Builds an activation from a config; ``None`` means identity (a linear layer)."""
    if cfg is None:
        return nn.Identity()
    return MODELS.build(dict(cfg))


PADDINGS = ('symmetric', 'same')


class Conv2dSame(nn.Conv2d):
    """A conv with TF's "SAME" padding: the total padding depends on the input size and the
    odd pixel goes to the bottom/right (timm's ``Conv2dSame`` / ``pad_same``, used by its
    ``tf_`` ports of the released TF checkpoints). Built with ``padding=0``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s, d in zip(x.shape[:-3:-1], self.kernel_size[::-1], self.stride[::-1],
                                 self.dilation[::-1]):
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


class ConvBNAct(nn.Sequential):
    """conv (no bias) -> norm -> activation, as one sequential so BN can be folded for deploy.

    ``padding``: ``'symmetric'`` ((k - 1) / 2 x dilation on each side, torchvision and timm's
    non-``tf_`` models) or ``'same'`` (TF's "SAME": asymmetric for strided convs,
    :class:`Conv2dSame`; at stride 1 the two are equal). Shapes: (N, in_channels, H, W) ->
    (N, out_channels, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 dilation: int = 1, groups: int = 1, norm_cfg: dict = dict(type='BN'),
                 act_cfg: Optional[dict] = None, padding: str = 'symmetric'):
        if padding not in PADDINGS:
            raise ValueError(f'padding must be one of {PADDINGS}, got {padding!r}')
        conv_type = Conv2dSame if padding == 'same' and stride > 1 else nn.Conv2d
        pad = 0 if conv_type is Conv2dSame else (kernel_size - 1) // 2 * dilation
        layers = OrderedDict(
            conv=conv_type(in_channels, out_channels, kernel_size, stride, pad, dilation,
                           groups, bias=False),
            bn=build_norm_layer(norm_cfg, out_channels)[1])
        if act_cfg is not None:
            layers['act'] = build_act(act_cfg)
        super().__init__(layers)


class SqueezeExcite(nn.Module):
    """Squeeze-and-excite: pool -> 1x1 conv (bias) -> act -> 1x1 conv (bias) -> gate -> scale.

    The squeeze width is decided by the architecture (Section 5.3: 1/4 of the expansion for
    MobileNetV3; 1/4 of the block input for MnasNet). ``act_cfg``: the inner activation, ReLU
    by default (every released model); timm's ``mobilenetv3_rw`` uses the block's own. Shapes:
    (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(self, channels: int, squeeze_channels: int, gate_cfg: dict,
                 act_cfg: dict = dict(type='ReLU', inplace=True)):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.relu = build_act(act_cfg)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)
        self.gate = build_act(gate_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = F.adaptive_avg_pool2d(x, 1)
        scale = self.gate(self.fc2(self.relu(self.fc1(scale))))
        return x * scale


TapMaps = Dict[str, torch.Tensor]


class KeepNormStats:
    """Restores the running statistics of every BN in ``module`` on exit.

    The recompute of gradient checkpointing runs the forward a second time in training mode;
    BN would update ``running_mean``, ``running_var`` and ``num_batches_tracked`` again (twice
    per step: the effective momentum doubles). The recompute runs inside this context, so the
    statistics stay those of the one real forward pass.
    """

    def __init__(self, module: nn.Module):
        self.module = module
        self.saved = []

    def __enter__(self) -> 'KeepNormStats':
        self.saved = [(buf, buf.detach().clone()) for m in self.module.modules()
                      if isinstance(m, _BatchNorm)
                      for buf in (m.running_mean, m.running_var, m.num_batches_tracked)
                      if buf is not None]
        return self

    def __exit__(self, *exc) -> None:
        with torch.no_grad():
            for buf, value in self.saved:
                buf.copy_(value)
        self.saved = []


def checkpoint_keeping_norm_stats(module: nn.Module, function, *args):
    """``torch.utils.checkpoint.checkpoint(function, *args)`` whose recompute in backward
    leaves the BN statistics of ``module`` as the forward pass left them."""
    from torch.utils.checkpoint import checkpoint
    return checkpoint(function, *args, use_reentrant=False,
                      context_fn=lambda: (contextlib.nullcontext(), KeepNormStats(module)))


class Bottleneck(nn.Module):
    """One table row of type ``bneck`` (inverted residual) or ``dwsep`` (MobileNetV1).

    ``bneck``: [1x1 expansion + BN + act] -> kxk depthwise + BN + act -> [SE] -> 1x1 linear
    projection + BN, with a residual when the table stride is 1 and the widths match
    (``spec.residual``). The expansion conv is omitted when the expansion width equals the input
    width (block 1 of Tables 1-2). ``dwsep``: kxk depthwise + BN + act -> 1x1 + BN + act.

    Args:
        spec: the resolved row (widths, stride, dilation, SE width).
        act_cfg: the row's activation.
        gate_cfg: the SE gate.
        norm_cfg: normalization of every conv.
        with_cp: gradient checkpointing in training.
        padding: ``'symmetric'`` or ``'same'`` (:class:`ConvBNAct`).
        se_act_cfg: the SE module's inner activation (default ReLU; :class:`SqueezeExcite`).

    ``forward(x, return_taps=True)`` also returns the intermediate maps the taps read:
    ``expand`` (the input of the depthwise conv: C4 in Section 6.3) and ``dw`` (the depthwise
    output before SE: the LR-ASPP low-level feature of the released models).
    """

    def __init__(self, spec, act_cfg: dict, gate_cfg: dict, norm_cfg: dict,
                 with_cp: bool = False, padding: str = 'symmetric',
                 se_act_cfg: dict = dict(type='ReLU', inplace=True)):
        super().__init__()
        op = spec.row.op
        if op not in ('bneck', 'dwsep'):
            raise ValueError(f"Bottleneck builds 'bneck' and 'dwsep' rows, got {op!r}")
        self.with_cp = with_cp
        self.residual = spec.residual
        mid = spec.mid_channels
        self.expand = None
        if mid != spec.in_channels:
            self.expand = ConvBNAct(spec.in_channels, mid, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.dw = ConvBNAct(mid, mid, spec.row.kernel, spec.stride, spec.dilation, groups=mid,
                            norm_cfg=norm_cfg, act_cfg=act_cfg, padding=padding)
        self.se = (SqueezeExcite(mid, spec.se_channels, gate_cfg, se_act_cfg)
                   if spec.se_channels else None)
        self.project = ConvBNAct(mid, spec.out_channels, 1, norm_cfg=norm_cfg,
                                 act_cfg=act_cfg if op == 'dwsep' else None)

    def _forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        expanded = self.expand(x) if self.expand is not None else x
        dw = self.dw(expanded)
        out = self.project(self.se(dw) if self.se is not None else dw)
        if self.residual:
            out = out + x
        return out, expanded, dw

    def forward(self, x: torch.Tensor,
                return_taps: bool = False) -> Union[torch.Tensor, Tuple[torch.Tensor, TapMaps]]:
        if self.with_cp and self.training and x.requires_grad:
            out, expanded, dw = checkpoint_keeping_norm_stats(self, self._forward, x)
        else:
            out, expanded, dw = self._forward(x)
        return (out, dict(expand=expanded, dw=dw)) if return_taps else out
