"""The ImageNet classifier of Section 5.1: mmpretrain's ImageClassifier with widths wired.

Table 1/2's last rows (pool, 1x1 conv 1280/1024 without BN and with h-swish, dropout, 1x1 conv
to k classes) are mmpretrain's ``GlobalAveragePooling`` neck and ``StackedLinearClsHead`` (an FC
on the pooled vector is a 1x1 conv); networks whose classifier is a single FC (MobileNetV2,
MnasNet, MobileNetV1) use ``LinearClsHead``. Nothing is rewritten: the wrapper only fills the
head's widths from the backbone. timm's ``mobilenetv3_rw`` (``arch='large_rw'``) has no bias in
the hidden conv: :class:`StackedLinearClsHead` (``hidden_bias=False``) builds that head.
"""
import copy
from typing import Optional

from mmpretrain.models import ImageClassifier as _ImageClassifier
from mmpretrain.models import StackedLinearClsHead as _StackedLinearClsHead
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from torch import nn

from ..registry import MODELS
from .wiring import wire


@MODELS.register_module()
class StackedLinearClsHead(_StackedLinearClsHead):
    """mmpretrain's ``StackedLinearClsHead`` with the hidden FC layers' bias optional.

    Args:
        hidden_bias: the hidden FC layers (``layers[:-1]``, the 1x1 conv after pooling of
            Section 5.1) have a bias (True: mmpretrain's head, every released model); False for
            timm's ``mobilenetv3_rw`` (its ``head_bias=False``). The output FC keeps its bias.
        **kwargs: as mmpretrain's ``StackedLinearClsHead`` (``num_classes``, ``in_channels``,
            ``mid_channels``, ``dropout_rate``, ``norm_cfg``, ``act_cfg``...).

    Shapes: a tuple whose last entry is (N, in_channels) -> (N, num_classes) scores.
    """

    def __init__(self, *args, hidden_bias: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.hidden_bias = hidden_bias
        if not hidden_bias:
            for block in self.layers[:-1]:
                block.fc = nn.Linear(block.fc.in_features, block.fc.out_features, bias=False)


@MODELS.register_module()
class ImageClassifier(_ImageClassifier):
    """mmpretrain's ``ImageClassifier`` whose head widths come from the backbone.

    The head's ``in_channels`` default to the backbone's last declared ``out_channels`` (the
    neck is expected to keep the width, as ``GlobalAveragePooling`` does); a
    ``StackedLinearClsHead``'s ``mid_channels`` default to ``[backbone.head_channels]``, the
    Section 5.1 head width rule of :func:`~mnv3_plugin.models.backbones.mobilenet.
    classifier_width` (1280 Large / 1024 Small, widened above 1.0, never narrowed under the
    ``'tf'`` width rule). Widths given in the config must agree. A backbone whose hidden conv
    has no bias (``head_bias=False``: ``arch='large_rw'``) needs the plugin's
    :class:`StackedLinearClsHead`, whose ``hidden_bias`` is wired from it.

    Args:
        backbone: backbone config (or module); must declare ``out_channels``.
        neck, head, pretrained, train_cfg, data_preprocessor, init_cfg: as mmpretrain's
            ``ImageClassifier``.

    Raises:
        ValueError: a given width (or ``hidden_bias``) disagrees with the backbone's (set the
            backbone's ``head_channels`` for another hidden width), a stacked head is asked of a
            backbone whose classifier has no hidden layer (``head_channels == 0``), or
            mmpretrain's stacked head of a backbone whose hidden conv has no bias.
    """

    def __init__(self, backbone, neck: Optional[dict] = None, head: Optional[dict] = None,
                 **kwargs):
        if not isinstance(backbone, nn.Module):
            backbone = MMPRETRAIN_MODELS.build(backbone)
        if isinstance(head, dict):
            head = wire(head, 'in_channels', backbone.out_channels[-1], 'backbone output')
            if str(head.get('type', '')).endswith('StackedLinearClsHead'):
                width = getattr(backbone, 'head_channels', 0)
                if not width:
                    raise ValueError(f'{type(backbone).__name__} has no hidden classifier layer '
                                     '(head_channels=0): use LinearClsHead, or give the backbone '
                                     'head_channels')
                head = wire(head, 'mid_channels', [width] if width else None,
                            'backbone head width rule')
                head = _wire_hidden_bias(head, getattr(backbone, 'head_bias', True))
        super().__init__(backbone=backbone, neck=neck, head=head, **kwargs)


def _wire_hidden_bias(head: dict, bias: bool) -> dict:
    """``hidden_bias`` of a stacked head config from the backbone's ``head_bias``."""
    if str(head.get('type')).startswith('mnv3_plugin.'):
        return wire(head, 'hidden_bias', bias, 'backbone head_bias')
    if not bias:
        raise ValueError(f"{head.get('type')} has a bias in its hidden layer, this backbone's "
                         "classifier conv has none: use type='mnv3_plugin.StackedLinearClsHead'")
    return head


def classifier_cfg(backbone: dict, num_classes: int = 1000, **head_kwargs) -> dict:
    """Config of the Section 5.1 classifier around a plugin backbone.

    The head is a ``StackedLinearClsHead`` (dropout 0.2, the backbone's ``head_act_cfg``: h-swish,
    ReLU for the minimalistic archs) when the backbone's classifier has a hidden 1x1 conv
    (``head_channels > 0``: MobileNetV3), else a ``LinearClsHead``; the plugin's
    :class:`StackedLinearClsHead` with ``hidden_bias=False`` when that conv has no bias
    (``head_bias=False``: ``arch='large_rw'``).

    Args:
        backbone: backbone config (``type='mnv3_plugin.MobileNetV3'`` ...).
        num_classes: k.
        **head_kwargs: overrides of the head config (e.g. ``dropout_rate=0.0``); the head's
            widths come from the backbone (its ``head_channels`` option sets the hidden one).
    """
    module = MODELS.build(dict(backbone))
    if module.head_channels:
        head = dict(type='StackedLinearClsHead', num_classes=num_classes, dropout_rate=0.2,
                    act_cfg=copy.deepcopy(module.head_act_cfg))
        if not module.head_bias:
            head.update(type='mnv3_plugin.StackedLinearClsHead', hidden_bias=False)
    else:
        head = dict(type='LinearClsHead', num_classes=num_classes)
    head.update(head_kwargs)
    return dict(type='mnv3_plugin.ImageClassifier', backbone=backbone,
                neck=dict(type='GlobalAveragePooling'), head=head)
