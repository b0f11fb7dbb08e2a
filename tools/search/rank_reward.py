"""Rank configs by the platform-aware reward of Section 4.1 on this machine's latency.

    python tools/search/rank_reward.py [CONFIG ...] [--table 3] [--figure 7]
        (--target-ms MS | --target-config CONFIG) [--w -0.07] [--acc FILE.json]
        [--backend torch|onnxruntime|openvino] [--runs 50] [--out reward.png] [--json ranking.json]

reward(m) = ACC(m) x [LAT(m)/TAR]^w, w = -0.07 (MnasNet) or -0.15 (MobileNetV3-Small search).
LAT is measured here (one thread, batch 1, median; deploy mode), at each config's metafile input
size, all configs in turn in each of --repeats rounds (a target config among them is measured
once, with them). ACC is the paper's top-1 from the metafile, or from --acc (a JSON {config
name: top-1}, e.g. your own evaluations); configs without an accuracy are listed and left out.
The plot shows every model on the accuracy-latency plane, the Pareto frontier, and the
iso-reward curve of the best model (models above it would out-score it).
"""
import argparse
import json
import os.path as osp
import sys

import torch
from mmengine.config import Config

from mnv3_plugin.search.latency import BACKENDS


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='*')
    parser.add_argument('--table', action='append', default=[],
                        help="every config of a paper table, e.g. 3 (repeatable)")
    parser.add_argument('--figure', action='append', default=[],
                        help='every config of a paper figure, e.g. 7 (the width/resolution '
                        'sweep; repeatable)')
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument('--target-ms', type=float, help='TAR in ms')
    target.add_argument('--target-config', help="TAR = this config's measured latency")
    parser.add_argument('--w', type=float, default=-0.07,
                        help='weight factor: -0.07 (MnasNet) or -0.15 (MobileNetV3-Small)')
    parser.add_argument('--acc', help='JSON {config name: top-1 %%} overriding the metafile')
    parser.add_argument('--backend', default='torch', choices=sorted(BACKENDS),
                        help='torch (deploy mode), or ONNX Runtime / OpenVINO on the exported '
                        'network')
    parser.add_argument('--runs', type=int, default=50)
    parser.add_argument('--repeats', type=int, default=3,
                        help='rounds of measurements; in each, every config (and the target '
                        'config) is measured once, in turn; the smallest median counts')
    parser.add_argument('--out', default='work_dirs/reward/reward_frontier.png')
    parser.add_argument('--json', help='write the ranking here')
    return parser.parse_args()


def select_configs(args, models):
    """The configs to rank: each paper row of --table / --figure (not the recipe siblings and
    int8 configs listed beside a row: the same network), then the configs given."""
    from mnv3_plugin import metafile
    entries = [e for table in args.table for e in metafile.by_table(table, models)]
    entries += [e for fig in args.figure for e in metafile.by_table(f'Figure {fig}', models)]
    configs = [e['Config'] for e in entries] + list(args.configs)
    return list(dict.fromkeys(configs))  # unique, in order


