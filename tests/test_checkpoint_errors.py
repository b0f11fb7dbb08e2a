"""Checkpoint and argument errors as a new user meets them (issues 13 item 4, 15 items 1, 2, 5).

Each test failed before its fix: another model's checkpoint reported as an option to change,
equivalent option values listed as differences, ``--partial-load`` stopped by the option check,
``pretrained=FILE`` with the converters' ``backbone.`` keys, ``out_indices=5.0`` and misspelt
arguments, print_taps' width rules and options, messages cut mid-word, a file read twice per
``init_cfg`` load, timm's ``mobilenetv3_rw`` converted into weights no backbone took.
"""
import contextlib
import io
import re
import runpy
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from mnv3_plugin.apis import ConfigError
from mnv3_plugin.checkpoint import PARTIAL_ENV, CheckpointMismatchError
from mnv3_plugin.models import MobileNetV3
from mnv3_plugin.models.backbones import mobilenet
from mnv3_plugin.models.backbones.options import CheckpointOptionError, check_options, record
from mnv3_plugin.taps import BACKBONES

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(arch='small', widen_factor=0.35, init_cfg=None)


class Model(nn.Module):
    """A whole model around a plugin backbone: a segmentor (``decode_head``) or a detector
    (``bbox_head``), as far as the checkpoint keys go."""

    def __init__(self, head: str, **backbone):
        super().__init__()
        self.backbone = MobileNetV3(**{**TINY, **backbone})
        setattr(self, head, nn.Conv2d(self.backbone.out_channels[-1], 3, 1))


def save(model, path, meta=None):
    from mmengine.runner.checkpoint import get_state_dict, save_checkpoint, weights_to_cpu
    save_checkpoint(dict(meta=meta or {}, state_dict=weights_to_cpu(get_state_dict(model))),
                    str(path))
    return str(path)


@pytest.fixture(autouse=True)
def strict(monkeypatch):
    monkeypatch.delenv(PARTIAL_ENV, raising=False)


# -- another model's checkpoint is reported as such; options only when the rest fits -------

def test_a_detectors_checkpoint_for_a_segmentor_names_the_models_not_options(tmp_path):
    from mmengine.runner.checkpoint import load_checkpoint
    ckpt = save(Model('bbox_head', reduced_tail='detection'), tmp_path / 'epoch_1.pth',
                dict(experiment_name='ssdlite_v3small_20250101_000000'))
    with pytest.raises(CheckpointMismatchError) as err:
        load_checkpoint(Model('decode_head', reduced_tail='segmentation'), ckpt)
    msg = str(err.value)
    assert repr(ckpt) in msg and "a detector's (mmdet) weights" in msg
    assert 'saved by the run' in msg and 'ssdlite_v3small' in msg
    assert 'missing from it (decode_head.' in msg and 'unexpected keys (bbox_head.' in msg
    assert 'build it with' not in msg and '--partial-load' in msg


def test_options_compared_when_the_rest_fits_naming_the_file_and_only_real_differences(
        tmp_path):
    from mmengine.runner.checkpoint import load_checkpoint
    ckpt = save(Model('decode_head', reduced_tail='segmentation', fix_last_conv=None),
                tmp_path / 'iter_1.pth')
    with pytest.raises(CheckpointOptionError) as err:
        load_checkpoint(Model('decode_head', reduced_tail=None, fix_last_conv=False), ckpt)
    msg = str(err.value)
    assert msg.startswith(repr(ckpt)) and "build it with reduced_tail='segmentation'" in msg
    assert 'fix_last_conv' not in msg.split('(checkpoint:')[0]


# every arch: fix_last_conv / se_squeeze left at None equal the arch's own value
@pytest.mark.parametrize('type_name,arch', BACKBONES)
def test_an_options_default_equals_its_resolved_value(type_name, arch):
    cls = getattr(mobilenet, type_name)
    table = cls.arch_settings[arch]
    explicit = dict(fix_last_conv=table.fix_last_conv, se_squeeze=table.se_squeeze)
    saved = record(cls(arch=arch, widen_factor=0.5, reduced_tail='detection', init_cfg=None),
                   dict(arch=arch, widen_factor=0.5, reduced_tail='detection'))
    mine = cls(arch=arch, widen_factor=0.5, init_cfg=None, **explicit)
    with pytest.raises(CheckpointOptionError, match='reduced_tail') as err:
        check_options(saved, mine, 'f.pth')
    differing = err.value.args[0].split('(checkpoint:')[0]
    assert 'fix_last_conv' not in differing and 'se_squeeze' not in differing


