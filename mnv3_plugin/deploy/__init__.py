"""Deployment: export with checked outputs, runtimes, int8 with NNCF, latency backends.

- :mod:`.model`: the exported module (the network forward) and checkpoint loading;
- :mod:`.export`: ONNX / ``.pt2`` export, checked against PyTorch before writing;
- :mod:`.runtime`: ONNX Runtime, OpenVINO and torch backends, post-processing outside the graph
  (detector decoding + NMS);
- :mod:`.quantize`: NNCF post-training quantization and QAT in the mmengine loop;
- :mod:`.latency`: the paper's latency protocol on each backend.

Heavy dependencies (onnx, onnxruntime, openvino, nncf) are imported only where used; a missing
one raises :class:`DeployError` naming requirements/deploy.txt.
"""
from .errors import DeployError, require

__all__ = ['DeployError', 'require']