def main():
    args = parse_args()
    if args.w >= 0:
        sys.exit(f'error: --w must be negative (a penalty on latency), got {args.w}')
    torch.set_num_threads(1)
    import mnv3_plugin  # noqa: F401
    from mnv3_plugin import metafile
    from mnv3_plugin.apis import ConfigError
    from mnv3_plugin.search.latency import get_backend, measure_interleaved
    try:
        get_backend(args.backend)
    except ValueError as e:
        sys.exit(f'error: {e}')
    from mnv3_plugin.search.models import build_model
    from mnv3_plugin.search.reward import pareto_front, rank
    models = metafile.load_models()
    configs = select_configs(args, models)
    if not configs:
        sys.exit('error: give configs, --table T or --figure F')
    accs = {}
    if args.acc:
        try:
            with open(args.acc) as f:
                accs = {osp.splitext(osp.basename(k))[0]: float(v) for k, v in json.load(f).items()}
        except (OSError, ValueError) as e:
            sys.exit(f'error: cannot read --acc {args.acc!r}: {e}')

    def load(path):
        if not osp.isfile(path):
            raise ConfigError(f'config {path!r} not found')
        entry = metafile.find(path, models)
        hw = tuple(entry['Ours'][0]['Input'] if entry else (224, 224))
        return build_model(Config.fromfile(path)), hw

    rows, skipped, nets = [], [], {}
    for path in configs:
        name = osp.splitext(osp.basename(path))[0]
        entry = metafile.find(path, models)
        acc = accs.get(name, ((entry or {}).get('Paper', {}).get('Results') or {}).get('Top-1'))
        if acc is None:
            skipped.append(name)
            continue
        rows.append(dict(name=name, acc=float(acc), path=osp.abspath(path)))
        nets[osp.abspath(path)] = load(path)
    if args.target_config:  # measured with the others, once if it is also ranked
        nets.setdefault(osp.abspath(args.target_config), load(args.target_config))
    # all networks measured in turn, round after round (the load of a shared machine drifts
    # over minutes: networks measured minutes apart are not comparable)
    measured = {}
    for hw in dict.fromkeys(h for _, h in nets.values()):
        group = {path: model for path, (model, h) in nets.items() if h == hw}
        measured.update(measure_interleaved(group, hw, args.backend, runs=args.runs,
                                            rounds=args.repeats))
    target = args.target_ms
    if args.target_config:
        target = measured[osp.abspath(args.target_config)]
        print(f'target: {osp.basename(args.target_config)} = {target:.3f} ms')
    for r in rows:
        r['latency_ms'] = measured[r.pop('path')]
        print(f'  measured {r["name"]}: {r["latency_ms"]:.3f} ms', flush=True)
    if not rows:
        sys.exit(f'error: no accuracy for any of {skipped}; give --acc FILE.json')
    ranked = rank(rows, target, args.w)
    front = {rows[i]['name'] for i in pareto_front([(r['latency_ms'], r['acc']) for r in rows])}
    print(f'\nreward = top-1 x (latency / {target:.3f} ms)^{args.w}   ({args.backend}, 1 thread, '
          f'batch 1)')
    print(f'{"rank":>4}  {"config":<40} {"top-1":>6} {"ms":>9} {"reward":>8}  frontier')
    for i, r in enumerate(ranked, 1):
        r['frontier'] = r['name'] in front
        print(f'{i:>4}  {r["name"][:40]:<40} {r["acc"]:>6.2f} {r["latency_ms"]:>9.3f} '
              f'{r["reward"]:>8.3f}  {"*" if r["frontier"] else ""}')
    if skipped:
        print(f'no accuracy (left out; give --acc): {", ".join(skipped)}')
    plot(ranked, target, args.w, args.out)
    print(f'plot: {args.out}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(target_ms=target, w=args.w, backend=args.backend, ranking=ranked), f,
                      indent=1)


def plot(ranked, target, w, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = np.array([r['latency_ms'] for r in ranked])
    ys = np.array([r['acc'] for r in ranked])
    ax.scatter(xs, ys, c='C0', s=18, zorder=3)
    for r in ranked:
        ax.annotate(r['name'].replace('_imagenet', ''), (r['latency_ms'], r['acc']),
                    textcoords='offset points', xytext=(3, 3), fontsize=6)
    front = sorted((r for r in ranked if r['frontier']), key=lambda r: r['latency_ms'])
    ax.plot([r['latency_ms'] for r in front], [r['acc'] for r in front], '-', c='C0',
            label='Pareto frontier')
    best = ranked[0]
    grid = np.linspace(xs.min() * 0.9, xs.max() * 1.1, 100)
    # acc x (lat/T)^w = R  <=>  acc = R x (lat/T)^-w
    ax.plot(grid, best['reward'] * (grid / target) ** (-w), '--', c='C1',
            label=f'iso-reward of the best ({best["name"]}), w={w}')
    ax.axvline(target, c='C3', ls=':', label=f'target {target:.2f} ms')
    ax.set_xlabel('latency (ms, measured here, 1 thread, batch 1)')
    ax.set_ylabel('top-1 (%)')
    ax.set_title('Platform-aware reward (Section 4.1)')
    ax.legend(fontsize=7)
    fig.tight_layout()
    from mnv3_plugin.search.latency import write_atomically
    write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=100, format='png'))
    plt.close(fig)


if __name__ == '__main__':
    from mnv3_plugin.runner_utils import run_cli
    run_cli(main)
