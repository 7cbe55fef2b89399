"""Sparse coding and dictionary learning: sparse_estimators against scikit-learn and SPAMS.

Data.

- ``patches``: 8 x 8 patches of ``sklearn.datasets.load_sample_image("china.jpg")``
  (grey level = mean over the channels, / 255), drawn by
  ``extract_patches_2d(..., max_patches=N, random_state=0)``; each patch minus its own
  mean, then all divided by one global standard deviation. N = 10 000 (``--quick``)
  or 100 000.
- ``tfidf``: :func:`sparse_estimators.datasets.load_docstrings` through
  ``TfidfVectorizer(min_df=2, sublinear_tf=True)`` (CSR, about 2814 x 12000, rows of
  unit norm).

Dictionaries for the coding cases (fixed, shared by every coder, rows of unit norm):
patches: scikit-learn ``MiniBatchDictionaryLearning(alpha=1, batch_size=256,
max_iter=3, fit_algorithm="cd", random_state=0)`` on the first 10 000 patches, 100
or 256 atoms, rows renormalised; tfidf: ``KMeans(n_init=1, random_state=0)``
centroids (dense), 50 or 100 atoms, renormalised. Codes ``C`` are (n_samples,
n_atoms), the dictionary ``D`` is (n_atoms, n_features), and every number below is
computed by this harness from the returned codes, in float64::

    lasso objective   F(C) = sum_i 0.5 ||x_i - c_i D||^2 + alpha ||c_i||_1
    OMP               ||c_i||_0 and the squared residual ||x_i - c_i D||^2

1. **Lasso coding at equal objective.** ``alpha`` is set (bisection on the exact LARS
   solution of 2000 samples) so that codes have about 5 and 15 non-zeros per sample.
   Coders: this library's ``sparse_encode`` with ``"lasso_lars"`` (homotopy, exact) and
   ``"lasso_cd"`` (``tol`` swept by decades); scikit-learn ``sparse_encode`` with
   ``lasso_cd`` (it exposes no ``tol``: its inner ``Lasso`` keeps the default ``1e-4``)
   and ``lasso_lars`` (homotopy, exact); SPAMS ``lasso`` (homotopy/LARS, exact) and
   ``cd`` (coordinate descent from ``A0 = 0``, ``itermax=1000``, ``tol`` swept). The
   reported time is the fastest setting whose objective is within ``1e-6`` (relative) of
   the best any coder reached, median of 3 runs (1 with ``--quick``, or when a run takes
   over 10 s) after an untimed warm-up call on 500 samples. Sweeps go from loose to
   tight tolerances (1e-2 ... 1e-8; 1e-2, 1e-4, 1e-6, 1e-8 with ``--quick``) and stop at
   the first one within ``1e-8`` of the exact SPAMS objective (tighter ones can only be
   slower).
2. **OMP at equal support size**, ``n_nonzero_coefs`` = 5 and 10: this library's
   (dense codes, and CSR codes with ``return_sparse=True``, the output type of SPAMS)
   and scikit-learn's ``sparse_encode(algorithm="omp")``, SPAMS ``omp(L=k)``. Reported:
   time, mean non-zeros, share of samples with exactly k, mean squared residual, and
   the share of samples whose support equals scikit-learn's. SPAMS ``omp`` selects
   each new atom by the residual it leaves after re-projection (order-recursive MP /
   orthogonal least squares), not by its correlation with the residual as textbook
   OMP does, so its supports differ and its residuals are lower: it is a reference
   for speed, not for identical output.
3. **Online dictionary learning**, patches, 80% train / 20% held out, 100 atoms,
   ``alpha = lambda1 = 1``, mini-batches of 256, the same initial dictionary for all
   (100 random training patches, unit norm). For 1, 2, 5 and 10 passes over the
   training set (1, 2, 5 with ``--quick``), each learner is fitted from scratch and
   its dictionary scored on the held-out patches by one fixed exact coder (SPAMS
   ``lasso``, or scikit-learn ``lasso_lars`` without SPAMS)::

       held-out objective = mean_i 0.5 ||x_i - c_i D||^2 + alpha ||c_i||_1

   Learners: this library's and scikit-learn's ``MiniBatchDictionaryLearning``
   with ``fit_algorithm="cd"`` (and ``"lars"``, scikit-learn's default, outside
   ``--quick``), early stopping off (``tol=0, max_no_improvement=None``); SPAMS
   ``trainDL`` (online, ``mode=2, lambda2=0, iter = passes * n_train / 256``). Fit
   times are medians of 3 fits (1 with ``--quick`` or over 10 s), after a warm-up
   fit on 1000 patches.
4. **tfidf**: cases 1 and 2 with a CSR ``X``. Only this library takes CSR input; it is
   timed on CSR and on the dense array; scikit-learn (which rejects sparse ``X``) and
   SPAMS (dense Fortran ``X`` only) get the dense array, converted once, untimed.
   scikit-learn's ``lasso_lars`` stops short of the optimum here (relative gap ~1e-5,
   10% fewer non-zeros, no warning). It depends on scale (multiplying ``X`` and
   ``alpha`` by 100 closes the gap), most likely because ``lars_path`` compares
   ``alpha / n_features`` (about 1e-6 here) with an absolute tolerance, float32 eps.

Threads: ``--threads`` (default: all cores) is passed as ``numThreads`` to SPAMS and
as ``n_jobs`` to the coders of this library and scikit-learn (joblib processes) in
the coding cases; scikit-learn's dictionary learners keep ``n_jobs=None`` (one
process per mini-batch of 256 is all overhead). A coder whose run is projected
(from a timed call on 2000 samples) to take more than ``--max-fit`` seconds is
skipped, as is the rest of a tolerance sweep once one run took over a third of it,
and the rest of a learning curve once its projection (time per pass so far) exceeds it.

Usage::

    python benchmarks/bench_coding.py [--quick] [--out benchmarks/_out/coding.json]
        [--threads 2] [--parts lasso,omp,dl,tfidf] [--max-fit 120]
"""

