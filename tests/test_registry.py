"""The ``mnv3_plugin`` scope is usable from mmpretrain, mmdet and mmseg configs.

Each case writes the config a user would write (host base config inherited with ``pkg::``,
``custom_imports`` naming the plugin, ``type='mnv3_plugin.Name'``) and builds the model in a
fresh interpreter, where only ``custom_imports`` can bring the plugin in.
"""
import subprocess
import sys
import textwrap

import pytest

CASES = {
    'mmpretrain': (
        """
        _base_ = ['mmpretrain::_base_/models/mobilenet_v3/mobilenet_v3_small_imagenet.py']
        custom_imports = dict(imports=['mnv3_plugin'], allow_failed_imports=False)
        model = dict(backbone=dict(_delete_=True, type='mnv3_plugin.MobileNetV3', arch='small'))
        """, 'mmpretrain', 'ImageClassifier', 'torch.randn(1, 3, 64, 64)',
        "out = model(x, mode='tensor'); assert out.shape == (1, 1000), out.shape"),
    'mmdet': (
        """
        _base_ = ['mmdet::_base_/models/retinanet_r50_fpn.py']
        custom_imports = dict(imports=['mnv3_plugin'], allow_failed_imports=False)
        model = dict(
            backbone=dict(_delete_=True, type='mnv3_plugin.MobileNetV3', arch='small',
                          out_indices=(3, 'C4', 'C5'), init_cfg=None),
            neck=dict(in_channels=[24, 288, 576], start_level=0, num_outs=5))
        """, 'mmdet', 'RetinaNet', 'torch.randn(1, 3, 64, 64)',
        "out = model(x, mode='tensor'); assert len(out[0]) == 5, len(out[0])"),
    'mmseg': (
        """
        _base_ = ['mmseg::_base_/models/lraspp_m-v3-d8.py']
        custom_imports = dict(imports=['mnv3_plugin'], allow_failed_imports=False)
        norm_cfg = dict(type='BN', eps=0.001, requires_grad=True)
        model = dict(
            data_preprocessor=dict(size=(512, 512)),
            backbone=dict(_delete_=True, type='mnv3_plugin.MobileNetV3', arch='large',
                          out_indices=(1, 3, 'C5'), output_stride=8, norm_cfg=norm_cfg),
            decode_head=dict(in_channels=(16, 24, 960), norm_cfg=norm_cfg))
        """, 'mmseg', 'EncoderDecoder', 'torch.randn(1, 3, 512, 512)',
        "out = model(x, mode='tensor'); assert out.shape[:2] == (1, 19), out.shape"),
}

BUILD = """
import sys, torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
cfg = Config.fromfile(sys.argv[1])
assert 'mnv3_plugin' in sys.modules, 'custom_imports did not import the plugin'
init_default_scope({scope!r})
from {scope}.registry import MODELS
model = MODELS.build(cfg.model).eval()
assert type(model).__name__ == {model_type!r}, type(model)
from mnv3_plugin.models import MobileNetV3
assert isinstance(model.backbone, MobileNetV3), type(model.backbone)
x = {inp}
with torch.no_grad():
    {check}
print('OK', type(model.backbone).__module__)
"""


@pytest.mark.parametrize('host', CASES)
def test_plugin_module_builds_from_host_config(host, tmp_path):
    cfg_text, scope, model_type, inp, check = CASES[host]
    cfg = tmp_path / f'{host}_cfg.py'
    cfg.write_text(textwrap.dedent(cfg_text))
    code = BUILD.format(scope=scope, model_type=model_type, inp=inp, check=check)
    proc = subprocess.run([sys.executable, '-c', code, str(cfg)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert 'OK mnv3_plugin.models.backbones.mobilenet' in proc.stdout


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmdet', 'mmseg'])
def test_scoped_name_resolves_from_each_host_registry(scope):
    import importlib

    import mnv3_plugin
    from mnv3_plugin.models import MobileNetV2, MobileNetV3
    registry = importlib.import_module(f'{scope}.registry').MODELS
    assert registry.get('mnv3_plugin.MobileNetV3') is MobileNetV3
    assert registry.get('mnv3_plugin.MobileNetV2') is MobileNetV2
    assert mnv3_plugin.MODELS.scope == 'mnv3_plugin'
    # the plugin's names do not shadow the hosts' own (mmpretrain and mmseg have a MobileNetV3)
    own = registry.get('MobileNetV3')
    assert own is None or own is not MobileNetV3


def test_host_modules_are_what_those_modules_register():
    """registry.HOST_MODULES (names imported on first lookup) is exactly what the host-specific
    modules register, so a config naming any of them builds without importing them first."""
    import importlib

    from mnv3_plugin import registry
    for module in set(registry.HOST_MODULES.values()):
        importlib.import_module(module)
    registered = {name: cls.__module__ for reg in (registry.MODELS, registry.TASK_UTILS)
                  for name, cls in reg.module_dict.items()}
    host_registered = {name for name, module in registered.items()
                       if module.startswith(tuple(set(registry.HOST_MODULES.values())))}
    assert host_registered == set(registry.HOST_MODULES)
    for name, module in registry.HOST_MODULES.items():
        assert registered[name].startswith(module), name


LAZY = """
import sys
from mmengine.registry import init_default_scope
import mnv3_plugin
assert 'mmseg' not in sys.modules and 'mnv3_plugin.models.seg' not in sys.modules
init_default_scope('mmseg')
from mmseg.registry import MODELS
assert MODELS.get('mnv3_plugin.LRASPPHead').__module__.startswith('mnv3_plugin.models.seg')
print('OK', [m for m in ('mnv3_plugin.models.det', 'mnv3_plugin.models.classifier')
             if m in sys.modules])
"""


def test_host_module_is_imported_on_first_lookup():
    proc = subprocess.run([sys.executable, '-c', LAZY], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # an mmseg name imported the plugin's mmseg module only (mmseg itself imports mmdet)
    assert proc.stdout.split() == ['OK', '[]']
