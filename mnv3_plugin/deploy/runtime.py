"""Runtimes for exported models and the post-processing that runs outside their graphs.

Backends run an exported network forward (:class:`~mnv3_plugin.deploy.model.NetworkForward`)
and return its outputs as float32 tensors:

- :class:`TorchBackend`: a ``torch.nn.Module`` (eager or ``torch.export``'s ``.module()``);
- :class:`OnnxRuntimeBackend`: an ``.onnx`` file on ONNX Runtime's CPU execution provider;
- :class:`OpenVINOBackend`: an ``.onnx`` file or OpenVINO IR (``.xml`` + ``.bin``) on the CPU.

:func:`postprocess` turns the raw outputs into what the OpenMMLab model's ``predict`` gives:
class scores, a segmentation map at the input size, or the detector's boxes after decoding
and NMS (mmdet's own ``predict_by_feat`` of the config's head, so the detections equal
PyTorch's ``predict``).

All backends default to one thread, the paper's latency protocol (Section 6.1.2).
"""
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import torch
from torch import nn

from .errors import DeployError, require

BACKENDS = ('torch', 'onnxruntime', 'openvino')


class TorchBackend:
    """A module run under ``torch.inference_mode``.

    Args:
        module: maps a (1, 3, H, W) tensor to a tuple of tensors.
        threads: torch intra-op threads while running (restored after).
    """

    name = 'torch'

    def __init__(self, module: nn.Module, threads: int = 1):
        self.module = module
        self.threads = threads

    def __call__(self, x: torch.Tensor) -> List[torch.Tensor]:
        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with torch.inference_mode():
                out = self.module(x)
        finally:
            torch.set_num_threads(previous)
        return [o.float() for o in (out if isinstance(out, (tuple, list)) else (out,))]


class OnnxRuntimeBackend:
    """An ONNX file on ONNX Runtime's CPU execution provider.

    Args:
        path: the ``.onnx`` file (self-contained).
        threads: intra-op threads (inter-op is 1, sequential execution).

    Raises:
        DeployError: onnxruntime is not installed, or the file does not load.
    """

    name = 'onnxruntime'

    def __init__(self, path: str, threads: int = 1):
        ort = require('onnxruntime', 'the onnxruntime backend')
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), opts,
                                                providers=['CPUExecutionProvider'])
        except Exception as e:  # noqa: BLE001
            raise DeployError(f'ONNX Runtime cannot load {path!r}: {str(e).splitlines()[0]}') \
                from None
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, x: torch.Tensor) -> List[torch.Tensor]:
        outs = self.session.run(None, {self.input_name: x.detach().cpu().numpy()})
        return [torch.from_numpy(o) for o in outs]


class OpenVINOBackend:
    """An ONNX file or OpenVINO IR compiled for the CPU plug-in.

    Args:
        path: ``.onnx`` (converted on load) or ``.xml`` (IR; its ``.bin`` beside it), or an
            ``openvino.Model``.
        threads: ``INFERENCE_NUM_THREADS``; one stream, latency hint.

    Raises:
        DeployError: openvino is not installed, or the model does not load.
    """

    name = 'openvino'

    def __init__(self, path, threads: int = 1):
        ov = require('openvino', 'the openvino backend')
        core = ov.Core()
        try:
            model = path if isinstance(path, ov.Model) else core.read_model(str(path))
            self.compiled = core.compile_model(model, 'CPU', {
                'INFERENCE_NUM_THREADS': threads, 'NUM_STREAMS': 1,
                'PERFORMANCE_HINT': 'LATENCY', 'INFERENCE_PRECISION_HINT': 'f32'})
        except Exception as e:  # noqa: BLE001
            raise DeployError(f'OpenVINO cannot load {path!r}: {str(e).splitlines()[0]}') \
                from None
        self.request = self.compiled.create_infer_request()
        self.outputs = list(self.compiled.outputs)

    def __call__(self, x: torch.Tensor) -> List[torch.Tensor]:
        result = self.request.infer({0: x.detach().cpu().numpy()})
        return [torch.from_numpy(result[o].copy()) for o in self.outputs]


