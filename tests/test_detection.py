"""SSDLite (Section 6.3, Table 6): every detection config, the released anchors, fidelity.

Targets are Table 6, the authors' released TF object detection API models (their counts and
feature-extractor taps) and torchvision's SSDLite built offline, never this code's own output.
The metafile's counts against the code and the paper: tests/test_metafile.py.
"""
import copy
import functools
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import mnv3_plugin
from mnv3_plugin import metafile
from mnv3_plugin.analysis import config_complexity, count_madds, count_params
from mnv3_plugin.apis import build_model, load_config, switch_to_deploy
from mnv3_plugin.models.det import (MMDET_SSDLITE_ANCHORS, SSDLiteAnchorGenerator,
                                    ssdlite_feature_sizes)
from mnv3_plugin.testing import make_coco

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = ROOT / 'configs' / 'detection'
CONFIGS = sorted(CONFIG_DIR.glob('*.py'))
ENTRIES = {e['Name']: e for e in metafile.by_table('6')}

# Table 6 as printed: row -> (mAP, latency ms, params M, MAdds B)
TABLE6 = {
    'V1': (22.2, 228, 5.1, 1.3),
    'V2': (22.1, 162, 4.3, 0.80),
    'MnasNet': (23.0, 174, 4.88, 0.84),
    'V3': (22.0, 137, 4.97, 0.62),
    'V3 †': (22.0, 119, 3.22, 0.51),
    'V2 0.35': (13.7, 66, 0.93, 0.16),
    'V2 0.5': (16.6, 79, 1.54, 0.27),
    'MnasNet 0.35': (15.6, 68, 1.02, 0.18),
    'MnasNet 0.5': (18.5, 85, 1.68, 0.29),
    'V3-Small': (16.0, 52, 2.49, 0.21),
    'V3-Small †': (16.1, 43, 1.77, 0.16),
}
# C4 / C5 widths: Section 6.3 and the TF object detection API's feature extractors' taps
TAPS = {
    'ssdlite_v3large_w100_r320_coco': (672, 960),
    'ssdlite_v3large-rf2_w100_r320_coco': (672, 480),
    'ssdlite_v3small_w100_r320_coco': (288, 576),
    'ssdlite_v3small-rf2_w100_r320_coco': (288, 288),
    'ssdlite_v2_w100_r320_coco': (576, 1280),   # layer_15/expansion_output, layer_19
    'ssdlite_mnasneta1_w100_r320_coco': (672, 1280),
    'ssdlite_v1_w100_r320_coco': (512, 1024),   # Conv2d_11_pointwise, Conv2d_13_pointwise
}


@pytest.fixture(autouse=True)
def mmdet_scope():
    """mmdet's registry scope for the unscoped names of the configs, and a quiet logger
    (``init_weights`` logs every tensor)."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield
    logger.setLevel(level)


def build(cfg, init=True):
    return build_model(cfg, init_weights=init)


@functools.lru_cache(maxsize=None)
def counts(name: str, num_classes: int):
    """(params, MAdds at 320x320) of a config's model with ``num_classes``."""
    c = config_complexity(str(CONFIG_DIR / f'{name}.py'), (320, 320), num_classes)
    return c['params'], c['madds']


def on_fixture(path, coco_set, batch_size=2, work_dir=None):
    """A detection config pointed at the fixture COCO set (mmdet's layout and metric)."""
    cfg = load_config(str(path))
    root, meta = str(coco_set.root), dict(classes=coco_set.classes)
    inner = cfg.train_dataloader.dataset.dataset
    # the configs follow mmdet's COCO convention
    assert (cfg.data_root, inner.ann_file) == ('data/coco/', 'annotations/instances_train2017.json')
    cfg.model.bbox_head.num_classes = len(coco_set.classes)
    inner.update(data_root=root, ann_file='annotations/instances_train.json',
                 data_prefix=dict(img='train/'), metainfo=meta)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].update(batch_size=batch_size, num_workers=0, persistent_workers=False)
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.update(data_root=root, ann_file='annotations/instances_val.json',
                                data_prefix=dict(img='val/'), metainfo=meta)
    for key in ('val_evaluator', 'test_evaluator'):
        cfg[key].ann_file = f'{root}/annotations/instances_val.json'
    if work_dir is not None:
        cfg.work_dir = str(work_dir)
    cfg.log_level = 'WARNING'
    return cfg


