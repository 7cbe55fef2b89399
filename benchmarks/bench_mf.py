"""Matrix factorisation for recommender data: sparse_estimators against Surprise,
scikit-learn NMF and implicit.

Data: MovieLens-100k (:func:`sparse_estimators.datasets.load_movielens_100k`, read
from the ``recbole`` wheel), split at random 80/20 over the ratings
(``train_test_split_interactions(R, 0.2, random_state=0)``).

1. **Explicit feedback**: RMSE on the 20% held-out ratings and fit time.
   - ``SparseMatrixFactorization`` (biases, weighted-lambda L2), two sizes;
   - Surprise ``SVD()`` (its defaults: 100 factors, 20 SGD epochs, biases);
   - scikit-learn ``NMF(n_components=10, init="nndsvda", max_iter=500)`` on the
     training matrix, which it reads as fully observed (every unrated pair is a 0);
     its reconstruction is scored at the held-out positions.
   Fit times are medians of 3 fits after a warm-up fit; the cold time of
   ``SparseMatrixFactorization`` is measured in a new Python process (import,
   cached machine code loaded, one fit).
2. **Implicit feedback**: training ratings >= 4 become positives (value 1), the
   held-out ratings >= 4 are the relevant items. The hyper-parameters are chosen
   on a validation split of the training positives (20%, over a grid of confidence
   weight x L2 penalty): the configuration with the best mean validation
   precision@10 of the libraries is used for all of them (they fit the same
   objective), refitted on all training positives for 15 iterations from 5
   initialisation seeds (2 with ``--quick``). Reported, as mean +- sd over seeds:
   precision@10 and NDCG@10 of the top-10 unseen items by this library's
   ``metrics`` (same function for both), the same precision by
   ``implicit.evaluation.precision_at_k`` (which divides by ``min(10, |relevant|)``),
   and the time per iteration (fit time / 15, median over the seeds; the fits of
   the libraries are interleaved so that they share the machine's noise, each
   after a 0.3 s pause: implicit's OpenMP threads keep spinning after a fit and
   slow down the next one, whichever library it is).
   implicit's confidence is ``alpha * r``; ours ``1 + confidence_scale * r``, so the
   grid value ``a`` maps to ``alpha=a`` and ``confidence_scale=a-1``, the same
   model. Both run on all cores (implicit with BLAS on one thread, as its
   ``check_blas_config`` warning asks), in float32 (implicit's default; ours by passing
   float32 data) and ours in float64 too.
3. **Scale**: a synthetic set (``--scale`` users x items, ``nnz`` stored ratings,
   power-law item popularity, ratings 1-5 from a planted rank-10 model plus noise),
   one subprocess per fit: time per sweep (3 sweeps, ``n_components=32``) and
   the peak resident memory of the fit over the process's resident memory before
   it (peak reset through ``/proc/self/clear_refs``), next to the size of the data
   and of the factors; implicit's ALS on the same positives (value 1) for time per
   iteration. Implicit mode runs with confidence ``1 + 39 r`` (implicit's
   ``alpha=40``) and L2 0.01 in both libraries.

Usage::

    python benchmarks/bench_mf.py [--quick] [--parts explicit,implicit,scale]
    python benchmarks/bench_mf.py --parts scale --scale-nnz 1e8
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from functools import partial

import numpy as np
import scipy.sparse as sp

from sparse_estimators.datasets import load_movielens_100k
from sparse_estimators.decomposition import SparseMatrixFactorization
from sparse_estimators.metrics import ndcg_at_k, precision_at_k
from sparse_estimators.model_selection import train_test_split_interactions


def median_time(fit, repeats):
    """Median wall time of ``repeats`` calls, each after a 0.3 s pause: OpenMP
    (implicit) and OpenBLAS threads keep spinning after a parallel region and slow
    down whatever runs next."""
    times, out = [], None
    for _ in range(repeats):
        time.sleep(0.3)
        t = time.perf_counter()
        out = fit()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def rmse(pred, truth):
    return float(np.sqrt(np.mean((np.asarray(pred, float) - truth) ** 2)))


def split():
    R = load_movielens_100k().ratings
    return train_test_split_interactions(R, 0.2, random_state=0)


# --------------------------------------------------------------------- explicit
OURS_EXPLICIT = {
    "ours k=10": dict(n_components=10, alpha=0.1),
    "ours k=50": dict(n_components=50, alpha=0.1),
}


def cold_fit_time(params):
    code = (
        "import time, numpy as np\n"
        "t0 = time.perf_counter()\n"
        "from sparse_estimators.decomposition import SparseMatrixFactorization as M\n"
        "from sparse_estimators.datasets import load_movielens_100k\n"
        "from sparse_estimators.model_selection import train_test_split_interactions\n"
        "R = load_movielens_100k().ratings\n"
        "tr, te = train_test_split_interactions(R, 0.2, random_state=0)\n"
        "t1 = time.perf_counter()\n"
        f"M(random_state=0, **{params!r}).fit(tr)\n"
        "t2 = time.perf_counter()\n"
        "print(t2 - t1, t1 - t0)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0])


def run_explicit(repeats):
    train, test = split()
    rows = []
    for name, params in OURS_EXPLICIT.items():
        cold = cold_fit_time(params)
        est = SparseMatrixFactorization(random_state=0, **params)
        est.fit(train)
        t, est = median_time(partial(SparseMatrixFactorization(random_state=0, **params).fit,
                                     train), repeats)
        rows.append(dict(model=name, rmse=-est.score(test), fit_s=t, cold_s=cold,
                         sweeps=est.n_iter_))
    try:
        import pandas as pd
        from surprise import SVD, Dataset, Reader
    except ImportError:
        print("surprise not installed: pip install scikit-surprise", file=sys.stderr)
    else:
        coo = train.tocoo()
        frame = pd.DataFrame({"u": coo.row, "i": coo.col, "r": coo.data})
        trainset = Dataset.load_from_df(frame, Reader(rating_scale=(1, 5))).build_full_trainset()
        tc = test.tocoo()

        def fit_svd():
            algo = SVD(random_state=0)
            algo.fit(trainset)
            return algo
        fit_svd()
        t, algo = median_time(fit_svd, repeats)
        pred = [algo.predict(u, i).est for u, i in zip(tc.row, tc.col)]
        rows.append(dict(model="surprise SVD()", rmse=rmse(pred, tc.data), fit_s=t))
    from sklearn.decomposition import NMF

    def fit_nmf():
        nmf = NMF(n_components=10, init="nndsvda", max_iter=500, random_state=0)
        W = nmf.fit_transform(train)
        return W, nmf.components_
    t, (W, H) = median_time(fit_nmf, 1)
    tc = test.tocoo()
    pred = np.einsum("ij,ji->i", W[tc.row], H[:, tc.col])
    rows.append(dict(model="sklearn NMF(10), zeros observed", rmse=rmse(pred, tc.data),
                     fit_s=t))
    surprise = next((r for r in rows if r["model"].startswith("surprise")), None)
    print("\n## Explicit feedback, MovieLens-100k 80/20 (seed 0)\n")
    print("| model | test RMSE | fit time (s, median) | vs Surprise SVD | cold fit (s) | sweeps |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        ratio = f"{r['fit_s'] / surprise['fit_s']:.3f}x" if surprise else "-"
        cold = f"{r['cold_s']:.3f}" if "cold_s" in r else "-"
        print(f"| {r['model']} | {r['rmse']:.4f} | {r['fit_s']:.4f} | {ratio} | {cold} | "
              f"{r.get('sweeps', '-')} |")
    return rows


# --------------------------------------------------------------------- implicit
GRID_CONF = (1.0, 5.0, 20.0, 40.0)
GRID_REG = (0.1, 1.0, 10.0, 50.0)
ITERS = 15


def positives(X):
    X = X.copy()
    X.data = (X.data >= 4).astype(np.float64)
    X.eliminate_zeros()
    return X


def fit_ours(P, k, conf, reg, dtype, seed=0):
    est = SparseMatrixFactorization(n_components=k, feedback="implicit", alpha=reg,
                                    confidence_scale=conf - 1.0, max_iter=ITERS, tol=0,
                                    random_state=seed)
    est.fit(P.astype(dtype))
    return est


def recs_ours(est, users):
    return est.recommend(users, n=10)[0]


def fit_implicit(P, k, conf, reg, seed=0):
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    model = AlternatingLeastSquares(factors=k, regularization=reg, alpha=conf,
                                    iterations=ITERS, random_state=seed,
                                    calculate_training_loss=False)
    with threadpool_limits(1, "blas"):     # implicit's own advice (check_blas_config)
        model.fit(P.tocsr(), show_progress=False)
    return model


def _fit(dtype, X, k, conf, reg, seed=0):
    """implicit's ALS for ``dtype=None``, else ours on ``X.astype(dtype)``."""
    if dtype is None:
        return fit_implicit(X, k, conf, reg, seed)
    return fit_ours(X, k, conf, reg, dtype, seed)


