#!/usr/bin/env python
"""Lasso / ElasticNet benchmark: sparse_estimators against scikit-learn, skglm, celer.

Every solver is timed *at matched optimality*: the harness recomputes, in float64
and from the returned ``coef_`` and ``intercept_`` only, the objective

    P(w, b) = ||y - X w - b||^2 / (2 n) + alpha * l1_ratio * ||w||_1
              + 0.5 * alpha * (1 - l1_ratio) * ||w||_2^2

and a duality gap G (dual point: the rescaled residual of the centred problem, the
rule of scikit-learn's coordinate descent). With ``fit_intercept=True`` the gap is
that of the centred problem plus ``(b - b*(w))^2 / 2``, the excess objective of the
returned intercept over the optimal one for the returned ``w``, so a wrong intercept
is charged for. Gaps are normalised by ``||y_c||^2 / (2 n)`` (``y_c = y - mean(y)``
with an intercept, ``y`` without). Each solver's ``tol`` is swept down a fixed
sequence; the time to reach a target normalised gap is the time of the first
(loosest) ``tol`` whose fit reaches it. Times are medians of repeated fits after an
untimed warm-up fit (numba compilation excluded); cold-start costs are measured
separately in fresh processes.

Run ``python benchmarks/bench_lasso.py --help``; see ``benchmarks/README.md``.
"""

import argparse
import datetime
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

SOLVERS = ("ours", "sklearn", "skglm", "celer")
ANCHORS = ("sklearn", "skglm", "celer")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# =============================================================================== data
def _synthetic(n, p, density, seed, dense=False):
    """Sparse (or dense Gaussian) regression problem with an intercept shift."""
    try:
        from sparse_estimators.datasets import make_sparse_regression
    except ImportError:  # loader not available: equivalent inline generator
        make_sparse_regression = None
    if dense:
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, p))
        w = np.zeros(p)
        sup = rng.choice(p, 20, replace=False)
        w[sup] = rng.choice([-1.0, 1.0], 20) * rng.uniform(1, 2, 20)
        y = X @ w + 5.0 + rng.standard_normal(n)
        return X, y, "dense Gaussian N(0,1), 20 informative features, noise 1, shift 5"
    if make_sparse_regression is not None:
        X, y = make_sparse_regression(n, p, density=density, n_informative=20,
                                      noise=1.0, fit_intercept_shift=5.0,
                                      random_state=seed)
        return X, y, ("sparse_estimators.datasets.make_sparse_regression(density="
                      f"{density}, n_informative=20, noise=1, shift=5, seed={seed})")
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    w = np.zeros(p)
    sup = rng.choice(p, 20, replace=False)
    w[sup] = rng.choice([-1.0, 1.0], 20) * rng.uniform(1, 2, 20) / np.sqrt(density)
    y = X @ w + 5.0 + rng.standard_normal(n)
    return X, y, f"inline scipy.sparse.random(density={density}), 20 informative"


def _docstrings():
    try:
        from sparse_estimators.datasets import load_docstrings_regression
    except ImportError:
        load_docstrings_regression = None
    if load_docstrings_regression is not None:
        X, y, _ = load_docstrings_regression()
        return X.tocsr(), np.asarray(y, dtype=np.float64), (
            "sparse_estimators.datasets.load_docstrings_regression(): TF-IDF of "
            "numpy/scipy/sklearn docstrings, y = log1p(#params)")
    # Fallback: build the same kind of corpus inline.
    import importlib
    import inspect
    import pkgutil

    from sklearn.feature_extraction.text import TfidfVectorizer
    docs, nparams, seen = [], [], set()
    warnings.simplefilter("ignore")
    for pkg in ("numpy", "scipy", "sklearn"):
        root = importlib.import_module(pkg)
        mods = [root]
        for info in pkgutil.walk_packages(root.__path__, pkg + "."):
            if any(part.startswith("_") or part == "tests" for part in info.name.split(".")):
                continue
            try:
                mods.append(importlib.import_module(info.name))
            except Exception:  # noqa: BLE001
                continue
        for mod in mods:
            for name in sorted(dir(mod)):
                obj = getattr(mod, name, None)
                if name.startswith("_") or not callable(obj) or id(obj) in seen:
                    continue
                if not getattr(obj, "__module__", "") or not obj.__module__.startswith(pkg):
                    continue
                doc = inspect.getdoc(obj)
                try:
                    k = len(inspect.signature(obj).parameters)
                except (TypeError, ValueError):
                    continue
                if doc and len(doc) >= 50:
                    seen.add(id(obj))
                    docs.append(doc)
                    nparams.append(k)
    X = TfidfVectorizer(min_df=2, sublinear_tf=True).fit_transform(docs).tocsr()
    return X, np.log1p(np.asarray(nparams, float)), "inline TF-IDF of docstrings"


def _movielens():
    from sparse_estimators.datasets import load_movielens_age  # needs recbole
    X, y = load_movielens_age()
    return X.tocsr(), np.asarray(y, dtype=np.float64), (
        "sparse_estimators.datasets.load_movielens_age(): MovieLens-100k user x movie "
        "ratings (recbole wheel), y = user age")


