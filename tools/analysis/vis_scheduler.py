"""Plot the learning rate and momentum of configs over their whole run, as mmpretrain's
tools/visualizations/vis_scheduler.py does.

    python tools/analysis/vis_scheduler.py CONFIG [CONFIG ...] --out schedule.png \
        [--dataset-size N] [--ngpus N] [--log-lr] [--no-momentum] [--cfg-options k=v ...]

The optim wrapper and the param schedulers are built from each config with mmengine's own
classes on a one-parameter model and stepped through the run the way the runner's
ParamSchedulerHook steps them (iteration-based schedulers after every iteration, epoch-based ones
after every epoch); the value in force at each iteration is recorded. Several configs are drawn
side by side (one column each, learning rate above, momentum below).

Epoch-based runs need the epoch length: --dataset-size (train images; ImageNet 1,281,167, COCO
train2017 with boxes 117,266, Cityscapes train_fine 2,975; a RepeatDataset's ``times`` is
applied) and --ngpus, as mmpretrain's tool. --ngpus defaults to the run the config describes,
auto_scale_lr.base_batch_size / train_dataloader.batch_size, so the plotted rate is the source's;
another GPU count rescales it as mmengine does when auto_scale_lr is enabled. The PNG is written
whole or not at all.
"""
import argparse
import math
import os
import sys
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from mnv3_plugin.apis import ConfigError, load_config  # noqa: E402
from mnv3_plugin.runner_utils import run_cli  # noqa: E402

MAX_POINTS = 20000  # points per curve in the figure (the simulation keeps every iteration)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='+', help='config files, drawn side by side')
    parser.add_argument('--out', required=True, help='PNG file to write')
    parser.add_argument('-d', '--dataset-size', type=int,
                        help='training images per epoch (needed by epoch-based runs)')
    parser.add_argument('-n', '--ngpus', type=int,
                        help='processes (GPUs); default: the run the config describes')
    parser.add_argument('--log-lr', action='store_true', help='logarithmic learning-rate axis')
    parser.add_argument('--no-momentum', action='store_true', help='plot the learning rate only')
    parser.add_argument('--title', help='figure title')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of every config, key=value')
    return parser.parse_args(argv)


def assumed_gpus(cfg) -> int:
    """GPUs of the run the config describes: auto_scale_lr.base_batch_size / batch_size."""
    base = (cfg.get('auto_scale_lr') or {}).get('base_batch_size')
    batch = cfg.train_dataloader.batch_size
    if base and base % batch == 0:
        return base // batch
    return 1


def epoch_length(cfg, dataset_size: int, ngpus: int) -> int:
    """Iterations per epoch of mmengine's DefaultSampler split over ``ngpus`` processes."""
    dataset = cfg.train_dataloader.dataset
    size = dataset_size * (dataset.get('times', 1) if dataset.get('type') == 'RepeatDataset'
                           else 1)
    per_rank = math.ceil(size / ngpus)
    batch = cfg.train_dataloader.batch_size
    if cfg.train_dataloader.get('drop_last', False):
        return per_rank // batch
    return math.ceil(per_rank / batch)


def _by_epoch(cfg) -> bool:
    train_cfg = cfg.train_cfg
    if 'by_epoch' in train_cfg:
        return bool(train_cfg.by_epoch)
    if 'type' in train_cfg:
        return train_cfg.type.split('.')[-1] == 'EpochBasedTrainLoop'
    raise ConfigError('train_cfg says neither by_epoch nor its loop type')


