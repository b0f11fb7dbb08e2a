"""The search's one door to the plugin's model building and counting (so it can be re-pointed).

Everything in ``mnv3_plugin.search`` builds networks and counts them through this module.
"""
import copy
from typing import Optional

from mmengine.config import Config

from ..analysis import count_madds, count_params  # noqa: F401  (re-exported)
from ..apis import build_model as _build_model


def build_model(cfg: Config, row_widths: Optional[dict] = None):
    """Builds ``cfg.model`` in eval mode, optionally with per-row widths (``row_widths.py``).

    Args:
        cfg: an mmpretrain classification config.
        row_widths: ``dict(exp={row: ch}, out={row: ch})`` replacing the backbone's own.

    Raises:
        ValueError: from the backbone, for widths that break its rules.
    """
    if row_widths is not None:
        cfg = with_row_widths(cfg, row_widths)
    return _build_model(cfg)


def with_row_widths(cfg: Config, row_widths: Optional[dict]) -> Config:
    """A copy of ``cfg`` whose backbone has exactly these per-row widths."""
    cfg = copy.deepcopy(cfg)
    cfg.model.backbone['row_widths'] = copy.deepcopy(row_widths) if row_widths else None
    return cfg


def classifier_madds(model, input_hw=(224, 224)) -> int:
    """Multiply-adds of a classifier's network forward at ``input_hw`` (paper convention)."""
    return count_madds(model, (1, 3, *input_hw), lambda m, x: m(x, mode='tensor'))
