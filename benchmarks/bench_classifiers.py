"""L1 logistic regression: time to a relative suboptimality, against the anchors.

First version (issue 4, in progress): one real text dataset, binary, no intercept
(the only setting where liblinear's objective is the same as everyone's; it
penalises the intercept), pure L1 penalty. For each C, each solver's ``tol`` is
swept by decades; the harness computes ``P(w) = C * sum_i log(1 + exp(-y_i x_i.w))
+ ||w||_1`` from the returned ``coef_`` and reports, per solver, the time of the
fastest fit (median of 3 after a warm-up) whose ``P`` is within 1e-6 relative of the
best ``P`` any solver reached.

Solvers: this library's ``SparseLogisticRegression``; scikit-learn's
``LogisticRegression`` with liblinear and saga; skglm's ``SparseLogisticRegression``
(``alpha = 1 / (C n)``: it minimises the mean loss); celer's ``LogisticRegression``.

Usage::

    python benchmarks/bench_classifiers.py [--C 1,10,100] [--out benchmarks/_out/clf.json]
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from sparse_estimators.datasets import load_docstrings
from sparse_estimators.linear_model import SparseLogisticRegression

TOLS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
TARGET = 1e-6
SLOW = 5.0  # seconds: a solver whose fit takes longer stops its sweep


def load():
    b = load_docstrings()
    X = TfidfVectorizer(min_df=2, sublinear_tf=True).fit_transform(b.data).tocsr()
    y = (np.asarray(b.target) == list(b.target_names).index("sklearn")).astype(int)
    return X, y, ("TF-IDF of numpy/scipy/scikit-learn docstrings "
                  "(sparse_estimators.datasets.load_docstrings), y = 'is scikit-learn'")


def makers(C, n):
    out = {
        "ours": lambda tol: SparseLogisticRegression(C=C, fit_intercept=False, tol=tol),
        "liblinear": lambda tol: LogisticRegression(
            C=C, l1_ratio=1.0, solver="liblinear", fit_intercept=False, tol=tol,
            max_iter=10_000),
        "saga": lambda tol: LogisticRegression(
            C=C, l1_ratio=1.0, solver="saga", fit_intercept=False, tol=tol, max_iter=10_000),
    }
    try:
        from skglm import SparseLogisticRegression as SkglmLR
        out["skglm"] = lambda tol: SkglmLR(alpha=1.0 / (C * n), fit_intercept=False, tol=tol,
                                           max_iter=200)
    except ImportError:
        pass
    try:
        from celer import LogisticRegression as CelerLR
        out["celer"] = lambda tol: CelerLR(C=C, tol=tol, max_iter=200, fit_intercept=False)
    except ImportError:
        pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--C", default="1,10,100")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    X, y, source = load()
    ypm = 2.0 * y - 1.0
    n = X.shape[0]
    print(f"{source}: {X.shape[0]} x {X.shape[1]}, nnz {X.nnz}, positives {y.mean():.3f}")
    rows = []
    for C in [float(c) for c in args.C.split(",")]:
        def objective(w, C=C):
            return C * float(np.sum(np.logaddexp(0.0, -ypm * (X @ w)))) + float(np.abs(w).sum())

        sweeps = {}
        for name, make in makers(C, n).items():
            make(TOLS[0]).fit(X, y)  # warm-up (numba cache, imports)
            points = []
            for tol in TOLS:
                times = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    est = make(tol).fit(X, y)
                    times.append(time.perf_counter() - t0)
                    if times[-1] > SLOW:
                        break
                w = np.asarray(est.coef_, dtype=np.float64).ravel()
                points.append(dict(tol=tol, time=float(np.median(times)), obj=objective(w),
                                   nnz=int(np.count_nonzero(w))))
                if points[-1]["time"] > SLOW:
                    break
            sweeps[name] = points
        best = min(p["obj"] for pts in sweeps.values() for p in pts)
        print(f"C={C:g}: best objective {best:.12g}")
        for name, pts in sweeps.items():
            hit = [p for p in pts if (p["obj"] - best) / best <= TARGET]
            t = min(p["time"] for p in hit) if hit else None
            sub = min((p["obj"] - best) / best for p in pts)
            rows.append(dict(C=C, solver=name, time=t, best_subopt=sub, nnz=pts[-1]["nnz"],
                             sweep=pts))
            print(f"  {name:10s} time to {TARGET:g}: "
                  f"{'never' if t is None else f'{t * 1e3:8.1f} ms'}  nnz {pts[-1]['nnz']}"
                  f"  best suboptimality {sub:.1e}")
        ours = next(r["time"] for r in rows if r["C"] == C and r["solver"] == "ours")
        anchors = [r["time"] for r in rows if r["C"] == C and r["solver"] != "ours"
                   and r["time"] is not None]
        if ours and anchors:
            print(f"  ours / fastest anchor: {ours / min(anchors):.2f}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(dict(source=source, shape=list(X.shape),
                                                  rows=rows), indent=1))


if __name__ == "__main__":
    main()