def simulate(cfg, dataset_size=None, ngpus=None, progress=False) -> dict:
    """The learning rate and momentum of each iteration of a config's run.

    Args:
        cfg: A loaded config.
        dataset_size: Training images per epoch (epoch-based runs only).
        ngpus: Processes; default :func:`assumed_gpus`.
        progress: Show a progress bar on stderr.

    Returns:
        dict with ``lr`` and ``momentum`` (numpy arrays, one value per iteration),
        ``by_epoch``, ``epoch_length`` (iterations per epoch, or None), ``ngpus``,
        ``lr_scale`` (the auto_scale_lr factor applied).

    Raises:
        ConfigError: an epoch-based run without ``dataset_size``.
    """
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS, init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmengine'))

    ngpus = ngpus or assumed_gpus(cfg)
    by_epoch = _by_epoch(cfg)
    if by_epoch:
        if not dataset_size:
            raise ConfigError(f'{Path(cfg.filename).name} trains by epoch: pass --dataset-size '
                              '(ImageNet 1281167, COCO train2017 117266, Cityscapes 2975)')
        length = epoch_length(cfg, dataset_size, ngpus)
        max_epochs = cfg.train_cfg.max_epochs
        max_iters = max_epochs * length
    else:
        length, max_iters = None, cfg.train_cfg.max_iters

    optim_cfg = cfg.optim_wrapper.copy()
    if optim_cfg.get('type', 'OptimWrapper').endswith('AmpOptimWrapper'):
        optim_cfg.type = 'OptimWrapper'  # the same rates; AMP needs a GPU
        optim_cfg.pop('loss_scale', None)
    lr_scale = 1.0
    scale_cfg = cfg.get('auto_scale_lr') or {}
    if scale_cfg.get('enable', False) and scale_cfg.get('base_batch_size'):
        # mmengine's Runner.scale_lr: linear in the real batch
        lr_scale = ngpus * cfg.train_dataloader.batch_size / scale_cfg.base_batch_size
        optim_cfg.optimizer.lr = optim_cfg.optimizer.lr * lr_scale
    model = torch.nn.Conv2d(1, 1, 1)
    optim_wrapper = build_optim_wrapper(model, optim_cfg)

    schedulers = []
    sched_cfgs = cfg.get('param_scheduler') or []
    for sched in [sched_cfgs] if isinstance(sched_cfgs, dict) else sched_cfgs:
        sched = sched.copy()
        # the Runner's default end: the whole run in the scheduler's unit
        sched.setdefault('end', cfg.train_cfg.max_epochs if sched.get('by_epoch', True)
                         else max_iters)
        schedulers.append(PARAM_SCHEDULERS.build(
            sched, default_args=dict(optimizer=optim_wrapper, epoch_length=length)))
    iter_scheds = [s for s in schedulers if not s.by_epoch]
    epoch_scheds = [s for s in schedulers if s.by_epoch]

    group = optim_wrapper.optimizer.param_groups[0]
    momentum_key = 'momentum' if 'momentum' in group else ('betas' if 'betas' in group else None)
    lrs, momenta = np.empty(max_iters), np.empty(max_iters)
    bar, ticks = None, 50
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(ticks, file=sys.stderr)
    tick = max(1, max_iters // ticks)
    with warnings.catch_warnings():
        # the schedulers warn that optimizer.step() was never called: nothing is trained here
        warnings.simplefilter('ignore', UserWarning)
        for i in range(max_iters):
            lrs[i] = group['lr']
            if momentum_key == 'betas':
                momenta[i] = group['betas'][0]
            else:
                momenta[i] = group['momentum'] if momentum_key else np.nan
            for s in iter_scheds:
                s.step()
            if by_epoch and (i + 1) % length == 0:
                for s in epoch_scheds:
                    s.step()
            if bar and (i + 1) % tick == 0 and bar.completed < ticks:
                bar.update()
    if bar:
        sys.stderr.write('\n')
    return dict(lr=lrs, momentum=momenta, by_epoch=by_epoch, epoch_length=length, ngpus=ngpus,
                lr_scale=lr_scale)


def plot(runs, out, log_lr=False, momentum=True, title=None):
    """Draw ``runs`` ([(label, simulate() result)]) side by side into ``out``, atomically."""
    rows = 2 if momentum else 1
    fig, axes = plt.subplots(rows, len(runs), figsize=(4.2 * len(runs), 2.6 * rows + 0.6),
                             squeeze=False, sharey='row')
    for col, (label, run) in enumerate(runs):
        n = len(run['lr'])
        stride = max(1, n // MAX_POINTS)
        idx = np.arange(0, n, stride)
        x = idx / run['epoch_length'] if run['by_epoch'] else idx
        unit = 'epoch' if run['by_epoch'] else 'iteration'
        ax = axes[0][col]
        ax.plot(x, run['lr'][idx], linewidth=1.2, drawstyle='steps-post')
        if log_lr:
            ax.set_yscale('log')
        ax.set_title(label, fontsize=9)
        ax.set_ylabel('learning rate' if col == 0 else '')
        ax.grid(alpha=0.3)
        if momentum:
            axm = axes[1][col]
            axm.plot(x, run['momentum'][idx], linewidth=1.2, color='tab:orange')
            axm.set_ylabel('momentum' if col == 0 else '')
            axm.grid(alpha=0.3)
        axes[-1][col].set_xlabel(unit)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out = Path(out)
    fd, tmp = tempfile.mkstemp(suffix='.png', prefix=f'.{out.stem}-', dir=out.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format='png', dpi=80)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a plain file's mode instead
        os.replace(tmp, out)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.remove(tmp)


def label_of(path, run, cfg):
    batch = cfg.train_dataloader.batch_size
    scale = f', lr x{run["lr_scale"]:g}' if run['lr_scale'] != 1 else ''
    return f'{Path(path).stem}\n{run["ngpus"]} GPUs x {batch}{scale}'


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise ConfigError(f'the folder of --out ({out.parent}) does not exist')
    runs = []
    for path in args.configs:
        cfg = load_config(path, args.cfg_options)
        print(f'{Path(path).name}: stepping its schedulers through the run', file=sys.stderr)
        run = simulate(cfg, args.dataset_size, args.ngpus, progress=True)
        runs.append((label_of(path, run, cfg), run))
        unit = f'{run["epoch_length"]} iterations per epoch' if run['by_epoch'] else 'by iteration'
        print(f'  {len(run["lr"])} iterations ({unit}); lr {run["lr"][0]:.6g} at the start, '
              f'max {run["lr"].max():.6g}, {run["lr"][-1]:.6g} at the end', file=sys.stderr)
    plot(runs, out, args.log_lr, not args.no_momentum, args.title)
    print(f'wrote {out}')


if __name__ == '__main__':
    run_cli(main)