@pytest.mark.parametrize('path', CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_loss_and_predict(path, coco_set):
    """Each config builds, its own pipelines load the fixture, loss and predict (NMS) run."""
    from mmdet.structures import DetDataSample
    cfg = on_fixture(path, coco_set)
    model = build(cfg)
    num_classes = len(coco_set.classes)
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader, seed=0)))
    data = model.data_preprocessor(batch, True)
    assert data['inputs'].shape[-2:] == (320, 320)

    # the six maps have the declared widths and TF's sizes at 320: 20, 10, 5, 3, 2, 1
    feats = model.extract_feat(data['inputs'])
    assert [f.shape[1] for f in feats] == model.neck.out_channels
    assert [tuple(f.shape[-2:]) for f in feats] == [(20, 20), (10, 10), (5, 5), (3, 3), (2, 2),
                                                    (1, 1)]
    assert model.backbone.out_strides == [16, 32]
    if path.stem in TAPS:
        assert tuple(model.backbone.out_channels) == TAPS[path.stem]

    model.train()
    losses = model(**data, mode='loss')
    loss_cls, loss_bbox = sum(losses['loss_cls']), sum(losses['loss_bbox'])
    # At init (predictor std 0.001) every anchor's softmax is uniform over the classes and
    # background; SSD sums positives and 3x as many hard negatives, divided by the positives:
    # (1 + 3) x ln(classes + 1).
    expected = (1 + cfg.model.train_cfg.neg_pos_ratio) * math.log(num_classes + 1)
    assert loss_cls.item() == pytest.approx(expected, rel=0.05)
    assert math.isfinite(loss_bbox.item()) and loss_bbox.item() > 0

    model.eval()
    val_batch = next(iter(Runner.build_dataloader(cfg.val_dataloader, seed=0)))
    with torch.no_grad():
        results = model.val_step(val_batch)
    assert len(results) == len(val_batch['inputs'])
    test_cfg = cfg.model.test_cfg
    for sample in results:
        assert isinstance(sample, DetDataSample)
        pred = sample.pred_instances
        h, w = sample.ori_shape
        assert 0 < len(pred) <= test_cfg.max_per_img
        assert pred.bboxes.shape == (len(pred), 4)
        assert float(pred.scores.min()) >= test_cfg.score_thr
        assert int(pred.labels.max()) < num_classes
        # rescaled to the original 128x128 image and clipped to it
        assert float(pred.bboxes.min()) >= 0
        assert float(pred.bboxes[:, 2].max()) <= w and float(pred.bboxes[:, 3].max()) <= h
    # the compat fix is what lets predict run (mmdet 3.3.0's SSDHead has no loss_cls)
    assert 'ssd_head_loss_cls' in mnv3_plugin.compat.APPLIED
    assert model.bbox_head.loss_cls is None


def test_metafile_paper_numbers_as_printed():
    for entry in ENTRIES.values():
        ap, latency, params, madds = TABLE6[entry['Paper']['Row']]
        assert entry['Paper']['Results'] == {'mAP': ap, 'Latency (ms)': latency,
                                             'Params (M)': params, 'MAdds (B)': madds}


def test_v2_paper_count_is_an_80_class_head():
    """The V2 row's 4.3M (from the MobileNetV2 paper) matches with 80 classes."""
    params, madds = counts('ssdlite_v2_w100_r320_coco', 80)
    assert params / 1e6 == pytest.approx(4.3, rel=0.03)
    assert madds / 1e9 == pytest.approx(0.80, rel=0.03)


