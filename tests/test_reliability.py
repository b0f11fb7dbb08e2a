"""Issue 13: reliability problems users reported against MobileNetV3 implementations.

Each test here failed before its fix: BN statistics under gradient checkpointing, checkpoints
that do not match the model, batch-1 training, input channels, and the width conventions of
torchvision and timm checkpoints.
"""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import mnv3_plugin  # noqa: F401  (registers the plugin, applies the compat fixes)
from mnv3_plugin.models.backbones.mobilenet import MobileNetV3


# -- with_cp: the recompute must not update BN statistics a second time ---------------------
def _train_steps(model, steps=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for _ in range(steps):
        x = torch.randn(2, 3, 64, 64, generator=gen)
        loss = sum(o.square().mean() for o in model(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@pytest.mark.parametrize('arch', ['large', 'small'])
def test_with_cp_keeps_bn_statistics(arch):
    torch.manual_seed(0)
    plain = MobileNetV3(arch, widen_factor=0.5, out_indices=('C4', 'C5'))
    plain.init_weights()
    cp = MobileNetV3(arch, widen_factor=0.5, out_indices=('C4', 'C5'), with_cp=True)
    cp.load_state_dict(plain.state_dict())
    _train_steps(plain)
    _train_steps(cp)
    ref, got = plain.state_dict(), cp.state_dict()
    tracked = [k for k in ref if k.endswith('num_batches_tracked')]
    assert tracked and all(int(got[k]) == int(ref[k]) == 3 for k in tracked)
    for key in ref:
        torch.testing.assert_close(got[key], ref[key], rtol=1e-4, atol=1e-5, msg=key)


# -- checkpoints that do not match: short errors, nothing runs on a partly loaded model -------
ROOT = Path(__file__).resolve().parents[1]
CLS_CFG = ROOT / 'configs/classification/v3small_w035_r224_imagenet.py'


def run_tool(args, timeout=300):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    env.pop('MNV3_PLUGIN_PARTIAL_LOAD', None)
    return subprocess.run([sys.executable] + [str(a) for a in args], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout, env=env)


@pytest.fixture(scope='module')
def tiny_cls(tmp_path_factory):
    """A 64x64 classifier config on the fixture data and checkpoints: its own, one of another
    model (a detector-style head instead of the classifier's, on a backbone built with another
    RF2 rule, as an SSDLite checkpoint given to LR-ASPP), a truncated file."""
    from mnv3_plugin.apis import build_model, load_config
    from mnv3_plugin.testing import fixture_classifier_config, make_imagenet
    tmp = tmp_path_factory.mktemp('ckpt')
    data = make_imagenet(tmp / 'imagenet', num_train=8, num_val=4, size=(64, 64), seed=3)
    cfg = tmp / 'tiny_cls.py'
    cfg.write_text(fixture_classifier_config(str(CLS_CFG), data, batch_size=4, extra="""
train_cfg = dict(max_epochs=1, val_interval=1)
"""))
    good = build_model(str(cfg)).state_dict()
    detector = build_model(load_config(str(cfg), {'model.backbone.reduced_tail': 'detection'}))
    theirs = detector.state_dict()
    other = type(theirs)((('bbox_head.cls.' + k[5:] if k.startswith('head.') else k), v)
                         for k, v in theirs.items())
    other._metadata = theirs._metadata
    torch.save(dict(state_dict=good, meta={}), tmp / 'good.pth')
    torch.save(dict(state_dict=other, meta={}), tmp / 'other.pth')
    data_bytes = (tmp / 'good.pth').read_bytes()
    (tmp / 'truncated.pth').write_bytes(data_bytes[:len(data_bytes) // 2])
    (tmp / 'notes.pth').write_text('not a checkpoint\n')
    return tmp


def one_line_error(proc):
    assert proc.returncode != 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith('error: ')]
    assert len(errors) == 1, proc.stderr[-3000:]
    return errors[0]


def test_test_tool_rejects_another_models_checkpoint(tiny_cls):
    proc = run_tool(['tools/test.py', tiny_cls / 'tiny_cls.py', tiny_cls / 'other.pth',
                     '--work-dir', tiny_cls / 'w1'])
    line = one_line_error(proc)
    assert 'other.pth' in line and 'does not match the model' in line
    assert 'missing' in line and 'unexpected' in line and 'bbox_head.cls.' in line
    assert "a detector's (mmdet) weights" in line and 'build it with' not in line
    assert '--partial-load' in line and 'metrics:' not in proc.stdout
    # asked explicitly: the matching part loads (the option check too) and the test runs
    proc = run_tool(['tools/test.py', tiny_cls / 'tiny_cls.py', tiny_cls / 'other.pth',
                     '--work-dir', tiny_cls / 'w2', '--partial-load'])
    assert proc.returncode == 0 and 'metrics:' in proc.stdout, proc.stderr[-3000:]


@pytest.mark.parametrize('name', ['truncated.pth', 'notes.pth'])
def test_test_tool_names_an_unreadable_checkpoint(tiny_cls, name):
    proc = run_tool(['tools/test.py', tiny_cls / 'tiny_cls.py', tiny_cls / name,
                     '--work-dir', tiny_cls / 'w3'])
    line = one_line_error(proc)
    assert str(tiny_cls / name) in line and 'not a readable checkpoint' in line


def test_train_load_from_and_resume_reject_a_mismatch(tiny_cls):
    for flag in (['--cfg-options', f'load_from={tiny_cls / "other.pth"}'],
                 ['--resume', tiny_cls / 'other.pth']):
        proc = run_tool(['tools/train.py', tiny_cls / 'tiny_cls.py', '--work-dir',
                         tiny_cls / 'w4'] + flag)
        assert 'does not match the model' in one_line_error(proc)
        assert 'Epoch(train)' not in proc.stdout + proc.stderr


def test_pretrained_init_cfg_is_strict_unless_prefixed(tiny_cls):
    from mnv3_plugin.checkpoint import CheckpointMismatchError
    path = str(tiny_cls / 'good.pth')
    kw = dict(arch='small', widen_factor=0.35)
    # the backbone of a whole-model checkpoint, with its prefix: loads
    MobileNetV3(**kw, init_cfg=dict(type='Pretrained', checkpoint=path,
                                    prefix='backbone.')).init_weights()
    with pytest.raises(CheckpointMismatchError, match="prefix='backbone.'"):
        MobileNetV3(**kw, init_cfg=dict(type='Pretrained', checkpoint=path)).init_weights()


# -- one image per process: every head trains or fails with one line before iterating ----------
TRAIN_CONFIGS = sorted((ROOT / 'configs/segmentation').glob('*.py')) + sorted(
    (ROOT / 'configs/detection').glob('*.py'))


@pytest.mark.parametrize('path', TRAIN_CONFIGS, ids=lambda p: p.stem)
def test_batch_one_trains_or_names_the_layer(path):
    """R-ASPP's image pool and SSDLite's 1x1 maps (320x320) cannot use BN at one image; every
    other head trains at batch 1. Inputs: 320 for SSDLite (its 1x1 maps), 96 for segmentation."""
    from mnv3_plugin.apis import build_model
    from mnv3_plugin.batch_check import BatchNormBatchError, guard_batch_norm
    from mnv3_plugin.models.layers import KeepNormStats

    # build_model reverts the configs' SyncBN to BN (new modules): guard them as the hook does
    model = guard_batch_norm(build_model(str(path))).train()
    size = 320 if 'detection' in str(path) else 96
    expect_error = path.stem.startswith(('raspp', 'ssdlite'))
    with torch.no_grad(), KeepNormStats(model):
        model(torch.randn(2, 3, size, size), mode='tensor')  # two images always train
        if not expect_error:
            model(torch.randn(1, 3, size, size), mode='tensor')
            return
        with pytest.raises(BatchNormBatchError) as info:
            model(torch.randn(1, 3, size, size), mode='tensor')
    message = str(info.value)
    assert '\n' not in message and 'at least 2 images per process' in message
    assert 'SyncBN' in message
    layer = 'decode_head.image_pool.bn' if path.stem.startswith('raspp') else 'neck.extra_layers'
    assert layer in message


def test_train_tool_fails_before_any_update_at_batch_one(cityscapes_root, tmp_path):
    cfg = ROOT / 'configs/segmentation/raspp-f256_v3large_w100_os16_cityscapes.py'
    root = str(cityscapes_root)
    proc = run_tool(['tools/train.py', cfg, '--work-dir', tmp_path, '--cfg-options',
                     f'train_dataloader.dataset.data_root={root}',
                     f'val_dataloader.dataset.data_root={root}',
                     f'test_dataloader.dataset.data_root={root}',
                     'train_dataloader.batch_size=1', 'train_dataloader.num_workers=0',
                     'train_dataloader.persistent_workers=False',
                     'default_hooks.logger.interval=1'])
    line = one_line_error(proc)
    assert 'decode_head.image_pool.bn' in line and 'at least 2 images per process' in line
    # the configs' SyncBN runs as BN on one process: the message says so, not the private class
    assert 'a SyncBN on one process' in line and '_BatchNormXd' not in line
    assert '[here: batch_size 1 per process]' in line
    assert 'Iter(train)' not in proc.stdout + proc.stderr
    assert not list(tmp_path.rglob('*.pth'))


def _batch_one_cfg(path, work_dir, cityscapes_root, coco_set):
    """A head config at one image per process on the fixture data (as tools/train.py runs
    it), two iterations, no validation."""
    from mnv3_plugin.apis import load_config
    cfg = load_config(str(path))
    if 'detection' in str(path):
        root, meta = str(coco_set.root), dict(classes=coco_set.classes)
        cfg.model.bbox_head.num_classes = len(coco_set.classes)
        cfg.train_dataloader.dataset.dataset.update(
            data_root=root, ann_file='annotations/instances_train.json',
            data_prefix=dict(img='train/'), metainfo=meta)
    else:
        cfg.train_dataloader.dataset.data_root = str(cityscapes_root)
    cfg.train_dataloader.update(batch_size=1, num_workers=0, persistent_workers=False)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=100)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.work_dir, cfg.log_level = str(work_dir), 'WARNING'
    return cfg


class _Watch:
    """Records the model's buffers when training starts and which iterations ran."""

    def __init__(self):
        from mmengine.hooks import Hook

        watch = self

        class Snapshot(Hook):
            priority = 'HIGHEST'  # before BatchNormCheckHook

            def before_train(self, runner):
                watch.start = {k: v.clone() for k, v in runner.model.state_dict().items()}

        class Iterations(Hook):
            priority = 'LOWEST'  # after BatchNormCheckHook

            def before_train_iter(self, runner, batch_idx, data_batch=None):
                if batch_idx == 0:
                    watch.first = {k: v.clone() for k, v in runner.model.state_dict().items()}
                watch.iters.append(batch_idx)

        self.start, self.first, self.iters = None, None, []
        self.hooks = [Snapshot(), Iterations()]


BATCH_ONE = {  # one config per head: R-ASPP and SSDLite cannot train at batch 1, LR-ASPP can
    'raspp-f256_v3large_w100_os16_cityscapes': 'decode_head.image_pool.bn',
    'ssdlite_v3large-rf2_w100_r320_coco': 'neck.extra_layers',
    'lraspp_v3large_os16_cityscapes': None,
}


@pytest.mark.parametrize('name', BATCH_ONE)
def test_batch_one_fails_before_the_first_iteration_or_trains(name, tmp_path, cityscapes_root,
                                                              coco_set):
    """At one image per process, tools/train.py's BatchNormCheckHook runs one real training
    sample through the model before the first iteration: R-ASPP and SSDLite stop there with
    the one-line error, with no iteration run, no checkpoint written and every BN statistic as
    it was; LR-ASPP trains, its first iteration starting from the untouched model."""
    from mmengine.runner import Runner

    from mnv3_plugin.batch_check import BatchNormBatchError, BatchNormCheckHook
    path = next(ROOT.glob(f'configs/*/{name}.py'))
    runner = Runner.from_cfg(_batch_one_cfg(path, tmp_path, cityscapes_root, coco_set))
    runner.register_hook(BatchNormCheckHook())
    watch = _Watch()
    for hook in watch.hooks:
        runner.register_hook(hook)
    layer = BATCH_ONE[name]
    if layer is None:
        runner.train()
        assert watch.iters == [0, 1]
        for key, value in watch.start.items():  # the dry run left no trace
            assert torch.equal(watch.first[key], value), key
        assert list(tmp_path.rglob('*.pth'))  # and it saves as usual
        return
    with pytest.raises(BatchNormBatchError) as info:
        runner.train()
    message = str(info.value)
    assert layer in message and 'at least 2 images per process' in message
    assert '\n' not in message
    assert watch.iters == [] and not list(tmp_path.rglob('*.pth'))
    now = runner.model.state_dict()
    for key, value in watch.start.items():
        assert torch.equal(now[key], value), key
    assert runner.model.training  # modes restored (the loop had not switched them yet)


def test_last_batch_of_one_image_fails_before_the_first_iteration(tmp_path, coco_set):
    """An epoch-based run whose last batch holds one image (drop_last=False) would train a
    whole epoch and then stop in SSDLite's 1x1 BN: the hook catches it before iteration 0 and
    names the setting; drop_last=True trains."""
    from mmengine.runner import Runner

    from mnv3_plugin.batch_check import BatchNormBatchError, BatchNormCheckHook
    path = ROOT / 'configs/detection/ssdlite_v3large-rf2_w100_r320_coco.py'
    cfg = _batch_one_cfg(path, tmp_path, None, coco_set)
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    count = len(Runner.build_dataloader(cfg.train_dataloader).dataset)
    assert count >= 3
    cfg.train_dataloader.update(batch_size=count - 1, drop_last=False,
                                sampler=dict(type='DefaultSampler', shuffle=True))
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=100)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(BatchNormCheckHook())
    watch = _Watch()
    for hook in watch.hooks:
        runner.register_hook(hook)
    with pytest.raises(BatchNormBatchError) as info:
        runner.train()
    message = str(info.value)
    assert 'neck.extra_layers' in message and 'drop_last=True' in message
    assert (f'the last batch of each epoch holds 1 image(s): {count} images per process, '
            f'batch_size {count - 1}, drop_last=False') in message
    assert watch.iters == [] and not list(tmp_path.rglob('*.pth'))


def test_smallest_batch_of_samplers():
    from mmengine.dataset import DefaultSampler, InfiniteSampler, pseudo_collate
    from torch.utils.data import DataLoader

    from mnv3_plugin.batch_check import smallest_batch
    data = list(range(10))

    def loader(sampler, batch, drop_last=False):
        return DataLoader(data, batch_size=batch, sampler=sampler, drop_last=drop_last,
                          collate_fn=pseudo_collate)

    for batch, want in ((3, 1), (4, 2), (5, 5), (1, 1), (11, 10)):
        images, cause = smallest_batch(loader(DefaultSampler(data, shuffle=False), batch))
        assert images == want == min(len(batch_) for batch_ in
                                     loader(DefaultSampler(data, shuffle=False), batch)), batch
    assert smallest_batch(loader(DefaultSampler(data), 3, drop_last=True))[0] == 3
    assert smallest_batch(loader(InfiniteSampler(data), 3))[0] == 3  # always full batches


# -- input channels: every backbone, and 3-channel weights adapt on loading -------------------
def _all_backbones():
    from mnv3_plugin.models.backbones import mobilenet
    classes = (mobilenet.MobileNetV3, mobilenet.MobileNetV2, mobilenet.MnasNet,
               mobilenet.MobileNetV1)
    return [(cls, arch) for cls in classes for arch in cls.arch_settings]


@pytest.mark.parametrize('cls,arch', _all_backbones(), ids=lambda v: getattr(v, '__name__', v))
@pytest.mark.parametrize('in_channels', [1, 4, 5])
def test_every_backbone_takes_in_channels(cls, arch, in_channels):
    model = cls(arch=arch, in_channels=in_channels, out_indices=('C4', 'C5')).eval()
    assert model.layers[0].conv.in_channels == in_channels
    with torch.no_grad():
        outs = model(torch.randn(1, in_channels, 64, 64))
    assert [o.shape[1] for o in outs] == model.out_channels
    # 3-channel weights adapt: 1 sums the RGB filters, N repeats them scaled by 3 / N
    rgb = cls(arch=arch, out_indices=('C4', 'C5'))
    model.load_state_dict(rgb.state_dict())
    w, w3 = model.layers[0].conv.weight, rgb.layers[0].conv.weight
    if in_channels == 1:
        torch.testing.assert_close(w, w3.sum(1, keepdim=True))
    else:
        torch.testing.assert_close(w, w3.repeat(1, 2, 1, 1)[:, :in_channels] * 3 / in_channels)


def test_gray_and_six_channel_stems_keep_the_rgb_response():
    """Summing the filters: a gray image gives the RGB model's response to the gray image; six
    channels (RGB twice) give the RGB response when both copies are the image."""
    rgb = MobileNetV3('small').eval()
    x = torch.rand(1, 3, 64, 64)
    gray = x.mean(1, keepdim=True)
    for n, inp, ref_in in ((1, gray, gray.expand(-1, 3, -1, -1)), (6, x.repeat(1, 2, 1, 1), x)):
        model = MobileNetV3('small', in_channels=n).eval()
        model.load_state_dict(rgb.state_dict())
        with torch.no_grad():
            torch.testing.assert_close(model(inp)[0], rgb(ref_in)[0], rtol=1e-4, atol=1e-4)


def test_converter_and_init_cfg_adapt_a_torchvision_stem(tmp_path):
    import torchvision

    from mnv3_plugin.converters import convert_file, convert_torchvision
    from mnv3_plugin.models.backbones.options import CheckpointOptionError
    tv = torchvision.models.mobilenet_v3_small(weights=None).eval()
    torch.save(tv.state_dict(), tmp_path / 'tv.pth')
    kw = dict(arch='small', width_rule='torchvision')
    x = torch.rand(1, 1, 64, 64)
    with torch.no_grad():
        ref = tv.features(x.expand(-1, 3, -1, -1))
    # converter: the written checkpoint is for a 1-channel backbone and loads into one
    convert_file(str(tmp_path / 'tv.pth'), str(tmp_path / 'gray.pth'), convert_torchvision,
                 'torchvision', in_channels=1)
    # init_cfg: an RGB conversion adapts when a 1-channel backbone loads it
    convert_file(str(tmp_path / 'tv.pth'), str(tmp_path / 'rgb.pth'), convert_torchvision,
                 'torchvision')
    for name in ('gray.pth', 'rgb.pth'):
        model = MobileNetV3(**kw, in_channels=1, init_cfg=dict(
            type='Pretrained', checkpoint=str(tmp_path / name), prefix='backbone.'))
        model.init_weights()
        with torch.no_grad():
            torch.testing.assert_close(model.eval()(x)[0], ref, rtol=1e-4, atol=1e-4)
    # a 1-channel checkpoint does not widen back to RGB
    with pytest.raises(CheckpointOptionError, match='in_channels=1'):
        MobileNetV3(**kw, init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'gray.pth'),
                                        prefix='backbone.')).init_weights()


