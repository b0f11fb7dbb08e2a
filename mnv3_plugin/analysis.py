"""Parameter and multiply-add counts in the paper's convention, and latency in its protocol.

Multiply-adds (MAdds) count every convolution and fully connected layer, squeeze-and-excite
included: for a conv, output elements x (input channels / groups) x kernel area; for an FC layer,
output elements x input features. Activations, BN, pooling and the SE scaling are not counted
(the reference implementations' published figures count the same way: 216.6M for V3-Large).
"""
import copy
import statistics
import time
from typing import Callable, Dict, Optional, Sequence

import torch
from torch import nn

Forward = Callable[[nn.Module, torch.Tensor], object]


def count_params(model: nn.Module) -> int:
    """Number of parameters (BN running statistics are buffers and not counted)."""
    return sum(p.numel() for p in model.parameters())


def tensor_forward(model: nn.Module, x: torch.Tensor):
    """The network forward of an OpenMMLab model, without pre- or post-processing."""
    return model(x, mode='tensor')


def count_madds(model: nn.Module, input_shape: Sequence[int] = (1, 3, 224, 224),
                forward: Optional[Forward] = None) -> int:
    """Multiply-adds of one forward pass at ``input_shape`` (N, C, H, W; batch included).

    The model runs once in eval mode under ``torch.no_grad`` on a zero input on its own device
    (a model on the ``'meta'`` device is counted without computing anything).

    Args:
        model: any module.
        input_shape: shape of the input tensor.
        forward: how to call the model (default ``model(x)``); e.g. :func:`tensor_forward` for
            an OpenMMLab model.
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
    device = next(iter(model.parameters()), torch.zeros(())).device
    try:
        with torch.no_grad():
            x = torch.zeros(*input_shape, device=device)
            forward(model, x) if forward else model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return total


def config_complexity(cfg, input_size: Sequence[int],
                      num_classes: Optional[int] = None) -> Dict[str, int]:
    """Params and MAdds of a config's model (network forward, no pre/post-processing).

    The one counting function of the metafile, tools/analysis/complexity.py and the tests. The
    model is built on the ``'meta'`` device, so full-resolution counts cost no compute.

    Args:
        cfg: a config file or Config.
        input_size: (H, W) in pixels.
        num_classes: count with the head predicting this many classes (default: the config's).

    Returns:
        ``{'params': int, 'madds': int}``.
    """
    from .apis import build_model, load_config
    cfg = copy.deepcopy(load_config(cfg))
    if num_classes is not None:
        for key in ('head', 'bbox_head', 'decode_head'):
            if key in cfg.model:
                cfg.model[key].num_classes = num_classes
    model = build_model(cfg).to('meta')
    h, w = input_size
    return dict(params=count_params(model),
                madds=count_madds(model, (1, 3, h, w), tensor_forward))


def measure_latency(fn: Callable[[], object], warmup: int = 10, runs: int = 50,
                    threads: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds, in the paper's protocol (Section 6.1.2:
    single thread, batch 1; warm-up runs first, then the median of ``runs`` timed runs)."""
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


def interleaved_latency(fns: Dict[str, Callable[[], object]], rounds: int = 3,
                        warmup: int = 10, runs: int = 50, threads: int = 1) -> Dict[str, float]:
    """:func:`measure_latency` of several callables, interleaved over ``rounds`` so that drift
    of a shared machine hits them alike; the best round's median of each, in ms.

    The one timing loop of the benchmarks: compare the returned values as ratios.
    """
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(measure_latency(fn, warmup, runs, threads))
    return {name: min(samples) for name, samples in times.items()}
