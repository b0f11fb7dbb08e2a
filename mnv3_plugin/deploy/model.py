"""What is exported: an OpenMMLab model's network forward, as one tensor-in, tensors-out module.

The exported graph is the network the paper times (Section 6.1.2): the normalised image in,
the raw network outputs out. Pre-processing (mean/std, BGR->RGB) and post-processing (softmax,
segmentation resize + argmax, detector anchor decoding + NMS) stay outside the graph, in
:mod:`mnv3_plugin.deploy.runtime`, exactly as the OpenMMLab model's own ``predict`` does them:

- classifier: ``(logits,)``, (N, num_classes);
- segmentor: ``(logits,)``, (N, num_classes, H / 8, W / 8) for the LR-ASPP heads (the decode
  head's output stride), before mmseg's resize to the input;
- detector (SSDLite): ``(cls_score_0 .. cls_score_5, bbox_pred_0 .. bbox_pred_5)``, the head's
  per-level maps (N, A x C, h_l, w_l) and (N, A x 4, h_l, w_l).
"""
import copy
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import torch
from torch import nn

from .errors import DeployError

TASKS = ('classifier', 'segmentor', 'detector')


def build_from_config(cfg) -> nn.Module:
    """Builds ``cfg.model`` in eval mode; the deployment code's only call to the model builder.

    Args:
        cfg: an mmengine ``Config`` of this project (classification, detection or segmentation).

    Returns:
        The OpenMMLab model (``ImageClassifier``, ``SSDLite``, ``EncoderDecoder``), eval mode.
    """
    from ..apis import build_model
    return build_model(cfg)


def default_input_shape(cfg) -> Tuple[int, int]:
    """(H, W) at which the config is evaluated: the metafile's first ``Ours`` input, else the
    config's ``img_size``, else 224."""
    from .. import metafile
    entry = metafile.find(cfg.filename, metafile.load_models()) if cfg.filename else None
    if entry:
        return tuple(entry['Ours'][0]['Input'])
    size = cfg.get('img_size', 224)
    return tuple(size) if isinstance(size, (list, tuple)) else (size, size)


def task_of(model: nn.Module) -> str:
    """'classifier', 'segmentor' or 'detector' from the model's OpenMMLab base class.

    Raises:
        DeployError: the model is none of them.
    """
    names = {c.__name__ for c in type(model).__mro__}
    if 'BaseClassifier' in names:
        return 'classifier'
    if 'BaseSegmentor' in names:
        return 'segmentor'
    if 'BaseDetector' in names:
        return 'detector'
    raise DeployError(f'{type(model).__name__} is not a classifier, segmentor or detector of '
                      f'mmpretrain, mmseg or mmdet: nothing to export')


def load_checkpoint(model: nn.Module, path: str, config: str = 'the config') -> nn.Module:
    """Loads a checkpoint strictly: every key and shape must match the model.

    Args:
        model: the model built from ``config``.
        path: a ``.pth`` file saved by mmengine (``state_dict`` inside) or a bare state dict.
        config: the config's name, for the message.

    Returns:
        ``model``, with the weights loaded.

    Raises:
        DeployError: the file is missing, unreadable, or does not match the model (missing or
            unexpected keys, other shapes).
    """
    if not osp.isfile(path):
        raise DeployError(f'checkpoint {path!r} not found; give the .pth file written by '
                          f'tools/train.py for this config')
    try:
        # the user's own checkpoints, which hold mmengine's message hub (not weights only)
        ckpt = torch.load(path, map_location='cpu', weights_only=False)
    except Exception as e:  # noqa: BLE001  (any unreadable file: one line)
        raise DeployError(f'cannot read checkpoint {path!r}: {type(e).__name__}: {e}') from None
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise DeployError(f'{path!r} holds no state dict (got {type(ckpt).__name__})')
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f'{k} {tuple(state[k].shape)} vs {tuple(v.shape)}' for k, v in own.items()
              if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if missing or unexpected or shapes:
        parts = []
        for name, items in (('missing', missing), ('unexpected', unexpected),
                            ('of another shape', shapes)):
            if items:
                parts.append(f'{len(items)} {name} (e.g. {items[0]})')
        raise DeployError(f'checkpoint {path!r} does not match {config}: keys '
                          f'{", ".join(parts)}; give the checkpoint trained with this config')
    model.load_state_dict(state)
    return model


