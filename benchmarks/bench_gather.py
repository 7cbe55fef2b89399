"""Where ``X^T r`` loses time on ``large_synth``: the residual's footprint and order.

The CD epoch on ``large_synth`` costs what ``X^T r`` costs (``bench_epoch.py``), so
this times this library's ``X^T r`` kernel (``_kernels.gradient``, the column dot
products of the epoch) over the same stored values and column lengths with the row
indices rewritten, each variant a different residual access pattern:

* ``as is``: 200000 rows, 1.6 MB of residual, rows sorted within each column;
* ``permuted`` / ``descending``: the same rows in a random / reversed order within
  each column (sorted order is not what makes the kernel fast or slow);
* ``spread xK``: row ``i`` becomes ``K * i`` (a residual K times larger, beyond L2,
  the same number of distinct cache lines per column);
* ``folded m``: row ``i`` becomes ``i mod m`` (duplicates summed, sorted): a
  residual of ``m`` rows, with ``m = 4096`` fitting in L1.

each with its ``stream`` floor (one pass reading ``data`` and ``indices``). Medians of
``--reps`` runs. Usage::

    python benchmarks/bench_gather.py [--reps 30] [--out benchmarks/_out/gather.json]
"""

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_lasso as B  # noqa: E402
from bench_epoch import _median_time, _stream  # noqa: E402

from sparse_estimators import _kernels as K  # noqa: E402


def variants(X, rng):
    n, p = X.shape
    yield "as is", X
    ind = X.indices.copy()
    data = X.data.copy()
    rev_i, rev_d = ind.copy(), data.copy()
    for j in range(p):
        a, b = X.indptr[j], X.indptr[j + 1]
        q = rng.permutation(b - a) + a
        ind[a:b], data[a:b] = X.indices[q], X.data[q]
        rev_i[a:b], rev_d[a:b] = X.indices[a:b][::-1], X.data[a:b][::-1]
    yield "permuted", sp.csc_matrix((data, ind, X.indptr), shape=X.shape)
    yield "descending", sp.csc_matrix((rev_d, rev_i, X.indptr), shape=X.shape)
    for k in (2, 4):
        yield f"spread x{k}", sp.csc_matrix(
            (X.data, (X.indices.astype(np.int64) * k).astype(np.int32), X.indptr),
            shape=(k * n, p))
    for m in (100_000, 25_000, 12_500, 4096):
        Xf = sp.csc_matrix((X.data, X.indices % m, X.indptr), shape=(m, p))
        Xf.sum_duplicates()
        yield f"folded {m}", Xf


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    X = B._synthetic(200_000, 20_000, 2.5e-3, 3)[0].tocsc()
    rng = np.random.default_rng(0)
    rows = []
    p = X.shape[1]
    ws = np.arange(p)
    out, xbar = np.empty(p), np.zeros(p)
    for name, Xv in variants(X, rng):
        v = rng.standard_normal(Xv.shape[0])
        t = _median_time(lambda Xv=Xv, v=v: K.gradient(
            None, Xv.data, Xv.indices, Xv.indptr, xbar, 1.0, ws, v, 0.0, out), args.reps)
        # the variant's own stream: folding sums duplicates (up to 8% fewer values)
        t_s = _median_time(lambda Xv=Xv: _stream(Xv.data, Xv.indices), args.reps)
        rows.append(dict(variant=name, rows=Xv.shape[0], residual_MB=Xv.shape[0] * 8e-6,
                         nnz=int(Xv.nnz), ms=t * 1e3, stream_ms=t_s * 1e3,
                         over_stream=t / t_s))
        print(f"{name:14s} residual {Xv.shape[0] * 8e-6:5.2f} MB, nnz {Xv.nnz}: "
              f"X^T r {t * 1e3:.3f} ms, stream {t_s * 1e3:.3f} ms "
              f"({t / t_s:.2f}x)", flush=True)
    if args.out:
        meta = dict(python=platform.python_version(), machine=platform.machine())
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(dict(meta=meta, rows=rows), indent=1))


if __name__ == "__main__":
    main()
