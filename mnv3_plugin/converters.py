"""Converters from torchvision and timm MobileNetV3 checkpoints to this plugin's layout.

The result is the state dict of an mmpretrain ``ImageClassifier`` whose backbone is
``mnv3_plugin.MobileNetV3`` and whose head is mmpretrain's ``StackedLinearClsHead``
(``backbone.layers.{row}.{expand,dw,se,project}...``, ``head.layers.{0,1}.fc...``), as written by
``tools/model_converters/{torchvision,timm}2mnv3.py``. The structure of each block is read from
the checkpoint itself (which convs exist, which is depthwise), so one converter serves Large,
Small, any width, RF2 and both width rules.
"""
import os
import os.path as osp
import re
from collections import OrderedDict, defaultdict
from typing import Callable, Dict, List

import torch

StateDict = Dict[str, torch.Tensor]


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
    """timm ``mobilenetv3_*`` / ``tf_mobilenetv3_*`` -> plugin keys.

    timm's ``tf_`` variants use TF "SAME" padding, which this plugin does not emulate: their
    weights load, but their outputs only match with symmetric padding (the non-``tf_`` models).
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


class ConversionError(ValueError):
    """A checkpoint file that is missing or is not of the expected reference layout."""


def convert_file(src: str, dst: str, convert: Callable[[StateDict], StateDict],
                 source: str) -> int:
    """Converts a checkpoint file and writes ``dict(state_dict=..., meta=...)`` to ``dst``.

    The output is written to a temporary file and renamed, so a failed conversion leaves no
    half-written ``dst``.

    Args:
        src: a state dict, or a dict holding one under ``'state_dict'`` / ``'model'``.
        dst: where to write the converted checkpoint.
        convert: :func:`convert_torchvision` or :func:`convert_timm`.
        source: the reference's name, for messages and the checkpoint meta.

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
        raise ConversionError(f'{src} is not a readable checkpoint ({type(e).__name__}: {e})')
    if isinstance(ckpt, dict):
        for key in ('state_dict', 'model'):
            if isinstance(ckpt.get(key), dict):
                ckpt = ckpt[key]
    try:
        state_dict = convert(ckpt)
    except (KeyError, AttributeError) as e:
        raise ConversionError(f'{src} does not look like a {source} MobileNetV3 checkpoint: '
                              f'{e}')
    tmp = f'{dst}.part'
    torch.save(dict(state_dict=state_dict, meta=dict(converted_from=source, src=src)), tmp)
    os.replace(tmp, dst)
    return len(state_dict)
