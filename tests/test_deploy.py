"""Deployment (issue 11): export with checked outputs, dynamic shapes, bad input.

- one config per distinct structure (every backbone arch with every head) exports to ONNX and
  .pt2 and passes the output check on fixture images (logits within 1e-4; detector: the same
  boxes after decoding + NMS, IoU >= 0.99, scores within 1e-4);
- a --dynamic export of the LR-ASPP segmentor (whose gate pool depends on the feature size)
  gives the PyTorch outputs at sizes below and above the pool kernel;
- bad input fails at once with one line, exit code != 0, no traceback and no output file.

Models get random weights with realistic statistics (:func:`realistic`; classifiers also BN
statistics measured on a random batch, :func:`recalibrate_bn`), so the logits are O(1-10), vary
from image to image, and the detector keeps boxes: a check against near-zero or input-independent
outputs would prove nothing (the export check warns then, as for freshly initialised weights).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from torch import nn

import mnv3_plugin  # noqa: F401
from mnv3_plugin.deploy import DeployError
from mnv3_plugin.deploy import check as check_mod
from mnv3_plugin.deploy import export as export_mod
from mnv3_plugin.deploy.check import compare_detections
from mnv3_plugin.deploy.export import export_checked
from mnv3_plugin.deploy.images import check_inputs
from mnv3_plugin.deploy.model import NetworkForward, load_model, task_of
from mnv3_plugin.deploy.runtime import load_backend, postprocess, torch_predict

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
CFG = ROOT / 'configs'

# one config per (backbone arch, head): every TableNet arch under every head it is used with
STRUCTURES = {
    'classification/v3large_w035_r224_imagenet': (64, 64),
    'classification/v3small_w035_r224_imagenet': (64, 64),
    'classification/v2_w035_r224_imagenet': (64, 64),
    'classification/mnasneta1_w100_r224_imagenet': (64, 64),
    'classification/mnassmall_w100_r224_imagenet': (64, 64),
    'detection/ssdlite_v3large-rf2_w100_r320_coco': (64, 64),
    'detection/ssdlite_v3small_w100_r320_coco': (64, 64),
    'detection/ssdlite_v2_w035_r320_coco': (64, 64),
    'detection/ssdlite_mnasneta1_w035_r320_coco': (64, 64),
    'detection/ssdlite_v1_w100_r320_coco': (64, 64),
    'segmentation/lraspp_v3large_os16_cityscapes': (64, 64),
    'segmentation/lraspp_v3small-rf2_w100_os16_cityscapes': (64, 64),
    'segmentation/lraspp_v2-rf2_w035_os16_cityscapes': (64, 64),
    'segmentation/raspp-f256_v3large-rf2_w100_os16_cityscapes': (64, 64),
    'segmentation/raspp-f256_v2-rf2_w100_os16_cityscapes': (64, 64),
}


# structures whose outputs barely depend on the input with these random weights (the export
# check warns): SSDLite on MobileNetV1, R-ASPP on V3-Large (to do: weights that make them
# input-dependent and still within 1e-4; BN statistics of a random batch push other dense
# heads' maps over it)
INSENSITIVE = {'detection/ssdlite_v1_w100_r320_coco',
               'segmentation/raspp-f256_v3large-rf2_w100_os16_cityscapes'}

pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


def realistic(model: nn.Module, seed: int = 0) -> nn.Module:
    """Random weights with trained-like statistics, so activations and logits stay O(1).

    Convs and linears get std 1/sqrt(fan_in) (a larger gain makes a random network chaotic,
    amplifying float rounding far beyond what a trained one does), BN non-trivial running
    statistics and affine terms.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) / fan_in ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=gen))
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
    return model.eval()


