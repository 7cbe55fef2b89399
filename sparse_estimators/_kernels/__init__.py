"""numba kernels: plain functions over arrays and scalars, ``@njit(cache=True)``.

Nothing here imports scikit-learn or knows about estimators.
"""

from ._prox import hard_threshold_array, prox_enet, soft_threshold, soft_threshold_array
from ._quadratic import enet_gap, enet_inner, gradient, residual, residual_stats

__all__ = [
    "enet_gap",
    "enet_inner",
    "gradient",
    "hard_threshold_array",
    "prox_enet",
    "residual",
    "residual_stats",
    "soft_threshold",
    "soft_threshold_array",
]
