"""What tools/train.py and tools/test.py share: config loading and the OpenMMLab CLI flags."""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, e.g. '
        'train_dataloader.dataset.data_root=/data/imagenet model.backbone.widen_factor=0.75; '
        'a list value is key="[a,b]" or key=a,b (no white space)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher (tools/dist_*.sh use pytorch)')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """Loads ``args.config`` and applies --cfg-options, --work-dir and --launcher."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if not osp.isfile(args.config):
        sys.exit(f'error: config file {args.config!r} not found (configs are under '
                 f'configs/classification, configs/detection and configs/segmentation)')
    import mnv3_plugin  # noqa: F401  (compatibility fixes and the registry scope)
    try:
        cfg = Config.fromfile(args.config)
    except Exception as e:  # a broken config: say which file and why, not a deep traceback
        sys.exit(f'error: cannot load config {args.config!r}: {type(e).__name__}: {e}')
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def task_of(cfg: Config) -> str:
    """'mmpretrain', 'mmdet' or 'mmseg', from the config's default scope."""
    scope = cfg.get('default_scope')
    if scope not in ('mmpretrain', 'mmdet', 'mmseg'):
        sys.exit(f'error: the config\'s default_scope is {scope!r}; expected mmpretrain, mmdet '
                 f'or mmseg (inherit a host default_runtime.py)')
    return scope


def enable_show_dir(cfg: Config, show_dir: str, show: bool = False,
                    wait_time: float = 2.0) -> None:
    """Turns on the host's visualization hook so predictions are drawn into ``show_dir``."""
    task = task_of(cfg)
    hooks = cfg.default_hooks
    if task == 'mmpretrain':
        hooks.visualization = dict(type='VisualizationHook', enable=True, interval=1,
                                   out_dir=show_dir, show=show, wait_time=wait_time)
    elif task == 'mmdet':
        hooks.visualization = dict(type='DetVisualizationHook', draw=True, interval=1,
                                   test_out_dir=show_dir, show=show, wait_time=wait_time)
    else:
        hooks.visualization = dict(type='SegVisualizationHook', draw=True, interval=1,
                                   show=show, wait_time=wait_time)
        cfg.visualizer['save_dir'] = show_dir
        # mmseg's hook writes through the visualizer's backends into <save_dir>/vis_data/...
        cfg.visualizer['vis_backends'] = [dict(type='LocalVisBackend')]