import argparse
import datetime
import importlib.metadata
import inspect
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
from sklearn.decomposition import MiniBatchDictionaryLearning
from sklearn.decomposition import sparse_encode as sk_encode

try:
    import spams
except ImportError:  # pip install spams-bin
    spams = None

TOLS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
QUICK_TOLS = (1e-2, 1e-4, 1e-6, 1e-8)
TARGET = 1e-6  # relative objective gap counted as "equal objective"
NNZ_TARGETS = (5, 15)  # mean non-zeros per sample that set the lasso alphas
OMP_KS = (5, 10)
DL_ALPHA = 1.0
DL_ATOMS = 100
BATCH = 256
WARMUP, PROBE = 500, 2000  # samples in the warm-up and in the timing probe
SLOW = 10.0  # seconds: a run this long is timed once, not 3 times


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ============================================================================ data
def load_patches(n):
    """(n, 64) centred 8 x 8 patches of china.jpg, divided by their global std."""
    from sklearn.datasets import load_sample_image
    from sklearn.feature_extraction.image import extract_patches_2d

    img = load_sample_image("china.jpg").mean(axis=2) / 255.0
    P = extract_patches_2d(img, (8, 8), max_patches=n, random_state=0).reshape(n, -1)
    P = P - P.mean(axis=1, keepdims=True)
    return np.ascontiguousarray(P / P.std())


def load_tfidf():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from sparse_estimators.datasets import load_docstrings

    texts = load_docstrings().data
    return TfidfVectorizer(min_df=2, sublinear_tf=True).fit_transform(texts).tocsr()


def unit_rows(D):
    D = np.asarray(D, dtype=np.float64)
    return np.ascontiguousarray(D / np.maximum(np.linalg.norm(D, axis=1, keepdims=True),
                                               1e-300))


