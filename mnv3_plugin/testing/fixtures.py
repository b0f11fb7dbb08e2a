"""Deterministic tiny datasets in the on-disk formats mmpretrain, mmdet and mmseg read.

Three generators write small synthetic sets that the host libraries' own dataset classes load
unchanged, so tests and demos exercise the real data path without downloading anything:

* :func:`make_imagenet` - mmpretrain ``ImageNet`` layout (``train/<class>/*.JPEG``,
  ``val/<class>/*.JPEG``, ``meta/{train,val}.txt`` with ``"<class>/<file> <label>"`` lines).
* :func:`make_coco` - mmdet ``CocoDataset`` layout (``{train,val}/*.jpg`` and
  ``annotations/instances_{train,val}.json``).
* :func:`make_cityscapes` - mmseg ``CityscapesDataset`` layout
  (``leftImg8bit/<split>/<city>/*_leftImg8bit.png`` and
  ``gtFine/<split>/<city>/*_gtFine_labelTrainIds.png``).

The pictures are learnable on purpose: every class has its own form and colour (shapes on
textured gradient backgrounds; street-like scenes with class colours and textures), so a
small network trained on them must beat chance. Everything is drawn with numpy/cv2 from one
random generator per image, seeded by ``(seed, dataset, split, index)``: the same arguments
give byte-identical files, and image ``i`` does not depend on how many images come before it.
No torch is needed.
"""
from __future__ import annotations
import json
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

# Classification and detection share one set of classes: (polygon kind, RGB colour). In
# alphabetical order, so the labels mmpretrain infers by scanning the class folders (no
# ann_file) are the same as those in meta/*.txt.
SHAPE_SPECS: dict[str, tuple[str, tuple[int, int, int]]] = {
    'blue_triangle': ('triangle', (45, 80, 215)),
    'green_square': ('square', (40, 185, 60)),
    'red_disc': ('disc', (215, 40, 40)),
    'yellow_cross': ('cross', (225, 205, 40)),
}
SHAPE_CLASSES: tuple[str, ...] = tuple(SHAPE_SPECS)
# The forms and colours crossed, for harder classification sets (``make_imagenet(num_classes=N)``
# with N > 4): a class is then a form *and* a colour, so neither alone tells it.
SHAPE_KINDS: tuple[str, ...] = ('triangle', 'square', 'disc', 'cross')
SHAPE_COLOURS: dict[str, tuple[int, int, int]] = {
    name.split('_')[0]: colour for name, (_, colour) in SHAPE_SPECS.items()}
# The 16 crossings: the four classes above first, then the others (form-major order).
_ALL_SHAPE_CLASSES: tuple[str, ...] = SHAPE_CLASSES + tuple(
    f'{c}_{k}' for k in SHAPE_KINDS for c in SHAPE_COLOURS if f'{c}_{k}' not in SHAPE_SPECS)


def shape_classes(num_classes: int = len(SHAPE_CLASSES)) -> tuple[str, ...]:
    """The first ``num_classes`` of the 16 form x colour classes, in alphabetical order.

    ``shape_classes(4) == SHAPE_CLASSES``; from 5 on, classes share forms and colours.

    Raises:
        ValueError: ``num_classes`` outside 2..16.
    """
    if not 2 <= num_classes <= len(_ALL_SHAPE_CLASSES):
        raise ValueError(f'num_classes must be in 2..{len(_ALL_SHAPE_CLASSES)} (forms x '
                         f'colours), got {num_classes}')
    return tuple(sorted(_ALL_SHAPE_CLASSES[:num_classes]))


def _shape_spec(cls: str) -> tuple[str, tuple[int, int, int]]:
    """(polygon kind, RGB colour) of a ``<colour>_<form>`` class."""
    if cls in SHAPE_SPECS:
        return SHAPE_SPECS[cls]
    colour, kind = cls.split('_')
    return kind, SHAPE_COLOURS[colour]


