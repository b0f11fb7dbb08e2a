"""Export to ONNX (torch's dynamo exporter, one self-contained file) and ``.pt2``
(``torch.export``), checked against PyTorch before anything is written.

:func:`export_checked` is what ``tools/deployment/export.py`` runs: it exports the BN-folded
network forward to a temporary file beside the output, loads it in the runtime (ONNX Runtime for
``.onnx``, ``torch.export.load`` for ``.pt2``), compares its outputs with the PyTorch eval
model's on real-format images (logits: max abs diff <= 1e-4; detector: the same boxes after
decoding and NMS), and only then renames it to the output path. A failed export or check
leaves no file behind. When the reference outputs barely vary across the check images (random or
untrained weights), the check cannot detect an export error: a ``check WARN`` line says so
(:func:`~mnv3_plugin.deploy.check.input_sensitivity`), and the report keeps it.
"""
import contextlib
import io
import os
import os.path as osp
import tempfile
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from .check import CheckResult, compare_detections, compare_outputs, input_sensitivity
from .errors import DeployError, require
from .model import NetworkForward, check_shape, deploy_copy, task_of
from .runtime import OnnxRuntimeBackend, TorchBackend, postprocess, torch_predict

FORMATS = ('onnx', 'pt2')
MIN_OPSET = 18
# Bounds of the dynamic height and width. torch.export specialises dimensions of size 1, and at
# 32 pixels or less the last (stride 32) feature map is 1x1: a dynamic graph starts at 33.
DYNAMIC_MIN, DYNAMIC_MAX = 33, 4096


@dataclass
class ExportReport:
    """What :func:`export_checked` did: the file written and every check it printed (the
    output checks, then a warning when the outputs barely depend on the input)."""
    path: str
    fmt: str
    checks: List[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def warnings(self) -> List[str]:
        """The warning lines (a passing check that proves little)."""
        return [c.line for c in self.checks if c.warning]


def _dynamic_shapes(dynamic: bool):
    if not dynamic:
        return None
    dim = torch.export.Dim
    return ({2: dim('height', min=DYNAMIC_MIN, max=DYNAMIC_MAX),
             3: dim('width', min=DYNAMIC_MIN, max=DYNAMIC_MAX)},)


def _dynamic_context(dynamic: bool):
    """Size-oblivious tracing for dynamic exports.

    torch.export specialises a traced size that equals 1 (``== 1`` / ``!= 1`` guards, e.g. in
    ``avg_pool2d``'s memory-format logic): the LR-ASPP gate pool has one output row below the
    kernel size and several above it, so a graph traced in one regime would be refused in the
    other. ``backed_size_oblivious`` makes such checks assume the general case instead of
    guarding; the outputs at every accepted size are then checked (``export_checked``, and
    tests/test_deploy*.py at sizes in both regimes).
    """
    if not dynamic:
        return contextlib.nullcontext()
    from torch.fx.experimental import _config
    return _config.patch(backed_size_oblivious=True)


def export_program(net: nn.Module, example: torch.Tensor, dynamic: bool = False):
    """``torch.export.export(net, (example,))``, height and width dynamic if asked.

    Args:
        net: maps (1, 3, H, W) to a tuple of tensors.
        example: (1, 3, H, W); with ``dynamic`` both sides must be in [33, 4096].
        dynamic: symbolic height and width.

    Returns:
        The ``torch.export.ExportedProgram``.

    Raises:
        DeployError: the model specialises on the input size under ``dynamic``, or export
            fails.
    """
    try:
        with _dynamic_context(dynamic), torch.no_grad():
            return torch.export.export(net, (example,), dynamic_shapes=_dynamic_shapes(dynamic))
    except Exception as e:  # noqa: BLE001
        if dynamic and ('onstraint' in str(e) or 'speciali' in str(e)):
            raise _refuse_dynamic(e) from None
        raise DeployError(f'torch.export failed: {type(e).__name__}: '
                          f'{str(e).strip().splitlines()[0] if str(e).strip() else ""}') from None


def _refuse_dynamic(e: Exception) -> DeployError:
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return DeployError(f'this model cannot be exported with --dynamic: tracing specialises it '
                       f'to the example size ({first}); export at a fixed --shape H W instead')


def export_onnx(net: nn.Module, example: torch.Tensor, path: str, dynamic: bool = False,
                opset: Optional[int] = None, output_names: Optional[Sequence[str]] = None) -> None:
    """Writes ``net`` to ``path`` with torch's dynamo ONNX exporter, weights inside the file.

    Args:
        net: maps a (1, 3, H, W) float32 tensor to a tuple of tensors.
        example: the example input (1, 3, H, W).
        path: the ``.onnx`` file to write.
        dynamic: height and width as symbolic dimensions (``height``, ``width``).
        opset: ONNX opset (>= 18); the exporter's default when None.
        output_names: names of the graph outputs.

    Raises:
        DeployError: onnx/onnxscript missing, opset < 18, the model specialises on the input
            size under ``dynamic``, or the exporter fails.
    """
    require('onnxscript', '--format onnx')
    onnx = require('onnx', '--format onnx')
    if opset is not None and opset < MIN_OPSET:
        raise DeployError(f'--opset {opset} is not supported: torch\'s ONNX exporter emits '
                          f'opset {MIN_OPSET} or newer')
    kwargs = dict(dynamo=True, external_data=False, input_names=['input'],
                  output_names=list(output_names) if output_names else None,
                  dynamic_shapes=_dynamic_shapes(dynamic), verbose=False)
    if opset is not None:
        kwargs['opset_version'] = opset
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log), \
                torch.no_grad(), _dynamic_context(dynamic):
            torch.onnx.export(net, (example,), path, **kwargs)
    except Exception as e:  # noqa: BLE001
        text = f'{e} {log.getvalue()}'
        if dynamic and ('onstraint' in text or 'speciali' in text or 'guard' in text):
            raise _refuse_dynamic(e) from None
        raise DeployError(f'the ONNX exporter failed: {type(e).__name__}: '
                          f'{str(e).strip().splitlines()[0] if str(e).strip() else ""}') from None
    if osp.exists(path + '.data'):
        raise DeployError(f'the exporter wrote external weights ({path}.data) although '
                          f'external_data=False was asked for')
    model = onnx.load(path)
    version = max((o.version for o in model.opset_import if o.domain in ('', 'ai.onnx')),
                  default=0)
    if version < MIN_OPSET:
        raise DeployError(f'the exported graph has opset {version}, below {MIN_OPSET}')


