"""The per-block latency lookup table (NetAdapt) against direct measurement of whole networks.

    python tools/search/latency_table.py CONFIG [CONFIG ...] [--backend torch] [--shape H W]
        [--runs 50] [--lut FILE] [--breakdown]

For each config: the network's latency measured directly (Section 6.1.2 protocol: one thread,
batch 1, warm-up, median), the sum of its blocks' table entries, and the table's error. Entries
missing from the table are measured and the table is saved (default
work_dirs/netadapt/latency_lut_<backend>.json, the table tools/search/netadapt.py can reuse with
--lut).
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.config import Config


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='+', help='classification configs')
    parser.add_argument('--backend', default='torch')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help="input size (default: the config's img_size or 224)")
    parser.add_argument('--runs', type=int, default=50)
    parser.add_argument('--repeats', type=int, default=3,
                        help='direct measurements per network (their median is reported)')
    parser.add_argument('--lut', help='table JSON (default work_dirs/netadapt/latency_lut_'
                        '<backend>.json)')
    parser.add_argument('--breakdown', action='store_true', help='print every entry used')
    return parser.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(1)
    import mnv3_plugin  # noqa: F401
    from mnv3_plugin.search.latency import BlockLUT, measure_network
    from mnv3_plugin.search.models import build_model
    lut_path = args.lut or osp.join('work_dirs', 'netadapt', f'latency_lut_{args.backend}.json')
    try:
        lut = BlockLUT(lut_path, args.backend, runs=args.runs)
    except ValueError as e:
        sys.exit(f'error: {e}')
    print(f'{"config":<40} {"input":>9} {"direct ms":>10} {"table ms":>9} {"error":>7}  '
          f'({args.backend}, 1 thread, batch 1, median of {args.runs})')
    for path in args.configs:
        if not osp.isfile(path):
            sys.exit(f'error: config {path!r} not found')
        cfg = Config.fromfile(path)
        size = cfg.get('img_size', 224)
        hw = tuple(args.shape or (size if isinstance(size, (list, tuple)) else (size, size)))
        model = build_model(cfg)
        import statistics
        direct = statistics.median(measure_network(model, hw, args.backend, runs=args.runs)
                                   for _ in range(args.repeats))
        parts = lut.breakdown(model, hw)
        table = sum(ms for _, ms in parts)
        lut.save()
        name = osp.splitext(osp.basename(path))[0]
        print(f'{name[:40]:<40} {f"{hw[0]}x{hw[1]}":>9} {direct:>10.3f} {table:>9.3f} '
              f'{100 * (table - direct) / direct:>+6.1f}%', flush=True)
        if args.breakdown:
            for key, ms in parts:
                print(f'    {ms:8.3f}  {key}')
    print(f'table: {lut_path} ({len(lut.entries)} entries, {lut.measured} measured now)')


if __name__ == '__main__':
    main()
