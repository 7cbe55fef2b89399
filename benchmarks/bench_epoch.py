"""CD epoch time against the memory-bandwidth floor of streaming the CSC matrix.

For each dataset this prints, per pass over all columns of the CSC matrix:

* ``stream``: a vectorised numba loop that only reads ``data`` and ``indices`` once
  (sums them), the floor any epoch that touches every stored value must pay. On the
  benchmark's datasets (< 5 MB) this runs from cache; ``large_synth`` (120 MB) is
  larger than the last-level cache, so its stream runs at DRAM bandwidth;
  ``large_short`` has as many stored values (500 per column) on 4096 rows, a
  residual that fits in L1: the same DRAM stream without the gathers' L1 misses;
* ``gradient``: ``X^T r`` (a gather of the residual per stored value);
* ``gather_l1``: the same kernel with every row index folded into ``[0, 4096)``, so
  the gathered vector (32 KB) sits in the L1 cache: the cost of the gather
  instructions alone, a floor for any epoch that reads ``r`` at the stored rows;
* ``cd_epoch``: one coordinate-descent epoch of this library's kernel
  (``enet_inner`` with one epoch, no gap check, no Anderson), from the solution at
  ``alpha_max / 10`` so that the epoch does the dot product and, for the non-zero
  coefficients, the residual update;
* ``first_epoch``: the first epoch from ``w = 0`` at ``alpha_max / 100``, where most
  coordinates move (a residual update per stored value as well);
* ``sklearn_epoch``: scikit-learn's sparse CD epoch on the same problem, estimated as
  ``(t(max_iter=k+1) - t(max_iter=1)) / k`` with ``tol=0`` (no gap checks).

Medians of ``--reps`` runs. Usage::

    python benchmarks/bench_epoch.py [--reps 30] [--out benchmarks/_out/epoch.json]
"""

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_lasso as B  # noqa: E402  (case builders shared with the main benchmark)

from sparse_estimators import _kernels as K  # noqa: E402
from sparse_estimators._solvers import Design  # noqa: E402
from sparse_estimators.linear_model import Lasso  # noqa: E402


@njit(cache=True, fastmath={"reassoc", "contract"})
def _stream(data, indices):
    # One pass reading every stored value and its row index, vectorised (reassociated
    # sums, unsigned loop index): the fastest a loop can stream the two arrays.
    acc = 0.0
    iacc = 0
    for k in range(np.uint64(data.shape[0])):
        acc += data[k]
        iacc += indices[k]
    return acc + iacc


def _median_time(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def measure(name, X, y, reps):
    X = X.tocsc()
    n, p = X.shape
    design = Design(X, None, False)
    yc = design.center_target(y)[0]
    alpha = np.max(np.abs(X.T @ yc)) / n / 10
    w0 = Lasso(alpha=alpha, fit_intercept=False, tol=1e-6).fit(X, y).coef_.astype(np.float64)
    ws = np.arange(p)
    l1 = alpha * n
    hist = np.empty((1, p))
    order = np.empty(p, dtype=np.int64)
    work = np.empty(K.inner_work_size(p, 0))
    rt = np.empty(n)
    grad = np.empty(p)

    def epoch(w_start, lam):
        w = w_start.copy()
        c = K.residual(*design.kernel_args, yc, w, rt)
        t = time.perf_counter()
        K.enet_inner(*design.kernel_args, design.W, design.s, yc, design.norms, ws, w, rt,
                     c, lam, 0.0, False, 1, 0.0, 10**9, -1.0, hist, 0, None,
                     np.uint64(0), False, False, order, work, False)
        return time.perf_counter() - t

    epoch(w0, l1)
    t_epoch = float(np.median([epoch(w0, l1) for _ in range(reps)]))
    # first epoch from zero at alpha_max / 100: most coordinates move
    zero = np.zeros(p)
    t_first = float(np.median([epoch(zero, l1 / 10) for _ in range(reps)]))
    t_stream = _median_time(lambda: _stream(X.data, X.indices), reps)
    K.residual(*design.kernel_args, yc, w0.copy(), rt)
    t_grad = _median_time(
        lambda: K.gradient(*design.kernel_args, design.W, ws, rt, 0.0, grad), reps)
    folded = (X.indices % 4096).astype(X.indices.dtype)
    v_l1 = np.random.default_rng(0).standard_normal(4096)
    t_l1 = _median_time(
        lambda: K.gradient(None, X.data, folded, X.indptr, np.zeros(p), 1.0, ws, v_l1,
                           0.0, grad), reps)

    from sklearn.linear_model import Lasso as SkLasso

    def sk(k):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _median_time(lambda: SkLasso(alpha=alpha, fit_intercept=False, tol=0,
                                                max_iter=k).fit(X, y), max(3, reps // 5))

    k = 10
    t_sk = (sk(k + 1) - sk(1)) / k
    row = dict(case=name, shape=[n, p], nnz=int(X.nnz), nnz_w=int(np.count_nonzero(w0)),
               stream_ms=t_stream * 1e3, gradient_ms=t_grad * 1e3, cd_epoch_ms=t_epoch * 1e3,
               first_epoch_ms=t_first * 1e3, gather_l1_ms=t_l1 * 1e3,
               gather_l1_over_stream=t_l1 / t_stream, first_over_stream=t_first / t_stream,
               sklearn_epoch_ms=t_sk * 1e3, epoch_over_stream=t_epoch / t_stream,
               sklearn_over_stream=t_sk / t_stream,
               stream_GBps=X.nnz * (X.data.itemsize + X.indices.itemsize) / t_stream / 1e9)
    print(f"{name:18s} {n}x{p} nnz={X.nnz}: stream {t_stream*1e3:.3f} ms "
          f"({row['stream_GBps']:.1f} GB/s), gradient {t_grad*1e3:.3f} ms, "
          f"gather with r in L1 {t_l1*1e3:.3f} ms ({t_l1/t_stream:.2f}x), "
          f"CD epoch {t_epoch*1e3:.3f} ms ({t_epoch/t_stream:.2f}x stream), "
          f"first epoch from 0 {t_first*1e3:.3f} ms ({t_first/t_stream:.2f}x), "
          f"scikit-learn epoch {t_sk*1e3:.3f} ms ({t_sk/t_stream:.2f}x)", flush=True)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--cases", default="synth_n>>p,synth_p>>n,docstrings_tfidf,movielens_age,"
                    "large_synth,large_short")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    builders = dict(B.case_builders(False))
    # larger than the last-level cache (10M stored values, 120 MB of data + indices):
    # the stream then runs at DRAM bandwidth, the floor the issue asks about
    builders["large_synth"] = lambda: B._synthetic(200_000, 20_000, 2.5e-3, 3)
    # as large and as many stored values per column, but 4096 rows: the residual
    # (32 KB) stays in L1, so its gathers do not miss (the epoch's other floor)
    builders["large_short"] = lambda: B._synthetic(4096, 20_000, 0.122, 3)
    rows = []
    for name in args.cases.split(","):
        X, y, _ = builders[name]()
        rows.append(measure(name, X, np.asarray(y, dtype=np.float64), args.reps))
    if args.out:
        meta = dict(python=platform.python_version(), machine=platform.machine(),
                    processor=platform.processor())
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(dict(meta=meta, rows=rows), indent=1))


if __name__ == "__main__":
    main()
