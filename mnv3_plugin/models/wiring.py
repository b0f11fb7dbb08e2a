"""Channel widths taken from what a module declares instead of restated in configs.

The plugin's backbones declare ``out_channels`` (and ``head_channels``); the task models
(:class:`~mnv3_plugin.models.classifier.ImageClassifier`,
:class:`~mnv3_plugin.models.seg.EncoderDecoder`, :class:`~mnv3_plugin.models.det.SSDLite`) fill
the next module's width arguments from them, so a config that changes ``widen_factor`` (or the
arch, RF2, the taps) builds a consistent model with that one edit.
"""
import copy
from typing import Any


def wire(cfg: dict, key: str, value: Any, source: str) -> dict:
    """A copy of module config ``cfg`` with ``cfg[key] = value`` unless the config gives it.

    Args:
        cfg: the config of the module to build (e.g. a head).
        key: the width argument (e.g. ``'in_channels'``).
        value: what ``source`` declares.
        source: what the value comes from, for the message (e.g. ``'backbone'``).

    Raises:
        ValueError: the config gives a value that disagrees with the declared one.
    """
    cfg = copy.deepcopy(cfg)
    given = cfg.get(key)
    if given is None:
        cfg[key] = value
        return cfg
    norm = (lambda v: list(v) if isinstance(v, (list, tuple)) else v)
    if norm(given) != norm(value):
        raise ValueError(f'{cfg.get("type")}.{key}={norm(given)} disagrees with the {source} '
                         f'({norm(value)}); leave it out of the config to wire it automatically')
    return cfg
