"""Backbones against the paper's tables and the reference implementations.

Targets are the paper's columns and the reference implementations (torchvision's and timm's
MobileNetV3 and MobileNetV2 built offline with random weights, whose counts and outputs ours
must equal, and torchvision's published weight metadata), never this code's own output.
"""
import math

import pytest
import torch
from mmengine.config import Config
from torch import nn

import mnv3_plugin  # noqa: F401  (registers the plugin scope)
from mnv3_plugin.analysis import count_madds, count_params, tensor_forward
from mnv3_plugin.apis import build_model
from mnv3_plugin.models.backbones import MnasNet, MobileNetV1, MobileNetV2, MobileNetV3, TableNet
from mnv3_plugin.models.backbones.tables import (MNASNET_A1, MNASNET_SMALL, MOBILENET_V1,
                                                 MOBILENET_V2, V3_LARGE, V3_SMALL)
from mnv3_plugin.models.classifier import classifier_cfg
from mnv3_plugin.models.layers import HSwish

BACKBONES = {'MobileNetV3': MobileNetV3, 'MobileNetV2': MobileNetV2, 'MnasNet': MnasNet,
             'MobileNetV1': MobileNetV1}
ALL_ARCHS = [(name, arch) for name, cls in BACKBONES.items() for arch in cls.arch_settings]


def classifier(backbone, **head_kwargs):
    """The Section 5.1 classifier around a backbone config (head widths from the backbone)."""
    return build_model(Config(dict(default_scope='mmpretrain',
                                   model=classifier_cfg(backbone, **head_kwargs))))


def madds(model, size=224, forward=tensor_forward):
    return count_madds(model, (1, 3, size, size), forward)


def reference(name, **kwargs):
    """A reference model built offline: torchvision's ``name`` or timm's ``timm:name``."""
    if name.startswith('timm:'):
        timm = pytest.importorskip('timm')
        return timm.create_model(name[5:], pretrained=False, **kwargs)
    import torchvision
    return getattr(torchvision.models, name)(weights=None, **kwargs)


# Our backbone options -> the reference model with the same definition: torchvision's
# (its width rule, reduced_tail) and timm's tf_ ports of the released TF models ('tf' rule).
EXACT = {
    'large-1.0': (dict(arch='large'), 'mobilenet_v3_large', {}),
    'large-0.75': (dict(arch='large', widen_factor=0.75), 'timm:tf_mobilenetv3_large_075', {}),
    'large-0.75-torchvision': (dict(arch='large', widen_factor=0.75, width_rule='torchvision'),
                               'mobilenet_v3_large', dict(width_mult=0.75)),
    'small-1.0': (dict(arch='small'), 'mobilenet_v3_small', {}),
    'small-0.75': (dict(arch='small', widen_factor=0.75), 'timm:tf_mobilenetv3_small_075', {}),
    'large-rf2': (dict(arch='large', reduced_tail='detection'), 'mobilenet_v3_large',
                  dict(reduced_tail=True)),
    'small-rf2': (dict(arch='small', reduced_tail='detection'), 'mobilenet_v3_small',
                  dict(reduced_tail=True)),
    # the authors' minimalistic models (TF-slim V3_*_MINIMALISTIC, as ported by timm)
    'large-minimal': (dict(arch='large_minimal'), 'timm:tf_mobilenetv3_large_minimal_100', {}),
    'small-minimal': (dict(arch='small_minimal'), 'timm:tf_mobilenetv3_small_minimal_100', {}),
    # timm's deeper, wider Large (depth multiplier 1.2: beyond the paper)
    'large-1.5-depth-1.2': (dict(arch='large', widen_factor=1.5, depth_multiplier=1.2,
                                 width_rule='timm'), 'timm:mobilenetv3_large_150d', {}),
    # timm's early reimplementation of Large (beyond the paper; head conv without bias)
    'large-rw': (dict(arch='large_rw'), 'timm:mobilenetv3_rw', {}),
}


