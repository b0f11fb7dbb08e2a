"""One table-driven builder for MobileNetV3 and the networks the paper compares against."""
import copy
import math
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ...checkpoint import check_loaded_options, pretrained_init
from ...registry import MODELS
from ..layers import Bottleneck, ConvBNAct
from . import options as opts
from .redesigns import apply_last_stage, apply_stem
from .row_widths import SE_SQUEEZE_RULES, apply_row_widths, squeeze_width
from .tables import (MNASNET_A1, MNASNET_SMALL, MOBILENET_V1, MOBILENET_V2, V3_LARGE,
                     V3_LARGE_MINIMAL, V3_LARGE_RW, V3_SMALL, V3_SMALL_MINIMAL, Arch, Row)

WIDTH_RULES = ('tf', 'timm', 'torchvision')
RF2_RULES = ('detection', 'segmentation')  # reduced_tail (None: no RF2)
DILATION_RULES = ('tf', 'torchvision')
OUTPUT_STRIDES = (8, 16, 32)


def make_divisible(value: float, divisor: int = 8, min_value: Optional[int] = None) -> int:
    """Rounds to a multiple of ``divisor``, never down by more than 10% (the TF-slim rule)."""
    min_value = min_value or divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


@dataclass(frozen=True)
class LayerSpec:
    """A table row resolved to real widths (channels), strides and dilations.

    Attributes:
        row: the table row after the RF2 and nonlinearity transforms (kernel, SE, NL, stride).
        in_channels: input width.
        mid_channels: expansion width (== in_channels where there is no expansion conv).
        out_channels: output width.
        se_channels: squeeze width of the SE module (0: no SE).
        stride: stride actually used (1 where atrous convolution replaced it).
        dilation: dilation of the layer's spatial conv.
        in_stride: output stride of the layer's input.
        out_stride: output stride of the layer's output.
        residual: the block adds its input (inverted residual rows whose table stride is 1 and
            whose widths match: MobileNetV2, Section 3.3; not the rows marked ``noskip``);
            decided from the table, so neither atrous convolution nor per-row width overrides
            add or remove one.
    """
    row: Row
    in_channels: int
    mid_channels: int
    out_channels: int
    se_channels: int
    stride: int
    dilation: int
    in_stride: int
    out_stride: int
    residual: bool = False


