"""A table row's config on the fixture ImageNet (``mnv3_plugin.testing.make_imagenet``): the short
recipe the search's tests and benchmark train and adapt on the CPU.
"""
from pathlib import Path
from typing import Sequence, Union


def write_fixture_config(path: Union[str, Path], base_config: Union[str, Path],
                         data_root: Union[str, Path], classes: Sequence[str],
                         epochs: int = 10, batch_size: int = 16, lr: float = 1e-3) -> Path:
    """Writes a config that inherits a table row and trains it on fixture data.

    It keeps the row's network, optimizer type and loss; it changes the data (the fixture's
    classes and images at their own size, no resize or crop), the batch size, the learning rate
    (``auto_scale_lr`` off: the paper's 0.1 for batch 4096 scaled to batch 16 would not move
    in a short run), the schedule (``epochs``, no EMA: too short for decay 0.9999) and top-1 only.

    Args:
        path: the config file to write.
        base_config: the table row, e.g. configs/classification/v3small_w100_r224_imagenet.py.
        data_root: a ``make_imagenet`` root.
        classes: its class names.
        epochs: training epochs of the short recipe.
        batch_size: images per iteration.
        lr: RMSProp learning rate.

    Returns:
        ``path``.
    """
    from types import SimpleNamespace

    from ..testing import fixture_classifier_config
    path = Path(path)
    data = SimpleNamespace(root=str(data_root), classes=list(classes))
    path.write_text(f'# {Path(base_config).name} on the fixture ImageNet: the short recipe.'
                    + fixture_classifier_config(
                        str(Path(base_config).resolve()), data, batch_size,
                        train_pipeline="[dict(type='LoadImageFromFile'), "
                        "dict(type='RandomFlip', prob=0.5), dict(type='PackInputs')]",
                        extra=f"""optim_wrapper = dict(optimizer=dict(lr={lr}))
param_scheduler = []
train_cfg = dict(max_epochs={epochs}, val_interval={epochs})
custom_hooks = []
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval={epochs}))
"""))
    return path