def reference_madds(model, size=224):
    return madds(model, size, lambda m, x: m(x))


@pytest.mark.parametrize('key', EXACT)
def test_v3_params_and_madds_equal_the_reference(key):
    kwargs, ref_name, ref_kwargs = EXACT[key]
    model = classifier(dict(type='mnv3_plugin.MobileNetV3', **kwargs))
    ref = reference(ref_name, **ref_kwargs)
    assert count_params(model) == count_params(ref)
    assert madds(model) == reference_madds(ref)


@pytest.mark.parametrize('arch', ['large', 'small'])
def test_v3_matches_torchvision_published_metadata(arch):
    """torchvision's IMAGENET1K_V1 weight metadata (num_params, GFLOPS) describe our 1.0 models."""
    import torchvision
    meta = getattr(torchvision.models, f'MobileNet_V3_{arch.capitalize()}_Weights'
                   ).IMAGENET1K_V1.meta
    model = classifier(dict(type='mnv3_plugin.MobileNetV3', arch=arch))
    assert count_params(model) == meta['num_params']
    assert madds(model) / 1e9 == pytest.approx(meta['_ops'], abs=0.0005)


SWEEP = (96, 128, 160, 192, 256)


@pytest.mark.parametrize('arch,size', [(a, s) for a in ('large', 'small') for s in SWEEP])
def test_resolution_sweep_madds(arch, size):
    """Figure 7's resolutions: the same count as the reference model at every size."""
    model = classifier(dict(type='mnv3_plugin.MobileNetV3', arch=arch))
    assert madds(model, size) == reference_madds(reference(f'mobilenet_v3_{arch}'), size)


def test_paper_v3_rows_within_published_rounding():
    """Table 3 prints V3-Large 1.0 as 219M / 5.4M and 0.75 as 155M / 4.0M."""
    large = classifier(dict(type='mnv3_plugin.MobileNetV3', arch='large'))
    assert count_params(large) / 1e6 == pytest.approx(5.4, abs=0.1)
    assert madds(large) / 1e6 == pytest.approx(219, rel=0.02)
    l075 = classifier(dict(type='mnv3_plugin.MobileNetV3', arch='large', widen_factor=0.75))
    assert count_params(l075) / 1e6 == pytest.approx(4.0, rel=0.01)
    assert madds(l075) / 1e6 == pytest.approx(155, rel=0.01)


@pytest.mark.parametrize('width,tf_slim_params', [(1.0, 3.47), (0.35, 1.66)])
def test_v2_params_match_tf_slim_convention(width, tf_slim_params):
    """TF-slim's published V2 counts (3.47M, 1.66M) leave out BN's scale and offset."""
    model = classifier(dict(type='mnv3_plugin.MobileNetV2', widen_factor=width))
    bn_affine = sum(m.weight.numel() + m.bias.numel() for m in model.modules()
                    if isinstance(m, nn.BatchNorm2d))
    assert (count_params(model) - bn_affine) / 1e6 == pytest.approx(tf_slim_params, abs=0.005)


def test_v1_matches_its_paper():
    """MobileNetV1 paper, Table 8: 1.0 MobileNet-224 has 569M MAdds and 4.2M parameters."""
    model = classifier(dict(type='mnv3_plugin.MobileNetV1'))
    assert madds(model) / 1e6 == pytest.approx(569, rel=0.01)
    assert count_params(model) / 1e6 == pytest.approx(4.2, rel=0.02)


# -- reference implementations: same parameter count, same outputs ---------------------------
def _randomize_bn(model):
    """Non-trivial BN statistics, so a mapping error in running stats shows in the outputs."""
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return model


