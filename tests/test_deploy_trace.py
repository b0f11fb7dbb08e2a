"""Export-friendly models (issue 11, item 2): every config's network traces.

For every config in configs/{classification,detection,segmentation}/ (by glob, so a new config
is tested the moment it exists) the network forward that deployment exports
(``mnv3_plugin.deploy.model.NetworkForward``) must

- go through ``torch.fx.symbolic_trace``, and the traced graph must give the eager outputs at
  two input sizes (a graph that froze a shape-dependent Python value fails the second);
- go through ``torch.export``, and the exported program must give the eager outputs (dynamic
  height and width are tested per head in tests/test_deploy.py, at sizes on both sides of the
  LR-ASPP pool kernel).

Configs that build the same network (the resolution sweep of Table 3, the ``-test`` variants)
share one run: the check is keyed by the model dict.
"""
import functools
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

import mnv3_plugin  # noqa: F401
from mnv3_plugin.deploy.export import export_program
from mnv3_plugin.deploy.model import NetworkForward, build_from_config
from mnv3_plugin.models.seg.lraspp_head import clamped_avg_pool2d

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for task in ('classification', 'detection', 'segmentation')
                 for p in (ROOT / 'configs' / task).glob('*.py'))
# two sizes per task, small to keep the suite fast; the second differs in both sides
SIZES = dict(classification=((64, 64), (96, 64)), detection=((64, 64), (96, 128)),
             segmentation=((64, 64), (96, 128)))
ATOL = 1e-4


pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


def test_configs_found():
    assert len(CONFIGS) >= 50
    assert {p.parent.name for p in CONFIGS} == {'classification', 'detection', 'segmentation'}


@pytest.mark.parametrize('size,kernel,stride', [
    ((1, 1), (49, 49), (4, 5)), ((8, 16), (49, 49), (4, 5)), ((48, 200), (49, 49), (4, 5)),
    ((49, 49), (49, 49), (4, 5)), ((64, 128), (49, 49), (4, 5)), ((53, 60), (49, 49), (4, 5)),
    ((7, 3), (5, 2), (1, 1))])
def test_clamped_pool_is_the_clamped_kernel_pool(size, kernel, stride):
    """The traceable pool gives the numbers of avg_pool2d with the kernel clamped to the map."""
    x = torch.randn(2, 3, *size)
    clamped = tuple(min(k, s) for k, s in zip(kernel, size))
    torch.testing.assert_close(clamped_avg_pool2d(x, kernel, stride),
                               F.avg_pool2d(x, clamped, stride), rtol=1e-5, atol=1e-6)


@functools.lru_cache(maxsize=None)
def _trace_and_export(model_key: str, task: str, config: str):
    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    net = NetworkForward(build_from_config(cfg)).eval()
    (h1, w1), (h2, w2) = SIZES[task]
    x1, x2 = torch.randn(1, 3, h1, w1), torch.randn(1, 3, h2, w2)
    with torch.no_grad():
        eager = [net(x1), net(x2)]
        gm = torch.fx.symbolic_trace(net)
        traced = [gm(x1), gm(x2)]
        # static here (about 1 s per network); dynamic exports, checked at sizes on both sides
        # of the LR-ASPP pool kernel, are in tests/test_deploy.py
        ep = export_program(net, x1, dynamic=False)
        exported = [ep.module()(x1), None]
    return eager, traced, exported


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: f'{p.parent.name}/{p.stem}')
def test_fx_trace_and_export(config):
    cfg = Config.fromfile(str(config))
    key = json.dumps(cfg.model.to_dict(), sort_keys=True, default=str)
    eager, traced, exported = _trace_and_export(key, config.parent.name, str(config))
    for size, ref, fx_out, ep_out in zip(SIZES[config.parent.name], eager, traced, exported):
        ep_out = ep_out if ep_out is not None else [None] * len(ref)
        assert len(ref) == len(fx_out) == len(ep_out)
        for r, a, b in zip(ref, fx_out, ep_out):
            assert r.shape == a.shape, size
            torch.testing.assert_close(a, r, rtol=0, atol=ATOL, msg=f'fx at {size}')
            if b is not None:
                torch.testing.assert_close(b, r, rtol=0, atol=ATOL,
                                           msg=f'torch.export at {size}')
