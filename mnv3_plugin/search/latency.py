"""Latency model for the search (Section 4): direct measurement and a per-block lookup table.

Direct measurement follows the paper's protocol (Section 6.1.2): one thread, batch 1, warm-up
runs, then the median of timed runs, on a *backend*: ``'torch'`` is the plugin's deploy mode (BN
folded into the convs, channels-last). Other backends (ONNX Runtime, OpenVINO) plug in through
:func:`register_backend`; the deployment package ``mnv3_plugin.deploy`` registers them when it
provides them.

The lookup table is NetAdapt's (Yang et al., ECCV 2018, Section 4.2): the latency of each block,
keyed by the block's resolved spec and its input size, measured once on the target and cached in
a JSON file; a network's estimate is the sum over its blocks plus its classifier. A proposal's
latency is then a few dictionary look-ups, and measuring a new width costs one block, not a
network.
"""
import copy
import hashlib
import json
import os
import platform
import tempfile
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from .models import measure_latency

# backend name -> factory(module, example input, forward) -> zero-argument callable to time
BACKENDS: Dict[str, Callable] = {}


def register_backend(name: str):
    """Registers a latency backend under ``name`` (decorator).

    The factory is called as ``factory(module, x, forward)`` with an eval-mode module, an example
    input tensor of shape (1, C, H, W) and ``forward(module, x)`` (how to call the module); it
    returns a zero-argument callable that runs one inference, the thing that is timed. Export,
    compilation and session creation belong in the factory, not in the callable.
    """
    def wrap(factory: Callable) -> Callable:
        BACKENDS[name] = factory
        return factory
    return wrap


@register_backend('torch')
def torch_deploy_backend(module: nn.Module, x: torch.Tensor,
                         forward: Callable[[nn.Module, torch.Tensor], object]):
    """PyTorch in deploy mode: a copy of the module with BN folded into the preceding convs
    (mmcv's ``fuse_conv_bn``, what ``switch_to_deploy`` does) and channels-last tensors."""
    from mmcv.cnn import fuse_conv_bn
    module = fuse_conv_bn(copy.deepcopy(module).eval())
    module.to(memory_format=torch.channels_last)
    for m in module.modules():  # the plugin's backbones convert their input themselves
        if hasattr(m, 'channels_last'):
            m.channels_last = True
    x = x.contiguous(memory_format=torch.channels_last)
    return lambda: forward(module, x)


def get_backend(name: str) -> Callable:
    """The factory of a registered backend.

    Raises:
        ValueError: the backend is not registered (after trying ``mnv3_plugin.deploy``, which
            registers the ONNX Runtime and OpenVINO backends where it provides them).
    """
    if name not in BACKENDS:
        try:  # the deployment package registers its runtimes on import
            import importlib
            importlib.import_module('mnv3_plugin.deploy')
        except ImportError:
            pass
    if name not in BACKENDS:
        raise ValueError(f'latency backend {name!r} is not available; available: '
                         f'{sorted(BACKENDS)} (ONNX Runtime/OpenVINO come with mnv3_plugin.deploy)')
    return BACKENDS[name]


def _call(module, x):
    return module(x)


def classifier_forward(model, x):
    """The network forward of an OpenMMLab classifier (no pre- or post-processing)."""
    return model(x, mode='tensor')


def measure_module(module: nn.Module, input_shape: Sequence[int], backend: str = 'torch',
                   forward: Callable = _call, warmup: int = 10, runs: int = 50,
                   threads: int = 1) -> float:
    """Median latency of one module in ms (Section 6.1.2 protocol: 1 thread, batch 1).

    Args:
        module: any module; a deploy copy is timed, the module itself is not changed.
        input_shape: (1, C, H, W) of the input.
        backend: a registered backend name.
        forward: how to call the module.
        warmup: untimed runs first.
        runs: timed runs; the median is returned.
        threads: intra-op threads (the paper: 1).

    Returns:
        Latency in milliseconds.
    """
    x = torch.randn(*input_shape)
    fn = get_backend(backend)(module, x, forward)
    return measure_latency(fn, warmup=warmup, runs=runs, threads=threads)


def measure_network(model: nn.Module, input_hw: Tuple[int, int], backend: str = 'torch',
                    warmup: int = 10, runs: int = 50, threads: int = 1) -> float:
    """Direct measurement of a classifier's latency in ms at batch 1 (Section 6.1.2).

    Args:
        model: an mmpretrain ``ImageClassifier`` (its ``mode='tensor'`` forward is timed).
        input_hw: input (H, W), e.g. (224, 224).
        backend, warmup, runs, threads: as :func:`measure_module`.
    """
    return measure_module(model, (1, 3, *input_hw), backend, classifier_forward, warmup, runs,
                          threads)