def case_builders(quick):
    return {
        "synth_n>>p": lambda: _synthetic(20000, 2000, 1e-2, 0),
        "synth_p>>n": lambda: _synthetic(1000, 20000, 1e-2, 1),
        "docstrings_tfidf": _docstrings,
        "movielens_age": _movielens,
        "dense_p>>n": lambda: _synthetic(500, 5000, 1.0, 2, dense=True),
    }


# ======================================================================== harness maths
class Problem:
    """Precomputed float64 quantities for the harness objective and duality gap."""

    def __init__(self, X, y, fit_intercept):
        self.X = X
        self.y = np.asarray(y, dtype=np.float64)
        self.n = X.shape[0]
        self.fit_intercept = fit_intercept
        if fit_intercept:
            self.x_mean = np.asarray(X.mean(axis=0), dtype=np.float64).ravel()
            self.y_mean = float(self.y.mean())
        else:
            self.x_mean = np.zeros(X.shape[1])
            self.y_mean = 0.0
        self.yc = self.y - self.y_mean
        self.scale = float(self.yc @ self.yc) / (2 * self.n)
        self.Xt_yc = np.asarray(X.T @ self.yc, dtype=np.float64).ravel()  # = Xc^T yc

    def alpha_max(self, l1_ratio):
        return float(np.max(np.abs(self.Xt_yc))) / (self.n * l1_ratio)

    def evaluate(self, coef, intercept, alpha, l1_ratio):
        """Objective, duality gap (normalised) and intercept check for (coef, b)."""
        n = self.n
        w = np.asarray(coef, dtype=np.float64).ravel()
        b = float(np.asarray(intercept, dtype=np.float64).ravel()[0]) \
            if np.ndim(intercept) else float(intercept)
        Xw = np.asarray(self.X @ w, dtype=np.float64).ravel()
        b_opt = self.y_mean - float(self.x_mean @ w)  # 0 without intercept
        R = self.y - Xw - b_opt                        # = yc - Xc w
        XtR = np.asarray(self.X.T @ R, dtype=np.float64).ravel() - self.x_mean * R.sum()
        a1, a2 = alpha * l1_ratio, alpha * (1.0 - l1_ratio)
        l1n, l2n, Rn2 = float(np.abs(w).sum()), float(w @ w), float(R @ R)
        primal_c = Rn2 / (2 * n) + a1 * l1n + 0.5 * a2 * l2n
        dual_norm = float(np.max(np.abs(XtR - n * a2 * w))) if w.size else 0.0
        s = 1.0 if dual_norm <= n * a1 else n * a1 / dual_norm
        Rt2 = Rn2 + n * a2 * l2n
        dual = (s * float(self.yc @ R) - 0.5 * s * s * Rt2) / n
        excess = 0.5 * (b - b_opt) ** 2            # objective lost by a wrong intercept
        gap = max(primal_c - dual, 0.0) + excess
        return {
            "obj": primal_c + excess,
            "gap": gap,
            "gap_norm": gap / self.scale,
            "intercept_dev": b - b_opt,
            "nnz": int(np.count_nonzero(w)),
        }


# ============================================================================== solvers
def make_estimator(solver, kind, alpha, l1_ratio, fit_intercept, tol, max_iter=None):
    """Estimator of ``solver``; ``max_iter`` caps epochs (ours, sklearn) or outer
    working-set iterations (skglm, celer; their inner epochs keep their defaults)."""
    if solver in ("ours", "sklearn"):
        if solver == "ours":
            from sparse_estimators.linear_model import ElasticNet, Lasso
        else:
            from sklearn.linear_model import ElasticNet, Lasso
        mi = 20000 if max_iter is None else max_iter
    elif solver == "skglm":
        from skglm import ElasticNet, Lasso
        mi = 100
    elif solver == "celer":
        from celer import ElasticNet, Lasso
        mi = 100
    else:
        raise ValueError(solver)
    if kind == "lasso":
        return Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=tol, max_iter=mi)
    return ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                      tol=tol, max_iter=mi)


def timed_fit(solver, kind, X, y, alpha, l1_ratio, fit_intercept, tol, max_iter=None):
    est = make_estimator(solver, kind, alpha, l1_ratio, fit_intercept, tol, max_iter)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        est.fit(X, y)
        dt = time.perf_counter() - t0
    warned = any("converge" in str(r.message).lower() for r in rec)
    n_iter = getattr(est, "n_iter_", None)
    try:
        n_iter = int(np.max(n_iter)) if n_iter is not None else None
    except (TypeError, ValueError):
        n_iter = None
    return dt, est.coef_, est.intercept_, warned, n_iter