def test_released_targets_for_v3_rf2():
    """The released TF models (ssdlite_mobilenet_v3_{large,small}, 91 outputs) have about
    3.24M / 0.505B (Large RF2) and 1.78M / 0.162B (Small RF2)."""
    params, madds = counts('ssdlite_v3large-rf2_w100_r320_coco', 90)
    assert params / 1e6 == pytest.approx(3.24, abs=0.01)
    assert madds / 1e9 == pytest.approx(0.505, abs=0.003)
    params, madds = counts('ssdlite_v3small-rf2_w100_r320_coco', 90)
    assert params / 1e6 == pytest.approx(1.78, abs=0.01)
    assert madds / 1e9 == pytest.approx(0.162, abs=0.002)


def test_mmdet_anchors_alternative_equals_torchvision_ssdlite():
    """With mmdet's SSD anchors (6 boxes on every map, as torchvision) and 91 outputs, V3 dagger
    is torchvision's ssdlite320_mobilenet_v3_large (built offline): the same parameter count,
    and the same MAdds as torchvision's model counted the same way."""
    import torchvision
    cfg = load_config(str(CONFIG_DIR / 'ssdlite_v3large-rf2_w100_r320_coco.py'))
    cfg.model.bbox_head.num_classes = 90
    cfg.model.bbox_head.anchor_generator = copy.deepcopy(MMDET_SSDLITE_ANCHORS)
    model = build(cfg)
    assert model.bbox_head.num_base_priors == [6] * 6
    ref = torchvision.models.detection.ssdlite320_mobilenet_v3_large(
        weights=None, weights_backbone=None)
    assert count_params(model) == count_params(ref)
    ref_madds = count_madds(ref, (1, 3, 320, 320),
                            lambda m, x: m.head(list(m.backbone(x).values())))
    assert count_madds(model, (1, 3, 320, 320), lambda m, x: m(x, mode='tensor')) == ref_madds

    with torch.no_grad():
        cls_scores, _ = model.eval()(torch.rand(1, 3, 320, 320), mode='tensor')
    assert [s.shape[1] for s in cls_scores] == [6 * 91] * 6