def apply_rf2(rows: Sequence[Row], rule: Optional[str]) -> Tuple[Row, ...]:
    """Halves the channels between C4 and C5 (Sections 6.3 and 6.4, "RF2").

    The blocks of the last stage (from the block that reduces output stride 16 to 32) output half
    the channels, the final 1x1 conv is halved, and the expansions after the first last-stage
    block halve. ``'detection'`` keeps the first last-stage expansion (C4 is tapped there: TF
    object detection API, torchvision ``reduced_tail``); ``'segmentation'`` halves it too (TF
    DeepLab).
    """
    if rule is None:
        return tuple(rows)
    if rule not in RF2_RULES:
        raise ValueError(f"reduced_tail must be None, 'detection' or 'segmentation', got {rule!r}")
    first = _reduction_row(rows, 16)
    out = list(rows)
    for i in range(first, len(rows)):
        row = rows[i]
        exp = row.exp
        if exp is not None and (i > first or rule == 'segmentation'):
            exp //= 2
        out[i] = replace(row, exp=exp, out=row.out // 2)
    return tuple(out)


def depth_stages(rows: Sequence[Row]) -> List[List[List[int]]]:
    """The rows after the stem as timm's stages of block definitions (row indices).

    A stage is a run of rows with the same output width; within it, a block definition is a run
    of rows of the same operator, kernel, SE, NL and expansion ratio (exp / input width) whose
    rows after the first have stride 1: the ``'ir_r3_k5_s2_e3_c40'`` strings of timm's
    ``_gen_mobilenet_v3`` (``timm/models/mobilenetv3.py``) read back from Tables 1-2 (checked
    against every timm MobileNetV3 definition by tests/test_reliability.py).
    """
    stages: List[List[List[int]]] = []
    prev_key = None
    for i in range(1, len(rows)):
        row, table_in = rows[i], rows[i - 1].out
        ratio = Fraction(row.exp) / table_in if row.exp is not None else None
        key = (row.op, row.kernel, ratio, row.se, row.nl)
        if not stages or row.out != rows[i - 1].out or i == 1:
            stages.append([[i]])
        elif key == prev_key and row.stride == 1:
            stages[-1][-1].append(i)
        else:
            stages[-1].append([i])
        prev_key = key
    return stages


def apply_depth(rows: Sequence[Row], multiplier: float = 1.0) -> Tuple[Row, ...]:
    """Scales the number of blocks per stage (timm's ``depth_multiplier``; not in the paper).

    timm's rule (``_scale_stage_depth`` in ``timm/models/_efficientnet_builder.py``, default
    ``depth_trunc='ceil'``): a stage of n blocks (:func:`depth_stages`; the stem is not scaled,
    the final 1x1 conv is a stage of its own) gets ceil(n x multiplier) blocks, shared among
    its block definitions from the last one backwards by Python's ``round`` (ties to even),
    at least one each. Added blocks repeat the definition's last row at stride 1 with the same
    expansion ratio. timm's ``mobilenetv3_large_150d`` is ``widen_factor=1.5,
    depth_multiplier=1.2, width_rule='timm'``.

    Raises:
        ValueError: a multiplier that is not a positive number.
    """
    if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)) \
            or multiplier <= 0:
        raise ValueError(f'depth_multiplier must be a positive float, got {multiplier!r}')
    if multiplier == 1:
        return tuple(rows)
    out = [rows[0]]
    for stage in depth_stages(rows):
        total = sum(len(d) for d in stage)
        scaled = int(math.ceil(total * multiplier))
        counts = []
        for definition in stage[::-1]:
            n = max(1, round(len(definition) / total * scaled))
            counts.append(n)
            total -= len(definition)
            scaled -= n
        for definition, n in zip(stage, counts[::-1]):
            last = rows[definition[-1]]
            table_in = rows[definition[-1] - 1].out
            exp = None if last.exp is None else Fraction(last.exp) * last.out / table_in
            repeat = replace(last, stride=1, exp=None if exp is None else
                             int(exp) if exp.denominator == 1 else float(exp))
            block = [rows[i] for i in definition][:n]
            out += block + [repeat] * (n - len(block))
    return tuple(out)


def _reduction_row(rows: Sequence[Row], from_stride: int) -> int:
    """Index of the row whose stride takes the output stride from ``from_stride`` to twice it."""
    stride = 1
    for i, row in enumerate(rows):
        if stride == from_stride and row.stride == 2:
            return i
        stride *= row.stride
    raise ValueError(f'no row reduces output stride {from_stride}')


def apply_nl_layout(rows: Sequence[Row], layout: str) -> Tuple[Row, ...]:
    """Table 5's nonlinearity placements.

    ``'table'``: as printed. ``'relu'``: ReLU everywhere. ``'hswish@N'``: h-swish from the first
    layer with N output channels on, ReLU before it (Table 5: "N denotes the number of channels
    in the first layer that has h-swish enabled"; @16 is the stem, so h-swish everywhere).
    """
    if layout == 'table':
        return tuple(rows)
    if layout == 'relu':
        return tuple(replace(r, nl='RE') for r in rows)
    match = re.fullmatch(r'hswish@(\d+)', layout)
    if not match:
        raise ValueError(f"nl_layout must be 'table', 'relu' or 'hswish@N', got {layout!r}")
    width = int(match.group(1))
    starts = [i for i, r in enumerate(rows) if r.out == width]
    if not starts:
        raise ValueError(f'nl_layout {layout!r}: no layer has {width} output channels; '
                         f'valid N: {sorted({r.out for r in rows})}')
    return tuple(replace(r, nl='HS' if i >= starts[0] else 'RE') for i, r in enumerate(rows))