def recalibrate_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """BN running statistics set to those of the network forward on a random (2, 3, 64, 64)
    batch, as trained BN layers hold their data's statistics.

    With random weights alone (:func:`realistic`) the input's share of the activations decays
    layer by layer behind the BN biases: a V3 classifier's logits then differ by about 1e-4
    between images, so its export check cannot fail (measured by
    ``mnv3_plugin.deploy.check.input_sensitivity``); normalised activations keep it.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(seed))
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # the cumulative average: exactly this batch's statistics
        m.train()
    with torch.no_grad():
        NetworkForward(model)(x)
    for m in bns:
        m.momentum = 0.1
    return model.eval()


def build(name: str, shape=None, **options) -> nn.Module:
    cfg = Config.fromfile(str(CFG / f'{name}.py'))
    if shape is not None and 'bbox_head' in cfg.model:
        cfg.model.bbox_head.anchor_generator.input_size = tuple(shape)
    cfg.merge_from_dict(options)
    model = realistic(load_model(cfg))
    # classifiers only: the heads of the dense tasks keep input-dependent maps without it
    # (spread 0.02-0.06), and their larger recalibrated maps exceed 1e-4 by float32 rounding
    return recalibrate_bn(model) if task_of(model) == 'classifier' else model


@pytest.mark.parametrize('fmt', ['onnx', 'pt2'])
@pytest.mark.parametrize('name', list(STRUCTURES))
def test_export_passes_output_check(name, fmt, tmp_path):
    shape = STRUCTURES[name]
    model = build(name, shape)
    inputs = check_inputs(model, task_of(model), shape, num=1)
    lines = []
    out = tmp_path / f'model.{fmt}'
    report = export_checked(model, fmt, str(out), inputs, log=lines.append)
    assert report.ok and out.is_file() and not list(tmp_path.glob('.*partial*'))
    # every check passed; on outputs that depend on the input (no warning) except where these
    # random weights give input-independent outputs, which the check then says
    passed = len(report.checks) - len(report.warnings)
    assert lines and all(line.startswith('check OK') for line in lines[:passed])
    assert bool(report.warnings) == (name in INSENSITIVE), lines
    scale = report.checks[0].details['scale']
    assert scale > 0.3, f'outputs too small ({scale}) for the check to mean anything'
    if task_of(model) == 'detector':
        # boxes were kept, and the written file's decoded detections equal PyTorch's predict
        assert report.checks[1].details['num'] > 0
        x = inputs[0]
        got = postprocess(model, load_backend(str(out))(x), shape)
        assert compare_detections(torch_predict(model, x), got).ok
    if fmt == 'onnx':
        import onnx
        proto = onnx.load(str(out))  # self-contained: no external data beside it
        assert not list(tmp_path.glob('*.data'))
        assert max(o.version for o in proto.opset_import if o.domain in ('', 'ai.onnx')) >= 18


# below the pool kernel (49 feature pixels = 784 input pixels at OS16) on both sides, above it
# along one side (two or four pool windows), and the export size itself
DYNAMIC_SIZES = [(64, 128), (40, 1024), (848, 48), (96, 96)]


@pytest.mark.parametrize('fmt', ['onnx', 'pt2'])
def test_dynamic_lraspp_is_right_at_every_size(fmt, tmp_path):
    model = build('segmentation/lraspp_v3small-rf2_w100_os16_cityscapes')
    inputs = [x for s in DYNAMIC_SIZES for x in check_inputs(model, 'segmentor', s, num=1)]
    out = tmp_path / f'seg.{fmt}'
    report = export_checked(model, fmt, str(out), inputs, dynamic=True, log=lambda s: None)
    assert report.ok and len(report.checks) == len(DYNAMIC_SIZES)
    # and independently of the tool's own check: the written file at each size
    backend = load_backend(str(out))
    ref_net = NetworkForward(model)
    for x in inputs:
        with torch.no_grad():
            ref = ref_net(x)[0]
        got = backend(x)[0]
        assert got.shape == ref.shape
        torch.testing.assert_close(got, ref, rtol=0, atol=1e-4)


def test_failed_check_writes_nothing(tmp_path, monkeypatch):
    model = build('classification/v3small_w035_r224_imagenet')
    inputs = check_inputs(model, 'classifier', (64, 64), num=1)
    real = export_mod.load_exported

    def off_by_a_little(path, fmt, threads=1):
        backend = real(path, fmt, threads)
        return lambda x: [o + 2e-4 for o in backend(x)]  # just over the 1e-4 bound

    monkeypatch.setattr(export_mod, 'load_exported', off_by_a_little)
    lines = []
    with pytest.raises(DeployError, match='differ .* by more than 0.0001 .* with --atol'):
        export_checked(model, 'onnx', str(tmp_path / 'm.onnx'), inputs, log=lines.append)
    assert lines[0].startswith('check FAIL') and '> 1e-04' in lines[0]
    # the offset plus the export's own float32 rounding (logits up to about 8)
    diff = float(lines[0].split('max |diff| ')[1].split()[0])
    assert 2e-4 <= diff < 2.2e-4
    assert list(tmp_path.iterdir()) == []
    # the bound the user raises (large logits) is the one checked
    report = export_checked(model, 'onnx', str(tmp_path / 'm.onnx'), inputs, log=lines.append,
                            atol=1e-3)
    assert report.ok and '<= 1e-03' in lines[-1] and (tmp_path / 'm.onnx').is_file()


def scaled_mean(k: float):
    """A network whose one output is ``k`` times the input's mean: its spread across images is
    proportional to ``k`` (0: constant, as a network whose outputs do not depend on the input)."""
    return lambda x: [k * x.mean().reshape(1, 1)]


@pytest.mark.parametrize('k,warns', [(0.0, True), (1e-4, True), (0.1, False)])
def test_input_sensitivity_warns_on_outputs_independent_of_the_input(k, warns):
    gen = torch.Generator().manual_seed(0)
    # two sizes, one with a single image: the mean-colour image makes a pair at each size
    inputs = [torch.randn(1, 3, 8, 8, generator=gen) + 1 for _ in range(2)]
    inputs.append(torch.randn(1, 3, 8, 12, generator=gen) + 1)
    net = scaled_mean(k)
    res = check_mod.input_sensitivity(net, inputs, bound=1e-4, what='logits')
    spread = max(check_mod.output_spread([net(x) for x in xs + [torch.zeros_like(xs[0])]])
                 for xs in (inputs[:2], inputs[2:]))
    assert res.ok and res.warning == warns
    assert res.max_diff == pytest.approx(spread) and (spread <= 10 * 1e-4) == warns
    assert ('cannot detect an export error' in res.line) == warns
    assert str(res).startswith('check WARN' if warns else 'check OK')
    if warns:
        assert '\n' not in res.line and f'{spread:.2e}' in res.line


def test_detector_refuses_dynamic_and_foreign_sizes():
    model = build('detection/ssdlite_v3small_w100_r320_coco')
    with pytest.raises(DeployError, match='cannot be exported with --dynamic: its anchors'):
        export_checked(model, 'onnx', '/nonexistent/x.onnx',
                       check_inputs(model, 'detector', (320, 320), num=1), dynamic=True)
    with pytest.raises(DeployError, match='does not match the detector\'s anchors'):
        export_checked(model, 'onnx', '/nonexistent/x.onnx',
                       check_inputs(model, 'detector', (256, 256), num=1))


# -- the tool, as a user runs it ---------------------------------------------------------------
def run_tool(*args, env=None):
    env = dict(os.environ, OMP_NUM_THREADS='1', **(env or {}))
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (env.get('EXTRA_PATH'), str(ROOT), os.environ.get('PYTHONPATH')) if p)
    return subprocess.run([PY, 'tools/deployment/export.py', *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600, env=env)


def one_line_error(proc, *needles):
    assert proc.returncode != 0
    assert 'Traceback' not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith('error:')]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_tool_exports_and_prints_its_check(tmp_path):
    out = tmp_path / 'v3small.pt2'
    proc = run_tool(CFG / 'classification/v3small_w035_r224_imagenet.py', '--format', 'pt2',
                    '--shape', 64, 64, '--out', out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'check OK   torch.export vs PyTorch, 2 image(s) at 64x64: logits max |diff|' \
        in proc.stdout
    assert f'wrote {out}' in proc.stdout and out.is_file()
    # no checkpoint: initial weights, whose logits hardly depend on the image; the check passed
    # but cannot have caught anything, and the tool says so in one line
    warn = [ln for ln in proc.stdout.splitlines() if ln.startswith('check WARN')]
    assert len(warn) == 1 and 'logits vary by at most' in warn[0], proc.stdout
    assert 'trained weights' in warn[0]
    assert '1 checks passed (1 warning' in proc.stdout


@pytest.mark.parametrize('args,needles', [
    (['--format', 'tflite'], ["unsupported format 'tflite'", 'onnx, pt2']),
    (['--shape', 16, 16], ['--shape 16 16 is too small', 'at least 32']),
    # a dynamic graph starts at 33 (torch.export's guard): a check below it is refused first
    (['--dynamic', '--check-shape', 32, 32],
     ['32x32 is outside the dynamic range', 'from 33 to 4096']),
])
def test_tool_bad_arguments(tmp_path, args, needles):
    out = tmp_path / 'm.onnx'
    proc = run_tool(CFG / 'classification/v3small_w035_r224_imagenet.py', '--out', out,
                    *(args if '--shape' in args else ['--shape', 64, 64, *args]))
    one_line_error(proc, *needles)
    assert list(tmp_path.iterdir()) == []


def test_tool_checkpoint_of_another_config(tmp_path):
    other = load_model(Config.fromfile(str(CFG / 'classification/v3small_w100_r224_imagenet.py')))
    torch.save(dict(state_dict=other.state_dict(), meta={}), tmp_path / 'small.pth')
    proc = run_tool(CFG / 'classification/v3large_w100_r224_imagenet.py', tmp_path / 'small.pth',
                    '--shape', 64, 64, '--out', tmp_path / 'm.onnx')
    one_line_error(proc, 'does not match', 'of another shape',
                   'give the checkpoint trained with this config')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['small.pth']


def test_tool_missing_runtime_package(tmp_path):
    # a shadow onnxruntime that fails to import, as on a machine without it
    shadow = tmp_path / 'shadow' / 'onnxruntime'
    shadow.mkdir(parents=True)
    (shadow / '__init__.py').write_text("raise ImportError('No module named onnxruntime')\n")
    proc = run_tool(CFG / 'classification/v3small_w035_r224_imagenet.py', '--shape', 64, 64,
                    '--out', tmp_path / 'm.onnx', env=dict(EXTRA_PATH=str(shadow.parent)))
    one_line_error(proc, "needs the Python package 'onnxruntime'", 'requirements/deploy.txt')
    assert not (tmp_path / 'm.onnx').exists()
