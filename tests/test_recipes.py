"""Recipe siblings (configs that train a row's network with a public reproduction's recipe): each
trains exactly its row's network, runs on fixture data through tools/train.py, and steps the
schedule its source states; tools/analysis/vis_scheduler.py draws any config's schedule.

The schedules are computed here from each source's own formula (torchvision's StepLR and
CosineAnnealingLR with engine.py's warm-up, timm's StepLRScheduler, mmcv's poly) and compared
with what mmengine's schedulers, built from the config, give at every epoch or iteration.
"""
import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mnv3_plugin import metafile
from mnv3_plugin.apis import load_config

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
MODELS = metafile.load_models()
RECIPES = [e for e in MODELS if 'Variant Of' in e]
ROWS = {e['Name']: e for e in MODELS if 'Variant Of' not in e}
LOSS_KEYS = ('loss', 'loss_decode', 'loss_cls', 'loss_bbox')


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'vis_scheduler', ROOT / 'tools' / 'analysis' / 'vis_scheduler.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VIS = _load_tool()


def cfg_of(name):
    return load_config(str(ROOT / (ROWS.get(name) or metafile.find(name, MODELS))['Config']))


def network(cfg):
    """The model config without its losses: a recipe may change the loss, never the network."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in LOSS_KEYS}
        return value
    return strip(cfg.model.to_dict())


def test_every_row_of_the_issue_has_a_recipe():
    assert {e['Variant Of'] for e in RECIPES} >= {
        'v3large_w100_r224_imagenet', 'v3small_w100_r224_imagenet',
        'ssdlite_v3large-rf2_w100_r320_coco', 'lraspp_v3large_os16_cityscapes'}


@pytest.mark.parametrize('entry', RECIPES, ids=[e['Name'] for e in RECIPES])
def test_recipe_trains_its_rows_network(entry):
    row, sibling = cfg_of(entry['Variant Of']), cfg_of(entry['Name'])
    assert network(sibling) == network(row)
    # input scaling and evaluation are the row's too
    assert sibling.get('data_preprocessor') == row.get('data_preprocessor')
    assert sibling.val_dataloader.dataset.pipeline == row.val_dataloader.dataset.pipeline
    assert sibling.val_evaluator == row.val_evaluator
    # the index: the row's paper block and measurements, a published result beside them
    row_entry = ROWS[entry['Variant Of']]
    assert entry['Paper'] == {k: v for k, v in row_entry['Paper'].items() if k != 'Also In'}
    assert entry['Ours'] == row_entry['Ours']
    assert entry.get('Known Gaps') == row_entry.get('Known Gaps')
    # the config says which batch its rate is for, and cites its sources and published numbers
    assert sibling.auto_scale_lr.base_batch_size % sibling.train_dataloader.batch_size == 0
    text = (ROOT / entry['Config']).read_text()
    sources = entry['Reproduced']['Source']
    for source in sources if isinstance(sources, list) else [sources]:
        assert Path(source).name in text, source
    for value in entry['Reproduced']['Results'].values():
        assert f'{value:g}' in text, value


# name -> (images per epoch for the simulation, lr at iteration i from the source's formula);
# the images per epoch make a few iterations per epoch at the source's batch
def torchvision_cls(i, length):
    return 0.064 * 0.973 ** (i // length // 2)  # StepLR(step_size=2, gamma=0.973) per epoch


def timm_cls(i, length):
    t = i // length  # timm's StepLRScheduler._get_lr, stepped per epoch
    return 1e-6 + t * (0.064 - 1e-6) / 3 if t < 3 else 0.064 * 0.973 ** (t // 2.4)


def torchvision_ssdlite(i, length):
    epoch = i // length
    cosine = 0.15 * (1 + math.cos(math.pi * epoch / 660)) / 2  # CosineAnnealingLR(T_max=660)
    if epoch == 0:  # engine.py: LinearLR(1/1000, total_iters=min(1000, len - 1)) in epoch 0
        warmup = min(1000, length - 1)
        return cosine * (0.001 + 0.999 * min(i, warmup) / warmup)
    return cosine


def mmseg_poly(i, length):
    return (0.01 - 1e-4) * (1 - i / 320000) ** 0.9 + 1e-4  # mmcv's PolyLrUpdaterHook


SCHEDULES = {
    'v3large-tvrecipe_w100_r224_imagenet': (2 * 1024, torchvision_cls),
    'v3small-tvrecipe_w100_r224_imagenet': (2 * 1024, torchvision_cls),
    'v3large-timmrecipe_w100_r224_imagenet': (3 * 1024, timm_cls),
    'ssdlite_v3large-rf2-tvrecipe_w100_r320_coco': (5 * 192, torchvision_ssdlite),
    'lraspp_v3large-rf2-mmsegrecipe_w100_os16_cityscapes': (None, mmseg_poly),
}


def test_every_recipe_has_its_schedule_checked():
    assert set(SCHEDULES) == {e['Name'] for e in RECIPES}


@pytest.mark.parametrize('name', sorted(SCHEDULES))
def test_schedule_is_the_sources_formula(name):
    images, formula = SCHEDULES[name]
    run = VIS.simulate(cfg_of(name), images)
    assert run['lr_scale'] == 1.0  # at the source's GPU count the rate is the source's
    length = run['epoch_length'] or 1
    expected = np.array([formula(i, length) for i in range(len(run['lr']))])
    np.testing.assert_allclose(run['lr'], expected, rtol=1e-9)
    assert not np.isnan(run['momentum']).any()


def test_auto_scale_lr_rescales_for_another_gpu_count():
    """On 2 GPUs instead of torchvision's 8 the rate is a quarter of 0.064, decayed the same."""
    run = VIS.simulate(cfg_of('v3large-tvrecipe_w100_r224_imagenet'), 2 * 1024, ngpus=2)
    assert run['lr_scale'] == 0.25
    length = run['epoch_length']
    assert run['lr'][0] == pytest.approx(0.016)
    assert run['lr'][10 * length] == pytest.approx(0.016 * 0.973 ** 5)


