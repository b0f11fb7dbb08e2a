"""Output checks of an exported model against the PyTorch model (issue tolerances).

- raw outputs (logits, head maps): max absolute difference <= ``atol`` (1e-4);
- detections after decoding and NMS: every box of PyTorch's ``predict`` has a box of the same
  class in the runtime's result with IoU >= 0.99 and a score within 1e-4, and the other way
  round. A box may be missing from one side only when it sits on a cut-off (its score within
  the tolerance of the score threshold, or of the lowest score kept when ``max_per_img``
  boxes were kept), where a rounding difference legitimately decides.

A comparison catches an export error only if the error moves the outputs by more than the bound.
When the reference outputs hardly change from one image to another (weights right after
initialisation, an SSDLite whose scores are all below 1e-4), an error upstream of the last layer
cannot show, so the check passes whatever the exporter did: :func:`input_sensitivity` measures
the outputs' spread across the check images and a mean-colour image and turns a spread below
:data:`SPREAD_FACTOR` times the bound into a warning (one line, not an error).
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

LOGITS_ATOL = 1e-4
IOU_MIN = 0.99
SCORE_ATOL = 1e-4
# the reference outputs must spread over at least this many times the check's bound across the
# check images, or the check cannot tell a faithful export from a broken one (a warning)
SPREAD_FACTOR = 10


@dataclass
class CheckResult:
    """One check's outcome and the line the tools print.

    Attributes:
        ok: whether the check passed (a warning is ok).
        line: what the tools print after ``check OK`` / ``check FAIL`` / ``check WARN``.
        max_diff: the check's measure (max abs difference; for a warning the outputs' spread).
        details: further numbers (``scale``: the largest |output|; ``num``: boxes).
        warning: a caveat rather than a check: it passed, but says the check proves little.
    """
    ok: bool
    line: str
    max_diff: float = 0.0
    details: Dict[str, float] = field(default_factory=dict)
    warning: bool = False

    @property
    def status(self) -> str:
        """``'OK  '``, ``'FAIL'`` or ``'WARN'``: the word the tools print after ``check``."""
        if not self.ok:
            return 'FAIL'
        return 'WARN' if self.warning else 'OK  '

    def __str__(self) -> str:
        return f'check {self.status} {self.line}'


def output_spread(refs: Sequence[Sequence[torch.Tensor]]) -> float:
    """How much outputs vary across images: the largest, over outputs and their elements, of
    the max minus the min across the images.

    Args:
        refs: per image, its output tensors (the same count and shapes for every image).

    Returns:
        The spread (0.0 for fewer than two images).
    """
    if len(refs) < 2:
        return 0.0
    spread = 0.0
    for outs in zip(*refs):
        stacked = torch.stack([o.detach().float() for o in outs])
        if stacked.numel():
            spread = max(spread, (stacked.amax(0) - stacked.amin(0)).max().item())
    return spread


def input_sensitivity(net: Callable[[torch.Tensor], Sequence[torch.Tensor]],
                      inputs: Sequence[torch.Tensor], bound: float, what: str = 'outputs',
                      refs: Optional[Sequence[Sequence[torch.Tensor]]] = None,
                      factor: float = SPREAD_FACTOR) -> CheckResult:
    """Whether an output comparison with this ``bound`` can detect anything on ``inputs``.

    The reference outputs on the check images and on a mean-colour image (all zeros after
    normalisation; one per input size, so one check image is enough) are compared with each
    other; a spread of at most ``factor * bound`` makes a warning: the outputs barely depend
    on the input, so an export error upstream of them cannot exceed the bound.

    Args:
        net: the reference, (1, 3, H, W) -> output tensors.
        inputs: the check images, each (1, 3, H, W); several sizes allowed.
        bound: the comparison's bound on the max abs difference.
        what: the outputs' name for the line.
        refs: ``net``'s outputs on ``inputs`` when already computed (same order).
        factor: the least spread, in bounds, that is not a warning.

    Returns:
        A passing :class:`CheckResult`; ``warning`` is True and ``line`` the one-line warning
        when the spread is too small; ``max_diff`` is the spread (the largest over sizes).
    """
    groups: Dict[Tuple[int, ...], List[Sequence[torch.Tensor]]] = {}
    with torch.no_grad():
        for i, x in enumerate(inputs):
            groups.setdefault(tuple(x.shape[2:]), []).append(
                refs[i] if refs is not None else net(x))
        for size, outs in groups.items():
            outs.append(net(inputs[0].new_zeros((1, inputs[0].shape[1], *size))))
    spread = max(output_spread(outs) for outs in groups.values())
    if spread > factor * bound:
        return CheckResult(True, f'{what} spread {spread:.3g} across the check images',
                           spread, dict(spread=spread))
    line = (f'{what} vary by at most {spread:.2e} across the {len(inputs)} check image(s) and '
            f'a mean-colour image (under {factor:g}x the bound {bound:.1e}): they barely '
            'depend on the input (untrained weights?), so this comparison cannot detect an '
            'export error; check an export of trained weights')
    return CheckResult(True, line, spread, dict(spread=spread), warning=True)


def compare_outputs(ref: Sequence[torch.Tensor], got: Sequence[torch.Tensor],
                    atol: float = LOGITS_ATOL, what: str = 'outputs') -> CheckResult:
    """Max absolute difference of two output lists, shape by shape.

    Args:
        ref: reference tensors (PyTorch eval).
        got: tensors from the runtime, same order.
        atol: the bound on the max absolute difference.
        what: name of the outputs for the line.

    Returns:
        A :class:`CheckResult`; not ok on any shape mismatch or difference above ``atol``.
    """
    if len(ref) != len(got):
        return CheckResult(False, f'{what}: {len(got)} outputs, expected {len(ref)}', float('inf'))
    worst, scale = 0.0, 0.0
    for i, (r, g) in enumerate(zip(ref, got)):
        if tuple(r.shape) != tuple(g.shape):
            return CheckResult(False, f'{what}[{i}]: shape {tuple(g.shape)}, expected '
                               f'{tuple(r.shape)}', float('inf'))
        if r.numel():
            diff = (r.float() - g.float()).abs().max().item()
            if diff != diff:  # NaN
                diff = float('inf')
            worst = max(worst, diff)
            scale = max(scale, r.abs().max().item())
    ok = worst <= atol
    return CheckResult(ok, f'{what} max |diff| {worst:.2e} {"<=" if ok else ">"} {atol:.0e} '
                       f'(|{what}| up to {scale:.3g})', worst, dict(scale=scale))


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU matrix of (N, 4) and (M, 4) x1y1x2y2 boxes -> (N, M)."""
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).clamp(min=0).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(min=0).prod(-1)
    return inter / (area_a[:, None] + area_b[None] - inter).clamp(min=1e-9)


