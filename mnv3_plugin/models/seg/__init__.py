"""Segmentation (Section 6.4): the LR-ASPP and R-ASPP heads and the width-wiring segmentor."""
from .lraspp_head import LRASPPHead
from .raspp_head import RASPPHead
from .segmentor import EncoderDecoder

__all__ = ['EncoderDecoder', 'LRASPPHead', 'RASPPHead']
