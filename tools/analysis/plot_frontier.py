"""Figure 1/2-style plots: top-1 against MAdds or latency for the configs in the metafile.

    python tools/analysis/plot_frontier.py --x madds --out frontier_madds.png
    python tools/analysis/plot_frontier.py --x latency --measure --out frontier_latency.png

Each configuration with a top-1 in the metafile is plotted twice: the paper's point (its printed
MAdds, or its Pixel-1 latency) and this plugin's (our counted MAdds, or latency measured here in
the paper's protocol with --measure), at the top-1 the paper reports (``Ours.Top-1`` where a
config has been trained). Points of one network family are joined, as in the paper's figures.
"""
import argparse
import re
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from mnv3_plugin import metafile  # noqa: E402
from mnv3_plugin.runner_utils import run_cli  # noqa: E402


def family(entry):
    row = str(entry['Paper']['Row'])
    return re.sub(r'\s+[0-9.]+$', '', row.split(',')[0]).strip() or row


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--x', choices=['madds', 'latency'], default='madds')
    parser.add_argument('--table', default='3', help='paper table to plot (default 3)')
    parser.add_argument('--measure', action='store_true',
                        help='measure our latency here (one thread, batch 1) for --x latency')
    parser.add_argument('--out', default='frontier.png', help='PNG file to write')
    return parser.parse_args()


def main():
    args = parse_args()
    entries = [e for e in metafile.by_table(args.table)
               if 'Top-1' in (e['Paper'].get('Results') or {})]
    if not entries:
        sys.exit(f'error: no config of table {args.table!r} has a Top-1 in the metafile')
    points = {}
    for e in entries:
        paper = e['Paper']['Results']
        top1 = paper['Top-1']
        ours = e['Ours'][0]
        ours_top1 = ours.get('Top-1', top1)
        if args.x == 'madds':
            xs = (paper.get('MAdds (M)'), ours.get('MAdds (M)'))
        else:
            ours_ms = None
            if args.measure:
                import torch

                from mnv3_plugin.analysis import measure_latency
                from mnv3_plugin.apis import build_model, switch_to_deploy
                model = switch_to_deploy(build_model(e['Config']))
                x = torch.randn(1, 3, *ours['Input'])
                ours_ms = measure_latency(lambda: model(x, mode='tensor'), 5, 20)
            xs = (paper.get('P-1 (ms)'), ours_ms)
        points.setdefault(family(e), []).append((xs, (top1, ours_top1), e['Name']))
    fig, ax = plt.subplots(figsize=(7, 5))
    for i, (fam, pts) in enumerate(points.items()):
        color = f'C{i}'
        pts.sort(key=lambda p: p[0][0] or p[0][1] or 0)
        paper = [(x[0], y[0]) for x, y, _ in pts if x[0] is not None]
        ours = [(x[1], y[1]) for x, y, _ in pts if x[1] is not None]
        if paper:
            ax.plot(*zip(*paper), 'o-', color=color, label=f'{fam} (paper)')
        if ours:
            ax.plot(*zip(*ours), 'x--', color=color, label=f'{fam} (mnv3_plugin)')
    ax.set_xlabel('multiply-adds (M)' if args.x == 'madds' else
                  'latency (ms; paper: Pixel-1, ours: this CPU, 1 thread)')
    ax.set_ylabel('ImageNet top-1 (%)')
    ax.set_title(f'Table {args.table}: top-1 vs {"MAdds" if args.x == "madds" else "latency"}')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f'wrote {args.out} ({sum(len(p) for p in points.values())} configs, '
          f'{len(points)} families)')


if __name__ == '__main__':
    run_cli(main)