# -- width conventions: every torchvision multiplier and every timm variant loads strictly -----
# A grid (step 0.05) plus multipliers where rounding 960 x m and 6 x round(160 x m) or
# 16 x m and timm's fixed stem differ.
SWEEP = sorted({round(0.05 * i, 2) for i in range(2, 41)} | {0.33, 0.52, 0.67, 0.9, 1.1, 1.3})
# timm variants whose name does not spell arch and width: (arch, widen_factor) as timm registers
# them (``mobilenetv3_rw``: ``_gen_mobilenet_v3_rw('mobilenetv3_rw', 1.0)``, BN eps 1e-3).
TIMM_NAMED = {'mobilenetv3_rw': ('large_rw', 1.0)}


def _classifier(**backbone):
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    from mnv3_plugin.models.classifier import classifier_cfg
    init_default_scope('mmpretrain')  # other tests here build mmseg/mmdet models
    # classifier_cfg takes the head's activation from the backbone (ReLU for the minimal archs)
    return MODELS.build(classifier_cfg(dict(type='mnv3_plugin.MobileNetV3', **backbone))).eval()


def _randomize_bn(model):
    gen = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
    return model


@pytest.mark.parametrize('arch', ['large', 'small'])
def test_every_torchvision_width_converts_and_matches(arch):
    import torchvision

    from mnv3_plugin.converters import convert_torchvision
    x = torch.randn(2, 3, 64, 64)
    for m in SWEEP:
        torch.manual_seed(0)
        tv = _randomize_bn(getattr(torchvision.models, f'mobilenet_v3_{arch}')(
            weights=None, width_mult=m)).eval()
        ours = _classifier(arch=arch, widen_factor=m, width_rule='torchvision')
        ours.load_state_dict(convert_torchvision(tv.state_dict()), strict=True)
        with torch.no_grad():
            torch.testing.assert_close(ours(x, mode='tensor'), tv(x), atol=1e-5, rtol=1e-4,
                                       msg=lambda s: f'width {m}: {s}')