def _recs(dtype, model, X, users):
    return recs_implicit(model, X, users) if dtype is None else recs_ours(model, users)


def recs_implicit(model, P, users):
    ids, _ = model.recommend(users, P[users], N=10, filter_already_liked_items=True)
    return np.asarray(ids, dtype=np.int64)


def run_implicit(n_seeds, ks):
    train, test = split()
    P, T = positives(train), positives(test)
    users = np.arange(P.shape[0])
    sub, val_pos = train_test_split_interactions(P, 0.2, random_state=1)
    try:
        import implicit  # noqa: F401
        have_implicit = True
    except ImportError:
        print("implicit not installed: pip install implicit", file=sys.stderr)
        have_implicit = False
    libs = {"ours float32": np.float32, "ours float64": np.float64}
    if have_implicit:
        libs["implicit ALS (float32)"] = None
    # the libraries that pick the configuration (float64 is the same model as float32)
    selectors = [lib for lib in libs if lib != "ours float64"]
    rows = []
    for k in ks:
        # one configuration for all: the best mean validation precision of the
        # libraries (they fit the same objective, so they compare at equal
        # hyper-parameters)
        val = {}
        for conf in GRID_CONF:
            for reg in GRID_REG:
                val[conf, reg] = np.mean([
                    precision_at_k(val_pos, _recs(libs[lib], _fit(libs[lib], sub, k, conf, reg),
                                                  sub, users), 10)
                    for lib in selectors])
        conf, reg = max(val, key=val.get)
        for dtype in libs.values():
            _fit(dtype, P, k, conf, reg)                  # warm-up
        runs = {lib: [] for lib in libs}
        for seed in range(n_seeds):
            for lib, dtype in libs.items():               # interleaved: same noise for all
                t, model = median_time(partial(_fit, dtype, P, k, conf, reg, seed), 1)
                rec = _recs(dtype, model, P, users)
                if dtype is None:
                    from implicit.evaluation import precision_at_k as imp_p
                    ip = imp_p(model, P, T, K=10, show_progress=False)
                else:
                    ip = _implicit_metric_of_ours(model, P, T)
                runs[lib].append((precision_at_k(T, rec, 10), ndcg_at_k(T, rec, 10), ip, t))
        for lib in libs:
            r = np.array(runs[lib])
            rows.append(dict(lib=lib, k=k, conf=conf, reg=reg, runs=r,
                             ms_per_iter=1e3 * float(np.median(r[:, 3])) / ITERS))
    print("\n## Implicit feedback, MovieLens-100k ratings >= 4, 80/20 (seed 0), "
          f"{ITERS} iterations, {n_seeds} initialisation seeds (mean +- sd)\n")
    print("| library | k | conf (a) | L2 | p@10 | NDCG@10 | p@10 (implicit's definition) "
          "| ms / iteration (median) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        m, sd = r["runs"].mean(axis=0), r["runs"].std(axis=0)
        print(f"| {r['lib']} | {r['k']} | {r['conf']:g} | {r['reg']:g} | "
              f"{m[0]:.4f} +- {sd[0]:.4f} | {m[1]:.4f} +- {sd[1]:.4f} | "
              f"{m[2]:.4f} +- {sd[2]:.4f} | {r['ms_per_iter']:.2f} |")
    return rows


def _implicit_metric_of_ours(est, P, T):
    """implicit's precision@10 (hits / min(10, |relevant|)) of our recommendations."""
    rec = est.recommend(np.arange(P.shape[0]), n=10)[0]
    hits, denom = 0.0, 0.0
    for u in range(T.shape[0]):
        rel = set(T.indices[T.indptr[u]:T.indptr[u + 1]])
        if rel:
            hits += len(rel.intersection(rec[u]))
            denom += min(10, len(rel))
    return hits / denom


# ------------------------------------------------------------------------ scale
def synthetic(n_users, n_items, nnz, seed=0):
    """Ratings 1-5 at ``nnz`` distinct random positions, power-law item popularity."""
    rng = np.random.default_rng(seed)
    pop = 1.0 / np.arange(1, n_items + 1) ** 0.8
    pop /= pop.sum()
    users = rng.integers(0, n_users, size=int(nnz * 1.05))
    items = rng.choice(n_items, size=users.size, p=pop)
    key = np.unique(users.astype(np.int64) * n_items + items)[:nnz]
    rng.shuffle(key)
    key = np.sort(key[:nnz])
    users, items = key // n_items, key % n_items
    W = rng.normal(size=(n_users, 10)).astype(np.float32) / 3
    H = rng.normal(size=(n_items, 10)).astype(np.float32) / 3
    vals = np.empty(users.size, dtype=np.float32)
    for s in range(0, users.size, 1 << 22):
        e = slice(s, s + (1 << 22))
        vals[e] = 3.5 + np.einsum("ij,ij->i", W[users[e]], H[items[e]])
    vals += rng.normal(scale=0.5, size=vals.size).astype(np.float32)
    vals = np.clip(np.rint(vals), 1, 5).astype(np.float32)
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(users, minlength=n_users), out=indptr[1:])
    X = sp.csr_matrix((vals, items.astype(np.int32), indptr), shape=(n_users, n_items))
    X.has_canonical_format = True
    return X


