"""GPU path (issue 8): SpMV bandwidth, the Lasso to a duality gap, 2:4 products.

Needs CuPy and an NVIDIA GPU for the real numbers (the 2:4 section also PyTorch).
``--backend numpy`` runs the Lasso part's solver code on NumPy/SciPy: a dry run of
the harness and of the solver's logic, whose times say nothing about a GPU.

1. **SpMV bandwidth.** For a synthetic CSR matrix (``--nnz`` stored values, float32
   and float64), the time of ``X @ v`` and ``X^T @ u`` (``X^T`` held as CSR, as the
   solver holds it). Bytes moved are counted as ``nnz * (value + index) + (rows + 1)
   * index + reads of v + writes of u``, over the time, as a share of the measured
   device-to-device copy bandwidth (``cupy.copyto`` of a 1 GiB buffer, read + write).
2. **Lasso to a relative duality gap of 1e-6** (scikit-learn's ``tol`` rule) on
   ``make_sparse_regression`` data of the same size, alpha = alpha_max / 20:
   ``Lasso(device="gpu")`` end to end (host CSR in, ``coef_`` out: validation,
   transfer, the transpose on the device, the Lipschitz estimate and FISTA), the
   same split into its two phases (``prepare_design``, then ``enet_fista`` on the
   resident design), this library's CPU coordinate descent and, up to
   ``--sklearn-max`` stored values, scikit-learn's ``Lasso``. Each solver's primal
   objective is computed here from its returned coefficients.
3. **LassoCV** (``--cv-nnz``, off by default): ``LassoCV(device="gpu")`` against
   this library's CPU ``LassoCV`` (``--cv-folds`` folds x ``--cv-alphas`` alphas,
   tol 1e-4), on the same kind of data: time, selected alpha and the relative
   difference of the held-out MSE paths. On the GPU path the grid and the refit use
   one device copy of ``X``, the folds one each.
4. **L1 logistic regression** (``--clf-nnz``, off by default):
   ``SparseLogisticRegression(device="gpu")`` against the CPU solver at the same
   ``tol`` (labels ``sign(X w + noise)`` on the same kind of data, float64): time,
   iterations, non-zeros and the largest coefficient difference. Its gap checks'
   products with ``X`` run on the device for float64 data.
5. **Matrix factorisation** (``--mf-nnz``, off by default): implicit-feedback
   ``SparseMatrixFactorization(device="gpu")`` against the CPU solver, 10 sweeps at
   K = 64, float32 and float64, with the final objectives compared.
6. **2:4 products** (``--nm-sizes``): ``X @ W.T`` with ``W`` of shape ``s x s``
   pruned to 2:4 and ``X`` of shape ``(b, s)`` in float16, for ``b`` in
   ``--nm-batches``: dense cuBLAS (``torch.mm``), torch's semi-structured tensor
   (cuSPARSELt) built from the dense pruned weights, cuSPARSE CSR, and
   ``DeviceNMSparse(method="auto")`` from the host ``NMSparse`` with the kernel it
   chose. CUDA-event medians.

Usage::

    python benchmarks/bench_gpu.py [--backend cupy|numpy] [--nnz 1e7,1e8]
        [--sklearn-max 3e7] [--cv-nnz 1e7] [--cv-folds 5] [--cv-alphas 30] [--clf-nnz 1e7]
        [--mf-nnz 1e7]
        [--nm-sizes 1024,...,16384] [--skip-lasso] [--quick] [--out FILE]
"""

import argparse
import platform
import sys
import time

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn

import sparse_estimators
from sparse_estimators.datasets import make_sparse_regression
from sparse_estimators.decomposition import SparseMatrixFactorization
from sparse_estimators.gpu import NUMPY, cupy_backend, enet_fista, prepare_design
from sparse_estimators.linear_model import Lasso, LassoCV, SparseLogisticRegression

OUT = []


