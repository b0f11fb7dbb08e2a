"""Section 5's redesigns as table transforms, so their ablations are configs.

Each function maps a row tuple to a row tuple (like ``apply_rf2``); the backbone applies them to
its table before the width multiplier. The MobileNetV3 tables (Tables 1 and 2) already contain
the redesigned layers; these transforms undo one redesign at a time:

* :func:`apply_last_stage` ``'original'``: the MobileNetV2-style last stage of Figure 5 (top).
* :func:`apply_stem`: the first layer's filters and nonlinearity (Section 5.1: 16 filters with
  h-swish instead of 32 with ReLU or swish).
* The squeeze-and-excite width rule (Section 5.3) is the arch's ``se_squeeze`` field, overridden
  by the backbone's ``se_squeeze`` argument.
"""
from dataclasses import replace
from typing import Optional, Sequence, Tuple

from .tables import Row

LAST_STAGES = ('efficient', 'original')


def apply_last_stage(rows: Sequence[Row], stage: str, head_channels: int) -> Tuple[Row, ...]:
    """The efficient last stage of Figure 5 (the tables' own) or the original one.

    Original (MobileNetV2/MnasNet-A1 style, Figure 5 top): the final 1x1 conv of the table
    (e.g. 160 -> 960 in Table 1) becomes the expansion of one more bottleneck (3x3 depthwise
    "filtering", no SE, projection to twice the previous output width: 320), followed by a 1x1
    conv to the head width (1280) at full resolution, before the pool. The classifier is then a
    single FC from those ``head_channels`` features (the config's head).

    Efficient (Section 5.1, Figure 5 bottom): as in the tables; the 1280-wide conv sits after
    the pool (the classification head's hidden layer), and the extra bottleneck is gone.

    Args:
        rows: the block table; its last row must be a 1x1 ``conv2d`` after a ``bneck``.
        stage: ``'efficient'`` or ``'original'``.
        head_channels: width of the conv after the bottleneck (``Arch.head_channels``).

    Returns:
        The rows, two longer for ``'original'``: (..., bneck 3x3 exp=C out=2x, conv2d 1x1
        head_channels).

    Raises:
        ValueError: unknown ``stage``, or a table that does not end in bneck + 1x1 conv2d, or
            an arch without ``head_channels``.
    """
    if stage not in LAST_STAGES:
        raise ValueError(f"last_stage must be one of {LAST_STAGES}, got {stage!r}")
    if stage == 'efficient':
        return tuple(rows)
    last, before = rows[-1], rows[-2]
    if last.op != 'conv2d' or last.kernel != 1 or before.op != 'bneck' or head_channels <= 0:
        raise ValueError("last_stage='original' needs a table ending in a bneck and a 1x1 "
                         'conv2d, and an arch with head_channels (MobileNetV3-Large or -Small)')
    extra = Row(op='bneck', kernel=3, exp=last.out, out=2 * before.out, se=False, nl=last.nl,
                stride=1)
    head = Row(op='conv2d', kernel=1, exp=None, out=head_channels, se=False, nl=last.nl,
               stride=1)
    return tuple(rows[:-1]) + (extra, head)


def apply_stem(rows: Sequence[Row], stem: Optional[dict]) -> Tuple[Row, ...]:
    """Sets the first layer's filters and nonlinearity (Section 5.1).

    Args:
        rows: the block table; row 0 is the stem conv.
        stem: None (as the table) or ``dict(channels=32, nl='RE')``; ``nl`` is an NL code of the
            backbone's ``act_cfg`` (``'RE'``, ``'HS'``, ``'SW'`` = swish...).

    Returns:
        The rows with the stem changed. A following bneck without expansion conv (exp size ==
        stem width, e.g. Table 1's first bneck) keeps filtering at the stem's width, as the
        SepConv block of MobileNetV2 and MnasNet does.

    Raises:
        ValueError: unknown keys, or a width that is not a positive multiple of 8.
    """
    if not stem:
        return tuple(rows)
    unknown = set(stem) - {'channels', 'nl'}
    if unknown:
        raise ValueError(f"stem: unknown key(s) {sorted(unknown)}; use 'channels' and/or 'nl'")
    channels = stem.get('channels', rows[0].out)
    if not isinstance(channels, int) or channels <= 0 or channels % 8:
        raise ValueError(f'stem.channels must be a positive multiple of 8, got {channels!r}')
    out = list(rows)
    out[0] = replace(rows[0], out=channels, nl=stem.get('nl', rows[0].nl))
    if rows[1].op == 'bneck' and rows[1].exp == rows[0].out:
        out[1] = replace(rows[1], exp=channels)
    return tuple(out)