def test_paper_row_schedule_for_comparison():
    """The row's reading of Section 6.1.1 (x0.99 every 3 epochs) ends at 13% of its rate."""
    run = VIS.simulate(cfg_of('v3large_w100_r224_imagenet'), 3 * 4096)
    assert run['lr'][-1] / run['lr'][0] == pytest.approx(0.99 ** 199)


# -- a few iterations through tools/train.py on fixture data --------------------------------------
def _run(args, cwd=ROOT, timeout=600):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=env)


def _loader_options(loaders, **values):
    return {f'{loader}.{k}': v for loader in loaders for k, v in values.items()}


def imagenet_options(tmp_path):
    from mnv3_plugin.testing import make_imagenet
    data = make_imagenet(tmp_path / 'imagenet', num_train=4, num_val=2, size=(64, 64), seed=3)
    loaders = ('train_dataloader', 'val_dataloader')
    options = _loader_options(loaders, batch_size=2, num_workers=0, persistent_workers=False)
    options.update(_loader_options(loaders, **{'dataset.data_root': data.root}))
    options.update({
        # the recipe's own augmentation at a 64 crop (RandomResizedCrop is its second step)
        'train_dataloader.dataset.pipeline.1.scale': 64,
        'val_dataloader.dataset.pipeline.1.scale': 73,  # 64 / 0.875
        'val_dataloader.dataset.pipeline.2.crop_size': 64,
        'train_cfg.max_epochs': 1})
    return options, 'Epoch(train) [1][2/2]'


