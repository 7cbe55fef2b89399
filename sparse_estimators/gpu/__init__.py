"""The GPU path: solvers written once against an array backend (NumPy/SciPy in CI,
CuPy / ``cupyx.scipy.sparse`` on an NVIDIA GPU).

Not imported by ``import sparse_estimators``; CuPy itself is imported only when an
estimator is asked for ``device="gpu"`` (or ``"auto"``).

- :func:`resolve_device`: ``"cpu" | "gpu" | "auto"`` to a backend (``None``: CPU).
- :func:`enet_fista`: the elastic net by FISTA with adaptive restart, implicit
  centring and duality-gap stopping, used by ``Lasso(device="gpu")`` and
  ``ElasticNet(device="gpu")``.
- :func:`glm_fista`: the L1 / elastic-net logistic and squared-hinge classifiers by
  FISTA with adaptive restart, certified by the CPU solver's duality gap, used by
  ``SparseLogisticRegression(device="gpu")`` and ``SparseLinearSVC(device="gpu")``.
- :mod:`sparse_estimators.gpu._mf`: the matrix-factorisation sweeps, every row of a
  half sweep at once, used by ``SparseMatrixFactorization(device="gpu")``.
- :class:`DeviceNMSparse`: an :class:`~sparse_estimators.sparsity.NMSparse` weight
  on the device (through PyTorch), multiplied by cuSPARSELt's 2:4 kernels, cuBLAS or
  cuSPARSE, whichever a one-time measurement found fastest.
"""

from ._backend import NUMPY, Backend, cupy_backend, resolve_device
from ._fista import enet_fista, prepare_design
from ._glm import glm_fista, prepare_glm_design
from ._nm import DeviceNMSparse, pick_fastest

__all__ = ["NUMPY", "Backend", "DeviceNMSparse", "cupy_backend", "enet_fista",
           "glm_fista", "pick_fastest", "prepare_design", "prepare_glm_design",
           "resolve_device"]