def say(line=""):
    print(line, flush=True)
    OUT.append(line)


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
    t = timed(backend, lambda: xp.copyto(b, a), repeats=20)
    return 2 * a.nbytes / t          # read + write


def spmv_table(backend, X, peak, dtypes=(np.float32, np.float64)):
    from sparse_estimators.gpu._backend import csr_spmv
    xp = backend.xp
    say(f"\n### SpMV, {X.shape[0]:,} x {X.shape[1]:,}, nnz {X.nnz:,}\n")
    say("| dtype | product | kernel | time (ms) | GB/s | share of copy bandwidth |")
    say("|---|---|---|---:|---:|---:|")
    for dtype in dtypes:
        Xd, XTd = backend.csr_pair(X, dtype)
        rng = np.random.default_rng(0)
        v = backend.asarray(rng.standard_normal(X.shape[1]), dtype)
        u = backend.asarray(rng.standard_normal(X.shape[0]), dtype)
        isz, vsz = Xd.indices.dtype.itemsize, np.dtype(dtype).itemsize
        for name, M, x, rows, cols in (("X @ v", Xd, v, X.shape[0], X.shape[1]),
                                       ("X^T @ u", XTd, u, X.shape[1], X.shape[0])):
            ref = M @ x
            own = csr_spmv(xp, M, x)
            err = float(xp.linalg.norm(own - ref) / xp.linalg.norm(ref))
            for kernel, fn in (("cuSPARSE (CuPy @)", lambda M=M, x=x: M @ x),
                               (f"own CSR-vector (rel. diff {err:.0e})",
                                lambda M=M, x=x: csr_spmv(xp, M, x))):
                t = timed(backend, fn, repeats=20)
                moved = X.nnz * (vsz + isz) + (rows + 1) * isz + cols * vsz + rows * vsz
                say(f"| {np.dtype(dtype).name} | {name} | {kernel} | {1e3 * t:.3f} | "
                    f"{moved / t / 1e9:.0f} | {moved / t / peak:.0%} |")
        del Xd, XTd


def lasso_table(backend, X, y, alpha, tol, sklearn_max):
    say(f"\n### Lasso, {X.shape[0]:,} x {X.shape[1]:,}, nnz {X.nnz:,}, alpha = "
        f"{alpha:.4g}, tol = {tol:g}\n")
    say("| solver | time (s) | primal objective | iterations / epochs | non-zeros |")
    say("|---|---:|---:|---:|---:|")

    def obj(coef, b):
        r = y - X @ coef - b
        return 0.5 * float(r @ r) / len(y) + alpha * float(np.abs(coef).sum())

    def row(name, secs, coef, b, its):
        say(f"| {name} | {secs:.3f} | {obj(coef, b):.12g} | {its} | "
            f"{np.count_nonzero(coef)} |")

    kw = dict(alpha=alpha, tol=tol, max_iter=100_000)
    if backend.name == "cupy":
        for label in ("first call", "second call"):
            t = time.perf_counter()
            m = Lasso(device="gpu", **kw).fit(X, y)
            row(f"Lasso(device='gpu').fit, {label}", time.perf_counter() - t, m.coef_,
                m.intercept_, m.n_iter_)
    t = time.perf_counter()
    design = prepare_design(backend, X)
    sync(backend)
    t_prep = time.perf_counter() - t
    t = time.perf_counter()
    coef, b, gap, its, conv = enet_fista(backend, X, y, alpha, tol=tol, max_iter=100_000,
                                         design=design)
    t_solve = time.perf_counter() - t
    row(f"  phase 1: prepare_design ({backend.name})", t_prep, coef, b, "")
    row(f"  phase 2: enet_fista on the resident design ({backend.name})", t_solve, coef, b,
        its)
    del design
    times = []
    for _ in range(2):
        t = time.perf_counter()
        cd = Lasso(**kw).fit(X, y)
        times.append(time.perf_counter() - t)
    row("ours, CPU coordinate descent (best of 2)", min(times), cd.coef_, cd.intercept_,
        cd.n_iter_)
    if X.nnz <= sklearn_max:
        from sklearn.linear_model import Lasso as SkLasso
        t = time.perf_counter()
        sk = SkLasso(**kw).fit(X, y)
        row("scikit-learn Lasso", time.perf_counter() - t, sk.coef_, sk.intercept_,
            sk.n_iter_)


