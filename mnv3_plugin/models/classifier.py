"""The ImageNet classifier of Section 5.1, assembled from mmpretrain's own parts.

Table 1/2's last rows (pool, 1x1 conv 1280/1024 without BN and with h-swish, dropout, 1x1 conv
to k classes) are exactly mmpretrain's ``GlobalAveragePooling`` neck and ``StackedLinearClsHead``
(an FC on the pooled vector is a 1x1 conv), so nothing is rewritten here. Networks whose
classifier is a single FC (MobileNetV2, MnasNet, MobileNetV1) use ``LinearClsHead``.
"""
from typing import Optional

from ..registry import MODELS


def classifier_cfg(backbone: dict, head_channels: int, num_classes: int = 1000,
                   dropout_rate: float = 0.2, in_channels: Optional[int] = None) -> dict:
    """Config of an mmpretrain ``ImageClassifier`` around a plugin backbone.

    Args:
        backbone: backbone config (``type='mnv3_plugin.MobileNetV3'`` ...).
        head_channels: width of the 1x1 NBN conv after pooling (1280 Large, 1024 Small in the
            released models); 0 for a single FC classifier.
        num_classes: k.
        dropout_rate: dropout before the classifier (keep probability 0.8, Section 6.1.1).
        in_channels: the backbone's output width; built and read from the backbone if None.
    """
    if in_channels is None:
        in_channels = MODELS.build(dict(backbone)).out_channels[-1]
    if head_channels:
        head = dict(type='StackedLinearClsHead', num_classes=num_classes,
                    in_channels=in_channels, mid_channels=[head_channels],
                    dropout_rate=dropout_rate, act_cfg=dict(type='mnv3_plugin.HSwish'))
    else:
        head = dict(type='LinearClsHead', num_classes=num_classes, in_channels=in_channels)
    return dict(type='ImageClassifier', backbone=backbone,
                neck=dict(type='GlobalAveragePooling'), head=head)


def build_classifier(backbone: dict, head_channels: int, num_classes: int = 1000, **kwargs):
    """Builds :func:`classifier_cfg` with mmpretrain's registry."""
    from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
    return MMPRETRAIN_MODELS.build(classifier_cfg(backbone, head_channels, num_classes,
                                                  **kwargs))
