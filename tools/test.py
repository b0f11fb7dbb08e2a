"""Evaluate a checkpoint on a config's test set (OpenMMLab's tools/test.py flags).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl] [--show-dir DIR]
        [--show] [--cfg-options key=value ...] [--launcher {none,pytorch,slurm,mpi}]

--out dumps the raw predictions with mmengine's DumpResults; --show-dir draws predictions with
the host's visualizer (mmpretrain, mmdet or mmseg) into DIR under the work dir.
"""
import argparse
import os.path as osp

from mnv3_plugin.runner_utils import add_common_args, config_from_args, enable_show_dir, run_cli


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump predictions to this pickle file')
    parser.add_argument('--show-dir', help='draw predictions into this directory (relative '
                        'to the work dir unless absolute)')
    parser.add_argument('--show', action='store_true', help='show predictions in a window')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds each is shown')
    parser.add_argument('--no-data-check', action='store_true',
                        help='skip the check that the dataset is where the config says')
    add_common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = config_from_args(args)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'error: checkpoint {args.checkpoint!r} not found (nothing is '
                         'downloaded; train one with tools/train.py or convert one with '
                         'tools/model_converters/)')
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        enable_show_dir(cfg, osp.join(cfg.work_dir, args.show_dir or 'show'), args.show,
                        args.wait_time)
    if args.out:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise SystemExit('error: --out must be a .pkl or .pickle file')
        evaluators = cfg.test_evaluator
        evaluators = list(evaluators) if isinstance(evaluators, (list, tuple)) else [evaluators]
        evaluators.append(dict(type='DumpResults', out_file_path=args.out))
        cfg.test_evaluator = evaluators
    if not args.no_data_check:
        from mnv3_plugin.data_check import check_data
        from mnv3_plugin.deploy.quantize import check_int8_data, is_int8_config
        if is_int8_config(cfg):  # one line, with the calibration data an fp32 checkpoint needs
            check_int8_data(cfg, ['test_dataloader'], args.checkpoint)
        else:
            check_data(cfg, loaders=['test_dataloader'])

    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    metrics = runner.test()
    print('metrics:', {k: round(v, 4) if isinstance(v, float) else v for k, v in
                       metrics.items()})


if __name__ == '__main__':
    run_cli(main)