def _timm_options(name, converted):
    """Our options for a timm MobileNetV3 variant: what the converter infers from its weights
    (arch, width, depth, width rule), checked against the variant's name; timm's ``tf_`` ports
    keep TF's BN eps and "SAME" padding."""
    from mnv3_plugin.converters import infer_backbone_options
    record = infer_backbone_options(converted, 'timm')
    assert record is not None, f'{name}: no backbone options give its widths'
    options = {k: v for k, v in record['options'].items() if v is not None}
    if name in TIMM_NAMED:
        assert (options['arch'], options['widen_factor']) == TIMM_NAMED[name], name
        assert options['depth_multiplier'] == 1, name
    else:
        size = re.search(r'_(\d+)(d?)$', name)
        assert options['widen_factor'] == int(size.group(1)) / 100, name
        assert (options['depth_multiplier'] > 1) == bool(size.group(2)), name  # '150d': deeper
        assert options['arch'] == ('large' if '_large_' in name else 'small') + (
            '_minimal' if '_minimal_' in name else ''), name
    # timm's own models use torch's BN eps (1e-5), but mobilenetv3_rw sets TF's (1e-3)
    eps = 1e-3 if name.startswith('tf_') or name == 'mobilenetv3_rw' else 1e-5
    options['norm_cfg'] = dict(type='BN', eps=eps, momentum=0.01)
    if name.startswith('tf_'):
        options['padding'] = 'same'
    return options


