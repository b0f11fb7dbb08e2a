"""Config text for runs on the fixture datasets (tests, benchmarks and the tools' examples)."""
from typing import Optional

from .fixtures import FixtureSet

_PLAIN = "[dict(type='LoadImageFromFile'), dict(type='PackInputs')]"


def fixture_classifier_config(base: str, data: FixtureSet, batch_size: int = 8,
                              train_pipeline: Optional[str] = None, extra: str = '') -> str:
    """The text of a classification config that runs a row config on a fixture ImageNet.

    ``base`` is inherited unchanged but for the data: the fixture's root and classes, images
    as stored (no resizing; ``train_pipeline`` as Python text to add augmentation), small
    single-process loaders, top-1 accuracy, the head predicting the fixture's classes, no lr
    scaling, seed 0. ``extra`` (config lines: schedule, hooks, ``custom_imports``...) is
    appended, so it overrides any of these.

    Args:
        base: path of the config to inherit (a classification row).
        data: what :func:`~mnv3_plugin.testing.make_imagenet` returned.
        batch_size: images per batch of every loader.
        train_pipeline: the training transforms as Python text (default: load and pack).
        extra: more config lines.

    Returns:
        The config text, to be written to a ``.py`` file.
    """
    classes = list(data.classes)
    return f"""
_base_ = '{base}'
data_root = '{data.root}'
metainfo = dict(classes={classes!r})
train_pipeline = {train_pipeline or _PLAIN}
test_pipeline = {_PLAIN}
train_dataloader = dict(batch_size={batch_size}, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(batch_size={batch_size}, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1,))
test_evaluator = val_evaluator
data_preprocessor = dict(num_classes={len(classes)})
model = dict(head=dict(num_classes={len(classes)}, topk=(1,)))
auto_scale_lr = dict(enable=False)
randomness = dict(seed=0)
{extra}"""
