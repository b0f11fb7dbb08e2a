"""The backbones as a drop-in for any OpenMMLab model (issue 15).

Host base configs build with the plugin's backbone and train a step with only the backbone and
the neck/head widths overridden; the worked examples of configs/examples/ build and train a step;
mistakes give their messages; checkpoints carry the backbone options; ``mnv3_plugin::`` bases
resolve from a fresh interpreter, from the checkout and from an installed wheel.
"""
import os
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
import torch

from mnv3_plugin.apis import build_model, load_config
from mnv3_plugin.models import MobileNetV3

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
EXAMPLES = sorted((ROOT / 'configs' / 'examples').glob('*.py'))
ENV = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))


def run(args, cwd=ROOT, env=None, timeout=300):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env=env or ENV, timeout=timeout)


# -- one loss step of any host model -------------------------------------------------------

def _batch(model, scope: str, size: int, n: int = 2):
    """Random images and the host's data samples for ``mode='loss'`` (fixture-like data)."""
    g = torch.Generator().manual_seed(0)
    inputs = torch.randn(n, 3, size, size, generator=g)
    if scope == 'mmpretrain':
        from mmpretrain.structures import DataSample
        num_classes = model.head.num_classes
        return inputs, [DataSample().set_gt_label(i % num_classes) for i in range(n)]
    if scope == 'mmdet':
        from mmdet.structures import DetDataSample
        from mmengine.structures import InstanceData
        samples = []
        for i in range(n):
            s = DetDataSample(metainfo=dict(img_shape=(size, size), pad_shape=(size, size),
                                            ori_shape=(size, size), scale_factor=(1., 1.),
                                            batch_input_shape=(size, size)))
            s.gt_instances = InstanceData(
                bboxes=torch.tensor([[8., 8., size / 2, size / 2 + 4.]]),
                labels=torch.tensor([i % 3]))
            samples.append(s)
        return inputs, samples
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for _ in range(n):
        s = SegDataSample(metainfo=dict(img_shape=(size, size), pad_shape=(size, size),
                                        ori_shape=(size, size)))
        s.gt_sem_seg = PixelData(data=torch.randint(0, 19, (1, size, size), generator=g))
        samples.append(s)
    return inputs, samples


def loss_step(model, scope: str, size: int) -> float:
    """One SGD step on random data; returns the summed loss (finite)."""
    model.train()
    inputs, samples = _batch(model, scope, size)
    losses = model(inputs, samples, mode='loss')
    loss = sum(v.sum() for k, v in losses.items() if 'loss' in k and torch.is_tensor(v)) + sum(
        sum(x.sum() for x in v) for k, v in losses.items() if 'loss' in k and isinstance(v, list))
    optim = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    optim.zero_grad()
    loss.backward()
    optim.step()
    assert torch.isfinite(loss), losses
    return float(loss.detach())


# -- item 1: host base configs, overriding only the backbone and the widths ----------------

# V3-Large with four maps at strides 4, 8, 16, 32 as ResNet's stages (widths 24, 40, 672, 960;
# the segmenters' dilated ResNet-D8 becomes output stride 8)
DET = "backbone=dict(_delete_=True, type='mnv3_plugin.MobileNetV3', out_indices=(3, 6, 'C4', 'C5'))"
SEG = ("backbone=dict(_delete_=True, type='mnv3_plugin.MobileNetV3', output_stride=8, "
       "out_indices=(3, 6, 'C4', 'C5'))")
HOST_BASES = {
    # name: (host scope, base, overrides of model: the backbone and widths only, input size)
    'retinanet': ('mmdet', 'mmdet::_base_/models/retinanet_r50_fpn.py',
                  f'{DET}, neck=dict(in_channels=[24, 40, 672, 960])', 96),
    'faster-rcnn': ('mmdet', 'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
                    f'{DET}, neck=dict(in_channels=[24, 40, 672, 960])', 96),
    'fcn': ('mmseg', 'mmseg::_base_/models/fcn_r50-d8.py',
            f'{SEG}, decode_head=dict(in_channels=960), auxiliary_head=dict(in_channels=672)',
            64),
    'deeplabv3plus': ('mmseg', 'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
                      f'{SEG}, decode_head=dict(in_channels=960, c1_in_channels=24), '
                      'auxiliary_head=dict(in_channels=672)', 64),
    'pspnet': ('mmseg', 'mmseg::_base_/models/pspnet_r50-d8.py',
               f'{SEG}, decode_head=dict(in_channels=960), auxiliary_head=dict(in_channels=672)',
               64),
    'mmpretrain': ('mmpretrain', 'mmpretrain::_base_/models/resnet18.py',
                   "backbone=dict(_delete_=True, type='mnv3_plugin.MobileNetV3', arch='small'), "
                   'head=dict(in_channels=576)', 64),
}