def _timm_variants():
    timm = pytest.importorskip('timm')
    return timm.list_models('*mobilenetv3*')


def _check_timm(ref, options, x):
    from mnv3_plugin.converters import convert_timm
    ref = _randomize_bn(ref).eval()
    converted = convert_timm(ref.state_dict())
    options = options or _timm_options(ref.default_cfg['architecture'], converted)
    ours = _classifier(**options)
    ours.load_state_dict(converted, strict=True)
    with torch.no_grad():
        torch.testing.assert_close(ours.backbone(x)[-1], ref.forward_features(x), atol=1e-5,
                                   rtol=1e-4)
        # timm's head is a 1x1 conv on the pooled map, ours a Linear: float32 rounding
        a, b = ours(x, mode='tensor'), ref(x)
        assert (a - b).abs().max() <= 1e-5 * max(1.0, b.abs().max())


@pytest.mark.parametrize('name', _timm_variants())
def test_every_timm_variant_converts_and_matches(name):
    import timm
    torch.manual_seed(0)
    # odd sizes: TF's SAME padding of the tf_ ports is asymmetric there
    _check_timm(timm.create_model(name, pretrained=False), None, torch.randn(2, 3, 65, 71))


def test_timm_width_sweep_converts_and_matches():
    from timm.models.mobilenetv3 import _gen_mobilenet_v3
    x = torch.randn(1, 3, 64, 64)
    for arch in ('large', 'small'):
        for m in SWEEP:
            torch.manual_seed(0)
            _check_timm(_gen_mobilenet_v3(f'mobilenetv3_{arch}_100', m),
                        dict(arch=arch, widen_factor=m, width_rule='timm',
                             norm_cfg=dict(type='BN', eps=1e-5, momentum=0.01)), x)


