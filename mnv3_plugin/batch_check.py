"""Training with one image per process: BN layers that would see a single value per channel.

The R-ASPP image-pool branch normalizes a globally pooled (1x1) map and SSDLite's last extra
layers and predictors run on 1x1 maps at 320x320, so at one image per process their BN sees one
value per channel and torch raises a ValueError from inside BN. :func:`guard_batch_norm` puts a
check in front of each BN that raises :class:`BatchNormBatchError` instead, naming the layer,
the cause and the fix, before that BN runs; :class:`BatchNormCheckHook` (registered by
tools/train.py) guards the model the runner trains, so the first iteration stops before any
weight is updated.
"""
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
            raise BatchNormBatchError(
                f'{self.name} ({type(module).__name__}) gets 1 value per channel in training '
                f'(input {tuple(x.shape)}: one image per process and a 1x1 map), which batch '
                'normalization cannot normalize: train with a batch of at least 2 per process '
                "(train_dataloader.batch_size) or SyncBN across processes (norm_cfg=dict("
                "type='SyncBN') with tools/dist_train.sh)")


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


class BatchNormCheckHook(Hook):
    """Guards every BN of the model the runner trains (mmengine replaces SyncBN modules when
    it runs a single process, dropping the guards the heads put on them): the first forward of
    the first iteration then stops at the first BN that sees one value per channel, before
    any weight is updated."""

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        from mmengine.model import is_model_wrapper
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        guard_batch_norm(model)
