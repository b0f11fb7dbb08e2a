"""Train a classifier, detector or segmenter from a config (OpenMMLab's tools/train.py flags).

    python tools/train.py configs/segmentation/lraspp_v3large_os16_cityscapes.py
    python tools/train.py CONFIG --work-dir DIR --resume [CKPT] --amp --auto-scale-lr \
        --cfg-options key=value ... --launcher {none,pytorch,slurm,mpi}

Multi-process: tools/dist_train.sh (torchrun) and tools/slurm_train.sh. On a machine without
GPUs the processes run on the CPU with the gloo backend.
"""
import argparse

from mnv3_plugin.runner_utils import add_common_args, config_from_args, run_cli


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from this checkpoint, or (no value) from the latest '
                        'checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision training (GPU only)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate linearly with the real batch size '
                        '(auto_scale_lr.base_batch_size in the config)')
    parser.add_argument('--no-data-check', action='store_true',
                        help='skip the check that the dataset is where the config says')
    add_common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = config_from_args(args)
    if args.amp:
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('error: --amp needs a GPU (mmengine\'s AmpOptimWrapper runs on '
                             'CUDA/NPU/MLU only); on the CPU train without --amp')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise SystemExit('error: --auto-scale-lr needs auto_scale_lr.base_batch_size in '
                             'the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if not args.no_data_check:
        # the loaders training uses, all at once (the test split is tools/test.py's: a Table 8
        # config trains on train_fine without the unlabelled test images on disk)
        from mnv3_plugin.data_check import check_data
        from mnv3_plugin.deploy.quantize import check_int8_data, is_int8_config
        loaders = (['train_dataloader', 'val_dataloader'] if cfg.get('val_cfg') is not None
                   else ['train_dataloader'])
        if is_int8_config(cfg):  # one line, with the calibration loader
            check_int8_data(cfg, loaders)
        else:
            check_data(cfg, loaders=loaders)

    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from mnv3_plugin.batch_check import BatchNormCheckHook
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    # a BN that cannot train at this batch size fails before any weight is updated
    runner.register_hook(BatchNormCheckHook())
    runner.train()


if __name__ == '__main__':
    run_cli(main)