def timed_fits(make, X, y):
    """``make(device)`` fitted once on the CPU, then twice with ``device="gpu"`` (the
    first call pays CuPy's kernel compilation): ``(cpu, cpu seconds, [(label,
    estimator, seconds)] of the device fits)``."""
    def fit(device):
        t = time.perf_counter()
        est = make(device).fit(X, y)
        return est, time.perf_counter() - t

    cpu, t_cpu = fit("cpu")
    return cpu, t_cpu, [(label, *fit("gpu")) for label in ("first call", "second call")]


def cv_table(backend, X, y, folds, n_alphas):
    say(f"\n### LassoCV, {X.shape[0]:,} x {X.shape[1]:,}, nnz {X.nnz:,}, {folds} folds x "
        f"{n_alphas} alphas, tol 1e-4\n")
    say("| solver | time (s) | alpha_ | non-zeros | max rel. diff of mse_path_ vs CPU |")
    say("|---|---:|---:|---:|---:|")
    cpu, t_cpu, device_fits = timed_fits(
        lambda device: LassoCV(cv=folds, alphas=n_alphas, tol=1e-4, max_iter=100_000,
                               device=device), X, y)
    for label, dev, secs in device_fits:
        diff = float(np.max(np.abs(dev.mse_path_ - cpu.mse_path_) / cpu.mse_path_))
        say(f"| LassoCV(device='gpu') on {backend.name}, {label} | {secs:.3f} | "
            f"{dev.alpha_:.6g} | {np.count_nonzero(dev.coef_)} | {diff:.1e} |")
    say(f"| LassoCV, CPU coordinate descent | {t_cpu:.3f} | {cpu.alpha_:.6g} | "
        f"{np.count_nonzero(cpu.coef_)} | |")


def clf_table(backend, X, y, C=1.0, tol=1e-6):
    say(f"\n### L1 logistic regression, {X.shape[0]:,} x {X.shape[1]:,}, nnz {X.nnz:,}, "
        f"C = {C:g}, tol = {tol:g}\n")
    say("| solver | time (s) | iterations | non-zeros | max abs coef diff vs CPU |")
    say("|---|---:|---:|---:|---:|")
    cpu, t_cpu, device_fits = timed_fits(
        lambda device: SparseLogisticRegression(C=C, tol=tol, max_iter=100_000,
                                                device=device), X, y)
    for label, dev, secs in device_fits:
        diff = float(np.max(np.abs(dev.coef_ - cpu.coef_)))
        say(f"| SparseLogisticRegression(device='gpu') on {backend.name}, {label} | "
            f"{secs:.3f} | {int(np.max(dev.n_iter_))} | {np.count_nonzero(dev.coef_)} | "
            f"{diff:.1e} |")
    say(f"| SparseLogisticRegression, CPU proximal Newton | {t_cpu:.3f} | "
        f"{int(np.max(cpu.n_iter_))} | {np.count_nonzero(cpu.coef_)} | |")