def load_backend(path: str, backend: str = None, threads: int = 1):
    """A backend for an exported file, chosen from ``backend`` or the file's extension.

    Args:
        path: ``.onnx``, ``.pt2`` or ``.xml``.
        backend: 'torch' (``.pt2``), 'onnxruntime' or 'openvino'; default by extension.
        threads: intra-op threads.

    Raises:
        DeployError: unknown extension, or a backend that cannot read that file.
    """
    ext = osp.splitext(str(path))[1].lower()
    backend = backend or {'.pt2': 'torch', '.onnx': 'onnxruntime', '.xml': 'openvino'}.get(ext)
    if backend == 'torch' and ext == '.pt2':
        return TorchBackend(torch.export.load(str(path)).module(), threads)
    if backend == 'onnxruntime' and ext == '.onnx':
        return OnnxRuntimeBackend(path, threads)
    if backend == 'openvino' and ext in ('.onnx', '.xml'):
        return OpenVINOBackend(path, threads)
    raise DeployError(f'cannot run {path!r} on backend {backend!r}: torch runs .pt2, '
                      f'onnxruntime .onnx, openvino .onnx and .xml')


# -- post-processing ---------------------------------------------------------------------------
def postprocess(model: nn.Module, outputs: Sequence[torch.Tensor],
                input_shape: Tuple[int, int]) -> Dict[str, torch.Tensor]:
    """What the OpenMMLab model's ``predict`` gives, from the raw network outputs of one image.

    Args:
        model: the OpenMMLab model built from the config (only its head's parameter-free
            decoding is used: a model without trained weights is enough).
        outputs: the network outputs of a batch of one (see :mod:`mnv3_plugin.deploy.model`).
        input_shape: (H, W) of the network input.

    Returns:
        classifier: ``scores`` (num_classes,) softmax, ``label`` ();
        segmentor: ``logits`` (C, H, W) resized to the input as mmseg does, ``seg`` (H, W)
        argmax;
        detector: ``bboxes`` (K, 4) x1y1x2y2 in input pixels, ``scores`` (K,), ``labels`` (K,)
        after the config's score threshold and NMS.
    """
    from .model import task_of
    task = task_of(model)
    if task == 'classifier':
        scores = torch.softmax(outputs[0][0].float(), dim=-1)
        return dict(scores=scores, label=scores.argmax())
    if task == 'segmentor':
        from mmseg.models.utils import resize
        logits = resize(outputs[0].float(), size=tuple(input_shape), mode='bilinear',
                        align_corners=model.decode_head.align_corners)[0]
        return dict(logits=logits, seg=logits.argmax(0))
    head = model.bbox_head
    n = len(outputs) // 2
    metas = [dict(img_shape=tuple(input_shape), ori_shape=tuple(input_shape),
                  scale_factor=(1.0, 1.0))]
    with torch.no_grad():
        det = head.predict_by_feat([o.float() for o in outputs[:n]],
                                   [o.float() for o in outputs[n:]],
                                   batch_img_metas=metas, rescale=False)[0]
    return dict(bboxes=det.bboxes, scores=det.scores, labels=det.labels)


def torch_predict(model: nn.Module, x: torch.Tensor) -> Dict[str, torch.Tensor]:
    """The OpenMMLab model's own ``predict`` on one preprocessed input, in the same keys as
    :func:`postprocess` (the reference the runtimes' results are checked against)."""
    from .model import task_of
    task = task_of(model)
    h, w = x.shape[2:]
    meta = dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0), pad_shape=(h, w),
                batch_input_shape=(h, w))
    with torch.no_grad():
        if task == 'detector':
            from mmdet.structures import DetDataSample
            sample = DetDataSample(metainfo=meta)
            det = model.predict(x, [sample], rescale=True)[0].pred_instances
            return dict(bboxes=det.bboxes, scores=det.scores, labels=det.labels)
        if task == 'segmentor':
            from mmseg.structures import SegDataSample
            sample = SegDataSample(metainfo=meta)
            pred = model.predict(x, [sample])[0]
            return dict(logits=pred.seg_logits.data, seg=pred.pred_sem_seg.data[0])
        from mmpretrain.structures import DataSample
        pred = model.predict(x, [DataSample()])[0]
        return dict(scores=pred.pred_score, label=pred.pred_label[0])


def require_backend(backend: str) -> None:
    """Fails at once, in one line, when the runtime of ``backend`` is not installed."""
    if backend not in BACKENDS:
        raise DeployError(f'unknown backend {backend!r}; choose one of {", ".join(BACKENDS)}')
    if backend != 'torch':
        require(backend, f'--backend {backend}')