def test_timm_depth_sweep_converts_and_matches():
    """timm's depth multiplier (ceil per stage, shared among a stage's block definitions) at
    multipliers that drop, keep and add blocks."""
    from timm.models.mobilenetv3 import _gen_mobilenet_v3
    x = torch.randn(1, 3, 32, 32)
    for arch in ('large', 'small'):
        for depth in (0.25, 0.5, 0.75, 1.2, 1.5, 2.0):
            torch.manual_seed(0)
            _check_timm(_gen_mobilenet_v3(f'mobilenetv3_{arch}_100', 1.0, depth_multiplier=depth),
                        dict(arch=arch, depth_multiplier=depth, width_rule='timm',
                             norm_cfg=dict(type='BN', eps=1e-5, momentum=0.01)), x)


def test_timm_named_variants_are_registered_and_documented():
    timm = pytest.importorskip('timm')
    assert set(TIMM_NAMED) <= set(timm.list_models('*mobilenetv3*'))
    docs = (ROOT / 'docs/backbones.md').read_text()
    assert all(f'`{name}`' in docs and f"`arch='{arch}'`" in docs
               for name, (arch, _) in TIMM_NAMED.items())


# -- newcomer experience: build progress, no pkg_resources warnings ---------------------------
FAKE_NINJA = ['[1/4] c++ -MMD -c /src/mmcv/ops/csrc/pytorch/nms.cpp -o nms.o',
              '[2/4] c++ -MMD -c /src/mmcv/ops/csrc/pytorch/roi_align.cpp -o roi_align.o',
              '[3/4] c++ -MMD -c /src/mmcv/ops/csrc/pytorch/cpu/nms.cpp -o cpu_nms.o',
              '[4/4] c++ -shared *.o -o _ext.so']


