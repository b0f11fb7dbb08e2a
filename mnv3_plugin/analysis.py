"""Parameter and multiply-add counts in the paper's convention.

Multiply-adds (MAdds) count every convolution and fully connected layer, squeeze-and-excite
included: for a conv, output elements x (input channels / groups) x kernel area; for an FC layer,
output elements x input features. Activations, BN, pooling and the SE scaling are not counted
(the reference implementations' published figures count the same way: 216.6M for V3-Large).
"""
from typing import Callable, Optional, Sequence

import torch
from torch import nn


def count_params(model: nn.Module) -> int:
    """Number of parameters (BN running statistics are buffers and not counted)."""
    return sum(p.numel() for p in model.parameters())


def count_madds(model: nn.Module, input_shape: Sequence[int] = (1, 3, 224, 224),
                forward: Optional[Callable[[nn.Module, torch.Tensor], object]] = None) -> int:
    """Multiply-adds of one forward pass at ``input_shape`` (batch included).

    Args:
        model: any module; it is run once in eval mode under ``torch.no_grad``.
        input_shape: shape of the input tensor.
        forward: how to call the model (default ``model(x)``); e.g.
            ``lambda m, x: m(x, mode='tensor')`` for an OpenMMLab model.
    """
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += output.numel() * (module.in_channels // module.groups) * kh * kw
        else:
            total += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            x = torch.zeros(*input_shape)
            forward(model, x) if forward else model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return total


def measure_latency(fn: Callable[[], object], warmup: int = 10, runs: int = 50,
                    threads: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds, in the paper's protocol (Section 6.1.2:
    single thread, batch 1; warm-up runs first, then the median of ``runs`` timed runs)."""
    import statistics
    import time
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                fn()
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                fn()
                times.append((time.perf_counter() - start) * 1000)
    finally:
        torch.set_num_threads(previous)
    return statistics.median(times)


def build_model(cfg) -> nn.Module:
    """Builds ``cfg.model`` with the registry of the config's host (its ``default_scope``)."""
    import importlib

    from mmengine.registry import init_default_scope
    scope = cfg.get('default_scope', 'mmengine')
    init_default_scope(scope)
    registry = importlib.import_module(f'{scope}.registry').MODELS
    model_cfg = cfg.model.copy() if hasattr(cfg.model, 'copy') else dict(cfg.model)
    if 'data_preprocessor' not in model_cfg and cfg.get('data_preprocessor'):
        model_cfg['data_preprocessor'] = cfg.data_preprocessor
    from mmengine.model import revert_sync_batchnorm
    return revert_sync_batchnorm(registry.build(model_cfg)).eval()


def tensor_forward(model: nn.Module, x: torch.Tensor):
    """The network forward of an OpenMMLab model, without pre- or post-processing."""
    return model(x, mode='tensor')


def config_input_shapes(cfg, entry: Optional[dict] = None) -> dict:
    """{column name: (H, W)} at which a config's multiply-adds are reported.

    From the metafile entry's ``Ours.Input``: ``[H, W]`` (one ``MAdds`` column) or a mapping of
    MAdds column names to ``[H, W]``; else the config's ``img_size`` or 224.
    """
    from .metafile import MADDS_INPUTS
    ours = (entry or {}).get('Ours', {})
    spec = ours.get('Input')
    if isinstance(spec, dict):
        return {k: tuple(v) for k, v in spec.items()}
    if spec:
        return {'MAdds': tuple(spec)}
    fixed = {k: MADDS_INPUTS[k] for k in ours if k in MADDS_INPUTS}
    if fixed:
        return fixed
    size = cfg.get('img_size', 224)
    size = size if isinstance(size, (list, tuple)) else (size, size)
    return {'MAdds': tuple(size)}