def resolve_layers(arch: Arch, widen_factor: float = 1.0, width_rule: str = 'tf',
                   output_stride: int = 32, dilation_rule: str = 'tf',
                   fix_last_conv: Optional[bool] = None,
                   in_channels: int = 3) -> List[LayerSpec]:
    """Turns a table into real widths (width multiplier) and strides (atrous output stride).

    Width rules: the layers whose width the libraries compute differently are the stem, the
    expansions, the final 1x1 conv and the classifier's head conv (:func:`classifier_width`).
    Block outputs (make_divisible(out x m, 8)) and SE squeezes (the arch's ``se_squeeze``:
    :func:`~.row_widths.squeeze_width`) agree in all three.

    - ``'tf'`` (the released TF-slim models, Keras): stem make_divisible(16 x m); expansions
      make_divisible(real input x exp/in, 8); final conv make_divisible(960 x m).
    - ``'timm'`` (``_gen_mobilenet_v3`` in timm's ``mobilenetv3.py``): as ``'tf'``, but the
      stem stays 16 below m = 0.75 (``fix_stem=channel_multiplier < 0.75``).
    - ``'torchvision'`` (``torchvision/models/mobilenetv3.py``): expansions scale the table
      value, make_divisible(exp x m, 8); the final conv of the tables with a classifier head
      conv (MobileNetV3) is 6 x the rounded last block (``lastconv_output_channels =
      6 * lastconv_input_channels``), not make_divisible(960 x m).

    Dilation rules for output stride 16/8: ``'tf'`` (TF DeepLab, timm) keeps the would-be
    strided block at the previous dilation and dilates the blocks after it; ``'torchvision'``
    (``dilated=True``) dilates the would-be strided block too.

    ``in_channels`` is the input image's channels (3: RGB; 1 grayscale, 4 RGB-D, ...).

    Raises:
        ValueError: a non-positive ``widen_factor`` or ``in_channels``, an unknown rule, or an
            output stride that is not 8, 16 or 32 or exceeds the table's.
    """
    if isinstance(widen_factor, bool) or not isinstance(widen_factor, (int, float)) \
            or widen_factor <= 0:
        raise ValueError(f'widen_factor must be a positive float, got {widen_factor!r}')
    if isinstance(in_channels, bool) or not isinstance(in_channels, int) or in_channels < 1:
        raise ValueError(f'in_channels must be a positive int, got {in_channels!r}')
    if width_rule not in WIDTH_RULES:
        raise ValueError(f'width_rule must be one of {WIDTH_RULES}, got {width_rule!r}')
    if dilation_rule not in DILATION_RULES:
        raise ValueError(f'dilation_rule must be one of {DILATION_RULES}, got {dilation_rule!r}')
    full_stride = 1
    for row in arch.rows:
        full_stride *= row.stride
    if output_stride not in OUTPUT_STRIDES or output_stride > full_stride:
        raise ValueError(f'output_stride must be one of 8, 16, 32 (at most {full_stride} for '
                         f'this table), got {output_stride}')
    fix_last = arch.fix_last_conv if fix_last_conv is None else fix_last_conv

    specs = []
    in_ch, table_in = in_channels, 3
    cur_stride, dilation = 1, 1
    last = len(arch.rows) - 1
    for i, row in enumerate(arch.rows):
        out_ch = make_divisible(row.out * widen_factor)
        if i == last and fix_last and widen_factor < 1:
            out_ch = row.out
        if i == 0 and width_rule == 'timm' and widen_factor < 0.75:
            out_ch = row.out  # timm's fix_stem
        if (i == last and row.op == 'conv2d' and width_rule == 'torchvision'
                and arch.head_channels and not fix_last):
            out_ch = row.out // table_in * in_ch  # torchvision: 6 x the last block's width
        if row.op == 'bneck':
            if width_rule in ('tf', 'timm'):
                mid = in_ch if row.exp == table_in else make_divisible(in_ch * row.exp / table_in)
            else:
                mid = make_divisible(row.exp * widen_factor)
        else:
            mid = in_ch
        se_ch = squeeze_width(arch.se_squeeze, mid, in_ch) if row.se else 0
        stride, layer_dilation = row.stride, dilation
        if cur_stride * row.stride > output_stride:
            # atrous: this layer keeps the resolution, the layers after it dilate
            dilation *= row.stride
            stride = 1
            if dilation_rule == 'torchvision':
                layer_dilation = dilation
        in_stride = cur_stride
        cur_stride *= stride
        residual = row.op == 'bneck' and row.stride == 1 and in_ch == out_ch and not row.noskip
        specs.append(LayerSpec(row, in_ch, mid, out_ch, se_ch, stride, layer_dilation,
                               in_stride, cur_stride, residual))
        in_ch, table_in = out_ch, row.out
    return specs