def coco_options(tmp_path):
    from mnv3_plugin.testing import make_coco
    data = make_coco(tmp_path / 'coco', num_train=4, num_val=2, seed=3)
    root, classes = str(data.root), '[' + ','.join(data.classes) + ']'
    loaders = ('train_dataloader', 'val_dataloader')
    options = _loader_options(loaders, batch_size=2, num_workers=0, persistent_workers=False)
    for prefix, split in (('train_dataloader.dataset.dataset', 'train'),
                          ('val_dataloader.dataset', 'val')):
        options.update({f'{prefix}.data_root': root,
                        f'{prefix}.ann_file': f'annotations/instances_{split}.json',
                        f'{prefix}.data_prefix.img': f'{split}/',
                        f'{prefix}.metainfo.classes': classes})
    options.update({'val_evaluator.ann_file': f'{root}/annotations/instances_val.json',
                    'model.bbox_head.num_classes': len(data.classes),
                    'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1})
    return options, 'Epoch(train) [1][2/2]'


def cityscapes_options(tmp_path):
    from mnv3_plugin.testing import make_cityscapes
    data = make_cityscapes(tmp_path / 'cityscapes', num_train=4, num_val=2, seed=3)
    loaders = ('train_dataloader', 'val_dataloader')
    options = _loader_options(loaders, batch_size=2, num_workers=0, persistent_workers=False)
    options.update(_loader_options(loaders, **{'dataset.data_root': data.root}))
    options.update({
        # the recipe's rescale and crop at the fixture's 128 x 256 (the crop is its fourth step)
        'train_dataloader.dataset.pipeline.2.scale': (256, 128),
        'train_dataloader.dataset.pipeline.3.crop_size': (64, 128),
        'data_preprocessor.size': (64, 128),
        'val_dataloader.dataset.pipeline.1.scale': (256, 128),
        'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 2})
    return options, 'Iter(train) [2/2]'


FIXTURES = {'Image Classification': imagenet_options, 'Object Detection': coco_options,
            'Semantic Segmentation': cityscapes_options}


def _option_args(options):
    args = []
    for key, value in options.items():
        if isinstance(value, tuple):
            value = '(' + ','.join(map(str, value)) + ')'
        args.append(f'{key}={value}')
    return args


# One run per recipe; the V3-Small torchvision sibling is the V3-Large one with arch='small'
# (its network is the row's: test_recipe_trains_its_rows_network, tests/test_classification.py).
TRAINED = [e for e in RECIPES if e['Name'] != 'v3small-tvrecipe_w100_r224_imagenet']


@pytest.mark.parametrize('entry', TRAINED, ids=[e['Name'] for e in TRAINED])
def test_recipe_trains_on_fixture_data(entry, tmp_path):
    options, done = FIXTURES[entry['Task']](tmp_path)
    work = tmp_path / 'work'
    proc = _run([PY, 'tools/train.py', entry['Config'], '--work-dir', work, '--cfg-options',
                 *_option_args(options)])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    log = next(work.glob('*/*.log')).read_text()
    assert done in log and 'nan' not in log.split(done)[1].split('\n')[0]
    if load_config(str(ROOT / entry['Config'])).auto_scale_lr.get('enable'):
        # the rate stated for the source's batch, rescaled to the fixture's 2 images
        base = load_config(str(ROOT / entry['Config'])).auto_scale_lr.base_batch_size
        assert f'LR is set based on batch size of {base} and the current batch size is 2' in log


# -- the plotting tool, as a user runs it ----------------------------------------------------------
def test_vis_scheduler_draws_configs_side_by_side(tmp_path):
    out = tmp_path / 'schedules.png'
    proc = _run([PY, 'tools/analysis/vis_scheduler.py',
                 'configs/classification/v3large_w100_r224_imagenet.py',
                 'configs/classification/v3large-timmrecipe_w100_r224_imagenet.py',
                 '--dataset-size', '8192', '--out', out])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    # each at the run its config describes: the paper's 32 x 128, timm's 2 x 512
    assert '1200 iterations (2 iterations per epoch); lr 0.1 at the start' in proc.stderr
    assert '4800 iterations (8 iterations per epoch); lr 1e-06 at the start, max 0.062272' \
        in proc.stderr  # timm: warm-up to 0.064 and its first x0.973 at epoch 3
    assert f'wrote {out}' in proc.stdout


def test_vis_scheduler_fails_clearly_and_writes_nothing(tmp_path):
    out = tmp_path / 'schedules.png'
    out.write_bytes(b'old')
    proc = _run([PY, 'tools/analysis/vis_scheduler.py',
                 'configs/classification/v3large-tvrecipe_w100_r224_imagenet.py', '--out', out])
    assert proc.returncode == 2
    assert 'error:' in proc.stderr and '--dataset-size' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert out.read_bytes() == b'old' and sorted(tmp_path.iterdir()) == [out]
    proc = _run([PY, 'tools/analysis/vis_scheduler.py', 'configs/nope.py', '--out', out])
    assert proc.returncode == 2 and "config file 'configs/nope.py' not found" in proc.stderr


def test_a_failed_plot_leaves_no_file(tmp_path, monkeypatch):
    """A failure while writing the PNG leaves neither a partial file nor a temporary one."""
    run = VIS.simulate(cfg_of('v3large-tvrecipe_w100_r224_imagenet'), 2 * 1024)
    out = tmp_path / 'schedule.png'

    def broken_savefig(self, path, **kwargs):
        Path(path).write_bytes(b'\x89PNG half')
        raise OSError('disk full')
    monkeypatch.setattr(VIS.plt.Figure, 'savefig', broken_savefig)
    with pytest.raises(OSError, match='disk full'):
        VIS.plot([('tv', run)], out)
    assert list(tmp_path.iterdir()) == []


def test_metafile_rejects_a_recipe_without_source(tmp_path):
    import yaml
    entry = dict(next(e for e in RECIPES if e['Task'] == 'Image Classification'))
    entry['Reproduced'] = {'Results': {'Top-1': 75.0}, 'Recipe': 'x'}
    (tmp_path / 'task.yml').write_text(yaml.safe_dump({'Models': [entry]}))
    (tmp_path / 'metafile.yml').write_text('Import: [task.yml]\n')
    with pytest.raises(metafile.MetafileError, match='Reproduced must have exactly'):
        metafile.load_models(tmp_path / 'metafile.yml')
    entry['Reproduced']['Source'] = 'org/repo/path.md'
    (tmp_path / 'task.yml').write_text(yaml.safe_dump({'Models': [entry]}))
    with pytest.raises(metafile.MetafileError, match='is not a row entry'):
        metafile.load_models(tmp_path / 'metafile.yml')
