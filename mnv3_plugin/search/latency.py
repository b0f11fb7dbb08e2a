"""Latency model for the search (Section 4): direct measurement and a per-block lookup table.

Direct measurement follows the paper's protocol (Section 6.1.2): one thread, batch 1, warm-up
runs, then the median of timed runs, on a *backend*:

- ``'torch'``: the plugin's deploy mode (BN folded into the convs, channels-last), eager;
- ``'onnxruntime'``: the module exported to ONNX (BN folded) by the deployment package's
  exporter and run by its ONNX Runtime CPU backend (:mod:`mnv3_plugin.deploy`);
- ``'openvino'``: the same ONNX file compiled by its OpenVINO CPU backend.

The runtimes are the deployment package's (``export_onnx``, ``OnnxRuntimeBackend``,
``OpenVINOBackend``), plugged in here through :func:`register_backend`; other backends plug in
the same way.

The lookup table is NetAdapt's (Yang et al., ECCV 2018, Section 4.2): the latency of each block,
keyed by the backend, the block's resolved spec and its input size, measured once on the target
(on a runtime backend: the block exported alone) and cached in a JSON file; a network's estimate
is the sum over its blocks plus its classifier. A proposal's latency is then a few dictionary
look-ups, and measuring a new width costs one block, not a network.
"""
import hashlib
import importlib.util
import json
import os
import os.path as osp
import platform
import tempfile
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import nn

CLOCKS = ('cpu', 'wall')

# backend name -> factory(module, example input, forward, threads) -> zero-argument callable
BACKENDS: Dict[str, Callable] = {}
# backend name -> the Python packages it needs (checked by get_backend, before any work)
REQUIRES: Dict[str, Tuple[str, ...]] = {}
# backends whose parts, timed alone, pass their input and output through the runtime's boundary
BOUNDARY: set = set()


def register_backend(name: str, requires: Sequence[str] = (), boundary: bool = False):
    """Registers a latency backend under ``name`` (decorator).

    The factory is called as ``factory(module, x, forward, threads)`` with an eval-mode module,
    an example input tensor of shape (1, C, H, W), ``forward(module, x)`` (how to call the
    module) and the number of intra-op threads; it returns a zero-argument callable that runs
    one inference, the thing that is timed. Export, compilation and session creation belong in
    the factory, not in the callable. ``requires`` names the Python packages it imports:
    :func:`get_backend` refuses the backend in one line when one is missing. ``boundary``: a
    module timed alone on this backend converts its input into the runtime and its output back
    (copies, layout reorders), which a block inside a network does not: the lookup table then
    measures that cost at each part's input and output shapes (:meth:`BlockLUT.boundary_ms`).
    """
    def wrap(factory: Callable) -> Callable:
        BACKENDS[name] = factory
        REQUIRES[name] = tuple(requires)
        if boundary:
            BOUNDARY.add(name)
        else:
            BOUNDARY.discard(name)
        return factory
    return wrap


@register_backend('torch')
def torch_deploy_backend(module: nn.Module, x: torch.Tensor,
                         forward: Callable[[nn.Module, torch.Tensor], object], threads: int = 1):
    """PyTorch in deploy mode: a copy of the module with BN folded into the preceding convs
    (``mnv3_plugin.deploy``'s ``deploy_copy``, mmcv's ``fuse_conv_bn``) and channels-last
    tensors. ``threads`` is applied by :func:`time_ms`."""
    from ..deploy.model import deploy_copy
    module = deploy_copy(module)
    module.to(memory_format=torch.channels_last)
    for m in module.modules():  # the plugin's backbones convert their input themselves
        if hasattr(m, 'channels_last'):
            m.channels_last = True
    x = x.contiguous(memory_format=torch.channels_last)
    return lambda: forward(module, x)


class _Exported(nn.Module):
    """``forward(module, x)`` as a module, the thing exported for a runtime backend."""

    def __init__(self, module: nn.Module, forward: Callable):
        super().__init__()
        self.module = module
        self.call = forward

    def forward(self, x: torch.Tensor):
        return self.call(self.module, x)