def load_model(cfg, checkpoint: Optional[str] = None) -> nn.Module:
    """Builds the config's model in eval mode and loads ``checkpoint`` strictly, if given."""
    model = build_from_config(cfg)
    if checkpoint:
        load_checkpoint(model, checkpoint, repr(getattr(cfg, 'filename', None) or 'the config'))
    return model.eval()


class NetworkForward(nn.Module):
    """The exported module: ``model(x, mode='tensor')`` with its outputs flattened to a tuple.

    Args:
        model: an OpenMMLab classifier, segmentor or detector.

    Shapes:
        input: (N, 3, H, W) float32, the data preprocessor's output (normalised, RGB).
        output: see the module docstring.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.task = task_of(model)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        out = self.model(x, mode='tensor')
        if self.task == 'detector':
            cls_scores, bbox_preds = out
            return tuple(cls_scores) + tuple(bbox_preds)
        if isinstance(out, (tuple, list)):
            return tuple(out)
        return (out,)

    def output_names(self) -> List[str]:
        """Names of the outputs, in order (the ONNX graph's output names)."""
        if self.task == 'detector':
            n = self.model.bbox_head.prior_generator.num_levels
            return [f'cls_score_{i}' for i in range(n)] + [f'bbox_pred_{i}' for i in range(n)]
        return ['logits']


def deploy_copy(model: nn.Module) -> nn.Module:
    """An eval-mode copy with every BN folded into the conv before it (mmcv's
    ``fuse_conv_bn``): the graph the runtimes get. ``model`` is left untouched."""
    from mmcv.cnn import fuse_conv_bn
    model = copy.deepcopy(model).eval()
    fuse_conv_bn(model)
    return model


def detector_input_size(model: nn.Module) -> Optional[Tuple[int, int]]:
    """(H, W) the SSDLite anchors were laid out for, or None for other models."""
    gen = getattr(getattr(model, 'bbox_head', None), 'prior_generator', None)
    size = getattr(gen, 'input_size', None)
    return tuple(size) if size is not None else None


def check_shape(model: nn.Module, shape: Sequence[int], dynamic: bool = False) -> None:
    """Refuses a shape (or ``--dynamic``) the model cannot run at, with what to do instead.

    Args:
        model: the eval-mode model.
        shape: (H, W) of the export.
        dynamic: whether a dynamic-shape export was asked for.

    Raises:
        DeployError: the detector's anchors are laid out for another size, ``dynamic`` for a
            detector (its anchors are fixed to one size), or a side too small for the network.
    """
    h, w = shape
    if h < 1 or w < 1:
        raise DeployError(f'--shape {h} {w}: height and width must be positive')
    task = task_of(model)
    if task == 'detector':
        size = detector_input_size(model)
        if dynamic:
            raise DeployError(
                'the SSDLite detector cannot be exported with --dynamic: its anchors are laid '
                f'out for one input size ({size[0]}x{size[1]}), so raw maps at another size '
                'would be decoded with the wrong anchors; export once per input size with '
                '--shape H W (and --cfg-options model.bbox_head.anchor_generator.input_size='
                '"(H, W)")')
        if size is not None and tuple(size) != (h, w):
            raise DeployError(
                f'--shape {h} {w} does not match the detector\'s anchors, laid out for '
                f'{size[0]}x{size[1]}; export at --shape {size[0]} {size[1]}, or set '
                f'--cfg-options model.bbox_head.anchor_generator.input_size="({h}, {w})"')
    stride = 32
    if min(h, w) < stride:
        raise DeployError(f'--shape {h} {w} is too small: the network downsamples by '
                          f'{stride}, so both sides must be at least {stride} pixels')
    if dynamic and min(h, w) <= stride:
        raise DeployError(f'--shape {h} {w} with --dynamic: export at a size above {stride} '
                          f'(at {stride} the last feature map is 1x1, a size torch.export fixes '
                          f'in the graph); the exported graph accepts {stride + 1} to 4096')
