"""Segmentation: the LR-ASPP and R-ASPP heads of Section 6.4 and DeepLab's MobileNetV2 trunk."""
from .backbones import DeepLabMobileNetV2
from .lraspp_head import LRASPPHead
from .raspp_head import RASPPHead

__all__ = ['DeepLabMobileNetV2', 'LRASPPHead', 'RASPPHead']