def sweep(solver, kind, prob, alpha, l1_ratio, cfg):
    """Time ``solver`` at matched harness duality gap.

    1. Untimed warm-up fit (numba compilation, caches).
    2. One fit per tol of ``cfg.tols`` (decades, decreasing) until the harness gap is
       below ``cfg.stop_gap`` or a stopping rule fires (see below).
    3. For each target, the first tol reaching it is refined by trying the
       half-decade looser tol. The chosen fits (``hits``) are re-timed afterwards by
       :func:`retime`, round-robin with the other solvers' of the same problem.
    """
    X, y, fi = prob.X, prob.y, prob.fit_intercept
    timed_fit(solver, kind, X, y, alpha, l1_ratio, fi, cfg.tols[0])

    def point(tol, max_iter):
        dt, coef, icpt, warned, n_iter = timed_fit(solver, kind, X, y, alpha, l1_ratio,
                                                   fi, tol, max_iter)
        ev = prob.evaluate(coef, icpt, alpha, l1_ratio)
        ev.update(tol=tol, time=dt, times=[dt], not_converged_warning=warned,
                  n_iter=n_iter, max_iter=max_iter)
        return ev

    points = []
    max_iter = None
    for tol in cfg.tols:
        ev = point(tol, max_iter)
        points.append(ev)
        if solver in ("ours", "sklearn") and ev["n_iter"] is not None:
            # epochs needed one decade of tol tighter are at most a few times more
            # than now; a fit that can never meet its own tol then stops early
            # instead of burning 20000 epochs (converging fits are unaffected)
            max_iter = 5 * ev["n_iter"] + 1000
        if ev["gap_norm"] <= cfg.stop_gap:
            break
        if ev["not_converged_warning"]:
            ev["stopped"] = "solver reported non-convergence (max_iter reached)"
            break
        if ev["time"] > cfg.time_cap:
            ev["stopped"] = f"fit took {ev['time']:.1f}s > cap {cfg.time_cap}s"
            break
        # plateau: the harness gap is above the tol asked for, and over two decades of
        # tol the solver changed its output (more iterations, a different solution)
        # without halving the gap -> it is at its accuracy floor and tighter tols would
        # only burn max_iter. (Identical outputs at several tols are not a plateau: a
        # working-set solver often overshoots a loose tol, then does the same work for
        # the next few; nor is a gap that stays below each tol: the solver is simply
        # done early.)
        # (gap_norm is relative to ||y_c||^2 / (2n), a scikit-learn-style tol to
        # ||y_c||^2 / n: a fit that met its own tol can show gap_norm up to 2 * tol)
        w = 2
        if len(points) > w and ev["gap_norm"] > 2 * ev["tol"] and ev["gap_norm"] > 0.5 * min(
                q["gap_norm"] for q in points[:-w]):
            window = points[-w - 1:]
            changed = (len({q["n_iter"] for q in window}) > 1
                       or max(q["gap_norm"] for q in window)
                       > (1 + 1e-6) * min(q["gap_norm"] for q in window))
            if changed:
                ev["stopped"] = "gap plateau over two decades of tol"
                break
    reach = {}
    extra = []
    for target in cfg.targets:
        idx = next((i for i, p in enumerate(points) if p["gap_norm"] <= target), None)
        if idx is None:
            reach[f"{target:g}"] = None
            continue
        hit = points[idx]
        if cfg.refine and idx > 0:
            mid = point(hit["tol"] * 10 ** 0.5, points[idx - 1]["max_iter"])
            mid["refine"] = True
            extra.append(mid)
            if mid["gap_norm"] <= target:
                hit = mid
        reach[f"{target:g}"] = hit
    return {"solver": solver, "sweep": points, "refine_points": extra, "hits": reach,
            "final_obj": points[-1]["obj"], "final_gap_norm": points[-1]["gap_norm"],
            "final_tol": points[-1]["tol"]}


def retime(entry, kind, prob, alpha, l1_ratio, cfg):
    """Repeat the fits chosen by every solver's :func:`sweep` of one problem,
    round-robin (one fit of each solver in turn), and store their medians as
    ``reach``.

    This VM has slow spells of a few to a few hundred milliseconds in which every
    fit takes 2-3x longer (seen in the same standalone loop, with no page faults
    and no other process); timing a solver's repetitions back to back let a spell
    land on one solver's fits only. Interleaved, a spell is shared by the solvers
    being compared; the order is shuffled every round. Repetitions:
    ``cfg.reps_fast`` for fits under ``cfg.fast_below``, ``cfg.reps`` otherwise, 1
    over ``cfg.single_rep_above``.
    """
    X, y, fi = prob.X, prob.y, prob.fit_intercept
    jobs, seen = [], set()
    for solver, res in entry["solvers"].items():
        for hit in res["hits"].values():
            if hit is None or id(hit) in seen:   # two targets met by the same fit
                continue
            seen.add(id(hit))
            reps = cfg.reps_fast if hit["time"] <= cfg.fast_below else cfg.reps
            jobs.append((solver, hit, 1 if hit["time"] > cfg.single_rep_above else reps))
    order = random.Random(0)
    while True:
        todo = [(s, hit) for s, hit, reps in jobs if len(hit["times"]) < reps]
        if not todo:
            break
        # a new order every round (seeded): no fit always runs right after the same
        # solver's (celer's and scikit-learn's fits leave threads spinning for ~0.1 s
        # of CPU, which slowed whichever fit came next: always ours, in a fixed order)
        order.shuffle(todo)
        for solver, hit in todo:
            hit["times"].append(timed_fit(solver, kind, X, y, alpha, l1_ratio, fi,
                                          hit["tol"], hit["max_iter"])[0])
    for res in entry["solvers"].values():
        res["reach"] = {
            target: None if hit is None else {
                "tol": hit["tol"], "time": statistics.median(hit["times"]),
                "times": hit["times"], "gap_norm": hit["gap_norm"]}
            for target, hit in res.pop("hits").items()}


