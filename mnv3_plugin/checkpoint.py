"""Strict checkpoint loading for models that contain this plugin's backbones.

mmengine loads every checkpoint non-strictly: ``load_from``, ``--resume``, ``tools/test.py``'s
checkpoint and ``init_cfg=dict(type='Pretrained')`` all go through
``mmengine.runner.checkpoint.load_state_dict(strict=False)``, which logs the missing and
unexpected keys and goes on (the log of open-mmlab/mmdetection#644), so a detector's checkpoint
given to a segmentor evaluates a mostly random network and reports a meaningless metric. For a
model that contains a plugin backbone, :func:`load_state_dict` here raises
:class:`CheckpointMismatchError` instead (counts, the first keys, what to do), and a file that
is not a checkpoint raises :class:`CheckpointFileError` naming it; the tools print either as one
line (:func:`mnv3_plugin.runner_utils.run_cli`).

A partial load is asked for explicitly: ``init_cfg=dict(type='Pretrained', checkpoint=...,
prefix='backbone.')`` loads the backbone part of a whole-model checkpoint (only that part must
match), and ``--partial-load`` (tools/train.py, tools/test.py) or ``MNV3_PLUGIN_PARTIAL_LOAD=1``
restores mmengine's behaviour (mismatches are logged). Models without a plugin backbone are
loaded as mmengine does. Applied by the ``strict_checkpoint`` fix of :mod:`mnv3_plugin.compat`.
"""
import os
import re
from typing import List, Optional

PARTIAL_ENV = 'MNV3_PLUGIN_PARTIAL_LOAD'
_SHOWN = 3  # keys named per kind in the message
_last_file: List[Optional[str]] = [None]  # the checkpoint file read last (for messages)


class CheckpointMismatchError(ValueError):
    """A checkpoint whose keys or shapes do not match the model it is loaded into."""


class CheckpointFileError(ValueError):
    """A file that is not a readable checkpoint (corrupt, truncated, another format)."""


def partial_load_allowed() -> bool:
    """Whether the user asked for partial loads (``MNV3_PLUGIN_PARTIAL_LOAD=1``)."""
    return os.environ.get(PARTIAL_ENV, '') not in ('', '0', 'false', 'False')


def _has_plugin_backbone(module) -> bool:
    from .models.backbones.mobilenet import TableNet
    return any(isinstance(m, TableNet) for m in module.modules())


def _names(keys: List[str]) -> str:
    shown = ', '.join(keys[:_SHOWN])
    return shown + (', ...' if len(keys) > _SHOWN else '')


def mismatch_message(missing: List[str], unexpected: List[str], shapes: List[str],
                     source: Optional[str]) -> str:
    """One line: what does not match, the first keys of each kind, what to do."""
    parts = []
    if missing:
        parts.append(f'{len(missing)} model keys missing from it ({_names(missing)})')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected keys ({_names(unexpected)})')
    if shapes:
        parts.append(f'{len(shapes)} shapes differ ({_names(shapes)})')
    name = repr(source) if source else 'the checkpoint'
    return (f'checkpoint {name} does not match the model: {"; ".join(parts)}. It was probably '
            'saved for another model or config: use the checkpoint of this config; to load the '
            "backbone of a whole-model checkpoint use init_cfg=dict(type='Pretrained', "
            "checkpoint=..., prefix='backbone.'); to load the matching part anyway pass "
            f'--partial-load (or set {PARTIAL_ENV}=1)')


def make_load_state_dict(original):
    """mmengine's ``load_state_dict`` made strict for models with a plugin backbone."""

    def load_state_dict(module, state_dict, strict=False, logger=None):
        if partial_load_allowed() or not _has_plugin_backbone(module):
            return original(module, state_dict, strict, logger)
        from mmengine.model import BaseTTAModel, is_model_wrapper
        missing, unexpected, errors = [], [], []
        metadata = getattr(state_dict, '_metadata', None)
        state_dict = state_dict.copy()
        if metadata is not None:
            state_dict._metadata = metadata

        def load(mod, local, prefix=''):  # as mmengine's, collecting what does not match
            if is_model_wrapper(mod) or isinstance(mod, BaseTTAModel):
                mod = mod.module
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            mod._load_from_state_dict(local, prefix, local_metadata, True, missing, unexpected,
                                      errors)
            for name, child in mod._modules.items():
                if child is not None:
                    child_prefix = prefix + name + '.'
                    load(child, {k: v for k, v in local.items() if k.startswith(child_prefix)},
                         child_prefix)
        load(module, state_dict)
        missing = [k for k in missing if 'num_batches_tracked' not in k]
        shapes = [m.group(1) for e in errors for m in [re.search(r'size mismatch for (\S+?):',
                                                                 str(e))] if m]
        others = [str(e) for e in errors if 'size mismatch for' not in str(e)]
        if others:
            raise CheckpointMismatchError(f'checkpoint {_last_file[0]!r}: {others[0]}')
        if missing or unexpected or shapes:
            raise CheckpointMismatchError(mismatch_message(missing, unexpected, shapes,
                                                           _last_file[0]))
        return None

    load_state_dict.__wrapped__ = original
    return load_state_dict


def make_load_checkpoint(original):
    """mmengine's ``_load_checkpoint``: remembers the file, and a file that does not load as a
    checkpoint raises :class:`CheckpointFileError` naming it."""

    def _load_checkpoint(filename, map_location=None, logger=None):
        _last_file[0] = str(filename)
        try:
            return original(filename, map_location, logger)
        except FileNotFoundError as e:
            raise CheckpointFileError(f'checkpoint {filename} not found (nothing is downloaded: '
                                      'train one with tools/train.py or convert one with '
                                      'tools/model_converters/)') from e
        except Exception as e:  # UnpicklingError, EOFError, "failed finding central directory"
            raise CheckpointFileError(_unreadable(filename, e)) from e

    _load_checkpoint.__wrapped__ = original
    return _load_checkpoint


def _unreadable(filename, error: Exception) -> str:
    detail = str(error).strip().splitlines()[0][:120] if str(error).strip() else ''
    return (f'{filename} is not a readable checkpoint (corrupt, truncated or not saved by '
            f'torch.save: {type(error).__name__}{": " + detail if detail else ""})')


def install() -> None:
    """Patches mmengine's loading functions (where the runner, ``load_checkpoint`` and
    ``PretrainedInit`` look them up)."""
    from mmengine.runner import checkpoint as ckpt
    from mmengine.runner import runner as runner_module
    ckpt.load_state_dict = make_load_state_dict(ckpt.load_state_dict)
    loader = make_load_checkpoint(ckpt._load_checkpoint)
    ckpt._load_checkpoint = loader
    runner_module._load_checkpoint = loader