def test_build_progress_counts_a_growing_fake_log(tmp_path):
    """tools/setup_env.sh runs tools/misc/build_progress.py beside the mmcv build; here on a
    fake ninja log written while it watches."""
    log = tmp_path / 'build.log'
    writer = subprocess.Popen([sys.executable, '-c', f"""
import sys, time
lines = {FAKE_NINJA!r}
with open({str(log)!r}, 'w') as f:
    f.write('running bdist_wheel\\n'); f.flush()
    for line in lines:
        time.sleep(0.6); f.write(line + '\\n'); f.flush()
    time.sleep(0.6)
"""])
    proc = subprocess.run([sys.executable, ROOT / 'tools/misc/build_progress.py', log, '--pid',
                           str(writer.pid), '--interval', '0.25', '--start', str(time.time())],
                          capture_output=True, text=True, timeout=60)
    writer.wait()
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and len(lines) >= 4, proc.stdout + proc.stderr
    counts = [int(re.search(r'mmcv build: (\d+)(?:/4)? files compiled, 0m0\ds elapsed', line)
                  .group(1)) for line in lines]
    assert counts == sorted(counts) and counts[-1] >= 3 and counts[0] <= 1
    # without ninja: compiler commands are counted, no total known
    log.write_text('gcc -c a.cpp -o a.o\ngcc -c b.cc -o b.o\nwriting wheel\n')
    once = subprocess.run([sys.executable, ROOT / 'tools/misc/build_progress.py', log, '--once'],
                          capture_output=True, text=True, timeout=60).stdout
    assert once.startswith('[setup] mmcv build: 2 files compiled, 0m')
    script = (ROOT / 'tools/setup_env.sh').read_text()
    assert 'build_progress.py" "$LOG" --pid "$BUILD_PID"' in script and 'pip wheel -v' in script


