"""Block tables: one per network, one row per layer, in the paper's column order.

Columns (Tables 1 and 2 of "Searching for MobileNetV3"): operator, kernel, exp size, #out, SE,
NL, s. The "input" column is the comment at the end of each row (at 224x224). Operators:
``conv2d`` (conv + BN + act), ``bneck`` (inverted residual, linear projection; no expansion
conv where exp size == input width) and ``dwsep`` (MobileNetV1's depthwise-separable layer,
both convs activated). NL: ``RE`` ReLU, ``R6`` ReLU6, ``HS`` h-swish.

The classifier rows of Tables 1-2 (pool, 1x1 NBN conv 1280/1024, 1x1 NBN conv k) belong to the
classification head, not to these tables: ``Arch.head_channels`` is its width at 1.0, and
``mobilenet.classifier_width`` scales it with the width multiplier and RF2. Width multiplier,
RF2 and output stride are applied to these tables by the builder; they are never copies of
them.
"""
from dataclasses import dataclass, replace
from typing import Optional, Tuple


@dataclass(frozen=True)
class Row:
    """One row of a block table."""
    op: str            # 'conv2d' | 'bneck' | 'dwsep'
    kernel: int
    exp: Optional[int]  # expansion width ('exp size'); None for conv2d / dwsep rows
    out: int           # '#out'
    se: bool
    nl: str            # 'RE' | 'R6' | 'HS'
    stride: int
    noskip: bool = False  # no residual even where the widths allow one (timm's ``_noskip``)


@dataclass(frozen=True)
class Arch:
    """A network: its table and the rules that are not in the table's columns.

    Attributes:
        rows: the block table.
        head_channels: width of the 1x1 conv after pooling in the ImageNet classifier
            (0 when the classifier is a single FC on the pooled last row).
        se_squeeze: 'expansion' = make_divisible(exp / 4, 8) (Section 5.3); 'input' =
            int(block input / 4) (MnasNet); 'expansion_round' = round(exp / 4) (Python's
            ``round``: timm's ``SqueezeExcite`` default ``rd_round_fn``, ``mobilenetv3_rw``).
        se_gate: gate of the SE module: 'hsigmoid' (MobileNetV3) or 'sigmoid' (MnasNet).
        se_nl: NL code of the SE module's inner activation: ``'RE'`` (every released model:
            TF-slim, torchvision, timm's ``force_act_layer=nn.ReLU``) or None for the block's
            own NL (timm's ``SqueezeExcite`` without ``force_act_layer``: ``mobilenetv3_rw``).
        fix_last_conv: keep the final 1x1 conv of the table at its width when the multiplier is
            below 1 (MobileNetV2's rule, Sandler et al. Section 4; MnasNet in timm/TF).
        head_nl: NL code of the classifier's hidden conv after pooling: ``'HS'`` (Section 5.1)
            or ``'RE'`` (the minimalistic models).
        head_bias: the classifier's hidden conv after pooling has a bias (Section 5.1's "NBN"
            conv, every released model; timm's ``head_bias``, False for ``mobilenetv3_rw``).
    """
    rows: Tuple[Row, ...]
    head_channels: int
    se_squeeze: str = 'expansion'
    se_gate: str = 'hsigmoid'
    fix_last_conv: bool = False
    head_nl: str = 'HS'
    se_nl: Optional[str] = 'RE'
    head_bias: bool = True


def _r(op, k, exp, out, se, nl, s):
    return Row(op, k, exp, out, se == 'SE', nl, s)


