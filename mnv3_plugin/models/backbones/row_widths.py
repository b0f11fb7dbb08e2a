"""Per-row width overrides: a network found by NetAdapt (Section 4.2) is a config, not code.

``row_widths`` sets the expansion width (the "exp size" column) and/or the output width (the
"#out" column) of chosen table rows, in channels, after the width multiplier, RF2 and the other
table transforms have been applied (i.e. on the :class:`LayerSpec` list of ``resolve_layers``)::

    backbone=dict(type='mnv3_plugin.MobileNetV3', arch='small',
                  row_widths=dict(exp={4: 80, 10: 512}, out={7: 40, 8: 40}))

Each of ``exp`` and ``out`` is a ``{row index: channels}`` mapping (row 0 is the stem; negative
indices count from the end) or a list with one entry per row (``None`` = unchanged).

Rules (checked by :func:`apply_row_widths`, each violation one ``ValueError`` line):

* widths are positive multiples of the divisor (8, as every width of Tables 1 and 2);
* ``exp`` applies to ``bneck`` rows that have an expansion conv; a row without one (exp size ==
  input width, e.g. the first bneck of Table 1) filters its input at the input's width, so that
  width follows the previous row's output;
* rows joined by residual connections share one bottleneck width (Section 4.2's second kind of
  proposal: "reduce bottleneck in all blocks that share the same bottleneck size"): an ``out``
  override of one row of such a group must name every row of the group with the same value;
* an override never adds or removes a layer or a residual connection: an expansion width equal
  to the block's (new) input width, which would drop the expansion conv, is refused.

The squeeze-and-excite width of a block whose expansion or input width changed is recomputed by
the arch's rule (Section 5.3: 1/4 of the expansion; MnasNet: 1/4 of the block input).
"""
from dataclasses import replace
from typing import Dict, List, Optional, Sequence, Tuple, Union

from ...apis import ConfigError

DIVISOR = 8
KINDS = ('exp', 'out')

Widths = Union[Dict[int, int], Sequence[Optional[int]]]


class RowWidthsError(ConfigError, ValueError):
    """A ``row_widths`` override that breaks a rule of this module: a ``ValueError``, and a
    :class:`~mnv3_plugin.apis.ConfigError`, so the tools print it as one line."""


def residual_flags(specs: Sequence) -> List[bool]:
    """Whether each row's block adds its input to its output (stride-1 bneck, in == out).

    Args:
        specs: the resolved rows (``LayerSpec`` list of ``resolve_layers``).

    Returns:
        One bool per row: ``LayerSpec.residual``, decided by ``resolve_layers`` from the table,
        so width overrides cannot change them.
    """
    return [s.residual for s in specs]


def residual_groups(specs: Sequence) -> List[Tuple[int, ...]]:
    """Rows that share one output (bottleneck) width: a row and the residual rows after it.

    Args:
        specs: the resolved rows.

    Returns:
        A partition of the row indices into consecutive groups, e.g. for MobileNetV3-Large
        ``[(0, 1), (2, 3), (4, 5, 6), (7, 8, 9, 10), (11, 12), (13, 14, 15), (16,)]``.
    """
    groups: List[List[int]] = []
    for i, tied in enumerate(residual_flags(specs)):
        if tied and groups:
            groups[-1].append(i)
        else:
            groups.append([i])
    return [tuple(g) for g in groups]


def has_expansion(spec) -> bool:
    """Whether a row has a 1x1 expansion conv (a ``bneck`` whose exp size != input width)."""
    return spec.row.op == 'bneck' and spec.mid_channels != spec.in_channels


SE_SQUEEZE_RULES = ('expansion', 'input', 'expansion_round')


def squeeze_width(rule: str, mid_channels: int, in_channels: int) -> int:
    """SE squeeze width (channels): ``'expansion'`` = make_divisible(mid / 4, 8) (Section 5.3),
    ``'input'`` = int(block input / 4) (MnasNet), ``'expansion_round'`` = round(mid / 4)
    (Python's ``round``, timm's ``SqueezeExcite`` default: ``mobilenetv3_rw``). The one rule of
    ``resolve_layers`` and the per-row widths.

    Raises:
        ValueError: an unknown rule.
    """
    from .mobilenet import make_divisible
    if rule == 'expansion':
        return make_divisible(mid_channels / 4)
    if rule == 'expansion_round':
        return max(1, round(mid_channels * 0.25))
    if rule == 'input':
        return max(1, int(in_channels * 0.25))
    raise RowWidthsError(f'se_squeeze must be one of {SE_SQUEEZE_RULES}, got {rule!r}')