def mf_table(backend, nnz, K=64, sweeps=10):
    """Implicit-feedback ``SparseMatrixFactorization``: ``sweeps`` sweeps (tol 0) on
    the CPU (numba, all cores) and on the device, on counts with popular items."""
    rng = np.random.default_rng(0)
    n_users, n_items = int(nnz / 50), int(nnz / 500)
    t = time.perf_counter()
    users = rng.integers(0, n_users, int(nnz))
    items = np.minimum((n_items * rng.random(int(nnz)) ** 3).astype(np.int64), n_items - 1)
    R = sp.csr_matrix((1.0 + rng.poisson(2.0, int(nnz)), (users, items)),
                      shape=(n_users, n_items))
    R.sum_duplicates()
    say(f"\n(data: {time.perf_counter() - t:.1f} s to generate)")
    say(f"\n### Implicit-feedback matrix factorisation, {n_users:,} users x {n_items:,} "
        f"items, nnz {R.nnz:,}, K = {K}, {sweeps} sweeps\n")
    say("| solver | dtype | time (s) | per sweep (s) | rel. diff of the final objective |")
    say("|---|---|---:|---:|---:|")
    for dtype in (np.float32, np.float64):
        Rd = R.astype(dtype)
        cpu, t_cpu, device_fits = timed_fits(
            lambda device: SparseMatrixFactorization(
                n_components=K, feedback="implicit", max_iter=sweeps, tol=0.0,
                random_state=0, device=device), Rd, None)
        for label, dev, secs in device_fits:
            diff = abs(dev.objective_[-1] - cpu.objective_[-1]) / cpu.objective_[-1]
            say(f"| SparseMatrixFactorization(device='gpu') on {backend.name}, {label} | "
                f"{np.dtype(dtype).name} | {secs:.3f} | {secs / sweeps:.4f} | {diff:.1e} |")
        say(f"| SparseMatrixFactorization, CPU | {np.dtype(dtype).name} | {t_cpu:.3f} | "
            f"{t_cpu / sweeps:.4f} | |")


