"""The plugin's modules. Backbones and layers are imported here; the task models that need a host
library (``classifier``: mmpretrain, ``det``: mmdet, ``seg``: mmseg) are imported when one of
their names is first looked up in the registry, or by importing them directly."""
from .backbones import MnasNet, MobileNetV1, MobileNetV2, MobileNetV3, TableNet
from .layers import HSigmoid, HSwish

__all__ = ['MobileNetV1', 'MobileNetV2', 'MobileNetV3', 'MnasNet', 'TableNet', 'HSigmoid',
           'HSwish']
