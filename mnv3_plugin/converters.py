"""Converters from torchvision and timm MobileNetV3 checkpoints to this plugin's layout.

The result is the state dict of an mmpretrain ``ImageClassifier`` whose backbone is
``mnv3_plugin.MobileNetV3`` and whose head is mmpretrain's ``StackedLinearClsHead``
(``backbone.layers.{row}.{expand,dw,se,project}...``, ``head.layers.{0,1}.fc...``), as written by
``tools/model_converters/{torchvision,timm}2mnv3.py``. The structure of each block is read from
the checkpoint itself (which convs exist, which is depthwise), so one converter serves Large,
Small, any width, RF2 and both width rules.

The converted file also records the backbone options its weights require (arch, width, width
rule, RF2: :func:`infer_backbone_options`, read from the tensors' shapes) where the backbone
looks for them on loading, so a converted checkpoint loaded into a backbone built with other
options fails naming the option (:func:`mnv3_plugin.models.backbones.options.check_options`).
"""
import os
import os.path as osp
import re
import warnings
from collections import OrderedDict, defaultdict
from typing import Callable, Dict, List, Optional

import torch

StateDict = Dict[str, torch.Tensor]


class ConversionError(ValueError):
    """A checkpoint file that is missing or is not of the expected reference layout."""


def _name_convs(convs: List[str], sd: StateDict, weight_key: str = '{}.weight') -> Dict[str, str]:
    """Maps the ordered sub-layers of one block to expand/dw/se/project."""
    names = {}
    for pos, conv in enumerate(convs):
        weight = sd.get(weight_key.format(conv))
        if weight is None:
            names[conv] = 'se'
        elif weight.shape[1] == 1 and weight.shape[0] > 1:
            names[conv] = 'dw'
        elif pos == len(convs) - 1:
            names[conv] = 'project'
        else:
            names[conv] = 'expand'
    return names


def convert_torchvision(sd: StateDict) -> StateDict:
    """torchvision ``mobilenet_v3_large/small`` (any width, ``reduced_tail``) -> plugin keys."""
    out = OrderedDict()
    blocks = defaultdict(list)
    for key in sd:
        m = re.match(r'features\.(\d+)\.block\.(\d+)\.', key)
        if m and m.group(2) not in blocks[m.group(1)]:
            blocks[m.group(1)].append(m.group(2))
    for key, value in sd.items():
        if key.startswith('classifier.'):
            idx, rest = key[len('classifier.'):].split('.', 1)
            out[f'head.layers.{0 if idx == "0" else 1}.fc.{rest}'] = value
            continue
        m = re.match(r'features\.(\d+)\.block\.(\d+)\.(.*)', key)
        if m:
            row, sub, rest = m.groups()
            subs = blocks[row]
            names = _name_convs(subs, sd, f'features.{row}.block.{{}}.0.weight')
            name = names[sub]
            if name != 'se':
                rest = re.sub(r'^0\.', 'conv.', re.sub(r'^1\.', 'bn.', rest))
            out[f'backbone.layers.{row}.{name}.{rest}'] = value
            continue
        m = re.match(r'features\.(\d+)\.([01])\.(.*)', key)
        if m:
            row, part, rest = m.groups()
            out[f'backbone.layers.{row}.{"conv" if part == "0" else "bn"}.{rest}'] = value
            continue
        raise KeyError(f'unexpected torchvision MobileNetV3 key {key!r}')
    return out


_TIMM_IR = dict(conv_pw='expand.conv', bn1='expand.bn', conv_dw='dw.conv', bn2='dw.bn',
                conv_pwl='project.conv', bn3='project.bn', se='se')
_TIMM_DS = dict(conv_dw='dw.conv', bn1='dw.bn', conv_pw='project.conv', bn2='project.bn',
                se='se')
_TIMM_CBA = dict(conv='conv', bn1='bn')