# The Cityscapes classes the scenes use, as {trainId: name} (ids as in cityscapesscripts, so
# mmseg's 19-class CityscapesDataset metainfo applies unchanged).
ROAD, SIDEWALK, BUILDING, VEGETATION, SKY, PERSON, CAR = 0, 1, 2, 8, 10, 11, 13
CITYSCAPES_TRAIN_IDS: dict[int, str] = {
    ROAD: 'road', SIDEWALK: 'sidewalk', BUILDING: 'building', VEGETATION: 'vegetation',
    SKY: 'sky', PERSON: 'person', CAR: 'car'}
IGNORE_INDEX = 255
CITYSCAPES_CITIES = {'train': ('aachen', 'bremen'), 'val': ('frankfurt', 'lindau')}


def _city_tables() -> tuple[np.ndarray, ...]:
    """Per-trainId look-up tables (indexed by the label map): colour and texture amplitudes."""
    colour, fine, grid, vert = np.zeros((256, 3)), np.zeros(256), np.zeros(256), np.zeros(256)
    # trainId: RGB, per-pixel grain (asphalt, foliage), window grid (facades), vertical
    # gradient (sky brightening towards the horizon)
    for tid, rgb, f, g, v in (
            (ROAD, (80, 80, 88), 14, 0, 0), (SIDEWALK, (185, 150, 170), 8, 0, 0),
            (BUILDING, (150, 105, 75), 6, -45, 0), (VEGETATION, (60, 140, 40), 30, 0, 0),
            (SKY, (110, 160, 230), 2, 0, 60), (PERSON, (205, 35, 70), 6, 0, 0),
            (CAR, (25, 35, 150), 6, 0, 0)):
        colour[tid], fine[tid], grid[tid], vert[tid] = rgb, f, g, v
    return tuple(t.astype(np.float32) for t in (colour, fine, grid, vert))


_CITY_COLOUR, _CITY_FINE, _CITY_GRID, _CITY_VERT = _city_tables()


def _unit_polygons() -> dict[str, np.ndarray]:
    """Outlines of roughly unit radius (image axes: y points down), scaled by :func:`_place`."""
    t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    tri = np.radians([-90, 30, 150])
    a, b = 1.0, 0.33  # cross: arm half-length and half-width
    polys = {
        'disc': np.stack([np.cos(t), np.sin(t)], 1),
        # Sizes chosen so all shapes cover a similar area at the same scale.
        'square': 0.85 * np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]),
        'triangle': 1.15 * np.stack([np.cos(tri), np.sin(tri)], 1),
        'cross': np.array([[-b, -a], [b, -a], [b, -b], [a, -b], [a, b], [b, b], [b, a],
                           [-b, a], [-b, b], [-a, b], [-a, -b], [-b, -b]]),
        'rect': np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]),
        'trapezoid': np.array([[-0.6, -1], [0.6, -1], [1, 1], [-1, 1]]),
    }
    return {k: v.astype(np.float64) for k, v in polys.items()}


_POLYGONS = _unit_polygons()
# Largest vertex radius of the classification shapes (the square's corners): shapes of scale r
# fit in a circle of radius _OUTER * r.
_OUTER = max(float(np.hypot(*_POLYGONS[SHAPE_SPECS[c][0]].T).max()) for c in SHAPE_CLASSES)


@dataclass
class FixtureSet:
    """What a generator wrote.

    Attributes:
        root: The dataset root (``data_root`` for the host dataset classes).
        classes: Class names, index = label (for Cityscapes: the names of ``label_ids``).
        label_ids: Label values used in annotations: ``0..K-1``, or the Cityscapes trainIds.
        num_images: Images per split, e.g. ``{'train': 32, 'val': 16}``.
        image_size: (height, width) of every image.
        num_instances: Objects per split (COCO only, else empty).
    """
    root: Path
    classes: tuple[str, ...]
    label_ids: tuple[int, ...]
    num_images: dict[str, int]
    image_size: tuple[int, int]
    num_instances: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Shared drawing helpers
