"""What the command-line tools share: the OpenMMLab flags, config loading, one-line errors.

Library code raises exceptions (:class:`~mnv3_plugin.apis.ConfigError`,
:class:`~mnv3_plugin.data_check.DataRootError`, :class:`~mnv3_plugin.converters.ConversionError`);
:func:`run_cli` turns them into ``error: ...`` on stderr and a non-zero exit, never a traceback.
"""
import argparse
import os
import os.path as osp
import sys
import warnings
from typing import Callable, Optional

from mmengine.config import Config, DictAction

from .apis import ConfigError, host_of
from .apis import load_config as _load_config


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """--work-dir, --cfg-options, --launcher and --local-rank, as OpenMMLab's tools."""
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, e.g. '
        'train_dataloader.dataset.data_root=/data/imagenet model.backbone.widen_factor=0.75; '
        'a list value is key="[a,b]" or key=a,b (no white space)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher (tools/dist_*.sh use pytorch)')
    parser.add_argument('--partial-load', action='store_true',
                        help='load checkpoints whose keys or shapes do not all match the model '
                        '(the mismatches are logged); by default a mismatch is an error')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(config: str, cfg_options: Optional[dict] = None, work_dir: Optional[str] = None,
                launcher: str = 'none', local_rank: int = 0) -> Config:
    """Loads a config for a tool: --cfg-options applied, the launcher and work dir set.

    The work dir defaults to ``./work_dirs/<config stem>`` (OpenMMLab's convention).

    Raises:
        ConfigError: the file is missing or does not load.
    """
    os.environ.setdefault('LOCAL_RANK', str(local_rank))
    cfg = _load_config(config, cfg_options)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    return cfg


def config_from_args(args: argparse.Namespace) -> Config:
    """:func:`load_config` from the flags of :func:`add_common_args`, for a config of a
    supported host (raises :class:`~mnv3_plugin.apis.ConfigError` otherwise)."""
    if getattr(args, 'partial_load', False):
        from .checkpoint import PARTIAL_ENV
        os.environ[PARTIAL_ENV] = '1'
    cfg = load_config(args.config, args.cfg_options, args.work_dir, args.launcher,
                      args.local_rank)
    host_of(cfg)
    return cfg


def task_of(cfg: Config) -> str:
    """'mmpretrain', 'mmdet' or 'mmseg', from the config's default scope."""
    return host_of(cfg)


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


def user_errors() -> tuple:
    """The exception types that mean "the user gave something wrong" (one-line errors)."""
    from .batch_check import BatchNormBatchError
    from .checkpoint import CheckpointFileError, CheckpointMismatchError
    from .converters import ConversionError
    from .data_check import DataRootError
    from .deploy.errors import DeployError
    from .models.backbones.options import CheckpointOptionError
    return (ConfigError, DataRootError, ConversionError, CheckpointOptionError,
            CheckpointMismatchError, CheckpointFileError, BatchNormBatchError, DeployError)


def quiet_pkg_resources() -> None:
    """Hides setuptools' "pkg_resources is deprecated" warning, which mmengine, mmcv and the
    hosts trigger once per importing module (dozens per tool call). The stack needs
    pkg_resources (setuptools < 82 is pinned, requirements/build.txt); the tools are the
    project's entry points, so the filter is set there, not on import of the library."""
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated',
                            category=UserWarning)


def run_cli(main: Callable[[], object]) -> None:
    """Runs a tool's ``main``; a user error ends it with ``error: <message>`` and exit code 2.
    The pkg_resources deprecation warnings are filtered (:func:`quiet_pkg_resources`)."""
    quiet_pkg_resources()
    try:
        main()
    except user_errors() as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)


def converter_cli(convert: Callable, source: str, doc: str, note: str = '') -> None:
    """The command line of tools/model_converters/*2mnv3.py: ``SRC DST``; prints the backbone
    options the converted weights need (and ``note``: what the weights cannot tell)."""
    from .converters import convert_file
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help=f'{source} checkpoint (.pth): a state dict or a dict with '
                        "'state_dict' / 'model'")
    parser.add_argument('dst', help='where to write the converted checkpoint')
    parser.add_argument('--in-channels', type=int, default=3,
                        help='input channels of the target backbone (1: grayscale, 4: RGB-D...); '
                        'the RGB stem is summed (1) or repeated and rescaled by 3/N')
    args = parser.parse_args()

    def main():
        if args.in_channels < 1:
            raise SystemExit('error: --in-channels must be positive')
        count = convert_file(args.src, args.dst, convert, source, args.in_channels)
        print(f'converted {count} tensors from {args.src} -> {args.dst}')
        import torch

        from .models.backbones.options import describe
        record = torch.load(args.dst, map_location='cpu', weights_only=False)['meta']['backbone']
        if record:
            print(f'build the backbone as {describe(record)}' + (f'; {note}' if note else ''))
    run_cli(main)
