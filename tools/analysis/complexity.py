"""Params and multiply-adds of configs, beside the paper's numbers from configs/metafile.yml.

    python tools/analysis/complexity.py CONFIG [CONFIG ...] [--shape H W]
    python tools/analysis/complexity.py --table 3        # every config of a paper table
    python tools/analysis/complexity.py --all

MAdds count every conv and FC layer (SE included), the paper's convention; they are measured at
the resolution the metafile records for the config (``Ours.Input``), or --shape.
"""
import argparse
import copy
import re
import sys

from mmengine.config import Config

import mnv3_plugin  # noqa: F401
from mnv3_plugin import metafile
from mnv3_plugin.analysis import (build_model, config_input_shapes, count_madds, count_params,
                                  tensor_forward)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='*', help='config files')
    parser.add_argument('--table', help="every config of a paper table ('3', '5', '6', '7', "
                        "'8', 'Figure 7')")
    parser.add_argument('--all', action='store_true', help='every config in the metafile')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input size (default: as recorded in the metafile)')
    parser.add_argument('--num-classes', type=int,
                        help='count with this many classes (default: the config\'s, plus the '
                        'released models\' count where the metafile records one)')
    return parser.parse_args()


def fmt_diff(ours, paper):
    if paper in (None, '') or not isinstance(paper, (int, float)) or paper == 0:
        return '-'
    return f'{100 * (ours - paper) / paper:+.1f}%'


def unit_of(column: str) -> float:
    """The scale of a column named like 'MAdds (M)' / 'MAdds (B) f'."""
    return 1e9 if '(B)' in column else 1e6


def set_num_classes(cfg, num_classes):
    """The config with its head predicting ``num_classes`` (cls, det or seg head)."""
    cfg = copy.deepcopy(cfg)
    for key in ('head', 'bbox_head', 'decode_head'):
        if key in cfg.model:
            cfg.model[key].num_classes = num_classes
    return cfg


def variants(cfg, entry, args):
    """(label, config) pairs to count: as shipped, plus the metafile's 'As released (N
    classes)' variant, which is how the paper counts (Table 6: COCO's 90 label-map classes)."""
    yield '', cfg
    if args.num_classes:
        return
    for key in (entry or {}).get('Ours', {}):
        m = re.fullmatch(r'As released \((\d+) classes\)', key)
        if m:
            yield f' [{m.group(1)} cls]', set_num_classes(cfg, int(m.group(1)))


def main():
    args = parse_args()
    models = metafile.load_models()
    if args.all:
        configs = [e['Config'] for e in models]
    elif args.table:
        configs = [e['Config'] for e in metafile.by_table(args.table, models)]
        if not configs:
            tables = sorted(metafile.group_by_table(models))
            sys.exit(f'error: no config for table {args.table!r}; tables: {tables}')
    else:
        configs = args.configs
    if not configs:
        sys.exit('error: give config files, --table T or --all')
    header = f'{"config":<46} {"paper row":<20} {"params (M)":>10} {"paper":>7} {"diff":>7}'
    print(header + f'  {"MAdds":<27} {"ours":>9} {"paper":>9} {"diff":>7}')
    for path in configs:
        try:
            cfg = Config.fromfile(path)
        except FileNotFoundError:
            sys.exit(f'error: config {path!r} not found')
        entry = metafile.find(path, models) or {}
        paper = entry.get('Paper', {}).get('Results', {}) or {}
        if args.num_classes:
            cfg = set_num_classes(cfg, args.num_classes)
        for label, variant in variants(cfg, entry, args):
            report(variant, entry, paper, args, label, path)


def report(cfg, entry, paper, args, label, path):
    model = build_model(cfg)
    params = count_params(model) / 1e6
    shapes = ({'MAdds': tuple(args.shape)} if args.shape
              else config_input_shapes(cfg, entry))
    row = str(entry.get('Paper', {}).get('Row', '-'))
    p_params = paper.get('Params (M)')
    name = (entry.get('Name', path)[:46 - len(label)] + label)
    line = (f'{name:<46} {row[:20]:<20} {params:>10.3f} '
            f'{p_params if p_params is not None else "-":>7} {fmt_diff(params, p_params):>7}')
    for i, (column, (h, w)) in enumerate(shapes.items()):
        madds = count_madds(model, (1, 3, h, w), tensor_forward)
        # the paper's column of the same name, e.g. 'MAdds (M)' or 'MAdds f (B)'
        if column == 'MAdds':
            match = [k for k in paper if k.startswith('MAdds')]
            key = match[0] if match else ('MAdds (B)' if madds > 5e9 else 'MAdds (M)')
        else:
            key = column
        value = madds / unit_of(key)
        # TF DeepLab's evaluation crop counts compare with the printed column of that name
        p_value = paper.get(key, paper.get(key.replace(' TF crop', '')))
        prefix = line if i == 0 else ' ' * len(line)
        print(f'{prefix}  {key + f" @{h}x{w}":<27} {value:>9.3f} '
              f'{p_value if p_value is not None else "-":>9} {fmt_diff(value, p_value):>7}')

if __name__ == '__main__':
    main()
