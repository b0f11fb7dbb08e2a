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

Which error: when the checkpoint's keys are another model's (a detector's checkpoint for a
segmentor: keys missing or unexpected outside the backbones), that is the error, naming the kind
of model the checkpoint holds; only when the rest of the weights fit does a backbone built with
other options than its weights' give :class:`~.models.backbones.options.CheckpointOptionError`
(naming the option). ``--partial-load`` bypasses both (the option difference is logged). Every
message names the file.
"""
import os
import re
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional

PARTIAL_ENV = 'MNV3_PLUGIN_PARTIAL_LOAD'
_SHOWN = 3  # keys named per kind in the message
_last: Dict[str, object] = dict(file=None, meta=None)  # the checkpoint read last (for messages)
_reuse: Dict[tuple, object] = {}  # (file, map_location) -> checkpoint, read once per init_cfg
_collecting: List[list] = []  # option errors of the backbones while a state dict is matched
# the top-level modules that tell which kind of model a checkpoint was saved from
_KINDS = (('bbox_head', "a detector's (mmdet)"), ('rpn_head', "a detector's (mmdet)"),
          ('roi_head', "a detector's (mmdet)"), ('decode_head', "a segmentor's (mmseg)"),
          ('head', "a classifier's (mmpretrain)"))


class CheckpointMismatchError(ValueError):
    """A checkpoint whose keys or shapes do not match the model it is loaded into."""


class CheckpointFileError(ValueError):
    """A file that is not a readable checkpoint (corrupt, truncated, another format)."""


def partial_load_allowed() -> bool:
    """Whether the user asked for partial loads (``--partial-load``,
    ``MNV3_PLUGIN_PARTIAL_LOAD=1``)."""
    return os.environ.get(PARTIAL_ENV, '') not in ('', '0', 'false', 'False')


def current_file() -> Optional[str]:
    """The checkpoint file read last (what a loading backbone's messages name)."""
    return _last['file']


def _has_plugin_backbone(module) -> bool:
    from .models.backbones.mobilenet import TableNet
    return any(isinstance(m, TableNet) for m in module.modules())


def _names(keys: List[str]) -> str:
    shown = ', '.join(keys[:_SHOWN])
    return shown + (', ...' if len(keys) > _SHOWN else '')


def _top_level(keys) -> List[str]:
    return sorted({k.split('.', 1)[0] for k in keys})


def saved_for(keys, meta) -> str:
    """What a checkpoint says about the model it was saved from: the kind of model its
    top-level modules belong to, the run that saved it or the converter that wrote it
    (``''``: nothing known).

    Args:
        keys: the checkpoint's state-dict keys.
        meta: its ``meta`` (mmengine's runner writes ``experiment_name``, the converters
            ``converted_from``), or None.
    """
    tops = _top_level(keys)
    kind = next((k for name, k in _KINDS if name in tops), None)
    parts = [f'{kind} weights (modules {", ".join(tops)})' if kind else '']
    if isinstance(meta, dict) and meta.get('experiment_name'):
        parts.append(f'saved by the run {meta["experiment_name"]!r}')
    elif isinstance(meta, dict) and meta.get('converted_from'):
        parts.append(f'converted from {meta["converted_from"]} by tools/model_converters')
    return ', '.join(p for p in parts if p)


def mismatch_message(missing: List[str], unexpected: List[str], shapes: List[str],
                     source: Optional[str], saved: str = '', model: str = '') -> str:
    """One line: what does not match, the first keys of each kind, what to do.

    Args:
        missing, unexpected, shapes: keys of each kind of mismatch.
        source: the checkpoint file.
        saved: what the checkpoint was saved from (:func:`saved_for`), if known.
        model: the model it is loaded into (its class and top-level modules), if known.
    """
    parts = []
    if missing:
        parts.append(f'{len(missing)} model keys missing from it ({_names(missing)})')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected keys ({_names(unexpected)})')
    if shapes:
        parts.append(f'{len(shapes)} shapes differ ({_names(shapes)})')
    name = repr(source) if source else 'the checkpoint'
    origin = f'It holds {saved}; this model is {model}' if saved and model else \
        'It was probably saved for another model or config'
    return (f'checkpoint {name} does not match the model: {"; ".join(parts)}. {origin}: use '
            'the checkpoint of this config; to load the backbone of a whole-model checkpoint '
            "use init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.'); to load "
            f'the matching part anyway pass --partial-load (or set {PARTIAL_ENV}=1)')


def check_loaded_options(backbone, local_metadata: dict) -> None:
    """The option check of a backbone whose weights are being loaded (its
    ``_load_from_state_dict``): the options recorded with the weights against the backbone's.

    While :func:`make_load_state_dict` matches a whole state dict, a difference is kept until
    the rest of the checkpoint is known to fit (another model's checkpoint is reported as such,
    not as an option to change); under ``--partial-load`` it is logged; otherwise raised.

    Raises:
        CheckpointOptionError: the weights were made for other options (names them and the
            file).
    """
    from .models.backbones.options import META_KEY, CheckpointOptionError, check_options
    name = repr(current_file()) if current_file() else 'the checkpoint'
    try:
        check_options(local_metadata.get(META_KEY), backbone, name)
    except CheckpointOptionError as e:
        if _collecting:
            _collecting[-1].append(e)
        elif partial_load_allowed():
            from mmengine.logging import print_log
            print_log(f'partial load: {e}', logger='current', level=30)
        else:
            raise


@contextmanager
def reading_once(filename: str, map_location) -> Iterator[object]:
    """The checkpoint ``filename``, read once for everything that loads it in the block (the
    option check of ``init_cfg`` and mmengine's ``PretrainedInit``, which reads it again)."""
    key = (str(filename), str(map_location))
    from mmengine.runner.checkpoint import _load_checkpoint
    _reuse[key] = _load_checkpoint(filename, map_location=map_location)
    try:
        yield _reuse[key]
    finally:
        _reuse.pop(key, None)


def _own_keys(backbone) -> set:
    return {n for n, _ in backbone.named_parameters()} | {n for n, _ in backbone.named_buffers()}


@contextmanager
def pretrained_init(backbone) -> Iterator[None]:
    """Around a backbone's ``init_weights``: for ``init_cfg=dict(type='Pretrained', ...)``
    reads the checkpoint once, checks the options recorded with its weights (at ``prefix``)
    and, for the deprecated ``pretrained=FILE`` of host configs, loads the backbone part of a
    whole-model checkpoint (the converters' and the trainer's files: keys ``backbone.*``) with
    ``prefix='backbone.'``, saying so in the log.

    Raises:
        CheckpointOptionError: the weights were made for other options (not under
            ``--partial-load``, where it is logged).
        CheckpointMismatchError: ``prefix`` names no weights of the file.
        CheckpointFileError: the file is missing or unreadable.
    """
    cfg = backbone.init_cfg
    if not (isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'):
        yield
        return
    from mmengine.logging import print_log

    from .models.backbones.options import CheckpointOptionError, check_options, saved_record
    filename = cfg['checkpoint']
    with reading_once(filename, cfg.get('map_location', 'cpu')) as checkpoint:
        state_dict = checkpoint.get('state_dict', checkpoint) \
            if isinstance(checkpoint, dict) else {}
        prefix = cfg.get('prefix')
        if prefix is None and getattr(backbone, '_init_from_pretrained', False) \
                and not _own_keys(backbone) & set(state_dict) \
                and any(k.startswith('backbone.') for k in state_dict):
            prefix = 'backbone.'
            backbone.init_cfg = dict(cfg, prefix=prefix)
            print_log(f'pretrained={filename!r}: its weights are under backbone. (a whole-model '
                      "checkpoint, as tools/model_converters write): loading them with "
                      "prefix='backbone.'", logger='current')
        if prefix and not any(k.startswith(prefix.rstrip('.') + '.') for k in state_dict):
            raise CheckpointMismatchError(
                f'checkpoint {filename!r} has no weights under prefix={prefix!r} (its modules: '
                f'{", ".join(_top_level(state_dict))}): set prefix to the backbone\'s, or '
                'None for a backbone-only file')
        try:
            check_options(saved_record(checkpoint, prefix or ''), backbone, repr(filename))
        except CheckpointOptionError as e:
            if not partial_load_allowed():
                raise
            print_log(f'partial load: {e}', logger='current', level=30)
        yield


def make_load_state_dict(original):
    """mmengine's ``load_state_dict`` made strict for models with a plugin backbone."""

    def load_state_dict(module, state_dict, strict=False, logger=None):
        if partial_load_allowed() or not _has_plugin_backbone(module):
            return original(module, state_dict, strict, logger)
        from mmengine.model import BaseTTAModel, is_model_wrapper

        from .models.backbones.mobilenet import TableNet
        missing, unexpected, errors, backbones = [], [], [], []
        metadata = getattr(state_dict, '_metadata', None)
        state_dict = state_dict.copy()
        if metadata is not None:
            state_dict._metadata = metadata

        def load(mod, local, prefix=''):  # as mmengine's, collecting what does not match
            if is_model_wrapper(mod) or isinstance(mod, BaseTTAModel):
                mod = mod.module
            if isinstance(mod, TableNet):
                backbones.append(prefix)
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            mod._load_from_state_dict(local, prefix, local_metadata, True, missing, unexpected,
                                      errors)
            for name, child in mod._modules.items():
                if child is not None:
                    child_prefix = prefix + name + '.'
                    load(child, {k: v for k, v in local.items() if k.startswith(child_prefix)},
                         child_prefix)

        option_errors: list = []
        _collecting.append(option_errors)
        try:
            load(module, state_dict)
        finally:
            _collecting.pop()
        missing = [k for k in missing if 'num_batches_tracked' not in k]
        shapes = [m.group(1) for e in errors for m in [re.search(r'size mismatch for (\S+?):',
                                                                 str(e))] if m]
        others = [str(e) for e in errors if 'size mismatch for' not in str(e)]
        source = current_file()
        if others:
            raise CheckpointMismatchError(f'checkpoint {source!r}: {others[0]}')
        # keys of another model (not the rows of a backbone): report that, not the options
        foreign = [k for k in missing + unexpected
                   if not any(k.startswith(p + 'layers.') for p in backbones)]
        if option_errors and not foreign:
            raise option_errors[0]
        if missing or unexpected or shapes:
            root = module.module if is_model_wrapper(module) else module
            children = ', '.join(sorted(name for name, _ in root.named_children()))
            model = f'a {type(root).__name__} (modules {children})'
            raise CheckpointMismatchError(mismatch_message(
                missing, unexpected, shapes, source, saved_for(state_dict, _last['meta']),
                model))
        return None

    load_state_dict.__wrapped__ = original
    return load_state_dict


def make_load_checkpoint(original):
    """mmengine's ``_load_checkpoint``: remembers the file and its meta, reads a file once
    inside :func:`reading_once`, and a file that does not load as a checkpoint raises
    :class:`CheckpointFileError` naming it."""

    def _load_checkpoint(filename, map_location=None, logger=None):
        reused = _reuse.get((str(filename), str(map_location)))
        if reused is not None:
            return reused
        _last.update(file=str(filename), meta=None)
        try:
            checkpoint = original(filename, map_location, logger)
        except FileNotFoundError as e:
            raise CheckpointFileError(f'checkpoint {filename} not found (nothing is downloaded: '
                                      'train one with tools/train.py or convert one with '
                                      'tools/model_converters/)') from e
        except Exception as e:  # UnpicklingError, EOFError, "failed finding central directory"
            raise CheckpointFileError(_unreadable(filename, e)) from e
        if isinstance(checkpoint, dict):
            _last['meta'] = checkpoint.get('meta')
        return checkpoint

    _load_checkpoint.__wrapped__ = original
    return _load_checkpoint


def first_sentence(text: str, limit: int = 160) -> str:
    """The first line of ``text`` up to its first sentence end, cut at a word boundary (with
    ``...``) when still longer than ``limit`` characters."""
    line = text.strip().splitlines()[0] if text.strip() else ''
    match = re.match(r'(.+?[.!?])(\s|$)', line)
    line = match.group(1) if match else line
    if len(line) <= limit:
        return line
    return line[:limit].rsplit(' ', 1)[0].rstrip(',;:') + ' ...'


def _unreadable(filename, error: Exception) -> str:
    detail = first_sentence(str(error))
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
