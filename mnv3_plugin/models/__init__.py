"""Models registered in the ``mnv3_plugin`` scope."""
from . import det, seg  # noqa: F401  (register the detection and segmentation modules)
from .backbones import MnasNet, MobileNetV1, MobileNetV2, MobileNetV3, TableNet
from .layers import HSigmoid, HSwish

__all__ = ['MobileNetV1', 'MobileNetV2', 'MobileNetV3', 'MnasNet', 'TableNet', 'HSigmoid',
           'HSwish']
