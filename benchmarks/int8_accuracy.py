"""int8 accuracy against fp32 after the short recipe on the fixture ImageNet (issue 11, item 7).

    .venv/bin/python benchmarks/int8_accuracy.py [--epochs 30] [--qat-epochs 3] [--work-dir DIR]
        [--seg-checkpoint work_dirs/demo/iter_400.pth]

1. writes the fixture ImageNet (mnv3_plugin.testing.make_imagenet, 64x64, 4 classes);
2. trains V3-Small 1.0 fp32 on it (Table 3's V3-Small row, with the fixture data, 64x64
   pipeline and a short SGD schedule) through mmengine's Runner, and tests it;
3. PTQ: the same checkpoint, quantized by NNCF on the train loader (``QuantizationRunner``,
   ``method='ptq'``), tested;
4. QAT: PTQ then ``--qat-epochs`` of training at a tenth of the learning rate, BN frozen after the
   first epoch and quantizer ranges after the second half, tested;
5. with --seg-checkpoint (the README's demo writes one): PTQ of the demo segmentor on its own
   train loader, mIoU of fp32 and int8 on the demo's val set.

Prints top-1 (and mIoU) and the differences; targets: PTQ within 2 points of fp32, QAT within 1,
segmentation PTQ within 2 mIoU points. A benchmark, not a timed test: about a minute on 2
cores without --seg-checkpoint.
"""
import argparse
import os.path as osp
import tempfile
import warnings

warnings.filterwarnings('ignore')

BASE = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                'configs/classification/v3small_w100_r224_imagenet.py')
DEMO = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                'configs/demo/lraspp_v3large-rf2_w100_os16_demo.py')


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


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--epochs', type=int, default=30)
    parser.add_argument('--qat-epochs', type=int, default=3)
    parser.add_argument('--num-train', type=int, default=128)
    parser.add_argument('--num-val', type=int, default=128)
    parser.add_argument('--work-dir', help='default: a temporary folder')
    parser.add_argument('--seg-checkpoint', help='a demo segmentor checkpoint (optional)')
    args = parser.parse_args()
    import torch
    torch.set_num_threads(1)
    from mnv3_plugin.testing import fixture_classifier_config, make_imagenet
    work = args.work_dir or tempfile.mkdtemp(prefix='mnv3_int8_acc_')
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
    int8_keys = ("custom_imports = dict(imports=['mnv3_plugin', 'mnv3_plugin.deploy'], "
                 "allow_failed_imports=False)\nrunner_type = 'mnv3_plugin.QuantizationRunner'\n")
    ptq_cfg = osp.join(work, 'v3small_fixture_ptq.py')
    with open(ptq_cfg, 'w') as f:
        f.write(f"_base_ = '{fp32_cfg}'\n{int8_keys}"
                f"quantization = dict(method='ptq', subset_size={args.num_train})\n")
    ptq = run(ptq_cfg, osp.join(work, 'ptq'), ckpt)['accuracy/top1']
    qat_cfg = osp.join(work, 'v3small_fixture_qat.py')
    with open(qat_cfg, 'w') as f:
        f.write(f"""_base_ = '{fp32_cfg}'
{int8_keys}quantization = dict(method='qat', checkpoint='{ckpt}', subset_size={args.num_train},
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
    if args.seg_checkpoint:
        ptq_seg = osp.join(work, 'demo_ptq.py')
        with open(ptq_seg, 'w') as f:
            f.write(f"_base_ = '{DEMO}'\n{int8_keys}"
                    "quantization = dict(method='ptq', subset_size=32)\n")
        seg_fp32 = run(DEMO, osp.join(work, 'seg_fp32'), args.seg_checkpoint)['mIoU']
        seg_int8 = run(ptq_seg, osp.join(work, 'seg_ptq'), args.seg_checkpoint)['mIoU']
        print(f'  demo segmentation mIoU fp32 {seg_fp32:.2f}  PTQ int8 {seg_int8:.2f} '
              f'({seg_int8 - seg_fp32:+.2f}, target >= -2)')


if __name__ == '__main__':
    main()