# =================================================================================== CV
def run_cv(name, X, y, cfg):
    from sklearn.linear_model import LassoCV as SkLassoCV
    from sklearn.model_selection import KFold

    from sparse_estimators.linear_model import LassoCV as OurLassoCV

    kf = KFold(5)
    prob = Problem(X, y, True)
    out = {"case": name, "n_folds": 5, "n_alphas": 100, "eps": 1e-3, "tol": 1e-4,
           "fit_intercept": True}
    Xs = X[:60]
    OurLassoCV(cv=KFold(3), alphas=5).fit(Xs, y[:60])  # warm-up (compilation)

    def timed(fn):
        times = []
        for _ in range(cfg.cv_reps):
            t0 = time.perf_counter()
            res = fn()
            times.append(time.perf_counter() - t0)
            if times[-1] > cfg.single_rep_above:
                break
        return statistics.median(times), times, res

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, ts, sk = timed(lambda: SkLassoCV(cv=kf, alphas=100, eps=1e-3).fit(X, y))
        out["sklearn"] = {"time": t, "times": ts, "alpha_": float(sk.alpha_),
                          "mse_min": float(sk.mse_path_.mean(axis=1).min())}
        t, ts, ours = timed(lambda: OurLassoCV(cv=kf, alphas=100, eps=1e-3).fit(X, y))
        out["ours"] = {"time": t, "times": ts, "alpha_": float(ours.alpha_),
                       "mse_min": float(ours.mse_path_.mean(axis=1).min())}
        grid = np.asarray(sk.alphas_)
        out["alphas_grid_max_rel_diff"] = float(
            np.max(np.abs(np.asarray(ours.alphas_) - grid) / grid))
        out["mse_path_max_rel_diff"] = float(np.max(
            np.abs(ours.mse_path_.mean(1) - sk.mse_path_.mean(1)) / sk.mse_path_.mean(1)))
        for key, est in (("sklearn", sk), ("ours", ours)):
            ev = prob.evaluate(est.coef_, est.intercept_, est.alpha_, 1.0)
            out[key]["refit_gap_norm"] = ev["gap_norm"]
        try:
            if name not in cfg.celer_cv_cases:
                raise _NotRun("not run (slow; see --celer-cv-cases)")
            t, ts, (alpha_c, mse_c, est_c) = timed(lambda: _celer_cv(X, y, kf, grid))
            ev = prob.evaluate(est_c.coef_, est_c.intercept_, alpha_c, 1.0)
            out["celer"] = {"time": t, "times": ts, "alpha_": alpha_c, "mse_min": mse_c,
                            "refit_gap_norm": ev["gap_norm"],
                            "how": "celer_path per fold on sklearn's grid (tol=1e-4, "
                                   "sparse centring via X_offset) + celer.Lasso refit"}
        except _NotRun as exc:
            out["celer"] = {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001
            out["celer"] = {"error": repr(exc)}
    return out


class _NotRun(Exception):
    pass


def _celer_cv(X, y, kf, grid):
    from celer import Lasso as CelerLasso
    from celer import celer_path
    mse = np.zeros((len(grid), kf.get_n_splits()))
    for k, (tr, te) in enumerate(kf.split(X)):
        Xtr, ytr = X[tr], y[tr]
        xm = np.asarray(Xtr.mean(axis=0)).ravel()
        ym = ytr.mean()
        if sp.issparse(Xtr):
            Xtr = Xtr.tocsc()
            _, coefs, _ = celer_path(Xtr, ytr - ym, "lasso", alphas=grid, tol=1e-4,
                                     X_offset=xm, X_scale=np.ones_like(xm))
        else:
            _, coefs, _ = celer_path(np.asfortranarray(Xtr - xm), ytr - ym, "lasso",
                                     alphas=grid, tol=1e-4)
        pred = np.asarray(X[te] @ coefs) + (ym - xm @ coefs)
        mse[:, k] = ((pred - y[te][:, None]) ** 2).mean(axis=0)
    best = int(np.argmin(mse.mean(axis=1)))
    est = CelerLasso(alpha=grid[best], tol=1e-4).fit(X, y)
    return float(grid[best]), float(mse.mean(axis=1)[best]), est


# ============================================================================ cold start
_IMPORT_SNIPPET = """
import time, sys
t0 = time.perf_counter()
import {mod}
print(time.perf_counter() - t0)
"""

_FIT_SNIPPET = """
import time, json, warnings
import numpy as np, scipy.sparse as sp
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
n = p = 10000
nnz = int(n * p * 1e-3)
pos = np.unique(rng.integers(0, n * p, size=nnz))
rows, cols = np.divmod(pos, p)
X = sp.csr_matrix((rng.standard_normal(pos.size), (rows, cols)), shape=(n, p))
w = np.zeros(p); w[rng.choice(p, 20, replace=False)] = 30 * rng.standard_normal(20)
y = X @ w + 5.0 + rng.standard_normal(n)
yc = y - y.mean()
Xt_yc = X.T @ yc
alpha = np.abs(Xt_yc).max() / n / 10
t0 = time.perf_counter()
{imp}
t_import = time.perf_counter() - t0
times = []
for _ in range(4):
    t0 = time.perf_counter()
    est = Est(alpha=alpha).fit(X, y)
    times.append(time.perf_counter() - t0)
print(json.dumps({{"import": t_import, "first_fit": times[0], "repeat_fit": sorted(times[1:])[1],
                  "nnz_coef": int(np.count_nonzero(est.coef_))}}))
"""

_COLD_IMPORTS = {
    "ours": "from sparse_estimators.linear_model import Lasso as Est",
    "sklearn": "from sklearn.linear_model import Lasso as Est",
    "skglm": "from skglm import Lasso as Est",
    "celer": "from celer import Lasso as Est",
}


def _run_py(code, env=None):
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=tempfile.gettempdir(), check=False)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-2000:])
    return res.stdout.strip().splitlines()[-1]


