"""SSDLite anchors as the authors released them (TF object detection API, Section 6.3).

The released SSDLite models (``ssdlite_mobilenet_v{2,3}_*_coco.config``) use TF's
``MultipleGridAnchorGenerator`` (``ssd_anchor_generator``): 6 layers, scales linearly spaced
from 0.2 to 0.95 of the image, aspect ratios {1, 2, 1/2, 3, 1/3} plus one box at the geometric
mean of this and the next layer's scale, and only 3 boxes on the lowest layer
(``reduce_boxes_in_lowest_layer``: (0.1, 1), (0.2, 2), (0.2, 1/2)). Anchor strides are
``image / feature size`` (320 / 3 = 106.7 on the 3x3 map), centres at half a stride.

mmdet's ``SSDAnchorGenerator`` cannot express this (it always makes 4 or 6 boxes per location
and rounds strides to integers); :class:`SSDLiteAnchorGenerator` subclasses mmdet's
``AnchorGenerator`` so the head keeps mmdet's anchor machinery (grid, valid flags, assigner).
"""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmdet.models.task_modules.prior_generators import AnchorGenerator

from ...registry import TASK_UTILS

# mmdet's SSDLite anchors (configs/ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py): the
# documented alternative to the released ones (docs/detection.md). 6 boxes on every level.
MMDET_SSDLITE_ANCHORS = dict(
    type='SSDAnchorGenerator',
    scale_major=False,
    strides=[16, 32, 64, 107, 160, 320],
    ratios=[[2, 3], [2, 3], [2, 3], [2, 3], [2, 3], [2, 3]],
    min_sizes=[48, 100, 150, 202, 253, 304],
    max_sizes=[100, 150, 202, 253, 304, 320])


def ssdlite_feature_sizes(input_size: Union[int, Tuple[int, int]], num_levels: int = 6,
                          first_stride: int = 16) -> List[Tuple[int, int]]:
    """(h, w) of the SSDLite feature maps: every stride-2 3x3 conv (padding 1) maps n to
    ceil(n / 2), so level l has ceil(size / (first_stride * 2^l)): 20, 10, 5, 3, 2, 1 at 320."""
    h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
    return [(math.ceil(h / (first_stride * 2 ** i)), math.ceil(w / (first_stride * 2 ** i)))
            for i in range(num_levels)]


@TASK_UTILS.register_module()
class SSDLiteAnchorGenerator(AnchorGenerator):
    """TF's ``ssd_anchor_generator`` as configured in the released SSDLite models.

    Args:
        input_size: network input, int or (h, w). Anchor sizes are fractions of its shorter
            side (TF normalises them to the image) and the strides follow from it.
        num_levels: number of feature maps (6 in SSDLite).
        min_scale: scale of the lowest layer (0.2).
        max_scale: scale of the highest layer (0.95).
        aspect_ratios: width / height ratios of the boxes of every layer.
        interpolated_scale_aspect_ratio: aspect ratio of the extra box at
            sqrt(scale_l x scale_l+1) (the last layer's next scale is 1.0); 0 disables it.
        reduce_boxes_in_lowest_layer: the lowest layer gets only (0.1, 1), (s0, 2), (s0, 1/2).
        first_stride: output stride of the lowest layer (16: C4).
        strides: explicit (w, h) strides per level; default ``input / feature size``.
        use_box_type: as mmdet's ``AnchorGenerator``.
    """

    def __init__(self,
                 input_size: Union[int, Tuple[int, int]] = 320,
                 num_levels: int = 6,
                 min_scale: float = 0.2,
                 max_scale: float = 0.95,
                 aspect_ratios: Sequence[float] = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0),
                 interpolated_scale_aspect_ratio: float = 1.0,
                 reduce_boxes_in_lowest_layer: bool = True,
                 first_stride: int = 16,
                 strides: Optional[Sequence[Union[float, Tuple[float, float]]]] = None,
                 use_box_type: bool = False) -> None:
        if num_levels < 2:
            raise ValueError(f'num_levels must be at least 2, got {num_levels}')
        self.input_size = (input_size, input_size) if isinstance(input_size, int) \
            else tuple(input_size)
        img_h, img_w = self.input_size
        self.feature_sizes = ssdlite_feature_sizes(self.input_size, num_levels, first_stride)
        if strides is None:
            strides = [(img_w / fw, img_h / fh) for fh, fw in self.feature_sizes]
        if len(strides) != num_levels:
            raise ValueError(f'{len(strides)} strides for {num_levels} levels')
        self.strides = [(float(s), float(s)) if isinstance(s, (int, float))
                        else (float(s[0]), float(s[1])) for s in strides]
        self.min_scale, self.max_scale = min_scale, max_scale
        self.aspect_ratios = tuple(aspect_ratios)
        self.interpolated_scale_aspect_ratio = interpolated_scale_aspect_ratio
        self.reduce_boxes_in_lowest_layer = reduce_boxes_in_lowest_layer
        self.center_offset = 0.
        self.use_box_type = use_box_type

        scales = [min_scale + (max_scale - min_scale) * i / (num_levels - 1)
                  for i in range(num_levels)] + [1.0]
        # (scale, aspect ratio) of every box, per level, in TF's order
        self.box_specs = []
        for i in range(num_levels):
            if i == 0 and reduce_boxes_in_lowest_layer:
                specs = [(0.1, 1.0), (scales[0], 2.0), (scales[0], 0.5)]
            else:
                specs = [(scales[i], ar) for ar in aspect_ratios]
                if interpolated_scale_aspect_ratio > 0:
                    specs.append((math.sqrt(scales[i] * scales[i + 1]),
                                  interpolated_scale_aspect_ratio))
            self.box_specs.append(specs)
        self.base_anchors = self.gen_base_anchors()

    def gen_base_anchors(self) -> List[torch.Tensor]:
        """Boxes (x1, y1, x2, y2) around the centre of the first cell of each level."""
        side = min(self.input_size)  # TF: sizes relative to the shorter image side
        anchors = []
        for (stride_w, stride_h), specs in zip(self.strides, self.box_specs):
            cx, cy = stride_w / 2., stride_h / 2.
            boxes = []
            for scale, ratio in specs:
                w = scale * math.sqrt(ratio) * side
                h = scale / math.sqrt(ratio) * side
                boxes.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
            anchors.append(torch.tensor(boxes, dtype=torch.float32))
        return anchors

    def grid_priors(self, featmap_sizes: List[Tuple], dtype: torch.dtype = torch.float32,
                    device='cuda') -> List[torch.Tensor]:
        """As mmdet's, after checking the maps have the sizes the anchors were laid out for
        (anchors built for another input size would silently miss the objects)."""
        got = [tuple(int(v) for v in s) for s in featmap_sizes]
        if got != [tuple(s) for s in self.feature_sizes]:
            raise ValueError(
                f'SSDLiteAnchorGenerator was built for input {self.input_size} (feature maps '
                f'{self.feature_sizes}) but got feature maps {got}: set '
                f'anchor_generator.input_size to the network input size')
        return super().grid_priors(featmap_sizes, dtype=dtype, device=device)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(input_size={self.input_size}, '
                f'strides={self.strides}, box_specs={self.box_specs})')
