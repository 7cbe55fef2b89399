"""Sparse linear classifiers: time to a relative suboptimality, against the anchors.

Cases (issue 4): three datasets x three sparsity levels x two losses.

- ``text2``: TF-IDF of the numpy / scipy / scikit-learn docstrings
  (:func:`sparse_estimators.datasets.load_docstrings`), binary "is scikit-learn";
- ``text3``: the same documents, 3 classes (one-vs-rest);
- ``synth``: random sparse binary problem, 4000 x 20000, 0.25% dense, 100 informative
  features, 5% label noise.

For each case ``C`` is set so that about 0.1%, 1% or 10% of the weights are non-zero
(found once on this library's warm-started path, :func:`classifier_path`). No
intercept: the only setting where liblinear's objective (it penalises the
intercept) equals everyone's. Objective computed by the harness from ``coef_``, one
binary problem per row (one-vs-rest), summed::

    logistic:       C * sum_i log(1 + exp(-y_i x_i.w)) + ||w||_1
    squared hinge:  C * sum_i max(0, 1 - y_i x_i.w)^2 + ||w||_1

Each solver's ``tol`` is swept by decades; the reported time is the fastest fit
(median of 3 after a warm-up) whose objective is within ``1e-6`` relative of the
best any solver reached. Solvers, logistic: this library's
``SparseLogisticRegression``; scikit-learn ``LogisticRegression`` with liblinear
and saga; skglm ``SparseLogisticRegression``; celer ``LogisticRegression``
(multiclass: through ``OneVsRestClassifier``, the same
objective; scikit-learn 1.9's liblinear logistic regression is binary only, so it
is wrapped too). Squared hinge: this library's
``SparseLinearSVC`` against ``LinearSVC(penalty="l1", dual=False)`` (liblinear);
skglm, celer and saga have no L1 squared-hinge SVM.

Then held-out accuracy of this library and liblinear on ``text3`` with an intercept
(each with its own: unpenalised here, penalised in liblinear), default ``tol``.

Usage::

    python benchmarks/bench_classifiers.py [--quick] [--out benchmarks/_out/clf.json]
"""

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import LinearSVC

import sparse_estimators
from sparse_estimators.datasets import load_docstrings
from sparse_estimators.linear_model import (
    SparseLinearSVC,
    SparseLogisticRegression,
    classifier_path,
)

TOLS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
TARGET = 1e-6
LEVELS = (0.001, 0.01, 0.1)
SLOW = 5.0  # seconds: a solver whose fit takes longer stops its sweep


def datasets(quick):
    b = load_docstrings()
    X = TfidfVectorizer(min_df=2, sublinear_tf=True).fit_transform(b.data).tocsr()
    y3 = np.asarray(b.target)
    out = {"text2": (X, (y3 == list(b.target_names).index("sklearn")).astype(int)),
           "text3": (X, y3)}
    if not quick:
        rng = np.random.default_rng(0)
        n, p = 4000, 20000
        Xs = sp.random(n, p, density=0.0025, format="csr", random_state=0,
                       data_rvs=rng.standard_normal)
        w = np.zeros(p)
        w[rng.choice(p, 100, replace=False)] = rng.standard_normal(100)
        margin = Xs @ w
        ys = (margin + 0.1 * np.std(margin) * rng.standard_normal(n) > 0).astype(int)
        flip = rng.random(n) < 0.05
        out["synth"] = (Xs, np.where(flip, 1 - ys, ys))
    return out


def objective(coef, X, y, C, loss):
    """Sum over one-vs-rest rows of the penalised loss (harness-side)."""
    classes = np.unique(y)
    rows = [classes[1]] if classes.shape[0] == 2 else classes
    total = 0.0
    for k, cls in enumerate(rows):
        s = np.where(y == cls, 1.0, -1.0)
        z = s * np.asarray(X @ coef[k]).ravel()
        data = (np.sum(np.logaddexp(0.0, -z)) if loss == "logistic"
                else np.sum(np.maximum(0.0, 1.0 - z) ** 2))
        total += C * float(data) + float(np.abs(coef[k]).sum())
    return total


