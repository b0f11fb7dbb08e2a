"""int8 with NNCF (issue 11, item 3): PTQ and QAT through tools/train.py and tools/test.py on
fixture data, resume, and the OpenVINO IR export checked against the fake-quant model.

An int8 config is a config plus ``runner_type='mnv3_plugin.QuantizationRunner'`` and a
``quantization`` dict (mnv3_plugin/deploy/quantize.py).
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

import mnv3_plugin  # noqa: F401
from mnv3_plugin import metafile
from mnv3_plugin.deploy.model import load_model

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
# Table 4's V3-Small int8 config and its Table 3 row: the fixture runs QAT and PTQ of that config
INT8 = ROOT / 'configs/classification/v3small-int8_w100_r224_imagenet.py'
BASE = ROOT / 'configs/classification/v3small_w100_r224_imagenet.py'

pytestmark = pytest.mark.slow


def run(args, timeout=600, cwd=ROOT):
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    env['PYTHONPATH'] = os.pathsep.join(p for p in (str(ROOT), os.environ.get('PYTHONPATH'))
                                        if p)
    return subprocess.run([PY, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=env)


def ok(proc):
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def one_error_line(proc):
    """The single ``error:`` line of a tool that failed without a traceback."""
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith('error:')]
    assert len(lines) == 1, proc.stderr[-3000:]
    return lines[0]


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """Fixture ImageNet at 64x64, the Table 3 row (V3-Small 1.0) on it with an fp32 checkpoint,
    and Table 4's int8 config of that row on it: QAT with the config's epoch-based freezing, BN
    statistics frozen from the start and quantizer ranges after 1 epoch (of 4 iterations)."""
    from mnv3_plugin.testing import fixture_classifier_config, make_imagenet
    tmp = tmp_path_factory.mktemp('int8')
    data = make_imagenet(tmp / 'imagenet', num_train=32, num_val=8, size=(64, 64), seed=3)
    fp32_cfg = tmp / 'v3small_fixture.py'
    fp32_cfg.write_text(fixture_classifier_config(str(BASE), data))
    torch.manual_seed(0)
    model = load_model(Config.fromfile(str(fp32_cfg)))
    model.init_weights()
    fp32 = tmp / 'fp32.pth'
    torch.save(dict(state_dict=model.state_dict(), meta={}), fp32)
    qat_cfg = tmp / 'v3small-int8_fixture.py'
    qat_cfg.write_text(fixture_classifier_config(str(INT8), data, extra=f"""
quantization = dict(checkpoint='{fp32}', subset_size=16, freeze_bn_after=0,
                    freeze_quantizers_after=1)
optim_wrapper = dict(optimizer=dict(lr=0.05))  # the config's SGD, a rate that moves in 4 steps
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
"""))
    return dict(tmp=tmp, fp32=fp32, fp32_cfg=fp32_cfg, qat_cfg=qat_cfg)


@pytest.fixture(scope='module')
def qat_run(setup):
    work = setup['tmp'] / 'qat'
    out = ok(run(['tools/train.py', setup['qat_cfg'], '--work-dir', work]))
    return work, out


def test_qat_trains_with_bn_frozen_and_saves_an_int8_checkpoint(setup, qat_run):
    work, out = qat_run
    assert 'int8 qat: calibrating NNCF quantizers on 16 images of train_dataloader' in out
    assert 'quantizer ranges frozen' not in out  # after 1 epoch: not in the first
    ckpt = torch.load(work / 'epoch_1.pth', map_location='cpu', weights_only=False)
    assert 'nncf_config' in ckpt['meta']
    state = ckpt['state_dict']
    scales = [k for k in state if k.startswith('__nncf_hooks') and k.endswith('scale')]
    assert len(scales) > 50  # every conv's weight and input
    fp32 = torch.load(setup['fp32'], map_location='cpu', weights_only=False)['state_dict']
    bn_stats = [k for k in fp32 if k.endswith('running_mean') or k.endswith('running_var')]
    # BN statistics frozen from epoch 0: exactly the fp32 checkpoint's
    assert bn_stats and all(torch.equal(state[k], fp32[k]) for k in bn_stats)
    # while the weights trained
    conv = 'backbone.layers.1.dw.conv.weight'
    assert not torch.equal(state[conv], fp32[conv])


def test_qat_checkpoint_tests_and_resumes(setup, qat_run):
    work, _ = qat_run
    out = ok(run(['tools/test.py', setup['qat_cfg'], work / 'epoch_1.pth', '--work-dir', work]))
    assert 'int8: restoring NNCF quantizers from' in out and 'accuracy/top1' in out
    assert 'calibrating' not in out
    out = ok(run(['tools/train.py', setup['qat_cfg'], '--work-dir', work, '--resume',
                  '--cfg-options', 'train_cfg.max_epochs=2']))
    assert 'int8: restoring NNCF quantizers from' in out
    assert 'resumed epoch: 1' in out.lower() or 'Auto resumed' in out
    assert (work / 'epoch_2.pth').is_file()
    assert 'Epoch(train) [2][4/4]' in out and 'Epoch(train) [1][' not in out
    # by_epoch=True: the quantizer ranges freeze at the first iteration of the second epoch
    assert 'quantizer ranges frozen at iteration 4 (epoch 2)' in out


def test_ptq_through_tools_test(setup):
    """PTQ of the Table 4 config; the fp32 checkpoint given to tools/test.py wins over the
    config's quantization.checkpoint (here one that does not exist)."""
    out = ok(run(['tools/test.py', setup['qat_cfg'], setup['fp32'], '--work-dir',
                  setup['tmp'] / 'ptq', '--cfg-options', 'quantization.method=ptq',
                  'quantization.checkpoint=/nonexistent/fp32.pth']))
    assert 'int8 ptq: calibrating NNCF quantizers on 16 images of train_dataloader' in out
    assert f'int8: fp32 weights from {setup["fp32"]}' in out and 'accuracy/top1' in out