def nm_table(sizes, batches, repeats=20):
    import torch
    from torch.sparse import to_sparse_semi_structured

    from sparse_estimators.gpu import DeviceNMSparse
    from sparse_estimators.sparsity import NMSparse

    def event_time(fn, reps):
        for _ in range(3):
            fn()
        out = []
        for _ in range(reps):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            fn()
            b.record()
            b.synchronize()
            out.append(a.elapsed_time(b))
        return float(np.median(out))

    say("\n### 2:4 products X @ W.T, float16, W of s x s pruned to 2:4\n")
    say("| s | batch b | dense cuBLAS (ms) | torch semi-structured (ms) | cuSPARSE CSR (ms) "
        "| DeviceNMSparse auto (ms), kernel | semi-structured / dense | rel. error |")
    say("|---:|---:|---:|---:|---:|---:|---:|---:|")
    def one_batch(s, bsz, nm, Wd, S, C):
        X = torch.randn(bsz, s, device="cuda", dtype=torch.float16)
        t_dense = event_time(lambda: X @ Wd.T, repeats)
        t_semi = event_time(lambda: torch.nn.functional.linear(X, S), repeats)
        t_csr = event_time(lambda: (C @ X.T).T, max(3, repeats // 4))
        dev = DeviceNMSparse(nm, "float16", batch=bsz)
        t_ours = event_time(lambda: dev.linear(X), repeats)
        ref = X.double() @ Wd.double().T
        err = float(torch.linalg.norm(dev.linear(X).double() - ref) / torch.linalg.norm(ref))
        say(f"| {s} | {bsz} | {t_dense:.3f} | {t_semi:.3f} | {t_csr:.3f} | {t_ours:.3f}, "
            f"{dev.method_} | {t_semi / t_dense:.2f} | {err:.1e} |")

    rng = np.random.default_rng(0)
    for s in sizes:
        nm = NMSparse.from_dense(rng.standard_normal((s, s), dtype=np.float32))
        Wd = torch.as_tensor(nm.to_dense(), device="cuda").half()
        S, C = to_sparse_semi_structured(Wd), Wd.to_sparse_csr()
        for bsz in batches:
            one_batch(s, bsz, nm, Wd, S, C)
        del nm, Wd, S, C
        torch.cuda.empty_cache()


def _problem(nnz):
    """``make_sparse_regression`` data with about ``nnz`` stored values, as CSR."""
    n = int(np.sqrt(nnz * 10))
    p = int(nnz / n * 100)
    t = time.perf_counter()
    X, y = make_sparse_regression(n_samples=n, n_features=p, density=nnz / (n * p),
                                  n_informative=100, random_state=0)
    say(f"\n(data: {time.perf_counter() - t:.1f} s to generate)")
    return X.tocsr(), y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=("cupy", "numpy"), default="cupy")
    ap.add_argument("--nnz", default="1e7,1e8")
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--sklearn-max", type=float, default=3e7)
    ap.add_argument("--cv-nnz", type=float, default=0.0,
                    help="stored values of the LassoCV comparison (0: skip it)")
    ap.add_argument("--cv-folds", type=int, default=5)
    ap.add_argument("--cv-alphas", type=int, default=30)
    ap.add_argument("--clf-nnz", type=float, default=0.0,
                    help="stored values of the logistic regression comparison (0: skip)")
    ap.add_argument("--mf-nnz", type=float, default=0.0,
                    help="stored values of the matrix factorisation comparison (0: skip)")
    ap.add_argument("--nm-sizes", default="1024,2048,4096,8192,16384")
    ap.add_argument("--nm-batches", default="256,4096")
    ap.add_argument("--skip-lasso", action="store_true")
    ap.add_argument("--skip-nm", action="store_true")
    ap.add_argument("--quick", action="store_true", help="1e6 stored values, s <= 2048")
    ap.add_argument("--out", help="also write the tables (markdown) here")
    args = ap.parse_args()
    backend = cupy_backend() if args.backend == "cupy" else NUMPY
    say(f"python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, scikit-learn {sklearn.__version__}, sparse_estimators "
        f"{sparse_estimators.__version__}, backend {backend.name}"
        + (f" {backend.xp.__version__}" if backend.name == "cupy" else ""))
    say("command: python " + " ".join(sys.argv))
    if backend.name == "cupy":
        props = backend.xp.cuda.runtime.getDeviceProperties(0)
        peak = copy_bandwidth(backend)
        say(f"device: {props['name'].decode()}; device-to-device copy {peak / 1e9:.0f} GB/s "
            "(read + write)")
    # numba's kernels loaded before any timing
    Lasso(alpha=0.1).fit(np.eye(4), np.arange(4.0))
    sizes = [1e6] if args.quick else [float(v) for v in args.nnz.split(",")]
    for nnz in [] if args.skip_lasso else sizes:
        X, y = _problem(nnz)
        n = X.shape[0]
        if backend.name == "cupy":
            spmv_table(backend, X, peak)
        alpha = 0.05 * float(np.max(np.abs(X.T @ (y - y.mean())))) / n
        lasso_table(backend, X, y, alpha, args.tol, args.sklearn_max)
        del X, y
    if (args.cv_nnz or args.clf_nnz or args.mf_nnz) and backend.name == "numpy":
        # a dry run: device="gpu" routed to NumPy
        from sparse_estimators.gpu import _backend
        _backend.cupy_backend = lambda: NUMPY
    if args.cv_nnz:
        X, y = _problem(args.cv_nnz)
        cv_table(backend, X, y, args.cv_folds, args.cv_alphas)
        del X, y
    if args.clf_nnz:
        X, y = _problem(args.clf_nnz)
        labels = np.where(y + np.random.default_rng(1).standard_normal(y.shape[0])
                          > np.median(y), 1, -1)
        clf_table(backend, X, labels)
        del X, y
    if args.mf_nnz:
        mf_table(backend, args.mf_nnz)
    if backend.name == "cupy" and not args.skip_nm:
        sizes = [int(s) for s in args.nm_sizes.split(",")]
        nm_table([s for s in sizes if s <= 2048] if args.quick else sizes,
                 [int(b) for b in args.nm_batches.split(",")])
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("\n".join(OUT) + "\n")


if __name__ == "__main__":
    main()
