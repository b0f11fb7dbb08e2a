"""Weight transfer from a network to a narrower one (NetAdapt, Yang et al. 2018, Section 4.2;
Section 4.2 of the MobileNetV3 paper: "populate the new proposed architecture, truncating").

A layer that loses channels keeps the filters with the largest L2 norm; every tensor that
depends on those channels keeps the matching slices: the BN after the conv, the depthwise conv
and its BN, the squeeze-and-excite convs, and the input channels of the layer that consumes them.
Rows tied by residual connections (:func:`residual_groups`) keep one common set of channels,
ranked by the L2 norm over all the group's output filters together.
"""
from typing import Dict, List, Optional

import torch
from torch import nn

from ..models.backbones.row_widths import has_expansion, residual_groups

# Parameter path inside a table row -> (channel set of dim 0, channel set of dim 1). The BN of a
# ConvBNAct follows its conv's output channels.
SLICES = {
    'conv': ('out', 'in'),            # conv2d rows (stem, final 1x1)
    'expand.conv': ('mid', 'in'),
    'dw.conv': ('mid', None),         # depthwise: one filter per channel
    'se.fc1': ('se', 'mid'),
    'se.fc2': ('mid', 'se'),
    'project.conv': ('out', 'mid'),
}


def filter_norms(weight: torch.Tensor) -> torch.Tensor:
    """L2 norm of each output filter: (C_out, C_in, kh, kw) -> (C_out,)."""
    return weight.detach().flatten(1).norm(dim=1)


def keep_largest(norms: torch.Tensor, count: int) -> torch.Tensor:
    """Indices (ascending) of the ``count`` largest norms; all of them when nothing is removed.

    Raises:
        ValueError: ``count`` exceeds the available channels (transfer only removes channels).
    """
    if count > norms.numel():
        raise ValueError(f'cannot keep {count} of {norms.numel()} channels: weight transfer '
                         f'only removes channels')
    if count == norms.numel():
        return torch.arange(count)
    return norms.topk(count).indices.sort().values


def _out_conv(layer: nn.Module) -> nn.Conv2d:
    return layer.project.conv if hasattr(layer, 'project') else layer.conv


def channel_plan(src_backbone, dst_backbone) -> List[Dict[str, torch.Tensor]]:
    """Which source channels each destination row keeps.

    Args:
        src_backbone: the trained ``TableNet``.
        dst_backbone: the narrower ``TableNet`` built from the same table (same rows).

    Returns:
        Per row ``{'in', 'mid', 'se', 'out'}`` -> source channel indices (ascending).

    Raises:
        ValueError: the two backbones do not have the same rows, or a width grew.
    """
    src, dst = src_backbone.specs, dst_backbone.specs
    if len(src) != len(dst) or any(a.row != b.row for a, b in zip(src, dst)):
        raise ValueError('weight transfer needs two networks of the same table (only widths may '
                         'differ)')
    out_keep: Dict[int, torch.Tensor] = {}
    for group in residual_groups(src):
        norms = sum(filter_norms(_out_conv(src_backbone.layers[i]).weight) ** 2 for i in group)
        keep = keep_largest(norms.sqrt(), dst[group[0]].out_channels)
        out_keep.update({i: keep for i in group})
    plan = []
    in_keep = torch.arange(src[0].in_channels)
    for i, (s, d) in enumerate(zip(src, dst)):
        layer = src_backbone.layers[i]
        if has_expansion(s):
            mid = keep_largest(filter_norms(layer.expand.conv.weight), d.mid_channels)
        else:
            mid = in_keep  # the depthwise conv filters the input channels
        se = None
        if s.se_channels:
            se = keep_largest(filter_norms(layer.se.fc1.weight[:, mid]), d.se_channels)
        plan.append(dict(**{'in': in_keep}, mid=mid, se=se, out=out_keep[i]))
        in_keep = out_keep[i]
    return plan


def transfer_weights(src_model: nn.Module, dst_model: nn.Module) -> nn.Module:
    """Copies a classifier's weights into a narrower copy of it, keeping the largest filters.

    Args:
        src_model: trained classifier with a ``TableNet`` backbone (``backbone.layers``).
        dst_model: the same config with smaller per-row widths (``row_widths``).

    Returns:
        ``dst_model``, with every parameter and buffer set: backbone rows by the plan of
        :func:`channel_plan`, everything else (neck, head, preprocessor) copied unchanged. When
        no width changed, ``dst_model`` computes exactly what ``src_model`` does.

    Raises:
        ValueError: a tensor outside the backbone rows changed shape, or a backbone tensor has
            no slicing rule (a layer type this transfer does not know).
    """
    plan = channel_plan(src_model.backbone, dst_model.backbone)
    src_sd = src_model.state_dict()
    dst_sd = dst_model.state_dict()
    new_sd = {}
    prefix = 'backbone.layers.'
    for key, dst_value in dst_sd.items():
        value = src_sd[key]
        if key.startswith(prefix):
            row, path = key[len(prefix):].split('.', 1)
            value = _slice(value, path, plan[int(row)], key)
        if value.shape != dst_value.shape:
            raise ValueError(f'weight transfer: {key} has shape {tuple(value.shape)} after '
                             f'slicing, the new network wants {tuple(dst_value.shape)}')
        new_sd[key] = value.clone()
    dst_model.load_state_dict(new_sd, strict=True)
    return dst_model


def _slice(value: torch.Tensor, path: str, keep: Dict[str, Optional[torch.Tensor]],
           key: str) -> torch.Tensor:
    module, name = path.rsplit('.', 1)
    if name == 'num_batches_tracked':
        return value
    if module.endswith('bn'):  # a BN follows its conv's output channels
        module, name = module[:-2] + 'conv', 'bn'
        module = module.lstrip('.') or 'conv'
    rule = SLICES.get(module)
    if rule is None:
        raise ValueError(f'weight transfer: no slicing rule for {key}')
    dim0, dim1 = rule
    value = value.index_select(0, keep[dim0])
    if dim1 is not None and name == 'weight':
        value = value.index_select(1, keep[dim1])
    return value