@pytest.mark.parametrize('tool', ['tools/test.py', 'tools/deployment/quantize.py'])
def test_int8_config_without_data_is_one_line(setup, tmp_path, tool):
    """Missing data of an int8 config: the whole of stderr is the one error line, naming each
    missing path with its loader and the keys that move it (tools/test.py: its test split and
    the calibration split the fp32 checkpoint needs; quantize.py: the calibration split), and
    no torch warning about torchao's enum above it."""
    options = ['quantization.method=ptq', 'train_dataloader.dataset.data_root=/nonexistent/calib']
    args = [tool, setup['qat_cfg'], setup['fp32']]
    if tool == 'tools/test.py':
        args += ['--work-dir', tmp_path]
        options.append('test_dataloader.dataset.data_root=/nonexistent/test')
    else:
        args += ['--shape', 64, 64, '--out', tmp_path / 'm.xml']
    proc = run([*args, '--cfg-options', *options])
    line = one_error_line(proc)
    assert proc.stderr.strip().splitlines() == [line]
    assert "'/nonexistent/calib/train' (train_dataloader" in line
    assert 'train_dataloader.dataset.data_root=DIR' in line
    if tool == 'tools/test.py':
        assert line.startswith('error: int8 ptq has no data: ')
        assert "'/nonexistent/test/val' (test_dataloader)" in line
        assert '(train_dataloader, calibration)' in line
    else:
        assert line.startswith('error: int8 ptq has no calibration data: ')
        assert 'test_dataloader' not in line
    assert not list(tmp_path.glob('*.xml'))


def test_int8_config_without_its_fp32_checkpoint(setup, tmp_path):
    """Table 4's config quantizes its row's checkpoint where tools/train.py writes it; when that
    file is missing, training stops at once with one line naming it."""
    line = one_error_line(run(
        [ROOT / 'tools/train.py', setup['qat_cfg'], '--work-dir', tmp_path / 'work',
         '--cfg-options',  # the config's own default, relative to the (empty) working folder
         f'quantization.checkpoint={Config.fromfile(str(INT8)).quantization.checkpoint}'],
        cwd=tmp_path))
    assert 'work_dirs/v3small_w100_r224_imagenet/epoch_600.pth' in line
    assert 'does not exist' in line and 'quantization.checkpoint=' in line
    assert not (tmp_path / 'work').exists() or not list((tmp_path / 'work').rglob('*.pth'))


def test_quantize_tool_writes_checked_openvino_ir(setup, qat_run, tmp_path):
    work, _ = qat_run
    out = ok(run(['tools/deployment/quantize.py', setup['qat_cfg'], work / 'epoch_1.pth',
                  '--shape', 64, 64, '--out', tmp_path / 'qat.xml']))
    assert 'restoring its NNCF quantizers' in out
    assert 'check OK   openvino int8 vs PyTorch fake-quant' in out
    assert (tmp_path / 'qat.xml').is_file() and (tmp_path / 'qat.bin').is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['qat.bin', 'qat.xml']