def export_pt2(net: nn.Module, example: torch.Tensor, path: str, dynamic: bool = False) -> None:
    """Writes ``torch.export.export(net, (example,))`` to ``path`` (``torch.export.save``).

    Raises:
        DeployError: the model specialises on the input size under ``dynamic``, or export fails.
    """
    torch.export.save(export_program(net, example, dynamic), path)


def load_exported(path: str, fmt: str, threads: int = 1):
    """The backend that checks a freshly written file: ONNX Runtime or ``torch.export.load``."""
    if fmt == 'onnx':
        return OnnxRuntimeBackend(path, threads)
    return TorchBackend(torch.export.load(path).module(), threads)


def check_backend(model: nn.Module, backend: Callable, inputs: Sequence[torch.Tensor],
                  runtime: str, atol: float = 1e-4) -> List[CheckResult]:
    """Compares a backend with the PyTorch eval model on ``inputs``.

    Args:
        model: the eval-mode OpenMMLab model (the reference; its BN is not folded).
        backend: maps a (1, 3, H, W) tensor to the list of raw outputs.
        inputs: network inputs, each (1, 3, H, W); several sizes allowed.
        runtime: the backend's name, for the lines.
        atol: bound on the raw outputs' max abs difference.

    Returns:
        Per input size: the raw-output check; for a detector also the detections check; last,
        a warning (``warning`` True) when the reference outputs barely vary across the images
        (:func:`~mnv3_plugin.deploy.check.input_sensitivity`).
    """
    ref_net = NetworkForward(model).eval()
    task = task_of(model)
    what = 'logits' if task != 'detector' else 'head maps'
    by_size: Dict[Tuple[int, int], List[torch.Tensor]] = {}
    for x in inputs:
        by_size.setdefault(tuple(x.shape[2:]), []).append(x)
    results, all_x, all_refs = [], [], []
    for size, xs in by_size.items():
        raw, dets = [], []
        for x in xs:
            with torch.no_grad():
                ref = ref_net(x)
            all_x.append(x)
            all_refs.append(ref)
            got = backend(x)
            raw.append(compare_outputs(ref, got, atol, what))
            if task == 'detector':
                test_cfg = model.bbox_head.test_cfg
                dets.append(compare_detections(
                    torch_predict(model, x), postprocess(model, got, size),
                    score_thr=test_cfg.get('score_thr', 0.0),
                    max_per_img=test_cfg.get('max_per_img')))
        worst = max(raw, key=lambda r: (not r.ok, r.max_diff))
        where = f'{runtime} vs PyTorch, {len(xs)} image(s) at {size[0]}x{size[1]}'
        results.append(CheckResult(worst.ok, f'{where}: {worst.line}', worst.max_diff,
                                   worst.details))
        for d in dets:
            results.append(CheckResult(d.ok, f'{where}: {d.line}', details=d.details))
    sensitivity = input_sensitivity(ref_net, all_x, atol, what, all_refs)
    if sensitivity.warning:
        results.append(sensitivity)
    return results


