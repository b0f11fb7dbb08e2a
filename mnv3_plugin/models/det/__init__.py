"""SSDLite on MobileNetV3's C4/C5 taps (Section 6.3): neck, head, anchors and detector."""
from .anchors import MMDET_SSDLITE_ANCHORS, SSDLiteAnchorGenerator, ssdlite_feature_sizes
from .ssdlite import SSDLite, SSDLiteHead, SSDLiteNeck

__all__ = ['SSDLite', 'SSDLiteHead', 'SSDLiteNeck', 'SSDLiteAnchorGenerator',
           'MMDET_SSDLITE_ANCHORS', 'ssdlite_feature_sizes']