def cold_start(cfg):
    out = {"import": {}, "fit": {}}
    env = dict(os.environ)
    for mod in ("sparse_estimators.linear_model", "sklearn.linear_model", "skglm", "celer"):
        ts = [float(_run_py(_IMPORT_SNIPPET.format(mod=mod), env))
              for _ in range(cfg.import_procs)]
        out["import"][mod] = {"median": statistics.median(ts), "times": ts}
        log(f"  import {mod}: {statistics.median(ts):.3f}s")
    # make sure the on-disk numba cache is warm for this signature
    _run_py(_FIT_SNIPPET.format(imp=_COLD_IMPORTS["ours"]), env)
    variants = [("ours (numba cache warm)", "ours", None)]
    variants.append(("ours (empty numba cache)", "ours", "fresh"))
    variants += [(s, s, None) for s in ANCHORS]
    for label, solver, cache in variants:
        runs = []
        for _ in range(cfg.fit_procs):
            e = dict(env)
            tmp = None
            if cache == "fresh":
                tmp = tempfile.mkdtemp(prefix="numba_cold_")
                e["NUMBA_CACHE_DIR"] = tmp
            runs.append(json.loads(_run_py(_FIT_SNIPPET.format(imp=_COLD_IMPORTS[solver]), e)))
            if tmp:
                import shutil
                shutil.rmtree(tmp, ignore_errors=True)
        med = {k: statistics.median(r[k] for r in runs)
               for k in ("import", "first_fit", "repeat_fit")}
        out["fit"][label] = {"median": med, "runs": runs}
        log(f"  {label}: import {med['import']:.3f}s first fit {med['first_fit']:.3f}s "
            f"repeat {med['repeat_fit']:.3f}s")
    return out


# ============================================================================ metadata
def machine_info():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split(":")[1].strip()
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {"cpu": cpu, "logical_cpus": os.cpu_count(), "usable_cpus": usable,
            "memory": mem, "platform": platform.platform(),
            "python": platform.python_version(), "loadavg_at_start": load}


def versions():
    import importlib.metadata as md
    out = {}
    for pkg in ("sparse_estimators", "numpy", "scipy", "scikit-learn", "numba", "skglm",
                "celer", "recbole"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "sparse_estimators"],
                               cwd=REPO, capture_output=True, text=True).stdout.strip()
        out["sparse_estimators_git"] = head + (" (+ uncommitted changes in "
                                               "sparse_estimators/)" if dirty else "")
    except OSError:
        pass
    return out


# ============================================================================ reporting
def fmt_t(t):
    if t is None:
        return "—"
    if t < 1:
        return f"{t * 1e3:.0f} ms" if t >= 0.01 else f"{t * 1e3:.1f} ms"
    return f"{t:.2f} s"


def _reach_time(run, target):
    r = run["reach"].get(f"{target:g}")
    return None if r is None else r["time"]


