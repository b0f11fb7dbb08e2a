"""The library behind the demo's deploy step (issue 11, items 7-9).

- a runtime's metric (:func:`mnv3_plugin.deploy.evaluate.evaluate_backend`) equals what
  mmengine's ``ValLoop`` computes for the PyTorch model (``model.val_step`` + the config's
  evaluator), for a segmentor (mIoU) and a classifier (top-1), on fixture data; and it does use
  the runtime's outputs (a runtime with other logits gets another metric);
- the demo's deploy step is skipped with one line when a deployment package is missing;
- the NNCF extension check that tools/setup_env.sh runs: built / not built / no nncf, and the
  set-up's function compiles only when the check says "not built".
"""
import importlib.util
import os
import subprocess
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from test_deploy import realistic

import mnv3_plugin  # noqa: F401
from mnv3_plugin.deploy import DeployError
from mnv3_plugin.deploy.evaluate import (METRIC_KEYS, build_val, evaluate_backend, runtime_predict,
                                         take_images)
from mnv3_plugin.deploy.export import export_checked
from mnv3_plugin.deploy.model import NetworkForward, deploy_copy, load_model
from mnv3_plugin.deploy.runtime import OnnxRuntimeBackend, TorchBackend
from mnv3_plugin.testing import fixture_classifier_config

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / 'configs/demo/lraspp_v3large-rf2_w100_os16_demo.py'
CLASSIFIER = ROOT / 'configs/classification/v3small_w035_r224_imagenet.py'

pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


def segmentor_config(root) -> Config:
    cfg = Config.fromfile(str(DEMO))
    for key in ('val_dataloader', 'test_dataloader', 'train_dataloader'):
        cfg[key].dataset.data_root = str(root)
        cfg[key].num_workers, cfg[key].persistent_workers = 0, False
    return cfg


def classifier_config(imagenet_set, tmp_path) -> Config:
    path = tmp_path / 'v3small_fixture.py'
    path.write_text(fixture_classifier_config(str(CLASSIFIER), imagenet_set))
    return Config.fromfile(str(path))


@pytest.fixture(scope='module')
def tasks(cityscapes_root, imagenet_set, tmp_path_factory):
    """task -> (cfg, model with realistic random weights, val batches, evaluator)."""
    out = {}
    for task, cfg in (('segmentor', segmentor_config(cityscapes_root)),
                      ('classifier', classifier_config(imagenet_set,
                                                       tmp_path_factory.mktemp('cls')))):
        with DefaultScope.overwrite_default_scope(cfg.default_scope):
            model = realistic(load_model(cfg))
            loader, evaluator = build_val(cfg)
            out[task] = (cfg, model, take_images(loader, len(loader.dataset)), evaluator)
    return out


def val_loop_metric(model, batches, evaluator):
    """What mmengine's ValLoop computes (``ValLoop.run_iter`` + ``evaluate``)."""
    for batch in batches:
        with torch.no_grad():
            evaluator.process(data_samples=model.val_step(batch), data_batch=batch)
    return evaluator.evaluate(sum(len(b['inputs']) for b in batches))


def predictions(samples):
    """The float prediction of each data sample: segmentation logits or class scores."""
    return [s.seg_logits.data if 'seg_logits' in s else s.pred_score for s in samples]


@pytest.mark.parametrize('task', list(METRIC_KEYS))
def test_runtime_metric_equals_val_loop(tasks, task):
    cfg, model, batches, evaluator = tasks[task]
    key = METRIC_KEYS[task]
    folded = TorchBackend(NetworkForward(deploy_copy(model)).eval())
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        reference = val_loop_metric(model, batches, evaluator)[key]
        pytorch = evaluate_backend(model, None, batches, evaluator)[key]
        runtime = evaluate_backend(model, folded, batches, evaluator)[key]
        data = model.data_preprocessor(batches[0], False)
        ref = predictions(model.val_step(batches[0]))
        got = predictions(runtime_predict(model, folded, data['inputs'], data['data_samples']))
    assert 0 < reference < 100
    assert pytorch == pytest.approx(reference, abs=1e-6)
    assert runtime == pytest.approx(reference, abs=0.05)
    assert len(got) == len(ref) == len(batches[0]['inputs'])
    for r, g in zip(ref, got):
        assert g.shape == r.shape
        torch.testing.assert_close(g, r, atol=1e-4 * max(1.0, r.abs().max().item()), rtol=0)


def test_runtime_metric_follows_the_runtime_outputs(tasks):
    """Another network's logits (other random weights) give another mIoU: the metric is the
    runtime's, not the PyTorch model's."""
    cfg, model, batches, evaluator = tasks['segmentor']
    other = TorchBackend(NetworkForward(realistic(deploy_copy(model), seed=1)).eval())
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        reference = evaluate_backend(model, None, batches, evaluator)['mIoU']
        wrong = evaluate_backend(model, other, batches, evaluator)['mIoU']
    assert abs(wrong - reference) > 0.5