TV_CASES = {
    'large': (dict(), dict(arch='large')),
    'small': (dict(), dict(arch='small')),
    'large-0.75': (dict(width_mult=0.75),
                   dict(arch='large', widen_factor=0.75, width_rule='torchvision')),
    'small-0.5': (dict(width_mult=0.5),
                  dict(arch='small', widen_factor=0.5, width_rule='torchvision')),
    'large-reduced_tail': (dict(reduced_tail=True), dict(arch='large', reduced_tail='detection')),
    'small-reduced_tail-dilated': (dict(reduced_tail=True, dilated=True),
                                   dict(arch='small', reduced_tail='detection', output_stride=16,
                                        dilation_rule='torchvision')),
}


@pytest.mark.parametrize('case', TV_CASES)
def test_equal_to_torchvision_after_conversion(case):
    import torchvision

    from mnv3_plugin.converters import convert_torchvision
    tv_kwargs, bb_kwargs = TV_CASES[case]
    arch = bb_kwargs['arch']
    torch.manual_seed(0)
    tv = getattr(torchvision.models, f'mobilenet_v3_{arch}')(weights=None, **tv_kwargs)
    tv = _randomize_bn(tv).eval()
    ours = classifier(dict(type='mnv3_plugin.MobileNetV3', **bb_kwargs)).eval()
    # the Section 5.1 head width rule gives torchvision's last_channel
    assert ours.backbone.head_channels == tv.classifier[0].out_features
    assert count_params(ours) == count_params(tv)
    ours.load_state_dict(convert_torchvision(tv.state_dict()), strict=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(ours(x, mode='tensor'), tv(x), atol=1e-5, rtol=0)


@pytest.mark.parametrize('name,arch', [('mobilenetv3_large_100', 'large'),
                                       ('mobilenetv3_small_100', 'small')])
def test_equal_to_timm_after_conversion(name, arch):
    from mnv3_plugin.converters import convert_timm
    torch.manual_seed(0)
    ref = _randomize_bn(reference(f'timm:{name}')).eval()
    # timm's non-tf_ MobileNetV3 uses torch's default BN eps (1e-5)
    ours = classifier(dict(type='mnv3_plugin.MobileNetV3', arch=arch,
                           norm_cfg=dict(type='BN', eps=1e-5, momentum=0.01))).eval()
    ours.load_state_dict(convert_timm(ref.state_dict()), strict=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(ours.backbone(x)[-1], ref.forward_features(x), atol=1e-5,
                                   rtol=0)
        # timm's head is a 1x1 conv on the pooled map, ours (like torchvision's) a Linear: the
        # two GEMM paths round differently at float32 eps on logits of magnitude ~100
        a, b = ours(x, mode='tensor'), ref(x)
        assert (a - b).abs().max() <= 1e-6 * b.abs().max()


@pytest.mark.parametrize('name,arch', [('semnasnet_100', 'a1'), ('mnasnet_small', 'small')])
def test_mnasnet_matches_timm_definition(name, arch):
    ref = reference(f'timm:{name}')
    ours = classifier(dict(type='mnv3_plugin.MnasNet', arch=arch))
    assert count_params(ours) == count_params(ref)


def test_v2_matches_torchvision_definition():
    for width in (1.0, 0.5, 0.35):
        ref = reference('mobilenet_v2', width_mult=width)
        ours = classifier(dict(type='mnv3_plugin.MobileNetV2', widen_factor=width))
        assert count_params(ours) == count_params(ref), width


# -- taps, strides, RF2, atrous: generated from the tables ------------------------------------
def _expected_hw(size, stride):
    return math.ceil(size / stride)


@pytest.mark.parametrize('name,arch', ALL_ARCHS)
@pytest.mark.parametrize('output_stride', [32, 16, 8])
def test_every_tap_has_declared_shape(name, arch, output_stride):
    cls = BACKBONES[name]
    n = len(cls.arch_settings[arch].rows)
    taps = list(range(n)) + ['C4', 'C5', 'os8_dw']
    model = cls(arch=arch, out_indices=taps, output_stride=output_stride).eval()
    size = 96
    with torch.no_grad():
        outs = model(torch.randn(1, 3, size, size))
    assert len(outs) == len(taps) == len(model.out_channels) == len(model.out_strides)
    for tap, out, ch, stride in zip(taps, outs, model.out_channels, model.out_strides):
        assert stride <= output_stride, tap
        assert tuple(out.shape) == (1, ch, _expected_hw(size, stride),
                                    _expected_hw(size, stride)), tap


@pytest.mark.parametrize('arch,c4,c5,os8_dw,c4_row', [('large', 672, 960, 120, 13),
                                                      ('small', 288, 576, 88, 9)])
def test_paper_taps(arch, c4, c5, os8_dw, c4_row):
    """Section 6.3: C4 = expansion of the 13th (Large) / 9th (Small) bneck, at stride 16;
    C5 = the layer before pooling; LR-ASPP low-level = 120 / 88 depthwise channels at 1/8."""
    model = MobileNetV3(arch=arch, out_indices=('C4', 'C5', 'os8_dw'))
    assert model.out_channels == [c4, c5, os8_dw]
    assert model.out_strides == [16, 32, 8]
    assert model.taps['C4'][0] == c4_row  # row 0 is the stem, so row N is the N-th bneck


@pytest.mark.parametrize('arch,rule,c4,c5,last_stage', [
    ('large', 'detection', 672, 480, [(672, 80), (480, 80), (480, 80)]),
    ('large', 'segmentation', 336, 480, [(336, 80), (480, 80), (480, 80)]),
    ('small', 'detection', 288, 288, [(288, 48), (288, 48), (288, 48)]),
    ('small', 'segmentation', 144, 288, [(144, 48), (288, 48), (288, 48)]),
])
def test_rf2_rules(arch, rule, c4, c5, last_stage):
    """RF2 halves the channels between C4 and C5; both released rules (reference notes)."""
    model = MobileNetV3(arch=arch, reduced_tail=rule, out_indices=('C4', 'C5'))
    assert model.out_channels == [c4, c5]
    start = model.taps['C4'][0]
    got = [(s.mid_channels, s.out_channels) for s in model.specs[start:start + 3]]
    assert got == last_stage
    full = MobileNetV3(arch=arch)
    assert count_params(model) < count_params(full)


def test_rf2_unknown_rule():
    with pytest.raises(ValueError, match="'detection' or 'segmentation'"):
        MobileNetV3(reduced_tail='half')


@pytest.mark.parametrize('name,arch', ALL_ARCHS)
@pytest.mark.parametrize('output_stride', [16, 8])
@pytest.mark.parametrize('rule', ['tf', 'torchvision'])
def test_atrous_output_stride(name, arch, output_stride, rule):
    """Atrous convolution keeps the weights and resolution; strided layers become dilated."""
    cls = BACKBONES[name]
    base = cls(arch=arch)
    model = cls(arch=arch, output_stride=output_stride, dilation_rule=rule)
    assert [p.shape for p in model.parameters()] == [p.shape for p in base.parameters()]
    assert model.out_strides == [output_stride]
    dw_convs = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert max(c.stride[0] for c in dw_convs[-3:]) == 1
    assert max(c.dilation[0] for c in dw_convs) == 32 // output_stride
    # the first layer that would have been strided: dilated only under torchvision's rule
    replaced = [s for s in model.specs if s.row.stride == 2 and s.stride == 1]
    assert replaced
    expected = 2 if rule == 'torchvision' else 1
    assert replaced[0].dilation == expected
    x = torch.randn(1, 3, 64, 64)
    assert model.eval()(x)[0].shape[-1] == 64 // output_stride


def test_impossible_output_stride():
    with pytest.raises(ValueError, match='one of 8, 16, 32'):
        MobileNetV3(output_stride=4)
    with pytest.raises(ValueError, match='one of 8, 16, 32'):
        MobileNetV3(output_stride=12)


# -- Table 5 nonlinearity ablations -------------------------------------------------------------
def _acts_by_row(model):
    """Activation class of each row's main path (SE internals excluded)."""
    kinds = []
    for layer in model.layers:
        main = [m for n, m in layer.named_modules() if n.endswith('act')]  # not se.relu/gate
        kinds.append({type(m).__name__ for m in main})
    return kinds


def test_nl_layouts():
    table = _acts_by_row(MobileNetV3(arch='large'))
    assert table[0] == {'HSwish'} and table[1] == {'ReLU'} and table[7] == {'HSwish'}
    relu = _acts_by_row(MobileNetV3(arch='large', nl_layout='relu'))
    assert all(k == {'ReLU'} for k in relu)
    hs16 = _acts_by_row(MobileNetV3(arch='large', nl_layout='hswish@16'))
    assert all(k == {'HSwish'} for k in hs16)
    hs112 = _acts_by_row(MobileNetV3(arch='large', nl_layout='hswish@112'))
    first_112 = [r.out for r in V3_LARGE.rows].index(112)
    assert all(k == {'ReLU'} for k in hs112[:first_112])
    assert all(k == {'HSwish'} for k in hs112[first_112:])


def test_nl_layout_errors():
    with pytest.raises(ValueError, match='valid N'):
        MobileNetV3(nl_layout='hswish@7')
    with pytest.raises(ValueError, match="'table', 'relu' or 'hswish@N'"):
        MobileNetV3(nl_layout='swish')


def test_unfused_hswish_same_function():
    """Table 5 'no-opt': h-swish as separate ops computes the same function."""
    fused = MobileNetV3(arch='small').eval()
    unfused = MobileNetV3(arch='small',
                          act_cfg=dict(HS=dict(type='mnv3_plugin.HSwish', fused=False)),
                          se_gate_cfg=dict(type='mnv3_plugin.HSigmoid', fused=False)).eval()
    unfused.load_state_dict(fused.state_dict())
    hs = [m for m in unfused.modules() if isinstance(m, HSwish)]
    assert hs and not any(m.fused for m in hs)
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(unfused(x)[0], fused(x)[0], atol=1e-5, rtol=1e-5)
    assert HSwish(fused=False)(torch.tensor([-4., -1., 0., 1., 4.])).tolist() == pytest.approx(
        [0., -1 / 3, 0., 2 / 3, 4.])


# -- what OpenMMLab users expect -------------------------------------------------------------
def test_errors_name_valid_choices():
    with pytest.raises(ValueError, match=r"unknown arch 'medium'") as info:
        MobileNetV3(arch='medium')
    assert all(repr(arch) in str(info.value) for arch in MobileNetV3.arch_settings)
    for bad in (0, -0.5):
        with pytest.raises(ValueError, match='positive'):
            MobileNetV3(widen_factor=bad)
    with pytest.raises(ValueError, match=r'out index 17 out of range.*\[-17, 16\]'):
        MobileNetV3(out_indices=(17,))
    with pytest.raises(ValueError, match="unknown named tap 'C3'"):
        MobileNetV3(out_indices=('C3',))
    with pytest.raises(ValueError, match='frozen_stages'):
        MobileNetV3(frozen_stages=40)


@pytest.mark.parametrize('width', [0.35, 0.5, 0.75, 1.0, 1.25, 0.6])
def test_any_width(width):
    model = MobileNetV3(arch='large', widen_factor=width).eval()
    out = model(torch.randn(1, 3, 64, 64))[0]
    assert out.shape[1] == model.out_channels[0]
    assert all(s.out_channels % 8 == 0 for s in model.specs)


def test_frozen_stages_and_norm_eval():
    model = MobileNetV3(arch='small', frozen_stages=2, norm_eval=True)
    model.train()
    for i, layer in enumerate(model.layers):
        grads = {p.requires_grad for p in layer.parameters()}
        assert grads == ({False} if i <= 2 else {True}), i
    assert not any(m.training for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def test_with_cp_same_output_and_grads():
    torch.manual_seed(0)
    plain = MobileNetV3(arch='small')
    cp = MobileNetV3(arch='small', with_cp=True)
    cp.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    a, b = plain(x)[0], cp(x)[0]
    torch.testing.assert_close(a, b)
    a.sum().backward()
    b.sum().backward()
    for p, q in zip(plain.parameters(), cp.parameters()):
        torch.testing.assert_close(p.grad, q.grad)


def test_pretrained_init_cfg_with_prefix(tmp_path):
    import torchvision

    from mnv3_plugin.converters import convert_torchvision
    tv = _randomize_bn(torchvision.models.mobilenet_v3_small(weights=None))
    path = tmp_path / 'converted.pth'
    torch.save(dict(state_dict=convert_torchvision(tv.state_dict())), path)
    model = MobileNetV3(arch='small', init_cfg=dict(type='Pretrained', checkpoint=str(path),
                                                    prefix='backbone.'))
    model.init_weights()
    torch.testing.assert_close(model.layers[1].dw.conv.weight, tv.features[1].block[0][0].weight)
    torch.testing.assert_close(model.layers[-1].bn.running_var, tv.features[-1][1].running_var)


@pytest.mark.parametrize('arch', ['large', 'small'])
def test_deploy_folds_bn(arch):
    model = _randomize_bn(MobileNetV3(arch=arch)).eval()
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        ref = model(x)[0]
        model.switch_to_deploy()
        out = model(x)[0]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    torch.testing.assert_close(out, ref, atol=1e-4, rtol=1e-4)


def test_tables_follow_paper_columns():
    """A few literal facts of Tables 1-2 (and the released models' corrections)."""
    assert len([r for r in V3_LARGE.rows if r.op == 'bneck']) == 15
    assert len([r for r in V3_SMALL.rows if r.op == 'bneck']) == 11
    assert V3_LARGE.rows[0] == V3_SMALL.rows[0]  # 16-filter h-swish stem (Section 5.1)
    assert (V3_LARGE.rows[0].out, V3_LARGE.rows[0].nl) == (16, 'HS')
    assert not V3_SMALL.rows[-1].se  # the printed Table 2's SE tick on the 576 conv
    assert V3_SMALL.head_channels == 1024 and V3_LARGE.head_channels == 1280
    assert sum(r.se for r in V3_LARGE.rows) == 8 and sum(r.se for r in V3_SMALL.rows) == 9
    for arch in (MOBILENET_V2, MNASNET_A1, MNASNET_SMALL, MOBILENET_V1):
        assert math.prod(r.stride for r in arch.rows) == 32


def test_se_is_quarter_of_expansion():
    """Section 5.3: SE bottleneck fixed to 1/4 of the expansion (rounded to 8)."""
    model = MobileNetV3(arch='large')
    se = [(s.mid_channels, s.se_channels) for s in model.specs if s.se_channels]
    assert se == [(72, 24), (120, 32), (120, 32), (480, 120), (672, 168), (672, 168),
                  (960, 240), (960, 240)]


def test_large_rw_has_timms_se_widths_residuals_and_se_activations():
    """arch='large_rw' is timm's mobilenetv3_rw block by block: SE squeeze widths, which
    blocks add their input, and the SE's inner activation (the block's own)."""
    ref = reference('timm:mobilenetv3_rw')
    blocks = [b for stage in ref.blocks for b in stage]
    ours = MobileNetV3(arch='large_rw', init_cfg=None)
    assert len(ours.layers) == len(blocks) + 1
    for layer, spec, block in zip(ours.layers[1:], ours.specs[1:], blocks):
        se = getattr(block, 'se', None)
        se_ch = se.conv_reduce.out_channels if hasattr(se, 'conv_reduce') else 0
        assert spec.se_channels == se_ch
        assert spec.residual == getattr(block, 'has_skip', False)
        if se_ch:
            theirs = type(se.act1).__name__.lower()
            assert type(layer.se.relu).__name__.lower().replace('hswish', 'hardswish') == theirs


def test_feature_info():
    model = MobileNetV3(arch='large', out_indices=(3, 'C4', 'C5'))
    assert model.feature_info == [dict(index=3, num_chs=24, reduction=4),
                                  dict(index='C4', num_chs=672, reduction=16),
                                  dict(index='C5', num_chs=960, reduction=32)]
    assert isinstance(model, TableNet)


@pytest.mark.parametrize('name,arch', ALL_ARCHS)
def test_features_only_stops_after_the_deepest_output(name, arch):
    """As timm's features_only / TF DeepLab's final_endpoint: rows after the deepest requested
    output are not built, and the outputs are the full network's."""
    cls = BACKBONES[name]
    full = _randomize_bn(cls(arch=arch, out_indices=('os8_dw', 'C4', 'C5'))).eval()
    c4_row = full.taps['C4'][0]
    trunk = cls(arch=arch, out_indices=('os8_dw', 'C4'), features_only=True).eval()
    assert len(trunk.layers) == c4_row + 1 < len(full.layers)
    assert trunk.out_channels == full.out_channels[:2]
    trunk.load_state_dict(full.state_dict(), strict=False)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(trunk(x), full(x)[:2]):
            torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match='rows built'):
        cls(arch=arch, out_indices=('C4',), features_only=True, frozen_stages=c4_row + 1)


def test_deeplab_v2_trunk_leaves_out_the_1280_conv():
    """Table 7's V2 rows stop at the last bottleneck: 320 x 1280 weights + BN fewer."""
    full = MobileNetV2(out_indices=(17, ))
    trunk = MobileNetV2(out_indices=(17, ), features_only=True)
    assert len(trunk.layers) == 18 and trunk.out_channels == [320]
    assert count_params(full) - count_params(trunk) == 320 * 1280 + 2 * 1280


@pytest.mark.parametrize('arch,width,rule,rf2,expected', [
    ('large', 1.0, 'tf', None, 1280), ('large', 0.75, 'tf', None, 1280),
    ('large', 1.25, 'tf', None, 1600), ('small', 0.35, 'tf', None, 1024),
    ('small', 1.0, 'tf', None, 1024), ('large', 0.75, 'torchvision', None, 960),
    ('small', 0.5, 'torchvision', None, 512), ('large', 1.0, 'tf', 'detection', 640)])
def test_classifier_head_width_rule(arch, width, rule, rf2, expected):
    """Section 5.1's head: widens above 1.0, never narrows ('tf': released TF models, timm);
    follows the multiplier under torchvision's rule; halves with RF2 (torchvision)."""
    model = MobileNetV3(arch=arch, widen_factor=width, width_rule=rule, reduced_tail=rf2)
    assert model.head_channels == expected
    assert MobileNetV2().head_channels == 0  # a single FC after pooling


def test_large_rw_head_has_no_hidden_bias_and_mmpretrains_head_is_refused():
    """timm's mobilenetv3_rw has no bias in the classifier's hidden conv: classifier_cfg builds
    the plugin's head without it; mmpretrain's StackedLinearClsHead (always a bias) is refused
    with the fix."""
    model = classifier(dict(type='mnv3_plugin.MobileNetV3', arch='large_rw'))
    ref = reference('timm:mobilenetv3_rw')
    assert (model.head.layers[0].fc.bias is None) == (ref.conv_head.bias is None)
    assert model.head.layers[-1].fc.bias is not None
    cfg = classifier_cfg(dict(type='mnv3_plugin.MobileNetV3', arch='large_rw'))
    cfg['head'] = dict(cfg['head'], type='StackedLinearClsHead')
    cfg['head'].pop('hidden_bias')
    with pytest.raises(ValueError, match="type='mnv3_plugin.StackedLinearClsHead'"):
        build_model(Config(dict(default_scope='mmpretrain', model=cfg)))
