"""The main job on the embedded demo data: train an LR-ASPP MobileNetV3 segmenter on the CPU.

    bash tools/run_demo.sh                  # set-up first, then this script
    python tools/run_demo.py [--config configs/demo/lraspp_v3large-rf2_w100_os16_demo.py]
        [--work-dir work_dirs/demo] [--data-root data/demo_cityscapes] [--iters N]

1. writes the Cityscapes-format demo data (synthetic street scenes) if it is not there yet;
2. evaluates the untrained model (mIoU on the demo val split);
3. trains the Table 7 row 8 network (configs/demo/ changes only data and schedule), logging
   progress every 20 iterations;
4. evaluates again and saves prediction overlays with mmengine's visualizer
   (<work-dir>/<timestamp>/vis_data/vis_image/*.png: ground truth left, prediction right; each
   drawn image appears twice, the smaller step in its name being the untrained model's);
5. prints both mIoUs;
6. the deploy step (``--no-deploy`` skips it; mnv3_plugin.deploy.compare): exports the trained
   model to ONNX (checked against PyTorch), quantizes it with NNCF post-training quantization on
   the demo's train loader, exports int8 to OpenVINO IR (checked), and prints mIoU on the demo
   val split and latency (one thread, batch 1, median) of PyTorch fp32, ONNX Runtime fp32,
   OpenVINO fp32 and OpenVINO int8. Files: <work-dir>/deploy/. A missing deployment package
   skips the step with one line.
"""
import argparse
import os
import os.path as osp
import time

from mmengine.config import Config

import mnv3_plugin  # noqa: F401
from mnv3_plugin.runner_utils import run_cli
from mnv3_plugin.testing import make_cityscapes

NUM_TRAIN, NUM_VAL, SIZE, SEED = 200, 20, (256, 512), 0
# the deploy step's budget (two minutes on 2 cores): calibration images, latency repetitions
DEPLOY_CALIB_IMAGES, DEPLOY_WARMUP, DEPLOY_RUNS = 8, 5, 20


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default='configs/demo/lraspp_v3large-rf2_w100_os16_demo.py')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/demo_cityscapes')
    parser.add_argument('--iters', type=int, help='training iterations (default: the config)')
    parser.add_argument('--no-deploy', action='store_true',
                        help='skip the deploy step (export, int8, runtimes table)')
    return parser.parse_args()


def ensure_data(root: str) -> None:
    stamp = osp.join(root, '.complete')
    want = f'{NUM_TRAIN} {NUM_VAL} {SIZE} {SEED}'
    if osp.isfile(stamp) and open(stamp).read() == want:
        print(f'[demo] demo data in {root}')
        return
    print(f'[demo] writing the demo data ({NUM_TRAIN} train + {NUM_VAL} val street scenes, '
          f'{SIZE[0]}x{SIZE[1]}) to {root}')
    make_cityscapes(root, num_train=NUM_TRAIN, num_val=NUM_VAL, size=SIZE, seed=SEED,
                    overwrite=True)
    with open(stamp, 'w') as f:
        f.write(want)


def main():
    args = parse_args()
    start = time.monotonic()
    ensure_data(args.data_root)
    cfg = Config.fromfile(args.config)
    cfg.work_dir = args.work_dir
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = args.data_root
    if args.iters:
        cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = args.iters
        cfg.param_scheduler[0].end = args.iters
        cfg.default_hooks.checkpoint.interval = args.iters
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    print('[demo] evaluating the untrained model')
    untrained = runner.val()['mIoU']
    print(f'[demo] training {cfg.train_cfg.max_iters} iterations on the CPU '
          f'({os.cpu_count()} cores)')
    runner.train()
    trained = runner.message_hub.get_scalar('val/mIoU').current()
    vis = osp.join(runner.log_dir, 'vis_data', 'vis_image')
    print(f'[demo] done in {(time.monotonic() - start) / 60:.1f} min')
    print(f'[demo] prediction overlays: {vis}')
    print(f'[demo] checkpoint: {osp.join(cfg.work_dir, f"iter_{cfg.train_cfg.max_iters}.pth")}')
    print(f'[demo] mIoU untrained: {untrained:.2f}')
    print(f'[demo] mIoU trained:   {trained:.2f}')
    if not args.no_deploy:
        checkpoint = osp.join(cfg.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')
        deploy(cfg, checkpoint, osp.join(cfg.work_dir, 'deploy'))


def deploy(cfg, checkpoint: str, out_dir: str) -> None:
    """The deploy step: one line per phase and check, then the runtimes table."""
    from mnv3_plugin.deploy import DeployError
    from mnv3_plugin.deploy.compare import compare_runtimes, format_table, missing_packages
    missing = missing_packages()
    if missing:
        print(f'[demo] deploy step skipped: {", ".join(missing)} not installed '
              f'(pip install -r requirements/deploy.txt)')
        return
    start = time.monotonic()
    print(f'[demo] deploy: ONNX, NNCF int8 and OpenVINO IR in {out_dir}')
    try:
        result = compare_runtimes(cfg, checkpoint, out_dir, subset_size=DEPLOY_CALIB_IMAGES,
                                  max_images=NUM_VAL, warmup=DEPLOY_WARMUP, runs=DEPLOY_RUNS,
                                  log=lambda line: print(f'[demo]   {line}', flush=True))
    except DeployError as e:
        raise DeployError(f'deploy step: {e} (--no-deploy skips it)') from None
    for line in format_table(result):
        print(f'[demo] {line}')
    phases = ', '.join(f'{k} {v:.0f} s' for k, v in result.seconds.items())
    print(f'[demo] deploy step done in {time.monotonic() - start:.0f} s ({phases})')


if __name__ == '__main__':
    run_cli(main)
