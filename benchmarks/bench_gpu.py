"""GPU path (issue 8): SpMV bandwidth and the Lasso to a duality gap, GPU vs CPU.

Needs CuPy and an NVIDIA GPU for the real numbers. ``--backend numpy`` runs the same
solver code on NumPy/SciPy: a dry run of the harness and of the solver's logic,
whose times say nothing about a GPU.

1. **SpMV bandwidth.** For a synthetic CSR matrix (``--nnz`` stored values, float32
   and float64), the time of ``X @ v`` and ``X.T_csr @ u``. Bytes moved are counted
   as ``nnz * (value + index) + (rows + 1) * index + reads of v + writes of u``, over
   the time, as a share of the measured device-to-device copy bandwidth
   (``cupy.copyto`` of a 1 GiB buffer).
2. **Lasso to a relative duality gap of 1e-6** (scikit-learn's ``tol`` rule) on
   ``make_sparse_regression`` data of the same size: ``Lasso(device="gpu")``
   (FISTA), this library's CPU coordinate descent, and scikit-learn's ``Lasso``. The
   harness computes each primal objective from the returned coefficients.

Usage::

    python benchmarks/bench_gpu.py [--backend cupy|numpy] [--nnz 1e7,1e8] [--quick]
"""

import argparse
import platform
import time

import numpy as np

from sparse_estimators.datasets import make_sparse_regression
from sparse_estimators.gpu import NUMPY, cupy_backend, enet_fista
from sparse_estimators.linear_model import Lasso


def sync(backend):
    if backend.name == "cupy":
        backend.xp.cuda.Stream.null.synchronize()


def timed(backend, fn, repeats=5):
    fn()
    sync(backend)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        sync(backend)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def copy_bandwidth(backend):
    xp = backend.xp
    n = (1 << 30) // 8
    a = xp.ones(n, dtype=xp.float64)
    b = xp.empty_like(a)
    t = timed(backend, lambda: xp.copyto(b, a))
    return 2 * a.nbytes / t          # read + write


def spmv_table(backend, X, dtypes=(np.float32, np.float64)):
    xp = backend.xp
    peak = copy_bandwidth(backend)
    print(f"\n## SpMV ({backend.name}), {X.shape[0]} x {X.shape[1]}, nnz {X.nnz:,}; copy "
          f"bandwidth {peak / 1e9:.0f} GB/s\n")
    print("| dtype | product | time (ms) | GB/s | share of copy bandwidth |")
    print("|---|---|---:|---:|---:|")
    for dtype in dtypes:
        Xd = backend.csr(X, dtype)
        XTd = backend.csr(X.T.tocsr(), dtype)
        v = xp.ones(X.shape[1], dtype=dtype)
        u = xp.ones(X.shape[0], dtype=dtype)
        isz, vsz = Xd.indices.dtype.itemsize, np.dtype(dtype).itemsize
        for name, M, x, rows in (("X @ v", Xd, v, X.shape[0]), ("X^T @ u", XTd, u, X.shape[1])):
            t = timed(backend, lambda M=M, x=x: M @ x)
            moved = X.nnz * (vsz + isz) + (rows + 1) * isz + X.nnz * vsz + rows * vsz
            print(f"| {np.dtype(dtype).name} | {name} | {1e3 * t:.2f} | {moved / t / 1e9:.0f} "
                  f"| {moved / t / peak:.0%} |")


def lasso_table(backend, X, y, alpha, tol=1e-6):
    print(f"\n## Lasso to a relative gap of {tol:g}, alpha={alpha:.3g}\n")
    print("| solver | time (s) | objective | iterations / epochs | non-zeros |")
    print("|---|---:|---:|---:|---:|")

    def obj(coef, b):
        r = y - X @ coef - b
        return 0.5 * float(r @ r) / len(y) + alpha * float(np.abs(coef).sum())
    rows = []
    t = time.perf_counter()
    coef, b, gap, its, conv = enet_fista(backend, X, y, alpha, tol=tol, max_iter=100_000)
    rows.append((f"FISTA ({backend.name})", time.perf_counter() - t, obj(coef, b), its,
                 np.count_nonzero(coef)))
    t = time.perf_counter()
    cd = Lasso(alpha=alpha, tol=tol, max_iter=100_000).fit(X, y)
    rows.append(("ours CPU coordinate descent", time.perf_counter() - t,
                 obj(cd.coef_, cd.intercept_), cd.n_iter_, np.count_nonzero(cd.coef_)))
    try:
        from sklearn.linear_model import Lasso as SkLasso
        t = time.perf_counter()
        sk = SkLasso(alpha=alpha, tol=tol, max_iter=100_000).fit(X, y)
        rows.append(("scikit-learn Lasso", time.perf_counter() - t,
                     obj(sk.coef_, sk.intercept_), sk.n_iter_, np.count_nonzero(sk.coef_)))
    except MemoryError:
        pass
    for name, secs, o, its, nnz in rows:
        print(f"| {name} | {secs:.3f} | {o:.10g} | {its} | {nnz} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=("cupy", "numpy"), default="cupy")
    ap.add_argument("--nnz", default="1e7")
    ap.add_argument("--quick", action="store_true", help="1e6 stored values")
    args = ap.parse_args()
    backend = cupy_backend() if args.backend == "cupy" else NUMPY
    print(f"python {platform.python_version()}, numpy {np.__version__}, backend "
          f"{backend.name}" + (f" {backend.xp.__version__}" if backend.name == "cupy" else ""))
    if backend.name == "cupy":
        props = backend.xp.cuda.runtime.getDeviceProperties(0)
        print(f"device: {props['name'].decode()}")
    sizes = [1e6] if args.quick else [float(v) for v in args.nnz.split(",")]
    for nnz in sizes:
        n = int(np.sqrt(nnz * 10))
        p = int(nnz / n * 100)
        X, y = make_sparse_regression(n_samples=n, n_features=p, density=nnz / (n * p),
                                         n_informative=100, random_state=0)
        X = X.tocsr()
        if backend.name == "cupy":
            spmv_table(backend, X)
        alpha = 0.05 * float(np.max(np.abs(X.T @ (y - y.mean())))) / n
        lasso_table(backend, X, y, alpha)


if __name__ == "__main__":
    main()