def test_partial_load_bypasses_the_option_check(tmp_path, monkeypatch):
    from mmengine.runner.checkpoint import load_checkpoint
    src = Model('decode_head', reduced_tail='segmentation')
    ckpt = save(src, tmp_path / 'iter_1.pth')
    monkeypatch.setenv(PARTIAL_ENV, '1')
    dst = Model('decode_head')
    load_checkpoint(dst, ckpt)  # the matching part loads, the rest is logged
    torch.testing.assert_close(dst.backbone.layers[0].conv.weight,
                               src.backbone.layers[0].conv.weight)
    assert dst.backbone.layers[-1].conv.weight.shape != src.backbone.layers[-1].conv.weight.shape
    # init_cfg: logged too, the stem loads
    backbone = MobileNetV3(**{**TINY, 'init_cfg': dict(type='Pretrained', checkpoint=ckpt,
                                                       prefix='backbone.')})
    backbone.init_weights()
    torch.testing.assert_close(backbone.layers[0].conv.weight, src.backbone.layers[0].conv.weight)


# -- pretrained=FILE with the converters' files ----------------------------------------------

@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    import torchvision

    from mnv3_plugin.converters import convert_file, convert_torchvision
    tmp = tmp_path_factory.mktemp('tv')
    torch.manual_seed(0)
    torch.save(torchvision.models.mobilenet_v3_small(width_mult=0.5).state_dict(), tmp / 'tv.pth')
    convert_file(str(tmp / 'tv.pth'), str(tmp / 'small_050.pth'), convert_torchvision,
                 'torchvision')
    return str(tmp / 'small_050.pth')


def test_pretrained_file_of_the_converters_loads_its_backbone(converted, monkeypatch):
    import mmengine.logging
    logged = []
    print_log = mmengine.logging.print_log
    monkeypatch.setattr(mmengine.logging, 'print_log',
                        lambda msg, *a, **k: logged.append(msg) or print_log(msg, *a, **k))
    with pytest.warns(DeprecationWarning):
        model = MobileNetV3(arch='small', widen_factor=0.5, width_rule='torchvision',
                            pretrained=converted)
    model.init_weights()
    assert any("prefix='backbone.'" in m and converted in m for m in logged), logged
    weights = torch.load(converted, weights_only=False)['state_dict']
    for key, value in model.state_dict().items():
        if 'num_batches_tracked' not in key:
            torch.testing.assert_close(value, weights[f'backbone.{key}'], msg=key)
    assert model.init_cfg['prefix'] == 'backbone.'
    # and the recorded options are checked there (under backbone.), naming the file
    with pytest.warns(DeprecationWarning):
        other = MobileNetV3(arch='small', width_rule='torchvision', pretrained=converted)
    with pytest.raises(CheckpointOptionError, match=re.escape(repr(converted)) + '.*widen_factor'):
        other.init_weights()


def test_a_prefix_with_no_weights_names_the_file(converted):
    model = MobileNetV3(arch='small', init_cfg=dict(type='Pretrained', checkpoint=converted,
                                                    prefix='model.backbone.'))
    with pytest.raises(CheckpointMismatchError, match=re.escape(repr(converted)) +
                       r".*no weights under prefix='model.backbone.'.*backbone, head"):
        model.init_weights()


def test_init_cfg_reads_the_file_once(converted, monkeypatch):
    reads = []
    load = torch.load

    def counting(*args, **kwargs):
        reads.append(args[0])
        return load(*args, **kwargs)
    monkeypatch.setattr(torch, 'load', counting)
    MobileNetV3(arch='small', widen_factor=0.5, width_rule='torchvision', init_cfg=dict(
        type='Pretrained', checkpoint=converted, prefix='backbone.')).init_weights()
    assert len(reads) == 1, reads


# -- argument errors ------------------------------------------------------------------------

@pytest.mark.parametrize('value', [5.0, True, {'C5'}, (3, 2.0), ['C5', None]])
def test_out_indices_of_the_wrong_kind_is_one_line(value):
    with pytest.raises(ConfigError) as err:  # a ConfigError: the tools print one line
        MobileNetV3(out_indices=value, init_cfg=None)
    msg = str(err.value)
    assert isinstance(err.value, TypeError) and '\n' not in msg
    assert msg.startswith('MobileNetV3: out_indices must be') and repr(value) in msg