def export_checked(model: nn.Module, fmt: str, out: str, inputs: Sequence[torch.Tensor],
                   dynamic: bool = False, opset: Optional[int] = None,
                   log: Callable[[str], None] = print, atol: float = 1e-4) -> ExportReport:
    """Exports, checks, and only then writes ``out``.

    Args:
        model: eval-mode OpenMMLab model with its weights loaded.
        fmt: 'onnx' or 'pt2'.
        out: the output path.
        inputs: (1, 3, H, W) network inputs; the first one's size is the export size; with
            ``dynamic`` the others may have other sizes, each checked.
        dynamic: export height and width as dynamic dimensions.
        opset: ONNX opset (onnx only).
        log: where the check lines go (``check OK``, ``check FAIL``, ``check WARN``).
        atol: bound on the raw outputs' max abs difference (the issue's 1e-4 by default; a
            network with very large logits may need more: BN folding rounds in float32).

    Returns:
        An :class:`ExportReport` (``ok`` is True: otherwise it raises); its ``warnings`` say
        when the check could not detect an export error (outputs independent of the input).

    Raises:
        DeployError: an unsupported format, shape or ``dynamic``, an exporter failure, or a
            failed check (then nothing is written).
    """
    if fmt not in FORMATS:
        raise DeployError(f'unsupported format {fmt!r}; choose one of {", ".join(FORMATS)} '
                          f'(OpenVINO IR of an int8 model: tools/deployment/quantize.py)')
    example = inputs[0]
    check_shape(model, example.shape[2:], dynamic)
    if not dynamic and any(x.shape[2:] != example.shape[2:] for x in inputs):
        raise DeployError('check images of several sizes need --dynamic')
    if dynamic:
        outside = sorted({tuple(x.shape[2:]) for x in inputs
                          if not all(DYNAMIC_MIN <= side <= DYNAMIC_MAX for side in x.shape[2:])})
        if outside:
            h, w = outside[0]
            raise DeployError(f'{h}x{w} is outside the dynamic range: a --dynamic export takes '
                              f'sides from {DYNAMIC_MIN} to {DYNAMIC_MAX} (at {DYNAMIC_MIN - 1} '
                              'or less the stride-32 map is 1x1); export and check at sizes '
                              'within it')
    net = NetworkForward(deploy_copy(model)).eval()
    out = osp.abspath(out)
    os.makedirs(osp.dirname(out), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(out)}.', suffix=f'.partial.{fmt}',
                               dir=osp.dirname(out))
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; the output gets the usual mode
    try:
        if fmt == 'onnx':
            export_onnx(net, example, tmp, dynamic, opset, net.output_names())
        else:
            export_pt2(net, example, tmp, dynamic)
        runtime = 'onnxruntime' if fmt == 'onnx' else 'torch.export'
        backend = load_exported(tmp, fmt)
        report = ExportReport(out, fmt)
        for res in check_backend(model, backend, inputs, runtime, atol):
            report.checks.append(res)
            log(str(res))
        if not report.ok:
            raise DeployError(f'the exported model\'s outputs differ from PyTorch\'s by more than '
                              f'{atol:g} (see the check lines); nothing written to {out}. If '
                              'the difference is float32 rounding of large outputs (about 1e-5 '
                              'of |logits|), raise the bound with --atol')
        os.replace(tmp, out)
        return report
    finally:
        for p in (tmp, tmp + '.data'):
            if osp.exists(p):
                os.remove(p)