def classifier_width(arch: Arch, widen_factor: float = 1.0, width_rule: str = 'tf',
                     reduced_tail: Optional[str] = None) -> int:
    """Width (channels) of the 1x1 conv after pooling in the ImageNet classifier (Section 5.1).

    ``arch.head_channels`` (1280 Large, 1024 Small in the released models; 0 where the
    classifier is a single FC) is halved by RF2 (torchvision's ``reduced_tail``), then scaled:
    under the ``'tf'`` rule it widens above 1.0 and never narrows (the released TF models keep
    1280 at 0.75); under ``'timm'`` it is never scaled (timm's ``num_features``, 1280 / 1024
    for every multiplier, 1.5 included); under ``'torchvision'`` it follows the multiplier both
    ways (torchvision ``last_channel = make_divisible(1280 // reduce_divider * width_mult)``).
    """
    if not arch.head_channels:
        return 0
    base = arch.head_channels // (2 if reduced_tail else 1)
    if width_rule == 'timm':
        return base
    scale = max(1.0, widen_factor) if width_rule == 'tf' else widen_factor
    return make_divisible(base * scale)


def adapt_stem(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """A pretrained stem conv's weight (O, 3, k, k) for ``in_channels`` input channels.

    The usual rule (timm's ``adapt_input_conv`` in ``timm/models/_manipulate.py``): one
    channel sums the RGB filters (a gray image gives the RGB model's response to that gray);
    N channels repeat the RGB filters cyclically and scale them by 3 / N, so the response to
    an input whose channels equal stays the same.

    Raises:
        CheckpointOptionError: the weight is not a 3-channel conv weight.
    """
    if weight.dim() != 4 or weight.shape[1] != 3:
        raise opts.CheckpointOptionError(
            f'cannot adapt a stem conv of shape {tuple(weight.shape)} to {in_channels} input '
            'channels (only 3-channel stems adapt): build the backbone with in_channels='
            f'{weight.shape[1]}')
    dtype, weight = weight.dtype, weight.float()
    if in_channels == 1:
        return weight.sum(dim=1, keepdim=True).to(dtype)
    repeat = -(-in_channels // 3)
    return (weight.repeat(1, repeat, 1, 1)[:, :in_channels] * (3 / in_channels)).to(dtype)


TapSite = Tuple[int, str]  # (row index, 'out' | 'expand' | 'dw')


class TableNet(BaseModule):
    """A backbone built from a block table (``tables.py``); the registered networks subclass it.

    Outputs are chosen with ``out_indices``: integers index the table's rows (0 is the stem,
    negative indices count from the end), and the names ``'C4'`` (the input of the depthwise
    conv of the block that reduces output stride 16 to 32: for MobileNetV3 the expansion layer
    of the 13th/9th bneck, Section 6.3), ``'C5'`` (the layer immediately before pooling) and
    ``'os8_dw'`` (the depthwise output, before SE, of the last block at output stride 8: the
    LR-ASPP low-level feature of the released models). ``out_channels`` and ``out_strides``
    declare what each output is; ``head_channels`` the width of the ImageNet classifier's 1x1
    conv after pooling for this configuration (:func:`classifier_width`), ``head_act_cfg``
    its activation (h-swish; ReLU for the minimalistic archs) and ``head_bias`` whether it has
    a bias (False only for ``'large_rw'``).

    Shapes: (N, in_channels, H, W) -> a tuple with one (N, out_channels[i],
    ceil(H / out_strides[i]), ceil(W / out_strides[i])) map per entry of ``out_indices``.

    Args:
        arch: a key of ``arch_settings`` or an :class:`Arch`.
        widen_factor: width multiplier, any positive float.
        depth_multiplier: blocks per stage x this, rounded up (timm's ``depth_multiplier``, not
            in the paper; :func:`apply_depth`); 1.0 = the table.
        out_indices: rows or named taps to return; default: the last row (C5).
        output_stride: 32, 16 or 8; below 32 by atrous convolution.
        reduced_tail: RF2: None, 'detection' or 'segmentation' (see :func:`apply_rf2`).
        nl_layout: Table 5 placement of h-swish: 'table', 'relu', 'hswish@16', 'hswish@112'...
        width_rule: 'tf' (released models, default), 'timm' or 'torchvision' (their
            checkpoints at any multiplier; see :func:`resolve_layers`).
        dilation_rule: 'tf' (default) or 'torchvision', for output stride < 32.
        fix_last_conv: keep the final conv's width for multipliers below 1; default per arch.
        features_only: build the network only up to the deepest entry of ``out_indices``, as
            timm's ``features_only`` and TF DeepLab's ``final_endpoint`` (the rows after it are
            neither built, counted nor loaded: Table 7's MobileNetV2 rows stop at the last
            bottleneck).
        frozen_stages: rows 0..frozen_stages are frozen (-1: none).
        norm_eval: keep BN layers in eval mode during training.
        norm_cfg: normalization; the default matches the paper's BN decay 0.99 (momentum 0.01)
            and the released models' eps 1e-3.
        act_cfg: activation per NL code, merged over the defaults
            ``RE=ReLU, R6=ReLU6, HS=mnv3_plugin.HSwish``; for Table 5's "no-opt" column use
            ``act_cfg=dict(HS=dict(type='mnv3_plugin.HSwish', fused=False))``.
        se_gate_cfg: the SE gate; default per arch (h-sigmoid for MobileNetV3, sigmoid MnasNet).
        row_widths: per-row expansion/output widths in channels, e.g.
            ``dict(exp={4: 64}, out={2: 16, 3: 16})`` (a NetAdapt result; rules in
            ``row_widths.py``).
        last_stage: 'efficient' (Figure 5, the tables) or 'original' (MobileNetV2-style).
        stem: the first layer, e.g. ``dict(channels=32, nl='RE')`` (Section 5.1 ablation).
        se_squeeze: SE width rule override: 'expansion' (Section 5.3), 'input' (MnasNet) or
            'expansion_round' (timm's ``mobilenetv3_rw``; :func:`~.row_widths.squeeze_width`).
        head_channels: the classifier's conv after pooling at width 1.0 (default: the arch's,
            1280 Large / 1024 Small as every released model; ``head_channels=1280`` on V3-Small
            gives the printed Table 2's 2.9M); scaled by :func:`classifier_width`.
        with_cp: gradient checkpointing of the blocks.
        padding: ``'symmetric'`` (default; torchvision, timm) or ``'same'``: TF's "SAME"
            padding of the strided convs, as the released TF checkpoints and timm's ``tf_``
            ports of them were trained with (:class:`~mnv3_plugin.models.layers.Conv2dSame`).
        in_channels: channels of the input images (timm's ``in_chans``): 1 for grayscale, 4
            for RGB-D... A 3-channel checkpoint's stem adapts when loaded (:func:`adapt_stem`).
        init_cfg: weight initialisation; ``dict(type='Pretrained', checkpoint=..., prefix=...)``
            loads a converted checkpoint (its recorded options are checked first).
        pretrained: deprecated host argument (mmseg's ``EncoderDecoder`` passes it): a file
            becomes ``init_cfg=dict(type='Pretrained', checkpoint=pretrained)``; a host
            model-zoo name (``open-mmlab://...``, set by host base configs for their own
            network) is ignored with a warning (:func:`options.pretrained_to_init_cfg`).

    Every saved state dict records the options that decide the weights' shapes; loading weights
    made for other options raises :class:`options.CheckpointOptionError` naming the option.

    Raises:
        TypeError: an unknown argument (the message names the registered class and the valid
            arguments).
        ValueError: an unknown arch, rule, layout or tap, an out-of-range index, an impossible
            output stride or ``frozen_stages``, with the valid choices in the message.
    """
    arch_settings: Dict[str, Arch] = {}
    default_nl_cfg = dict(RE=dict(type='ReLU', inplace=True), R6=dict(type='ReLU6', inplace=True),
                          HS=dict(type='mnv3_plugin.HSwish', inplace=True),
                          SW=dict(type='SiLU'))  # swish: Section 5.1's stem ablation
    gate_cfgs = dict(hsigmoid=dict(type='mnv3_plugin.HSigmoid'), sigmoid=dict(type='Sigmoid'))

    def __init__(self,
                 arch: Union[str, Arch] = 'large',
                 widen_factor: float = 1.0,
                 depth_multiplier: float = 1.0,
                 out_indices: Optional[Sequence[Union[int, str]]] = None,
                 output_stride: int = 32,
                 reduced_tail: Optional[str] = None,
                 nl_layout: str = 'table',
                 width_rule: str = 'tf',
                 dilation_rule: str = 'tf',
                 fix_last_conv: Optional[bool] = None,
                 features_only: bool = False,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 norm_cfg: dict = dict(type='BN', eps=1e-3, momentum=0.01),
                 act_cfg: Optional[dict] = None,
                 se_gate_cfg: Optional[dict] = None,
                 with_cp: bool = False,
                 padding: str = 'symmetric',
                 in_channels: int = 3,
                 row_widths: Optional[dict] = None,
                 last_stage: str = 'efficient',
                 stem: Optional[dict] = None,
                 se_squeeze: Optional[str] = None,
                 head_channels: Optional[int] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = [
                     dict(type='Kaiming', layer='Conv2d', mode='fan_out', nonlinearity='relu'),
                     dict(type='Constant', layer=['_BatchNorm', 'GroupNorm'], val=1)],
                 pretrained: Optional[str] = None,
                 **kwargs):
        opts.reject_unknown(type(self), kwargs)
        options = dict(locals())
        given_init_cfg = init_cfg
        init_cfg = opts.pretrained_to_init_cfg(type(self), pretrained, init_cfg)
        out_indices = opts.as_tap_list(out_indices, type(self))
        super().__init__(init_cfg=init_cfg)
        # a file given as `pretrained` (host configs): its backbone part is found on loading
        self._init_from_pretrained = init_cfg is not given_init_cfg
        if isinstance(arch, str):
            if arch not in self.arch_settings:
                raise ValueError(f'{type(self).__name__}: unknown arch {arch!r}; valid choices: '
                                 f'{sorted(self.arch_settings)}')
            arch = self.arch_settings[arch]
        if head_channels is not None:
            if not isinstance(head_channels, int) or head_channels < 0:
                raise ValueError(f'head_channels must be a non-negative int, got {head_channels!r}')
            arch = replace(arch, head_channels=head_channels)
        if se_squeeze is not None and se_squeeze not in SE_SQUEEZE_RULES:
            raise ValueError(f'se_squeeze must be None or one of {SE_SQUEEZE_RULES}, got '
                             f'{se_squeeze!r}')
        # depth, Section 5's redesigns, RF2 and Table 5's nonlinearities: transforms of the table
        rows = apply_depth(arch.rows, depth_multiplier)
        rows = apply_stem(apply_last_stage(rows, last_stage, arch.head_channels), stem)
        rows = apply_nl_layout(apply_rf2(rows, reduced_tail), nl_layout)
        self.arch = replace(arch, rows=rows, se_squeeze=se_squeeze or arch.se_squeeze)
        self.widen_factor = widen_factor  # read by necks that scale with the backbone (SSDLite)
        # the original last stage (Figure 5) has its 1280 conv before the pool: a single FC after
        self.head_channels = 0 if last_stage == 'original' else classifier_width(
            arch, widen_factor, width_rule, reduced_tail)
        self.in_channels = in_channels
        self.specs = resolve_layers(self.arch, widen_factor, width_rule, output_stride,
                                    dilation_rule, fix_last_conv, in_channels)
        # per-row widths (a searched network): residual connections stay the table's
        self.specs = apply_row_widths(self.specs, row_widths, self.arch.se_squeeze)
        self.taps = self._named_taps()
        if out_indices is None:
            out_indices = (len(self.specs) - 1,)
        self.out_indices = tuple(self._resolve_index(i) for i in out_indices)
        sites = [self._site(i) for i in self.out_indices]
        if features_only:  # rows after the deepest output are not built
            self.specs = self.specs[:max(row for row, _ in sites) + 1]
        if not -1 <= frozen_stages < len(self.specs):
            raise ValueError(f'frozen_stages must be in [-1, {len(self.specs) - 1}] (the rows '
                             f'built), got {frozen_stages}')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.out_channels = [self._tap_shape(site)[0] for site in sites]
        self.out_strides = [self._tap_shape(site)[1] for site in sites]
        # row -> [(part, output position)]: which maps each row contributes to the outputs
        self._routing: Dict[int, List[Tuple[str, int]]] = {}
        for pos, (row, part) in enumerate(sites):
            self._routing.setdefault(row, []).append((part, pos))

        nl_cfg = copy.deepcopy(self.default_nl_cfg)
        nl_cfg.update(act_cfg or {})
        gate_cfg = se_gate_cfg or self.gate_cfgs[arch.se_gate]
        # the classifier's hidden conv after pooling: h-swish (Section 5.1), ReLU (minimalistic);
        # with a bias except in timm's mobilenetv3_rw
        self.head_act_cfg = copy.deepcopy(nl_cfg[arch.head_nl])
        self.head_bias = arch.head_bias
        self.layers = nn.ModuleList()
        for spec in self.specs:
            act = nl_cfg[spec.row.nl]
            if spec.row.op == 'conv2d':
                self.layers.append(ConvBNAct(spec.in_channels, spec.out_channels,
                                             spec.row.kernel, spec.stride, spec.dilation,
                                             norm_cfg=norm_cfg, act_cfg=act, padding=padding))
            else:
                se_act = act if arch.se_nl is None else nl_cfg[arch.se_nl]
                self.layers.append(Bottleneck(spec, act, gate_cfg, norm_cfg, with_cp, padding,
                                              se_act_cfg=se_act))
        self.channels_last = False  # set by switch_to_deploy
        self._freeze_stages()
        self._mnv3_record = opts.record(self, options)  # travels with the weights
        self._register_state_dict_hook(_record_options)

    def init_weights(self) -> None:
        """As mmengine's, after checking a ``Pretrained`` checkpoint's recorded options (the
        file is read once; :func:`mnv3_plugin.checkpoint.pretrained_init`)."""
        with pretrained_init(self):
            super().init_weights()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args, **kwargs):
        check_loaded_options(self, local_metadata)
        # features_only: the weights of rows not built are not loaded (nor unexpected)
        unbuilt = re.compile(re.escape(prefix) + r'layers\.(\d+)\.')
        for key in list(state_dict):
            m = unbuilt.match(key)
            if m and int(m.group(1)) >= len(self.layers):
                del state_dict[key]
        stem = f'{prefix}layers.0.conv.weight'
        if stem in state_dict and state_dict[stem].dim() == 4 \
                and state_dict[stem].shape[1] != self.in_channels:
            state_dict[stem] = adapt_stem(state_dict[stem], self.in_channels)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args, **kwargs)

    # -- taps -------------------------------------------------------------------------------
    def _named_taps(self) -> Dict[str, TapSite]:
        """name -> (row index, what of that row: 'out' | 'expand' | 'dw')."""
        rows = self.arch.rows
        c4_row = _reduction_row(rows, 16)
        os8_row = _reduction_row(rows, 8) - 1
        while rows[os8_row].op == 'conv2d':
            os8_row -= 1
        return dict(C4=(c4_row, 'expand'), C5=(len(rows) - 1, 'out'), os8_dw=(os8_row, 'dw'))

    def _resolve_index(self, index: Union[int, str]) -> Union[int, str]:
        n = len(self.specs)
        if isinstance(index, str):
            if index not in self.taps:
                raise ValueError(f'unknown named tap {index!r}; valid: {list(self.taps)} or a row '
                                 f'index in [-{n}, {n - 1}]')
            return index
        if not -n <= index < n:
            raise ValueError(f'out index {index} out of range: valid row indices are '
                             f'[-{n}, {n - 1}] or the named taps {list(self.taps)}')
        return index % n

    def _site(self, index: Union[int, str]) -> TapSite:
        return self.taps[index] if isinstance(index, str) else (index, 'out')

    def _tap_shape(self, site: TapSite) -> Tuple[int, int]:
        """(channels, output stride) of the map at a tap site."""
        row, part = site
        spec = self.specs[row]
        if part == 'out':
            return spec.out_channels, spec.out_stride
        # expansion output: input resolution; depthwise output: after its stride
        return spec.mid_channels, spec.in_stride if part == 'expand' else spec.out_stride

    @property
    def feature_info(self) -> List[dict]:
        """timm-style description of each output: its name/index, channels and stride."""
        return [dict(index=i, num_chs=c, reduction=s)
                for i, c, s in zip(self.out_indices, self.out_channels, self.out_strides)]

    # -- forward ----------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        outs: List[Optional[torch.Tensor]] = [None] * len(self.out_indices)
        for i, layer in enumerate(self.layers):
            parts = self._routing.get(i, ())
            inner = {}
            if any(part != 'out' for part, _ in parts):
                x, inner = layer(x, return_taps=True)
            else:
                x = layer(x)
            for part, pos in parts:
                outs[pos] = x if part == 'out' else inner[part]
        return tuple(outs)

    def switch_to_deploy(self, channels_last: bool = True) -> 'TableNet':
        """Deploy mode for inference: folds every BN into the conv before it (mmcv's
        ``fuse_conv_bn``) and, by default, runs in channels-last (NHWC) memory format, which
        oneDNN's depthwise and 1x1 kernels prefer on CPU (the input is converted on entry).

        Irreversible; outputs equal the eval-mode outputs of the unfused model up to float
        rounding. :func:`mnv3_plugin.apis.switch_to_deploy` applies it to a whole model.
        """
        from mmcv.cnn import fuse_conv_bn
        self.eval()
        fuse_conv_bn(self)
        if channels_last:
            self.to(memory_format=torch.channels_last)
        self.channels_last = channels_last
        return self

    # -- training behaviour -----------------------------------------------------------------
    def _freeze_stages(self) -> None:
        for i in range(self.frozen_stages + 1):
            layer = self.layers[i]
            layer.eval()
            for param in layer.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self