def normalize_row_widths(row_widths: Optional[dict], num_rows: int) -> Dict[str, Dict[int, int]]:
    """Turns the ``row_widths`` argument into ``{'exp': {row: ch}, 'out': {row: ch}}``.

    Args:
        row_widths: None, or a dict with keys among ``'exp'``, ``'out'``, each a mapping
            ``{row index: channels}`` or a list of ``num_rows`` entries (``None`` = unchanged).
            Row indices may be negative (from the end) and may be strings of integers (as a
            config dumped to JSON writes them).
        num_rows: rows in the table.

    Returns:
        Non-negative row index -> channels, per kind.

    Raises:
        RowWidthsError: (a ValueError) unknown key, index out of range, a list of the wrong
            length, or a width that is not a positive multiple of 8.
    """
    out: Dict[str, Dict[int, int]] = {k: {} for k in KINDS}
    if not row_widths:
        return out
    if not isinstance(row_widths, dict):
        raise RowWidthsError(f"row_widths must be a dict with keys 'exp' and/or 'out', got "
                             f"{type(row_widths).__name__}")
    unknown = set(row_widths) - set(KINDS)
    if unknown:
        raise RowWidthsError(f"row_widths: unknown key(s) {sorted(unknown)}; use 'exp' (expansion "
                             f"width) and/or 'out' (output width)")
    for kind, widths in row_widths.items():
        if widths is None:
            continue
        if isinstance(widths, dict):
            items = list(widths.items())
        elif isinstance(widths, (list, tuple)):
            if len(widths) != num_rows:
                raise RowWidthsError(f'row_widths.{kind}: a list needs one entry per table row '
                                     f'({num_rows}), got {len(widths)}; or use {{row: channels}}')
            items = [(i, w) for i, w in enumerate(widths) if w is not None]
        else:
            raise RowWidthsError(f'row_widths.{kind} must be {{row: channels}} or a list per row, '
                                 f'got {type(widths).__name__}')
        for row, ch in items:
            try:
                index = int(row)
            except (TypeError, ValueError):
                raise RowWidthsError(f'row_widths.{kind}: row {row!r} is not an integer row index')
            if not -num_rows <= index < num_rows:
                raise RowWidthsError(f'row_widths.{kind}: row {index} out of range; the table has '
                                     f'rows 0..{num_rows - 1}')
            if isinstance(ch, bool) or not isinstance(ch, int) or ch <= 0 or ch % DIVISOR:
                lower = max(DIVISOR, ch // DIVISOR * DIVISOR) if isinstance(ch, int) else DIVISOR
                raise RowWidthsError(f'row_widths.{kind}: row {index % num_rows} has {ch!r} '
                                     f'channels; use a positive multiple of {DIVISOR} '
                                     f'(e.g. {lower})')
            out[kind][index % num_rows] = ch
    return out


def apply_row_widths(specs: Sequence, row_widths: Optional[dict],
                     se_squeeze: str = 'expansion') -> list:
    """Applies per-row width overrides to resolved rows (see the module docstring).

    Args:
        specs: ``LayerSpec`` list of ``resolve_layers`` (after width multiplier, RF2...).
        row_widths: ``dict(exp=..., out=...)`` as in :func:`normalize_row_widths`, or None.
        se_squeeze: the arch's SE rule (:func:`squeeze_width`).

    Returns:
        New ``LayerSpec`` list: overridden ``mid_channels``/``out_channels``, input widths that
        follow the previous row, SE widths recomputed where a block's widths changed.

    Raises:
        RowWidthsError: (a ValueError) one line naming the row and what to change, for every
            rule of the module docstring.
    """
    specs = list(specs)
    widths = normalize_row_widths(row_widths, len(specs))
    if not widths['exp'] and not widths['out']:
        return specs
    for row in sorted(widths['exp']):
        spec = specs[row]
        if not has_expansion(spec):
            if spec.row.op != 'bneck':
                raise RowWidthsError(f'row_widths.exp: row {row} is a {spec.row.op} row, which '
                                     f'has no expansion layer; set its width with '
                                     f'row_widths.out ({{{row}: channels}}) instead')
            raise RowWidthsError(f'row_widths.exp: row {row} is a bneck without expansion conv '
                                 f'(its depthwise width is its input width); set the output '
                                 f'width of the row before it instead, or drop this entry')
    for group in residual_groups(specs):
        given = {r: widths['out'][r] for r in group if r in widths['out']}
        if given and (len(given) < len(group) or len(set(given.values())) > 1):
            first, last = group[0], group[-1]
            raise RowWidthsError(f'row_widths.out: rows {first}-{last} share one bottleneck '
                                 f'width (residual connections); set all of them to one value, '
                                 f'got {given}')
    new_specs = []
    in_ch = specs[0].in_channels
    for i, spec in enumerate(specs):
        out_ch = widths['out'].get(i, spec.out_channels)
        if has_expansion(spec):
            mid = widths['exp'].get(i, spec.mid_channels)
            if mid == in_ch:
                raise RowWidthsError(f'row_widths: row {i} would have expansion width {mid} '
                                     f'equal to its input width, which removes its expansion '
                                     f'conv; choose another multiple of {DIVISOR}')
        else:
            mid = in_ch  # depthwise (or conv) at the input's width
        se = spec.se_channels
        if se and (mid != spec.mid_channels or in_ch != spec.in_channels):
            se = squeeze_width(se_squeeze, mid, in_ch)
        new_specs.append(replace(spec, in_channels=in_ch, mid_channels=mid, out_channels=out_ch,
                                 se_channels=se))
        in_ch = out_ch
    return new_specs


def row_widths_of(specs: Sequence, reference: Sequence) -> Dict[str, Dict[int, int]]:
    """The smallest ``row_widths`` that turns ``reference`` into ``specs``.

    Args:
        specs: resolved rows of the adapted network.
        reference: resolved rows of the network it was derived from (same table).

    Returns:
        ``{'exp': {row: ch}, 'out': {row: ch}}`` with only the rows that differ; ``out`` names
        whole residual groups.
    """
    exp = {i: s.mid_channels for i, (s, r) in enumerate(zip(specs, reference))
           if has_expansion(r) and s.mid_channels != r.mid_channels}
    out = {}
    for group in residual_groups(reference):
        if any(specs[i].out_channels != reference[i].out_channels for i in group):
            out.update({i: specs[i].out_channels for i in group})
    return dict(exp=exp, out=out)
