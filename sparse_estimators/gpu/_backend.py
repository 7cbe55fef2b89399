"""Array backends of the GPU path: NumPy/SciPy (CI, and the reference) or CuPy.

The GPU solvers are written once against a :class:`Backend`: ``xp`` is the array
module (``numpy`` or ``cupy``) and ``sparse`` the sparse module (``scipy.sparse`` or
``cupyx.scipy.sparse``). CuPy is imported only when a GPU is asked for.
"""

from dataclasses import dataclass
from types import ModuleType

import numpy as np
import scipy.sparse as sp

__all__ = ["Backend", "NUMPY", "cupy_backend", "resolve_device"]

INSTALL_HINT = ("install CuPy for your CUDA version, e.g. `pip install cupy-cuda12x` "
                "(or `pip install sparse_estimators[gpu]`)")


@dataclass(frozen=True)
class Backend:
    """An array module, its sparse module, and the host <-> device moves."""

    name: str
    xp: ModuleType
    sparse: ModuleType

    def asarray(self, a, dtype):
        """A dense host or device array as a ``dtype`` array of this backend."""
        if self.name == "numpy":
            return np.asarray(a, dtype=dtype)
        return self.xp.asarray(a, dtype=dtype)

    def csr(self, X, dtype):
        """A scipy sparse matrix as a CSR matrix of this backend (one copy at most)."""
        X = sp.csr_matrix(X, dtype=dtype)
        if self.name == "numpy":
            return X
        if X.nnz >= np.iinfo(np.int32).max:
            raise ValueError(f"X has {X.nnz} stored values: cuSPARSE CSR through CuPy "
                             "holds int32 indices, at most 2**31 - 1 values.")
        return self.sparse.csr_matrix(
            (self.xp.asarray(X.data), self.xp.asarray(X.indices),
             self.xp.asarray(X.indptr)), shape=X.shape)

    def to_host(self, a):
        """A backend array as a NumPy array."""
        if self.name == "numpy":
            return np.asarray(a)
        return self.xp.asnumpy(a)

    def scalar(self, a):
        """A 0-d backend array as a Python float (the only host syncs of a solver)."""
        return float(a)


NUMPY = Backend("numpy", np, sp)


def cupy_backend():
    """The CuPy backend.

    Raises
    ------
    ImportError
        If CuPy is not installed (with the install hint).
    RuntimeError
        If CuPy finds no CUDA device.
    """
    try:
        import cupy
        import cupyx.scipy.sparse as cusparse
    except ImportError as exc:
        raise ImportError(f"device='gpu' needs CuPy: {INSTALL_HINT}.") from exc
    try:
        n_devices = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:     # CUDA driver missing or broken
        raise RuntimeError(f"device='gpu': CuPy found no usable CUDA device ({exc}).") \
            from exc
    if n_devices < 1:
        raise RuntimeError("device='gpu': CuPy found no CUDA device.")
    return Backend("cupy", cupy, cusparse)


def resolve_device(device):
    """The backend for ``device``: ``None`` for the CPU path.

    ``"cpu"``: ``None``. ``"gpu"``: the CuPy backend, or an error saying what is
    missing. ``"auto"``: the CuPy backend when CuPy and a device are there, else
    ``None`` (the CPU path).
    """
    if device == "cpu":
        return None
    if device == "gpu":
        return cupy_backend()
    if device == "auto":
        try:
            return cupy_backend()
        except (ImportError, RuntimeError):
            return None
    raise ValueError(f"device must be 'cpu', 'gpu' or 'auto', got {device!r}.")
