"""Issue 13: reliability problems users reported against MobileNetV3 implementations.

Each test here failed before its fix: BN statistics under gradient checkpointing, checkpoints
that do not match the model, batch-1 training, input channels, and the width conventions of
torchvision and timm checkpoints.
"""

import pytest
import torch

import mnv3_plugin  # noqa: F401  (registers the plugin, applies the compat fixes)
from mnv3_plugin.models.backbones.mobilenet import MobileNetV3


# -- with_cp: the recompute must not update BN statistics a second time ---------------------
def _train_steps(model, steps=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for _ in range(steps):
        x = torch.randn(2, 3, 64, 64, generator=gen)
        loss = sum(o.square().mean() for o in model(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@pytest.mark.parametrize('arch', ['large', 'small'])
def test_with_cp_keeps_bn_statistics(arch):
    torch.manual_seed(0)
    plain = MobileNetV3(arch, widen_factor=0.5, out_indices=('C4', 'C5'))
    plain.init_weights()
    cp = MobileNetV3(arch, widen_factor=0.5, out_indices=('C4', 'C5'), with_cp=True)
    cp.load_state_dict(plain.state_dict())
    _train_steps(plain)
    _train_steps(cp)
    ref, got = plain.state_dict(), cp.state_dict()
    tracked = [k for k in ref if k.endswith('num_batches_tracked')]
    assert tracked and all(int(got[k]) == int(ref[k]) == 3 for k in tracked)
    for key in ref:
        torch.testing.assert_close(got[key], ref[key], rtol=1e-4, atol=1e-5, msg=key)
