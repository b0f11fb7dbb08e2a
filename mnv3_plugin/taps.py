"""What a backbone's rows and taps are: widths (channels) and output strides, for people.

Used by ``tools/misc/print_taps.py`` (one config's backbone) and ``tools/misc/gen_taps_table.py``
(the generated tables of docs/backbones.md).
"""
from typing import Dict, List

from .models.backbones.mobilenet import TableNet


def _every_arch():
    from .models.backbones import mobilenet
    classes = (mobilenet.MobileNetV3, mobilenet.MobileNetV2, mobilenet.MnasNet,
               mobilenet.MobileNetV1)
    return tuple((cls.__name__, arch) for cls in classes for arch in cls.arch_settings)


# every registered backbone and its archs (each class's arch_settings), in the docs' order
BACKBONES = _every_arch()


def build_backbone(type_name: str, **kwargs) -> TableNet:
    """A plugin backbone by class name (``'MobileNetV3'`` or ``'mnv3_plugin.MobileNetV3'``).

    Raises:
        ValueError: not a backbone of the plugin.
    """
    from .models.backbones import mobilenet
    name = type_name.split('.')[-1]
    cls = getattr(mobilenet, name, None)
    if not (isinstance(cls, type) and issubclass(cls, TableNet)) or cls is TableNet:
        valid = sorted({t for t, _ in BACKBONES})
        raise ValueError(f'{type_name!r} is not a backbone of the plugin; valid: {valid}')
    kwargs.setdefault('init_cfg', None)
    return cls(**kwargs)


def row_table(backbone: TableNet) -> List[Dict]:
    """One dict per built row: index, operator, kernel, expansion and output widths (channels),
    SE, NL, stride, dilation, output stride, and the named taps that read the row."""
    taps: Dict[int, List[str]] = {}
    for name, (row, part) in backbone.taps.items():
        taps.setdefault(row, []).append(name)
    rows = []
    for i, spec in enumerate(backbone.specs):
        row = spec.row
        names = []
        for name in taps.get(i, []):
            ch, stride = backbone._tap_shape(backbone.taps[name])
            names.append(f'{name} ({ch} @ {stride})')
        rows.append(dict(index=i, op=row.op, kernel=row.kernel,
                         exp=spec.mid_channels if row.op == 'bneck' else '',
                         out=spec.out_channels, se='SE' if spec.se_channels else '', nl=row.nl,
                         stride=spec.stride, dilation=spec.dilation,
                         out_stride=spec.out_stride, taps=', '.join(names)))
    return rows


COLUMNS = (('row', 'index'), ('operator', 'op'), ('k', 'kernel'), ('exp', 'exp'),
           ('out', 'out'), ('SE', 'se'), ('NL', 'nl'), ('s', 'stride'), ('dil', 'dilation'),
           ('out stride', 'out_stride'), ('named taps (channels @ stride)', 'taps'))


def markdown_rows(backbone: TableNet) -> List[str]:
    """:func:`row_table` as markdown table lines."""
    lines = ['| ' + ' | '.join(c for c, _ in COLUMNS) + ' |', '|' + '---|' * len(COLUMNS)]
    for r in row_table(backbone):
        lines.append('| ' + ' | '.join(str(r[k]) for _, k in COLUMNS) + ' |')
    return lines


def text_rows(backbone: TableNet) -> List[str]:
    """:func:`row_table` as aligned plain-text lines."""
    table = [[c for c, _ in COLUMNS]]
    table += [[str(r[k]) for _, k in COLUMNS] for r in row_table(backbone)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    return ['  '.join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]


def outputs_summary(backbone: TableNet) -> List[str]:
    """The outputs the backbone returns: ``out_indices`` with channels and strides."""
    lines = [f'out_indices={backbone.out_indices!r}']
    for i, c, s in zip(backbone.out_indices, backbone.out_channels, backbone.out_strides):
        lines.append(f'  {i!r}: {c} channels @ stride {s}')
    return lines
