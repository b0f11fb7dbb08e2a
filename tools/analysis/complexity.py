"""Params and multiply-adds of configs, beside the paper's numbers from configs/metafile.yml.

    python tools/analysis/complexity.py CONFIG [CONFIG ...] [--shape H W] [--num-classes N]
    python tools/analysis/complexity.py --table 3        # every config of a paper table
    python tools/analysis/complexity.py --all
    python tools/analysis/complexity.py CONFIG --cfg-options model.backbone.widen_factor=0.5

MAdds count every conv and FC layer (SE included), the paper's convention. Each config is counted
at the input sizes and class counts its metafile entry records (``Ours``), or at --shape and
--num-classes; where the entry compares a count with a printed column, that column and the
difference are shown.
"""
import argparse

from mmengine.config import DictAction

from mnv3_plugin import metafile
from mnv3_plugin.analysis import config_complexity
from mnv3_plugin.apis import ConfigError, load_config
from mnv3_plugin.runner_utils import run_cli


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='*', help='config files')
    parser.add_argument('--table', help="every config of a paper table ('3', '5', '6', '7', "
                        "'8', 'Figure 7')")
    parser.add_argument('--all', action='store_true', help='every config in the metafile')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input size (default: as recorded in the metafile, else 224 224)')
    parser.add_argument('--num-classes', type=int, help="count with this many classes (default: "
                        "as recorded in the metafile, else the config's)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of every config, e.g. '
                        'model.backbone.widen_factor=0.5 (counted without the paper comparison)')
    return parser.parse_args()


def fmt_diff(ours, paper):
    if not isinstance(paper, (int, float)) or not paper:
        return '-'
    return f'{100 * (ours - paper) / paper:+.1f}%'


def measurements(entry, args):
    """(Input, Num Classes, Paper Columns) to count a config at."""
    if args.shape or args.num_classes or args.cfg_options or not entry:
        shape = args.shape or (entry['Ours'][0]['Input'] if entry else (224, 224))
        return [(tuple(shape), args.num_classes, {})]
    return [(tuple(m['Input']), m['Num Classes'], m.get('Paper Columns') or {})
            for m in entry['Ours']]


def main():
    args = parse_args()
    models = metafile.load_models()
    if args.all:
        configs = [e['Config'] for e in models]
    elif args.table:
        configs = [e['Config'] for e in metafile.by_table(args.table, models)]
        if not configs:
            tables = sorted(metafile.group_by_table(models))
            raise ConfigError(f'no config for table {args.table!r}; tables: {tables}')
    else:
        configs = args.configs
    if not configs:
        raise ConfigError('give config files, --table T or --all')
    entries = [metafile.find(path, models) for path in configs]
    rows = [str((entry or {}).get('Paper', {}).get('Row', '-')) for entry in entries]
    width = max([9] + [len(row) for row in rows])  # the paper's row, never cut
    print(f'{"config":<46} {"paper row":<{width}} {"input":>9} {"cls":>4} {"params (M)":>10} '
          f'{"paper":>6} {"diff":>6}  {"MAdds":>9} {"paper":>14} {"diff":>6}')
    for path, entry, row in zip(configs, entries, rows):
        cfg = load_config(path, args.cfg_options)
        results = (entry or {}).get('Paper', {}).get('Results') or {}
        name = (entry or {}).get('Name', path)
        for (h, w), classes, columns in measurements(entry, args):
            counts = config_complexity(cfg, (h, w), classes)
            params = counts['params'] / 1e6
            madds_key = next((k for k in columns if k.startswith('MAdds')),
                             'MAdds (B)' if counts['madds'] > 5e9 else 'MAdds (M)')
            madds = counts['madds'] / metafile.UNITS[madds_key]
            p_params = results.get(columns.get('Params (M)'))
            p_column = columns.get(madds_key)
            p_madds = results.get(p_column)
            unit = madds_key[-2]
            paper_madds = f'{p_madds}{unit} ({p_column.split()[1]})' if p_madds is not None \
                and p_column != madds_key else (f'{p_madds}{unit}' if p_madds is not None else '-')
            print(f'{name[:46]:<46} {row:<{width}} {f"{h}x{w}":>9} {classes or "cfg":>4} '
                  f'{params:>10.3f} {p_params if p_params is not None else "-":>6} '
                  f'{fmt_diff(params, p_params):>6}  {madds:>8.2f}{unit} {paper_madds:>14} '
                  f'{fmt_diff(madds, p_madds):>6}')


if __name__ == '__main__':
    run_cli(main)