def test_tools_print_no_pkg_resources_warnings():
    proc = run_tool(['tools/misc/print_config.py',
                     'configs/segmentation/lraspp_v3large_os16_cityscapes.py'])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'pkg_resources' not in proc.stderr
    # the pin that makes pkg_resources importable stays
    assert re.search(r'setuptools[^\n]*<\s*82', (ROOT / 'requirements/build.txt').read_text())


# -- the Table 8 submission writer: trainIds -> official labelIds PNGs -------------------------
def test_submission_writer_round_trips_the_official_label_table(tmp_path):
    """The -test configs' evaluator (mmseg's CityscapesMetric, format_only) writes one labelIds
    PNG per image, named as the benchmark expects; mapping the PNG back through
    cityscapesscripts' label table gives the predicted trainIds exactly."""
    import numpy as np
    from cityscapesscripts.helpers.labels import id2label, trainId2label
    from mmengine.registry import init_default_scope
    from mmseg.registry import METRICS
    from PIL import Image

    from mnv3_plugin.apis import load_config
    req = (ROOT / 'requirements/runtime.txt').read_text()
    assert re.search(r'^cityscapesscripts==[\d.]+$', req, re.M)
    cfg = load_config(str(ROOT / 'configs/segmentation/'
                                 'lraspp_v3large-rf2_w100_os16_cityscapes-test.py'))
    evaluator = dict(cfg.test_evaluator, output_dir=str(tmp_path / 'submission'))
    assert evaluator['type'] == 'CityscapesMetric' and evaluator['format_only']
    init_default_scope('mmseg')
    metric = METRICS.build(evaluator)
    gen = torch.Generator().manual_seed(0)
    names = ['berlin_000000_000019', 'bielefeld_000000_000321']
    preds = [torch.randint(0, 19, (1, 32, 64), generator=gen) for _ in names]
    samples = [dict(pred_sem_seg=dict(data=p), img_path=f'data/cityscapes/leftImg8bit/test/'
                    f'{n.split("_")[0]}/{n}_leftImg8bit.png') for p, n in zip(preds, names)]
    metric.process({}, samples)
    metric.compute_metrics(metric.results)
    for pred, name in zip(preds, names):
        png = Image.open(tmp_path / 'submission' / f'{name}_leftImg8bit.png')
        label_ids = np.array(png)
        assert label_ids.shape == (32, 64) and label_ids.dtype == np.uint8
        assert all(not id2label[int(i)].ignoreInEval for i in np.unique(label_ids))
        back = np.vectorize(lambda i: id2label[int(i)].trainId)(label_ids)
        np.testing.assert_array_equal(back, pred[0].numpy())
    written = {int(i) for p in (tmp_path / 'submission').glob('*.png')
               for i in np.unique(np.array(Image.open(p)))}
    assert written == {trainId2label[t].id for t in range(19)}  # every class, official ids


