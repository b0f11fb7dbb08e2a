"""int8 accuracy against fp32: the fixture ImageNet after the short recipe, and the demo
segmentation data (issue 11, item 7).

    .venv/bin/python benchmarks/int8_accuracy.py [--epochs 30] [--qat-epochs 3] [--work-dir DIR]
        [--seg-checkpoint work_dirs/demo/iter_400.pth] [--seg-subset-size 32]
        [--skip-classification] [--skip-segmentation]

Classification:

1. writes the fixture ImageNet (mnv3_plugin.testing.make_imagenet, 64x64, 4 classes);
2. trains V3-Small 1.0 fp32 on it (Table 3's V3-Small row, with the fixture data, 64x64
   pipeline and a short SGD schedule) through mmengine's Runner, and tests it;
3. PTQ: the same checkpoint, quantized by NNCF on the train loader (``QuantizationRunner``,
   ``method='ptq'``), tested;
4. QAT: PTQ then ``--qat-epochs`` of training at a tenth of the learning rate, BN frozen after the
   first epoch and quantizer ranges after the second half, tested.

Segmentation (the demo's LR-ASPP, trained by ``bash tools/run_demo.sh``, which writes the
default --seg-checkpoint and the data; skipped with a note when they are not there):

5. mIoU on the demo val split of the fp32 model and of its PTQ int8 model in PyTorch
   (``QuantizationRunner``, NNCF's fake quantization, calibrated on the demo's train loader);
6. the same checkpoint on the runtimes (:func:`mnv3_plugin.deploy.compare.compare_runtimes`):
   ONNX Runtime and OpenVINO fp32, and PTQ int8 as OpenVINO IR, each evaluated with the same
   mmseg ``IoUMetric``.

Prints top-1 and mIoU and the differences; targets: PTQ within 2 points of fp32, QAT within 1,
segmentation PTQ within 2 mIoU points. A benchmark, not a timed test: about a minute on 2
cores for the classification part, two more for the segmentation part.
"""
import argparse
import os
import os.path as osp
import tempfile
import warnings

warnings.filterwarnings('ignore')

BASE = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                'configs/classification/v3small_w100_r224_imagenet.py')
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO = osp.join(ROOT, 'configs/demo/lraspp_v3large-rf2_w100_os16_demo.py')
DEMO_CHECKPOINT = osp.join(ROOT, 'work_dirs/demo/iter_400.pth')
DEMO_DATA = osp.join(ROOT, 'data/demo_cityscapes')
INT8_KEYS = ("custom_imports = dict(imports=['mnv3_plugin', 'mnv3_plugin.deploy'], "
             "allow_failed_imports=False)\nrunner_type = 'mnv3_plugin.QuantizationRunner'\n")


def run(cfg_path, work_dir, checkpoint=None, train=False, options=None):
    """Trains or tests a config in this process; returns the test metrics."""
    from mmengine.config import Config
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    import mnv3_plugin  # noqa: F401
    cfg = Config.fromfile(cfg_path)
    cfg.merge_from_dict(options or {})
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    cfg.log_level = 'WARNING'
    if checkpoint:
        cfg.load_from = checkpoint
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if train:
        runner.train()
        return None
    return runner.test()


def classification(args, work):
    """Steps 1-4: fp32, PTQ and QAT top-1 on the fixture ImageNet."""
    from mnv3_plugin.testing import fixture_classifier_config, make_imagenet
    data = make_imagenet(osp.join(work, 'imagenet'), num_train=args.num_train,
                         num_val=args.num_val, size=(64, 64), seed=0, overwrite=True)
    iters = args.num_train // 8
    fp32_cfg = osp.join(work, 'v3small_fixture.py')
    with open(fp32_cfg, 'w') as f:
        f.write(fixture_classifier_config(
            BASE, data, train_pipeline="[dict(type='LoadImageFromFile'), "
            "dict(type='RandomFlip', prob=0.5), dict(type='PackInputs')]", extra=f"""
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-5))
param_scheduler = [dict(type='CosineAnnealingLR', T_max={args.epochs}, by_epoch=True)]
train_cfg = dict(max_epochs={args.epochs}, val_interval={args.epochs})
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval={args.epochs}))
custom_hooks = []
"""))
    ckpt = osp.join(work, 'fp32', f'epoch_{args.epochs}.pth')
    run(fp32_cfg, osp.join(work, 'fp32'), train=True)
    fp32 = run(fp32_cfg, osp.join(work, 'fp32'), ckpt)['accuracy/top1']
    ptq_cfg = osp.join(work, 'v3small_fixture_ptq.py')
    with open(ptq_cfg, 'w') as f:
        f.write(f"_base_ = '{fp32_cfg}'\n{INT8_KEYS}"
                f"quantization = dict(method='ptq', subset_size={args.num_train})\n")
    ptq = run(ptq_cfg, osp.join(work, 'ptq'), ckpt)['accuracy/top1']
    qat_cfg = osp.join(work, 'v3small_fixture_qat.py')
    with open(qat_cfg, 'w') as f:
        f.write(f"""_base_ = '{fp32_cfg}'
{INT8_KEYS}quantization = dict(method='qat', checkpoint='{ckpt}', subset_size={args.num_train},
                    freeze_bn_after={iters}, freeze_quantizers_after={iters * args.qat_epochs // 2})
optim_wrapper = dict(optimizer=dict(lr=0.005))
param_scheduler = [dict(type='CosineAnnealingLR', T_max={args.qat_epochs}, by_epoch=True)]
train_cfg = dict(max_epochs={args.qat_epochs}, val_interval={args.qat_epochs})
default_hooks = dict(checkpoint=dict(interval={args.qat_epochs}))
""")
    run(qat_cfg, osp.join(work, 'qat'), train=True)
    qat = run(qat_cfg, osp.join(work, 'qat'),
              osp.join(work, 'qat', f'epoch_{args.qat_epochs}.pth'))['accuracy/top1']
    print(f'fixture ImageNet ({args.num_val} val images), V3-Small 1.0 at 64x64, '
          f'{args.epochs} fp32 epochs:')
    print(f'  top-1 fp32 {fp32:.2f}  PTQ int8 {ptq:.2f} ({ptq - fp32:+.2f}, target >= -2)  '
          f'QAT int8 {qat:.2f} ({qat - fp32:+.2f}, target >= -1)')


