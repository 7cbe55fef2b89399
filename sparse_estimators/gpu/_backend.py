"""Array backends of the GPU path: NumPy/SciPy (CI, and the reference) or CuPy.

The GPU solvers are written once against a :class:`Backend`: ``xp`` is the array
module (``numpy`` or ``cupy``) and ``sparse`` the sparse module (``scipy.sparse`` or
``cupyx.scipy.sparse``). CuPy is imported only when a GPU is asked for.
"""

from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

import numpy as np
import scipy.sparse as sp

__all__ = ["Backend", "NUMPY", "csr_spmv", "cupy_backend", "extrapolate",
           "fista_scalars", "momentum", "prox_step", "resolve_device", "spmv_group"]

INSTALL_HINT = ("install CuPy for your CUDA version: `pip install cupy-cuda12x` for "
                "CUDA 12, `pip install cupy-cuda13x` for CUDA 13 (or the extras "
                "`sparse_estimators[gpu]` / `sparse_estimators[gpu-cuda13]`)")


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

    def all_finite(self, a):
        """Whether every value of a backend array is finite (one host sync).

        On a GPU this replaces the host's pass over the values (``sum`` then
        ``isfinite`` in scikit-learn's validation: 45 ms per 10^8 float64 on a
        2-core VM): the device reads them at its memory bandwidth, once they are
        there anyway.

        Examples
        --------
        >>> import numpy as np
        >>> from sparse_estimators.gpu import NUMPY
        >>> NUMPY.all_finite(np.array([1.0, np.nan]))
        False
        """
        return bool(self.xp.isfinite(a).all())

    def scalar(self, a):
        """A 0-d backend array as a Python float (the only host syncs of a solver)."""
        return float(a)

    def spmv(self, M, x):
        """``M @ x`` for a matrix of this backend (CSR or dense) and a vector.

        On CuPy, a CSR matrix times a vector of its dtype runs this module's CSR
        kernel (:func:`csr_spmv`) when :data:`SPMV_KERNEL` is ``"own"``, else
        cuSPARSE (CuPy's ``@``); everything else is ``@``.
        """
        if (self.name == "cupy" and SPMV_KERNEL == "own" and x.ndim == 1
                and self.sparse.isspmatrix_csr(M) and x.dtype == M.dtype):
            return csr_spmv(self.xp, M, x)
        return M @ x

    def csr_pair(self, X, dtype):
        """``X`` and ``X^T``, both as CSR matrices of this backend, from a scipy CSR or
        CSC matrix. On CuPy the host data travel once, as they are (a CSC matrix is
        the CSR matrix of its transpose), and the other orientation is built on the
        device (cuSPARSE ``csr2csc``); on NumPy by scipy."""
        if self.name == "numpy":
            Xh = sp.csr_matrix(X, dtype=dtype)
            return Xh, Xh.T.tocsr()
        if X.format == "csc":
            XT = self.csr(sp.csr_matrix((X.data, X.indices, X.indptr),
                                        shape=X.shape[::-1]), dtype)
            return XT.T.tocsr(), XT
        Xd = self.csr(X, dtype)
        return Xd, Xd.T.tocsr()


NUMPY = Backend("numpy", np, sp)


# --- the CSR matrix-vector product on CuPy -----------------------------------------
#: ``"own"``: :func:`csr_spmv`; ``"cusparse"``: CuPy's ``@`` (cuSPARSE SpMV).
SPMV_KERNEL = "own"

_SPMV_SOURCE = r"""
extern "C" __global__ void csr_spmv(const int n_rows, const int* __restrict__ indptr,
                                    const int* __restrict__ indices,
                                    const {T}* __restrict__ data,
                                    const {T}* __restrict__ x, {T}* __restrict__ y)
{{
    // {G} threads per row, four independent partial sums each (loads in flight);
    // no early exit, so that every lane of a warp takes part in the shuffles
    const long long row = ((long long)blockIdx.x * blockDim.x + threadIdx.x) / {G};
    const int lane = threadIdx.x % {G};
    const bool live = row < n_rows;
    const int start = live ? indptr[row] : 0;
    const int end = live ? indptr[row + 1] : 0;
    {T} s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int k = start + lane;
    for (; k + 3 * {G} < end; k += 4 * {G}) {{
        s0 += data[k] * x[indices[k]];
        s1 += data[k + {G}] * x[indices[k + {G}]];
        s2 += data[k + 2 * {G}] * x[indices[k + 2 * {G}]];
        s3 += data[k + 3 * {G}] * x[indices[k + 3 * {G}]];
    }}
    for (; k < end; k += {G}) s0 += data[k] * x[indices[k]];
    {T} sum = (s0 + s1) + (s2 + s3);
    for (int off = {G} / 2; off > 0; off >>= 1)
        sum += __shfl_down_sync(0xffffffffu, sum, off, {G});
    if (live && lane == 0) y[row] = sum;
}}
"""


def spmv_group(n_rows, nnz):
    """Threads per row of :func:`csr_spmv`: the power of two nearest the mean row
    length, from 1 to 32 (a warp)."""
    mean = nnz / max(n_rows, 1)
    group = 1
    while group < 32 and group * 1.5 < mean:
        group *= 2
    return group