def patch_dictionary(P, k):
    """k atoms learned by scikit-learn on the first 10 000 patches, unit-norm rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mb = MiniBatchDictionaryLearning(n_components=k, alpha=1.0, batch_size=BATCH,
                                         max_iter=3, fit_algorithm="cd", random_state=0)
        return unit_rows(mb.fit(P[:10_000]).components_)


def tfidf_dictionary(X, k):
    from sklearn.cluster import KMeans

    return unit_rows(KMeans(n_clusters=k, n_init=1, random_state=0).fit(X).cluster_centers_)


# ===================================================================== objectives
class Scorer:
    """Lasso objective and residuals from codes, via ``X D^T`` and ``D D^T`` (works
    for dense and CSR ``X`` without forming the residual matrix)."""

    def __init__(self, X, D):
        self.sq = np.asarray(X.multiply(X).sum(axis=1)).ravel() if sp.issparse(X) \
            else np.einsum("ij,ij->i", X, X)
        self.XDt = np.asarray(X @ D.T)
        self.G = D @ D.T

    def residuals(self, C):
        """Per-sample ||x_i - c_i D||^2."""
        return np.maximum(self.sq - 2 * np.einsum("ij,ij->i", self.XDt, C)
                          + np.einsum("ij,ij->i", C @ self.G, C), 0.0)

    def lasso(self, C, alpha):
        return float(0.5 * self.residuals(C).sum() + alpha * np.abs(C).sum())


def dense_codes(raw):
    """Codes as a dense (n_samples, n_atoms) array; SPAMS returns (n_atoms, n_samples)
    scipy CSC matrices, the others (n_samples, n_atoms)."""
    if isinstance(raw, tuple) and raw[0] == "spams":
        return raw[1].T.toarray()
    return raw.toarray() if sp.issparse(raw) else np.asarray(raw, dtype=np.float64)


def lasso_alpha(X, D, nnz, threads):
    """alpha whose exact lasso codes of the first 2000 samples have ``nnz`` non-zeros
    on average (bisection on log alpha)."""
    Xs = X[:PROBE]
    Xd = Xs.toarray() if sp.issparse(Xs) else Xs
    amax = float(np.abs(np.asarray(Xs @ D.T)).max())
    lo, hi = np.log(amax * 1e-4), np.log(amax)
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        C = exact_lasso(Xd, D, float(np.exp(mid)), threads)
        lo, hi = (lo, mid) if np.count_nonzero(C) / C.shape[0] < nnz else (mid, hi)
        if hi - lo < 1e-3:
            break
    return float(f"{np.exp(0.5 * (lo + hi)):.3g}")


def exact_lasso(Xd, D, alpha, threads):
    """Reference lasso codes: SPAMS homotopy (LARS), or scikit-learn lasso_lars."""
    if spams is not None:
        return spams.lasso(np.asfortranarray(Xd.T), D=np.asfortranarray(D.T),
                           lambda1=alpha, lambda2=0.0, mode=2,
                           numThreads=threads).T.toarray()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sk_encode(Xd, D, algorithm="lasso_lars", alpha=alpha)


# ======================================================================== coders
def load_ours():
    """This library's decomposition module, or None (with the reason printed)."""
    try:
        import sparse_estimators.decomposition as dec
    except Exception as exc:  # not written yet, or broken: skip "ours"
        print(f"> note: `import sparse_estimators.decomposition` failed ({exc!r}); "
              "this library's coders and learners are skipped.")
        return None
    for name in ("sparse_encode", "MiniBatchDictionaryLearning"):
        if not hasattr(dec, name):
            print(f"> note: sparse_estimators.decomposition has no `{name}`; skipped.")
    return dec


def accepted(func, kwargs):
    """The subset of kwargs that ``func`` (or a class's __init__) accepts."""
    params = inspect.signature(func).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return dict(kwargs)
    return {k: v for k, v in kwargs.items() if k in params}


