"""Deployment: export with checked outputs, runtimes, int8 with NNCF, latency backends.

- :mod:`.model`: the exported module (the network forward) and checkpoint loading;
- :mod:`.export`: ONNX / ``.pt2`` export, checked against PyTorch before writing;
- :mod:`.runtime`: ONNX Runtime, OpenVINO and torch backends, post-processing outside the graph
  (detector decoding + NMS);
- :mod:`.quantize`: NNCF post-training quantization and QAT in the mmengine loop;
- :mod:`.latency`: the paper's latency protocol on each backend;
- :mod:`.evaluate`: a runtime's metric (mIoU, top-1) with the config's own evaluator;
- :mod:`.compare`: a trained model on every runtime, side by side (the demo's deploy step);
- :mod:`.nncf_ext`: NNCF's C++ extension, checked and built once (``tools/setup_env.sh``).

Importing it registers ``mnv3_plugin.QuantizationRunner`` (int8 configs list
``custom_imports=dict(imports=['mnv3_plugin', 'mnv3_plugin.deploy'])``). Heavy dependencies
(onnx, onnxruntime, openvino, nncf) are imported only where used; a missing one raises
:class:`DeployError` naming requirements/deploy.txt.
"""
from .errors import DeployError, require
from .quantize import QuantizationRunner  # noqa: F401  (registers runner_type)

__all__ = ['DeployError', 'QuantizationRunner', 'require']