def convert_timm(sd: StateDict) -> StateDict:
    """timm ``mobilenetv3_*`` / ``tf_mobilenetv3_*`` -> plugin keys (every variant timm
    registers; ``mobilenetv3_rw`` is ``arch='large_rw'``, its head conv without bias).

    The ``tf_`` variants load with ``padding='same'`` (TF's "SAME" padding) and BN eps 1e-3.
    """
    out = OrderedDict()
    order = []  # (stage, index) in checkpoint order -> table row
    for key in sd:
        m = re.match(r'blocks\.(\d+)\.(\d+)\.', key)
        if m and (m.group(1), m.group(2)) not in order:
            order.append((m.group(1), m.group(2)))
    rows = {blk: i + 1 for i, blk in enumerate(order)}
    for key, value in sd.items():
        if key.startswith('conv_stem.'):
            out['backbone.layers.0.conv.' + key.split('.', 1)[1]] = value
        elif key.startswith('bn1.'):
            out['backbone.layers.0.bn.' + key.split('.', 1)[1]] = value
        elif key.startswith('conv_head.'):
            rest = key.split('.', 1)[1]
            out[f'head.layers.0.fc.{rest}'] = value.flatten(1) if rest == 'weight' else value
        elif key.startswith('classifier.'):
            out['head.layers.1.fc.' + key.split('.', 1)[1]] = value
        else:
            m = re.match(r'blocks\.(\d+)\.(\d+)\.([a-z_]+[0-9]?)\.(.*)', key)
            if not m:
                raise KeyError(f'unexpected timm MobileNetV3 key {key!r}')
            stage, idx, part, rest = m.groups()
            prefix = f'blocks.{stage}.{idx}.'
            if f'{prefix}conv_pwl.weight' in sd:
                table = _TIMM_IR
            elif f'{prefix}conv_dw.weight' in sd:
                table = _TIMM_DS
            else:
                table = _TIMM_CBA
            if part == 'se':
                rest = rest.replace('conv_reduce', 'fc1').replace('conv_expand', 'fc2')
            out[f'backbone.layers.{rows[(stage, idx)]}.{table[part]}.{rest}'] = value
    return out


# Widths tried first when inferring a checkpoint's multiplier (the published ones), then a grid.
_PREFERRED_WIDTHS = (1.0, 0.75, 0.5, 1.25, 0.35, 1.5, 2.0)
# Depth multipliers tried first (timm's mobilenetv3_large_150d: 1.2; several give its depths).
_PREFERRED_DEPTHS = (1.0, 1.2)


def row_widths_of(state_dict: StateDict, prefix: str = 'backbone.') -> List[List[int]]:
    """Per-row ``[mid, out, se]`` widths (channels) of a plugin-layout state dict.

    Args:
        state_dict: keys ``{prefix}layers.{row}.{conv|expand|dw|se|project}...``.
        prefix: the backbone's key prefix.

    Returns:
        One entry per row, in row order (as :func:`~mnv3_plugin.models.backbones.options.record`
        writes them).
    """
    rows = sorted({int(m.group(1)) for k in state_dict
                   for m in [re.match(re.escape(prefix) + r'layers\.(\d+)\.', k)] if m})
    widths = []
    for i in rows:
        p = f'{prefix}layers.{i}.'
        if f'{p}conv.weight' in state_dict:  # conv2d row: mid is its input width
            w = state_dict[f'{p}conv.weight']
            widths.append([int(w.shape[1]), int(w.shape[0]), 0])
            continue
        mid = int(state_dict[f'{p}dw.conv.weight'].shape[0])
        out = int(state_dict[f'{p}project.conv.weight'].shape[0])
        se = state_dict.get(f'{p}se.fc1.weight')
        widths.append([mid, out, 0 if se is None else int(se.shape[0])])
    return widths


def infer_backbone_options(state_dict: StateDict, source: str = 'tf',
                           backbone_type: str = 'MobileNetV3') -> Optional[dict]:
    """The backbone options whose widths equal a converted checkpoint's, as recorded by
    :func:`~mnv3_plugin.models.backbones.options.record`.

    Every arch, depth multiplier whose block count equals the checkpoint's (the published ones
    first, then 0.1 to 3.0 in steps of 0.1: timm's ``depth_multiplier``), RF2 rule and width
    rule is tried with the published multipliers first, then multipliers 0.05 to 3.0 in steps
    of 0.01; the first whose per-row widths all equal the checkpoint's wins. The width rule of
    ``source`` (``'torchvision'`` or ``'tf'``/timm) is tried first, so a 1.0 checkpoint is
    recorded under its library's rule (both agree there). Where the checkpoint has the
    classifier's hidden layer (``head.layers.0.fc.weight``), only archs with its bias or lack
    of it (``Arch.head_bias``: ``'large_rw'`` has none) are tried.

    Returns:
        ``dict(type=..., options=..., widths=...)``, or None when no option set matches.
    """
    from .models.backbones import mobilenet
    cls = getattr(mobilenet, backbone_type)
    widths = row_widths_of(state_dict)
    head_bias = ('head.layers.0.fc.bias' in state_dict
                 if 'head.layers.0.fc.weight' in state_dict else None)
    rules = (('torchvision', 'tf', 'timm') if source == 'torchvision' else
             ('timm', 'tf', 'torchvision') if source == 'timm' else ('tf', 'timm', 'torchvision'))
    grid = list(_PREFERRED_WIDTHS) + [round(0.05 + 0.01 * i, 2) for i in range(296)]
    depths = list(_PREFERRED_DEPTHS) + [round(0.1 * i, 1) for i in range(1, 31)]
    for arch_name, arch in cls.arch_settings.items():
        if head_bias is not None and arch.head_channels and head_bias != arch.head_bias:
            continue
        tried = set()
        for depth in depths:
            deep = mobilenet.apply_depth(arch.rows, depth)
            if len(deep) != len(widths) or deep in tried:
                continue
            tried.add(deep)
            for tail in (None, 'detection', 'segmentation'):
                table = mobilenet.replace(arch, rows=mobilenet.apply_rf2(deep, tail))
                for rule in rules:
                    for w in grid:
                        specs = mobilenet.resolve_layers(table, w, rule)
                        if [[s.mid_channels, s.out_channels, s.se_channels]
                                for s in specs] == widths:
                            options = dict(arch=arch_name, widen_factor=w,
                                           depth_multiplier=depth, width_rule=rule,
                                           reduced_tail=tail, fix_last_conv=None,
                                           nl_layout='table')
                            return dict(type=backbone_type, options=options, widths=widths)
    return None


