"""The synthetic fixture sets load through the host libraries' own dataset classes and
pipelines, are deterministic, and carry learnable structure."""
import importlib.util
import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from mnv3_plugin.testing import (CITYSCAPES_TRAIN_IDS, IGNORE_INDEX, SHAPE_CLASSES, SHAPE_SPECS,
                                 make_cityscapes, make_coco, make_imagenet)

REPO = Path(__file__).resolve().parents[1]


def _load(scope, dataset_cls, **kwargs):
    """Build a host dataset under its own registry scope (restored afterwards), so its
    pipeline dicts resolve to that package's transforms (mmdet's vs mmseg's LoadAnnotations)."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope(scope):
        return dataset_cls(**kwargs)


def _rgb(path):
    return cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1]


# --------------------------------------------------------------------------------------------
# Loading through the hosts' datasets
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize('split', ['train', 'val'])
@pytest.mark.parametrize('labels_from', ['meta', 'folders'])
def test_imagenet_loads_with_mmpretrain(imagenet_set, split, labels_from):
    from mmpretrain.datasets import ImageNet

    # split= picks up meta/<split>.txt; without it mmpretrain scans the class folders.
    where = dict(split=split) if labels_from == 'meta' else dict(data_prefix=split)
    ds = _load('mmpretrain', ImageNet, data_root=str(imagenet_set.root), **where,
               metainfo=dict(classes=SHAPE_CLASSES),
               pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')])
    assert ds.ann_file.endswith(f'meta/{split}.txt') == (labels_from == 'meta')
    assert len(ds) == imagenet_set.num_images[split]
    assert tuple(ds.CLASSES) == SHAPE_CLASSES
    # Balanced round-robin labels.
    assert Counter(ds.get_gt_labels().tolist()) == {
        k: imagenet_set.num_images[split] // len(SHAPE_CLASSES) for k in range(len(SHAPE_CLASSES))}
    h, w = imagenet_set.image_size
    for i in range(len(ds)):
        out = ds[i]
        sample = out['data_samples']
        label = sample.gt_label.item()
        assert SHAPE_CLASSES[label] == Path(sample.img_path).parent.name
        assert Path(sample.img_path).parent.parent.name == split
        assert tuple(out['inputs'].shape) == (3, h, w)
        assert tuple(sample.ori_shape) == (h, w)


@pytest.mark.parametrize('split', ['train', 'val'])
def test_coco_loads_with_mmdet(coco_set, split):
    from mmdet.datasets import CocoDataset
    ann_file = f'annotations/instances_{split}.json'
    ds = _load('mmdet', CocoDataset, data_root=str(coco_set.root), ann_file=ann_file,
               data_prefix=dict(img=f'{split}/'), metainfo=dict(classes=SHAPE_CLASSES),
               pipeline=[dict(type='LoadImageFromFile'),
                         dict(type='LoadAnnotations', with_bbox=True),
                         dict(type='PackDetInputs')])
    coco = json.loads((coco_set.root / ann_file).read_text())
    names = {c['id']: c['name'] for c in coco['categories']}
    assert len(ds) == len(coco['images']) == coco_set.num_images[split]
    h, w = coco_set.image_size
    n_inst = 0
    for i in range(len(ds)):
        out = ds[i]
        sample = out['data_samples']
        anns = [a for a in coco['annotations'] if a['image_id'] == sample.img_id]
        expect_boxes = [[x, y, x + bw, y + bh] for x, y, bw, bh in (a['bbox'] for a in anns)]
        expect_labels = [SHAPE_CLASSES.index(names[a['category_id']]) for a in anns]
        boxes = sample.gt_instances.bboxes.tensor.numpy()
        labels = sample.gt_instances.labels.numpy()
        assert 1 <= len(anns) <= 4 and len(boxes) == len(anns)
        np.testing.assert_allclose(boxes, expect_boxes)
        assert labels.tolist() == expect_labels
        assert ((labels >= 0) & (labels < len(SHAPE_CLASSES))).all()
        assert tuple(out['inputs'].shape) == (3, h, w)
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= (w, h)).all()
        n_inst += len(boxes)
    assert n_inst == coco_set.num_instances[split] == len(coco['annotations'])


@pytest.mark.parametrize('split', ['train', 'val'])
def test_cityscapes_loads_with_mmseg(cityscapes_set, split):
    from mmseg.datasets import CityscapesDataset
    ds = _load('mmseg', CityscapesDataset, data_root=str(cityscapes_set.root),
               data_prefix=dict(img_path=f'leftImg8bit/{split}', seg_map_path=f'gtFine/{split}'),
               pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                         dict(type='PackSegInputs')])
    assert len(ds) == cityscapes_set.num_images[split]
    allowed = set(cityscapes_set.label_ids) | {IGNORE_INDEX}
    seen = set()
    for i in range(len(ds)):
        out = ds[i]
        sample = out['data_samples']
        seg = sample.gt_sem_seg.data.numpy()
        assert seg.shape == (1, *out['inputs'].shape[1:]) == (1, *cityscapes_set.image_size)
        values = set(np.unique(seg).tolist())
        assert values <= allowed
        assert len(values - {IGNORE_INDEX}) >= 2
        assert Path(sample.seg_map_path).name == \
            Path(sample.img_path).name.replace('_leftImg8bit.png', '_gtFine_labelTrainIds.png')
        seen |= values
    # Every class the generator claims to use shows up somewhere in the split.
    assert seen - {IGNORE_INDEX} == set(cityscapes_set.label_ids)


# --------------------------------------------------------------------------------------------
# Determinism and the generator API
# --------------------------------------------------------------------------------------------
TINY = {
    'imagenet': (make_imagenet, dict(num_train=4, num_val=4, size=(32, 32))),
    'coco': (make_coco, dict(num_train=2, num_val=1, size=(64, 64))),
    'cityscapes': (make_cityscapes, dict(num_train=2, num_val=2, size=(64, 128))),
}


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob('*')) if p.is_file()}


@pytest.mark.parametrize('name', list(TINY))
def test_generation_is_deterministic(tmp_path, name):
    make, kw = TINY[name]
    a = _files(make(tmp_path / 'a', seed=3, **kw).root)
    b = _files(make(tmp_path / 'b', seed=3, **kw).root)
    c = _files(make(tmp_path / 'c', seed=4, **kw).root)
    assert a and a == b
    assert a.keys() == c.keys()  # file names do not depend on the seed, contents do
    images = [k for k in a if k.lower().endswith(('.jpeg', '.jpg', '_leftimg8bit.png'))]
    assert images and all(a[k] != c[k] for k in images)


def test_image_does_not_depend_on_set_size(tmp_path):
    small = _files(make_imagenet(tmp_path / 'small', 4, 0, (32, 32)).root)
    large = _files(make_imagenet(tmp_path / 'large', 8, 0, (32, 32)).root)
    images = [k for k in small if k.endswith('.JPEG')]
    assert len(images) == 4 and all(small[k] == large[k] for k in images)


def test_refuses_to_mix_with_existing_set(tmp_path):
    make_cityscapes(tmp_path, 2, 0, (64, 128))
    with pytest.raises(FileExistsError):
        make_cityscapes(tmp_path, 1, 0, (64, 128))
    info = make_cityscapes(tmp_path, 1, 0, (64, 128), overwrite=True)
    assert len(list((tmp_path / 'leftImg8bit').rglob('*.png'))) == info.num_images['train'] == 1


def test_cli_writes_all_sets(tmp_path, capsys):
    # In-process: a subprocess would spend seconds re-importing torch for the same check.
    spec = importlib.util.spec_from_file_location(
        'make_fixture_data', REPO / 'tools/misc/make_fixture_data.py')
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    cli.main(['all', '--out', str(tmp_path), '--num-train', '4', '--num-val', '2',
              '--size', '64', '128', '--seed', '1'])
    out = capsys.readouterr().out
    for name in TINY:
        assert f'{name}: wrote' in out
    assert len(list((tmp_path / 'imagenet/train').rglob('*.JPEG'))) == 4
    assert len(json.loads((tmp_path / 'coco/annotations/instances_val.json').read_text())
               ['images']) == 2
    assert len(list((tmp_path / 'cityscapes/gtFine/val').rglob('*_labelTrainIds.png'))) == 2
    with pytest.raises(SystemExit, match='exists'):  # refuses to write over an existing set
        cli.main(['coco', '--out', str(tmp_path / 'coco')])


# --------------------------------------------------------------------------------------------
# Learnable structure
# --------------------------------------------------------------------------------------------
def _saturated_hue_hist(path, bins=12, min_sat=160):
    """Hue histogram of the strongly saturated pixels: the objects, not the muted backgrounds."""
    hsv = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2HSV).reshape(-1, 3)
    hue = hsv[hsv[:, 1] >= min_sat, 0].astype(int) * bins // 180  # OpenCV hue: 0..179
    return np.bincount(hue, minlength=bins) / len(hsv)


def test_imagenet_nearest_centroid_beats_chance(imagenet_set):
    def features(split):
        lines = (imagenet_set.root / 'meta' / f'{split}.txt').read_text().split('\n')
        pairs = [ln.rsplit(' ', 1) for ln in lines if ln]
        x = np.stack([_saturated_hue_hist(imagenet_set.root / split / p) for p, _ in pairs])
        return x, np.array([int(lb) for _, lb in pairs])

    x_tr, y_tr = features('train')
    x_va, y_va = features('val')
    centroids = np.stack([x_tr[y_tr == k].mean(0) for k in range(len(SHAPE_CLASSES))])
    pred = np.argmin(((x_va[:, None] - centroids[None]) ** 2).sum(-1), 1)
    assert (pred == y_va).mean() >= 0.75  # chance: 0.25


# pycocotools 2.0 with numpy 2 warns inside its own decode().
@pytest.mark.filterwarnings('ignore:__array__ implementation:DeprecationWarning')
def test_coco_boxes_are_tight_around_class_coloured_shapes(coco_set):
    from pycocotools import mask as mask_utils
    coco = json.loads((coco_set.root / 'annotations/instances_train.json').read_text())
    images = {im['id']: im for im in coco['images']}
    names = {c['id']: c['name'] for c in coco['categories']}
    palette = np.array([SHAPE_SPECS[c][1] for c in SHAPE_CLASSES], np.float64)
    for ann in coco['annotations']:
        im = images[ann['image_id']]
        img = _rgb(coco_set.root / 'train' / im['file_name'])
        rle = mask_utils.merge(mask_utils.frPyObjects(ann['segmentation'], im['height'],
                                                      im['width']))
        mask = mask_utils.decode(rle).astype(bool)
        # Box and area are exactly those of the drawn polygon (redrawn as the generator does:
        # cv2, pixel centres at integers, outline pixels included) ...
        drawn = np.zeros((im['height'], im['width']), np.uint8)
        poly = np.asarray(ann['segmentation'][0]).reshape(-1, 2) - 0.5
        cv2.fillPoly(drawn, [np.round(poly * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
        assert list(cv2.boundingRect(drawn)) == ann['bbox']
        assert cv2.countNonZero(drawn) == ann['area']
        # ... and close to pycocotools' rasterisation, which takes only pixels whose centre is
        # inside (so its box is up to 2 px smaller).
        x0, y0, bw, bh = ann['bbox']
        px, py, pw, ph = mask_utils.toBbox(rle)
        inset = np.array([px - x0, py - y0, x0 + bw - (px + pw), y0 + bh - (py + ph)])
        assert ((inset >= 0) & (inset <= 2)).all(), (inset, ann)
        assert 0.75 * ann['area'] <= mask.sum() <= ann['area']
        # The pixels inside are closest in colour to this category's colour.
        mean = img[mask].mean(0)
        nearest = SHAPE_CLASSES[int(np.argmin(((palette - mean) ** 2).sum(1)))]
        assert nearest == names[ann['category_id']]


def test_cityscapes_pixel_colours_predict_classes(cityscapes_set):
    def pixels(split):
        root = cityscapes_set.root
        xs, ys = [], []
        for img_path in sorted((root / 'leftImg8bit' / split).rglob('*_leftImg8bit.png')):
            gt_path = str(img_path).replace('leftImg8bit', 'gtFine', 1).replace(
                '_leftImg8bit.png', '_gtFine_labelTrainIds.png')
            gt = cv2.imread(gt_path, cv2.IMREAD_UNCHANGED)
            assert gt.dtype == np.uint8 and gt.ndim == 2
            keep = gt != IGNORE_INDEX
            xs.append(_rgb(img_path)[keep].astype(np.float64))
            ys.append(gt[keep])
        return np.concatenate(xs), np.concatenate(ys)

    x_tr, y_tr = pixels('train')
    x_va, y_va = pixels('val')
    ids = np.array(sorted(CITYSCAPES_TRAIN_IDS))
    means = np.stack([x_tr[y_tr == k].mean(0) for k in ids])
    pred = ids[np.argmin(((x_va[:, None] - means[None]) ** 2).sum(-1), 1)]
    acc = (pred == y_va).mean()
    majority = np.bincount(y_va).max() / len(y_va)
    assert acc >= 0.7 and acc >= majority + 0.2, (acc, majority)
