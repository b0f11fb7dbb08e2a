"""A trained model on every runtime, side by side: export, int8, accuracy and latency.

:func:`compare_runtimes` is the README demo's deploy step (``tools/run_demo.py``), and
``benchmarks/int8_accuracy.py`` runs it for the segmentation PTQ result. From a config and its
trained checkpoint it

1. exports the BN-folded network to ONNX, checked against PyTorch on real validation images
   (:func:`~mnv3_plugin.deploy.export.export_checked`, as ``tools/deployment/export.py``);
2. quantizes the model with NNCF post-training quantization on the config's own train loader
   (:func:`~mnv3_plugin.deploy.quantize.calibrate`, as ``tools/deployment/quantize.py``) and
   exports the int8 model to OpenVINO IR, checked against the PyTorch fake-quant model
   (:func:`~mnv3_plugin.deploy.quantize.export_openvino_checked`);
3. evaluates PyTorch, ONNX Runtime fp32, OpenVINO fp32 (the same ONNX file) and OpenVINO int8
   with the config's own evaluator on its validation split
   (:func:`~mnv3_plugin.deploy.evaluate.evaluate_backend`);
4. times each in the paper's protocol (Section 6.1.2: one thread, batch 1, warm-up, median) at
   the validation images' size; PyTorch in deploy mode (BN folded, channels-last).

:func:`format_table` prints the result.
"""
import importlib.util
import os
import os.path as osp
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import torch

from .errors import DeployError

# what the deploy step imports (requirements/deploy.txt)
PACKAGES = ('onnx', 'onnxscript', 'onnxruntime', 'openvino', 'nncf', 'torchao')
RUNTIMES = ('PyTorch fp32', 'ONNX Runtime fp32', 'OpenVINO fp32', 'OpenVINO int8')


def missing_packages(packages=PACKAGES) -> List[str]:
    """The deployment packages that are not installed (found without importing them)."""
    return [p for p in packages if importlib.util.find_spec(p) is None]


@dataclass
class RuntimeResult:
    """One row of the table.

    Attributes:
        runtime: one of :data:`RUNTIMES`.
        metric: the task's metric on the validation images (mIoU or top-1, percent).
        latency_ms: median forward time, one thread, batch 1, in milliseconds.
        path: the file the runtime ran ('' for PyTorch).
    """
    runtime: str
    metric: float
    latency_ms: float
    path: str = ''


@dataclass
class Comparison:
    """What :func:`compare_runtimes` measured.

    Attributes:
        rows: one :class:`RuntimeResult` per runtime of :data:`RUNTIMES`.
        metric_name: 'mIoU' or 'accuracy/top1'.
        shape: (H, W) of the exported graphs and the latency input.
        num_images: validation images evaluated.
        seconds: wall time of each phase ('export', 'int8', 'evaluate', 'latency').
    """
    rows: List[RuntimeResult]
    metric_name: str
    shape: tuple
    num_images: int
    seconds: Dict[str, float] = field(default_factory=dict)

    def row(self, runtime: str) -> RuntimeResult:
        return next(r for r in self.rows if r.runtime == runtime)


