"""mmseg's EncoderDecoder with the decode heads' input widths wired from the backbone."""
from typing import List, Sequence, Union

from mmseg.models.segmentors import EncoderDecoder as _EncoderDecoder

from ...registry import MODELS
from ..wiring import wire


@MODELS.register_module()
class EncoderDecoder(_EncoderDecoder):
    """mmseg's ``EncoderDecoder`` whose heads take ``in_channels`` from the backbone.

    Each head's ``in_channels`` default to the widths the backbone declares
    (``backbone.out_channels``) at the head's ``in_index`` (mmseg's default -1; a tuple for heads
    that read several maps, such as LR-ASPP's ``(low, high)``). With a neck, widths are left as
    given. Widths given in the config must agree with the backbone's. A head with a
    ``check_pool`` (LR-ASPP) is told the training crop (the data preprocessor's ``size``) and
    the output stride of its input, and warns when its pool kernel does not fit them.

    Args:
        as mmseg's ``EncoderDecoder``.

    Raises:
        ValueError: a head's ``in_channels`` disagree with what the backbone declares.
    """

    def _feature_widths(self) -> Union[None, List[int]]:
        if self.with_neck or not hasattr(self.backbone, 'out_channels'):
            return None
        return list(self.backbone.out_channels)

    def _wired(self, head_cfg: dict) -> dict:
        widths = self._feature_widths()
        if widths is None:
            return head_cfg
        index = head_cfg.get('in_index', -1)
        value: Union[int, Sequence[int]] = (
            [widths[i] for i in index] if isinstance(index, (list, tuple)) else widths[index])
        return wire(head_cfg, 'in_channels', value, f'backbone outputs at in_index={index}')

    def _init_decode_head(self, decode_head: dict) -> None:
        super()._init_decode_head(self._wired(decode_head))
        strides = getattr(self.backbone, 'out_strides', None)
        if hasattr(self.decode_head, 'check_pool') and strides and not self.with_neck:
            index = self.decode_head.in_index
            high = index[-1] if isinstance(index, (list, tuple)) else index
            crop = getattr(self.data_preprocessor, 'size', None)
            self.decode_head.check_pool(crop, strides[high])

    def _init_auxiliary_head(self, auxiliary_head) -> None:
        if isinstance(auxiliary_head, list):
            auxiliary_head = [self._wired(h) for h in auxiliary_head]
        elif auxiliary_head is not None:
            auxiliary_head = self._wired(auxiliary_head)
        super()._init_auxiliary_head(auxiliary_head)