class NeckHead(nn.Module):
    """The part of a classifier after its backbone, as one timed unit: neck, then head."""

    def __init__(self, neck: Optional[nn.Module], head: nn.Module):
        super().__init__()
        self.neck = neck
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = (x,)
        if self.neck is not None:
            feats = self.neck(feats)
        return self.head(feats)


def network_parts(model: nn.Module, input_hw: Tuple[int, int]) -> List[Tuple[str, nn.Module,
                                                                              tuple]]:
    """Splits a classifier into the units the lookup table times.

    Returns:
        ``[(key, module, input shape)]``: one entry per backbone row (a ``TableNet`` layer) and
        one for neck + head. The key is readable (the row's resolved spec and input size) and
        ends in a digest of the module's ``repr``, so blocks that differ in anything (e.g. the
        activation implementation) never share an entry.
    """
    backbone = model.backbone
    shapes: Dict[int, tuple] = {}
    hooks = [layer.register_forward_pre_hook(
        lambda m, args, i=i: shapes.__setitem__(i, tuple(args[0].shape)))
        for i, layer in enumerate(backbone.layers)]
    try:
        with torch.no_grad():
            out = backbone.eval()(torch.zeros(1, 3, *input_hw))
    finally:
        for h in hooks:
            h.remove()
    parts = []
    for i, (layer, spec) in enumerate(zip(backbone.layers, backbone.specs)):
        shape = shapes[i]
        row = spec.row
        name = (f'{row.op} k{row.kernel} s{spec.stride} d{spec.dilation} '
                f'{spec.in_channels}>{spec.mid_channels}>{spec.out_channels} se{spec.se_channels} '
                f'{spec.nl} @{shape[2]}x{shape[3]}')
        parts.append((_key(name, layer), layer, shape))
    tail = NeckHead(getattr(model, 'neck', None), model.head)
    shape = tuple(out[-1].shape)
    parts.append((_key(f'neck+head {shape[1]}@{shape[2]}x{shape[3]}', tail), tail, shape))
    return parts


def _key(name: str, module: nn.Module) -> str:
    return f'{name} #{hashlib.sha1(repr(module).encode()).hexdigest()[:10]}'


class BlockLUT:
    """NetAdapt's latency lookup table: per-block latencies, measured once, cached in JSON.

    Args:
        path: JSON file; read if it exists, written (atomically) by :meth:`save`. None keeps
            the table in memory.
        backend: a registered backend name.
        warmup, runs, threads: the measurement protocol of each entry.

    Raises:
        ValueError: ``path`` holds a table measured with another backend, thread count or on
            another machine type (delete it or use another path).
    """

    def __init__(self, path: Optional[str] = None, backend: str = 'torch', warmup: int = 10,
                 runs: int = 50, threads: int = 1):
        get_backend(backend)
        self.path = path
        self.backend = backend
        self.warmup, self.runs, self.threads = warmup, runs, threads
        self.meta = dict(backend=backend, threads=threads, torch=torch.__version__,
                         machine=platform.machine(), processor=_cpu_name())
        self.entries: Dict[str, float] = {}
        self.measured = 0  # entries measured by this instance (not read from the file)
        if path and os.path.isfile(path):
            with open(path) as f:
                data = json.load(f)
            theirs = data.get('meta', {})
            diff = {k: (theirs.get(k), v) for k, v in self.meta.items() if theirs.get(k) != v}
            if diff:
                raise ValueError(f'latency table {path} was measured under other conditions '
                                 f'{diff}; delete it or pass another path')
            self.entries = {k: float(v) for k, v in data['entries'].items()}

    def lookup(self, key: str, module: nn.Module, input_shape: Sequence[int]) -> float:
        """The entry for ``key`` in ms, measuring ``module`` at ``input_shape`` if absent."""
        if key not in self.entries:
            self.entries[key] = measure_module(module, input_shape, self.backend, _call,
                                               self.warmup, self.runs, self.threads)
            self.measured += 1
        return self.entries[key]

    def network_ms(self, model: nn.Module, input_hw: Tuple[int, int]) -> float:
        """Estimated latency in ms of a classifier: the sum of its blocks' and head's entries."""
        return sum(ms for _, ms in self.breakdown(model, input_hw))

    def breakdown(self, model: nn.Module, input_hw: Tuple[int, int]) -> List[Tuple[str, float]]:
        """``[(part key, ms)]`` of a classifier, one per part (see :func:`network_parts`);
        identical blocks appear once per occurrence."""
        return [(key, self.lookup(key, module, shape))
                for key, module, shape in network_parts(model, input_hw)]

    def save(self) -> None:
        """Writes the table to ``path`` (atomically: a failed write leaves the old file)."""
        if self.path:
            atomic_write_json(self.path, dict(meta=self.meta, entries=self.entries))


def atomic_write_json(path: str, data) -> None:
    """Writes JSON to ``path`` through a temporary file, so ``path`` is never half written."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp-', suffix='.json')
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