def coders(kind, ours, threads, quick, text):
    """Coders for ``kind`` ("lasso" or "omp"): name -> dict(prep, call, tols).

    ``prep(X, D)`` builds the coder's inputs (untimed: layout conversions), and
    ``call(inputs, tol, param)`` is the timed call; ``param`` is alpha (lasso) or k
    (OMP). ``tols`` is the sweep (``(None,)`` when the coder has no tolerance).
    """
    tols = QUICK_TOLS if quick else TOLS

    def dense(X, D):
        return (X.toarray() if sp.issparse(X) else X), D

    def as_is(X, D):
        return X, D

    out = {}
    if ours is not None and hasattr(ours, "sparse_encode"):
        enc = ours.sparse_encode
        variants = {}
        if kind == "lasso":
            def call_cd(a, tol, alpha):
                return enc(a[0], a[1], algorithm="lasso_cd", alpha=alpha, tol=tol,
                           max_iter=1000, n_jobs=threads)

            def call_lars(a, tol, alpha):
                return enc(a[0], a[1], algorithm="lasso_lars", alpha=alpha, n_jobs=threads)
            variants = {"ours lasso_lars": (call_lars, (None,)),
                        "ours lasso_cd": (call_cd, tols)}
        else:
            def call(a, tol, k):
                return enc(a[0], a[1], algorithm="omp", n_nonzero_coefs=k, n_jobs=threads)

            def call_sparse(a, tol, k):     # CSR codes, the output type of SPAMS
                return enc(a[0], a[1], algorithm="omp", n_nonzero_coefs=k, n_jobs=threads,
                           return_sparse=True)
            variants = {"ours": (call, (None,)), "ours (CSR codes)": (call_sparse, (None,))}
        for name, (call, t) in variants.items():
            if text:
                out[f"{name} (CSR X)"] = dict(prep=as_is, call=call, tols=t)
                out[f"{name} (dense X)"] = dict(prep=dense, call=call, tols=t)
            else:
                out[name] = dict(prep=as_is, call=call, tols=t)

    if kind == "lasso":
        for alg in ("lasso_cd", "lasso_lars"):
            out[f"sklearn {alg}"] = dict(
                prep=dense, tols=(None,),
                call=lambda a, tol, alpha, alg=alg: sk_encode(
                    a[0], a[1], algorithm=alg, alpha=alpha, max_iter=1000, n_jobs=threads))
    else:
        out["sklearn omp"] = dict(prep=dense, tols=(None,), call=lambda a, tol, k: sk_encode(
            a[0], a[1], algorithm="omp", n_nonzero_coefs=k, n_jobs=threads))

    if spams is not None:
        def sprep(X, D):  # columns are signals / atoms; X.T of a C array is Fortran
            Xd = X.toarray() if sp.issparse(X) else X
            return np.asfortranarray(Xd.T), np.asfortranarray(D.T)

        if kind == "lasso":
            out["spams lasso (LARS)"] = dict(
                prep=sprep, tols=(None,),
                call=lambda a, tol, alpha: ("spams", spams.lasso(
                    a[0], D=a[1], lambda1=alpha, lambda2=0.0, mode=2, numThreads=threads)))
            out["spams cd"] = dict(
                prep=sprep, tols=tols,
                call=lambda a, tol, alpha: ("spams", spams.cd(
                    a[0], a[1], sp.csc_matrix((a[1].shape[1], a[0].shape[1])),
                    lambda1=alpha, mode=2, itermax=1000, tol=tol, numThreads=threads)))
        else:
            out["spams omp"] = dict(prep=sprep, tols=(None,), call=lambda a, tol, k: (
                "spams", spams.omp(a[0], a[1], L=k, numThreads=threads)))
    return out


#: Pause before each timed call: OpenBLAS and OpenMP worker threads keep spinning for
#: tens of milliseconds after a call (the harness's own BLAS scoring, or another
#: library's threads); a coder timed while they spin runs up to 2x slower on 2 cores.
PAUSE = 0.2