def coef_matrix(est):
    if hasattr(est, "coef_"):
        return np.atleast_2d(np.asarray(est.coef_.toarray() if sp.issparse(est.coef_)
                                        else est.coef_, dtype=np.float64))
    return np.vstack([coef_matrix(e) for e in est.estimators_])


def makers(C, n, loss, multiclass):
    if loss == "squared_hinge":
        return {
            "ours": lambda tol: SparseLinearSVC(C=C, fit_intercept=False, tol=tol),
            "liblinear": lambda tol: LinearSVC(C=C, penalty="l1", dual=False,
                                               fit_intercept=False, tol=tol,
                                               max_iter=10_000),
        }

    def ovr(make):
        return (lambda tol: OneVsRestClassifier(make(tol))) if multiclass else make

    out = {
        "ours": lambda tol: SparseLogisticRegression(C=C, fit_intercept=False, tol=tol),
        "liblinear": ovr(lambda tol: LogisticRegression(
            C=C, l1_ratio=1.0, solver="liblinear", fit_intercept=False, tol=tol,
            max_iter=10_000)),
        "saga": ovr(lambda tol: LogisticRegression(
            C=C, l1_ratio=1.0, solver="saga", fit_intercept=False, tol=tol,
            max_iter=10_000)),
    }
    try:
        from skglm import SparseLogisticRegression as SkglmLR
        out["skglm"] = ovr(lambda tol: SkglmLR(alpha=1.0 / (C * n), fit_intercept=False,
                                               tol=tol, max_iter=200))
    except ImportError:
        pass
    try:
        from celer import LogisticRegression as CelerLR
        out["celer"] = ovr(lambda tol: CelerLR(C=C, tol=tol, max_iter=200,
                                               fit_intercept=False))
    except ImportError:
        pass
    return out


def c_for_density(X, y, loss, level):
    """C whose model has about ``level`` of its weights non-zero (log-interpolated on
    a 60-point warm-started path, then refined by bisection)."""
    Cs, coefs, _, _ = classifier_path(X, y, loss=loss, Cs=60, eps=1e-5, fit_intercept=False,
                                      tol=1e-6)
    dens = np.array([np.mean(coefs[:, i] != 0) for i in range(Cs.shape[0])])
    i = int(np.searchsorted(dens, level))
    if i == 0 or i >= Cs.shape[0]:
        return float(Cs[min(i, Cs.shape[0] - 1)])
    lo, hi = np.log(Cs[i - 1]), np.log(Cs[i])
    Est = SparseLogisticRegression if loss == "logistic" else SparseLinearSVC
    for _ in range(6):
        mid = 0.5 * (lo + hi)
        d = np.mean(Est(C=np.exp(mid), fit_intercept=False, tol=1e-6).fit(X, y).coef_ != 0)
        lo, hi = (mid, hi) if d < level else (lo, mid)
    return float(np.exp(0.5 * (lo + hi)))


def run_case(name, X, y, loss, level, quick):
    multiclass = np.unique(y).shape[0] > 2
    C = c_for_density(X, y, loss, level)
    sweeps = {}
    for solver, make in makers(C, X.shape[0], loss, multiclass).items():
        make(TOLS[0]).fit(X, y)  # warm-up (numba cache, imports)
        points = []
        for tol in TOLS[:5] if quick else TOLS:
            times = []
            for _ in range(1 if quick else 3):
                t0 = time.perf_counter()
                est = make(tol).fit(X, y)
                times.append(time.perf_counter() - t0)
                if times[-1] > SLOW:
                    break
            coef = coef_matrix(est)
            points.append(dict(tol=tol, time=float(np.median(times)),
                               obj=objective(coef, X, y, C, loss),
                               density=float(np.mean(coef != 0))))
            if points[-1]["time"] > SLOW:
                break
        sweeps[solver] = points
    best = min(p["obj"] for pts in sweeps.values() for p in pts)
    rows = []
    for solver, pts in sweeps.items():
        hit = [p for p in pts if (p["obj"] - best) / best <= TARGET]
        rows.append(dict(case=name, loss=loss, level=level, C=C, solver=solver,
                         time=min(p["time"] for p in hit) if hit else None,
                         best_subopt=min((p["obj"] - best) / best for p in pts),
                         density=pts[-1]["density"], sweep=pts))
    return rows


