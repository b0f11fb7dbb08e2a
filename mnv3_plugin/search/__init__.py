"""The search of Section 4: NetAdapt (Section 4.2) with a measured latency model, and the
platform-aware reward (Section 4.1). Tools: ``tools/search/netadapt.py``,
``tools/search/rank_reward.py``, ``tools/search/latency_table.py``; docs: ``docs/search.md``.
"""
from .reward import W_MNASNET, W_V3_SMALL, pareto_front, rank, reward

__all__ = ['reward', 'rank', 'pareto_front', 'W_MNASNET', 'W_V3_SMALL']
