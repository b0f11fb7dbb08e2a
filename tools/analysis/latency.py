"""Latency in the paper's protocol (Section 6.1.2): one thread, batch 1, warm-up, median.

    python tools/analysis/latency.py CONFIG [CONFIG ...] [--shape H W] [--runs 50] [--deploy]
    python tools/analysis/latency.py --table 5 --deploy
    python tools/analysis/latency.py CONFIG --backend onnxruntime|openvino [--int8]

Times the network forward (no data loading, no post-processing) at the config's first recorded
input size (the metafile's ``Ours``) or --shape. --deploy times the model in deploy mode
(:func:`mnv3_plugin.apis.switch_to_deploy`: BN folded everywhere, the backbone channels-last).

--backend torch (default) is eager PyTorch as above; onnxruntime and openvino export the
BN-folded network to ONNX first (a temporary file) and time it on that runtime's CPU backend
with one thread; --int8 (openvino) quantizes it with NNCF post-training quantization first,
calibrated on fixture images of the task's format (enough for timing; accuracy needs the
config's own data: tools/deployment/quantize.py).
"""
import argparse
import sys

import torch

from mnv3_plugin import metafile
from mnv3_plugin.analysis import measure_latency
from mnv3_plugin.apis import ConfigError, build_model, load_config, switch_to_deploy
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
    parser.add_argument('--backend', default='torch',
                        help='torch (default), onnxruntime or openvino')
    parser.add_argument('--int8', action='store_true',
                        help='NNCF post-training int8 (--backend openvino)')
    parser.add_argument('--checkpoint', help='weights to load (default: random)')
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in every config, e.g. '
                        'model.bbox_head.anchor_generator.input_size="(256, 256)"')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.backend != 'torch' or args.int8:
        return main_runtime(args)
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
        model = build_model(load_config(path, args.cfg_options))
        if args.deploy:
            switch_to_deploy(model)
        x = torch.randn(1, 3, h, w)
        ms = measure_latency(lambda: model(x, mode='tensor'), args.warmup, args.runs,
                             args.threads)
        print(f'{(entry or {}).get("Name", path)[:46]:<46} {f"{h}x{w}":>10} {ms:>9.2f}')


def main_runtime(args):
    """--backend onnxruntime / openvino [--int8]: one line per config, or one error line."""
    from mnv3_plugin.deploy import DeployError
    from mnv3_plugin.deploy.images import check_inputs
    from mnv3_plugin.deploy.latency import prepare
    from mnv3_plugin.deploy.model import check_shape, default_input_shape, load_model, task_of
    from mnv3_plugin.deploy.runtime import require_backend
    try:
        require_backend(args.backend)
        if args.int8 and args.backend != 'openvino':
            raise DeployError(f'--int8 runs on --backend openvino (NNCF int8 has a real '
                              f'speed-up there); {args.backend} times fp32 only')
        if args.int8:
            from mnv3_plugin.deploy.errors import require
            require('nncf', '--int8')
        models = metafile.load_models()
        configs = ([e['Config'] for e in metafile.by_table(args.table, models)] if args.table
                   else args.configs)
        if not configs:
            raise DeployError('give config files or --table T')
        mode = f'{args.backend}{" int8" if args.int8 else " fp32"}'
        print(f'{"config":<46} {"input":>10} {"ms":>9}  (threads={args.threads}, batch 1, '
              f'median of {args.runs}, {mode})')
        for path in configs:
            cfg = load_config(path, args.cfg_options)
            entry = metafile.find(path, models)
            h, w = args.shape or default_input_shape(cfg)
            model = load_model(cfg, args.checkpoint)
            check_shape(model, (h, w))
            calib = check_inputs(model, task_of(model), (h, w), 4) if args.int8 else None
            run = prepare(model, args.backend, (h, w), args.int8, calib, args.threads)
            try:
                ms = measure_latency(run, args.warmup, args.runs, args.threads)
            finally:
                run.close()
            print(f'{(entry or {}).get("Name", path)[:46]:<46} {f"{h}x{w}":>10} {ms:>9.2f}')
    except DeployError as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    run_cli(main)