# Table 1: MobileNetV3-Large.
V3_LARGE = Arch(rows=(
    _r('conv2d', 3, None, 16, '-', 'HS', 2),   # 224^2 x 3
    _r('bneck', 3, 16, 16, '-', 'RE', 1),      # 112^2 x 16
    _r('bneck', 3, 64, 24, '-', 'RE', 2),      # 112^2 x 16
    _r('bneck', 3, 72, 24, '-', 'RE', 1),      # 56^2 x 24
    _r('bneck', 5, 72, 40, 'SE', 'RE', 2),     # 56^2 x 24
    _r('bneck', 5, 120, 40, 'SE', 'RE', 1),    # 28^2 x 40
    _r('bneck', 5, 120, 40, 'SE', 'RE', 1),    # 28^2 x 40
    _r('bneck', 3, 240, 80, '-', 'HS', 2),     # 28^2 x 40
    _r('bneck', 3, 200, 80, '-', 'HS', 1),     # 14^2 x 80
    _r('bneck', 3, 184, 80, '-', 'HS', 1),     # 14^2 x 80
    _r('bneck', 3, 184, 80, '-', 'HS', 1),     # 14^2 x 80
    _r('bneck', 3, 480, 112, 'SE', 'HS', 1),   # 14^2 x 80
    _r('bneck', 3, 672, 112, 'SE', 'HS', 1),   # 14^2 x 112
    _r('bneck', 5, 672, 160, 'SE', 'HS', 2),   # 14^2 x 112  (13th bneck: C4 = its expansion)
    _r('bneck', 5, 960, 160, 'SE', 'HS', 1),   # 7^2 x 160
    _r('bneck', 5, 960, 160, 'SE', 'HS', 1),   # 7^2 x 160
    _r('conv2d', 1, None, 960, '-', 'HS', 1),  # 7^2 x 160  (C5: the layer before pooling)
), head_channels=1280)

# Table 2: MobileNetV3-Small. The printed table ticks SE on the 576 conv; no released model
# (TF-slim, torchvision, timm, Keras) has it, so it is off here. The classifier's 1x1 conv is
# 1024 wide in every released model (the printed table says 1280): head_channels=1024.
V3_SMALL = Arch(rows=(
    _r('conv2d', 3, None, 16, '-', 'HS', 2),   # 224^2 x 3
    _r('bneck', 3, 16, 16, 'SE', 'RE', 2),     # 112^2 x 16
    _r('bneck', 3, 72, 24, '-', 'RE', 2),      # 56^2 x 16
    _r('bneck', 3, 88, 24, '-', 'RE', 1),      # 28^2 x 24
    _r('bneck', 5, 96, 40, 'SE', 'HS', 2),     # 28^2 x 24
    _r('bneck', 5, 240, 40, 'SE', 'HS', 1),    # 14^2 x 40
    _r('bneck', 5, 240, 40, 'SE', 'HS', 1),    # 14^2 x 40
    _r('bneck', 5, 120, 48, 'SE', 'HS', 1),    # 14^2 x 40
    _r('bneck', 5, 144, 48, 'SE', 'HS', 1),    # 14^2 x 48
    _r('bneck', 5, 288, 96, 'SE', 'HS', 2),    # 14^2 x 48  (9th bneck: C4 = its expansion)
    _r('bneck', 5, 576, 96, 'SE', 'HS', 1),    # 7^2 x 96
    _r('bneck', 5, 576, 96, 'SE', 'HS', 1),    # 7^2 x 96
    _r('conv2d', 1, None, 576, '-', 'HS', 1),  # 7^2 x 96  (C5)
), head_channels=1024)


def minimalistic(arch: Arch) -> Arch:
    """The authors' "minimalistic" version of a MobileNetV3 table: no SE, ReLU everywhere
    (stem, blocks, final conv and the classifier's hidden conv), 3x3 depthwise kernels; widths,
    expansions and strides as the table.

    Source: ``V3_LARGE_MINIMALISTIC`` / ``V3_SMALL_MINIMALISTIC`` in TF-slim's
    ``research/slim/nets/mobilenet/mobilenet_v3.py`` (tensorflow/models), released with the
    paper's checkpoints; timm ports them as ``tf_mobilenetv3_{large,small}_minimal_100``
    (``'minimal'`` in ``_gen_mobilenet_v3`` of ``timm/models/mobilenetv3.py``).
    """
    rows = tuple(replace(r, kernel=min(r.kernel, 3), se=False, nl='RE') for r in arch.rows)
    return replace(arch, rows=rows, head_nl='RE')


V3_LARGE_MINIMAL = minimalistic(V3_LARGE)
V3_SMALL_MINIMAL = minimalistic(V3_SMALL)


def timm_rw(arch: Arch) -> Arch:
    """timm's early reimplementation of a MobileNetV3 table (beyond the paper), made before the
    authors' models were released: the table's rows, widths, kernels, NLs and strides, with four
    differences, all as fields of the :class:`Arch`: block 1 without its residual connection
    (``noskip``), SE squeeze widths round(exp / 4) (``se_squeeze='expansion_round'``: 18 and 30
    at 72 and 120, where Section 5.3's rule gives 24 and 32), the SE's inner activation the
    block's own (``se_nl=None``: h-swish in the h-swish blocks) and the classifier's hidden conv
    without bias (``head_bias=False``).

    Source: ``_gen_mobilenet_v3_rw`` in ``timm/models/mobilenetv3.py`` (huggingface/
    pytorch-image-models), registered as ``mobilenetv3_rw`` with ImageNet weights
    (``mobilenetv3_rw.rmsp_in1k``); its BN eps is 1e-3, the builder's default.
    """
    rows = tuple(replace(r, noskip=True) if i == 1 else r for i, r in enumerate(arch.rows))
    return replace(arch, rows=rows, se_squeeze='expansion_round', se_nl=None, head_bias=False)


