"""What a backbone accepts from configs and what its weights remember about how it was built.

Two concerns of :class:`~mnv3_plugin.models.backbones.mobilenet.TableNet` that are not the
network itself:

* **Arguments from host configs.** A misspelt argument names the public class and the valid
  names (:func:`reject_unknown`); ``pretrained``, which mmseg's ``EncoderDecoder`` hands to every
  backbone, becomes ``init_cfg`` (:func:`pretrained_to_init_cfg`) as in mmseg's and mmpretrain's
  own MobileNets.
* **Checkpoint options.** The options that decide the weights' shapes (arch, width and width
  rule, RF2, ...) and the resulting widths travel with every saved state dict (in its
  ``_metadata``, the place torch keeps each module's version; the converters also copy them to
  ``meta['backbone']``), so loading into a backbone built with other options fails with a
  message naming the option (:func:`check_options`) instead of a list of shape mismatches, or
  silently when the shapes happen to agree.
"""
import difflib
import inspect
import numbers
import warnings
from typing import Dict, List, Optional, Sequence

from ...apis import ConfigError

META_KEY = 'mnv3_backbone'
"""Key of the backbone options in a state dict's ``_metadata[<module prefix>]``."""

# Options recorded with the weights; the comparison is by the widths they produce, these name
# the cause. `row_widths` belongs to the search issue's per-row widths, when present.
WEIGHT_OPTIONS = ('arch', 'widen_factor', 'depth_multiplier', 'width_rule', 'reduced_tail',
                  'fix_last_conv', 'row_widths', 'last_stage', 'stem', 'se_squeeze', 'in_channels',
                  'nl_layout', 'output_stride', 'dilation_rule')
# Options that decide the weights' shapes (the others are recorded for information:
# fine-tuning an ImageNet checkpoint at output stride 16, Section 6.4, is the normal use).
SHAPE_OPTIONS = ('arch', 'widen_factor', 'depth_multiplier', 'width_rule', 'reduced_tail',
                 'fix_last_conv', 'row_widths', 'last_stage', 'stem', 'se_squeeze')
# Prefixes of the model-zoo names that host base configs use for their own networks
# (open-mmlab://resnet50_v1c, torchvision://resnet50...): never weights of this plugin.
HOST_ZOO_PREFIXES = ('open-mmlab://', 'openmmlab://', 'torchvision://', 'mmcls://',
                     'mmpretrain://', 'modelzoo://')


class CheckpointOptionError(ValueError):
    """A checkpoint was made for a backbone built with other options (names the option)."""


class BackboneArgumentError(ConfigError, TypeError):
    """A backbone argument that is misspelt or of the wrong kind: a ``TypeError`` as Python's
    own for a bad keyword, and a :class:`~mnv3_plugin.apis.ConfigError`, so the tools print it
    as one line."""


def reject_unknown(cls: type, kwargs: dict, signature_of=None) -> None:
    """Raises the error of a misspelt backbone argument, naming the public class.

    Args:
        cls: the registered class the user asked for (``MobileNetV3``, not ``TableNet``).
        kwargs: the arguments no parameter took.
        signature_of: the ``__init__`` whose parameters are valid (default ``cls.__init__``
            and its bases' up to the first without ``**kwargs``).

    Raises:
        BackboneArgumentError: (a TypeError) ``"MobileNetV3 got an unexpected argument
            'out_indice' (did you mean 'out_indices'?); valid: ..."``.
    """
    if not kwargs:
        return
    valid = valid_arguments(cls)
    key = sorted(kwargs)[0]
    close = suggest(key, valid)
    hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ''
    raise BackboneArgumentError(f'{cls.__name__} got an unexpected argument {key!r}{hint}; '
                                f'valid: {", ".join(valid)}')


def suggest(key: str, valid: Sequence[str], n: int = 2) -> List[str]:
    """The valid names a misspelt ``key`` may mean: close spellings (difflib), then names it
    abbreviates or is part of (``widen`` -> ``widen_factor``, ``stride`` -> ``output_stride``),
    or that are part of it (``arch_name`` -> ``arch``), at most ``n``."""
    low = key.lower()
    close = difflib.get_close_matches(low, valid, n=n)
    words = [v for v in valid if low in v or (len(v) > 3 and v in low)]
    out = close + [v for v in words if v not in close]
    return out[:n]


