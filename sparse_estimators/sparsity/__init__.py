"""Sparsification toolbox: sparsity metrics, thresholding transformers, magnitude /
N:M / block pruning, prune-and-refit, and the compressed N:M weight container."""

from ._metrics import SparsityReport, density, sparsity_ratio, sparsity_report
from ._nm import NMSparse
from ._prune import block_mask, block_norms, magnitude_mask, nm_mask, prune
from ._refit import PruneRefit, cubic_schedule, nm_schedule
from ._threshold import AdaptiveThreshold, HardThreshold, SoftThreshold

__all__ = [
    "AdaptiveThreshold",
    "HardThreshold",
    "NMSparse",
    "PruneRefit",
    "SoftThreshold",
    "SparsityReport",
    "block_mask",
    "block_norms",
    "cubic_schedule",
    "density",
    "magnitude_mask",
    "nm_mask",
    "nm_schedule",
    "prune",
    "sparsity_ratio",
    "sparsity_report",
]