V3_LARGE_RW = timm_rw(V3_LARGE)

# MobileNetV2 (Sandler et al., Table 2: t, c, n, s expanded to one row per block; exp = t x in).
MOBILENET_V2 = Arch(rows=(
    _r('conv2d', 3, None, 32, '-', 'R6', 2),   # 224^2 x 3
    _r('bneck', 3, 32, 16, '-', 'R6', 1),      # 112^2 x 32   t=1
    _r('bneck', 3, 96, 24, '-', 'R6', 2),      # 112^2 x 16   t=6
    _r('bneck', 3, 144, 24, '-', 'R6', 1),     # 56^2 x 24
    _r('bneck', 3, 144, 32, '-', 'R6', 2),     # 56^2 x 24
    _r('bneck', 3, 192, 32, '-', 'R6', 1),     # 28^2 x 32
    _r('bneck', 3, 192, 32, '-', 'R6', 1),     # 28^2 x 32
    _r('bneck', 3, 192, 64, '-', 'R6', 2),     # 28^2 x 32
    _r('bneck', 3, 384, 64, '-', 'R6', 1),     # 14^2 x 64
    _r('bneck', 3, 384, 64, '-', 'R6', 1),     # 14^2 x 64
    _r('bneck', 3, 384, 64, '-', 'R6', 1),     # 14^2 x 64
    _r('bneck', 3, 384, 96, '-', 'R6', 1),     # 14^2 x 64
    _r('bneck', 3, 576, 96, '-', 'R6', 1),     # 14^2 x 96
    _r('bneck', 3, 576, 96, '-', 'R6', 1),     # 14^2 x 96
    _r('bneck', 3, 576, 160, '-', 'R6', 2),    # 14^2 x 96   (C4 = its expansion, 576)
    _r('bneck', 3, 960, 160, '-', 'R6', 1),    # 7^2 x 160
    _r('bneck', 3, 960, 160, '-', 'R6', 1),    # 7^2 x 160
    _r('bneck', 3, 960, 320, '-', 'R6', 1),    # 7^2 x 160
    _r('conv2d', 1, None, 1280, '-', 'R6', 1),  # 7^2 x 320  (C5)
), head_channels=0, fix_last_conv=True)

# MnasNet-A1 (Tan et al., Figure 7a): SepConv, MBConv6/3 with SE on the 40, 112 and 160 stages.
MNASNET_A1 = Arch(rows=(
    _r('conv2d', 3, None, 32, '-', 'RE', 2),   # 224^2 x 3
    _r('bneck', 3, 32, 16, '-', 'RE', 1),      # 112^2 x 32   SepConv
    _r('bneck', 3, 96, 24, '-', 'RE', 2),      # 112^2 x 16   MBConv6
    _r('bneck', 3, 144, 24, '-', 'RE', 1),     # 56^2 x 24
    _r('bneck', 5, 72, 40, 'SE', 'RE', 2),     # 56^2 x 24    MBConv3 SE
    _r('bneck', 5, 120, 40, 'SE', 'RE', 1),    # 28^2 x 40
    _r('bneck', 5, 120, 40, 'SE', 'RE', 1),    # 28^2 x 40
    _r('bneck', 3, 240, 80, '-', 'RE', 2),     # 28^2 x 40    MBConv6
    _r('bneck', 3, 480, 80, '-', 'RE', 1),     # 14^2 x 80
    _r('bneck', 3, 480, 80, '-', 'RE', 1),     # 14^2 x 80
    _r('bneck', 3, 480, 80, '-', 'RE', 1),     # 14^2 x 80
    _r('bneck', 3, 480, 112, 'SE', 'RE', 1),   # 14^2 x 80    MBConv6 SE
    _r('bneck', 3, 672, 112, 'SE', 'RE', 1),   # 14^2 x 112
    _r('bneck', 5, 672, 160, 'SE', 'RE', 2),   # 14^2 x 112   MBConv6 SE (C4 = its expansion)
    _r('bneck', 5, 960, 160, 'SE', 'RE', 1),   # 7^2 x 160
    _r('bneck', 5, 960, 160, 'SE', 'RE', 1),   # 7^2 x 160
    _r('bneck', 3, 960, 320, '-', 'RE', 1),    # 7^2 x 160    MBConv6
    _r('conv2d', 1, None, 1280, '-', 'RE', 1),  # 7^2 x 320  (C5)
), head_channels=0, se_squeeze='input', se_gate='sigmoid', fix_last_conv=True)

