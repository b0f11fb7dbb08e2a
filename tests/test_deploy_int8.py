"""int8 with NNCF (issue 11, item 3): PTQ and QAT through tools/train.py and tools/test.py on
fixture data, resume, and the OpenVINO IR export checked against the fake-quant model.

An int8 config is a config plus ``runner_type='mnv3_plugin.QuantizationRunner'`` and a
``quantization`` dict (mnv3_plugin/deploy/quantize.py).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

import mnv3_plugin  # noqa: F401
from mnv3_plugin.deploy.model import load_model

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
BASE = ROOT / 'configs/classification/v3small_w035_r224_imagenet.py'

pytestmark = pytest.mark.slow


def run(args, timeout=600):
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    env['PYTHONPATH'] = os.pathsep.join(p for p in (str(ROOT), os.environ.get('PYTHONPATH'))
                                        if p)
    return subprocess.run([PY, *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env=env)


def ok(proc):
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """Fixture ImageNet at 64x64, an fp32 config on it, an fp32 checkpoint, and int8 configs
    (QAT with BN frozen from the start and quantizer ranges after 2 of 4 iterations; PTQ)."""
    from mnv3_plugin.testing import fixture_classifier_config, make_imagenet
    tmp = tmp_path_factory.mktemp('int8')
    data = make_imagenet(tmp / 'imagenet', num_train=32, num_val=8, size=(64, 64), seed=3)
    fp32_cfg = tmp / 'v3small_fixture.py'
    fp32_cfg.write_text(fixture_classifier_config(str(BASE), data, extra="""
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
"""))
    torch.manual_seed(0)
    model = load_model(Config.fromfile(str(fp32_cfg)))
    model.init_weights()
    fp32 = tmp / 'fp32.pth'
    torch.save(dict(state_dict=model.state_dict(), meta={}), fp32)
    qat_cfg = tmp / 'v3small_fixture_int8_qat.py'
    qat_cfg.write_text(f"""
_base_ = '{fp32_cfg}'
custom_imports = dict(imports=['mnv3_plugin', 'mnv3_plugin.deploy'], allow_failed_imports=False)
runner_type = 'mnv3_plugin.QuantizationRunner'
quantization = dict(method='qat', checkpoint='{fp32}', subset_size=16, freeze_bn_after=0,
                    freeze_quantizers_after=2)
optim_wrapper = dict(optimizer=dict(lr=1e-4))
""")
    ptq_cfg = tmp / 'v3small_fixture_int8_ptq.py'
    ptq_cfg.write_text(f"""
_base_ = '{fp32_cfg}'
custom_imports = dict(imports=['mnv3_plugin', 'mnv3_plugin.deploy'], allow_failed_imports=False)
runner_type = 'mnv3_plugin.QuantizationRunner'
quantization = dict(method='ptq', subset_size=16)
""")
    return dict(tmp=tmp, fp32=fp32, fp32_cfg=fp32_cfg, qat_cfg=qat_cfg, ptq_cfg=ptq_cfg)


@pytest.fixture(scope='module')
def qat_run(setup):
    work = setup['tmp'] / 'qat'
    out = ok(run(['tools/train.py', setup['qat_cfg'], '--work-dir', work]))
    return work, out


def test_qat_trains_with_bn_frozen_and_saves_an_int8_checkpoint(setup, qat_run):
    work, out = qat_run
    assert 'int8 qat: calibrating NNCF quantizers on 16 images of train_dataloader' in out
    assert 'quantizer ranges frozen at iteration 2' in out
    ckpt = torch.load(work / 'epoch_1.pth', map_location='cpu', weights_only=False)
    assert 'nncf_config' in ckpt['meta']
    state = ckpt['state_dict']
    scales = [k for k in state if k.startswith('__nncf_hooks') and k.endswith('scale')]
    assert len(scales) > 50  # every conv's weight and input
    fp32 = torch.load(setup['fp32'], map_location='cpu', weights_only=False)['state_dict']
    bn_stats = [k for k in fp32 if k.endswith('running_mean') or k.endswith('running_var')]
    # BN statistics frozen from iteration 0: exactly the fp32 checkpoint's
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


def test_ptq_through_tools_test(setup):
    out = ok(run(['tools/test.py', setup['ptq_cfg'], setup['fp32'], '--work-dir',
                  setup['tmp'] / 'ptq']))
    assert 'int8 ptq: calibrating NNCF quantizers on 16 images of train_dataloader' in out
    assert f'int8: fp32 weights from {setup["fp32"]}' in out and 'accuracy/top1' in out


def test_int8_config_without_calibration_data(setup, tmp_path):
    proc = run(['tools/test.py', setup['ptq_cfg'], setup['fp32'], '--work-dir', tmp_path,
                '--cfg-options', 'train_dataloader.dataset.data_root=/nonexistent/imagenet'])
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith('error:')]
    assert len(lines) == 1 and 'int8 ptq has no calibration data' in lines[0]
    assert '/nonexistent/imagenet' in lines[0]


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