@pytest.mark.parametrize('typo,meant', [('widen', 'widen_factor'), ('stride', 'output_stride'),
                                        ('indices', 'out_indices'), ('frozen', 'frozen_stages'),
                                        ('multiplier', 'depth_multiplier'),
                                        ('out_indice', 'out_indices')])
def test_a_misspelt_argument_suggests_the_name_it_abbreviates(typo, meant):
    with pytest.raises(ConfigError, match=f"unexpected argument {typo!r} \\(did you mean "
                       f"[^)]*{meant!r}"):
        MobileNetV3(**{typo: 1}, init_cfg=None)


# -- print_taps: the backbone's own choices and options -------------------------------------

def print_taps(*args) -> str:
    out = io.StringIO()
    argv = sys.argv
    sys.argv = ['print_taps.py', *map(str, args)]
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(str(ROOT / 'tools/misc/print_taps.py'), run_name='__main__')
    finally:
        sys.argv = argv
    return out.getvalue()


@pytest.mark.parametrize('rule', mobilenet.WIDTH_RULES)
def test_print_taps_takes_every_width_rule_and_the_backbone_options(rule):
    args = dict(arch='large', widen_factor=0.5, width_rule=rule, in_channels=4,
                depth_multiplier=1.2)
    text = print_taps('--arch', 'large', '--widen-factor', 0.5, '--width-rule', rule,
                      '--in-channels', 4, '--depth-multiplier', 1.2, '--out-indices', 'C4', 'C5',
                      '--options', 'dilation_rule=torchvision', 'output_stride=16')
    model = MobileNetV3(**args, out_indices=('C4', 'C5'), dilation_rule='torchvision',
                        output_stride=16, init_cfg=None)
    for tap, ch, stride in zip(model.out_indices, model.out_channels, model.out_strides):
        assert f'{tap!r}: {ch} channels @ stride {stride}' in text
    assert f"width_rule={rule!r}" in text and 'in_channels=4' in text


# -- messages: whole words, the documented exclusion ----------------------------------------

@pytest.mark.parametrize('text', [
    'PytorchStreamReader failed reading zip archive: failed finding central directory. This '
    'is an internal miniz error. If you are seeing this, report it.',
    'invalid load key, \'n\'.', 'x' * 30 + ' word' * 60, 'first line\nsecond line'])
def test_error_details_end_at_a_sentence_or_word(text):
    from mnv3_plugin.checkpoint import first_sentence
    short = first_sentence(text)
    words = text.splitlines()[0]
    core = short[:-4] if short.endswith(' ...') else short
    assert words.startswith(core) and len(core) <= 160
    assert len(words) == len(core) or words[len(core)] == ' ' or core.endswith('.')


def test_truncated_checkpoint_message_ends_at_a_sentence(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint

    from mnv3_plugin.checkpoint import CheckpointFileError
    data = io.BytesIO()
    torch.save(MobileNetV3(**TINY).state_dict(), data)
    (tmp_path / 'cut.pth').write_bytes(data.getvalue()[:len(data.getvalue()) // 2])
    with pytest.raises(CheckpointFileError) as err:
        _load_checkpoint(str(tmp_path / 'cut.pth'))
    msg = str(err.value)
    assert str(tmp_path / 'cut.pth') in msg and msg.endswith('central directory.)'), msg


def test_timm_mobilenetv3_rw_converts_to_its_arch_and_loads(tmp_path):
    """timm's mobilenetv3_rw (its own early reimplementation) converts to arch='large_rw' and
    loads through init_cfg; the Large table refuses it, naming the arch."""
    timm = pytest.importorskip('timm')
    from mnv3_plugin.converters import convert_file, convert_timm
    from mnv3_plugin.models.backbones.mobilenet import MobileNetV3
    from mnv3_plugin.models.backbones.options import CheckpointOptionError
    torch.save(timm.create_model('mobilenetv3_rw').state_dict(), tmp_path / 'rw.pth')
    convert_file(str(tmp_path / 'rw.pth'), str(tmp_path / 'out.pth'), convert_timm, 'timm')
    meta = torch.load(tmp_path / 'out.pth', weights_only=False)['meta']['backbone']
    assert meta['options']['arch'] == 'large_rw'
    init = dict(type='Pretrained', checkpoint=str(tmp_path / 'out.pth'), prefix='backbone.')
    MobileNetV3(arch='large_rw', init_cfg=init).init_weights()
    with pytest.raises(CheckpointOptionError, match="arch='large_rw'"):
        MobileNetV3(arch='large', init_cfg=init).init_weights()