def _runtime_backend(name: str, runner_class: str) -> Callable:
    """A factory exporting the module alone to ONNX (BN folded, weights inside, the deployment
    package's ``export_onnx``) and loading it in ``mnv3_plugin.deploy.runtime.<runner_class>``.
    The file is removed once the runtime has loaded it."""

    def factory(module: nn.Module, x: torch.Tensor, forward: Callable, threads: int = 1):
        from ..deploy import runtime
        from ..deploy.export import export_onnx
        from ..deploy.model import deploy_copy
        net = _Exported(deploy_copy(module), forward).eval()
        with tempfile.TemporaryDirectory(prefix='mnv3_latency_') as tmp:
            path = osp.join(tmp, 'module.onnx')
            export_onnx(net, x, path)
            runner = getattr(runtime, runner_class)(path, threads)
        return lambda: runner(x)

    factory.__name__ = f'{name}_backend'
    factory.__doc__ = (f'{name}: the module exported alone to ONNX and run by '
                       f'mnv3_plugin.deploy.runtime.{runner_class}.')
    return factory


register_backend('onnxruntime', ('onnx', 'onnxscript', 'onnxruntime'), boundary=True)(
    _runtime_backend('onnxruntime', 'OnnxRuntimeBackend'))
register_backend('openvino', ('onnx', 'onnxscript', 'openvino'), boundary=True)(
    _runtime_backend('openvino', 'OpenVINOBackend'))


def get_backend(name: str) -> Callable:
    """The factory of a registered backend whose packages are installed.

    Raises:
        ValueError: (one line) the backend is not registered, or a package it needs is
            missing (install the deployment packages, ``requirements/deploy.txt``).
    """
    if name not in BACKENDS:
        raise ValueError(f'latency backend {name!r} is not available; choose one of '
                         f'{", ".join(sorted(BACKENDS))}')
    missing = [p for p in REQUIRES[name] if not _importable(p)]
    if missing:
        raise ValueError(f'latency backend {name!r} needs the Python package(s) '
                         f'{", ".join(missing)}, not installed; install them with '
                         f'`pip install -r requirements/deploy.txt` or use --backend torch')
    return BACKENDS[name]