def csr_spmv(xp, M, x):
    """``M @ x`` for a CuPy CSR matrix ``M`` (int32 indices) and a vector ``x`` of its
    dtype, by a CSR-vector kernel: a group of threads per row (:func:`spmv_group`)
    streams the row's values and indices with coalesced loads, then sums by warp
    shuffles (Bell & Garland 2008, "Efficient Sparse Matrix-Vector Multiplication
    on CUDA", the CSR-vector kernel)."""
    n_rows = M.shape[0]
    y = xp.empty(n_rows, dtype=M.dtype)
    if n_rows == 0:
        return y
    if M.nnz == 0:
        y.fill(0)
        return y
    group = spmv_group(n_rows, M.nnz)
    kern = _spmv_kernel(np.dtype(M.dtype).name, group)
    threads = 256
    blocks = -(-n_rows * group // threads)
    x = xp.ascontiguousarray(x)
    kern((blocks,), (threads,), (np.int32(n_rows), M.indptr, M.indices, M.data, x, y))
    return y


@lru_cache(maxsize=None)
def _spmv_kernel(dtype_name, group):
    import cupy
    ctype = {"float32": "float", "float64": "double"}[dtype_name]
    return cupy.RawKernel(_SPMV_SOURCE.format(T=ctype, G=group), "csr_spmv")


# --- fused element-wise steps of the FISTA solvers --------------------------------
# One CUDA kernel each on CuPy (instead of one per NumPy operation, each a launch
# and a pass over the vector); the same arithmetic in NumPy on the NumPy backend.

def prox_step(backend, v, g, step, thresh, shrink=1.0, positive=False):
    """The proximal gradient step ``ST(v - step g, thresh) / shrink``.

    ``ST`` is soft-thresholding (the prox of ``thresh ||.||_1``), followed by the
    projection on ``>= 0`` when ``positive``; ``shrink`` applies an L2 penalty's
    prox. ``step``, ``thresh`` and ``shrink`` are scalars or arrays broadcast with
    ``v`` (0 thresholds and unit shrinks on unpenalised entries).
    """
    if backend.name == "numpy":
        u = v - step * g
        if positive:
            out = np.maximum(u - thresh, 0.0)
        else:
            out = np.sign(u) * np.maximum(np.abs(u) - thresh, 0.0)
        return out / shrink if not (np.isscalar(shrink) and shrink == 1.0) else out
    xp = backend.xp
    kern = _cupy_kernels()["prox_pos" if positive else "prox"]
    dt = v.dtype
    return kern(v, g, xp.asarray(step, dtype=dt), xp.asarray(thresh, dtype=dt),
                xp.asarray(shrink, dtype=dt))


def extrapolate(backend, x_new, x, beta):
    """FISTA's extrapolated point ``x_new + beta (x_new - x)`` (``beta`` a 0-d or
    broadcastable device array)."""
    if backend.name == "numpy":
        return x_new + beta * (x_new - x)
    return _cupy_kernels()["extrapolate"](x_new, x, beta.astype(x_new.dtype))


_MOMENTUM = ("if (move > 0) { t_next = 1; beta = 0; }"
             "else { t_next = 0.5 * (1 + sqrt(1 + 4 * t * t)); beta = (t - 1) / t_next; }")


def momentum(backend, move, t):
    """FISTA's momentum with adaptive restart: ``(beta, t_next)``.

    The momentum restarts (``t_next = 1``, ``beta = 0``) when ``move = (v - x_new) .
    (x_new - x) > 0`` (O'Donoghue & Candes 2015), else ``t_next = (1 + sqrt(1 +
    4 t^2)) / 2`` and ``beta = (t - 1) / t_next``. ``t`` may be a vector (one
    momentum per row of a batch).
    """
    if backend.name == "numpy":
        restart = move > 0.0
        t_next = np.where(restart, 1.0, 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t)))
        return np.where(restart, 0.0, (t - 1.0) / t_next), t_next
    return _cupy_kernels()["momentum"](move, t)


def fista_scalars(backend, f_new, bound, move, t, violated):
    """:func:`momentum` and the sufficient-decrease test in one step, on the device:
    ``(violated, beta, t_next)``, where ``violated`` accumulates ``f_new > bound``
    (the test's slack is inside ``bound``)."""
    if backend.name == "numpy":
        return (violated | (f_new > bound),) + momentum(backend, move, t)
    return _cupy_kernels()["scalars"](f_new, bound, move, t, violated)


@lru_cache(maxsize=None)
def _cupy_kernels():
    import cupy
    return {
        "prox": cupy.ElementwiseKernel(
            "T v, T g, T step, T thresh, T shrink", "T out",
            "T u = v - step * g; T a = fabs(u) - thresh;"
            "out = a > 0 ? copysign(a, u) / shrink : (T)0",
            "sparse_estimators_prox"),
        "prox_pos": cupy.ElementwiseKernel(
            "T v, T g, T step, T thresh, T shrink", "T out",
            "T u = v - step * g - thresh; out = u > 0 ? u / shrink : (T)0",
            "sparse_estimators_prox_pos"),
        "extrapolate": cupy.ElementwiseKernel(
            "T a, T b, T beta", "T out", "out = a + beta * (a - b)",
            "sparse_estimators_extrapolate"),
        "momentum": cupy.ElementwiseKernel(
            "F move, T t", "T beta, T t_next", _MOMENTUM, "sparse_estimators_momentum"),
        "scalars": cupy.ElementwiseKernel(
            "F f_new, F bound, F move, T t, bool violated_in",
            "bool violated, T beta, T t_next",
            "violated = violated_in || (f_new > bound);" + _MOMENTUM,
            "sparse_estimators_fista_scalars"),
    }


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