SCALE_CHILD = r"""
import gc, json, sys, time
import numpy as np
import scipy.sparse as sp
X = sp.load_npz({path!r}).tocsr()
mode, k = {mode!r}, {k}
if mode != "explicit":
    X.data[:] = 1.0
# warm-up (imports, cached machine code, thread pools) before the baseline
if mode == "implicit ALS":
    from threadpoolctl import threadpool_limits
    threadpool_limits(1, "blas")
    from implicit.cpu.als import AlternatingLeastSquares

    def fit(X, iters):
        m = AlternatingLeastSquares(factors=k, iterations=iters, random_state=0,
                                    alpha=40.0, regularization=0.01,
                                    calculate_training_loss=False)
        return m.fit(X, show_progress=False)
else:
    from sparse_estimators.decomposition import SparseMatrixFactorization as M
    extra = dict(confidence_scale=39.0, alpha=0.01) if mode == "implicit" else dict()

    def fit(X, iters):
        return M(n_components=k, feedback=mode, max_iter=iters, tol=0, random_state=0,
                 **extra).fit(X)
fit(X[:1000], 1)
gc.collect()

def rss_kib(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field))

with open("/proc/self/clear_refs", "w") as f:   # reset the peak (VmHWM) to the current RSS
    f.write("5")
base = rss_kib("VmRSS:")
t = time.perf_counter()
model = fit(X, 3)
per = (time.perf_counter() - t) / 3
peak = rss_kib("VmHWM:")
print(json.dumps(dict(per_sweep=per, extra_mb=(peak - base) / 1024,
                      data_mb=(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20)))
"""


