"""The search of Section 4 and the redesigns of Section 5 (issue 12).

Per-row width overrides, weight transfer, proposals, selection, the latency lookup table, the
platform-aware reward, Section 5's ablation configs, and the tools run as subprocesses.
"""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from mmengine.config import Config

import mnv3_plugin  # noqa: F401
from mnv3_plugin.models.backbones.mobilenet import MobileNetV3, resolve_layers
from mnv3_plugin.models.backbones.row_widths import (apply_row_widths, normalize_row_widths,
                                                     residual_groups, row_widths_of)
from mnv3_plugin.models.backbones.tables import V3_LARGE, V3_SMALL
from mnv3_plugin.search import pareto_front, rank, reward
from mnv3_plugin.search.latency import BlockLUT, network_parts
from mnv3_plugin.search.models import build_model, classifier_madds, count_params
from mnv3_plugin.search.netadapt import Proposal, generate_proposals, select, target_reached
from mnv3_plugin.search.transfer import channel_plan, transfer_weights

ROOT = Path(__file__).resolve().parents[1]
CLS = ROOT / 'configs' / 'classification'
LARGE = CLS / 'v3large_w100_r224_imagenet.py'
SMALL = CLS / 'v3small_w100_r224_imagenet.py'
PY = sys.executable
PARTIAL = 'netadapt_partial.json'


def run(args, timeout=600):
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env=env)


