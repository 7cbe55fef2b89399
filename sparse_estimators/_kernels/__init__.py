"""numba kernels: plain functions over arrays and scalars, ``@njit(cache=True)``.

Nothing here imports scikit-learn or knows about estimators.

Importing this package also initialises numba's CPU target. numba does that lazily
on the first call of any jitted function, even one loaded from the on-disk cache,
and it costs 0.2-0.3 s (it imports numba's typing registries). Paying it here, at
import, keeps the first ``fit`` of a new process as fast as the next ones
(``benchmarks/RESULTS.md``, "cold start").
"""

from numba.core.registry import cpu_target as _cpu_target

from ._glm import (
    csc_take_columns,
    csr_rmatvec,
    hinge_conjugate,
    hinge_derivatives,
    hinge_loss,
    newton_target,
)
from ._prox import (
    hard_threshold,
    prox_enet,
    soft_threshold,
    threshold_dense,
    threshold_sparse,
    topk_segments,
)
from ._quadratic import (
    anderson_step,
    csc_column_stats,
    csc_dense_block,
    csr_gradient,
    dense_constant_columns,
    enet_gap,
    enet_inner,
    gradient,
    inner_work_size,
    residual,
    residual_stats,
    screen_violations,
)

_cpu_target.typing_context.refresh()
_cpu_target.target_context.refresh()

__all__ = [
    "anderson_step",
    "csc_column_stats",
    "csc_dense_block",
    "csc_take_columns",
    "csr_gradient",
    "csr_rmatvec",
    "dense_constant_columns",
    "enet_gap",
    "enet_inner",
    "gradient",
    "hard_threshold",
    "hinge_conjugate",
    "hinge_derivatives",
    "hinge_loss",
    "inner_work_size",
    "newton_target",
    "prox_enet",
    "residual",
    "residual_stats",
    "screen_violations",
    "soft_threshold",
    "threshold_dense",
    "threshold_sparse",
    "topk_segments",
]