# The small MnasNet of Table 3 ("Mnas-small", 65.1M MAdds / 1.9M), as released in TF
# mnasnet_models and timm mnasnet_small.
MNASNET_SMALL = Arch(rows=(
    _r('conv2d', 3, None, 8, '-', 'RE', 2),    # 224^2 x 3
    _r('bneck', 3, 8, 8, '-', 'RE', 1),        # 112^2 x 8    SepConv (residual)
    _r('bneck', 3, 24, 16, '-', 'RE', 2),      # 112^2 x 8    MBConv3
    _r('bneck', 3, 96, 16, '-', 'RE', 2),      # 56^2 x 16    MBConv6
    _r('bneck', 3, 96, 16, '-', 'RE', 1),      # 28^2 x 16
    _r('bneck', 5, 96, 32, 'SE', 'RE', 2),     # 28^2 x 16    MBConv6 SE
    _r('bneck', 5, 192, 32, 'SE', 'RE', 1),    # 14^2 x 32
    _r('bneck', 5, 192, 32, 'SE', 'RE', 1),    # 14^2 x 32
    _r('bneck', 5, 192, 32, 'SE', 'RE', 1),    # 14^2 x 32
    _r('bneck', 3, 192, 32, 'SE', 'RE', 1),    # 14^2 x 32
    _r('bneck', 3, 192, 32, 'SE', 'RE', 1),    # 14^2 x 32
    _r('bneck', 3, 192, 32, 'SE', 'RE', 1),    # 14^2 x 32
    _r('bneck', 5, 192, 88, 'SE', 'RE', 2),    # 14^2 x 32    (C4 = its expansion)
    _r('bneck', 5, 528, 88, 'SE', 'RE', 1),    # 7^2 x 88
    _r('bneck', 5, 528, 88, 'SE', 'RE', 1),    # 7^2 x 88
    _r('bneck', 3, 528, 144, '-', 'RE', 1),    # 7^2 x 88
    _r('conv2d', 1, None, 1280, '-', 'RE', 1),  # 7^2 x 144  (C5)
), head_channels=0, se_squeeze='input', se_gate='sigmoid', fix_last_conv=True)

# MobileNetV1 (Howard et al. 2017, Table 1): 13 depthwise-separable layers.
MOBILENET_V1 = Arch(rows=(
    _r('conv2d', 3, None, 32, '-', 'R6', 2),   # 224^2 x 3
    _r('dwsep', 3, None, 64, '-', 'R6', 1),    # 112^2 x 32
    _r('dwsep', 3, None, 128, '-', 'R6', 2),   # 112^2 x 64
    _r('dwsep', 3, None, 128, '-', 'R6', 1),   # 56^2 x 128
    _r('dwsep', 3, None, 256, '-', 'R6', 2),   # 56^2 x 128
    _r('dwsep', 3, None, 256, '-', 'R6', 1),   # 28^2 x 256
    _r('dwsep', 3, None, 512, '-', 'R6', 2),   # 28^2 x 256
    _r('dwsep', 3, None, 512, '-', 'R6', 1),   # 14^2 x 512
    _r('dwsep', 3, None, 512, '-', 'R6', 1),   # 14^2 x 512
    _r('dwsep', 3, None, 512, '-', 'R6', 1),   # 14^2 x 512
    _r('dwsep', 3, None, 512, '-', 'R6', 1),   # 14^2 x 512
    _r('dwsep', 3, None, 512, '-', 'R6', 1),   # 14^2 x 512  (C4 = its output)
    _r('dwsep', 3, None, 1024, '-', 'R6', 2),  # 14^2 x 512
    _r('dwsep', 3, None, 1024, '-', 'R6', 1),  # 7^2 x 1024  (C5)
), head_channels=0)