def ok(proc):
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def randomize_bn(model, seed=0):
    """Non-trivial BN statistics and affine parameters, so a slicing mistake shows."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
    return model


# -- per-row widths (item 1) ------------------------------------------------------------------
def test_residual_groups_follow_the_tables():
    large = resolve_layers(V3_LARGE)
    assert residual_groups(large) == [(0, 1), (2, 3), (4, 5, 6), (7, 8, 9, 10), (11, 12),
                                      (13, 14, 15), (16,)]
    small = resolve_layers(V3_SMALL)
    assert residual_groups(small) == [(0,), (1,), (2, 3), (4, 5, 6), (7, 8), (9, 10, 11), (12,)]


def test_row_widths_change_the_network_as_stated():
    seed = MobileNetV3('small')
    net = MobileNetV3('small', row_widths=dict(exp={4: 64}, out={7: 40, 8: 40}))
    s, n = seed.specs, net.specs
    assert (s[4].mid_channels, n[4].mid_channels) == (96, 64)
    assert (s[4].se_channels, n[4].se_channels) == (24, 16)  # 1/4 of the expansion (Sec. 5.3)
    assert [x.out_channels for x in n[7:9]] == [40, 40] and n[9].in_channels == 40
    assert n[9].mid_channels == s[9].mid_channels  # an expansion keeps its width
    assert net.layers[4].expand.conv.weight.shape == (64, 24, 1, 1)
    assert net.layers[9].expand.conv.weight.shape == (288, 40, 1, 1)
    assert net.layers[8].residual and not net.layers[7].residual
    out = net(torch.randn(1, 3, 64, 64))[0]
    assert out.shape == (1, 576, 2, 2)
    # widths read back from the specs; the list form is the same thing
    assert row_widths_of(n, s) == dict(exp={4: 64}, out={7: 40, 8: 40})
    as_list = dict(exp=[None] * 4 + [64] + [None] * 8,
                   out=[None] * 7 + [40, 40] + [None] * 4)
    assert apply_row_widths(s, as_list) == n
    # JSON writes row keys as strings
    widths = normalize_row_widths(dict(out={'7': 40, '-5': 40}), 13)
    assert widths == dict(exp={}, out={7: 40, 8: 40})


def test_row_widths_never_add_a_residual_or_drop_an_expansion():
    # row 11 of Table 1 (80 -> 112, stride 1) has no residual; at 80 wide it keeps none
    net = MobileNetV3('large', row_widths=dict(out={11: 80, 12: 80}))
    assert net.specs[11].in_channels == net.specs[11].out_channels == 80
    assert not net.layers[11].residual and net.layers[12].residual
    # the first bneck of Table 1 has no expansion conv; its depthwise follows the stem
    net = MobileNetV3('large', row_widths=dict(out={0: 8, 1: 8}))
    assert net.specs[1].mid_channels == 8 and net.layers[1].expand is None


@pytest.mark.parametrize('widths,words', [
    (dict(exp={4: 60}), ['row 4', 'multiple of 8', '(e.g. 56)']),
    (dict(exp={4: 0}), ['row 4', 'positive multiple of 8']),
    (dict(out={5: 48}), ['rows 4-6', 'share one bottleneck width', 'set all of them']),
    (dict(out={4: 48, 5: 48, 6: 40}), ['rows 4-6', 'one value']),
    (dict(exp={1: 24}), ['row 1', 'without expansion conv', 'row before it']),
    (dict(exp={0: 24}), ['row 0', 'conv2d row', 'no expansion layer', 'row_widths.out ({0: ']),
    (dict(exp={3: 24}), ['row 3', 'equal to its input width', 'removes its expansion conv']),
    (dict(out={13: 8}), ['row 13', 'out of range', '0..12']),
    (dict(width={2: 8}), ["unknown key(s) ['width']", "'exp'"]),
    (dict(out=[8, 8]), ['one entry per table row (13)', 'got 2']),
])
def test_row_widths_errors_say_what_to_do(widths, words):
    from mnv3_plugin.apis import ConfigError
    with pytest.raises(ValueError) as info:
        MobileNetV3('small', row_widths=widths)
    msg = str(info.value)
    assert '\n' not in msg and all(w in msg for w in words), msg
    assert isinstance(info.value, ConfigError)  # the tools print it as one line


def test_bad_row_widths_in_a_config_are_one_line_in_the_tools(tmp_path):
    path = tmp_path / 'bad.py'
    path.write_text(f"_base_ = {str(SMALL)!r}\n"
                    "model = dict(backbone=dict(row_widths=dict(out={7: 40})))\n")
    for tool in ('tools/analysis/complexity.py', 'tools/search/latency_table.py'):
        proc = run([PY, tool, path, '--shape', '32', '32'])
        err = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and err[-1].startswith('error: ') and 'Traceback' not in \
            proc.stderr and 'rows 7-8 share one bottleneck width' in err[-1], proc.stderr[-2000:]


def test_config_with_row_widths_dumps_reloads_and_builds(tmp_path):
    path = tmp_path / 'adapted.py'
    path.write_text(f"_base_ = {str(SMALL)!r}\n"
                    'model = dict(backbone=dict(row_widths=dict(\n'
                    '    exp={4: 64}, out={7: 40, 8: 40})))\n')
    cfg = Config.fromfile(str(path))
    cfg.dump(str(tmp_path / 'dumped.py'))  # what the Runner writes into its work dir
    again = Config.fromfile(str(tmp_path / 'dumped.py'))
    model = build_model(again)
    assert model.backbone.specs[4].mid_channels == 64
    assert count_params(model) < count_params(build_model(Config.fromfile(str(SMALL))))


# -- weight transfer (item 3) -----------------------------------------------------------------
@pytest.fixture(scope='module')
def small_cfg():
    return Config.fromfile(str(SMALL))


def test_transfer_without_removal_is_the_identity(small_cfg):
    torch.manual_seed(0)
    src = randomize_bn(build_model(small_cfg))
    dst = transfer_weights(src, build_model(small_cfg, row_widths={}))
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(src(x, mode='tensor'), dst(x, mode='tensor'))


def _kill_channels(conv_bn, channels):
    """Makes output channels of a conv+BN exactly zero: zero filters, BN mean and shift 0."""
    conv_bn.conv.weight.data[channels] = 0
    conv_bn.bn.running_mean[channels] = 0
    conv_bn.bn.bias.data[channels] = 0


def test_removing_dead_channels_keeps_the_outputs(small_cfg):
    """Channels that contribute nothing (zero filters) have the smallest norms, so they are the
    ones removed, and every dependent slice (BN, depthwise, SE, next layer's inputs, residual
    group) must line up for the outputs to stay equal."""
    torch.manual_seed(0)
    src = randomize_bn(build_model(small_cfg))
    layers = src.backbone.layers
    dead_mid = [3, 100, 7, 200, 31, 66, 121, 239]  # row 5: expansion 240 -> 232
    _kill_channels(layers[5].expand, dead_mid)
    dead_se = [0, 5, 9, 20, 33, 34, 50, 63]  # and its SE squeeze 64 -> 56
    layers[5].se.fc1.weight.data[dead_se] = 0
    layers[5].se.fc1.bias.data[dead_se] = 0
    dead_out = [1, 30, 33, 39, 2, 11, 12, 20]  # group (4, 5, 6): 40 -> 32 channels
    for row in (4, 5, 6):
        _kill_channels(layers[row].project, dead_out)
    widths = dict(exp={5: 232}, out={4: 32, 5: 32, 6: 32})
    dst_model = build_model(small_cfg, row_widths=widths)
    assert dst_model.backbone.specs[5].se_channels == 56
    plan = channel_plan(src.backbone, dst_model.backbone)
    assert sorted(set(range(40)) - set(plan[4]['out'].tolist())) == sorted(dead_out)
    assert all(torch.equal(plan[r]['out'], plan[4]['out']) for r in (5, 6))
    assert torch.equal(plan[7]['in'], plan[6]['out'])
    assert sorted(set(range(240)) - set(plan[5]['mid'].tolist())) == sorted(dead_mid)
    assert sorted(set(range(64)) - set(plan[5]['se'].tolist())) == dead_se
    dst = transfer_weights(src, dst_model)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(dst(x, mode='tensor'), src(x, mode='tensor'), rtol=1e-5,
                                   atol=1e-5)


def test_removal_keeps_the_highest_norm_filters(small_cfg):
    torch.manual_seed(1)
    src = build_model(small_cfg)
    dst = transfer_weights(src, build_model(small_cfg, row_widths=dict(exp={10: 512})))
    w = src.backbone.layers[10].expand.conv.weight
    norms = w.flatten(1).norm(dim=1)
    kept = norms.topk(512).indices.sort().values
    dropped = sorted(set(range(576)) - set(kept.tolist()))
    assert len(dropped) == 64 and norms[kept].min() >= norms[dropped].max()
    layer, old = dst.backbone.layers[10], src.backbone.layers[10]
    assert torch.equal(layer.expand.conv.weight, w[kept])
    assert torch.equal(layer.expand.bn.running_var, old.expand.bn.running_var[kept])
    assert torch.equal(layer.dw.conv.weight, old.dw.conv.weight[kept])
    assert torch.equal(layer.project.conv.weight, old.project.conv.weight[:, kept])
    se_keep = old.se.fc1.weight[:, kept].flatten(1).norm(dim=1).topk(128).indices.sort().values
    assert torch.equal(layer.se.fc1.weight, old.se.fc1.weight[se_keep][:, kept])
    assert torch.equal(layer.se.fc2.weight, old.se.fc2.weight[kept][:, se_keep])
    assert torch.equal(dst.head.layers[0].fc.weight, src.head.layers[0].fc.weight)


def test_transfer_refuses_growth(small_cfg):
    src = build_model(small_cfg, row_widths=dict(exp={4: 64}))
    with pytest.raises(ValueError, match='only removes channels'):
        transfer_weights(src, build_model(small_cfg))


# -- proposals and selection (item 3) ---------------------------------------------------------
def test_proposals_cut_delta_with_the_fewest_channels(small_cfg):
    base = build_model(small_cfg, row_widths={}).backbone.specs
    cache = {}

    def estimate(widths):  # a deterministic stand-in for latency: MAdds in millions at 224
        key = json.dumps(widths, sort_keys=True)
        if key not in cache:
            cache[key] = classifier_madds(build_model(small_cfg, row_widths=widths)) / 1e6
        return cache[key]

    current = {'exp': {}, 'out': {}}
    seed = estimate(current)
    delta = 0.01 * seed
    props = generate_proposals(base, current, estimate, seed, delta, frozen_rows=(12,))
    kinds = [(p.kind, p.rows) for p in props]
    assert [r for k, r in kinds if k == 'exp'] == [(i,) for i in range(2, 12)]
    assert [r for k, r in kinds if k == 'out'] == [(0,), (1,), (2, 3), (4, 5, 6), (7, 8),
                                                   (9, 10, 11)]
    assert not any(12 in r for _, r in kinds)
    for p in props:
        assert seed - p.lut_ms >= delta
        assert p.new % 8 == 0 and p.new < p.old
        assert all(p.row_widths[p.kind][r] == p.new for r in p.rows)
        if p.new + 8 < p.old:  # one channel group fewer would not have been enough
            wider = json.loads(json.dumps(p.row_widths))
            wider = {k: {int(r): c for r, c in v.items()} for k, v in wider.items()}
            wider[p.kind].update({r: p.new + 8 for r in p.rows})
            assert seed - estimate(wider) < delta
    assert [p.name for p in props][:3] == ['exp[2] 72->64', 'exp[3] 88->72', 'exp[4] 96->72']
    # a layer that cannot save delta even at 8 channels gives no proposal. With "latency" = the
    # sum of all widths and delta = 500 channels, only the 576-wide expansions can: 576 -> 72
    # (the largest multiple of 8 at most 576 - 500); a group of three 96-wide rows saves 264.

    def widths_sum(widths):
        return float(sum(s.mid_channels + s.out_channels for s in apply_row_widths(base, widths)))

    props = generate_proposals(base, current, widths_sum, widths_sum(current), 500,
                               frozen_rows=(12,))
    assert [p.name for p in props] == ['exp[10] 576->72', 'exp[11] 576->72']


def test_selection_by_ratio_and_by_accuracy():
    def prop(name, lut, acc):
        return Proposal('exp', (int(name),), 64, 56, {}, lut, acc)
    # previous step: 70% at 10 ms
    a, b, c = prop(1, 9.0, 69.0), prop(2, 8.0, 68.5), prop(3, 9.5, 68.0)
    # dAcc/|dLat|: a -1/1 = -1, b -1.5/2 = -0.75, c -2/0.5 = -4
    assert select([a, b, c], 70.0, 10.0, 'ratio') is b
    assert (a.score, b.score, c.score) == (-1.0, -0.75, -4.0)
    assert select([a, b, c], 70.0, 10.0, 'accuracy') is a  # the original NetAdapt
    d = prop(4, 7.0, 70.0)  # ties at dAcc = 0 go to the larger cut
    e = prop(5, 9.0, 70.0)
    assert select([e, d], 70.0, 10.0) is d
    with pytest.raises(ValueError, match='metric'):
        select([a], 70.0, 10.0, 'flops')


@pytest.mark.parametrize('lut_ms,measured_ms,margin,reached', [
    (7.9, 8.0, 0.0, True),      # both at or below 8 ms
    (8.1, 7.5, 0.0, False),     # the table above the target
    (7.5, 8.1, 0.0, False),     # the measurement above the target
    (7.9, 7.9, 0.02, False),    # 7.9 > 8 x 0.98 = 7.84: inside the margin
    (7.8, 7.84, 0.02, True),
])
def test_stopping_rule_needs_table_and_measurement_below_target_less_margin(
        lut_ms, measured_ms, margin, reached):
    assert target_reached(lut_ms, measured_ms, 8.0, margin) is reached
    # a table whose seed reads 0.9 x its measurement must read 0.9 x the target too
    assert target_reached(lut_ms * 0.9, measured_ms, 8.0, margin, 0.9) is reached
    assert not target_reached(lut_ms, measured_ms, 8.0, margin, 0.9) or lut_ms <= 7.2


def test_stop_margin_is_checked():
    with pytest.raises(ValueError, match=r'stop margin must be in \[0, 0.5\)'):
        target_reached(1.0, 1.0, 2.0, 0.6)


def test_interleaved_measurement_alternates_and_keeps_each_best(monkeypatch):
    """Each round times every network once, in turn; each keeps its smallest median."""
    from mnv3_plugin.search import latency
    calls = []
    medians = {'a': iter([3.0, 2.0, 4.0]), 'b': iter([5.0, 6.0, 1.5])}

    def fake(model, hw, *args, **kwargs):
        calls.append(model)
        return next(medians[model])
    monkeypatch.setattr(latency, 'measure_network', fake)
    assert latency.measure_interleaved({'a': 'a', 'b': 'b'}, (8, 8), rounds=3) == {
        'a': 2.0, 'b': 1.5}
    assert calls == ['a', 'b'] * 3


# -- latency lookup table (item 2) ------------------------------------------------------------
def test_lookup_table_entry_is_the_smallest_of_its_repeats(monkeypatch):
    from mnv3_plugin.search import latency
    medians = iter([0.5, 0.3, 0.4, 9.0])
    monkeypatch.setattr(latency, 'measure_module', lambda *a, **k: next(medians))
    lut = BlockLUT(None, repeats=3)
    assert lut.lookup('k', torch.nn.Identity(), (1, 1, 1, 1)) == 0.3
    assert lut.lookup('k', torch.nn.Identity(), (1, 1, 1, 1)) == 0.3  # cached, not re-measured
    assert next(medians) == 9.0


def test_parts_chain_shapes_and_runtime_boundaries_are_subtracted(small_cfg, monkeypatch):
    """On a runtime backend each part pays its input's and output's boundary (measured at
    their shapes); the network pays its own once. Fake timings make the sum checkable."""
    from mnv3_plugin.search import latency
    model = build_model(small_cfg)
    parts = network_parts(model, (64, 64))
    for a, b in zip(parts, parts[1:]):
        assert a.out_shape == b.shape  # each part's output is the next one's input
    assert parts[0].shape == (1, 3, 64, 64) and parts[-1].out_shape == (1, 1000)

    def fake(module, shape, *args, **kwargs):  # a probe: 1 ms per million elements, + 0.5
        if isinstance(module, torch.nn.Conv2d) and module.groups == module.in_channels > 1:
            return 0.5 + math.prod(shape) / 1e6
        return 10.0 if not isinstance(module, torch.nn.Conv2d) else 0.25  # part / call

    monkeypatch.setattr(latency, 'measure_module', fake)
    monkeypatch.setitem(latency.BACKENDS, 'fakert', latency.BACKENDS['torch'])
    monkeypatch.setitem(latency.REQUIRES, 'fakert', ())
    monkeypatch.setattr(latency, 'BOUNDARY', {'fakert'})

    def probe(shape):
        return 0.5 + math.prod(shape) / 1e6

    runtime = BlockLUT(None, backend='fakert')
    assert runtime.boundary_ms((1, 1000)) == probe((1, 1000, 1, 1))
    expected = sum(10.0 - (probe(p.shape) + probe(p.out_shape)) / 2 for p in parts) + (
        probe((1, 3, 64, 64)) + probe((1, 1000))) / 2
    assert runtime.network_ms(model, (64, 64)) == pytest.approx(expected)
    assert [b for _, _, b in runtime.breakdown(model, (64, 64))] == pytest.approx(
        [(probe(p.shape) + probe(p.out_shape)) / 2 for p in parts])
    eager = BlockLUT(None, backend='torch')  # no boundary: the call overhead, paid once
    assert eager.boundary_ms((1, 3, 64, 64)) == 0.25
    assert eager.network_ms(model, (64, 64)) == pytest.approx(10.0 * len(parts) -
                                                              0.25 * (len(parts) - 1))


def test_lookup_table_caches_sums_and_refuses_other_conditions(small_cfg, tmp_path):
    model = build_model(small_cfg)
    path = str(tmp_path / 'lut.json')
    lut = BlockLUT(path, runs=3, warmup=1)
    parts = network_parts(model, (64, 64))
    assert len(parts) == 13 + 1  # every row and the neck + head
    keys = [p.key for p in parts]
    # rows 5 and 6, and 10 and 11, of Table 2 are the same blocks at the same input: one entry
    assert keys[5] == keys[6] and keys[10] == keys[11] and len(set(keys)) == 12
    assert keys[4].startswith('bneck k5 s2 d1 24>96>40 se24 HS @8x8 #')
    total = lut.network_ms(model, (64, 64))
    # 12 blocks and the per-call overhead, paid once by the network, not by each of 14 parts
    assert lut.measured == 13 and total == pytest.approx(
        sum(lut.entries[lut.key(k)] for k in keys) - 13 * lut.call_ms())
    lut.network_ms(model, (64, 64))
    assert lut.measured == 13  # nothing measured twice
    narrower = build_model(small_cfg, row_widths=dict(exp={4: 64}))
    lut.network_ms(narrower, (64, 64))
    assert lut.measured == 14  # only the changed block
    lut.save()
    again = BlockLUT(path, runs=3, warmup=1)
    assert again.entries == lut.entries
    assert again.network_ms(model, (64, 64)) == pytest.approx(total) and again.measured == 0
    data = json.loads(Path(path).read_text())
    data['meta']['threads'] = 4
    Path(path).write_text(json.dumps(data))
    with pytest.raises(ValueError, match='measured under other conditions.*threads'):
        BlockLUT(path)
    with pytest.raises(ValueError, match="backend 'tensorrt' is not available"):
        BlockLUT(None, backend='tensorrt')


def tiny_block():
    """A conv-BN-h-swish block with non-trivial BN, on a (1, 8, 8, 8) input."""
    torch.manual_seed(0)
    block = torch.nn.Sequential(torch.nn.Conv2d(8, 16, 3, padding=1, bias=False),
                                torch.nn.BatchNorm2d(16), torch.nn.Hardswish())
    return randomize_bn(block).eval()


@pytest.mark.parametrize('backend', ['torch', 'onnxruntime', 'openvino'])
def test_backends_run_the_block_and_time_it(backend):
    """Each backend runs what the module computes (on a runtime: exported alone by
    mnv3_plugin.deploy, BN folded) and times it in positive ms."""
    from mnv3_plugin.search.latency import get_backend, measure_module
    block, x = tiny_block(), torch.randn(1, 8, 8, 8)
    out = get_backend(backend)(block, x, lambda m, t: m(t), 1)()
    out = out[0] if isinstance(out, (list, tuple)) else out
    with torch.no_grad():
        assert torch.allclose(out.float(), block(x), atol=1e-4)
    assert measure_module(block, (1, 8, 8, 8), backend, warmup=1, runs=3) > 0


def test_lookup_table_keys_include_the_backend(tmp_path):
    block, path = tiny_block(), str(tmp_path / 'lut.json')
    cpu = BlockLUT(path, 'torch', warmup=1, runs=3)
    ms = cpu.lookup(cpu.key('tiny'), block, (1, 8, 8, 8))
    cpu.save()
    ort = BlockLUT(path, 'onnxruntime', warmup=1, runs=3)  # the same file, another backend
    assert ort.key('tiny') != cpu.key('tiny') and ort.key('tiny').startswith('onnxruntime')
    assert ort.entries == {cpu.key('tiny'): ms}  # torch's entry is not onnxruntime's
    ort.lookup(ort.key('tiny'), block, (1, 8, 8, 8))
    assert ort.measured == 1
    ort.save()
    data = json.loads(Path(path).read_text())
    assert set(data['entries']) == {'torch | tiny', 'onnxruntime | tiny'}
    again = BlockLUT(path, 'torch')
    assert again.lookup(again.key('tiny'), block, (1, 8, 8, 8)) == ms and again.measured == 0
    data['versions']['onnxruntime'] = '0.1'  # measured with another runtime version
    Path(path).write_text(json.dumps(data))
    with pytest.raises(ValueError, match="other conditions.*onnxruntime"):
        BlockLUT(path, 'onnxruntime')


def test_a_missing_runtime_is_a_one_line_error(monkeypatch, tmp_path):
    from mnv3_plugin.search.latency import get_backend
    monkeypatch.setitem(sys.modules, 'openvino', None)  # import openvino now fails
    with pytest.raises(ValueError) as e:
        get_backend('openvino')
    assert "needs the Python package(s) openvino" in str(e.value)
    assert 'requirements/deploy.txt' in str(e.value) and '\n' not in str(e.value)
    hide = ("import runpy, sys; sys.modules['openvino'] = None; sys.argv = sys.argv[1:]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')")
    proc = run([PY, '-c', hide, 'tools/search/latency_table.py', SMALL, '--backend',
                'openvino', '--lut', tmp_path / 'lut.json'])
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "error: latency backend 'openvino' needs the Python package(s) openvino")
    assert not (tmp_path / 'lut.json').exists()


# -- reward (item 4) --------------------------------------------------------------------------
def test_reward_matches_hand_computed_values():
    assert reward(75.0, 80.0, 80.0) == 75.0
    # 2x the target: 2^-0.07 = 0.952638, 2^-0.15 = 0.901250
    assert reward(75.0, 160.0, 80.0) == pytest.approx(71.4479, abs=1e-4)
    assert reward(75.0, 160.0, 80.0, w=-0.15) == pytest.approx(67.5938, abs=1e-4)
    # half the target: 0.5^-0.07 = 1.049717
    assert reward(70.0, 40.0, 80.0) == pytest.approx(73.4802, abs=1e-4)
    with pytest.raises(ValueError):
        reward(70.0, 0.0, 80.0)
    models = [dict(name='a', acc=75.0, latency_ms=160.0), dict(name='b', acc=72.0, latency_ms=80.0),
              dict(name='c', acc=70.0, latency_ms=40.0), dict(name='d', acc=69.0, latency_ms=90.0)]
    assert [m['name'] for m in rank(models, 80.0)] == ['c', 'b', 'a', 'd']
    # w = -0.15 punishes latency more; at w = -0.01 accuracy wins
    assert [m['name'] for m in rank(models, 80.0, w=-0.01)][0] == 'a'
    assert pareto_front([(m['latency_ms'], m['acc']) for m in models]) == [2, 1, 0]


# -- Section 5 ablations (item 5) -------------------------------------------------------------
ABLATIONS = sorted(CLS / (e['Name'] + '.py') for e in yaml.safe_load(
    (CLS / 'metafile-section5.yml').read_text())['Models'])
SECTION5 = {e['Name']: e for e in yaml.safe_load(
    (CLS / 'metafile-section5.yml').read_text())['Models']}


@pytest.fixture(scope='module')
def large_counts():
    model = build_model(Config.fromfile(str(LARGE)))
    return count_params(model), classifier_madds(model)


def test_every_ablation_config_has_a_section5_entry():
    assert {p.stem for p in ABLATIONS} == set(SECTION5) and len(ABLATIONS) == 4
    for entry in SECTION5.values():
        assert entry['Paper']['Table'] == 'Section 5' and (ROOT / entry['Config']).is_file()


@pytest.mark.parametrize('path', ABLATIONS, ids=[p.stem for p in ABLATIONS])
def test_ablation_builds_and_differs_as_the_paper_says(path, large_counts):
    model = build_model(Config.fromfile(str(path)))
    params, madds = count_params(model), classifier_madds(model)
    entry = SECTION5[path.stem]
    ours, = entry['Ours']
    assert (ours['Params (M)'], ours['MAdds (M)'], ours['Input']) == (
        round(params / 1e6, 3), round(madds / 1e6, 1), [224, 224])
    d_params, d_madds = (params - large_counts[0]) / 1e6, (madds - large_counts[1]) / 1e6
    paper = entry['Paper']['Results']
    if 'MAdds saved by V3 (M)' in paper:
        # the variant costs what Section 5.1 says the redesign saves: ~30M and ~10M
        assert d_madds == pytest.approx(paper['MAdds saved by V3 (M)'], rel=0.2)
    else:  # Section 5.3: the large SE costs parameters, hardly any MAdds (1x1 pooled inputs)
        assert d_params < -0.5 and abs(d_madds) < 0.01 * large_counts[1] / 1e6
    with torch.no_grad():
        assert model(torch.randn(1, 3, 224, 224), mode='tensor').shape == (1, 1000)


@pytest.mark.parametrize('kwargs,words', [
    (dict(last_stage='mobile'), ["last_stage must be one of ('efficient', 'original')"]),
    (dict(stem=dict(channels=20)), ['stem.channels must be a positive multiple of 8', '20']),
    (dict(stem=dict(width=32)), ["stem: unknown key(s) ['width']"]),
    (dict(se_squeeze='half'), ['se_squeeze must be None or one of', "'expansion'", "'input'",
                               "'expansion_round'"]),
])
def test_redesign_arguments_are_checked(kwargs, words):
    with pytest.raises(ValueError) as info:
        MobileNetV3('large', **kwargs)
    assert '\n' not in str(info.value) and all(w in str(info.value) for w in words)


def test_original_last_stage_needs_a_head_width():
    from mnv3_plugin.models.backbones.mobilenet import MobileNetV2
    with pytest.raises(ValueError, match='needs a table ending in a bneck and a 1x1 conv2d'):
        MobileNetV2(last_stage='original')
    small = MobileNetV3('small', last_stage='original')
    assert [(s.row.op, s.in_channels, s.mid_channels, s.out_channels)
            for s in small.specs[-2:]] == [('bneck', 96, 576, 192), ('conv2d', 192, 192, 1024)]


def test_stem_ablation_uses_the_stated_nonlinearity():
    relu = build_model(Config.fromfile(str(CLS / 'v3large-stem32relu_w100_r224_imagenet.py')))
    swish = build_model(Config.fromfile(str(CLS / 'v3large-stem32swish_w100_r224_imagenet.py')))
    assert isinstance(relu.backbone.layers[0].act, torch.nn.ReLU)
    assert isinstance(swish.backbone.layers[0].act, torch.nn.SiLU)
    assert relu.backbone.layers[0].conv.out_channels == 32
    assert relu.backbone.layers[1].expand is None  # depthwise on the 32 stem channels
    orig = build_model(Config.fromfile(str(CLS / 'v3large-origstage_w100_r224_imagenet.py')))
    last = orig.backbone.specs[-2:]
    assert [(s.in_channels, s.mid_channels, s.out_channels) for s in last] == [
        (160, 960, 320), (320, 320, 1280)]


# -- the tools, as a user runs them (items 2-4) -----------------------------------------------
@pytest.fixture(scope='module')
def fixture_seed(tmp_path_factory, search_fixture):
    """V3-Small on fixture ImageNet at 32x32 (tests/conftest.py), and a seed checkpoint (a few
    iterations of its recipe: the short version of the benchmark)."""
    from mnv3_plugin.search.finetune import build_search_data, finetune
    tmp = tmp_path_factory.mktemp('search')
    _, cfg_path = search_fixture
    cfg = Config.fromfile(str(cfg_path))
    torch.manual_seed(0)
    model = build_model(cfg)
    model.init_weights()
    finetune(model, cfg, build_search_data(cfg, 0.2), iters=5)
    ckpt = tmp / 'seed.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    return cfg_path, ckpt


def test_netadapt_two_steps_resume_and_config(fixture_seed, tmp_path):
    cfg_path, ckpt = fixture_seed
    work = tmp_path / 'na'
    cmd = [PY, 'tools/search/netadapt.py', cfg_path, '--checkpoint', ckpt, '--target-ratio',
           '0.5', '--iters-per-proposal', '2', '--latency-shape', '128', '128', '--runs', '5',
           '--max-steps', '1', '--work-dir', work]
    out = ok(run(cmd))
    assert 'stopped at --max-steps 1 before the target (' in out
    log = json.loads((work / 'netadapt_log.json').read_text())
    assert len(log['steps']) == 1
    # resumed: step 1 is not redone, step 2 follows from its weights
    out = ok(run(cmd[:-3] + ['2', '--work-dir', work]))
    assert 'resuming the search' in out and 'after step 1' in out
    log = json.loads((work / 'netadapt_log.json').read_text())
    seed, steps = log['seed'], log['steps']
    assert [s['step'] for s in steps] == [1, 2]
    assert log['target_ms'] == pytest.approx(0.5 * seed['measured_ms'])
    prev = seed['lut_ms']
    for s in steps:
        kinds = {p['name'].split('[')[0] for p in s['proposals']}
        assert kinds == {'exp', 'out'}
        assert all(prev - p['lut_ms'] >= log['delta_ms'] - 1e-9 for p in s['proposals'])
        assert s['chosen'] in [p['name'] for p in s['proposals']]
        assert 0 <= s['acc'] <= 100 and (work / s['checkpoint']).is_file()
        prev = s['lut_ms']
    assert steps[-1]['params_m'] < seed['params_m']
    assert (work / 'trajectory.png').read_bytes()[:4] == b'\x89PNG'
    assert not (work / 'netadapt_partial.json').exists()
    # the adapted config inherits the seed, sets the chosen widths and builds
    adapted = Config.fromfile(str(work / log['adapted_config']))
    widths = adapted.model.backbone.row_widths
    assert {k: {int(r): c for r, c in v.items()} for k, v in steps[-1]['row_widths'].items()} \
        == {'exp': dict(widths.exp), 'out': dict(widths.out)}
    model = build_model(adapted)
    assert round(count_params(model) / 1e6, 4) == steps[-1]['params_m']
    # the same weights load into it
    from mmengine.runner import load_checkpoint
    load_checkpoint(model, str(work / steps[-1]['checkpoint']), strict=True, logger='silent')
    # another search in the same work dir is refused, without a traceback
    proc = run(cmd[:-3] + ['2', '--work-dir', work, '--metric', 'accuracy'])
    assert proc.returncode != 0 and \
        'other settings (--metric ratio there, accuracy here)' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_netadapt_resumes_inside_a_step(fixture_seed, tmp_path, monkeypatch):
    """Interrupted after two proposals, a second run reuses their scores and fine-tunes only
    the rest (and the chosen one again, when it was among the first two). Two, not more: the
    number of proposals at this tiny size depends on noisy block timings (5-12 seen)."""
    from mnv3_plugin.search import netadapt as na
    cfg_path, ckpt = fixture_seed
    settings = na.Settings(config=str(cfg_path), checkpoint=str(ckpt), target_ratio=0.5,
                           iters=1, latency_hw=(64, 64), runs=5)
    real, calls, DONE = na.finetune, [], 2

    def interrupted(*args, **kwargs):
        if len(calls) == DONE:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)

    def search():
        return na.NetAdapt(Config.fromfile(str(cfg_path)), settings, str(tmp_path), max_steps=1,
                           progress=False, log=lambda msg: None)

    monkeypatch.setattr(na, 'finetune', interrupted)
    with pytest.raises(KeyboardInterrupt):
        search().run()
    partial = json.loads((tmp_path / 'netadapt_partial.json').read_text())
    assert len(partial['proposals']) == DONE and not (tmp_path / 'step_1.pth').exists()
    counted = []
    monkeypatch.setattr(na, 'finetune', lambda *a, **k: counted.append(1) or real(*a, **k))
    state = search().run()
    step = state['steps'][0]
    first = [p['name'] for p in partial['proposals']]
    assert {p['name']: p['acc'] for p in step['proposals'] if p['name'] in first} == {
        p['name']: p['acc'] for p in partial['proposals']}
    assert len(counted) == len(step['proposals']) - DONE + (step['chosen'] in first)
    assert (tmp_path / 'step_1.pth').is_file() and not (tmp_path / PARTIAL).exists()


def test_netadapt_errors_are_one_line(fixture_seed, tmp_path):
    cfg_path, _ = fixture_seed
    proc = run([PY, 'tools/search/netadapt.py', cfg_path, '--checkpoint', tmp_path / 'no.pth',
                '--target-ratio', '0.8', '--work-dir', tmp_path])
    assert proc.returncode != 0 and "checkpoint" in proc.stderr and 'not found' in proc.stderr
    assert 'Traceback' not in proc.stderr
    proc = run([PY, 'tools/search/netadapt.py', cfg_path, '--checkpoint', tmp_path / 'no.pth',
                '--target-ratio', '1.5'])
    assert proc.returncode != 0 and '--target-ratio must be in (0, 1)' in proc.stderr
    assert not list(tmp_path.glob('*.json'))


def test_rank_reward_ranks_each_paper_row_once():
    """--table 3 ranks Table 3's eight networks (the paper's rows), not the recipe siblings
    listed beside a row (the same network, measured twice)."""
    import importlib.util
    from types import SimpleNamespace

    from mnv3_plugin import metafile
    spec = importlib.util.spec_from_file_location('rank_reward', 'tools/search/rank_reward.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    models = metafile.load_models()
    table3 = tool.select_configs(SimpleNamespace(table=['3'], figure=[], configs=[]), models)
    assert len(table3) == 8  # Table 3: V3-Large 1.0/0.75, MnasNet-A1, V2 1.0, V3-Small 1.0/0.75,
    # the small MnasNet, V2 0.35
    assert any(metafile.find(c, models) is not None and not metafile.is_row(
        metafile.find(c, models)) for e in models for c in [e['Config']]
        if str(e['Paper']['Table']) == '3')  # siblings exist beside the rows, and are left out
    assert all(metafile.is_row(metafile.find(c, models)) for c in table3)
    figure7 = [e['Config'] for e in metafile.by_table('Figure 7', models)]
    again = tool.select_configs(SimpleNamespace(table=[], figure=['7'], configs=figure7[:2]),
                                models)
    assert again == figure7  # a config given twice is ranked once


def test_rank_reward_tool_orders_by_reward(tmp_path):
    acc = tmp_path / 'acc.json'
    acc.write_text(json.dumps({'v3small_w100_r224_imagenet': 67.4,
                               'v3small_w050_r224_imagenet': 58.0}))
    out = ok(run([PY, 'tools/search/rank_reward.py', SMALL, CLS / 'v3small_w050_r224_imagenet.py',
                  LARGE, '--acc', acc, '--target-config', SMALL, '--w', '-0.15', '--runs', '3',
                  '--repeats', '2', '--out', tmp_path / 'f.png', '--json', tmp_path / 'r.json']))
    result = json.loads((tmp_path / 'r.json').read_text())
    ranking, target = result['ranking'], result['target_ms']
    assert len(ranking) == 3  # Large's top-1 (75.2) comes from the metafile
    for r in ranking:
        assert r['reward'] == pytest.approx(reward(r['acc'], r['latency_ms'], target, -0.15))
    assert [r['reward'] for r in ranking] == sorted((r['reward'] for r in ranking), reverse=True)
    assert (tmp_path / 'f.png').read_bytes()[:4] == b'\x89PNG'
    assert f'reward = top-1 x (latency / {target:.3f} ms)^-0.15' in out
    # the target config, also ranked, is measured once, with the others: its reward is exactly
    # its top-1
    small = next(r for r in ranking if r['name'] == 'v3small_w100_r224_imagenet')
    assert small['latency_ms'] == target and small['reward'] == pytest.approx(67.4)


def test_latency_table_tool_reports_the_error(tmp_path):
    lut = tmp_path / 'lut.json'
    # calibrated on another network (measured in the same rounds), with the breakdown
    out = ok(run([PY, 'tools/search/latency_table.py', SMALL, '--shape', '64', '64', '--runs',
                  '5', '--repeats', '2', '--lut', lut, '--calibrate-on',
                  str(SMALL).replace('w100', 'w075'), '--breakdown']))
    data = json.loads(lut.read_text())
    (point,) = data['calibrations']['torch']['networks']
    scale = data['calibrations']['torch']['scale']
    assert point['name'] == 'v3small_w075_r224_imagenet' and scale == pytest.approx(
        point['direct_ms'] / point['table_ms'])
    assert f'direct = {scale:.3f} x table' in out
    line = next(x for x in out.splitlines() if x.startswith('v3small_w100_r224_imagenet'))
    direct, table, error, calibrated, cal_error = map(lambda v: float(v.rstrip('%')),
                                                      line.split()[2:7])
    assert error == pytest.approx(100 * (table - direct) / direct, abs=0.2)
    assert calibrated == pytest.approx(scale * table, abs=2e-3)
    assert cal_error == pytest.approx(100 * (calibrated - direct) / direct, abs=0.2)
    parts = [x for x in out.splitlines() if ' torch | ' in x]
    assert len(parts) == 13 + 1  # every row and the neck + head
    keys = {x.split(None, 2)[2] for x in parts}
    assert len(keys) == 12 and keys <= set(data['entries'])  # identical blocks share an entry
    # on torch the boundary is the call overhead; the network pays it once
    call = data['entries']['torch | call overhead: conv1x1 8>8 @8x8']
    assert all(float(x.split()[1]) == pytest.approx(-call, abs=1e-3) for x in parts)
    assert sum(float(x.split()[0]) for x in parts) - 13 * call == pytest.approx(table, abs=0.02)


def test_fixture_parameters_make_a_harder_set_and_keep_the_default(tmp_path):
    """The benchmark's fixture: more classes crossing forms and colours, smaller shapes, more
    noise; the defaults write exactly what they wrote before the parameters existed."""
    from mnv3_plugin.testing import SHAPE_CLASSES, make_imagenet, shape_classes
    plain = make_imagenet(tmp_path / 'a', 8, 0, size=(32, 32), seed=1)
    explicit = make_imagenet(tmp_path / 'b', 8, 0, size=(32, 32), seed=1, num_classes=4,
                             scale=(0.2, 0.32), noise=6)
    assert plain.classes == explicit.classes == SHAPE_CLASSES == shape_classes(4)
    for f in sorted((tmp_path / 'a' / 'train').rglob('*.JPEG')):
        assert f.read_bytes() == (tmp_path / 'b' / f.relative_to(tmp_path / 'a')).read_bytes()
    hard = make_imagenet(tmp_path / 'c', 16, 0, size=(32, 32), num_classes=8,
                         scale=(0.16, 0.3), noise=12)
    assert hard.classes == shape_classes(8) == tuple(sorted(hard.classes))
    assert set(SHAPE_CLASSES) < set(hard.classes)
    forms = {c.split('_')[1] for c in hard.classes}
    colours = {c.split('_')[0] for c in hard.classes}
    assert len(forms) * len(colours) > len(hard.classes) >= max(len(forms), len(colours)) + 2
    lines = (tmp_path / 'c' / 'meta' / 'train.txt').read_text().splitlines()
    assert len(lines) == 16
    for line in lines:  # the label is the index of the folder's class in the (sorted) classes
        rel, label = line.split()
        assert hard.classes[int(label)] == rel.split('/')[0]
    with pytest.raises(ValueError, match='num_classes must be in 2..16'):
        make_imagenet(tmp_path / 'd', 4, 0, num_classes=17)