def timed(fn, repeats):
    """Median wall time of ``repeats`` calls (a single call when it takes over SLOW),
    each after a ``PAUSE`` that lets other libraries' worker threads fall asleep."""
    times = []
    for _ in range(repeats):
        time.sleep(PAUSE)
        t0 = time.perf_counter()
        raw = fn()
        times.append(time.perf_counter() - t0)
        if times[-1] > SLOW:
            break
    return float(np.median(times)), raw


def sweep_coder(spec, X, D, param, repeats, max_fit, measure, done=None):
    """Warm up, probe, then time every tol; ``measure(codes)`` (untimed) gives each
    point's numbers, and the sweep stops at the first point for which ``done(point)``
    holds. Returns (points, note)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec["call"](spec["prep"](X[:WARMUP], D), spec["tols"][0], param)  # warm-up
        n = X.shape[0]
        if n > 2 * PROBE:  # project the full run's time from 2000 samples
            probe_in = spec["prep"](X[:PROBE], D)
            t0 = time.perf_counter()
            spec["call"](probe_in, spec["tols"][-1], param)
            projected = (time.perf_counter() - t0) * n / PROBE
            if projected > max_fit:
                return [], f"skipped: projected {projected:.0f} s > --max-fit"
        inputs = spec["prep"](X, D)
        points = []
        for tol in spec["tols"]:
            t, raw = timed(lambda tol=tol: spec["call"](inputs, tol, param), repeats)
            points.append(dict(tol=tol, time=t, **measure(dense_codes(raw))))
            del raw
            if t > max_fit / 3 or (done is not None and done(points[-1])):
                break
    return points, None


# ===================================================================== part 1: lasso
def lasso_case(data, X, D, ours, args, threads):
    scorer = Scorer(X, D)
    rows = []
    for nnz in NNZ_TARGETS:
        alpha = lasso_alpha(X, D, nnz, threads)
        sweeps, notes = {}, {}

        def measure(C, alpha=alpha):
            return dict(obj=scorer.lasso(C, alpha), nnz=float(np.count_nonzero(C) / C.shape[0]))

        # Exact (homotopy) objective: a sweep stops once it is within TARGET / 100 of
        # it, as tighter tolerances can then only be slower. Only with SPAMS (fast).
        ref = None
        if spams is not None:
            Xd = X.toarray() if sp.issparse(X) else X
            ref = scorer.lasso(exact_lasso(Xd, D, alpha, threads), alpha)
            del Xd

        def done(p, ref=ref):
            return ref is not None and (p["obj"] - ref) / abs(ref) <= TARGET / 100

        for name, spec in coders("lasso", ours, threads, args.quick, sp.issparse(X)).items():
            try:
                points, note = sweep_coder(spec, X, D, alpha, args.repeats, args.max_fit,
                                           measure, done)
            except Exception as exc:  # a coder under development may fail
                points, note = [], f"error: {exc!r}"[:200]
            sweeps[name], notes[name] = points, note
            log(f"  lasso {data} k={D.shape[0]} alpha={alpha:g} {name}: "
                + (note or ", ".join(f"{p['time']:.3g}s" for p in points)))
        best = min(p["obj"] for pts in sweeps.values() for p in pts)
        for name, pts in sweeps.items():
            for p in pts:
                p["gap"] = (p["obj"] - best) / abs(best)
            hit = [p for p in pts if p["gap"] <= TARGET]
            pick = min(hit, key=lambda p: p["time"]) if hit else (
                min(pts, key=lambda p: p["gap"]) if pts else None)
            rows.append(dict(data=data, n=X.shape[0], atoms=D.shape[0], target_nnz=nnz,
                             alpha=alpha, solver=name, reached=bool(hit), note=notes[name],
                             **({k: pick[k] for k in ("tol", "time", "obj", "gap", "nnz")}
                                if pick else {}), sweep=pts))
    return rows


# ======================================================================= part 2: OMP
def omp_case(data, X, D, ours, args, threads):
    scorer = Scorer(X, D)
    rows = []
    for k in OMP_KS:
        results = {}
        for name, spec in coders("omp", ours, threads, args.quick, sp.issparse(X)).items():
            try:
                points, note = sweep_coder(spec, X, D, k, args.repeats, args.max_fit,
                                           lambda C: dict(codes=C))
            except Exception as exc:
                points, note = [], f"error: {exc!r}"[:200]
            results[name] = (points[0] if points else None, note)
            log(f"  omp {data} k_atoms={D.shape[0]} n_nonzero={k} {name}: "
                + (note or f"{points[0]['time']:.3g}s"))
        ref = results.get("sklearn omp", (None, None))[0]
        ref_support = None if ref is None else ref["codes"] != 0
        for name, (p, note) in results.items():
            row = dict(data=data, n=X.shape[0], atoms=D.shape[0], k=k, solver=name, note=note)
            if p is not None:
                C = p["codes"]
                per = np.count_nonzero(C, axis=1)
                row.update(time=p["time"], nnz=float(per.mean()),
                           exact_k=float(np.mean(per == k)),
                           residual=float(scorer.residuals(C).mean()),
                           same_support=None if ref_support is None else
                           float(np.mean(((C != 0) == ref_support).all(axis=1))))
            rows.append(row)
    return rows


# ========================================================= part 3: dictionary learning
def learners(ours, threads, quick):
    """name -> fit(X_train, D0, passes) -> dictionary (n_atoms, n_features)."""
    out = {}
    algs = ("cd",) if quick else ("cd", "lars")
    if ours is not None and hasattr(ours, "MiniBatchDictionaryLearning"):
        cls = ours.MiniBatchDictionaryLearning
        for alg in algs:
            def fit_ours(Xt, D0, passes, alg=alg):
                kw = dict(n_components=D0.shape[0], alpha=DL_ALPHA, batch_size=BATCH,
                          max_iter=passes, dict_init=D0, fit_algorithm=alg, tol=0.0,
                          max_no_improvement=None, random_state=0, n_jobs=threads)
                return cls(**accepted(cls, kw)).fit(Xt).components_
            out[f"ours ({alg})"] = fit_ours

    for alg in algs:
        def fit_sk(Xt, D0, passes, alg=alg):
            return MiniBatchDictionaryLearning(
                n_components=D0.shape[0], alpha=DL_ALPHA, batch_size=BATCH,
                max_iter=passes, dict_init=D0, fit_algorithm=alg, tol=0.0,
                max_no_improvement=None, random_state=0).fit(Xt).components_
        out[f"sklearn ({alg})"] = fit_sk

    if spams is not None:
        def fit_spams(Xt, D0, passes):
            n_iter = int(math.ceil(passes * Xt.shape[0] / BATCH))
            D = spams.trainDL(np.asfortranarray(Xt.T), D=np.asfortranarray(D0.T),
                              lambda1=DL_ALPHA, lambda2=0.0, mode=2, iter=n_iter,
                              batchsize=BATCH, numThreads=threads, verbose=False)
            return np.ascontiguousarray(D.T)
        out["spams trainDL"] = fit_spams
    return out


def heldout_objective(Xh, D, threads):
    """Mean lasso objective and mean non-zeros of the exact codes of Xh on D."""
    C = exact_lasso(Xh, D, DL_ALPHA, threads)
    return Scorer(Xh, D).lasso(C, DL_ALPHA) / Xh.shape[0], float(np.count_nonzero(C)
                                                                  / C.shape[0])


def dl_curves(P, ours, args, threads):
    rng = np.random.default_rng(0)
    perm = rng.permutation(P.shape[0])
    n_train = int(0.8 * P.shape[0])
    Xt, Xh = P[perm[:n_train]], P[perm[n_train:]]
    D0 = unit_rows(Xt[rng.choice(n_train, DL_ATOMS, replace=False)])
    obj0, nnz0 = heldout_objective(Xh, D0, threads)
    rows = [dict(solver="init", passes=0, time=0.0, heldout=obj0, heldout_nnz=nnz0)]
    passes_list = (1, 2, 5) if args.quick else (1, 2, 5, 10)
    for name, fit in learners(ours, threads, args.quick).items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit(Xt[:WARMUP * 2], D0, 1)  # warm-up (numba compilation, imports)
        except Exception as exc:
            rows.append(dict(solver=name, note=f"error: {exc!r}"[:200]))
            log(f"  dl {name}: error {exc!r}")
            continue
        per_pass = 0.0
        for passes in passes_list:
            if per_pass * passes > args.max_fit:  # projected from the previous fit
                rows.append(dict(solver=name, note=f"{passes} passes skipped: projected "
                                 f"{per_pass * passes:.0f} s > --max-fit"))
                log(f"  dl {name}: {rows[-1]['note']}")
                break
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t, D = timed(lambda fit=fit, passes=passes: fit(Xt, D0, passes),
                                 args.repeats)
            except Exception as exc:  # a learner under development may fail
                rows.append(dict(solver=name, note=f"error: {exc!r}"[:200]))
                log(f"  dl {name}: error {exc!r}")
                break
            obj, nnz = heldout_objective(Xh, np.asarray(D, dtype=np.float64), threads)
            rows.append(dict(solver=name, passes=passes, time=t, heldout=obj,
                             heldout_nnz=nnz,
                             max_atom_norm=float(np.linalg.norm(D, axis=1).max())))
            log(f"  dl {name} passes={passes}: {t:.2f}s, held-out {obj:.5f}")
            per_pass = t / passes
    return dict(n_train=n_train, n_heldout=Xh.shape[0], rows=rows)


# ====================================================================== reporting
def header(args, threads):
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"

    def version(dist, module=None):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return getattr(module, "__version__", "not installed")

    import numba

    import sparse_estimators
    vers = dict(python=platform.python_version(), numpy=np.__version__,
                scipy=scipy.__version__, sklearn=sklearn.__version__,
                numba=numba.__version__,
                spams=version("spams-bin") if spams is not None else "not installed",
                sparse_estimators=sparse_estimators.__version__)
    info = dict(command=" ".join([os.path.basename(sys.executable)] + sys.argv),
                date=datetime.datetime.now(datetime.timezone.utc).strftime(
                    "%Y-%m-%d %H:%M UTC"),
                cpu=cpu, cores=os.cpu_count(), threads=threads, versions=vers)
    lines = [f"- command: `{info['command']}`", f"- date: {info['date']}",
             f"- machine: {cpu}, {os.cpu_count()} cores; threads given to the solvers: "
             f"{threads}",
             "- versions: " + ", ".join(f"{k} {v}" for k, v in vers.items())]
    return info, lines


def fmt_t(t):
    return "-" if t is None else (f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s")


def lasso_table(rows):
    out = ["| data | n | atoms | alpha (nnz target) | coder | tol | time | rel. gap | "
           "mean nnz |", "|---|---:|---:|---|---|---:|---:|---:|---:|"]
    for r in rows:
        if "time" not in r:
            out.append(f"| {r['data']} | {r['n']} | {r['atoms']} | {r['alpha']:g} "
                       f"({r['target_nnz']}) | {r['solver']} | | {r['note']} | | |")
            continue
        tol = "-" if r["tol"] is None else f"{r['tol']:.0e}"
        t = fmt_t(r["time"]) if r["reached"] else f"never (best at {fmt_t(r['time'])})"
        out.append(f"| {r['data']} | {r['n']} | {r['atoms']} | {r['alpha']:g} "
                   f"({r['target_nnz']}) | {r['solver']} | {tol} | {t} | {r['gap']:.1e} | "
                   f"{r['nnz']:.2f} |")
    return out


def omp_table(rows):
    out = ["| data | n | atoms | k | coder | time | mean nnz | exactly k | mean sq. residual "
           "| support = sklearn |", "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "time" not in r:
            out.append(f"| {r['data']} | {r['n']} | {r['atoms']} | {r['k']} | {r['solver']} "
                       f"| {r['note']} | | | | |")
            continue
        same = "-" if r["same_support"] is None else f"{r['same_support']:.2%}"
        out.append(f"| {r['data']} | {r['n']} | {r['atoms']} | {r['k']} | {r['solver']} | "
                   f"{fmt_t(r['time'])} | {r['nnz']:.3f} | {r['exact_k']:.2%} | "
                   f"{r['residual']:.5g} | {same} |")
    return out


def dl_table(dl):
    out = ["| learner | passes | fit time | held-out objective | held-out nnz |",
           "|---|---:|---:|---:|---:|"]
    for r in dl["rows"]:
        if "passes" not in r:
            out.append(f"| {r['solver']} | | {r['note']} | | |")
            continue
        out.append(f"| {r['solver']} | {r['passes']} | {fmt_t(r['time'])} | "
                   f"{r['heldout']:.5f} | {r['heldout_nnz']:.2f} |")
    return out


# ============================================================================ main
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="10k patches, 100 atoms, tfidf with 50 atoms, 4 tols, 1 repeat")
    ap.add_argument("--out", default=None, help="write raw results as JSON (and .md)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="SPAMS numThreads and n_jobs of the coders (default: all cores)")
    ap.add_argument("--parts", default="lasso,omp,dl,tfidf",
                    help="comma-separated subset of lasso,omp,dl,tfidf")
    ap.add_argument("--max-fit", type=float, default=None,
                    help="seconds; longer coders/learners are skipped or cut "
                         "(default 20 with --quick, 120 otherwise)")
    args = ap.parse_args()
    args.repeats = 1 if args.quick else 3
    if args.max_fit is None:
        args.max_fit = 20.0 if args.quick else 120.0
    parts = set(args.parts.split(","))
    threads = args.threads
    t_start = time.perf_counter()

    info, head = header(args, threads)
    print("\n".join(head))
    if spams is None:
        print("> note: `import spams` failed (pip install spams-bin); SPAMS skipped.")
    ours = load_ours()
    results = dict(info=info, lasso=[], omp=[], dl=None)

    n = 10_000 if args.quick else 100_000
    if parts & {"lasso", "omp", "dl"}:
        P = load_patches(n)
        log(f"patches: {P.shape}")
        for k in (100,) if args.quick else (100, 256):
            if not parts & {"lasso", "omp"}:
                break
            D = patch_dictionary(P, k)
            if "lasso" in parts:
                results["lasso"] += lasso_case("patches", P, D, ours, args, threads)
            if "omp" in parts:
                results["omp"] += omp_case("patches", P, D, ours, args, threads)
        if "dl" in parts:
            results["dl"] = dl_curves(P, ours, args, threads)
    if "tfidf" in parts:
        X = load_tfidf()
        log(f"tfidf: {X.shape}, nnz {X.nnz}")
        for k in (50,) if args.quick else (50, 100):
            D = tfidf_dictionary(X, k)
            results["lasso"] += lasso_case("tfidf", X, D, ours, args, threads)
            results["omp"] += omp_case("tfidf", X, D, ours, args, threads)

    md = []
    if results["lasso"]:
        md += ["", f"### Lasso coding: fastest run within {TARGET:g} (relative) of the "
               "best objective", ""] + lasso_table(results["lasso"])
    if results["omp"]:
        md += ["", "### OMP at fixed support size", ""] + omp_table(results["omp"])
    if results["dl"]:
        dl = results["dl"]
        md += ["", f"### Online dictionary learning: {DL_ATOMS} atoms, alpha {DL_ALPHA:g}, "
               f"batch {BATCH}, {dl['n_train']} training / {dl['n_heldout']} held-out "
               "patches", ""] + dl_table(dl)
    md += ["", f"total wall time: {time.perf_counter() - t_start:.0f} s"]
    print("\n".join(md))
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1, default=float))
        out.with_suffix(".md").write_text("\n".join(head + md) + "\n")


if __name__ == "__main__":
    main()