def valid_arguments(cls: type) -> List[str]:
    """The keyword arguments ``cls(...)`` accepts, through ``**kwargs`` chains to the base."""
    names: List[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names += [p.name for p in params if p.name != 'self' and p.name not in names
                  and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        if not any(p.kind == p.VAR_KEYWORD for p in params) or klass.__name__ == 'TableNet':
            break
    return names


def pretrained_to_init_cfg(cls: type, pretrained: Optional[str], init_cfg):
    """``init_cfg`` for a backbone given ``pretrained`` (the deprecated host argument).

    mmseg's ``EncoderDecoder`` passes its ``pretrained`` to the backbone, and every mmseg base
    config sets one for its own network (``open-mmlab://resnet50_v1c``): such host model-zoo
    names are ignored with a warning (they name weights of another network, and nothing is
    downloaded); a file or URL becomes ``dict(type='Pretrained', checkpoint=pretrained)``, as in
    mmseg's and mmpretrain's MobileNets, with their deprecation warning.

    Raises:
        TypeError: ``pretrained`` is not a string, or is given together with ``init_cfg`` of
            type Pretrained.
    """
    if pretrained is None:
        return init_cfg
    if not isinstance(pretrained, str):
        raise TypeError(f'{cls.__name__}: pretrained must be a checkpoint path or None, got '
                        f'{pretrained!r}')
    if pretrained.startswith(HOST_ZOO_PREFIXES):
        warnings.warn(f'{cls.__name__}: ignoring pretrained={pretrained!r} (set by the host base '
                      'config for its own network; these are not weights of this backbone). '
                      'Set model.pretrained=None to silence this, or load converted weights '
                      "with init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')")
        return init_cfg
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        raise TypeError(f'{cls.__name__}: give pretrained or init_cfg=Pretrained, not both')
    warnings.warn(f'{cls.__name__}: pretrained is deprecated (as in mmseg and mmpretrain); use '
                  f"init_cfg=dict(type='Pretrained', checkpoint={pretrained!r})",
                  DeprecationWarning)
    return dict(type='Pretrained', checkpoint=pretrained)


def as_tap_list(out_indices, cls: type = None) -> Optional[Sequence]:
    """``out_indices`` as a sequence: a single name or index (``'C5'``, ``-1``) is one tap.

    Raises:
        BackboneArgumentError: anything else than None, a row index, a tap name or a
            list/tuple of them (``5.0``, ``True``, ``{'C5'}``), naming the argument and the
            valid forms.
    """
    def is_tap(value) -> bool:
        return isinstance(value, (str, numbers.Integral)) and not isinstance(value, bool)

    if out_indices is None:
        return None
    if is_tap(out_indices):
        return (out_indices,)
    if not isinstance(out_indices, (list, tuple)) or not all(map(is_tap, out_indices)):
        name = getattr(cls, '__name__', 'MobileNetV3')
        raise BackboneArgumentError(
            f'{name}: out_indices must be a row index, a named tap or a list/tuple of them '
            f"(e.g. -1, 'C5', (3, 6, 'C4', 'C5')), got {out_indices!r}")
    return out_indices


def record(backbone, options: dict) -> dict:
    """What a backbone's weights remember: its class, options and per-row widths.

    Args:
        backbone: a built TableNet.
        options: its constructor arguments (only :data:`WEIGHT_OPTIONS` are kept; an
            :class:`~mnv3_plugin.models.backbones.tables.Arch` given as ``arch`` is recorded
            by its name).

    Returns:
        ``dict(type=..., options=dict(...), widths=[[mid, out, se], ...])``, one width entry
        per built row (channels).
    """
    opts = {k: options[k] for k in WEIGHT_OPTIONS if k in options}
    if not isinstance(opts.get('arch'), str):
        opts['arch'] = '<custom Arch>'
    if opts.get('row_widths') is not None:
        opts['row_widths'] = list(opts['row_widths'])
    widths = [[s.mid_channels, s.out_channels, s.se_channels] for s in backbone.specs]
    return dict(type=type(backbone).__name__, options=opts, widths=widths)


def describe(meta: dict) -> str:
    """``MobileNetV3(arch='large', widen_factor=1.0, ...)`` from recorded options."""
    opts = meta.get('options', {})
    args = ', '.join(f'{k}={opts[k]!r}' for k in SHAPE_OPTIONS + ('in_channels',) if k in opts)
    return f'{meta.get("type", "?")}({args})'


def check_options(saved: Optional[dict], backbone, source: str = 'the checkpoint') -> None:
    """Fails when weights were made for a backbone with other shape-deciding options.

    The widths of the rows both have must agree (a ``features_only`` backbone loads the rows it
    built); when they do, other option spellings are fine (``width_rule`` does not matter at
    width 1.0). ``in_channels`` is not compared (a stem may be adapted on loading).

    Args:
        saved: the recorded :func:`record` of the checkpoint (None: nothing recorded, no check).
        backbone: the TableNet being loaded.
        source: the checkpoint, for the message (its file name).

    Raises:
        CheckpointOptionError: the message names the differing options with both values, e.g.
            ``"... was made for MobileNetV3 with widen_factor=0.75; this backbone has
            widen_factor=1.0: build it with widen_factor=0.75"``.
    """
    if not saved or not isinstance(saved, dict) or 'options' not in saved:
        return
    mine = backbone._mnv3_record
    # the stem's input width (row 0's "mid") is the image's channels, which adapt on loading
    built = [[None] + list(w[1:]) if i == 0 else list(w) for i, w in enumerate(mine['widths'])]
    theirs = [[None] + list(w[1:]) if i == 0 else list(w)
              for i, w in enumerate(saved.get('widths') or [])]
    n = min(len(built), len(theirs))
    if saved.get('type') == mine['type'] and [list(w) for w in theirs[:n]] == built[:n]:
        return
    if saved.get('type') != mine['type']:
        raise CheckpointOptionError(
            f'{source} was made for {describe(saved)}; this backbone is {mine["type"]}: '
            f'use type=\'mnv3_plugin.{saved.get("type")}\' with the options above')
    theirs_opts, mine_opts = resolved_options(saved), resolved_options(mine, backbone.arch)
    diff = _differing(theirs_opts, mine_opts)
    if not diff:
        row = next((i for i in range(n) if list(theirs[i]) != built[i]), n)
        diff_text = f'row {row} widths (mid, out, se) {theirs[row] if row < len(theirs) else None}'
        raise CheckpointOptionError(
            f'{source} was made for {describe(saved)} with {diff_text}; this backbone has '
            f'{built[row] if row < len(built) else None}')
    theirs_text = ', '.join(f'{k}={theirs_opts.get(k)!r}' for k in diff)
    mine_text = ', '.join(f'{k}={mine_opts.get(k)!r}' for k in diff)
    raise CheckpointOptionError(
        f'{source} was made for {saved["type"]} with {theirs_text}; this backbone has '
        f'{mine_text}: build it with {theirs_text} (checkpoint: {describe(saved)})')


# What an option that a record leaves out (or records as None) means: the builder's default.
DEFAULTS = dict(last_stage='efficient', depth_multiplier=1.0, widen_factor=1.0, width_rule='tf')
# Options whose None means "the arch's" (resolved as TableNet does: resolve_layers for
# fix_last_conv, TableNet.__init__ for se_squeeze).
ARCH_DEFAULTS = ('fix_last_conv', 'se_squeeze')


def resolved_options(saved: dict, arch=None) -> Dict:
    """The recorded options with each None or left-out option replaced by the value the
    builder uses for it (``fix_last_conv=None`` is the arch's, False for MobileNetV3), so
    equivalent spellings compare equal.

    Args:
        saved: a :func:`record`.
        arch: the :class:`~mnv3_plugin.models.backbones.tables.Arch` built (default: looked up
            by the record's type and arch name).
    """
    options = dict(saved.get('options') or {})
    for key, value in DEFAULTS.items():
        if options.get(key) is None:
            options[key] = value
    if arch is None:
        from . import mobilenet
        cls = getattr(mobilenet, str(saved.get('type')), None)
        arch = getattr(cls, 'arch_settings', {}).get(options.get('arch'))
    for key in ARCH_DEFAULTS:
        if options.get(key) is None and arch is not None:
            options[key] = getattr(arch, key)
    return options


def _differing(theirs: Dict, mine: Dict) -> List[str]:
    diff = []
    for key in SHAPE_OPTIONS:
        a, b = theirs.get(key), mine.get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            if abs(a - b) > 1e-9:
                diff.append(key)
        elif a != b:
            diff.append(key)
    return diff


def saved_record(checkpoint, prefix: str = '') -> Optional[dict]:
    """The recorded options of the module at ``prefix`` in a loaded checkpoint.

    Looks in ``state_dict._metadata[prefix]`` (written by every save of a TableNet), then in
    ``meta['backbone']`` (converted checkpoints) when ``prefix`` is ``'backbone'``.

    Args:
        checkpoint: what torch.load returned (a dict with ``state_dict`` or a state dict).
        prefix: the module's prefix without the trailing dot (``'backbone'``; ``''``: the root).
    """
    if not isinstance(checkpoint, dict):
        return None
    prefix = prefix.rstrip('.')
    state_dict = checkpoint.get('state_dict', checkpoint)
    metadata = getattr(state_dict, '_metadata', None) or {}
    found = (metadata.get(prefix) or {}).get(META_KEY)
    if found:
        return found
    meta = checkpoint.get('meta')
    if isinstance(meta, dict) and prefix == 'backbone':
        return meta.get('backbone') if isinstance(meta.get('backbone'), dict) else None
    return None
