"""The network forward on each runtime, ready to time in the paper's protocol (Section 6.1.2:
one thread, batch 1, warm-up runs, median).

:func:`prepare` returns a zero-argument callable that runs one forward of a (1, 3, H, W) input:

- ``torch``: eager PyTorch in this project's deploy mode (BN folded, channels-last);
- ``onnxruntime``: the fp32 ONNX export on ONNX Runtime's CPU execution provider;
- ``openvino``: the same ONNX file on OpenVINO's CPU plug-in, or with ``int8`` the NNCF
  post-training-quantized model exported to OpenVINO IR.

The exported files live in a temporary folder for the life of the returned callable.
"""
import copy
import os.path as osp
import tempfile
from typing import Callable, Optional, Sequence

import torch
from torch import nn

from .errors import DeployError
from .model import NetworkForward, deploy_copy
from .runtime import BACKENDS, OnnxRuntimeBackend, OpenVINOBackend, require_backend


def torch_deploy(model: nn.Module) -> nn.Module:
    """A deploy-mode copy for the torch backend (:func:`mnv3_plugin.apis.switch_to_deploy`: BN
    folded everywhere, the backbone channels-last), as ``tools/analysis/latency.py --deploy``."""
    from ..apis import switch_to_deploy
    return switch_to_deploy(copy.deepcopy(model))


class _Prepared:
    """A callable forward that keeps its temporary files alive."""

    def __init__(self, fn: Callable[[], object], tmp: Optional[tempfile.TemporaryDirectory],
                 backend: object = None):
        self.fn, self.tmp, self.backend = fn, tmp, backend

    def __call__(self):
        return self.fn()

    def close(self):
        self.backend = None
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None


def prepare(model: nn.Module, backend: str, shape: Sequence[int], int8: bool = False,
            calib_inputs: Optional[Sequence[torch.Tensor]] = None, threads: int = 1) -> _Prepared:
    """One forward on ``backend`` at ``shape``, as a callable for timing.

    Args:
        model: the eval-mode OpenMMLab model (not modified).
        backend: 'torch', 'onnxruntime' or 'openvino'.
        shape: (H, W) of the input; batch 1.
        int8: NNCF PTQ int8 (``openvino`` only: ONNX Runtime's int8 gives no speed-up on
            MobileNetV3, and torch's eager int8 is deprecated).
        calib_inputs: (1, 3, H, W) calibration inputs for ``int8`` (required then).
        threads: intra-op threads (1 in the paper's protocol).

    Returns:
        A callable with ``close()``; each call runs one forward of a fixed random input.

    Raises:
        DeployError: unknown backend, a missing runtime package, ``int8`` on a backend other
            than openvino, or ``int8`` without calibration inputs.
    """
    require_backend(backend)
    if int8 and backend != 'openvino':
        raise DeployError(f'--int8 runs on --backend openvino (NNCF int8 has a real speed-up '
                          f'there); {backend} times fp32 only')
    h, w = shape
    x = torch.randn(1, 3, h, w)
    if backend == 'torch':
        net = torch_deploy(model)
        x_torch = x.contiguous(memory_format=torch.channels_last)

        def run():
            with torch.inference_mode():
                return net(x_torch, mode='tensor')
        return _Prepared(run, None)
    tmp = tempfile.TemporaryDirectory(prefix='mnv3_latency_')
    try:
        if int8:
            if not calib_inputs:
                raise DeployError('--int8 needs calibration images')
            from .quantize import export_openvino, quantize_ptq
            qmodel = quantize_ptq(model, list(calib_inputs))
            path = osp.join(tmp.name, 'int8.xml')
            net = NetworkForward(qmodel).eval()
            export_openvino(net, x, path, net.output_names())
            runner = OpenVINOBackend(path, threads)
        else:
            from .export import export_onnx
            path = osp.join(tmp.name, 'fp32.onnx')
            net = NetworkForward(deploy_copy(model)).eval()
            export_onnx(net, x, path, output_names=net.output_names())
            runner = (OnnxRuntimeBackend(path, threads) if backend == 'onnxruntime'
                      else OpenVINOBackend(path, threads))
    except BaseException:
        tmp.cleanup()
        raise
    return _Prepared(lambda: runner(x), tmp, runner)


__all__ = ['BACKENDS', 'prepare', 'torch_deploy']