def test_quantization_hook_freezes_quantizer_ranges():
    """The hook stops gradient updates of every NNCF quantizer from the given iteration."""
    from types import SimpleNamespace

    from mnv3_plugin.deploy.quantize import QuantizationHook, quantize_ptq, quantizers
    model = load_model(Config.fromfile(str(BASE)))
    q = quantize_ptq(model, [torch.randn(4, 3, 64, 64)])
    trainable = [p for m in quantizers(q) for p in m.parameters() if p.requires_grad]
    assert trainable
    hook = QuantizationHook(freeze_quantizers_after=3)
    runner = SimpleNamespace(model=q, iter=2, logger=SimpleNamespace(info=lambda s: None))
    hook.before_train_iter(runner, 0)
    assert all(p.requires_grad for p in trainable)
    runner.iter = 3
    hook.before_train_iter(runner, 0)
    assert not any(p.requires_grad for p in trainable)


# torchvision's QAT of mobilenet_v3_large: pytorch/vision references/classification/README.md
# ("QAT MobileNetV3": 8 GPUs, --lr 0.001 --wd 0.00001) and the defaults of
# references/classification/train_quantization.py for the flags it does not give
TORCHVISION_QAT = dict(gpus=8, batch_size=32, lr=0.001, weight_decay=1e-5, momentum=0.9,
                       epochs=90, lr_step_size=30, lr_gamma=0.1,
                       num_observer_update_epochs=4, num_batch_norm_update_epochs=3)


def torchvision_frozen(epochs, flag):
    """Per epoch, whether torchvision's loop runs it frozen: it trains epoch e, then freezes
    (disable_observer / freeze_bn_stats) when e >= flag."""
    frozen, state = [], False
    for e in range(epochs):
        frozen.append(state)
        state = state or e >= flag
    return frozen


def _load_tool(name, path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TABLE4 = [e for e in metafile.load_models() if str(e['Paper']['Table']) == '4']


@pytest.mark.parametrize('entry', TABLE4, ids=[e['Name'] for e in TABLE4])
def test_table4_qat_schedule_is_torchvisions(entry):
    """Each Table 4 config's optimizer, batch, run length, lr at every epoch and the epochs with
    BN statistics and quantizer ranges frozen are torchvision's QAT recipe."""
    from types import SimpleNamespace

    from torch import nn

    from mnv3_plugin.apis import load_config
    from mnv3_plugin.deploy.quantize import QuantizationHook, QuantizationSettings
    tv = TORCHVISION_QAT
    cfg = load_config(str(ROOT / entry['Config']))
    assert cfg.runner_type == 'mnv3_plugin.QuantizationRunner'
    assert cfg.optim_wrapper.optimizer.to_dict() == dict(
        type='SGD', lr=tv['lr'], momentum=tv['momentum'], weight_decay=tv['weight_decay'])
    assert cfg.train_dataloader.batch_size == tv['batch_size']
    assert cfg.auto_scale_lr.base_batch_size == tv['gpus'] * tv['batch_size']
    assert cfg.train_cfg.max_epochs == tv['epochs'] and not cfg.custom_hooks  # no EMA
    # the learning rate of every iteration, 2 iterations per epoch on 8 GPUs
    vis = _load_tool('vis_scheduler', 'tools/analysis/vis_scheduler.py')
    run_ = vis.simulate(cfg, 2 * tv['gpus'] * tv['batch_size'])
    assert run_['lr_scale'] == 1.0 and run_['epoch_length'] == 2
    expected = [tv['lr'] * tv['lr_gamma'] ** (i // 2 // tv['lr_step_size'])
                for i in range(2 * tv['epochs'])]
    np.testing.assert_allclose(run_['lr'], expected, rtol=1e-9)
    # the epochs run with BN statistics / quantizer ranges frozen
    settings = QuantizationSettings.from_cfg(cfg.quantization)
    hook = QuantizationHook(settings.freeze_bn_after, settings.freeze_quantizers_after,
                            settings.by_epoch)
    model = nn.Sequential(nn.BatchNorm2d(1))
    bn, ranges = [], []
    for epoch in range(tv['epochs']):
        model.train()
        runner = SimpleNamespace(model=model, epoch=epoch, iter=2 * epoch,
                                 logger=SimpleNamespace(info=lambda s: None))
        hook.before_train_iter(runner, 0)
        bn.append(not model[0].training)
        ranges.append(hook.quantizers_frozen)
    assert bn == torchvision_frozen(tv['epochs'], tv['num_batch_norm_update_epochs'])
    assert ranges == torchvision_frozen(tv['epochs'], tv['num_observer_update_epochs'])
    assert bn.index(True) == 4 and ranges.index(True) == 5  # 4 and 5 epochs updated