def _unmatched(src: Dict[str, torch.Tensor], dst: Dict[str, torch.Tensor], iou_min: float,
               score_atol: float) -> List[int]:
    """Indices of ``src`` boxes with no ``dst`` box of the same label, IoU >= iou_min and
    score within score_atol (greedy, highest score first, each dst box used once)."""
    if len(src['scores']) == 0:
        return []
    if len(dst['scores']) == 0:
        return list(range(len(src['scores'])))
    iou = box_iou(src['bboxes'].float(), dst['bboxes'].float())
    ok = ((src['labels'][:, None] == dst['labels'][None])
          & (iou >= iou_min)
          & ((src['scores'][:, None] - dst['scores'][None]).abs() <= score_atol))
    used = torch.zeros(len(dst['scores']), dtype=torch.bool)
    missing = []
    for i in torch.argsort(src['scores'], descending=True).tolist():
        cand = (ok[i] & ~used).nonzero().flatten()
        if len(cand):
            used[cand[iou[i, cand].argmax()]] = True
        else:
            missing.append(i)
    return missing


def compare_detections(ref: Dict[str, torch.Tensor], got: Dict[str, torch.Tensor],
                       score_thr: float = 0.0, max_per_img: Optional[int] = None,
                       iou_min: float = IOU_MIN, score_atol: float = SCORE_ATOL) -> CheckResult:
    """Matches the detections of the runtime against PyTorch's, both ways.

    Args:
        ref: PyTorch's ``bboxes`` (K, 4), ``scores`` (K,), ``labels`` (K,).
        got: the runtime's, same keys.
        score_thr: the head's score threshold (a box within ``score_atol`` of it may be
            missing on one side).
        max_per_img: the head's cap on boxes (when reached, a box within ``score_atol`` of the
            lowest kept score may be missing on one side).
        iou_min: least IoU of a matched pair.
        score_atol: largest score difference of a matched pair.

    Returns:
        A :class:`CheckResult` with the counts in its line.
    """
    def borderline(dets, idx):
        s = dets['scores'][idx].item()
        if abs(s - score_thr) <= score_atol:
            return True
        if max_per_img and len(dets['scores']) >= max_per_img:
            return s - dets['scores'].min().item() <= score_atol
        return False

    miss_ref = [i for i in _unmatched(ref, got, iou_min, score_atol) if not borderline(ref, i)]
    miss_got = [i for i in _unmatched(got, ref, iou_min, score_atol) if not borderline(got, i)]
    ok = not miss_ref and not miss_got
    line = (f'detections: {len(ref["scores"])} (PyTorch) vs {len(got["scores"])}, '
            f'{"all matched" if ok else f"{len(miss_ref)} + {len(miss_got)} unmatched"} '
            f'(same class, IoU >= {iou_min}, score within {score_atol:.0e})')
    return CheckResult(ok, line, details=dict(num=float(len(ref['scores']))))