def markdown(results):
    lines = []
    meta = results["meta"]
    lines.append(f"Command: `{meta['command']}`  ")
    lines.append(f"Date: {meta['date']}  ")
    m = meta["machine"]
    lines.append(f"Machine: {m['cpu']}, {m['usable_cpus']} usable cores "
                 f"({m['logical_cpus']} logical), {m['memory']} RAM, Python {m['python']}  ")
    lines.append("Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
                 + "  ")
    c = meta["config"]
    lines.append(f"Settings: tol swept over {c['tols'][0]:g} … {c['tols'][-1]:g} (decades, "
                 f"one fit each, until the harness gap is <= {c['stop_gap']:g}); the first "
                 "tol reaching a target is refined with the half-decade looser tol and "
                 f"re-timed: median of {c['reps']} fit(s) ({c['reps_fast']} if a fit takes "
                 f"< {c['fast_below']} s, 1 if it takes > "
                 f"{c['single_rep_above']} s), the solvers' repetitions of one problem "
                 "interleaved (one fit of each in turn); an untimed warm-up fit precedes "
                 "each sweep. "
                 f"Sweeps also stop at a fit > {c['time_cap']} s, on a non-convergence "
                 "warning, or when the gap, above the tol, stops improving over two "
                 "decades of tol.")
    lines.append("")
    lines.append("### Cases\n")
    lines.append("| case | n | p | nnz (density) | source |")
    lines.append("|---|---|---|---|---|")
    for c in results["cases"]:
        lines.append(f"| {c['name']} | {c['n']} | {c['p']} | {c['nnz']} "
                     f"({c['density']:.2g}) | {c['source']} |")
    lines.append("")
    lines.append("### Time to reach the target normalised duality gap (harness-computed)\n")
    lines.append("`—` = never reached within the tol sweep (its best gap in brackets). "
                 "Ratios > 1 mean this library is slower.\n")
    lines.append("| case | est | fit_intercept | alpha_max/ | target gap | ours | sklearn "
                 "| skglm | celer | ours/sklearn | ours/fastest anchor |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for cfg_run in results["runs"]:
        for target in meta["config"]["targets"]:
            cells = {}
            for s in SOLVERS:
                run = cfg_run["solvers"].get(s)
                if run is None:
                    cells[s] = "n/a"
                    continue
                t = _reach_time(run, target)
                cells[s] = fmt_t(t) if t is not None else \
                    f"— ({min(p['gap_norm'] for p in run['sweep']):.0e})"
            sv = cfg_run["solvers"]
            t_ours = _reach_time(sv["ours"], target) if "ours" in sv else None
            t_sk = _reach_time(sv["sklearn"], target) if "sklearn" in sv else None
            t_anchor = [_reach_time(cfg_run["solvers"][s], target) for s in ANCHORS
                        if s in cfg_run["solvers"]]
            t_anchor = [t for t in t_anchor if t is not None]
            r_sk = "—" if t_ours is None or t_sk is None else f"{t_ours / t_sk:.2f}"
            r_an = "—" if t_ours is None or not t_anchor else f"{t_ours / min(t_anchor):.2f}"
            if r_sk != "—" and float(r_sk) > 1:
                r_sk = f"**{r_sk}**"
            if r_an != "—" and float(r_an) > 1:
                r_an = f"**{r_an}**"
            lines.append(f"| {cfg_run['case']} | {cfg_run['estimator']} | "
                         f"{cfg_run['fit_intercept']} | {cfg_run['alpha_ratio']:g} | "
                         f"{target:g} | {cells['ours']} | {cells['sklearn']} | "
                         f"{cells['skglm']} | {cells['celer']} | {r_sk} | {r_an} |")
    lines.append("")
    lines.append("### Final objective at the tightest tol of each sweep\n")
    lines.append("Relative difference `(P - P_best) / P_best` to the lowest objective any "
                 "solver reached (harness float64); `ours vs sklearn` is "
                 "`(P_ours - P_sklearn) / P_sklearn` (negative: ours is lower). "
                 "Flagged in bold when ours is above sklearn by more than 1e-8.\n")
    lines.append("| case | est | fit_intercept | alpha_max/ | P_best | ours | sklearn | "
                 "skglm | celer | ours vs sklearn | ours final gap (tol) |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results["runs"]:
        objs = {s: v["final_obj"] for s, v in r["solvers"].items()}
        if "ours" not in objs or "sklearn" not in objs:
            continue
        best = min(objs.values())
        cells = {s: (f"{(objs[s] - best) / abs(best):.1e}" if s in objs else "n/a")
                 for s in SOLVERS}
        d = (objs["ours"] - objs["sklearn"]) / abs(objs["sklearn"])
        ds = f"{d:.1e}" if d <= 1e-8 else f"**{d:.1e}**"
        o = r["solvers"]["ours"]
        lines.append(f"| {r['case']} | {r['estimator']} | {r['fit_intercept']} | "
                     f"{r['alpha_ratio']:g} | {best:.10g} | {cells['ours']} | "
                     f"{cells['sklearn']} | {cells['skglm']} | {cells['celer']} | {ds} | "
                     f"{o['final_gap_norm']:.1e} ({o['final_tol']:g}) |")
    lines.append("")
    dev = {}
    for r in results["runs"]:
        if r["fit_intercept"]:
            for s, v in r["solvers"].items():
                d = max(abs(p["intercept_dev"]) for p in v["sweep"])
                dev[s] = max(dev.get(s, 0.0), d)
    lines.append("Intercept check: largest |returned intercept - optimal intercept for the "
                 "returned coef| over all fit_intercept=True fits of the sweeps: "
                 + ", ".join(f"{s} {d:.1e}" for s, d in dev.items()) + ".")
    lines.append("")
    if results.get("cv"):
        lines.append("### LassoCV (5 folds x 100 alphas, eps=1e-3, tol=1e-4, "
                     "fit_intercept=True)\n")
        lines.append("| case | ours | sklearn | celer (path per fold) | ours/sklearn | "
                     "alpha_ ours | alpha_ sklearn | alpha_ celer | CV-MSE path max rel "
                     "diff ours vs sklearn | refit gap ours / sklearn |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|")
        for c in results["cv"]:
            ce = c.get("celer", {})
            r = c["ours"]["time"] / c["sklearn"]["time"]
            rs = f"{r:.2f}" if r <= 1 else f"**{r:.2f}**"
            lines.append(
                f"| {c['case']} | {fmt_t(c['ours']['time'])} | "
                f"{fmt_t(c['sklearn']['time'])} | "
                f"{fmt_t(ce['time']) if 'time' in ce else ce.get('error', '?')} | {rs} | "
                f"{c['ours']['alpha_']:.4g} | {c['sklearn']['alpha_']:.4g} | "
                f"{ce.get('alpha_', float('nan')):.4g} | {c['mse_path_max_rel_diff']:.1e} | "
                f"{c['ours']['refit_gap_norm']:.1e} / {c['sklearn']['refit_gap_norm']:.1e} |")
        lines.append("")
    if results.get("cold"):
        cold = results["cold"]
        lines.append("### Cold start (fresh processes)\n")
        lines.append("`import X` timed inside a fresh interpreter (includes the "
                     "numpy/scipy/sklearn imports it triggers), median of "
                     f"{meta['config']['import_procs']} processes:\n")
        lines.append("| module | import time |")
        lines.append("|---|---|")
        for mod, v in cold["import"].items():
            lines.append(f"| `{mod}` | {fmt_t(v['median'])} |")
        lines.append("")
        lines.append("Lasso on a 10000 x 10000 CSR matrix, density 1e-3 (1e5 nnz), "
                     "alpha = alpha_max/10, default tol, fit_intercept=True; first fit in a "
                     "fresh process vs the median of 3 repeated fits in the same process "
                     f"(median over {meta['config']['fit_procs']} processes):\n")
        lines.append("| solver | import | first fit | repeat fit | first - repeat |")
        lines.append("|---|---|---|---|---|")
        for label, v in cold["fit"].items():
            m_ = v["median"]
            lines.append(f"| {label} | {fmt_t(m_['import'])} | {fmt_t(m_['first_fit'])} | "
                         f"{fmt_t(m_['repeat_fit'])} | "
                         f"{fmt_t(m_['first_fit'] - m_['repeat_fit'])} |")
        lines.append("")
    return "\n".join(lines)


# ================================================================================= main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="~4-minute smoke run: alphas /10 and /100, target 1e-6, 1 rep, "
                         "sweeps stop at gap 1e-9, no LassoCV, 1 cold-start process")
    ap.add_argument("--out", default=None, help="JSON output path (a .md is written "
                                                "next to it)")
    ap.add_argument("--cases", default=None,
                    help="comma-separated substrings selecting cases (default: all)")
    ap.add_argument("--solvers", default=",".join(SOLVERS))
    ap.add_argument("--no-cv", action="store_true")
    ap.add_argument("--no-cold", action="store_true")
    ap.add_argument("--estimators", default="lasso,enet")
    ap.add_argument("--alpha-ratios", default=None,
                    help="comma-separated alpha_max/alpha ratios (default 10,100 and "
                         "1000 where --alpha-1000 selects)")
    ap.add_argument("--alpha-1000", default=None,
                    help="cases (comma-separated substrings, 'all' or 'none') also run "
                         "at alpha_max/1000; default: none with --quick, synth_n>>p "
                         "otherwise ('all' takes ~45 min on 2 cores: sklearn and celer "
                         "need seconds per fit there)")
    ap.add_argument("--cv-cases", default=None,
                    help="comma-separated case names for the LassoCV comparison "
                         "(default: none with --quick; synth_p>>n, docstrings_tfidf, "
                         "movielens_age otherwise)")
    ap.add_argument("--celer-cv-cases", default=None,
                    help="cases where celer's per-fold path is timed too (slow; "
                         "default: none with --quick, movielens_age otherwise)")
    args = ap.parse_args(argv)

    class cfg:  # noqa: N801
        pass
    if args.quick:
        cfg.alpha_ratios = (10, 100, 1000)
        alpha_1000 = "none"
        cfg.targets = (1e-6,)
        cfg.tols = tuple(10.0 ** -k for k in range(2, 13))
        cfg.stop_gap = 1e-9
        cfg.reps = 1
        cfg.cv_reps = 1
        cfg.time_cap = 5.0
        cfg.import_procs = 3
        cfg.fit_procs = 1
        cv_cases = ()  # --cv-cases movielens_age adds ~45 s
        celer_cv_cases = ()
    else:
        cfg.alpha_ratios = (10, 100, 1000)
        alpha_1000 = "synth_n>>p"
        cfg.targets = (1e-6, 1e-10)
        cfg.tols = tuple(10.0 ** -k for k in range(2, 15))
        cfg.stop_gap = 1e-12
        cfg.reps = 3
        cfg.cv_reps = 3
        cfg.time_cap = 20.0
        cfg.import_procs = 5
        cfg.fit_procs = 3
        cv_cases = ("synth_p>>n", "docstrings_tfidf", "movielens_age")
        celer_cv_cases = ("movielens_age",)
    cfg.refine = True
    cfg.single_rep_above = 2.0
    cfg.fast_below = 0.05
    cfg.reps_fast = max(cfg.reps, 3 * cfg.reps)
    if args.cv_cases is not None:
        cv_cases = tuple(c for c in args.cv_cases.split(",") if c)
    if args.celer_cv_cases is not None:
        celer_cv_cases = tuple(c for c in args.celer_cv_cases.split(",") if c)
    cfg.cv_cases, cfg.celer_cv_cases = cv_cases, celer_cv_cases
    cfg.alpha_1000 = args.alpha_1000 if args.alpha_1000 is not None else alpha_1000
    if args.alpha_ratios is not None:
        cfg.alpha_ratios = tuple(int(r) for r in args.alpha_ratios.split(",") if r)

    def ratios_for(case):
        sel_1000 = [c for c in cfg.alpha_1000.split(",") if c and c != "none"]
        hard = "all" in sel_1000 or any(c in case for c in sel_1000)
        return [r for r in cfg.alpha_ratios if r < 1000 or hard]
    solvers = [s for s in args.solvers.split(",") if s]
    kinds = [k for k in args.estimators.split(",") if k]

    out_path = args.out or os.path.join(
        HERE, "_out", "bench_lasso_quick.json" if args.quick else "bench_lasso.json")
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)

    results = {"meta": {
        "command": " ".join([os.path.relpath(sys.executable, REPO)
                             if sys.executable.startswith(REPO) else "python"]
                            + [os.path.relpath(os.path.abspath(sys.argv[0]), REPO)]
                            + sys.argv[1:]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(), "versions": versions(),
        "config": {k: getattr(cfg, k) for k in (
            "alpha_ratios", "targets", "tols", "reps", "cv_reps", "time_cap", "stop_gap",
            "single_rep_above", "fast_below", "reps_fast", "refine", "import_procs",
            "fit_procs", "cv_cases", "celer_cv_cases", "alpha_1000")},
        "notes": ["skglm's tol bounds the optimality-condition violation, not the gap; "
                  "celer's and ours/sklearn's bound the gap relative to ||y||^2/n.",
                  "Inputs are passed as the loaders return them (CSR, or C-ordered dense); "
                  "conversions a solver makes are part of its time."],
    }, "cases": [], "runs": [], "cv": [], "cold": None}
    t_start = time.perf_counter()

    builders = case_builders(args.quick)
    sel = [s for s in (args.cases or "").split(",") if s]
    for name, build in builders.items():
        if sel and not any(s in name for s in sel):
            continue
        try:
            X, y, source = build()
        except Exception as exc:  # noqa: BLE001
            log(f"case {name} skipped: {exc!r}")
            results["cases"].append({"name": name, "skipped": repr(exc), "n": 0, "p": 0,
                                     "nnz": 0, "density": 0, "source": "skipped"})
            continue
        nnz = X.nnz if sp.issparse(X) else int(np.count_nonzero(X))
        results["cases"].append({"name": name, "n": X.shape[0], "p": X.shape[1],
                                 "nnz": nnz, "density": nnz / (X.shape[0] * X.shape[1]),
                                 "source": source, "format": X.format
                                 if sp.issparse(X) else "dense"})
        log(f"== {name}: {X.shape}, nnz {nnz}")
        for fit_intercept in (True, False):
            prob = Problem(X, y, fit_intercept)
            for kind in kinds:
                l1_ratio = 1.0 if kind == "lasso" else 0.5
                for ratio in ratios_for(name):
                    alpha = prob.alpha_max(l1_ratio) / ratio
                    entry = {"case": name, "estimator": "Lasso" if kind == "lasso"
                             else "ElasticNet(l1_ratio=0.5)",
                             "fit_intercept": fit_intercept, "alpha_ratio": ratio,
                             "alpha": alpha, "solvers": {}}
                    for s in solvers:
                        try:
                            entry["solvers"][s] = sweep(s, kind, prob, alpha, l1_ratio, cfg)
                        except Exception as exc:  # noqa: BLE001
                            log(f"   {s} failed: {exc!r}")
                    retime(entry, kind, prob, alpha, l1_ratio, cfg)
                    line = " ".join(
                        f"{s}:{fmt_t(_reach_time(v, cfg.targets[-1]))}"
                        f"(obj {v['final_obj']:.12g})"
                        for s, v in entry["solvers"].items())
                    log(f"  {kind} fi={fit_intercept} a/{ratio}: {line}")
                    results["runs"].append(entry)
                    _save(results, out_path)
        if not args.no_cv and name in cfg.cv_cases:
            log(f"  LassoCV on {name}")
            try:
                results["cv"].append(run_cv(name, X, y, cfg))
                c = results["cv"][-1]
                log("   " + ", ".join(f"{k}: {fmt_t(c[k].get('time'))} alpha_="
                                      f"{c[k].get('alpha_', float('nan')):.4g}"
                                      for k in ("ours", "sklearn", "celer")))
            except Exception as exc:  # noqa: BLE001
                log(f"   LassoCV failed: {exc!r}")
            _save(results, out_path)
    if not args.no_cold:
        log("== cold start")
        results["cold"] = cold_start(cfg)
    results["meta"]["wall_time_s"] = time.perf_counter() - t_start
    _save(results, out_path)
    md = markdown(results)
    with open(os.path.splitext(out_path)[0] + ".md", "w") as f:
        f.write(md + "\n")
    print(md)
    log(f"wrote {out_path} (total {results['meta']['wall_time_s']:.0f} s)")


def _save(results, path):
    with open(path, "w") as f:
        json.dump(results, f, indent=1, default=float)


if __name__ == "__main__":
    main()