def run_scale(n_users, n_items, nnzs, k=32):
    try:
        import implicit  # noqa: F401
        modes = ("explicit", "implicit", "implicit ALS")
    except ImportError:
        modes = ("explicit", "implicit")
    print(f"\n## Scale: {n_users:,} users x {n_items:,} items, n_components={k}\n")
    print("| stored ratings | model | s / sweep | peak memory over baseline (MiB) "
          "| data CSR (MiB) | factors (MiB) |")
    print("|---:|---|---:|---:|---:|---:|")
    rows = []
    for nnz in nnzs:
        with tempfile.TemporaryDirectory() as tmp:
            # built here and read back by each child, so that a child's baseline
            # memory holds the data and nothing freed by the generator
            path = os.path.join(tmp, "ratings.npz")
            sp.save_npz(path, synthetic(n_users, n_items, nnz), compressed=False)
            for mode in modes:
                rows.extend(_scale_child(path, nnz, mode, k, n_users, n_items))
    return rows


def _scale_child(path, nnz, mode, k, n_users, n_items):
    """One fit in a new process; returns its row of the table (or none on failure)."""
    code = SCALE_CHILD.format(path=path, mode=mode, k=k)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:
        print(out.stderr[-2000:], file=sys.stderr)
        return []
    r = json.loads(out.stdout.strip().splitlines()[-1])
    factors = (n_users + n_items) * k * 4 / 2**20
    name = "ours " + mode if mode != "implicit ALS" else "implicit ALS"
    print(f"| {nnz:,} | {name} | {r['per_sweep']:.2f} | {r['extra_mb']:.0f} | "
          f"{r['data_mb']:.0f} | {factors:.0f} |", flush=True)
    return [dict(nnz=nnz, mode=mode, **r)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--parts", default="explicit,implicit,scale")
    ap.add_argument("--scale-nnz", default=None,
                    help="comma-separated stored ratings of the scale part "
                         "(default 1e7,3e7; 1e6 with --quick), e.g. 1e8 (~12 GB)")
    args = ap.parse_args()
    parts = args.parts.split(",")
    import numba
    import sklearn

    versions = {}
    for mod in ("surprise", "implicit"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = "not installed"
    print(f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn "
          f"{sklearn.__version__}, numba {numba.__version__}, surprise {versions['surprise']}, "
          f"implicit {versions['implicit']}; {os.cpu_count()} cores, NUMBA_NUM_THREADS="
          f"{numba.config.NUMBA_NUM_THREADS}")
    repeats = 1 if args.quick else 3
    if "explicit" in parts:
        run_explicit(repeats)
    if "implicit" in parts:
        run_implicit(2 if args.quick else 5, (64,) if args.quick else (64, 100))
    if "scale" in parts:
        if args.scale_nnz:
            nnzs = tuple(int(float(v)) for v in args.scale_nnz.split(","))
            run_scale(1_000_000, 100_000, nnzs)
        elif args.quick:
            run_scale(100_000, 10_000, (1_000_000,))
        else:
            run_scale(1_000_000, 100_000, (10_000_000, 30_000_000))


if __name__ == "__main__":
    main()
