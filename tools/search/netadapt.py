"""NetAdapt (Section 4.2): adapt a network to a latency target on this machine.

    python tools/search/netadapt.py CONFIG --checkpoint CKPT (--target-ms MS | --target-ratio R)
        [--backend torch|onnxruntime|openvino] [--iters-per-proposal T] [--work-dir DIR]
        [--metric ratio|accuracy]
        [--latency-shape H W] [--delta-ratio 0.01] [--holdout-fraction F] [--max-steps N]
        [--runs N] [--lut FILE] [--lut-repeats K] [--stop-margin M]
        [--cfg-options key=value ...]

Each step proposes one width cut per expansion layer and per residual group (each saving at
least 1% of the seed's latency by the block lookup table), fine-tunes every proposal for T
iterations with the config's recipe, scores it on a held-out part of the training set (every
k-th image, k = 1 / F: the seed must not have trained on them) and keeps the best by
dAcc/|dLatency|, until the measured latency is at or below the target. The checkpoint must be
the seed trained with this config (no partial load). Writes to the work dir (default
work_dirs/netadapt/<config stem>): <config stem>_netadapt.py (the adapted network: train it
with tools/train.py), netadapt_log.json, step_<k>.pth, trajectory.png and the latency table
latency_lut_<backend>.json, each atomically. Run the same command again to resume (after
Ctrl-C too: the finished proposals are kept).
"""
import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

from mnv3_plugin.runner_utils import run_cli
from mnv3_plugin.search.latency import BACKENDS


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the seed: a classification config')
    parser.add_argument('--checkpoint', required=True, help="the seed's trained weights")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument('--target-ms', type=float, help='target latency in ms')
    target.add_argument('--target-ratio', type=float,
                        help="target as a fraction of the seed's measured latency, e.g. 0.8")
    parser.add_argument('--backend', default='torch', choices=sorted(BACKENDS),
                        help='latency backend: torch (deploy mode), or the network exported to '
                        'ONNX and run by ONNX Runtime or OpenVINO (mnv3_plugin.deploy\'s '
                        'runtimes; the lookup table times each block exported alone)')
    parser.add_argument('--iters-per-proposal', type=int, default=100, metavar='T',
                        help='fine-tune iterations per proposal (the paper: 10000)')
    parser.add_argument('--work-dir', help='default: work_dirs/netadapt/<config stem>')
    parser.add_argument('--metric', choices=['ratio', 'accuracy'], default='ratio',
                        help='ratio: max dAcc/|dLatency| (the paper); accuracy: the original '
                        "NetAdapt's smallest accuracy drop")
    parser.add_argument('--latency-shape', type=int, nargs=2, metavar=('H', 'W'),
                        help="input size for latency (default: the config's img_size or 224)")
    parser.add_argument('--delta-ratio', type=float, default=0.01,
                        help="least latency cut per proposal, as a fraction of the seed's "
                        'latency (the paper: 0.01)')
    parser.add_argument('--holdout-fraction', type=float, default=0.2,
                        help='part of the training set that scores the proposals')
    parser.add_argument('--max-steps', type=int, help='stop after this many steps')
    parser.add_argument('--runs', type=int, default=50, help='timed runs per measurement')
    parser.add_argument('--stop-margin', type=float, default=0.0, metavar='M',
                        help='stop at target x (1 - M) instead of the target (default 0, the '
                        'paper): room for measurement noise, so that the adapted network '
                        'measured again is still at or below the target')
    parser.add_argument('--lut-repeats', type=int, default=1, metavar='K',
                        help='each lookup-table entry is the smallest of K medians (more '
                        'robust on a loaded machine)')
    parser.add_argument('--lut', help='latency table JSON (default: in the work dir)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override settings in the config, key=value')
    return parser.parse_args()


def interrupted(work_dir: str) -> str:
    """The one line printed on Ctrl-C: what is saved (every file is written atomically)."""
    from mnv3_plugin.search.netadapt import LOG_NAME, PARTIAL_NAME
    saved = [f for f in (LOG_NAME, PARTIAL_NAME) if osp.isfile(osp.join(work_dir, f))]
    if not saved:
        return ('interrupted before the seed was measured: nothing of the search is saved yet; '
                'run the same command to start again')
    return (f'interrupted: the finished steps and proposals are saved in {work_dir} '
            f'({", ".join(saved)}); run the same command to resume')


def search(args, work_dir: str) -> None:
    if args.target_ratio is not None and not 0 < args.target_ratio < 1:
        sys.exit(f'error: --target-ratio must be in (0, 1), got {args.target_ratio}')
    if args.target_ms is not None and args.target_ms <= 0:
        sys.exit(f'error: --target-ms must be positive, got {args.target_ms}')
    if args.iters_per_proposal < 0:
        sys.exit('error: --iters-per-proposal must be >= 0')
    import torch
    torch.set_num_threads(1)  # the paper's latency protocol; fine-tunes run on one thread too
    from mnv3_plugin.deploy.errors import DeployError
    from mnv3_plugin.runner_utils import load_config
    from mnv3_plugin.search.netadapt import NetAdapt, SearchError, Settings
    cfg = load_config(args.config, args.cfg_options)  # ConfigError: one line (run_cli)
    size = cfg.get('img_size', 224)
    hw = tuple(args.latency_shape or (size if isinstance(size, (list, tuple)) else (size, size)))
    settings = Settings(config=args.config, checkpoint=args.checkpoint,
                        target_ms=args.target_ms, target_ratio=args.target_ratio,
                        backend=args.backend, iters=args.iters_per_proposal, metric=args.metric,
                        delta_ratio=args.delta_ratio,
                        latency_hw=hw, holdout_fraction=args.holdout_fraction, runs=args.runs,
                        seed=args.seed, stop_margin=args.stop_margin,
                        lut_repeats=args.lut_repeats,
                        extra=dict(cfg_options=args.cfg_options))
    try:
        # DataRootError (the training set is not on disk) is raised before any work: run_cli
        search = NetAdapt(cfg, settings, work_dir, lut_path=args.lut, max_steps=args.max_steps,
                          progress=not args.no_progress)
        state = search.run()
    except (SearchError, ValueError, DeployError) as e:
        sys.exit(f'error: {e}')
    last = state['steps'][-1] if state['steps'] else state['seed']
    seed = state['seed']
    print(f'{state["reason"]}; latency {last["relative_ms"]:.3f} ms (seed '
          f'{seed["measured_ms"]:.3f} ms, target {state["target_ms"]:.3f} ms), held-out acc '
          f'{last["acc"]:.2f}% (seed {seed["acc"]:.2f}%)')
    print(f'adapted config: {osp.join(work_dir, state["adapted_config"])}')
    print(f'log: {osp.join(work_dir, "netadapt_log.json")}; plot: '
          f'{osp.join(work_dir, state["plot"])}')
    if not state['done']:
        sys.exit(2 if args.max_steps is None else 0)


def main():
    args = parse_args()
    work_dir = args.work_dir or osp.join(
        'work_dirs', 'netadapt', osp.splitext(osp.basename(args.config))[0])
    try:
        search(args, work_dir)
    except KeyboardInterrupt:
        print(interrupted(work_dir), file=sys.stderr)
        sys.exit(130)


if __name__ == '__main__':
    run_cli(main)