# -- two nodes on the loopback address: identical weights on both ranks -----------------------
def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_dist_train_two_nodes_on_loopback(tmp_path):
    """tools/dist_train.sh with NNODES=2: one launcher per "machine" (here two processes on
    127.0.0.1), one training process each; DDP keeps both ranks' weights identical."""
    from mnv3_plugin.testing import fixture_classifier_config, make_imagenet
    data = make_imagenet(tmp_path / 'imagenet', num_train=16, num_val=4, size=(64, 64), seed=4)
    cfg = tmp_path / 'two_nodes.py'
    cfg.write_text(fixture_classifier_config(str(CLS_CFG), data, batch_size=4, extra="""
custom_imports = dict(imports=['mnv3_plugin', 'mnv3_rank_hook'], allow_failed_imports=False)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=1, val_interval=2)  # 16 images / 2 ranks / batch 4 = 2 iterations
custom_hooks = [dict(type='DumpRankStateHook')]
"""))
    port = str(_free_port())
    env = dict(os.environ, PYTHONPATH=str(ROOT / 'tests/helpers'), OMP_NUM_THREADS='1',
               CUDA_VISIBLE_DEVICES='', PYTHON=sys.executable, NNODES='2', PORT=port,
               MASTER_ADDR='127.0.0.1')
    nodes = [subprocess.Popen(['bash', 'tools/dist_train.sh', str(cfg), '1', '--work-dir',
                               str(tmp_path / 'work')], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=dict(env, NODE_RANK=str(rank))) for rank in (0, 1)]
    try:
        outs = [node.communicate(timeout=300)[0] for node in nodes]
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
    assert [node.returncode for node in nodes] == [0, 0], outs[0][-3000:] + outs[1][-3000:]
    ranks = [json.loads((tmp_path / 'work' / f'rank{r}_after_train.json').read_text())
             for r in (0, 1)]
    assert [r['rank'] for r in ranks] == [0, 1] and [r['iter'] for r in ranks] == [2, 2]
    assert ranks[0]['params'] == pytest.approx(ranks[1]['params'], rel=1e-6, abs=1e-6)
    before = json.loads((tmp_path / 'work' / 'rank0_before_train.json').read_text())
    assert before['params'] != pytest.approx(ranks[0]['params'])  # it trained


def test_guarded_models_deepcopy_and_pickle():
    """EMA deep-copies the model and users torch.save whole models: the guard allows both,
    and guarding a copy leaves the original's guard in place (one per BN)."""
    import copy
    import io

    from mnv3_plugin.apis import build_model
    from mnv3_plugin.batch_check import BatchNormBatchError, guard_batch_norm
    model = guard_batch_norm(build_model(
        str(ROOT / 'configs/segmentation/raspp-f256_v3large_w100_os16_cityscapes.py')))
    twin = guard_batch_norm(copy.deepcopy(model))
    torch.save(model, io.BytesIO())
    for m in (model, twin):
        assert len(m.decode_head.image_pool.bn._forward_pre_hooks) == 1
        with pytest.raises(BatchNormBatchError, match='decode_head.image_pool.bn'):
            m.train()(torch.randn(1, 3, 64, 64), mode='tensor')