def accuracy(X, y):
    """Held-out accuracy with an intercept, this library vs liblinear, over C."""
    Xt, Xv, yt, yv = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    out = []
    for C in (1.0, 10.0, 100.0):
        ours = SparseLogisticRegression(C=C).fit(Xt, yt)
        lib = OneVsRestClassifier(LogisticRegression(C=C, l1_ratio=1.0,
                                                     solver="liblinear")).fit(Xt, yt)
        out.append(dict(C=C, ours=ours.score(Xv, yv), liblinear=lib.score(Xv, yv),
                        ours_nnz=int(np.count_nonzero(ours.coef_)),
                        liblinear_nnz=int(np.count_nonzero(coef_matrix(lib))),
                        n_test=len(yv)))
    return out


def fmt_time(t):
    return "never" if t is None else f"{t * 1e3:.1f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="text data, 5 tols, 1 repeat")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    import numba
    print(f"Python {platform.python_version()}, numpy {np.__version__}, scikit-learn "
          f"{sklearn.__version__}, numba {numba.__version__}, sparse_estimators "
          f"{sparse_estimators.__version__}")
    rows = []
    data = datasets(args.quick)
    for name, (X, y) in data.items():
        print(f"{name}: {X.shape[0]} x {X.shape[1]}, nnz {X.nnz}, classes "
              f"{np.unique(y).shape[0]}", flush=True)
        for loss in ("logistic", "squared_hinge"):
            for level in LEVELS:
                case = run_case(name, X, y, loss, level, args.quick)
                rows.extend(case)
                print(f"  {loss} {level:.1%} (C={case[0]['C']:.4g}): " + ", ".join(
                    f"{r['solver']} {fmt_time(r['time'])}" for r in case), flush=True)
    print("\n| case | loss | target density | C | density | ours | fastest anchor | "
          "ours / fastest |")
    print("|---|---|---:|---:|---:|---:|---|---:|")
    ratios = []
    for key in dict.fromkeys((r["case"], r["loss"], r["level"]) for r in rows):
        case = [r for r in rows if (r["case"], r["loss"], r["level"]) == key]
        ours = next(r for r in case if r["solver"] == "ours")
        anchors = [r for r in case if r["solver"] != "ours" and r["time"] is not None]
        fastest = min(anchors, key=lambda r: r["time"]) if anchors else None
        ratio = (ours["time"] / fastest["time"] if ours["time"] and fastest else None)
        if ratio is not None:
            ratios.append(ratio)
        print(f"| {key[0]} | {key[1]} | {key[2]:.1%} | {ours['C']:.4g} | "
              f"{ours['density']:.2%} | {fmt_time(ours['time'])} | "
              + (f"{fastest['solver']} {fmt_time(fastest['time'])}" if fastest else "none")
              + f" | {'n/a' if ratio is None else f'{ratio:.2f}'} |")
    if ratios:
        print(f"\nours / fastest anchor: median {np.median(ratios):.2f}, "
              f"max {np.max(ratios):.2f}, over {len(ratios)} cases")
    print("\nAll solvers, time to 1e-6 (best suboptimality reached when never):")
    for key in dict.fromkeys((r["case"], r["loss"], r["level"]) for r in rows):
        case = [r for r in rows if (r["case"], r["loss"], r["level"]) == key]
        print(f"- {key[0]} {key[1]} {key[2]:.1%}: " + ", ".join(
            f"{r['solver']} " + (fmt_time(r["time"]) if r["time"] is not None
                                 else f"never ({r['best_subopt']:.1e})") for r in case))
    acc = accuracy(*data["text3"])
    print("\nHeld-out accuracy, text3 with intercept (25% test split):")
    print("| C | ours | liblinear | ours nnz | liblinear nnz |")
    print("|---:|---:|---:|---:|---:|")
    for a in acc:
        print(f"| {a['C']:g} | {a['ours']:.4f} | {a['liblinear']:.4f} | {a['ours_nnz']} | "
              f"{a['liblinear_nnz']} |")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(dict(rows=rows, accuracy=acc), indent=1))


if __name__ == "__main__":
    main()
