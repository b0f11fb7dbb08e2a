"""Every config states only its difference: one edit of ``widen_factor`` builds a consistent model.

The task models wire every width from the backbone (classifier heads, segmentation heads, SSDLite
neck and head), so no config holds a hand-computed channel count. Checked for every config at
two widths other than its own, on the meta device (shapes only, no compute).
"""
import copy
import re
from pathlib import Path

import pytest
import torch

from mnv3_plugin import metafile
from mnv3_plugin.analysis import count_params, tensor_forward
from mnv3_plugin.apis import build_model, load_config

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = metafile.load_models()
OTHER_WIDTHS = (0.6, 1.3)


@pytest.mark.parametrize('entry', ENTRIES, ids=[e['Name'] for e in ENTRIES])
def test_width_is_one_edit(entry):
    cfg = load_config(str(ROOT / entry['Config']))
    own = cfg.model.backbone.get('widen_factor', 1.0)
    h, w = entry['Ours'][0]['Input']
    params = {}
    for width in (own, *OTHER_WIDTHS):
        variant = copy.deepcopy(cfg)
        variant.model.backbone.widen_factor = width
        model = build_model(variant).to('meta')
        assert model.backbone.widen_factor == width
        with torch.no_grad():
            out = tensor_forward(model, torch.zeros(1, 3, h, w, device='meta'))
        assert out is not None
        params[width] = count_params(model)
    by_width = [params[width] for width in sorted(params)]
    assert by_width == sorted(set(by_width)), params  # wider is strictly larger


def test_no_config_states_a_channel_count():
    """The width keys the task models wire are absent from every config file."""
    wired = re.compile(r'\b(in_channels|mid_channels)\s*=')
    for path in sorted((ROOT / 'configs').rglob('*.py')):
        code = [line.split('#')[0] for line in path.read_text().splitlines()]
        assert not [line for line in code if wired.search(line)], path