def _importable(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # a package set to None in sys.modules: not importable
        return False


def _call(module, x):
    return module(x)


def time_ms(fn: Callable[[], object], warmup: int = 10, runs: int = 50, threads: int = 1,
            clock: str = 'cpu', flush_mb: float = 0) -> float:
    """Median time of ``fn()`` in ms, in the paper's protocol (Section 6.1.2: one thread,
    batch 1, warm-up runs, then the median of timed runs).

    Args:
        fn: one inference.
        warmup: untimed runs first.
        runs: timed runs.
        threads: torch intra-op threads during the measurement.
        clock: ``'cpu'``: the calling thread's CPU time (``time.thread_time``); with one thread
            the whole inference runs on the calling thread, so this is the time it takes on an
            idle core, even while other processes load the machine (they only inflate wall
            time). ``'wall'``: wall-clock time (``time.perf_counter``), as on a dedicated
            device; use it with several threads or a runtime that computes on its own threads.
        flush_mb: before each timed run, write a buffer of this many MiB (untimed), so the
            run starts with the caches holding other data, as a block inside a network does.

    Raises:
        ValueError: ``clock='cpu'`` with more than one thread, or an unknown clock.
    """
    import statistics
    import time
    if clock not in CLOCKS:
        raise ValueError(f'clock must be one of {CLOCKS}, got {clock!r}')
    if clock == 'cpu' and threads != 1:
        raise ValueError("clock='cpu' times the calling thread only: use it with threads=1, or "
                         "clock='wall'")
    now = time.thread_time if clock == 'cpu' else time.perf_counter
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                fn()
            times = []
            flush = torch.empty(int(flush_mb * 2 ** 18)) if flush_mb else None  # 4-byte floats
            for _ in range(runs):
                if flush is not None:
                    flush.fill_(1.0)
                start = now()
                fn()
                times.append((now() - start) * 1000)
    finally:
        torch.set_num_threads(previous)
    return statistics.median(times)


def classifier_forward(model, x):
    """The network forward of an OpenMMLab classifier (no pre- or post-processing)."""
    return model(x, mode='tensor')


def measure_module(module: nn.Module, input_shape: Sequence[int], backend: str = 'torch',
                   forward: Callable = _call, warmup: int = 10, runs: int = 50,
                   threads: int = 1, clock: str = 'cpu', flush_mb: float = 0) -> float:
    """Median latency of one module in ms (Section 6.1.2 protocol: 1 thread, batch 1).

    Args:
        module: any module; a deploy copy is timed, the module itself is not changed.
        input_shape: (1, C, H, W) of the input.
        backend: a registered backend name.
        forward: how to call the module.
        warmup: untimed runs first.
        runs: timed runs; the median is returned.
        threads: intra-op threads (the paper: 1).
        clock, flush_mb: see :func:`time_ms`.

    Returns:
        Latency in milliseconds.
    """
    x = torch.randn(*input_shape)
    fn = get_backend(backend)(module, x, forward, threads)
    return time_ms(fn, warmup=warmup, runs=runs, threads=threads, clock=clock,
                   flush_mb=flush_mb)


def measure_network(model: nn.Module, input_hw: Tuple[int, int], backend: str = 'torch',
                    warmup: int = 10, runs: int = 50, threads: int = 1,
                    repeats: int = 1, clock: str = 'cpu') -> float:
    """Direct measurement of a classifier's latency in ms at batch 1 (Section 6.1.2).

    Args:
        model: an mmpretrain ``ImageClassifier`` (its ``mode='tensor'`` forward is timed).
        input_hw: input (H, W), e.g. (224, 224).
        backend, warmup, runs, threads, clock: as :func:`measure_module`.
        repeats: measure this many times and return the smallest median: on a shared machine
            other processes only ever add time, in bursts longer than one median.
    """
    return min(measure_module(model, (1, 3, *input_hw), backend, classifier_forward, warmup,
                              runs, threads, clock) for _ in range(max(1, repeats)))


def measure_interleaved(models: Dict[str, nn.Module], input_hw: Tuple[int, int],
                        backend: str = 'torch', warmup: int = 10, runs: int = 50,
                        rounds: int = 3, threads: int = 1, clock: str = 'cpu') -> Dict[str, float]:
    """Direct latency of several classifiers, measured in turn over ``rounds`` rounds (ms).

    On a shared machine the load drifts; timing the networks one after another in every round
    puts them under the same load, and each keeps its smallest median (other processes only
    ever add time). The search's stopping rule and the benchmark's final table both use this,
    so a network found at or below a target by one is measured the same way by the other.

    Args:
        models: ``{name: classifier}`` (each timed as :func:`measure_network` does).
        input_hw, backend, warmup, runs, threads, clock: as :func:`measure_network`.
        rounds: rounds of measurements, each network once per round.

    Returns:
        ``{name: ms}``, the smallest of each network's ``rounds`` medians.
    """
    times: Dict[str, List[float]] = {name: [] for name in models}
    for _ in range(max(1, rounds)):
        for name, model in models.items():
            times[name].append(measure_network(model, input_hw, backend, warmup, runs, threads,
                                               1, clock))
    return {name: min(samples) for name, samples in times.items()}


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


class Part(NamedTuple):
    """One unit the lookup table times: its key, the module, its input and output shapes."""

    key: str
    module: nn.Module
    shape: tuple
    out_shape: tuple


def network_parts(model: nn.Module, input_hw: Tuple[int, int]) -> List[Part]:
    """Splits a classifier into the units the lookup table times.

    Returns:
        ``[Part(key, module, input shape, output shape)]``: one per backbone row (a
        ``TableNet`` layer) and one for neck + head (output (1, classes)). The key is readable
        (the row's resolved spec and input size) and ends in a digest of the module's ``repr``,
        so blocks that differ in anything (e.g. the activation implementation) never share an
        entry.

    Raises:
        ValueError: ``model`` is not a classifier with a table-driven backbone.
    """
    backbone = getattr(model, 'backbone', None)
    if not hasattr(backbone, 'specs') or not hasattr(model, 'head'):
        raise ValueError(f'the lookup table times classifiers with a table-driven backbone '
                         f'(mnv3_plugin.MobileNetV3, MobileNetV2, MnasNet...); got '
                         f'{type(model).__name__} with {type(backbone).__name__}')
    shapes: Dict[int, tuple] = {}

    def record(i):
        return lambda m, args, out: shapes.__setitem__(i, (tuple(args[0].shape),
                                                           tuple(out.shape)))

    hooks = [layer.register_forward_hook(record(i)) for i, layer in enumerate(backbone.layers)]
    tail = NeckHead(getattr(model, 'neck', None), model.head)
    try:
        with torch.no_grad():
            out = backbone.eval()(torch.zeros(1, 3, *input_hw))
            logits = tail.eval()(out[-1])
    finally:
        for h in hooks:
            h.remove()
    parts = []
    for i, (layer, spec) in enumerate(zip(backbone.layers, backbone.specs)):
        shape, out_shape = shapes[i]
        row = spec.row
        name = (f'{row.op} k{row.kernel} s{spec.stride} d{spec.dilation} '
                f'{spec.in_channels}>{spec.mid_channels}>{spec.out_channels} se{spec.se_channels} '
                f'{spec.row.nl} @{shape[2]}x{shape[3]}')
        parts.append(Part(_key(name, layer), layer, shape, out_shape))
    shape = tuple(out[-1].shape)
    parts.append(Part(_key(f'neck+head {shape[1]}@{shape[2]}x{shape[3]}', tail), tail, shape,
                      tuple(logits.shape)))
    return parts


def _key(name: str, module: nn.Module) -> str:
    return f'{name} #{hashlib.sha1(repr(module).encode()).hexdigest()[:10]}'


class BlockLUT:
    """NetAdapt's latency lookup table: per-block latencies, measured once, cached in JSON.

    An entry's key is the backend, then the part's key from :func:`network_parts` (resolved
    spec, input size, module digest): ``'onnxruntime | bneck k5 s2 d1 24>96>40 se24 HS @28x28
    #dffeb2a801'``. One file can hold the tables of several backends, each with its own
    calibration; on a runtime backend each block is exported and timed alone.

    Args:
        path: JSON file; read if it exists, written (atomically) by :meth:`save`. None keeps
            the table in memory.
        backend: a registered backend name (``torch``, ``onnxruntime``, ``openvino``).
        warmup, runs, threads, clock: the measurement protocol of each entry (see
            :func:`time_ms`).
        flush_mb: each timed run of a block starts after writing this many MiB, so that, as
            inside a network, the block's weights are not in the core's caches (timed alone and
            warm, the blocks of V3-Large summed to 27% less than the network on this
            machine's 1 MiB L2 / 32 MiB L3 CPU; after an 8 MiB flush, 6% less).
        repeats: each entry is the smallest of this many medians (as a network's
            ``repeats`` in :func:`measure_network`): on a loaded machine one median can catch a
            burst of cache contention (seen: one block's entry 37% above the same block with
            1% fewer channels), and an entry is measured once and used by every later
            proposal.

    Raises:
        ValueError: ``path`` holds a table measured with another thread count, clock, flush,
            torch or runtime version or on another machine type (delete it or use another
            path); the backend is unknown or its packages are missing.
    """

    def __init__(self, path: Optional[str] = None, backend: str = 'torch', warmup: int = 10,
                 runs: int = 50, threads: int = 1, clock: str = 'cpu', flush_mb: float = 8,
                 repeats: int = 1):
        get_backend(backend)
        self.path = path
        self.repeats = max(1, repeats)
        self.backend = backend
        self.warmup, self.runs, self.threads, self.clock = warmup, runs, threads, clock
        self.flush_mb = flush_mb
        self.meta = dict(threads=threads, clock=clock, flush_mb=flush_mb,
                         torch=torch.__version__, machine=platform.machine(),
                         processor=_cpu_name())
        self.versions = {backend: _backend_version(backend)}
        self.entries: Dict[str, float] = {}
        self.measured = 0  # entries measured by this instance (not read from the file)
        # per backend: direct ~= scale x (sum of entries) + offset_ms, see calibrate()
        self.calibrations: Dict[str, dict] = {}
        if path and os.path.isfile(path):
            with open(path) as f:
                data = json.load(f)
            theirs = data.get('meta', {})
            diff = {k: (theirs.get(k), v) for k, v in self.meta.items() if theirs.get(k) != v}
            version = data.get('versions', {}).get(backend)
            if version not in (None, self.versions[backend]):
                diff[backend] = (version, self.versions[backend])
            if diff:
                raise ValueError(f'latency table {path} was measured under other conditions '
                                 f'{diff}; delete it or pass another path')
            self.entries = {k: float(v) for k, v in data['entries'].items()}
            self.calibrations = data.get('calibrations', {})
            self.versions = {**data.get('versions', {}), **self.versions}

    @property
    def calibration(self) -> dict:
        """This backend's calibration: ``scale``, ``offset_ms``, ``networks`` (see
        :meth:`calibrate`); scale 1 until calibrated."""
        return self.calibrations.get(self.backend,
                                     dict(scale=1.0, offset_ms=0.0, networks=[]))

    def key(self, part_key: str) -> str:
        """The table's key of a part: the backend, then :func:`network_parts`' key."""
        return f'{self.backend} | {part_key}'

    def lookup(self, key: str, module: nn.Module, input_shape: Sequence[int]) -> float:
        """The entry for ``key`` (a :meth:`key`) in ms, measuring ``module`` at ``input_shape``
        on this backend if absent."""
        if key not in self.entries:
            self.entries[key] = min(
                measure_module(module, input_shape, self.backend, _call, self.warmup,
                               self.runs, self.threads, self.clock, self.flush_mb)
                for _ in range(self.repeats))
            self.measured += 1
        return self.entries[key]

    def call_ms(self) -> float:
        """The backend's fixed cost of one inference call, in ms: the entry of a 1x1 conv on a
        (1, 8, 8, 8) input (compute negligible). Each part timed alone pays it; a network pays
        it once. On OpenVINO here it is about 0.08 ms a call, as much as a small block's
        compute; on ONNX Runtime and torch about 0.02 ms.
        """
        key = self.key('call overhead: conv1x1 8>8 @8x8')
        return self.lookup(key, nn.Conv2d(8, 8, 1).eval(), (1, 8, 8, 8))

    def boundary_ms(self, shape: Sequence[int]) -> float:
        """What passing one tensor of ``shape`` into the backend and back costs a part timed
        alone, in ms, fixed call cost included.

        On a runtime (a backend registered with ``boundary=True``: ONNX Runtime, OpenVINO) a
        block exported alone receives its input from the caller and returns its output to it:
        copies, and reorders between the plain NCHW layout and the runtime's blocked one
        (nChw8c/16c). Inside a network neither happens. The entry is the latency of a 1x1
        depthwise conv at ``shape`` (a per-channel scale: one pass over the tensor, the
        least compute with an input and an output of that shape), measured like any entry;
        a part's boundary cost is the mean of its input's and its output's. Without it the
        sum over V3-Small's 14 parts on OpenVINO was 1.24x the network; with it 1.00x.
        On other backends (torch: tensors stay in PyTorch, already channels-last) it is
        :meth:`call_ms`.

        Args:
            shape: (1, C, H, W), or (1, C) for a head's output (taken as (1, C, 1, 1)).
        """
        if self.backend not in BOUNDARY:
            return self.call_ms()
        shape = tuple(shape) + (1,) * (4 - len(shape))
        channels, height, width = shape[1:]
        key = self.key(f'boundary: dwconv1x1 {channels}@{height}x{width}')
        probe = nn.Conv2d(channels, channels, 1, groups=channels).eval()
        return self.lookup(key, probe, shape)

    def network_ms(self, model: nn.Module, input_hw: Tuple[int, int],
                   calibrated: bool = False) -> float:
        """Estimated latency in ms of a classifier: the sum of its parts' entries (NetAdapt's
        estimate), each less its boundary cost (:meth:`boundary_ms`, mean of input and
        output), plus the network's own boundary cost once (its input's and its logits'); on
        torch that is the sum less the per-call overhead of all parts but one. With
        ``calibrated``, that through :meth:`calibrate`'s line."""
        parts = network_parts(model, input_hw)
        total = sum(self.lookup(self.key(p.key), p.module, p.shape)
                    - self._boundary(p.shape, p.out_shape) for p in parts)
        total += self._boundary(parts[0].shape, parts[-1].out_shape)
        if calibrated:
            total = self.calibration['scale'] * total + self.calibration['offset_ms']
        return total

    def _boundary(self, shape_in: Sequence[int], shape_out: Sequence[int]) -> float:
        return (self.boundary_ms(shape_in) + self.boundary_ms(shape_out)) / 2

    def calibrate(self, models: Sequence[Tuple[str, nn.Module]], input_hw: Tuple[int, int],
                  repeats: int = 3, direct: Optional[Dict[str, float]] = None) -> dict:
        """Fits direct ~= scale x :meth:`network_ms` on whole networks (``offset_ms`` stays 0).

        Blocks timed alone can run faster than inside a network (even after the flush, their
        weights may stay in the shared L3 cache; in a large network the other blocks evict
        them) and a runtime fuses across block boundaries: a remaining, roughly proportional
        gap. One line fitted on a few networks corrects that for others.

        Args:
            models: ``[(name, classifier)]``; the scale is their least-squares fit.
            input_hw: input size of the measurements.
            repeats: rounds of direct measurements, the networks measured in turn in each
                (:func:`measure_interleaved`; each keeps its smallest median).
            direct: ``{name: ms}`` measured by the caller (e.g. interleaved with the networks
                it reports, so that all share one load); measured here when None.

        Returns:
            The calibration (also kept and saved with the table): ``scale``, ``offset_ms`` and
            per network its name, direct and summed ms.

        Raises:
            KeyError: ``direct`` lacks one of the ``models``.
        """
        if direct is None:
            direct = measure_interleaved(dict(models), input_hw, self.backend, self.warmup,
                                         self.runs, repeats, self.threads, self.clock)
        points = [dict(name=name, input=list(input_hw), direct_ms=direct[name],
                       table_ms=self.network_ms(model, input_hw)) for name, model in models]
        # least squares through the origin: a free offset, fitted on a few noisy points of
        # similar size, extrapolates badly (tried: scale 2.4, offset -3.5 ms)
        xs = [p['table_ms'] for p in points]
        ys = [p['direct_ms'] for p in points]
        scale = sum(x * y for x, y in zip(xs, ys)) / sum(x * x for x in xs)
        self.calibrations[self.backend] = dict(scale=scale, offset_ms=0.0, networks=points)
        return self.calibration

    def breakdown(self, model: nn.Module,
                  input_hw: Tuple[int, int]) -> List[Tuple[str, float, float]]:
        """``[(part key, ms, boundary ms)]`` of a classifier, one per part (see
        :func:`network_parts`; identical blocks appear once per occurrence): its entry and the
        boundary cost :meth:`network_ms` subtracts from it."""
        return [(self.key(p.key), self.lookup(self.key(p.key), p.module, p.shape),
                 self._boundary(p.shape, p.out_shape))
                for p in network_parts(model, input_hw)]

    def save(self) -> None:
        """Writes the table to ``path`` (atomically: a failed write leaves the old file)."""
        if self.path:
            atomic_write_json(self.path, dict(meta=self.meta, versions=self.versions,
                                              entries=self.entries,
                                              calibrations=self.calibrations))


def write_atomically(path: str, write: Callable[[str], object]) -> None:
    """``write(tmp)`` into a temporary file next to ``path`` (its folder created), then renamed
    to ``path``: the file is the old one or the whole new one, and a failed or interrupted
    (Ctrl-C) write leaves no temporary file behind."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f'.tmp-{os.path.basename(path)}')
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write_json(path: str, data) -> None:
    """Writes JSON to ``path`` through a temporary file, so ``path`` is never half written."""
    def dump(tmp):
        with open(tmp, 'w') as f:
            json.dump(data, f, indent=1, sort_keys=True)
    write_atomically(path, dump)


def _backend_version(backend: str) -> str:
    """The version of the package a backend runs on (torch's is in every table's meta)."""
    if backend == 'torch':
        return torch.__version__
    try:
        from importlib.metadata import version
        return version(backend)
    except Exception:  # noqa: BLE001  (a backend registered by someone else)
        return 'unknown'


def _cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
