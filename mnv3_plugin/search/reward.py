"""The platform-aware reward of Section 4.1 (MnasNet's multi-objective reward).

    reward(m) = ACC(m) x [LAT(m) / TAR]^w

w = -0.07 is MnasNet's (Tan et al. 2019, Section 3: its soft constraint, "2x latency is worth
about +5% relative accuracy"); Section 4.1 uses w = -0.15 for MobileNetV3-Small, because
accuracy changes much faster with latency for small models.
"""
from typing import Dict, List, Sequence, Tuple

W_MNASNET = -0.07
W_V3_SMALL = -0.15


def reward(acc: float, latency_ms: float, target_ms: float, w: float = W_MNASNET) -> float:
    """ACC(m) x [LAT(m)/TAR]^w (Section 4.1).

    Args:
        acc: accuracy of the model (any unit; the reward has the same unit), e.g. 75.2 (%).
        latency_ms: its latency LAT(m), ms.
        target_ms: the target TAR, ms.
        w: the weight factor, negative (-0.07 MnasNet, -0.15 MobileNetV3-Small).

    Returns:
        The reward: ``acc`` at the target, more below it, less above it.

    Raises:
        ValueError: a latency or target that is not positive.
    """
    if latency_ms <= 0 or target_ms <= 0:
        raise ValueError(f'latency and target must be positive ms, got {latency_ms}, {target_ms}')
    return acc * (latency_ms / target_ms) ** w


def rank(models: Sequence[Dict], target_ms: float, w: float = W_MNASNET) -> List[Dict]:
    """Models sorted by reward, best first.

    Args:
        models: dicts with ``name``, ``acc`` and ``latency_ms``.
        target_ms, w: as :func:`reward`.

    Returns:
        Copies of the dicts with ``reward`` added, sorted by it (descending).
    """
    scored = [dict(m, reward=reward(m['acc'], m['latency_ms'], target_ms, w)) for m in models]
    return sorted(scored, key=lambda m: -m['reward'])


def pareto_front(points: Sequence[Tuple[float, float]]) -> List[int]:
    """Indices of the accuracy-latency frontier: no other point is at least as fast and at
    least as accurate while strictly better in one. Sorted by latency.

    Args:
        points: ``(latency_ms, acc)`` pairs.
    """
    front = []
    for i, (lat, acc) in enumerate(points):
        dominated = any((l2 <= lat and a2 >= acc) and (l2 < lat or a2 > acc)
                        for j, (l2, a2) in enumerate(points) if j != i)
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: points[i][0])
