"""The per-block latency lookup table (NetAdapt) against direct measurement of whole networks.

    python tools/search/latency_table.py CONFIG [CONFIG ...] [--calibrate-on CONFIG ...]
        [--backend torch|onnxruntime|openvino] [--shape H W] [--runs 50] [--repeats 3]
        [--lut FILE] [--breakdown]

For each config: the network's latency measured directly (Section 6.1.2 protocol: one thread,
batch 1, warm-up, median; the smallest of --repeats medians), the sum of its blocks' table
entries (NetAdapt's estimate, less the backend's per-call overhead for all parts but one) and
its error, and, with --calibrate-on, the sum corrected by a
factor (direct ~= scale x sum) fitted on *those* networks, and its error. Entries missing
from the table are measured and the table (with the calibration) is saved, by default to
work_dirs/netadapt/latency_lut_<backend>.json. On onnxruntime and openvino the network is exported
to ONNX and run by mnv3_plugin.deploy's runtimes; each table entry is its block exported alone.
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.config import Config

from mnv3_plugin.search.latency import BACKENDS


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='+', help='classification configs to report')
    parser.add_argument('--calibrate-on', nargs='+', default=[], metavar='CONFIG',
                        help='fit the correction factor on these configs (keep them apart from '
                        'the reported ones)')
    parser.add_argument('--backend', default='torch', choices=sorted(BACKENDS))
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help="input size (default: the config's img_size or 224)")
    parser.add_argument('--runs', type=int, default=50)
    parser.add_argument('--repeats', type=int, default=3)
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

    def load(path):
        if not osp.isfile(path):
            sys.exit(f'error: config {path!r} not found')
        cfg = Config.fromfile(path)
        size = cfg.get('img_size', 224)
        hw = tuple(args.shape or (size if isinstance(size, (list, tuple)) else (size, size)))
        return osp.splitext(osp.basename(path))[0], build_model(cfg), hw

    calibrated = bool(args.calibrate_on)
    if calibrated:
        nets = [load(p) for p in args.calibrate_on]
        if len({hw for _, _, hw in nets}) > 1:
            sys.exit('error: --calibrate-on configs must share one input size (use --shape)')
        try:
            cal = lut.calibrate([(n, m) for n, m, _ in nets], nets[0][2], args.repeats)
        except ValueError as e:
            sys.exit(f'error: --calibrate-on: {e}')
        lut.save()
        print(f'calibration on {", ".join(n for n, _, _ in nets)}: direct = '
              f'{cal["scale"]:.3f} x table')
    print(f'{"config":<34} {"input":>8} {"direct ms":>10} {"table ms":>9} {"error":>7}'
          + (f' {"calibrated":>10} {"error":>7}' if calibrated else '')
          + f'  ({args.backend}, 1 thread, batch 1)')
    for path in args.configs:
        name, model, hw = load(path)
        direct = measure_network(model, hw, args.backend, runs=args.runs, repeats=args.repeats)
        try:
            parts = lut.breakdown(model, hw)
        except ValueError as e:
            sys.exit(f'error: {path}: {e}')
        table = lut.network_ms(model, hw)  # the parts' sum, less all but one call overhead
        lut.save()
        line = (f'{name[:34]:<34} {f"{hw[0]}x{hw[1]}":>8} {direct:>10.3f} {table:>9.3f} '
                f'{100 * (table - direct) / direct:>+6.1f}%')
        if calibrated:
            cal = lut.network_ms(model, hw, calibrated=True)
            line += f' {cal:>10.3f} {100 * (cal - direct) / direct:>+6.1f}%'
        print(line, flush=True)
        if args.breakdown:
            for key, ms in parts:
                print(f'    {ms:8.3f}  {key}')
            print(f'    {-(len(parts) - 1) * lut.call_ms():8.3f}  {len(parts) - 1} x the '
                  f'per-call overhead ({lut.call_ms():.3f} ms)')
    print(f'table: {lut_path} ({len(lut.entries)} entries, {lut.measured} measured now)')


if __name__ == '__main__':
    main()