def compare_runtimes(cfg, checkpoint: str, out_dir: str, subset_size: int = 16,
                     max_images: Optional[int] = None, num_check: int = 2, warmup: int = 5,
                     runs: int = 20, rounds: int = 1,
                     log: Callable[[str], None] = print) -> Comparison:
    """Exports, quantizes, evaluates and times ``checkpoint`` on every runtime (module docstring).

    Args:
        cfg: the model's mmengine ``Config`` (its ``train_dataloader`` calibrates,
            ``val_dataloader`` and ``val_evaluator`` evaluate).
        checkpoint: the trained fp32 ``.pth``.
        out_dir: where ``<stem>.onnx`` (fp32) and ``<stem>_int8.xml``/``.bin`` are written.
        subset_size: calibration images for NNCF PTQ (NNCF's default is 300; a small model's
            ranges settle with far fewer).
        max_images: validation images to evaluate (default: all).
        num_check: validation images for the output checks of the exports.
        warmup: untimed runs before timing.
        runs: timed runs per round; the median is reported.
        rounds: interleaved timing rounds; the best round's median is kept
            (:func:`mnv3_plugin.analysis.interleaved_latency`).
        log: progress and check lines.

    Returns:
        A :class:`Comparison`.

    Raises:
        DeployError: a deployment package is missing, the checkpoint does not match the config,
            or an export's output check fails (no file is written for a failed export).
    """
    missing = missing_packages()
    if missing:
        raise DeployError(f'{", ".join(missing)} not installed; install the pinned deployment '
                          f'packages with `pip install -r requirements/deploy.txt`')
    from ..analysis import interleaved_latency
    from .evaluate import METRIC_KEYS, build_val, evaluate_backend, first_inputs, take_images
    from .export import export_checked
    from .latency import torch_deploy
    from .model import NetworkForward, load_model, task_of
    from .quantize import QuantizationSettings, calibrate, export_openvino_checked
    from .runtime import OnnxRuntimeBackend, OpenVINOBackend

    seconds = {}
    start = time.monotonic()
    model = load_model(cfg, checkpoint)
    metric = METRIC_KEYS.get(task_of(model))
    if metric is None:
        raise DeployError(f'compare_runtimes evaluates {", ".join(METRIC_KEYS)} models')
    loader, evaluator = build_val(cfg)
    inputs = first_inputs(model, loader, num_check)
    shape = tuple(inputs[0].shape[2:])
    stem = osp.splitext(osp.basename(cfg.filename or 'model'))[0]
    os.makedirs(out_dir, exist_ok=True)
    onnx_path = osp.join(out_dir, f'{stem}.onnx')
    log(f'exporting to ONNX at {shape[0]}x{shape[1]}')
    export_checked(model, 'onnx', onnx_path, inputs, log=log)
    seconds['export'] = time.monotonic() - start

    start = time.monotonic()
    settings = QuantizationSettings(method='ptq', subset_size=subset_size)
    qmodel = calibrate(model, cfg, settings, log)
    xml_path = osp.join(out_dir, f'{stem}_int8.xml')
    qnet = NetworkForward(qmodel).eval()
    export_openvino_checked(qnet, inputs, xml_path, log=log, output_names=qnet.output_names())
    seconds['int8'] = time.monotonic() - start

    start = time.monotonic()
    backends = {
        'PyTorch fp32': (None, ''),
        'ONNX Runtime fp32': (OnnxRuntimeBackend(onnx_path), onnx_path),
        'OpenVINO fp32': (OpenVINOBackend(onnx_path), onnx_path),
        'OpenVINO int8': (OpenVINOBackend(xml_path), xml_path),
    }
    _check(model, backends['OpenVINO fp32'][0], inputs, 'openvino fp32', log)
    # the images once (each runtime sees the same ones); all of them when max_images is None
    data = loader if max_images is None else take_images(loader, max_images)
    metrics = {name: evaluate_backend(model, backend, data, evaluator, max_images)[metric]
               for name, (backend, _) in backends.items()}
    num_images = len(loader.dataset)
    if max_images is not None:
        num_images = min(num_images, max_images)
    seconds['evaluate'] = time.monotonic() - start

    start = time.monotonic()
    x = inputs[0]
    deploy = torch_deploy(model)
    x_nhwc = x.contiguous(memory_format=torch.channels_last)
    fns = {name: (lambda b=backend: b(x)) for name, (backend, _) in backends.items()
           if backend is not None}
    fns['PyTorch fp32'] = lambda: deploy(x_nhwc, mode='tensor')
    times = interleaved_latency(fns, rounds=rounds, warmup=warmup, runs=runs, threads=1)
    seconds['latency'] = time.monotonic() - start
    rows = [RuntimeResult(name, metrics[name], times[name], path)
            for name, (_, path) in backends.items()]
    return Comparison(rows, metric, shape, num_images, seconds)


def _check(model, backend, inputs, runtime: str, log: Callable[[str], None]) -> None:
    """The export tool's output check of one more runtime (logits within 1e-4 of PyTorch's)."""
    from .export import check_backend
    results = check_backend(model, backend, inputs, runtime)
    for res in results:
        log(str(res))
    if not all(res.ok for res in results):
        raise DeployError(f'{runtime}\'s outputs differ from PyTorch\'s (see the check lines)')


def format_table(result: Comparison) -> List[str]:
    """The comparison as aligned text lines: a header, one line per runtime, the protocol.

    Example::

        runtime             mIoU   latency ms
        PyTorch fp32       88.12        61.30
        ...
    """
    name = 'top-1' if result.metric_name == 'accuracy/top1' else result.metric_name
    lines = [f'{"runtime":<18} {name:>7} {"latency ms":>11}']
    for r in result.rows:
        lines.append(f'{r.runtime:<18} {r.metric:>7.2f} {r.latency_ms:>11.2f}')
    h, w = result.shape
    lines.append(f'({name} on {result.num_images} val images; latency: one thread, batch 1, '
                 f'{h}x{w}, median after warm-up; PyTorch in deploy mode)')
    return lines