def test_focal_loss_option_as_released():
    """The released models' loss (TF config: weighted_sigmoid_focal, alpha 0.75, gamma 2, class
    bias -4.6): at init every score is p = sigmoid(-4.6), so the loss, normalised by the
    matches, is alpha (1 - p)^gamma ln(1 / p) per match plus a negligible negative term."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    cfg = load_config(str(CONFIG_DIR / 'ssdlite_v3small-rf2_w100_r320_coco.py'))
    cfg.model.bbox_head.num_classes = 4
    cfg.model.bbox_head.loss_cls = dict(type='FocalLoss', use_sigmoid=True, gamma=2.0,
                                        alpha=0.75, loss_weight=1.0)
    cfg.model.test_cfg.score_thr = 1e-8  # TF's score_threshold
    model = build(cfg)
    assert [c[-1].out_channels for c in model.bbox_head.cls_convs] == [3 * 4] + [6 * 4] * 5
    samples = []
    for boxes, labels in (([[10., 20., 100., 120.], [150., 150., 300., 280.]], [1, 3]),
                          ([[40., 40., 200., 160.]], [0])):
        sample = DetDataSample(metainfo=dict(img_shape=(320, 320), ori_shape=(320, 320),
                                             pad_shape=(320, 320), scale_factor=(1., 1.),
                                             batch_input_shape=(320, 320)))
        sample.gt_instances = InstanceData(bboxes=torch.tensor(boxes),
                                           labels=torch.tensor(labels))
        samples.append(sample)
    x = torch.rand(2, 3, 320, 320)
    losses = model.loss(x, samples)
    p = 1 / (1 + math.exp(4.6))
    assert sum(losses['loss_cls']).item() == pytest.approx(
        0.75 * (1 - p) ** 2 * math.log(1 / p), rel=0.02)
    model.eval()
    with torch.no_grad():
        results = model.predict(x, samples)
    assert all(0 < len(r.pred_instances) <= cfg.model.test_cfg.max_per_img for r in results)
    with pytest.raises(ValueError, match='sigmoid'):
        cfg.model.bbox_head.loss_cls = dict(type='CrossEntropyLoss')
        build(cfg)


def test_released_anchors():
    """TF's ssd_anchor_generator of the released SSDLite configs, at 320x320."""
    gen = SSDLiteAnchorGenerator(input_size=320)
    assert gen.num_base_priors == [3, 6, 6, 6, 6, 6]
    sizes = ssdlite_feature_sizes(320)
    assert sizes == [(20, 20), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]
    anchors = gen.grid_priors(sizes, device='cpu')
    assert sum(len(a) for a in anchors) == 2034  # 20^2 x 3 + (10^2 + 5^2 + 3^2 + 2^2 + 1) x 6
    wh = [a[:, 2:] - a[:, :2] for a in anchors]
    ctr = [(a[:, 2:] + a[:, :2]) / 2 for a in anchors]
    # lowest layer: (0.1, 1), (0.2, 2), (0.2, 1/2) of 320, centred on the first 16-pixel cell
    torch.testing.assert_close(wh[0][:3], torch.tensor([
        [32., 32.], [64 * math.sqrt(2), 64 / math.sqrt(2)],
        [64 / math.sqrt(2), 64 * math.sqrt(2)]]))
    torch.testing.assert_close(ctr[0][0], torch.tensor([8., 8.]))
    # scales 0.2 + 0.15 l; the sixth box at sqrt(s_l x s_l+1), the last with s_6 = 1
    for level, scale in enumerate((0.2, 0.35, 0.5, 0.65, 0.8, 0.95)):
        if level:
            nxt = scale + 0.15 if level < 5 else 1.0
            assert float(wh[level][0, 0]) == pytest.approx(scale * 320, rel=1e-5)
            assert float(wh[level][5, 0]) == pytest.approx(math.sqrt(scale * nxt) * 320, rel=1e-5)
            assert float(wh[level][3, 0] / wh[level][3, 1]) == pytest.approx(3, rel=1e-5)
    # the 3x3 map: stride 320 / 3, centres at 53.3, 160, 266.7 (TF's normalised grid)
    xs = sorted({round(float(c), 2) for c in ctr[3][:, 0]})
    assert xs == [53.33, 160.0, 266.67]
    with pytest.raises(ValueError, match='input_size'):
        gen.grid_priors(ssdlite_feature_sizes(256), device='cpu')


def test_neck_widths_follow_tf_depth_rule():
    """TF's multiplier rule for the extra layers: max(int(depth x m), 16), halves included."""
    from mnv3_plugin.models.det import SSDLiteNeck
    neck = SSDLiteNeck(in_channels=(192, 448), widen_factor=0.35)
    assert neck.out_channels == [192, 448, 179, 89, 89, 44]
    mids = [layer[0].conv.out_channels for layer in neck.extra_layers]
    assert mids == [89, 44, 44, 22]
    tiny = SSDLiteNeck(in_channels=(8, 16), widen_factor=0.05)
    assert tiny.out_channels[2:] == [25, 16, 16, 16]  # floor of 16 (min_depth)
    # each extra layer: 1x1, 3x3 depthwise stride 2, 1x1, BN + ReLU6 after each
    layer = SSDLiteNeck(in_channels=(672, 480)).extra_layers[0]
    assert [(m.conv.kernel_size, m.conv.stride, m.conv.groups) for m in layer] == [
        ((1, 1), (1, 1), 1), ((3, 3), (2, 2), 256), ((1, 1), (1, 1), 1)]
    assert all(isinstance(m.activate, torch.nn.ReLU6) for m in layer)
    with pytest.raises(ValueError, match='C4, C5'):
        SSDLiteNeck(in_channels=(672,))


