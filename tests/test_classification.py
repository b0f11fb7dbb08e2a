"""Every classification config builds, runs, and matches the paper's columns; the recipe learns."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

import mnv3_plugin  # noqa: F401
from mnv3_plugin import metafile
from mnv3_plugin.analysis import count_madds, count_params

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / 'configs' / 'classification').glob('*.py'))
ENTRIES = {e['Name']: e for e in metafile.load_models()
           if e['Task'] == 'Image Classification'}

# Exact counts of the released models (../shared/notes/reference-numbers.md)
REFERENCE = {
    'v3large_w100_r224_imagenet': (5_483_032, 216.6),
    'v3large_w075_r224_imagenet': (3_993_528, 154.6),
    'v3small_w100_r224_imagenet': (2_542_856, 56.5),
    'v3small_w075_r224_imagenet': (2_041_872, 43.4),
}
# Paper columns that no released definition reproduces; each is explained in the entry's Notes.
KNOWN_GAPS = {
    ('v3small_w100_r224_imagenet', 'Params (M)'), ('v3small_w100_r224_imagenet', 'MAdds (M)'),
    ('v3small_w075_r224_imagenet', 'Params (M)'),
    ('v2_w100_r224_imagenet', 'Params (M)'), ('v2_w035_r224_imagenet', 'Params (M)'),
    ('mnassmall_w100_r224_imagenet', 'Params (M)'), ('mnassmall_w100_r224_imagenet', 'MAdds (M)'),
}


def build(cfg):
    from mmpretrain.registry import MODELS
    return MODELS.build(cfg.model)


def test_every_config_is_indexed():
    assert {p.stem for p in CONFIGS} == set(ENTRIES)
    tables = metafile.group_by_table(list(ENTRIES.values()))
    # Table 3: 8 rows (Proxyless left out: docs/classification.md says why); Table 5: 3 + 3
    assert len(tables['3']) == 8 and len(tables['5']) == 6
    # Figure 7: 5 multipliers and 6 resolutions for each of Large and Small
    fig7 = [e for e in ENTRIES.values() if 'Figure 7' in (e['Paper']['Table'],
                                                          *e['Paper'].get('Also In', []))]
    assert len(fig7) == 2 * (5 + 6 - 1)


@pytest.mark.parametrize('path', CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_builds_runs_and_matches_paper(path):
    cfg = Config.fromfile(str(path))
    model = build(cfg).eval()
    entry = ENTRIES[path.stem]
    size = cfg.get('img_size', 224)
    assert entry['Ours']['Input'] == [size, size]
    params = count_params(model)
    madds = count_madds(model, (1, 3, size, size), lambda m, x: m(x, mode='tensor'))
    # the metafile holds what the code computes
    assert entry['Ours']['Params (M)'] == round(params / 1e6, 3)
    assert entry['Ours']['MAdds (M)'] == round(madds / 1e6, 1)
    if path.stem in REFERENCE:
        ref_params, ref_madds = REFERENCE[path.stem]
        assert params == ref_params
        assert madds / 1e6 == pytest.approx(ref_madds, rel=0.01)
    paper = entry['Paper']['Results']
    ours = {'Params (M)': params / 1e6, 'MAdds (M)': madds / 1e6}
    for column, value in ours.items():
        if column not in paper:
            continue
        close = value == pytest.approx(paper[column], rel=0.03)
        if (path.stem, column) in KNOWN_GAPS:
            assert not close and entry.get('Notes'), (path.stem, column)
        else:
            assert close, (path.stem, column, value, paper[column])

    # loss and predict on two images through mmpretrain's data preprocessor
    from mmpretrain.structures import DataSample
    model.train()
    inputs = [torch.randint(0, 256, (3, size, size), dtype=torch.uint8) for _ in range(2)]
    samples = [DataSample().set_gt_label(i) for i in (3, 7)]
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss']) and losses['loss'] > 0
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=inputs, data_samples=copy.deepcopy(samples)))
        preds = model(**data, mode='predict')
    assert len(preds) == 2 and preds[0].pred_score.shape == (1000,)
    assert torch.allclose(preds[0].pred_score.sum(), torch.tensor(1.0), atol=1e-4)


@pytest.mark.slow
def test_recipe_learns_on_fixture_imagenet(tmp_path):
    """A short run of a Table 3 config's recipe on the fixture ImageNet-style data."""
    from mmengine.runner import Runner

    from mnv3_plugin.testing import make_imagenet
    data = make_imagenet(tmp_path / 'imagenet', num_train=96, num_val=32, size=(64, 64), seed=1)
    cfg = Config.fromfile(str(ROOT / 'configs/classification/v3small_w050_r224_imagenet.py'))
    pipeline_train = [dict(type='LoadImageFromFile'),
                      dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                      dict(type='PackInputs')]
    pipeline_test = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
    classes = list(data.classes)
    for loader, pipeline, split in ((cfg.train_dataloader, pipeline_train, 'train'),
                                    (cfg.val_dataloader, pipeline_test, 'val')):
        loader.update(batch_size=16, num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=str(data.root), split=split, pipeline=pipeline,
                              metainfo=dict(classes=classes))
    cfg.test_dataloader = cfg.val_dataloader
    cfg.model.head.num_classes = len(classes)
    cfg.model.head.topk = (1,)
    cfg.model.data_preprocessor = dict(num_classes=len(classes))
    cfg.val_evaluator = dict(type='Accuracy', topk=(1,))
    cfg.test_evaluator = cfg.val_evaluator
    # The paper's schedule is 600 epochs at batch 4096; here 25 short epochs at batch 16, so the
    # rate is raised instead of scaled down (RMSProp kept), and the EMA follows faster (0.99).
    cfg.auto_scale_lr.enable = False
    cfg.optim_wrapper.optimizer.lr = 2e-3
    cfg.train_cfg = dict(by_epoch=True, max_epochs=25, val_interval=25)
    cfg.custom_hooks = [dict(type='EMAHook', momentum=0.01, priority='ABOVE_NORMAL')]
    # BN decay 0.99 needs thousands of iterations before its running statistics settle
    cfg.model.backbone.norm_cfg = dict(type='BN', eps=1e-3, momentum=0.1)
    cfg.default_hooks.logger.interval = 10
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    cfg.randomness = dict(seed=0)
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    untrained = runner.val()['accuracy/top1']
    runner.train()
    trained = runner.val()['accuracy/top1']
    chance = 100 / len(classes)
    assert trained >= 2 * chance and trained >= untrained + 25, (untrained, trained)
