"""Latency in the paper's protocol (Section 6.1.2): one thread, batch 1, warm-up, median.

    python tools/analysis/latency.py CONFIG [CONFIG ...] [--shape H W] [--runs 50] [--deploy]
    python tools/analysis/latency.py --table 5 --deploy

Times the network forward (no data loading, no post-processing) at the config's first recorded
input size (the metafile's ``Ours``) or --shape. --deploy times the model in deploy mode
(:func:`mnv3_plugin.apis.switch_to_deploy`: BN folded everywhere, the backbone channels-last).
"""
import argparse

import torch

from mnv3_plugin import metafile
from mnv3_plugin.analysis import measure_latency
from mnv3_plugin.apis import ConfigError, build_model, switch_to_deploy
from mnv3_plugin.runner_utils import run_cli


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='*', help='config files')
    parser.add_argument('--table', help="every config of a paper table ('3', '5', ...)")
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'))
    parser.add_argument('--runs', type=int, default=50)
    parser.add_argument('--warmup', type=int, default=10)
    parser.add_argument('--threads', type=int, default=1, help='the paper uses one')
    parser.add_argument('--deploy', action='store_true', help='fold BN, channels-last')
    return parser.parse_args()


def main():
    args = parse_args()
    models = metafile.load_models()
    configs = ([e['Config'] for e in metafile.by_table(args.table, models)] if args.table
               else args.configs)
    if not configs:
        raise ConfigError('give config files or --table T')
    print(f'{"config":<46} {"input":>10} {"ms":>9}  (threads={args.threads}, batch 1, median of '
          f'{args.runs}, {"deploy" if args.deploy else "eval"} mode)')
    for path in configs:
        entry = metafile.find(path, models)
        h, w = args.shape or (entry['Ours'][0]['Input'] if entry else (224, 224))
        model = build_model(path)
        if args.deploy:
            switch_to_deploy(model)
        x = torch.randn(1, 3, h, w)
        ms = measure_latency(lambda: model(x, mode='tensor'), args.warmup, args.runs,
                             args.threads)
        print(f'{(entry or {}).get("Name", path)[:46]:<46} {f"{h}x{w}":>10} {ms:>9.2f}')


if __name__ == '__main__':
    run_cli(main)
