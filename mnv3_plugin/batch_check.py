"""Training with one image per process: BN layers that would see a single value per channel.

The R-ASPP image-pool branch normalizes a globally pooled (1x1) map and SSDLite's last extra
layers and predictors run on 1x1 maps at 320x320, so at one image per process their BN sees one
value per channel and torch raises a ValueError from inside BN. :func:`guard_batch_norm` puts a
check in front of each BN that raises :class:`BatchNormBatchError` instead, naming the layer,
the cause and the fix, before that BN runs; :class:`BatchNormCheckHook` (registered by
tools/train.py) guards the model the runner trains and, at one image per process, runs one
real training batch through it before the first iteration (:func:`dry_run`, which changes no
weight, statistic or random state), so training stops before it starts.
"""
import random
from typing import Any, Optional, Tuple

import numpy as np
import torch
from mmengine.hooks import Hook
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


class BatchNormBatchError(ValueError):
    """A BN layer would normalize a single value per channel in training."""


def _synced(module: nn.Module) -> bool:
    if not isinstance(module, nn.SyncBatchNorm):
        return False
    import torch.distributed as dist
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class _OneValueCheck:
    """The forward pre-hook (a class, so models stay picklable and deep-copyable)."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, module: nn.Module, args) -> None:
        x = args[0] if args else None
        if (module.training and isinstance(x, torch.Tensor) and x.dim() >= 2
                and x.numel() // max(1, x.shape[1]) == 1 and not _synced(module)):
            # mmengine turns SyncBN into its private _BatchNormXd on one process
            kind = ('BatchNorm, a SyncBN on one process' if type(module).__name__ ==
                    '_BatchNormXd' else type(module).__name__)
            raise BatchNormBatchError(
                f'{self.name} ({kind}) gets 1 value per channel in training '
                f'(input {tuple(x.shape)}: one image in the batch and a 1x1 map), which batch '
                'normalization cannot normalize: train with at least 2 images per process in '
                'every batch (train_dataloader.batch_size; drop_last=True if the last batch '
                'of an epoch holds one image) or SyncBN over 2+ processes (norm_cfg=dict('
                "type='SyncBN') and tools/dist_train.sh)")


def guard_batch_norm(module: nn.Module, prefix: str = '') -> nn.Module:
    """Puts the single-value check in front of every BN of ``module`` (names from ``prefix``);
    a second call renames (a model names the layers its heads guarded)."""
    for name, child in module.named_modules():
        if isinstance(child, _BatchNorm):
            for key, hook in list(child._forward_pre_hooks.items()):
                if isinstance(hook, _OneValueCheck):
                    del child._forward_pre_hooks[key]
            child.register_forward_pre_hook(
                _OneValueCheck('.'.join(p for p in (prefix, name) if p)))
    return module


def per_process_batch_size(loader) -> Optional[int]:
    """Images per process of a DataLoader (its ``batch_size``, or its batch sampler's)."""
    size = getattr(loader, 'batch_size', None)
    if size is None:
        size = getattr(getattr(loader, 'batch_sampler', None), 'batch_size', None)
    return size


def smallest_batch(loader) -> Tuple[Optional[int], str]:
    """The fewest images a batch of ``loader`` holds on this process, and why.

    The batch size, or the last batch of an epoch when the sampler has a length (mmengine's
    ``DefaultSampler``: the images of this process), ``drop_last`` is False and the images do
    not divide evenly (e.g. 16 images, batch 3: the sixth batch holds 1). An infinite sampler
    (``InfiniteSampler``, iteration-based loops) always gives full batches.

    Returns:
        (images, cause): images is None when unknown; cause names the setting.
    """
    size = per_process_batch_size(loader)
    if not size:
        return None, ''
    sampler = getattr(loader, 'sampler', None)
    try:
        count = len(sampler) if sampler is not None else None
    except TypeError:  # no __len__: infinite
        count = None
    if count and not getattr(loader, 'drop_last', False) and count % size:
        last = count % size
        return last, (f'the last batch of each epoch holds {last} image(s): {count} images '
                      f'per process, batch_size {size}, drop_last=False')
    return size, f'batch_size {size} per process'


def dry_run(model: nn.Module, data_batch: Any) -> None:
    """One training-mode forward (``mode='loss'``, no gradients) of ``data_batch`` through
    ``model`` (an mmengine ``BaseModel``: its data preprocessor first) that leaves no trace:
    every buffer (BN running statistics, ``num_batches_tracked``), each module's train/eval
    mode and the torch, numpy and ``random`` generators are restored afterwards, and no
    parameter changes (no backward, no optimizer step).

    Raises:
        BatchNormBatchError: from a guarded BN (:func:`guard_batch_norm`) that would see one
            value per channel; any error of the forward itself.
    """
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    modes = [(m, m.training) for m in model.modules()]
    rng = (torch.get_rng_state(), np.random.get_state(), random.getstate(),
           torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None)
    try:
        with torch.no_grad():
            model.train()
            data = model.data_preprocessor(data_batch, True)
            if isinstance(data, dict):
                model(**data, mode='loss')
            else:
                model(*data, mode='loss')
    finally:
        with torch.no_grad():
            for buf, value in buffers:
                buf.copy_(value)
        for module, training in modes:
            module.training = training
        torch.set_rng_state(rng[0])
        np.random.set_state(rng[1])
        random.setstate(rng[2])
        if rng[3] is not None:
            torch.cuda.set_rng_state_all(rng[3])


class BatchNormCheckHook(Hook):
    """Fails a training that batch normalization cannot run, before its first iteration.

    ``before_train`` guards every BN of the model the runner trains (mmengine replaces SyncBN
    modules when it runs a single process, dropping the guards the heads put on them) and,
    when a batch of the train dataloader can hold one image per process (batch size 1, or an
    epoch's last batch: :func:`smallest_batch`), runs one real training sample
    through the model (:func:`dry_run`: the pipeline's crop, so the maps have the training
    sizes; nothing of the model, the loader or the random state changes). A BN that would see
    a single value per channel then raises :class:`BatchNormBatchError` (one line: the layer,
    the cause, the fix) before any iteration, log line or checkpoint. Skipped with several
    processes when the model has SyncBN (the dry run would need every rank; the guard still
    stops the first forward). The guard stays on each BN as the backstop for later shapes.
    """

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        from mmengine.dist import get_world_size
        from mmengine.model import is_model_wrapper
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        guard_batch_norm(model)
        loader = runner.train_dataloader
        images, cause = smallest_batch(loader)
        if images != 1:
            return
        if get_world_size() > 1 and any(isinstance(m, nn.SyncBatchNorm)
                                        for m in model.modules()):
            return
        try:
            dry_run(model, loader.collate_fn([loader.dataset[0]]))
        except BatchNormBatchError as e:
            raise BatchNormBatchError(f'{e} [here: {cause}]') from None