def with_backbone_record(state_dict: StateDict, record: Optional[dict]) -> StateDict:
    """``state_dict`` carrying ``record`` where a loading backbone looks for it (the state
    dict's ``_metadata['backbone']``, as a saved model's)."""
    from .models.backbones.options import META_KEY
    out = OrderedDict(state_dict)
    out._metadata = OrderedDict()
    if record is not None:
        out._metadata['backbone'] = {'version': 1, META_KEY: record}
    return out


def convert_file(src: str, dst: str, convert: Callable[[StateDict], StateDict],
                 source: str, in_channels: int = 3) -> int:
    """Converts a checkpoint file and writes ``dict(state_dict=..., meta=...)`` to ``dst``.

    ``meta['backbone']`` (and the state dict's ``_metadata['backbone']``, which the backbone
    reads on loading) records the backbone options the weights require
    (:func:`infer_backbone_options`; None when no option set of the plugin matches).

    The output is written to a temporary file and renamed, so a failed conversion leaves no
    half-written ``dst``.

    Args:
        src: a state dict, or a dict holding one under ``'state_dict'`` / ``'model'``.
        dst: where to write the converted checkpoint.
        convert: :func:`convert_torchvision` or :func:`convert_timm`.
        source: the reference's name, for messages and the checkpoint meta.
        in_channels: input channels of the backbone the weights are for; the RGB stem is
            adapted (:func:`~mnv3_plugin.models.backbones.mobilenet.adapt_stem`: summed for 1,
            repeated and rescaled for N).

    Returns:
        The number of tensors converted.

    Raises:
        ConversionError: ``src`` is missing, not a checkpoint, or not of that layout.
    """
    if not osp.isfile(src):
        raise ConversionError(f'checkpoint {src!r} not found. Nothing is downloaded: save the '
                              f'{source} weights to a file first.')
    try:
        ckpt = torch.load(src, map_location='cpu', weights_only=False)
    except Exception as e:
        from .checkpoint import first_sentence
        raise ConversionError(f'{src} is not a readable checkpoint ({type(e).__name__}: '
                              f'{first_sentence(str(e))})')
    if isinstance(ckpt, dict):
        for key in ('state_dict', 'model'):
            if isinstance(ckpt.get(key), dict):
                ckpt = ckpt[key]
    try:
        state_dict = convert(ckpt)
    except (KeyError, AttributeError) as e:
        raise ConversionError(f'{src} does not look like a {source} MobileNetV3 checkpoint: '
                              f'{e}')
    except ConversionError as e:
        raise ConversionError(f'{src}: {e}') from e
    record = infer_backbone_options(state_dict, source)
    if record is None:
        warnings.warn(f'{src}: no options of the plugin\'s backbones give these weights\' '
                      'widths, so none is recorded (loading it into a backbone fails with a '
                      'key/shape mismatch unless it is built to fit)')
    if in_channels != 3:
        from .models.backbones.mobilenet import adapt_stem
        stem = 'backbone.layers.0.conv.weight'
        state_dict[stem] = adapt_stem(state_dict[stem], in_channels)
        if record is not None:
            record['options']['in_channels'] = in_channels
            record['widths'][0][0] = in_channels
    meta = dict(converted_from=source, src=src, backbone=record)
    tmp = f'{dst}.part'
    torch.save(dict(state_dict=with_backbone_record(state_dict, record), meta=meta), tmp)
    os.replace(tmp, dst)
    return len(state_dict)