def test_predictors_are_depthwise_separable():
    """Section 6.3 and the released models: 3x3 depthwise + BN + ReLU6 -> 1x1 conv."""
    cfg = load_config(str(CONFIG_DIR / 'ssdlite_v3large-rf2_w100_r320_coco.py'))
    head = build(cfg).bbox_head
    for convs in (head.cls_convs, head.reg_convs):
        for branch, width in zip(convs, [672, 480, 512, 256, 256, 128]):
            dw, pw = branch
            assert dw.conv.groups == dw.conv.in_channels == width
            assert dw.conv.kernel_size == (3, 3) and isinstance(dw.activate, torch.nn.ReLU6)
            assert dw.norm.eps == 1e-3
            assert pw.kernel_size == (1, 1)
    assert [c[1].out_channels for c in head.cls_convs] == [3 * 81] + [6 * 81] * 5


def test_wiring_checks_given_widths():
    cfg = load_config(str(CONFIG_DIR / 'ssdlite_v3large_w100_r320_coco.py'))
    cfg.model.neck.in_channels = [672, 480]  # the RF2 width, but this row has no RF2
    with pytest.raises(ValueError, match='disagrees with the backbone'):
        build(cfg)


def test_deploy_mode_same_outputs():
    cfg = load_config(str(CONFIG_DIR / 'ssdlite_v3small-rf2_w100_r320_coco.py'))
    model = build(cfg).eval()
    for m in model.modules():  # non-trivial BN statistics, so folding has work to do
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 2.0)
    x = torch.rand(1, 3, 320, 320)
    with torch.no_grad():
        ref = model(x, mode='tensor')
        switch_to_deploy(model)
        out = model(x, mode='tensor')
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    for a, b in zip(ref[0] + ref[1], out[0] + out[1]):
        torch.testing.assert_close(b, a, rtol=1e-3, atol=1e-4)


@pytest.mark.slow
def test_training_lowers_loss_and_beats_untrained_map(tmp_path):
    """A short run on shapes (V3-Small dagger, the smallest V3 row, at 128x128): the loss falls
    and bbox mAP on the val split (through mmdet's CocoMetric) rises above the untrained model's.

    Differences from the row's config, for a test on 2 cores: input 128 (anchors laid out for
    it), no zoom-out/crop/colour augmentation, batch 8, 150 iterations with lr 0.05 (warm-up,
    cosine), no checkpoints.
    """
    coco = make_coco(tmp_path / 'coco', num_train=32, num_val=16, size=(128, 128), seed=1)
    cfg = on_fixture(ROOT / 'configs/detection/ssdlite_v3small-rf2_w100_r320_coco.py', coco,
                     batch_size=8, work_dir=tmp_path / 'work')
    size, iters = 128, 150
    cfg.model.bbox_head.anchor_generator.input_size = size
    inner = cfg.train_dataloader.dataset.dataset
    cfg.train_dataloader.dataset = inner  # no RepeatDataset: iteration-based
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    inner.pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='Resize', scale=(size, size), keep_ratio=False),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackDetInputs')]
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.pipeline[1].scale = (size, size)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=10 ** 6)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
        dict(type='CosineAnnealingLR', by_epoch=False, begin=0, T_max=iters, end=iters)]
    cfg.optim_wrapper.optimizer.lr = 0.05
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10 ** 6, save_last=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=50)
    cfg.randomness = dict(seed=0)

    runner = Runner.from_cfg(cfg)
    before = runner.val()['coco/bbox_mAP']
    runner.train()
    losses = runner.message_hub.get_scalar('train/loss')._log_history
    assert len(losses) == iters
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    after = runner.val()['coco/bbox_mAP']
    assert after > before + 0.05, (before, after)