def test_segmentation_on_onnxruntime(tasks, tmp_path):
    """ONNX Runtime's segmentation logits and maps at the original image size equal those of
    PyTorch's ``predict``, and so does the mIoU."""
    cfg, model, batches, evaluator = tasks['segmentor']
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        data = model.data_preprocessor(batches[0], False)
        path = tmp_path / 'seg.onnx'
        export_checked(model, 'onnx', str(path), [data['inputs'][:1]], log=lambda line: None)
        backend = OnnxRuntimeBackend(str(path))
        ref = [(s.seg_logits.data.clone(), s.pred_sem_seg.data.clone())
               for s in runtime_predict(model, None, data['inputs'], data['data_samples'])]
        got = runtime_predict(model, backend, data['inputs'], data['data_samples'])
        reference = evaluate_backend(model, None, batches, evaluator)['mIoU']
        runtime = evaluate_backend(model, backend, batches, evaluator)['mIoU']
    for (logits, seg), g in zip(ref, got):
        assert tuple(g.pred_sem_seg.shape) == tuple(g.ori_shape)
        torch.testing.assert_close(g.seg_logits.data, logits, atol=1e-4, rtol=0)
        assert (g.pred_sem_seg.data == seg).float().mean() >= 0.999
    assert runtime == pytest.approx(reference, abs=0.05)


def test_slide_inference_is_refused(tasks):
    cfg, model, batches, _ = tasks['segmentor']
    data = model.data_preprocessor(batches[0], False)
    model.test_cfg.mode = 'slide'
    try:
        with pytest.raises(DeployError, match="test_cfg.mode='whole'"):
            runtime_predict(model, lambda x: [torch.zeros(1)], data['inputs'],
                            data['data_samples'])
    finally:
        model.test_cfg.mode = 'whole'


def load_run_demo():
    spec = importlib.util.spec_from_file_location('run_demo', ROOT / 'tools' / 'run_demo.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_deploy_step_skipped_without_a_runtime(monkeypatch, capsys, tmp_path):
    from mnv3_plugin.deploy import compare
    monkeypatch.setattr(compare.importlib.util, 'find_spec',
                        lambda name: None if name == 'openvino' else object())
    assert compare.missing_packages() == ['openvino']
    with pytest.raises(DeployError, match='openvino not installed.*requirements/deploy.txt'):
        compare.compare_runtimes(None, 'ckpt.pth', str(tmp_path))
    load_run_demo().deploy(None, 'ckpt.pth', str(tmp_path / 'deploy'))
    lines = capsys.readouterr().out.splitlines()
    assert lines == ['[demo] deploy step skipped: openvino not installed '
                     '(pip install -r requirements/deploy.txt)']
    assert not (tmp_path / 'deploy').exists()


# -- NNCF's extension (tools/setup_env.sh) -----------------------------------------------------
def test_nncf_extension_check(monkeypatch, tmp_path):
    """Not built in an empty extensions folder, built once its library is there; building is
    then a no-op."""
    from mnv3_plugin.deploy import nncf_ext
    monkeypatch.setenv('TORCH_EXTENSIONS_DIR', str(tmp_path))
    missing = nncf_ext.missing_extensions()
    assert [m.name() for m in missing] == ['quantized_functions_cpu']
    assert nncf_ext.main(['--check']) == nncf_ext.NOT_BUILT
    loader = missing[0]
    assert Path(loader.get_build_dir()).is_relative_to(tmp_path)
    (Path(loader.get_build_dir()) / f'{loader.name()}.so').write_bytes(b'')
    assert nncf_ext.missing_extensions() == []
    assert nncf_ext.main(['--check']) == nncf_ext.BUILT
    lines = []
    assert nncf_ext.build(lines.append) == 0 and lines == []


def setup_function_script(fake_python: Path) -> str:
    """tools/setup_env.sh's ``nncf_extension`` function, run with ``fake_python`` as $PY."""
    text = (ROOT / 'tools' / 'setup_env.sh').read_text()
    start = text.index('nncf_extension() {')
    body = text[start:text.index('\n}\n', start) + 3]
    return (f'set -euo pipefail\nsay() {{ printf "[setup] %s\\n" "$*"; }}\n'
            f'die() {{ printf "[setup] ERROR: %s\\n" "$*" >&2; exit 1; }}\n'
            f'PY={fake_python}\n{body}nncf_extension\necho finished\n')


@pytest.mark.parametrize('check_rc,compiles', [(0, False), (1, True), (2, False)])
def test_setup_compiles_nncf_extension_only_when_missing(tmp_path, check_rc, compiles):
    """The set-up's function: says it compiles and builds when --check exits 1 (not built);
    silent and quick when built (0) or without nncf (2)."""
    calls = tmp_path / 'calls'
    fake = tmp_path / 'python'
    fake.write_text(f'#!/usr/bin/env bash\necho "$*" >> {calls}\n'
                    f'case "$*" in *--check*) exit {check_rc};; esac\n'
                    'echo "some compiler noise"\n'
                    'echo "[setup] NNCF\'s extension \'quantized_functions_cpu\' built"\n')
    fake.chmod(0o755)
    proc = subprocess.run(['bash', '-c', setup_function_script(fake)], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    args = calls.read_text().splitlines()
    assert args[0] == '-m mnv3_plugin.deploy.nncf_ext --check'
    if compiles:
        assert args[1:] == ["-m mnv3_plugin.deploy.nncf_ext --build --prefix [setup]"]
        assert proc.stdout.splitlines() == [
            "[setup] compiling NNCF's extension once (about a minute; kept in torch's "
            "extensions folder) ...",
            "[setup] NNCF's extension 'quantized_functions_cpu' built", 'finished']
    else:
        assert args[1:] == []
        assert proc.stdout.splitlines() == ['finished']