def _record_options(module: TableNet, state_dict, prefix, local_metadata) -> None:
    local_metadata[opts.META_KEY] = copy.deepcopy(module._mnv3_record)


@MODELS.register_module()
class MobileNetV3(TableNet):
    """MobileNetV3-Large and -Small (Tables 1 and 2), their minimalistic versions released by
    the authors (``'large_minimal'``, ``'small_minimal'``: :func:`tables.minimalistic`) and
    timm's early reimplementation of Large (``'large_rw'``, timm's ``mobilenetv3_rw``:
    :func:`tables.timm_rw`; beyond the paper). See :class:`TableNet` for the arguments."""
    arch_settings = dict(large=V3_LARGE, small=V3_SMALL, large_minimal=V3_LARGE_MINIMAL,
                         small_minimal=V3_SMALL_MINIMAL, large_rw=V3_LARGE_RW)


@MODELS.register_module()
class MobileNetV2(TableNet):
    """MobileNetV2 (the comparison rows of Tables 3, 6 and 7), from the same builder."""
    arch_settings = dict(v2=MOBILENET_V2)

    def __init__(self, arch: Union[str, Arch] = 'v2', **kwargs):
        super().__init__(arch=arch, **kwargs)


@MODELS.register_module()
class MnasNet(TableNet):
    """MnasNet-A1 and the small MnasNet of Table 3 (arch 'a1' / 'small')."""
    arch_settings = dict(a1=MNASNET_A1, small=MNASNET_SMALL)

    def __init__(self, arch: Union[str, Arch] = 'a1', **kwargs):
        super().__init__(arch=arch, **kwargs)


@MODELS.register_module()
class MobileNetV1(TableNet):
    """MobileNetV1 (the V1 row of Table 6)."""
    arch_settings = dict(v1=MOBILENET_V1)

    def __init__(self, arch: Union[str, Arch] = 'v1', **kwargs):
        super().__init__(arch=arch, **kwargs)
