"""Solver drivers: outer loops (working sets, screening, stopping, paths) over the
numba kernels. They know no estimator."""

from ._enet import (
    Design,
    alpha_grid,
    alpha_max,
    enet_path_solve,
    enet_solve,
    gap_tolerance,
)

__all__ = [
    "Design",
    "alpha_grid",
    "alpha_max",
    "enet_path_solve",
    "enet_solve",
    "gap_tolerance",
]