# --------------------------------------------------------------------------------------------
def _rng(seed: int, dataset: str, split: str, index: int) -> np.random.Generator:
    """One generator per image, so image ``index`` is independent of the set size."""
    return np.random.default_rng([seed, zlib.crc32(f'{dataset}/{split}'.encode()), index])


def _place(kind: str, cx: float, cy: float, sx: float, sy: float | None = None,
           angle: float = 0.0) -> np.ndarray:
    """Scale, rotate (radians) and translate a unit polygon; returns (N, 2) float x, y."""
    pts = _POLYGONS[kind] * (sx, sx if sy is None else sy)
    c, s = np.cos(angle), np.sin(angle)
    return pts @ np.array([[c, s], [-s, c]]) + (cx, cy)


def _fill(canvas: np.ndarray, pts: np.ndarray, value: int) -> None:
    """Rasterise a polygon in place, without anti-aliasing so masks/labels stay exact."""
    # shift=4: 1/16-pixel vertex precision, so small rotated shapes keep their form.
    cv2.fillPoly(canvas, [np.round(pts * 16).astype(np.int32)], int(value),
                 lineType=cv2.LINE_8, shift=4)


def _low_freq(rng: np.random.Generator, h: int, w: int, amp: float, cells: int = 4,
              channels: int = 3) -> np.ndarray:
    """Smooth random blotches: a coarse random grid upsampled bicubically (float32)."""
    grid = rng.normal(0, amp, (cells, cells, channels)).astype(np.float32)
    out = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    return out.reshape(h, w, channels)


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Muted two-colour gradient + blotches + faint stripes (float32 HxWx3, RGB)."""
    # Pulled towards grey so the saturated object colours stay distinctive, but random
    # enough that the mean image colour alone says little.
    c0, c1 = 0.5 * rng.uniform(30, 225, (2, 3)) + 0.5 * 128
    theta, freq, phase = rng.uniform(0, 2 * np.pi), rng.uniform(0.15, 0.6), rng.uniform(0, 6.3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    proj = np.cos(theta) * xx / w + np.sin(theta) * yy / h
    t = (proj - proj.min()) / max(float(proj.max() - proj.min()), 1e-6)
    img = c0 + t[..., None] * (c1 - c0).astype(np.float32)
    img += _low_freq(rng, h, w, amp=20)
    img += (12 * np.sin(freq * (xx * np.sin(theta) - yy * np.cos(theta)) + phase))[..., None]
    return img


def _finish(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Add per-pixel sensor noise and convert to uint8."""
    noise = rng.standard_normal(img.shape, dtype=np.float32) * sigma
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def _imwrite(path: Path, img: np.ndarray, jpeg_quality: int | None = None) -> None:
    """Write an RGB (HxWx3) or label (HxW) uint8 image; JPEG if ``jpeg_quality`` is given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if img.ndim == 3:
        img = np.ascontiguousarray(img[..., ::-1])  # cv2 writes BGR
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if jpeg_quality else []
    if not cv2.imwrite(str(path), img, params):
        raise OSError(f'could not write {path}')


def _draw_shape(img: np.ndarray, rng: np.random.Generator, cls: str, cx: float, cy: float,
                r: float) -> tuple[np.ndarray, np.ndarray]:
    """Paint a class's shape (random rotation, jittered colour) in place.

    Returns:
        The drawn pixels as a uint8 mask and the polygon as (N, 2) x, y vertices.
    """
    kind, colour = _shape_spec(cls)
    mask = np.zeros(img.shape[:2], np.uint8)
    # Snapped to the 1/16-pixel grid _fill draws on, so the returned outline redraws exactly.
    pts = np.round(_place(kind, cx, cy, r, angle=rng.uniform(0, 2 * np.pi)) * 16) / 16
    _fill(mask, pts, 1)
    # Mild colour jitter and a brightness ramp across the object (lighting).
    col = np.asarray(colour, np.float32) * rng.uniform(0.85, 1.1) + rng.normal(0, 10, 3)
    ramp = _low_freq(rng, *img.shape[:2], amp=12, cells=2, channels=1)
    sel = mask.astype(bool)
    img[sel] = col + ramp[sel]
    return mask, pts


def _prepare_root(root: str | Path, owned: tuple[str, ...], overwrite: bool) -> Path:
    """Create ``root``; refuse (or with ``overwrite`` remove) stale sub-folders we write.

    Stale files would silently join the set: mmseg, for one, scans its image folders.
    """
    root = Path(root)
    stale = [root / d for d in owned if (root / d).exists()]
    if stale and not overwrite:
        raise FileExistsError(f'{stale[0]} exists; pass overwrite=True to replace it')
    for d in stale:
        if d.is_dir():
            shutil.rmtree(d)
        else:
            d.unlink()
    root.mkdir(parents=True, exist_ok=True)
    return root


def _check_args(num_train: int, num_val: int, size: tuple[int, int], seed: int) -> tuple[int, int]:
    """Validate the common generator arguments; returns (height, width)."""
    h, w = (int(v) for v in size)
    if min(h, w) < 16 or num_train < 0 or num_val < 0 or seed < 0:
        raise ValueError(f'need size >= 16x16 and counts, seed >= 0; got {size=}, '
                         f'{num_train=}, {num_val=}, {seed=}')
    return h, w


# --------------------------------------------------------------------------------------------
# Generators
# --------------------------------------------------------------------------------------------
def make_imagenet(root: str | Path, num_train: int = 32, num_val: int = 16,
                  size: tuple[int, int] = (64, 64), seed: int = 0, *,
                  num_classes: int = 4, scale: tuple[float, float] = (0.2, 0.32),
                  noise: float = 6, overwrite: bool = False) -> FixtureSet:
    """Write a shape-classification set in mmpretrain's ImageNet layout.

    One shape per image (class = form and colour, see :data:`SHAPE_SPECS` and
    :func:`shape_classes`), random position, scale and rotation, on a random textured
    background. Labels go round-robin over the classes, so the splits are balanced when the
    counts are multiples of ``num_classes``::

        root/train/<class>/<class>_<i>.JPEG      root/meta/train.txt  ("<class>/<file> <label>")
        root/val/<class>/<class>_<i>.JPEG        root/meta/val.txt

    Args:
        root: Output directory (the dataset's ``data_root``).
        num_train: Number of training images.
        num_val: Number of validation images.
        size: Image size as (height, width).
        seed: Random seed (>= 0); the same seed gives byte-identical files.
        num_classes: Number of classes, 2..16 (:func:`shape_classes`); above 4, classes share
            forms and colours, a harder task.
        scale: Range of the shape's radius as a fraction of the shorter image side (smaller
            shapes are harder to tell apart).
        noise: Standard deviation of the per-pixel sensor noise, in grey levels.
        overwrite: Replace existing ``train/``, ``val/``, ``meta/`` under ``root``.

    Returns:
        A :class:`FixtureSet` with ``classes == shape_classes(num_classes)`` (the default:
        :data:`SHAPE_CLASSES`).

    Raises:
        ValueError: bad sizes or counts, ``num_classes`` outside 2..16, or a ``scale`` range
            outside (0, 0.32] (larger shapes do not fit) or ``noise`` < 0.
    """
    h, w = _check_args(num_train, num_val, size, seed)
    classes = shape_classes(num_classes)
    if not 0 < scale[0] <= scale[1] <= 0.32 or noise < 0:
        raise ValueError(f'need 0 < scale[0] <= scale[1] <= 0.32 and noise >= 0; got '
                         f'{scale=}, {noise=}')
    root = _prepare_root(root, ('train', 'val', 'meta'), overwrite)
    counts = {'train': num_train, 'val': num_val}
    for split, n in counts.items():
        lines = []
        for i in range(n):
            rng = _rng(seed, 'imagenet', split, i)
            label = i % len(classes)
            cls = classes[label]
            img = _background(rng, h, w)
            r = rng.uniform(*scale) * min(h, w)
            m = _OUTER * r + 1  # keep the whole shape inside
            _draw_shape(img, rng, cls, rng.uniform(m, w - m), rng.uniform(m, h - m), r)
            rel = f'{cls}/{cls}_{i // len(classes):05d}.JPEG'
            _imwrite(root / split / rel, _finish(img, rng, sigma=noise), jpeg_quality=92)
            lines.append(f'{rel} {label}\n')
        (root / 'meta').mkdir(exist_ok=True)
        (root / 'meta' / f'{split}.txt').write_text(''.join(sorted(lines)))
    return FixtureSet(root, classes, tuple(range(len(classes))), counts, (h, w))


def make_coco(root: str | Path, num_train: int = 16, num_val: int = 8,
              size: tuple[int, int] = (128, 128), seed: int = 0, *, max_objects: int = 4,
              overwrite: bool = False) -> FixtureSet:
    """Write a shape-detection set in the COCO instances format mmdet's CocoDataset reads.

    Each image holds 1..``max_objects`` non-overlapping shapes of the :data:`SHAPE_CLASSES`
    (category ids 1..4 in that order), fully inside the image. ``bbox`` is the tight
    ``[x, y, w, h]`` box of the drawn pixels, ``area`` their count, ``segmentation`` the
    drawn polygon, ``iscrowd`` 0::

        root/train/000000000001.jpg ...          root/annotations/instances_train.json
        root/val/000000000001.jpg ...            root/annotations/instances_val.json

    Args:
        root: Output directory (the dataset's ``data_root``).
        num_train: Number of training images.
        num_val: Number of validation images.
        size: Image size as (height, width).
        seed: Random seed (>= 0); the same seed gives byte-identical files.
        max_objects: Most objects per image (fewer when they do not fit).
        overwrite: Replace existing ``train/``, ``val/``, ``annotations/`` under ``root``.

    Returns:
        A :class:`FixtureSet`; ``num_instances`` counts the annotations per split.
    """
    h, w = _check_args(num_train, num_val, size, seed)
    if max_objects < 1:
        raise ValueError(f'max_objects must be >= 1, got {max_objects}')
    root = _prepare_root(root, ('train', 'val', 'annotations'), overwrite)
    categories = [dict(id=k + 1, name=c, supercategory='shape')
                  for k, c in enumerate(SHAPE_CLASSES)]
    counts, n_inst = {'train': num_train, 'val': num_val}, {}
    for split, n in counts.items():
        images, anns = [], []
        for i in range(n):
            rng = _rng(seed, 'coco', split, i)
            img = _background(rng, h, w)
            placed: list[tuple[float, float, float]] = []
            for _ in range(int(rng.integers(1, max_objects + 1))):
                # Rejection-sample a free spot (circumscribed circles must not touch) so
                # every box is tight around fully visible pixels.
                for _try in range(30):
                    r = rng.uniform(0.09, 0.2) * min(h, w)
                    m = _OUTER * r + 1
                    cx, cy = rng.uniform(m, w - m), rng.uniform(m, h - m)
                    if all(np.hypot(cx - x, cy - y) > m + q + 1 for x, y, q in placed):
                        break
                else:
                    continue
                placed.append((cx, cy, m))
                label = int(rng.integers(len(SHAPE_CLASSES)))
                mask, pts = _draw_shape(img, rng, SHAPE_CLASSES[label], cx, cy, r)
                x, y, bw, bh = cv2.boundingRect(mask)
                anns.append(dict(
                    id=len(anns) + 1, image_id=i + 1, category_id=label + 1,
                    bbox=[x, y, bw, bh], area=float(cv2.countNonZero(mask)), iscrowd=0,
                    # COCO puts pixel centres at +0.5, cv2 at integer coordinates.
                    segmentation=[(pts + 0.5).ravel().tolist()]))
            name = f'{i + 1:012d}.jpg'
            _imwrite(root / split / name, _finish(img, rng, sigma=6), jpeg_quality=92)
            images.append(dict(id=i + 1, file_name=name, height=h, width=w))
        coco = dict(info=dict(description='mnv3_plugin synthetic shapes', version='1.0'),
                    licenses=[], images=images, annotations=anns, categories=categories)
        (root / 'annotations').mkdir(exist_ok=True)
        (root / 'annotations' / f'instances_{split}.json').write_text(json.dumps(coco))
        n_inst[split] = len(anns)
    return FixtureSet(root, SHAPE_CLASSES, tuple(range(len(SHAPE_CLASSES))), counts, (h, w),
                      n_inst)


def _street_labels(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Label map (trainIds) of a street scene: sky, facades, trees, road, sidewalk, cars, people."""
    lab = np.full((h, w), SKY, np.uint8)
    hz = int(rng.uniform(0.42, 0.55) * h)  # horizon row
    x = 0
    while x < w:  # skyline of facades, with occasional gaps that show the sky
        bw = int(rng.integers(w // 12, w // 5 + 1))
        if rng.random() < 0.85:
            lab[int(rng.uniform(0.05, 0.75) * hz):hz, x:x + bw] = BUILDING
        x += bw
    for _ in range(int(rng.integers(1, 4))):  # trees in front of the facades
        sx, sy = rng.uniform(0.04, 0.1) * w, rng.uniform(0.08, 0.18) * h
        _fill(lab, _place('disc', rng.uniform(0, w), hz - 0.8 * sy, sx, sy), VEGETATION)
    # Ground: sidewalk, and a road narrowing towards a vanishing point on the horizon.
    lab[hz:] = SIDEWALK
    top_l, top_r = (rng.uniform(0.35, 0.65) + np.array([-0.03, 0.03])) * w
    bot_l, bot_r = rng.uniform(-0.3, 0.1) * w, rng.uniform(0.9, 1.3) * w
    _fill(lab, np.array([[top_l, hz], [top_r, hz], [bot_r, h], [bot_l, h]]), ROAD)

    def road_edges(t: float) -> tuple[float, float]:  # t: 0 at the horizon, 1 at the bottom
        return top_l + t * (bot_l - top_l), top_r + t * (bot_r - top_r)

    # Objects scale with their distance below the horizon (perspective); drawn far to near so
    # nearer ones occlude farther ones.
    objects = [(CAR, rng.uniform(0.15, 0.9)) for _ in range(int(rng.integers(1, 4)))]
    objects += [(PERSON, rng.uniform(0.1, 0.95)) for _ in range(int(rng.integers(1, 4)))]
    for cls, t in sorted(objects, key=lambda o: o[1]):
        fy, (left, right) = hz + t * (h - hz), road_edges(t)
        if cls == CAR:
            cw = w * (0.05 + 0.25 * t)
            lo, hi = left + cw / 2, right - cw / 2
            x = rng.uniform(lo, hi) if hi > lo else (left + right) / 2
            _fill(lab, _place('rect', x, fy - 0.2 * cw, 0.5 * cw, 0.2 * cw), CAR)
            _fill(lab, _place('trapezoid', x, fy - 0.53 * cw, 0.32 * cw, 0.13 * cw), CAR)
        else:
            ph = h * (0.08 + 0.4 * t)
            # On a sidewalk where there is one, else anywhere (crossing the road).
            sides = [(0, left - 0.1 * ph), (right + 0.1 * ph, w)]
            sides = [s for s in sides if s[1] - s[0] > 4] or [(0, w)]
            x = rng.uniform(*sides[int(rng.integers(len(sides)))])
            _fill(lab, _place('disc', x, fy - 0.42 * ph, 0.13 * ph, 0.42 * ph), PERSON)
            _fill(lab, _place('disc', x, fy - 0.9 * ph, 0.08 * ph), PERSON)
    return lab


def _street_image(rng: np.random.Generator, lab: np.ndarray) -> np.ndarray:
    """Render a label map: per-class colours and textures, lighting and noise (uint8 RGB)."""
    h, w = lab.shape
    yy, xx = np.mgrid[0:h, 0:w]
    colour = _CITY_COLOUR + rng.normal(0, 8, (256, 3)).astype(np.float32)  # per-image jitter
    px, py = rng.integers(5, 10, 2)  # window grid period on the facades
    grid = ((yy % py < py // 2) & (xx % px < px // 2)).astype(np.float32)
    fine = rng.standard_normal((h, w), dtype=np.float32)
    vert = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    # One table look-up per texture keeps this vectorised for every class at once.
    tex = _CITY_FINE[lab] * fine + _CITY_GRID[lab] * grid + _CITY_VERT[lab] * vert
    img = colour[lab] + tex[..., None] + _low_freq(rng, h, w, amp=10)
    return _finish(img, rng, sigma=4)


def make_cityscapes(root: str | Path, num_train: int = 8, num_val: int = 4,
                    size: tuple[int, int] = (128, 256), seed: int = 0, *,
                    ignore_border: bool = True, overwrite: bool = False) -> FixtureSet:
    """Write a street-scene segmentation set in the Cityscapes layout mmseg reads.

    Scenes have sky (trainId 10) above a skyline of buildings (2) with trees (8), a road (0)
    between sidewalks (1), cars (13) on the road and people (11), see
    :data:`CITYSCAPES_TRAIN_IDS`. Label maps are single-channel uint8 PNGs of trainIds; with
    ``ignore_border`` a 1-pixel ring of 255 surrounds the cars and people, as Cityscapes
    leaves object outlines void. Images go round-robin over two cities per split
    (:data:`CITYSCAPES_CITIES`)::

        root/leftImg8bit/<split>/<city>/<city>_<seq>_000019_leftImg8bit.png
        root/gtFine/<split>/<city>/<city>_<seq>_000019_gtFine_labelTrainIds.png

    Args:
        root: Output directory (the dataset's ``data_root``).
        num_train: Number of training images.
        num_val: Number of validation images.
        size: Image size as (height, width).
        seed: Random seed (>= 0); the same seed gives byte-identical files.
        ignore_border: Mark a 1-pixel ring around cars and people as 255 (ignore).
        overwrite: Replace existing ``leftImg8bit/`` and ``gtFine/`` under ``root``.

    Returns:
        A :class:`FixtureSet` whose ``label_ids`` are the trainIds used and ``classes`` their
        names (mmseg's CityscapesDataset keeps its own 19-class metainfo).
    """
    h, w = _check_args(num_train, num_val, size, seed)
    root = _prepare_root(root, ('leftImg8bit', 'gtFine'), overwrite)
    counts = {'train': num_train, 'val': num_val}
    for split, n in counts.items():
        cities = CITYSCAPES_CITIES[split]
        for i in range(n):
            rng = _rng(seed, 'cityscapes', split, i)
            lab = _street_labels(rng, h, w)
            img = _street_image(rng, lab)
            if ignore_border:
                obj = ((lab == CAR) | (lab == PERSON)).astype(np.uint8)
                lab[cv2.dilate(obj, np.ones((3, 3), np.uint8)) > obj] = IGNORE_INDEX
            city = cities[i % len(cities)]
            stem = f'{city}/{city}_{i // len(cities):06d}_000019'
            _imwrite(root / 'leftImg8bit' / split / f'{stem}_leftImg8bit.png', img)
            _imwrite(root / 'gtFine' / split / f'{stem}_gtFine_labelTrainIds.png', lab)
    ids = tuple(CITYSCAPES_TRAIN_IDS)
    return FixtureSet(root, tuple(CITYSCAPES_TRAIN_IDS.values()), ids, counts, (h, w))


GENERATORS = {'imagenet': make_imagenet, 'coco': make_coco, 'cityscapes': make_cityscapes}