def _host_config(name: str, tmp_path: Path) -> Path:
    scope, base, model, _ = HOST_BASES[name]
    runtime = f'{scope}::_base_/default_runtime.py'
    path = tmp_path / f'{name}.py'
    path.write_text(textwrap.dedent(f"""
        _base_ = [{base!r}, {runtime!r}]
        custom_imports = dict(imports=['mnv3_plugin'], allow_failed_imports=False)
        model = dict({model})
        """))
    return path


@pytest.mark.parametrize('name', HOST_BASES)
def test_host_base_config_builds_and_trains_a_step(name, tmp_path):
    """Nothing but the backbone and the neck/head widths is overridden: mmseg's
    ``pretrained='open-mmlab://resnet50_v1c'`` stays in the config and is ignored with a
    warning (nothing is downloaded; a user may set model.pretrained=None to silence it)."""
    scope, _, _, size = HOST_BASES[name]
    cfg = load_config(str(_host_config(name, tmp_path)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        model = build_model(cfg, init_weights=True)
    ignored = [str(w.message) for w in caught if 'ignoring pretrained' in str(w.message)]
    if scope == 'mmseg':
        assert cfg.model.pretrained == 'open-mmlab://resnet50_v1c'
        assert ignored and 'model.pretrained=None' in ignored[0]
    else:
        assert not ignored
    assert isinstance(model.backbone, MobileNetV3)
    loss_step(model, scope, size)


def test_pretrained_file_becomes_init_cfg(tmp_path):
    """A file given as ``pretrained`` (mmseg's segmentor passes it on) loads as init_cfg."""
    src = MobileNetV3(arch='small', init_cfg=None)
    torch.save(dict(state_dict=src.state_dict()), tmp_path / 'small.pth')
    with pytest.warns(DeprecationWarning, match='pretrained is deprecated'):
        model = MobileNetV3(arch='small', pretrained=str(tmp_path / 'small.pth'))
    assert model.init_cfg == dict(type='Pretrained', checkpoint=str(tmp_path / 'small.pth'))
    model.init_weights()
    torch.testing.assert_close(model.layers[0].conv.weight, src.layers[0].conv.weight)


# -- item 2: messages ----------------------------------------------------------------------

def test_misspelt_argument_names_the_public_class_and_the_valid_ones():
    from mmengine.registry import init_default_scope

    from mnv3_plugin.registry import MODELS
    init_default_scope('mnv3_plugin')
    with pytest.raises(TypeError) as err:
        MODELS.build(dict(type='MobileNetV3', out_indice=(1, 'C5')))
    msg = str(err.value)
    assert "MobileNetV3 got an unexpected argument 'out_indice'" in msg
    assert "did you mean 'out_indices'" in msg and 'widen_factor' in msg
    assert 'TableNet' not in msg


@pytest.mark.parametrize('tap', ['C5', 'C4', -1])
def test_a_single_tap_is_one_output(tap):
    model = MobileNetV3(out_indices=tap, init_cfg=None)
    assert len(model.out_channels) == 1
    assert len(model(torch.zeros(1, 3, 64, 64))) == 1


def test_lraspp_pool_kernel_that_does_not_fit_warns():
    headline = str(ROOT / 'configs/segmentation/lraspp_v3large_os16_cityscapes.py')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        build_model(headline)  # OS16, kernel 49 = the 769 crop's feature map: no warning
    assert not [w for w in caught if 'pool_kernel' in str(w.message)]
    cfg = load_config(headline, {'model.backbone.output_stride': 8})
    with pytest.warns(UserWarning, match=r'pool_kernel=\(49, 49\) does not cover .* output '
                      r'stride 8 .* decode_head.pool_kernel=\(97, 97\)'):
        build_model(cfg)


# -- item 3: the taps, visible --------------------------------------------------------------

def test_print_taps_for_a_config_and_an_arch():
    proc = run([PY, 'tools/misc/print_taps.py',
                'configs/segmentation/lraspp_v3large_os16_cityscapes.py'])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "'os8_dw': 120 channels @ stride 8" in proc.stdout
    assert "'C5': 480 channels @ stride 16" in proc.stdout  # RF2 and OS16 of the config
    proc = run([PY, 'tools/misc/print_taps.py', '--arch', 'small', '--widen-factor', '0.75',
                '--out-indices', 'C4', 'C5'])
    assert proc.returncode == 0, proc.stderr[-2000:]
    model = MobileNetV3(arch='small', widen_factor=0.75, out_indices=('C4', 'C5'), init_cfg=None)
    for tap, ch, stride in zip(model.out_indices, model.out_channels, model.out_strides):
        assert f'{tap!r}: {ch} channels @ stride {stride}' in proc.stdout
    proc = run([PY, 'tools/misc/print_taps.py', '--arch', 'huge'])
    assert proc.returncode == 2 and 'error: unknown arch' in proc.stderr


def test_taps_table_in_docs_is_generated():
    proc = run([PY, 'tools/misc/gen_taps_table.py', '--check'])
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- item 4: worked examples -----------------------------------------------------------------

@pytest.mark.parametrize('path', EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_builds_and_trains_a_step(path):
    cfg = load_config(str(path))
    scope = cfg.default_scope
    cfg.model.backbone.pop('init_cfg', None)  # the checkpoints: test_fine_tuning_examples
    model = build_model(cfg)
    assert isinstance(model.backbone, MobileNetV3)
    loss_step(model, scope, 96 if scope == 'mmdet' else 64)


def _convert_torchvision(tmp_path: Path, **kwargs) -> Path:
    import torchvision
    torch.manual_seed(0)
    tv = torchvision.models.mobilenet_v3_large(**kwargs)
    src, dst = tmp_path / 'tv.pth', tmp_path / 'converted.pth'
    torch.save(tv.state_dict(), src)
    proc = run([PY, 'tools/model_converters/torchvision2mnv3.py', src, dst])
    assert proc.returncode == 0, proc.stderr[-2000:]
    return dst


def test_fine_tuning_examples_load_a_converted_checkpoint(tmp_path):
    from mmengine.runner import load_checkpoint
    ckpt = _convert_torchvision(tmp_path)
    saved = torch.load(ckpt, weights_only=False)
    assert saved['meta']['backbone']['options']['arch'] == 'large'
    # init_cfg: the backbone alone, a new head
    cfg = load_config(str(ROOT / 'configs/examples/v3large_finetune-torchvision_custom-folder.py'),
                      {'model.backbone.init_cfg.checkpoint': str(ckpt)})
    model = build_model(cfg, init_weights=True)
    torch.testing.assert_close(model.backbone.layers[5].dw.conv.weight,
                               saved['state_dict']['backbone.layers.5.dw.conv.weight'])
    loss_step(model, 'mmpretrain', 64)
    # load_from: the whole classifier (what the runner does with load_from)
    cfg = load_config(str(ROOT / 'configs/examples/v3large_load-from-torchvision_imagenet.py'))
    assert cfg.load_from.endswith('mobilenet_v3_large-torchvision.pth')
    model = build_model(cfg)
    load_checkpoint(model, str(ckpt), strict=True)
    loss_step(model, 'mmpretrain', 64)


# -- item 5: checkpoints carry their backbone options --------------------------------------

def test_converted_checkpoint_into_other_options_fails_naming_them(tmp_path):
    from mmengine.runner import load_checkpoint

    from mnv3_plugin.models.backbones.options import CheckpointOptionError
    ckpt = _convert_torchvision(tmp_path, width_mult=0.75)
    example = str(ROOT / 'configs/examples/v3large_finetune-torchvision_custom-folder.py')
    cfg = load_config(example, {'model.backbone.init_cfg.checkpoint': str(ckpt)})
    with pytest.raises(CheckpointOptionError, match=r'widen_factor=0\.75; this backbone has '
                       r'widen_factor=1\.0: build it with widen_factor=0\.75'):
        build_model(cfg, init_weights=True)
    # load_from / resume: the runner's load_checkpoint
    cfg = load_config(str(ROOT / 'configs/examples/v3large_load-from-torchvision_imagenet.py'))
    with pytest.raises(CheckpointOptionError, match='widen_factor'):
        load_checkpoint(build_model(cfg), str(ckpt))
    cfg.model.backbone.widen_factor = 0.75
    load_checkpoint(build_model(cfg), str(ckpt), strict=True)  # the named fix works


def test_trainer_checkpoint_records_options_and_checks_them(tmp_path):
    """mmengine's checkpoints (Runner.save_checkpoint: weights_to_cpu(get_state_dict(model)))
    carry the options; loading into a model with another RF2 rule fails naming it."""
    from mmengine.runner.checkpoint import (get_state_dict, load_checkpoint, save_checkpoint,
                                            weights_to_cpu)

    from mnv3_plugin.models.backbones.options import CheckpointOptionError
    headline = str(ROOT / 'configs/segmentation/lraspp_v3large_os16_cityscapes.py')
    model = build_model(headline)
    save_checkpoint(dict(meta={}, state_dict=weights_to_cpu(get_state_dict(model))),
                    str(tmp_path / 'iter_1.pth'))
    load_checkpoint(build_model(headline), str(tmp_path / 'iter_1.pth'), strict=True)
    other = build_model(load_config(headline, {'model.backbone.reduced_tail': 'detection'}))
    with pytest.raises(CheckpointOptionError, match="reduced_tail='segmentation'; this backbone "
                       "has reduced_tail='detection'"):
        load_checkpoint(other, str(tmp_path / 'iter_1.pth'))
    # output stride does not change the weights: fine-tuning at another one loads
    os8 = build_model(load_config(headline, {'model.backbone.output_stride': 8,
                                             'model.decode_head.pool_kernel': (97, 97)}))
    load_checkpoint(os8, str(tmp_path / 'iter_1.pth'), strict=True)


# -- item 6: users' configs inherit the plugin's ------------------------------------------

USER_CFG = """
_base_ = 'mnv3_plugin::segmentation/lraspp_v3large_os16_cityscapes.py'
model = dict(backbone=dict(widen_factor=0.75))
"""
FRESH = """
import sys
import mnv3_plugin
from mmengine.config import Config
cfg = Config.fromfile(sys.argv[1])
from mnv3_plugin.apis import build_model
model = build_model(cfg)
print('FROM', mnv3_plugin.__file__)
print('OK', cfg.model.backbone.widen_factor, model.backbone.out_channels)
"""


def test_plugin_base_config_from_a_fresh_interpreter(tmp_path):
    (tmp_path / 'user.py').write_text(USER_CFG)
    proc = run([PY, '-c', FRESH, tmp_path / 'user.py'], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'OK 0.75 [96, 360]' in proc.stdout  # os8_dw, C5 (480 with RF2) at 0.75
    env = dict(ENV, MNV3_PLUGIN_DISABLE_FIXES='plugin_config_scope')
    proc = run([PY, '-c', FRESH, tmp_path / 'user.py'], cwd=tmp_path, env=env)
    assert proc.returncode != 0  # mmengine alone does not know the package


@pytest.mark.slow
def test_plugin_base_config_from_an_installed_wheel(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    for name in ('mnv3_plugin', 'configs', 'requirements'):
        shutil.copytree(ROOT / name, src / name, symlinks=True,
                        ignore=shutil.ignore_patterns('__pycache__'))
    for name in ('setup.cfg', 'pyproject.toml', 'README.md'):
        shutil.copy(ROOT / name, src / name)
    proc = run([PY, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w',
                tmp_path / 'dist', src])
    assert proc.returncode == 0, proc.stderr[-3000:]
    wheel = next((tmp_path / 'dist').glob('mnv3_plugin-*.whl'))
    proc = run([PY, '-m', 'pip', 'install', '--no-deps', '-q', '--target', tmp_path / 'site',
                wheel])
    assert proc.returncode == 0, proc.stderr[-3000:]
    (tmp_path / 'user.py').write_text(USER_CFG)
    env = dict(ENV, PYTHONPATH=str(tmp_path / 'site'))
    proc = run([PY, '-c', FRESH, tmp_path / 'user.py'], cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f'FROM {tmp_path / "site"}' in proc.stdout
    assert 'OK 0.75 [96, 360]' in proc.stdout


# -- item 7: every missing data root at once, with the config's file names -----------------

def test_data_check_reports_every_missing_root_with_the_configs_files(tmp_path):
    config = str(ROOT / 'configs/detection/ssdlite_v3large_w100_r320_coco.py')
    # the train set is wrapped (RepeatDataset): the hint names the inner key
    options = ['--cfg-options',
               'train_dataloader.dataset.dataset.data_root=/nowhere/coco-train/',
               'val_dataloader.dataset.data_root=/nowhere/coco-val/',
               'test_dataloader.dataset.data_root=/nowhere/coco-test/']
    proc = run([PY, ROOT / 'tools/train.py', config, '--work-dir', tmp_path, *options],
               cwd=tmp_path)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    for root, split in (('train', 'train'), ('val', 'val'), ('test', 'val')):
        assert (f"'/nowhere/coco-{root}/annotations/instances_{split}2017.json' does not exist"
                in proc.stderr)
        assert f'/nowhere/coco-{root}/{split}2017/<image>.jpg' in proc.stderr
    assert 'train_dataloader.dataset.dataset.data_root=/path/to/data' in proc.stderr
