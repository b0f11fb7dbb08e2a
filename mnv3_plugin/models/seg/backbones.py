"""Backbones as TF DeepLab builds them for segmentation (Section 6.4's comparison rows)."""
from ...registry import MODELS
from ..backbones import MobileNetV2


@MODELS.register_module()
class DeepLabMobileNetV2(MobileNetV2):
    """MobileNetV2 built only up to its deepest requested output.

    TF DeepLab's feature extractor stops MobileNetV2 at ``layer_18``, the last (320-wide)
    bottleneck: the 1x1 conv to 1280 that follows it in the classifier is never built. Table 7's
    V2 rows count it out (row 1: 2.11M params; with the 1280 conv it would be 2.52M). Here the
    rows after the deepest entry of ``out_indices`` are dropped, so ``out_indices=('os8_dw',
    17)`` gives DeepLab's network; the arguments are :class:`MobileNetV2`'s.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        last = max(self.taps[i][0] if isinstance(i, str) else i for i in self.out_indices)
        if self.frozen_stages > last:
            raise ValueError(f'frozen_stages={self.frozen_stages} freezes rows that are not '
                             f'built (the deepest output is row {last})')
        del self.layers[last + 1:]
        self.specs = self.specs[:last + 1]
