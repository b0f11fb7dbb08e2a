"""The per-block latency lookup table (NetAdapt) against direct measurement of whole networks.

    python tools/search/latency_table.py CONFIG [CONFIG ...] [--calibrate-on CONFIG ...]
        [--backend torch|onnxruntime|openvino] [--shape H W] [--runs 50] [--repeats 3]
        [--lut FILE] [--breakdown]

For each config: the network's latency measured directly (Section 6.1.2 protocol: one thread,
batch 1, warm-up, median; the smallest of --repeats medians, all networks measured in turn in
each round), the sum of its blocks' table entries (NetAdapt's estimate), each less the cost a
part timed alone pays at its boundary (on torch the per-call overhead; on a runtime also passing
its input and output tensors in and out, measured at their shapes), plus the network's own
boundary once, and its error; with --calibrate-on, also that sum corrected by a factor
(direct ~= scale x sum) fitted on *those* networks, and its error. Entries missing
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
    parser.add_argument('--repeats', type=int, default=3,
                        help='rounds of direct measurements; in each, every network is measured '
                        'once, in turn; each keeps its smallest median')
    parser.add_argument('--lut', help='table JSON (default work_dirs/netadapt/latency_lut_'
                        '<backend>.json)')
    parser.add_argument('--breakdown', action='store_true', help='print every entry used')
    return parser.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(1)
    import mnv3_plugin  # noqa: F401
    from mnv3_plugin.search.latency import BlockLUT, measure_interleaved
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
    cal_nets = [load(p) for p in args.calibrate_on]
    if len({hw for _, _, hw in cal_nets}) > 1:
        sys.exit('error: --calibrate-on configs must share one input size (use --shape)')
    nets = [(path, *load(path)) for path in args.configs]
    # every table entry first (measuring the missing ones), then the direct measurements of
    # all networks in turn, round after round, so that the calibration networks and the
    # reported ones are measured under one load (a shared machine's load drifts over minutes)
    breakdowns = {}
    for path, name, model, hw in nets:
        try:
            breakdowns[path] = lut.breakdown(model, hw)
        except ValueError as e:
            sys.exit(f'error: {path}: {e}')
    for name, model, hw in cal_nets:
        try:
            lut.network_ms(model, hw)
        except ValueError as e:
            sys.exit(f'error: --calibrate-on: {e}')
    lut.save()
    direct = {}
    for hw in dict.fromkeys([hw for *_, hw in nets] + [hw for *_, hw in cal_nets]):
        group = {f'cal {name}': model for name, model, h in cal_nets if h == hw}
        group.update({path: model for path, _, model, h in nets if h == hw})
        direct.update(measure_interleaved(group, hw, args.backend, runs=args.runs,
                                          rounds=args.repeats))
    if calibrated:
        cal = lut.calibrate([(n, m) for n, m, _ in cal_nets], cal_nets[0][2],
                            direct={n: direct[f'cal {n}'] for n, _, _ in cal_nets})
        lut.save()
        print(f'calibration on {", ".join(n for n, _, _ in cal_nets)}: direct = '
              f'{cal["scale"]:.3f} x table')
    print(f'{"config":<34} {"input":>8} {"direct ms":>10} {"table ms":>9} {"error":>7}'
          + (f' {"calibrated":>10} {"error":>7}' if calibrated else '')
          + f'  ({args.backend}, 1 thread, batch 1)')
    for path, name, model, hw in nets:
        parts = breakdowns[path]
        table = lut.network_ms(model, hw)  # the parts' sum less their boundary costs
        line = (f'{name[:34]:<34} {f"{hw[0]}x{hw[1]}":>8} {direct[path]:>10.3f} {table:>9.3f} '
                f'{100 * (table - direct[path]) / direct[path]:>+6.1f}%')
        if calibrated:
            estimate = lut.network_ms(model, hw, calibrated=True)
            line += f' {estimate:>10.3f} {100 * (estimate - direct[path]) / direct[path]:>+6.1f}%'
        print(line, flush=True)
        if args.breakdown:
            print(f'    {"entry":>8} {"boundary":>8}  part')
            for key, ms, boundary in parts:
                print(f'    {ms:8.3f} {-boundary:8.3f}  {key}')
            print(f'    {"":8} {table - sum(ms - b for _, ms, b in parts):+8.3f}  the network\'s '
                  f'own boundary (input and logits)')
    print(f'table: {lut_path} ({len(lut.entries)} entries, {lut.measured} measured now)')


if __name__ == '__main__':
    from mnv3_plugin.runner_utils import run_cli
    run_cli(main)
