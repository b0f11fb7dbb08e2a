"""Inputs for the output checks: real-format images through the model's own preprocessor."""
import glob
import os.path as osp
import tempfile
from typing import List, Optional, Sequence

import numpy as np
import torch
from torch import nn

from .errors import DeployError

# which fixture generator writes images of each task's dataset format
_GENERATORS = dict(classifier='make_imagenet', detector='make_coco',
                   segmentor='make_cityscapes')
IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')


def fixture_images(task: str, shape: Sequence[int], num: int = 2,
                   seed: int = 0) -> List[np.ndarray]:
    """``num`` images of the task's dataset format (ImageNet JPEGs, COCO JPEGs, Cityscapes
    PNGs) written by :mod:`mnv3_plugin.testing` at ``shape`` and read back with mmcv.

    Args:
        task: 'classifier', 'detector' or 'segmentor'.
        shape: (H, W) in pixels, each at least 16.
        num: how many images.
        seed: the generator's seed.

    Returns:
        ``num`` uint8 arrays (H, W, 3) in BGR order, as mmcv's ``LoadImageFromFile`` gives.
    """
    import mmcv

    from .. import testing
    make = getattr(testing, _GENERATORS[task])
    with tempfile.TemporaryDirectory(prefix='mnv3_check_') as tmp:
        make(tmp, num_train=0, num_val=num, size=tuple(int(s) for s in shape), seed=seed)
        paths = sorted(p for p in glob.glob(osp.join(tmp, '**', '*'), recursive=True)
                       if p.lower().endswith(IMAGE_EXTS) and '_gtFine_' not in p)
        return [mmcv.imread(p) for p in paths[:num]]


def read_images(paths: Sequence[str], shape: Sequence[int], num: int) -> List[np.ndarray]:
    """Images from files or folders, resized to ``shape`` (H, W), BGR uint8.

    Raises:
        DeployError: nothing readable was found.
    """
    import mmcv
    files = []
    for p in paths:
        if osp.isdir(p):
            files += sorted(f for f in glob.glob(osp.join(p, '**', '*'), recursive=True)
                            if f.lower().endswith(IMAGE_EXTS))
        elif osp.isfile(p):
            files.append(p)
    if not files:
        raise DeployError(f'no images ({", ".join(IMAGE_EXTS)}) found in {list(paths)}')
    h, w = shape
    return [mmcv.imresize(mmcv.imread(f), (w, h)) for f in files[:num]]


def preprocess(model: nn.Module, images: Sequence[np.ndarray]) -> List[torch.Tensor]:
    """Runs each image through the model's own data preprocessor (BGR->RGB, mean/std).

    Args:
        model: the OpenMMLab model (its ``data_preprocessor`` is used).
        images: uint8 (H, W, 3) BGR arrays.

    Returns:
        One (1, 3, H, W) float32 tensor per image: the network input.
    """
    out = []
    for img in images:
        chw = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        with torch.no_grad():
            data = model.data_preprocessor(dict(inputs=[chw]), False)
        out.append(data['inputs'].float().contiguous())
    return out


def check_inputs(model: nn.Module, task: str, shape: Sequence[int], num: int = 2,
                 image_paths: Optional[Sequence[str]] = None) -> List[torch.Tensor]:
    """Network inputs for an output check: fixture images (default) or the user's images."""
    images = (read_images(image_paths, shape, num) if image_paths
              else fixture_images(task, shape, num))
    return preprocess(model, images)