def segmentation(args, work):
    """Steps 5-6: fp32 and PTQ int8 mIoU of the demo segmentor, in PyTorch and on the
    runtimes."""
    from mmengine.config import Config

    from mnv3_plugin.deploy.compare import compare_runtimes, format_table, missing_packages
    if not osp.isfile(args.seg_checkpoint) or not osp.isdir(args.seg_data_root):
        print(f'demo segmentation: skipped, no checkpoint {args.seg_checkpoint} or data '
              f'{args.seg_data_root}: run `bash tools/run_demo.sh` first, or give '
              f'--seg-checkpoint and --seg-data-root')
        return
    roots = {f'{loader}.dataset.data_root': args.seg_data_root
             for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    ptq_seg = osp.join(work, 'demo_ptq.py')
    with open(ptq_seg, 'w') as f:
        f.write(f"_base_ = '{DEMO}'\n{INT8_KEYS}"
                f"quantization = dict(method='ptq', subset_size={args.seg_subset_size})\n")
    seg_fp32 = run(DEMO, osp.join(work, 'seg_fp32'), args.seg_checkpoint, options=roots)['mIoU']
    seg_int8 = run(ptq_seg, osp.join(work, 'seg_ptq'), args.seg_checkpoint, options=roots)['mIoU']
    print(f'demo segmentation ({args.seg_checkpoint}), mIoU on the demo val split:')
    print(f'  PyTorch: fp32 {seg_fp32:.2f}  PTQ int8 (NNCF fake quantization, '
          f'{args.seg_subset_size} calibration images) {seg_int8:.2f} '
          f'({seg_int8 - seg_fp32:+.2f}, target >= -2)')
    missing = missing_packages()
    if missing:
        print(f'  runtimes: skipped, {", ".join(missing)} not installed')
        return
    cfg = Config.fromfile(DEMO)
    cfg.merge_from_dict(roots)
    result = compare_runtimes(cfg, args.seg_checkpoint, osp.join(work, 'seg_deploy'),
                              subset_size=args.seg_subset_size, log=lambda line: None)
    for line in format_table(result):
        print(f'  {line}')
    ov = result.row('OpenVINO int8').metric
    print(f'  OpenVINO int8 vs PyTorch fp32: {ov - seg_fp32:+.2f} (target >= -2)')


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--epochs', type=int, default=30)
    parser.add_argument('--qat-epochs', type=int, default=3)
    parser.add_argument('--num-train', type=int, default=128)
    parser.add_argument('--num-val', type=int, default=128)
    parser.add_argument('--work-dir', help='default: a temporary folder')
    parser.add_argument('--seg-checkpoint', default=DEMO_CHECKPOINT,
                        help='the demo segmentor (default: what bash tools/run_demo.sh writes)')
    parser.add_argument('--seg-data-root', default=DEMO_DATA, help='the demo data')
    parser.add_argument('--seg-subset-size', type=int, default=32,
                        help='calibration images of the segmentation PTQ')
    parser.add_argument('--skip-classification', action='store_true')
    parser.add_argument('--skip-segmentation', action='store_true')
    args = parser.parse_args()
    import torch
    torch.set_num_threads(1)
    work = args.work_dir or tempfile.mkdtemp(prefix='mnv3_int8_acc_')
    os.makedirs(work, exist_ok=True)
    if not args.skip_classification:
        classification(args, work)
    if not args.skip_segmentation:
        segmentation(args, work)


if __name__ == '__main__':
    main()
