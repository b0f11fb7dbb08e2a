"""NetAdapt on V3-Small, end to end on the CPU (issue 12's "Done when" benchmark).

    python benchmarks/netadapt_v3small.py [--work-dir work_dirs/bench_netadapt] [--ratio 0.8]
        [--metrics ratio accuracy] [--iters 30] [--holdout-fraction 0.25] [--stop-margin 0.02]
        [--final-iters 200] [--final-seeds 2] [--seed-epochs 30] [--delta-ratio 0.01]
        [--size 32] [--num-classes 8] [--scale 0.16 0.3] [--noise 12] [--num-train 640]
        [--num-val 320] [--runs 50] [--rounds 5]

1. writes fixture ImageNet (8 form x colour classes, 32x32, small shapes, sensor noise: hard
   enough that the short recipe leaves the seed well below 100% top-1) and trains the V3-Small
   row (Table 2) on it with the short recipe (``mnv3_plugin.search.fixture``) through
   tools/train.py: the seed. The seed never sees the search's held-out images (every k-th
   training image, k = 1 / ``--holdout-fraction``): they score the proposals, as NetAdapt's
   held-out split does, so a score measures what the network generalises, not what it
   memorised;
2. runs tools/search/netadapt.py to ``--ratio`` x the seed's latency, once per ``--metrics``
   (``ratio``: the paper's dAcc/|dLatency|; ``accuracy``: the original NetAdapt's smallest
   drop), the searches side by side on the two cores (one thread each). Latency is measured
   at 224x224, the config's resolution, on torch (docs/search.md says why not at 32x32);
3. for each adapted network, the uniformly width-scaled V3-Small with the largest multiplier
   whose latency, measured next to it, is not above it (the baseline NetAdapt must beat or
   match); the lookup table only shortlists the multipliers;
4. fine-tunes seed, adapted and uniform networks the same way (``--final-iters`` iterations
   on the whole training set, from the seed's weights transferred by L2 norm; the adapted
   networks also from the weights their search ended with), once per fine-tune seed
   (``--final-seeds``), and scores them on the val split (never seen before);
5. measures all of them in turn (``--rounds`` rounds, the smallest median each:
   ``measure_interleaved``, the protocol of the search's stopping rule);
6. trains the first adapted config for one epoch with tools/train.py (it is a normal config);
7. prints and writes ``results.json``, ``results.md`` and the searches' trajectory plots.

Everything is timed on one thread (the paper's latency protocol). Re-running resumes the
searches from their work dirs. docs/search.md has the measured run, with its wall and CPU time.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / 'configs' / 'classification' / 'v3small_w100_r224_imagenet.py'
HW = (224, 224)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--work-dir', default='work_dirs/bench_netadapt')
    parser.add_argument('--ratio', type=float, default=0.8)
    parser.add_argument('--metrics', nargs='+', choices=['ratio', 'accuracy'],
                        default=['ratio', 'accuracy'], help='one search per selection metric')
    parser.add_argument('--iters', type=int, default=30, help='T per proposal')
    parser.add_argument('--holdout-fraction', type=float, default=0.25,
                        help='part of the training set that scores the proposals')
    parser.add_argument('--stop-margin', type=float, default=0.02,
                        help="the search's --stop-margin")
    parser.add_argument('--final-iters', type=int, default=200)
    parser.add_argument('--final-seeds', type=int, default=2,
                        help='fine-tunes per network (seeds 0..n-1); the mean is reported')
    parser.add_argument('--seed-epochs', type=int, default=30)
    parser.add_argument('--delta-ratio', type=float, default=0.01)
    parser.add_argument('--size', type=int, default=32, help='fixture image size')
    parser.add_argument('--num-classes', type=int, default=8,
                        help='fixture classes (2-16; above 4 they share forms and colours)')
    parser.add_argument('--scale', type=float, nargs=2, default=(0.16, 0.3),
                        help='shape radius range, fraction of the image side')
    parser.add_argument('--noise', type=float, default=12, help='sensor noise (grey levels)')
    parser.add_argument('--num-train', type=int, default=640)
    parser.add_argument('--num-val', type=int, default=320)
    parser.add_argument('--runs', type=int, default=50, help='timed runs per median')
    parser.add_argument('--rounds', type=int, default=5, help='rounds of the final measurement')
    parser.add_argument('--lut-repeats', type=int, default=3,
                        help='each lookup-table entry: the smallest of this many medians')
    return parser.parse_args()


def env():
    return dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1',
                PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))


def sh(args, **kwargs):
    print('$', ' '.join(str(a) for a in args), flush=True)
    proc = subprocess.run([str(a) for a in args], cwd=ROOT, env=env(), **kwargs)
    if proc.returncode != 0:
        sys.exit(f'benchmark: command failed ({proc.returncode})')
    return proc


def run_parallel(commands):
    """Runs the commands side by side (one core each), each logging to its own file."""
    procs = []
    for args, log in commands:
        print('$', ' '.join(str(a) for a in args), '>', log, flush=True)
        procs.append((subprocess.Popen([str(a) for a in args], cwd=ROOT, env=env(),
                                       stdout=open(log, 'w'), stderr=subprocess.STDOUT), log))
    failed = [log for proc, log in procs if proc.wait() != 0]
    if failed:
        sys.exit(f'benchmark: command failed, see {", ".join(str(f) for f in failed)}')


def main():
    args = parse_args()
    start = time.monotonic()
    work = Path(args.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    import torch
    torch.set_num_threads(1)
    from mmengine.config import Config
    from mmengine.runner import Runner, load_checkpoint

    import mnv3_plugin  # noqa: F401
    from mnv3_plugin.search.finetune import SearchData, evaluate, finetune, split_indices
    from mnv3_plugin.search.fixture import write_fixture_config
    from mnv3_plugin.search.latency import BlockLUT, measure_interleaved
    from mnv3_plugin.search.models import build_model, classifier_madds, count_params
    from mnv3_plugin.search.netadapt import uniform_row_widths, widths_from_json
    from mnv3_plugin.search.transfer import transfer_weights
    from mnv3_plugin.testing import make_imagenet, shape_classes

    # 1. data and seed (trained without the held-out images that score the proposals)
    data_root = work / 'imagenet'
    if not (data_root / 'meta' / 'val.txt').is_file():
        make_imagenet(data_root, num_train=args.num_train, num_val=args.num_val,
                      size=(args.size, args.size), seed=0, num_classes=args.num_classes,
                      scale=tuple(args.scale), noise=args.noise, overwrite=True)
    lines = (data_root / 'meta' / 'train.txt').read_text().splitlines()
    fit_idx, holdout_idx = split_indices(len(lines), args.holdout_fraction)
    (data_root / 'meta' / 'train_seed.txt').write_text(
        ''.join(lines[i] + '\n' for i in fit_idx))
    classes = shape_classes(args.num_classes)
    cfg_path = write_fixture_config(work / 'v3small_fixture.py', SMALL, data_root, classes,
                                    epochs=args.seed_epochs, batch_size=16, lr=1e-3)
    seed_dir = work / 'seed'
    seed_ckpt = seed_dir / f'epoch_{args.seed_epochs}.pth'
    t0 = time.monotonic()
    if not seed_ckpt.is_file():
        sh([sys.executable, 'tools/train.py', cfg_path, '--work-dir', seed_dir,
            '--cfg-options', 'train_dataloader.dataset.ann_file=meta/train_seed.txt'])
    seed_s = time.monotonic() - t0

    # 2. the searches, side by side, on one lookup table calibrated on the seed first
    t0 = time.monotonic()
    cfg = Config.fromfile(str(cfg_path))
    seed = build_model(cfg)
    load_checkpoint(seed, str(seed_ckpt), map_location='cpu', logger='silent')
    lut_path = work / 'latency_lut_torch.json'
    lut = BlockLUT(str(lut_path), runs=args.runs, repeats=args.lut_repeats)
    if not lut.calibration['networks']:
        lut.calibrate([('seed', seed)], HW)
        lut.save()
    dirs = {m: work / f'netadapt_{m}' for m in args.metrics}
    search = [sys.executable, 'tools/search/netadapt.py', cfg_path, '--checkpoint', seed_ckpt,
              '--target-ratio', args.ratio, '--iters-per-proposal', args.iters, '--delta-ratio',
              args.delta_ratio, '--holdout-fraction', args.holdout_fraction, '--stop-margin',
              args.stop_margin, '--runs', args.runs, '--lut', lut_path, '--lut-repeats',
              args.lut_repeats, '--no-progress']
    run_parallel([(search + ['--metric', m, '--work-dir', d], work / f'{m}.log')
                  for m, d in dirs.items()])
    search_s = time.monotonic() - t0
    logs = {m: json.loads((d / 'netadapt_log.json').read_text()) for m, d in dirs.items()}
    for m, d in dirs.items():
        shutil.copy(d / 'trajectory.png', work / f'trajectory_{m}.png')

    base_specs = build_model(cfg, row_widths={}).backbone.specs
    frozen = (len(base_specs) - 1,)
    nets = {'seed': dict(widths={}, weights=seed)}
    for m, log in logs.items():
        widths = widths_from_json(log['steps'][-1]['row_widths'])
        ended = build_model(cfg, row_widths=widths)
        load_checkpoint(ended, str(dirs[m] / log['steps'][-1]['checkpoint']),
                        map_location='cpu', logger='silent')
        nets[f'netadapt ({m})'] = dict(widths=widths, weights=seed)
        nets[f'netadapt ({m}), search weights'] = dict(widths=widths, weights=ended)

    # 3. the uniform baseline of each adapted network: the table shortlists, measurement picks
    lut = BlockLUT(str(lut_path), runs=args.runs, repeats=args.lut_repeats)  # both searches'
    factors = [x / 100 for x in range(100, 30, -1)]
    for m in logs:
        adapted = build_model(cfg, row_widths=nets[f'netadapt ({m})']['widths'])
        goal = lut.network_ms(adapted, HW)
        first = next(i for i, f in enumerate(factors) if lut.network_ms(build_model(
            cfg, row_widths=uniform_row_widths(base_specs, f, frozen)), HW) <= goal)
        shortlist = factors[max(0, first - 3):first + 3]
        cands = {f: build_model(cfg, row_widths=uniform_row_widths(base_specs, f, frozen))
                 for f in shortlist}
        ms = measure_interleaved(dict(adapted=adapted, **{str(f): c for f, c in cands.items()}),
                                 HW, runs=args.runs, rounds=3)
        ok = [f for f in shortlist if ms[str(f)] <= ms['adapted']] or shortlist[-1:]
        factor = max(ok)
        name = f'uniform x{factor:.2f}'
        nets.setdefault(name, dict(widths=uniform_row_widths(base_specs, factor, frozen),
                                   weights=seed, baseline_of=[]))['baseline_of'].append(m)
    lut.save()

    # 4. the same fine-tune for all, scored on the val split, once per fine-tune seed
    val = Runner.build_dataloader(cfg.val_dataloader, seed=0)
    final_data = SearchData(Runner.build_dataloader(cfg.train_dataloader, seed=0), val, [], [])
    results, models = {}, {}
    for name, net in nets.items():
        before, after = None, []
        for s in range(args.final_seeds):
            model = transfer_weights(net['weights'], build_model(cfg, row_widths=net['widths']))
            before = evaluate(model, final_data)
            finetune(model, cfg, final_data, args.final_iters, seed=s)
            after.append(evaluate(model, final_data))
        models[name] = model
        results[name] = dict(
            val_top1_before=before, val_top1_runs=after, val_top1=sum(after) / len(after),
            lut_ms=lut.network_ms(model, HW, calibrated=True),
            params_m=count_params(model) / 1e6, madds_m=classifier_madds(model) / 1e6,
            row_widths=net['widths'], baseline_of=net.get('baseline_of'))

    # 5. all of them measured in turn: the protocol of the search's stopping rule
    ms = measure_interleaved(models, HW, runs=args.runs, rounds=args.rounds)
    for name in models:
        results[name]['measured_ms'] = ms[name]
        results[name]['vs_seed'] = ms[name] / ms['seed']

    # 6. the adapted config trains with tools/train.py
    m0 = args.metrics[0]
    sh([sys.executable, 'tools/train.py', dirs[m0] / logs[m0]['adapted_config'], '--work-dir',
        work / 'adapted_train', '--cfg-options', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1'])

    total_s = time.monotonic() - start
    t = os.times()  # CPU time of this process and the tools it ran
    cpu_s = t.user + t.system + t.children_user + t.children_system
    searches = {m: dict(steps=len(log['steps']), reason=log['reason'],
                        target_ms=log['target_ms'], seed_ms=log['seed']['measured_ms'],
                        stop_ms=log['steps'][-1]['relative_ms'] if log['steps'] else None,
                        stop_lut_ms=log['steps'][-1]['lut_ms'] if log['steps'] else None,
                        chosen=[s['chosen'] for s in log['steps']])
                for m, log in logs.items()}
    summary = dict(settings=vars(args), holdout_images=len(holdout_idx),
                   seed_train_images=len(fit_idx), searches=searches, seed_train_s=seed_s,
                   search_s=search_s, total_s=total_s, cpu_s=cpu_s, networks=results)
    (work / 'results.json').write_text(json.dumps(summary, indent=1))
    out = [f'NetAdapt on V3-Small (fixture ImageNet: {args.num_classes} classes, '
           f'{args.num_train} train images ({len(holdout_idx)} held out to score proposals, '
           f'the seed trained on the other {len(fit_idx)}) / {args.num_val} val images at '
           f'{args.size}x{args.size}; latency at {HW[0]}x{HW[1]}, torch deploy, 1 thread, CPU '
           f'time; T = {args.iters}, delta = {args.delta_ratio} x seed, target {args.ratio} x '
           f'seed, stop margin {args.stop_margin}).', '']
    for m, s in searches.items():
        out.append(f'- metric {m}: {s["reason"]}; target '
                   f'{s["target_ms"]:.3f} ms = {args.ratio} x seed {s["seed_ms"]:.3f} ms; '
                   f'stopped at {s["stop_ms"]:.3f} ms measured next to the seed, '
                   f'{s["stop_lut_ms"]:.3f} ms by the table; cuts: {", ".join(s["chosen"])}')
    runs = ' / '.join(f'seed {s}' for s in range(args.final_seeds))
    out += ['', f'| network | measured ms | x seed | table ms | params (M) | MAdds (M) | val '
            f'top-1 before | val top-1 after {args.final_iters} it ({runs}) | mean |',
            '|---|---|---|---|---|---|---|---|---|']
    for name, r in results.items():
        out.append(f'| {name} | {r["measured_ms"]:.3f} | {r["vs_seed"]:.3f} | '
                   f'{r["lut_ms"]:.3f} | {r["params_m"]:.3f} | {r["madds_m"]:.1f} | '
                   f'{r["val_top1_before"]:.1f} | '
                   f'{" / ".join(f"{a:.1f}" for a in r["val_top1_runs"])} | '
                   f'**{r["val_top1"]:.1f}** |')
    out += ['', f'Wall time: seed training {seed_s / 60:.1f} min, searches {search_s / 60:.1f} '
            f'min (side by side), total {total_s / 60:.1f} min; CPU time of all its processes '
            f'{cpu_s / 60:.1f} min.']
    (work / 'results.md').write_text('\n'.join(out) + '\n')
    print('\n'.join(out))
    for m in logs:
        r = results[f'netadapt ({m})']
        verdict = 'at or below' if r['vs_seed'] <= args.ratio else 'ABOVE'
        print(f'netadapt ({m}) / seed latency, measured in turn: {r["vs_seed"]:.3f} '
              f'({verdict} the target ratio {args.ratio})')


if __name__ == '__main__':
    main()
