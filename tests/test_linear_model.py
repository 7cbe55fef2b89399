"""Tests of Lasso, ElasticNet, LassoCV, ElasticNetCV, lasso_path and enet_path.

Every reference quantity (objective, duality gap, optimality conditions, alpha_max)
is computed here in float64 NumPy from the returned coefficients; the solver's own
reports are never trusted.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
import sklearn.linear_model as sk
from conftest import make_problem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import lsq_linear, nnls
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sparse_estimators.linear_model import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    enet_path,
    lasso_path,
)

TIGHT = dict(tol=1e-10, max_iter=100_000)


# --------------------------------------------------------------------------- helpers
def _dense64(X):
    return (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(np.float64)


def _centred(X, y, sample_weight, fit_intercept):
    """Row-scaled, (weighted-)centred float64 problem: ``(Xs, ys, xbar, ybar, W)``.

    Weights are normalised to sum to ``n_samples`` (the objective is invariant).
    """
    X = _dense64(X)
    y = np.asarray(y, dtype=np.float64)
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    sw = sw * (n / sw.sum())
    W = sw.sum()
    if fit_intercept:
        xbar = sw @ X / W
        ybar = sw @ y / W
    else:
        xbar = np.zeros(X.shape[1])
        ybar = 0.0
    s = np.sqrt(sw)
    return s[:, None] * (X - xbar), s * (y - ybar), xbar, ybar, W


def objective(X, y, coef, intercept, alpha, l1_ratio, sample_weight=None):
    """scikit-learn's elastic-net objective (weighted average of squared errors)."""
    X = _dense64(X)
    coef = np.asarray(coef, dtype=np.float64)
    r = np.asarray(y, float) - X @ coef - float(intercept)
    sw = np.ones(len(r)) if sample_weight is None else np.asarray(sample_weight, float)
    return (0.5 * np.average(r**2, weights=sw) + alpha * l1_ratio * np.abs(coef).sum()
            + 0.5 * alpha * (1 - l1_ratio) * coef @ coef)


def duality_gap(X, y, coef, alpha, l1_ratio, sample_weight=None, fit_intercept=True,
                positive=False):
    """Duality gap of the normalised elastic net (the intercept profiled out).

    Lasso dual of the augmented problem ``[Xc; sqrt(l2) I]``, dual point the
    residual rescaled into the dual-feasible set. Returns ``(gap, scale)`` where
    ``scale = ||yc||^2 / W`` is the quantity that ``tol`` multiplies.
    """
    assert l1_ratio > 0
    Xs, ys, _, _, W = _centred(X, y, sample_weight, fit_intercept)
    w = np.asarray(coef, dtype=np.float64)
    l1 = alpha * l1_ratio * W
    l2 = alpha * (1 - l1_ratio) * W
    r = ys - Xs @ w
    xta = Xs.T @ r - l2 * w
    dual_norm = max(np.max(xta), 0.0) if positive else np.max(np.abs(xta))
    scale = min(1.0, l1 / dual_norm) if dual_norm > 0 else 1.0
    quad = r @ r + l2 * (w @ w)
    primal = 0.5 * quad + l1 * np.abs(w).sum()
    dual = scale * (r @ ys) - 0.5 * scale**2 * quad
    return (primal - dual) / W, (ys @ ys) / W


def kkt_violation(X, y, coef, alpha, l1_ratio, sample_weight=None, fit_intercept=True,
                  positive=False):
    """Largest violation of the optimality conditions of the (centred) problem."""
    Xs, ys, _, _, W = _centred(X, y, sample_weight, fit_intercept)
    w = np.asarray(coef, dtype=np.float64)
    g = Xs.T @ (ys - Xs @ w) / W - alpha * (1 - l1_ratio) * w
    lam = alpha * l1_ratio
    nz = w != 0
    viol = np.zeros_like(w)
    if positive:
        assert np.all(w >= 0)
        viol[nz] = np.abs(g[nz] - lam)
        viol[~nz] = np.maximum(g[~nz] - lam, 0.0)
    else:
        viol[nz] = np.abs(g[nz] - lam * np.sign(w[nz]))
        viol[~nz] = np.maximum(np.abs(g[~nz]) - lam, 0.0)
    return viol.max()


def kkt_bound(X, gap, alpha, l1_ratio, sample_weight=None, fit_intercept=True):
    """Largest KKT violation compatible with a primal suboptimality of ``gap``.

    Moving coordinate j alone can lower the objective by ``v_j^2 / (2 a_j)`` with
    ``a_j = ||Xs_j||^2 / W + alpha (1 - l1_ratio)``, so ``v_j <= sqrt(2 a_j gap)``.
    """
    Xs, _, _, _, W = _centred(X, np.zeros(X.shape[0]), sample_weight, fit_intercept)
    a = (Xs**2).sum(axis=0).max() / W + alpha * (1 - l1_ratio)
    return np.sqrt(2 * a * max(gap, 0.0))


def alpha_max(X, y, l1_ratio=1.0, sample_weight=None, fit_intercept=True,
              positive=False):
    Xs, ys, _, _, W = _centred(X, y, sample_weight, fit_intercept)
    corr = Xs.T @ ys
    top = corr.max() if positive else np.abs(corr).max()
    return top / (W * l1_ratio)


def as_format(X, fmt):
    if fmt == "dense":
        return _dense64(X).astype(X.dtype)
    return sp.csr_matrix(X).asformat(fmt)


def _sw(n, seed=0):
    return np.random.default_rng(seed).uniform(0.2, 3.0, n)


def _noncanonical_csr(X, rng):
    """CSR equal to ``X`` but with unsorted indices and split (duplicate) entries."""
    X = sp.csr_matrix(X)
    data, indices, indptr = [], [], [0]
    for i in range(X.shape[0]):
        cols = X.indices[X.indptr[i]:X.indptr[i + 1]]
        vals = X.data[X.indptr[i]:X.indptr[i + 1]]
        row_c, row_v = [], []
        for c, v in zip(cols, vals):
            if rng.random() < 0.5:  # split into two entries summing to v
                a = rng.standard_normal()
                row_c += [c, c]
                row_v += [a, v - a]
            else:
                row_c.append(c)
                row_v.append(v)
        perm = rng.permutation(len(row_c))
        indices += list(np.asarray(row_c, dtype=int)[perm])
        data += list(np.asarray(row_v)[perm])
        indptr.append(len(indices))
    out = sp.csr_matrix((np.asarray(data, X.dtype), np.asarray(indices, np.int32),
                         np.asarray(indptr, np.int32)), shape=X.shape)
    assert not out.has_canonical_format
    return out


def _snapshot(obj):
    if sp.issparse(obj):
        return (obj.format, obj.shape, obj.data.copy(), obj.indices.copy(),
                obj.indptr.copy())
    return np.array(obj, copy=True)


def _assert_unchanged(obj, snap):
    if sp.issparse(obj):
        fmt, shape, data, indices, indptr = snap
        assert obj.format == fmt and obj.shape == shape
        assert_array_equal(obj.data, data)
        assert_array_equal(obj.indices, indices)
        assert_array_equal(obj.indptr, indptr)
        assert obj.data.dtype == data.dtype and obj.indices.dtype == indices.dtype
    else:
        assert obj.dtype == snap.dtype
        assert_array_equal(obj, snap)


def _readonly(obj):
    if sp.issparse(obj):
        for a in (obj.data, obj.indices, obj.indptr):
            a.setflags(write=False)
    else:
        obj.setflags(write=False)
    return obj


# ------------------------------------------------------------ agreement with sklearn
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.1])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_sklearn(fmt, dtype, fit_intercept, weighted, positive, l1_ratio):
    X, y, _ = make_problem(fmt=fmt, dtype=dtype, seed=1)
    sw = _sw(X.shape[0]) if weighted else None
    alpha = 0.05
    params = dict(alpha=alpha, fit_intercept=fit_intercept, positive=positive)
    if l1_ratio == 1.0:
        ours = Lasso(**params, **TIGHT).fit(X, y, sample_weight=sw)
    else:
        ours = ElasticNet(l1_ratio=l1_ratio, **params, **TIGHT)
        ours.fit(X, y, sample_weight=sw)
    # Reference: scikit-learn in float64 on exactly the same (possibly float32) data.
    Xd, yd = _dense64(X), y.astype(dtype).astype(np.float64)
    ref = sk.ElasticNet(l1_ratio=l1_ratio, **params, tol=1e-12,
                        max_iter=100_000).fit(Xd, yd, sample_weight=sw)

    assert ours.coef_.dtype == dtype
    assert np.asarray(ours.intercept_).dtype == dtype
    assert ours.coef_.shape == (X.shape[1],)
    f_ours = objective(Xd, yd, ours.coef_, ours.intercept_, alpha, l1_ratio, sw)
    f_ref = objective(Xd, yd, ref.coef_, ref.intercept_, alpha, l1_ratio, sw)
    rtol_f = 1e-12 if dtype == np.float64 else 1e-8
    assert f_ours <= f_ref * (1 + rtol_f)
    assert_allclose(f_ours, f_ref, rtol=rtol_f)
    scale = max(1.0, np.abs(ref.coef_).max())
    atol = 1e-7 if dtype == np.float64 else 1e-5
    assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=atol * scale)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=atol * scale)
    if not fit_intercept:
        assert ours.intercept_ == 0
    if positive:
        assert np.all(ours.coef_ >= 0)
    assert_allclose(ours.predict(X), ref.predict(Xd), rtol=0, atol=10 * atol * scale)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_limit_matches_closed_form(fmt, fit_intercept, weighted):
    # l1_ratio=0 is ridge: (Xs^T Xs + W alpha I) w = Xs^T ys
    X, y, _ = make_problem(fmt=fmt, seed=2)
    sw = _sw(X.shape[0], 3) if weighted else None
    alpha = 0.3
    est = ElasticNet(alpha=alpha, l1_ratio=0.0, fit_intercept=fit_intercept,
                     tol=1e-12, max_iter=100_000).fit(X, y, sample_weight=sw)
    Xs, ys, xbar, ybar, W = _centred(X, y, sw, fit_intercept)
    w = np.linalg.solve(Xs.T @ Xs + W * alpha * np.eye(Xs.shape[1]), Xs.T @ ys)
    # P(w) - P(w*) >= (W alpha / 2) ||w - w*||^2 and P(w) - P(w*) <= gap <= tol ||ys||^2
    bound = np.sqrt(2 * 1e-12 * (ys @ ys) / (W * alpha))
    assert np.linalg.norm(est.coef_ - w) <= bound
    assert_allclose(est.coef_, w, rtol=0, atol=1e-5)
    assert_allclose(est.intercept_, ybar - xbar @ w, rtol=0, atol=1e-5)


def test_positive_ridge_converges():
    # l1_ratio=0 with positive=True: the solution must be the bound-constrained ridge
    # solution, reached (and certified) well within max_iter, with no warning.
    X, y, _ = make_problem(n_samples=80, n_features=10, density=0.6, fmt="dense",
                           intercept=0.0, seed=3)
    y = y - 3 * X[:, 0]  # some coefficients want to be negative
    alpha, n = 0.1, X.shape[0]
    A = np.r_[X, np.sqrt(n * alpha) * np.eye(10)]
    b = np.r_[y, np.zeros(10)]
    ref = lsq_linear(A, b, bounds=(0, np.inf), method="bvls", tol=1e-14).x
    assert np.any(ref == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = ElasticNet(alpha=alpha, l1_ratio=0.0, positive=True, fit_intercept=False,
                         tol=1e-10, max_iter=300).fit(X, y)
    assert est.n_iter_ < 300
    # The certified gap bounds the distance to the optimum by strong convexity
    # (the objective is alpha-strongly convex): ||w - w*||^2 <= 2 * gap / alpha.
    assert est.dual_gap_ <= 1e-10 * (y @ y) / n
    # (the gap is computed in floating point: allow round-off of the objective)
    r = y - X @ ref
    p_ref = 0.5 * (r @ r) / n + 0.5 * alpha * (ref @ ref)
    slack = max(est.dual_gap_, 0.0) + 1e-14 * p_ref
    assert np.linalg.norm(est.coef_ - ref) <= np.sqrt(2 * slack / alpha)
    assert np.all(est.coef_[ref == 0] == 0)


def test_alpha_zero_warns_and_matches_least_squares(fmt):
    X, y, _ = make_problem(n_samples=80, n_features=10, density=0.6, fmt=fmt, seed=4)
    A = np.c_[_dense64(X), np.ones(X.shape[0])]
    sol = np.linalg.lstsq(A, y, rcond=None)[0]
    with pytest.warns(UserWarning, match="alpha=0") as record:
        est = Lasso(alpha=0.0, tol=1e-12, max_iter=100_000).fit(X, y)
    # the warning names this line, not scikit-learn's _fit_context wrapper
    assert {w.filename for w in record if "alpha=0" in str(w.message)} == {__file__}
    # the alpha=0 stopping rule is on ||X^T r||^2, hence the looser tolerance
    assert_allclose(est.coef_, sol[:-1], rtol=0, atol=1e-5)
    assert_allclose(est.intercept_, sol[-1], rtol=0, atol=1e-5)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_alpha_zero_stopping_is_scale_invariant(scale):
    # Rescaling the features rescales the OLS coefficients and nothing else: at the
    # default tol the answer must be accurate whatever the units of X (a stopping
    # rule on ||X^T r||^2 is not: with X in small units it stops at w = 0).
    X, y, _ = make_problem(n_samples=80, n_features=10, density=0.6, fmt="dense",
                           seed=4)
    Xs = X * scale
    sol = np.linalg.lstsq(np.c_[Xs, np.ones(X.shape[0])], y, rcond=None)[0][:-1]
    with pytest.warns(UserWarning, match="alpha=0"):
        est = Lasso(alpha=0.0).fit(Xs, y)
    assert np.abs(est.coef_ - sol).max() <= 1e-2 * np.abs(sol).max()


def test_alpha_zero_positive_matches_nnls():
    X, y, _ = make_problem(n_samples=80, n_features=10, density=0.6, fmt="dense",
                           intercept=0.0, seed=3)
    y = y - 3 * X[:, 0]
    ref, _ = nnls(X, y)
    assert np.any(ref == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the alpha=0 advice
        warnings.simplefilter("error", ConvergenceWarning)
        est = Lasso(alpha=0.0, positive=True, fit_intercept=False, tol=1e-14,
                    max_iter=1000).fit(X, y)
    assert_allclose(est.coef_, ref, atol=1e-6)
    assert est.n_iter_ < 1000


# ------------------------------------------------------------- optimality conditions
@pytest.mark.parametrize("l1_ratio", [1.0, 0.7, 0.2])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_kkt_and_duality_gap(fmt, fit_intercept, weighted, positive, l1_ratio):
    X, y, _ = make_problem(n_samples=80, n_features=50, fmt=fmt, seed=5)
    sw = _sw(X.shape[0], 1) if weighted else None
    alpha = 0.2 * alpha_max(X, y, l1_ratio, sw, fit_intercept, positive)
    tol = 1e-12
    est = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                     positive=positive, tol=tol, max_iter=100_000)
    est.fit(X, y, sample_weight=sw)
    w = est.coef_
    assert 0 < np.count_nonzero(w) < X.shape[1]
    gap, scale = duality_gap(X, y, w, alpha, l1_ratio, sw, fit_intercept, positive)
    assert -1e-13 * scale <= gap <= tol * scale
    bound = kkt_bound(X, tol * scale, alpha, l1_ratio, sw, fit_intercept)
    assert bound < 1e-4 * alpha  # (the check below is meaningful)
    assert kkt_violation(X, y, w, alpha, l1_ratio, sw, fit_intercept,
                         positive) <= bound
    # the reported gap is on the same (normalised) scale
    assert est.dual_gap_ <= tol * scale
    assert_allclose(est.dual_gap_, gap, rtol=1e-3, atol=1e-14 * scale)
    # the intercept is the optimal one for these coefficients
    _, _, xbar, ybar, _ = _centred(X, y, sw, fit_intercept)
    assert_allclose(est.intercept_, ybar - xbar @ w, atol=1e-10)


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dense_regime_is_optimal(fmt, fit_intercept, weighted, positive, capsys):
    # Tall problem at a small alpha: most features are non-zero at the optimum, the
    # solver leaves working sets for plain CD over all candidates ("dense regime").
    rng = np.random.default_rng(11)
    X = sp.random(400, 60, density=0.2, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    y = X @ rng.standard_normal(60) + 0.1 * rng.standard_normal(400) + 2.0
    X = as_format(X, fmt)
    sw = _sw(X.shape[0], 2) if weighted else None
    alpha = 1e-3 * alpha_max(X, y, 1.0, sw, fit_intercept, positive)
    tol = 1e-12
    est = Lasso(alpha=alpha, fit_intercept=fit_intercept, positive=positive, tol=tol,
                max_iter=100_000, verbose=1).fit(X, y, sample_weight=sw)
    out = capsys.readouterr().out.splitlines()
    lines = [ln.split() for ln in out if "working set" in ln]
    # "support S, support + violators V, candidates C, working set N": N == C
    # (with positive=True fewer than half of the features may violate at first)
    if not positive:
        assert any(int(ln[-1]) == int(ln[-4].rstrip(",")) > 10 for ln in lines)
        # the dense regime's last inner check certified the gap: no outer pass after
        assert "working set" in out[-1]
    w = est.coef_
    assert np.count_nonzero(w) > X.shape[1] // 3
    gap, scale = duality_gap(X, y, w, alpha, 1.0, sw, fit_intercept, positive)
    assert -1e-13 * scale <= gap <= tol * scale
    # the reported gap is that of the returned coefficients
    assert_allclose(est.dual_gap_, gap, rtol=1e-3, atol=1e-14 * scale)
    bound = kkt_bound(X, tol * scale, alpha, 1.0, sw, fit_intercept)
    assert kkt_violation(X, y, w, alpha, 1.0, sw, fit_intercept, positive) <= bound
    ref = sk.Lasso(alpha=alpha, fit_intercept=fit_intercept, positive=positive,
                   tol=1e-14, max_iter=1_000_000).fit(X, y, sample_weight=sw)
    assert_allclose(w, ref.coef_, rtol=1e-5, atol=1e-7 * np.abs(ref.coef_).max())


@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-6])
def test_tolerance_is_a_certified_gap(fmt, tol):
    # Looser tol: the stopping rule still certifies gap <= tol * ||yc||^2 / n.
    X, y, _ = make_problem(n_samples=100, n_features=60, fmt=fmt, seed=6)
    alpha = 0.05 * alpha_max(X, y)
    est = Lasso(alpha=alpha, tol=tol, max_iter=100_000).fit(X, y)
    gap, scale = duality_gap(X, y, est.coef_, alpha, 1.0)
    assert gap <= tol * scale * (1 + 1e-9)


# ----------------------------------------------------------------- input formats
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dense_csr_csc_identical(fit_intercept, weighted, positive):
    X, y, _ = make_problem(n_samples=70, n_features=40, seed=7)
    sw = _sw(X.shape[0], 2) if weighted else None
    fits = []
    for fmt in ("dense", "csr", "csc", "coo"):
        Xf = X.toarray() if fmt == "dense" else X.asformat(fmt)
        est = ElasticNet(alpha=0.03, l1_ratio=0.8, fit_intercept=fit_intercept,
                         positive=positive, tol=1e-12, max_iter=100_000)
        fits.append(est.fit(Xf, y, sample_weight=sw))
    for est in fits[1:]:
        assert_allclose(est.coef_, fits[0].coef_, rtol=0, atol=1e-10)
        assert_allclose(est.intercept_, fits[0].intercept_, rtol=0, atol=1e-10)
    # predictions on any format agree too
    for est in fits:
        for Xp in (X, X.tocsc(), X.toarray(), X.tocoo()):
            assert_allclose(est.predict(Xp), fits[0].predict(X), atol=1e-9)


@pytest.mark.parametrize("Est", [Lasso, ElasticNet, LassoCV, ElasticNetCV])
def test_float32_in_float32_out(fmt, Est):
    X, y, _ = make_problem(fmt=fmt, dtype=np.float32, seed=8)
    kw = dict(cv=3, alphas=10) if Est in (LassoCV, ElasticNetCV) else dict(alpha=0.01)
    kw["tol"] = 1e-8  # compare solutions, not where two approximate fits stopped
    est = Est(**kw).fit(X, y)
    assert X.dtype == np.float32
    assert est.coef_.dtype == np.float32
    assert np.asarray(est.intercept_).dtype == np.float32
    assert est.predict(X).dtype == np.float32
    est64 = Est(**kw).fit(_dense64(X), y)
    assert est64.coef_.dtype == np.float64
    assert_allclose(est.coef_, est64.coef_, rtol=0,
                    atol=1e-3 * np.abs(est64.coef_).max())


def test_float32_multioutput_and_paths_dtype():
    X, Y, _ = make_problem(fmt="csr", dtype=np.float32, n_targets=2, seed=9)
    est = Lasso(alpha=0.01).fit(X, Y)
    assert est.coef_.dtype == np.float32 and est.intercept_.dtype == np.float32
    _, coefs, _ = lasso_path(X, Y[:, 0], alphas=5)
    assert coefs.dtype == np.float32
    _, coefs, _ = enet_path(X.toarray(), Y[:, 0], alphas=5)
    assert coefs.dtype == np.float32


def _with_index_dtype(X, dtype):
    X = X.copy()
    X.indices = X.indices.astype(dtype)
    X.indptr = X.indptr.astype(dtype)
    assert X.indices.dtype == dtype and X.indptr.dtype == dtype
    return X


@pytest.mark.parametrize("sparse_fmt", ["csr", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
def test_int64_indices_same_as_int32(sparse_fmt, weighted):
    X, y, _ = make_problem(fmt=sparse_fmt, seed=10)
    sw = _sw(X.shape[0]) if weighted else None
    X32 = _with_index_dtype(X, np.int32)
    X64 = _with_index_dtype(X, np.int64)
    a = ElasticNet(alpha=0.02, l1_ratio=0.9, tol=1e-12, max_iter=100_000)
    b = clone(a)
    a.fit(X32, y, sample_weight=sw)
    b.fit(X64, y, sample_weight=sw)
    assert_allclose(b.coef_, a.coef_, rtol=0, atol=1e-12)
    assert_allclose(b.intercept_, a.intercept_, rtol=0, atol=1e-12)
    assert_allclose(b.predict(X64), a.predict(X32), atol=1e-12)
    assert X64.indices.dtype == np.int64  # not converted in place
    # paths and CV too
    p32 = lasso_path(X32, y, alphas=5, tol=1e-12)[1]
    p64 = lasso_path(X64, y, alphas=5, tol=1e-12)[1]
    assert_allclose(p64, p32, atol=1e-12)
    cv32 = LassoCV(cv=3, alphas=5).fit(X32, y, sample_weight=sw)
    cv64 = LassoCV(cv=3, alphas=5).fit(X64, y, sample_weight=sw)
    assert_allclose(cv64.mse_path_, cv32.mse_path_, rtol=1e-10)


@pytest.mark.parametrize("sparse_fmt", ["csr", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_unsorted_and_duplicate_indices(sparse_fmt, weighted, fit_intercept, rng):
    X, y, _ = make_problem(seed=11)
    Xnc = _noncanonical_csr(X, rng)
    if sparse_fmt == "csc":
        Xnc = Xnc.T.tocsr().T  # CSC view with the same non-canonical structure
        assert Xnc.format == "csc" and not Xnc.has_canonical_format
    assert_allclose(Xnc.toarray(), X.toarray(), atol=1e-12)
    snap = _snapshot(Xnc)
    sw = _sw(X.shape[0]) if weighted else None
    est = ElasticNet(alpha=0.02, l1_ratio=0.7, fit_intercept=fit_intercept,
                     tol=1e-12, max_iter=100_000)
    ref = clone(est).fit(X, y, sample_weight=sw)
    got = clone(est).fit(Xnc, y, sample_weight=sw)
    assert_allclose(got.coef_, ref.coef_, rtol=0, atol=1e-9)
    assert_allclose(got.intercept_, ref.intercept_, rtol=0, atol=1e-9)
    assert_allclose(got.predict(Xnc), ref.predict(X), atol=1e-9)
    _assert_unchanged(Xnc, snap)
    # paths and CV on the same input
    a_ref, c_ref, _ = enet_path(X, y, l1_ratio=0.7, alphas=5, tol=1e-12)
    a_got, c_got, _ = enet_path(Xnc, y, l1_ratio=0.7, alphas=5, tol=1e-12)
    assert_allclose(a_got, a_ref, rtol=1e-12)
    assert_allclose(c_got, c_ref, atol=1e-9)
    cv_ref = LassoCV(cv=3, alphas=5, tol=1e-10).fit(X, y, sample_weight=sw)
    cv_got = LassoCV(cv=3, alphas=5, tol=1e-10).fit(Xnc, y, sample_weight=sw)
    assert_allclose(cv_got.mse_path_, cv_ref.mse_path_, rtol=1e-7)
    _assert_unchanged(Xnc, snap)


# --------------------------------------------------------- caller's data untouched
def _x_variants(X):
    Xd = X.toarray()
    return {
        "dense_c": np.ascontiguousarray(Xd),
        "dense_f": np.asfortranarray(Xd),
        "dense_f32": np.asfortranarray(Xd, dtype=np.float32),
        "csr": X.tocsr(),
        "csc": X.tocsc(),
        "csc_f32": X.tocsc().astype(np.float32),
        "csr_noncanonical": _noncanonical_csr(X, np.random.default_rng(0)),
    }


FITTERS = {
    "Lasso": lambda X, y, sw, fi: Lasso(alpha=0.01, fit_intercept=fi).fit(
        X, y, sample_weight=sw),
    "ElasticNet": lambda X, y, sw, fi: ElasticNet(alpha=0.01, fit_intercept=fi).fit(
        X, y, sample_weight=sw),
    "Lasso_copy_X_False": lambda X, y, sw, fi: Lasso(
        alpha=0.01, fit_intercept=fi, copy_X=False).fit(X, y, sample_weight=sw),
    "multioutput": lambda X, y, sw, fi: ElasticNet(alpha=0.01, fit_intercept=fi).fit(
        X, np.c_[y, -y], sample_weight=sw),
    "LassoCV": lambda X, y, sw, fi: LassoCV(cv=3, alphas=5, fit_intercept=fi).fit(
        X, y, sample_weight=sw),
    "ElasticNetCV": lambda X, y, sw, fi: ElasticNetCV(
        l1_ratio=[0.5, 1.0], cv=3, alphas=5, fit_intercept=fi).fit(
        X, y, sample_weight=sw),
    "lasso_path": lambda X, y, sw, fi: lasso_path(
        X, y, alphas=5, sample_weight=sw, fit_intercept=fi),
    "enet_path": lambda X, y, sw, fi: enet_path(
        X, y, alphas=5, sample_weight=sw, fit_intercept=fi),
}


@pytest.mark.parametrize("fitter", list(FITTERS))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_inputs_not_modified(fitter, weighted, fit_intercept):
    X, y, _ = make_problem(n_samples=40, n_features=15, seed=12)
    sw = _sw(X.shape[0]) if weighted else None
    for _name, Xv in _x_variants(X).items():
        yv = y.astype(Xv.dtype)
        snaps = [_snapshot(Xv), _snapshot(yv)]
        sw_snap = None if sw is None else _snapshot(sw)
        FITTERS[fitter](Xv, yv, sw, fit_intercept)
        _assert_unchanged(Xv, snaps[0])
        _assert_unchanged(yv, snaps[1])
        if sw is not None:
            _assert_unchanged(sw, sw_snap)


@pytest.mark.parametrize("fitter", list(FITTERS))
def test_read_only_inputs(fitter):
    # Read-only buffers (e.g. memory-mapped data): any in-place write would raise.
    X, y, _ = make_problem(n_samples=40, n_features=15, seed=13)
    sw = _readonly(_sw(X.shape[0]))
    for Xv in _x_variants(X).values():
        yv = _readonly(y.astype(Xv.dtype))
        FITTERS[fitter](_readonly(Xv), yv, sw, True)


# ------------------------------------------------------------- degenerate columns
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_all_zero_columns_get_zero_coef(fmt, fit_intercept, weighted):
    X, y, _ = make_problem(seed=14)
    Xd = X.toarray()
    zero_cols = [3, 10, 29]
    Xd[:, zero_cols] = 0.0
    Xf = as_format(Xd, fmt)
    if fmt != "dense":
        # also store explicit zeros in one of them
        Xf = Xf.tolil()
        Xf[0, 10] = 1.0
        Xf = Xf.asformat(fmt)
        Xf.data[Xf.data == 1.0] = 0.0
        assert Xf.nnz == sp.csr_matrix(Xd).nnz + 1
    sw = _sw(X.shape[0]) if weighted else None
    for est in (Lasso(alpha=1e-4, fit_intercept=fit_intercept, **TIGHT),
                ElasticNet(alpha=1e-4, l1_ratio=0.3, fit_intercept=fit_intercept,
                           **TIGHT)):
        est.fit(Xf, y, sample_weight=sw)
        assert np.all(est.coef_[zero_cols] == 0.0)
        assert np.count_nonzero(est.coef_) > 0
        ref = clone(est).fit(np.delete(Xd, zero_cols, axis=1), y, sample_weight=sw)
        assert_allclose(np.delete(est.coef_, zero_cols), ref.coef_, atol=1e-8)


@pytest.mark.parametrize("value", [0.1, 1.0 / 3.0, 7.0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [1e-3, 1e-8])
def test_constant_column_with_intercept_gets_zero_coef(fmt, value, weighted, alpha):
    X, y, _ = make_problem(n_samples=60, n_features=20, seed=15)
    Xd = X.toarray()
    const_cols = [2, 11]
    Xd[:, const_cols] = value
    sw = _sw(X.shape[0]) if weighted else None
    for dtype in (np.float64, np.float32):
        Xf = as_format(Xd.astype(dtype), fmt)
        est = ElasticNet(alpha=alpha, l1_ratio=0.9, **TIGHT)
        est.fit(Xf, y, sample_weight=sw)
        assert np.all(est.coef_[const_cols] == 0.0), est.coef_[const_cols]
        ref = clone(est).fit(np.delete(Xd, const_cols, axis=1).astype(dtype), y,
                             sample_weight=sw)
        assert_allclose(np.delete(est.coef_, const_cols), ref.coef_,
                        atol=1e-7 if dtype == np.float64 else 1e-4)
        assert_allclose(est.intercept_, ref.intercept_,
                        atol=1e-7 if dtype == np.float64 else 1e-4)


# ------------------------------------------------------------ extreme alphas
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("positive", [False, True])
def test_alpha_above_alpha_max_gives_zero(fmt, l1_ratio, weighted, positive):
    X, y, _ = make_problem(fmt=fmt, seed=16)
    y = y - 3.0 * _dense64(X)[:, 4]  # make some correlations negative
    sw = _sw(X.shape[0], 5) if weighted else None
    amax = alpha_max(X, y, l1_ratio, sw, True, positive)
    ybar = np.average(y, weights=sw)
    for alpha in (amax * (1 + 1e-6), 10 * amax, 1e6):
        est = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=positive)
        est.fit(X, y, sample_weight=sw)
        assert np.all(est.coef_ == 0.0)
        assert_allclose(est.intercept_, ybar, rtol=1e-12)
        assert_allclose(est.predict(X), np.full(X.shape[0], ybar), rtol=1e-12)
    # just below alpha_max something enters: the threshold is tight
    est = ElasticNet(alpha=amax * (1 - 1e-3), l1_ratio=l1_ratio, positive=positive,
                     **TIGHT).fit(X, y, sample_weight=sw)
    assert np.count_nonzero(est.coef_) >= 1


def test_alpha_max_without_intercept(fmt):
    X, y, _ = make_problem(fmt=fmt, seed=17)
    amax = alpha_max(X, y, fit_intercept=False)
    est = Lasso(alpha=amax * (1 + 1e-6), fit_intercept=False).fit(X, y)
    assert np.all(est.coef_ == 0) and est.intercept_ == 0
    est = Lasso(alpha=amax * (1 - 1e-3), fit_intercept=False, **TIGHT).fit(X, y)
    assert np.count_nonzero(est.coef_) >= 1


# ----------------------------------------------------------------- sample weights
@pytest.mark.parametrize("Est", [Lasso, ElasticNet])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_integer_weights_equal_repeated_rows(fmt, Est, fit_intercept):
    X, y, _ = make_problem(n_samples=40, n_features=20, fmt=fmt, seed=18)
    reps = np.random.default_rng(1).integers(0, 4, X.shape[0])
    reps[0] = 3
    Xd = _dense64(X)
    Xr = as_format(np.repeat(Xd, reps, axis=0), fmt)
    yr = np.repeat(y, reps)
    est = Est(alpha=0.02, fit_intercept=fit_intercept, tol=1e-12, max_iter=100_000)
    a = clone(est).fit(X, y, sample_weight=reps.astype(float))
    b = clone(est).fit(Xr, yr)
    assert_allclose(a.coef_, b.coef_, rtol=0, atol=1e-9)
    assert_allclose(a.intercept_, b.intercept_, rtol=0, atol=1e-9)
    # integer dtype weights are accepted as well
    c = clone(est).fit(X, y, sample_weight=reps)
    assert_allclose(c.coef_, a.coef_, atol=1e-12)


@pytest.mark.parametrize("Est", [Lasso, ElasticNet])
def test_zero_weight_equals_dropping_rows(fmt, Est):
    X, y, _ = make_problem(n_samples=50, n_features=20, fmt=fmt, seed=19)
    sw = _sw(X.shape[0], 7)
    drop = np.array([0, 5, 6, 30])
    sw[drop] = 0.0
    keep = np.setdiff1d(np.arange(X.shape[0]), drop)
    y_bad = y.copy()
    y_bad[drop] = 1e6  # must have no influence at all
    est = Est(alpha=0.02, tol=1e-12, max_iter=100_000)
    a = clone(est).fit(X, y_bad, sample_weight=sw)
    b = clone(est).fit(as_format(_dense64(X)[keep], fmt), y[keep],
                       sample_weight=sw[keep])
    assert_allclose(a.coef_, b.coef_, rtol=0, atol=1e-9)
    assert_allclose(a.intercept_, b.intercept_, rtol=0, atol=1e-9)


@pytest.mark.parametrize("Est", [Lasso, ElasticNet])
def test_weight_scaling_invariance(fmt, Est):
    X, y, _ = make_problem(fmt=fmt, seed=20)
    sw = _sw(X.shape[0], 8)
    est = Est(alpha=0.03, tol=1e-12, max_iter=100_000)
    a = clone(est).fit(X, y, sample_weight=sw)
    for c in (1e-3, 7.0, 1e4):
        b = clone(est).fit(X, y, sample_weight=c * sw)
        assert_allclose(b.coef_, a.coef_, rtol=0, atol=1e-10)
        assert_allclose(b.intercept_, a.intercept_, rtol=0, atol=1e-10)
    # unit weights / scalar weights are the unweighted problem
    u = clone(est).fit(X, y)
    for sw_u in (np.ones(X.shape[0]), 2.5):
        b = clone(est).fit(X, y, sample_weight=sw_u)
        assert_allclose(b.coef_, u.coef_, rtol=0, atol=1e-10)


# ----------------------------------------------------------------- multi-output
@pytest.mark.parametrize("Est", [Lasso, ElasticNet])
@pytest.mark.parametrize("weighted", [False, True])
def test_multioutput_equals_per_column(fmt, Est, weighted):
    X, Y, _ = make_problem(fmt=fmt, n_targets=3, seed=21)
    Y[:, 2] *= 10.0
    sw = _sw(X.shape[0]) if weighted else None
    est = Est(alpha=0.05, **TIGHT).fit(X, Y, sample_weight=sw)
    assert est.coef_.shape == (3, X.shape[1])
    assert est.intercept_.shape == (3,)
    assert np.shape(est.dual_gap_) == (3,)
    assert len(est.n_iter_) == 3
    assert est.predict(X).shape == (X.shape[0], 3)
    assert est.sparse_coef_.shape == (3, X.shape[1])
    for k in range(3):
        single = Est(alpha=0.05, **TIGHT).fit(X, Y[:, k], sample_weight=sw)
        assert_allclose(est.coef_[k], single.coef_, rtol=0, atol=1e-10)
        assert_allclose(est.intercept_[k], single.intercept_, rtol=0, atol=1e-10)
        assert_allclose(est.predict(X)[:, k], single.predict(X), atol=1e-9)


def test_column_vector_y_shapes_match_sklearn():
    # Drop-in compatibility: y of shape (n, 1) gives the same attribute and
    # prediction shapes as scikit-learn's Lasso.
    X, y, _ = make_problem(seed=22)
    Y = y[:, None]
    ours = Lasso(alpha=0.05).fit(X, Y)
    ref = sk.Lasso(alpha=0.05).fit(X, Y)
    assert ours.coef_.shape == ref.coef_.shape
    assert np.shape(ours.intercept_) == np.shape(ref.intercept_)
    assert ours.predict(X).shape == ref.predict(X).shape


# ---------------------------------------------------- warm start, random selection
@pytest.mark.parametrize("Est", [Lasso, ElasticNet])
def test_warm_start_reuses_coef(fmt, Est):
    X, y, _ = make_problem(n_samples=100, n_features=80, fmt=fmt, seed=23)
    est = Est(alpha=0.01, warm_start=True, tol=1e-10, max_iter=100_000).fit(X, y)
    first_coef, first_iter = est.coef_.copy(), est.n_iter_
    assert first_iter > 0
    est.fit(X, y)
    assert est.n_iter_ < first_iter
    assert_allclose(est.coef_, first_coef, atol=1e-8)
    # warm start from a different alpha lands on the cold solution
    est.set_params(alpha=0.005).fit(X, y)
    cold = Est(alpha=0.005, tol=1e-10, max_iter=100_000).fit(X, y)
    assert_allclose(est.coef_, cold.coef_, atol=1e-7)
    # without warm_start nothing is reused
    again = Est(alpha=0.01, tol=1e-10, max_iter=100_000).fit(X, y)
    n0 = again.n_iter_
    again.fit(X, y)
    assert again.n_iter_ == n0


def test_warm_start_multioutput():
    X, Y, _ = make_problem(fmt="csc", n_targets=2, seed=24)
    est = Lasso(alpha=0.01, warm_start=True, tol=1e-10, max_iter=100_000).fit(X, Y)
    first = list(est.n_iter_)
    est.fit(X, Y)
    assert all(b < a for a, b in zip(first, est.n_iter_))


def test_warm_start_respects_positive_constraint(fmt):
    # A warm start from an unconstrained solution with negative coefficients must
    # still give the positive solution (the start point is infeasible).
    X, y, _ = make_problem(fmt=fmt, seed=50)
    y = y - 3.0 * _dense64(X)[:, 4]
    est = Lasso(alpha=0.01, warm_start=True, **TIGHT).fit(X, y)
    assert np.any(est.coef_ < 0)
    est.set_params(positive=True).fit(X, y)
    cold = Lasso(alpha=0.01, positive=True, **TIGHT).fit(X, y)
    assert np.all(est.coef_ >= 0)
    assert_allclose(est.coef_, cold.coef_, atol=1e-7)
    # same through the path's coef_init
    _, coefs, _ = lasso_path(X, y, alphas=[0.01], positive=True,
                             coef_init=-np.abs(cold.coef_) - 1.0, tol=1e-10)
    assert np.all(coefs >= 0)


def test_elasticnet_l1_ratio_one_is_lasso(fmt):
    X, y, _ = make_problem(fmt=fmt, seed=51)
    a = ElasticNet(alpha=0.02, l1_ratio=1.0).fit(X, y)
    b = Lasso(alpha=0.02).fit(X, y)
    assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_


def test_verbose_prints(capsys):
    X, y, _ = make_problem(seed=52)
    Lasso(alpha=0.01, verbose=1).fit(X, y)
    assert "gap" in capsys.readouterr().out
    Lasso(alpha=0.01, verbose=0).fit(X, y)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("Est", [Lasso, ElasticNet])
def test_random_selection_reproducible_and_optimal(fmt, Est):
    X, y, _ = make_problem(n_samples=80, n_features=60, fmt=fmt, seed=25)
    kw = dict(alpha=0.01, tol=1e-12, max_iter=100_000)
    a = Est(selection="random", random_state=0, **kw).fit(X, y)
    b = Est(selection="random", random_state=0, **kw).fit(X, y)
    assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_
    rs = Est(selection="random", random_state=np.random.RandomState(0), **kw).fit(X, y)
    assert_array_equal(rs.coef_, a.coef_)
    c = Est(selection="random", random_state=123, **kw).fit(X, y)
    cyc = Est(selection="cyclic", **kw).fit(X, y)
    assert_allclose(a.coef_, cyc.coef_, rtol=0, atol=1e-8)
    assert_allclose(c.coef_, cyc.coef_, rtol=0, atol=1e-8)
    assert_allclose(a.intercept_, cyc.intercept_, rtol=0, atol=1e-8)
    # the orders really differ (the shuffle is compiled out for cyclic selection
    # only): other seeds and cyclic order end at other roundings of the optimum
    assert not np.array_equal(a.coef_, c.coef_)
    assert not np.array_equal(a.coef_, cyc.coef_)


# ------------------------------------------------------ sklearn API integration
@pytest.mark.parametrize("Est", [Lasso, ElasticNet, LassoCV, ElasticNetCV])
def test_pickle_round_trip(fmt, Est):
    X, y, _ = make_problem(fmt=fmt, seed=26)
    kw = dict(cv=3, alphas=5) if Est in (LassoCV, ElasticNetCV) else dict(alpha=0.01)
    est = Est(**kw).fit(X, y)
    est2 = pickle.loads(pickle.dumps(est))
    assert_array_equal(est2.predict(X), est.predict(X))
    assert_array_equal(est2.coef_, est.coef_)
    assert est2.get_params() == est.get_params()


@pytest.mark.parametrize("Est", [Lasso, ElasticNet, LassoCV, ElasticNetCV])
def test_sparse_coef(Est):
    X, y, _ = make_problem(seed=27)
    kw = dict(cv=3, alphas=5) if Est in (LassoCV, ElasticNetCV) else dict(alpha=0.05)
    est = Est(**kw).fit(X, y)
    sc = est.sparse_coef_
    assert sp.issparse(sc) and sc.format == "csr"
    assert sc.shape == (1, X.shape[1])
    assert_array_equal(sc.toarray().ravel(), est.coef_)
    assert sc.nnz == np.count_nonzero(est.coef_)
    assert_allclose(np.asarray(X @ sc.T.toarray()).ravel() + est.intercept_,
                    est.predict(X), atol=1e-12)


def test_clone_and_params():
    est = ElasticNet(alpha=0.3, l1_ratio=0.2, positive=True, selection="random",
                     random_state=3, warm_start=True)
    c = clone(est)
    assert c is not est
    assert c.get_params() == est.get_params()
    assert not hasattr(c, "coef_")
    assert "l1_ratio" not in Lasso().get_params()
    assert "l1_ratio" not in LassoCV().get_params()
    X, y, _ = make_problem(seed=28)
    fitted = Lasso(alpha=0.05).fit(X, y)
    c = clone(fitted)
    assert not hasattr(c, "coef_") and c.get_params() == fitted.get_params()
    assert fitted.set_params(alpha=0.1) is fitted and fitted.alpha == 0.1


def test_pipeline_matches_sklearn():
    X, y, _ = make_problem(n_samples=100, n_features=40, seed=29)
    ours = make_pipeline(StandardScaler(with_mean=False),
                         Lasso(alpha=0.05, **TIGHT)).fit(X, y)
    ref = make_pipeline(StandardScaler(with_mean=False),
                        sk.Lasso(alpha=0.05, tol=1e-12, max_iter=100_000)).fit(X, y)
    assert_allclose(ours.predict(X), ref.predict(X), atol=1e-7)
    assert_allclose(ours[-1].coef_, ref[-1].coef_, atol=1e-7)


def test_grid_search_over_alpha_matches_sklearn():
    X, y, _ = make_problem(n_samples=100, n_features=40, noise=1.0, seed=30)
    grid = {"alpha": [0.001, 0.01, 0.05, 0.2, 1.0]}
    cv = KFold(4)
    ours = GridSearchCV(Lasso(**TIGHT), grid, cv=cv).fit(X, y)
    ref = GridSearchCV(sk.Lasso(tol=1e-12, max_iter=100_000), grid, cv=cv).fit(X, y)
    assert ours.best_params_ == ref.best_params_
    assert_allclose(ours.cv_results_["mean_test_score"],
                    ref.cv_results_["mean_test_score"], rtol=1e-6)
    # the refitted best estimator is ours
    assert isinstance(ours.best_estimator_, Lasso)


def test_grid_search_pipeline_on_sparse():
    X, y, _ = make_problem(n_samples=100, n_features=40, seed=31)
    pipe = make_pipeline(StandardScaler(with_mean=False), ElasticNet())
    gs = GridSearchCV(pipe, {"elasticnet__alpha": [0.01, 0.1],
                             "elasticnet__l1_ratio": [0.5, 1.0]}, cv=3).fit(X, y)
    assert gs.best_params_["elasticnet__alpha"] in (0.01, 0.1)
    assert gs.predict(X).shape == (X.shape[0],)
    assert np.isfinite(gs.best_score_)


def test_select_from_model():
    X, y, _ = make_problem(n_samples=100, n_features=40, seed=32)
    est = Lasso(alpha=0.05, **TIGHT)
    sel = SelectFromModel(est).fit(X, y)
    coef = sel.estimator_.coef_
    assert 0 < np.count_nonzero(coef) < X.shape[1]
    # SelectFromModel uses threshold 1e-5 for Lasso-like estimators
    assert_array_equal(sel.get_support(), np.abs(coef) >= 1e-5)
    Xt = sel.transform(X)
    assert sp.issparse(Xt) and Xt.shape == (X.shape[0], int(sel.get_support().sum()))
    assert_allclose(Xt.toarray(), X.toarray()[:, sel.get_support()])
    ref = SelectFromModel(sk.Lasso(alpha=0.05, tol=1e-12, max_iter=100_000)).fit(X, y)
    assert_array_equal(sel.get_support(), ref.get_support())


@pytest.mark.parametrize("Est", [Lasso, ElasticNet, LassoCV, ElasticNetCV])
def test_feature_names_with_pandas(Est):
    pd = pytest.importorskip("pandas")
    X, y, _ = make_problem(n_samples=40, n_features=6, fmt="dense", seed=33)
    cols = [f"f{i}" for i in range(6)]
    df = pd.DataFrame(X, columns=cols)
    kw = dict(cv=3, alphas=5) if Est in (LassoCV, ElasticNetCV) else dict(alpha=0.01)
    est = Est(**kw).fit(df, pd.Series(y))
    assert_array_equal(est.feature_names_in_, np.array(cols, dtype=object))
    assert est.n_features_in_ == 6
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        p_df = est.predict(df)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        assert_allclose(p_df, est.predict(X))
    bad = df.rename(columns={"f0": "zzz"})
    with pytest.raises(ValueError, match="feature names"):
        est.predict(bad)
    no_names = Est(**kw).fit(X, y)
    assert not hasattr(no_names, "feature_names_in_")


# ------------------------------------------------------------ convergence warning
@pytest.mark.parametrize("fmt_", ["dense", "csr"])
def test_convergence_warning(fmt_):
    X, y, _ = make_problem(n_samples=100, n_features=80, fmt=fmt_, seed=34)
    with pytest.warns(ConvergenceWarning, match=r"did not converge.*max_iter") as rec:
        est = Lasso(alpha=1e-4, max_iter=2, tol=1e-12).fit(X, y)
    msg = str(rec[0].message)
    assert "duality gap" in msg and "2 epochs" in msg
    assert est.n_iter_ <= 2
    assert np.all(np.isfinite(est.coef_))
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        lasso_path(X, y, alphas=5, max_iter=2, tol=1e-12)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        LassoCV(cv=3, alphas=5, max_iter=1, tol=1e-12).fit(X, y)
    # with enough iterations: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        Lasso(alpha=1e-2, tol=1e-4).fit(X, y)


# ------------------------------------------------------------------------- paths
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_path_matches_sklearn_int_alphas(fmt, l1_ratio, positive):
    X, y, _ = make_problem(n_samples=60, n_features=30, fmt=fmt, intercept=0.0, seed=35)
    kw = dict(alphas=20, eps=1e-2, tol=1e-12, max_iter=100_000, positive=positive)
    if l1_ratio == 1.0:
        alphas, coefs, gaps = lasso_path(X, y, **kw)
        ref_a, ref_c, ref_g = sk.lasso_path(X, y, **kw)
    else:
        alphas, coefs, gaps = enet_path(X, y, l1_ratio=l1_ratio, **kw)
        ref_a, ref_c, ref_g = sk.enet_path(X, y, l1_ratio=l1_ratio, **kw)
    assert alphas.shape == (20,) and coefs.shape == (30, 20) and gaps.shape == (20,)
    if not positive:  # (with positive, our grid starts at the positive alpha_max)
        assert_allclose(alphas, ref_a, rtol=1e-12)
        assert_allclose(coefs, ref_c, rtol=0, atol=1e-7)
    assert np.all(np.diff(alphas) < 0)
    assert_allclose(alphas[-1] / alphas[0], 1e-2, rtol=1e-12)
    assert np.all(coefs[:, 0] == 0)
    if positive:
        assert np.all(coefs >= 0)
        assert np.count_nonzero(coefs[:, 1]) > 0  # the grid starts at alpha_max
    for i, a in enumerate(alphas):
        gap, scale = duality_gap(X, y, coefs[:, i], a, l1_ratio, None, False, positive)
        assert gap <= 1e-12 * scale * (1 + 1e-9) + 1e-15
        assert gaps[i] <= 1e-12 * scale


@pytest.mark.parametrize("path", [lasso_path, enet_path])
def test_path_array_alphas_sorted(fmt, path):
    X, y, _ = make_problem(fmt=fmt, intercept=0.0, seed=36)
    given = np.array([0.01, 0.5, 0.002, 0.1])
    alphas, coefs, gaps = path(X, y, alphas=given, tol=1e-12, max_iter=100_000)
    assert_array_equal(alphas, np.sort(given)[::-1])
    assert_array_equal(given, [0.01, 0.5, 0.002, 0.1])  # caller's array untouched
    sk_path = sk.lasso_path if path is lasso_path else sk.enet_path
    ref_a, ref_c, _ = sk_path(X, y, alphas=given, tol=1e-12, max_iter=100_000)
    assert_allclose(alphas, ref_a)
    assert_allclose(coefs, ref_c, rtol=0, atol=1e-7)
    # each column is the solution for its own alpha
    l1 = 1.0 if path is lasso_path else 0.5
    for i, a in enumerate(alphas):
        est = ElasticNet(alpha=a, l1_ratio=l1, fit_intercept=False, tol=1e-12,
                         max_iter=100_000).fit(X, y)
        assert_allclose(coefs[:, i], est.coef_, atol=1e-8)


def test_path_2d_y(fmt):
    X, Y, _ = make_problem(fmt=fmt, n_targets=3, intercept=0.0, seed=37)
    Y[:, 1] *= 20.0  # targets on very different scales
    alphas, coefs, gaps = lasso_path(X, Y, alphas=6, tol=1e-12, max_iter=100_000)
    assert alphas.shape == (6,)
    assert coefs.shape == (3, X.shape[1], 6)
    assert gaps.shape == (3, 6)
    # each target's path is the 1-D path at the returned alphas
    for k in range(3):
        _, ck, _ = lasso_path(X, Y[:, k], alphas=alphas, tol=1e-12, max_iter=100_000)
        assert_allclose(coefs[k], ck, rtol=0, atol=1e-8)


def test_path_2d_y_explicit_alphas(fmt):
    X, Y, _ = make_problem(fmt=fmt, n_targets=2, intercept=0.0, seed=38)
    grid = [1.0, 0.1, 0.01]
    alphas, coefs, gaps, n_iters, icpt = enet_path(
        X, Y, alphas=grid, tol=1e-12, return_n_iter=True, return_intercept=True)
    assert coefs.shape == (2, X.shape[1], 3) and icpt.shape == (2, 3)
    assert len(n_iters) == 2 and all(len(n) == 3 for n in n_iters)
    for k in range(2):
        _, ck, _ = enet_path(X, Y[:, k], alphas=grid, tol=1e-12)
        assert_allclose(coefs[k], ck, atol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
def test_path_return_n_iter_and_intercept(fmt, weighted):
    X, y, _ = make_problem(fmt=fmt, seed=39)
    sw = _sw(X.shape[0]) if weighted else None
    out = lasso_path(X, y, alphas=8, fit_intercept=True, sample_weight=sw, tol=1e-12,
                     max_iter=100_000, return_n_iter=True, return_intercept=True)
    assert len(out) == 5
    alphas, coefs, gaps, n_iters, intercepts = out
    assert len(n_iters) == 8 and all(isinstance(n, (int, np.integer)) for n in n_iters)
    assert all(0 <= n <= 100_000 for n in n_iters)
    assert intercepts.shape == (8,)
    # the grid is the one of the centred (weighted) problem
    assert_allclose(alphas[0], alpha_max(X, y, 1.0, sw, True), rtol=1e-10)
    for i, a in enumerate(alphas):
        est = Lasso(alpha=a, tol=1e-12, max_iter=100_000).fit(X, y, sample_weight=sw)
        assert_allclose(coefs[:, i], est.coef_, rtol=0, atol=1e-8)
        assert_allclose(intercepts[i], est.intercept_, rtol=0, atol=1e-8)
    # without an intercept the intercepts are zeros; only n_iter requested: 4 outputs
    out = lasso_path(X, y, alphas=3, return_n_iter=True)
    assert len(out) == 4
    out = lasso_path(X, y, alphas=3, return_intercept=True)
    assert len(out) == 4 and np.all(out[3] == 0)


def test_path_coef_init_and_default_no_intercept(fmt):
    X, y, _ = make_problem(fmt=fmt, seed=40)
    a = 0.01
    _, c_cold, _ = lasso_path(X, y, alphas=[a], tol=1e-12, max_iter=100_000)
    ref = Lasso(alpha=a, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y)
    assert_allclose(c_cold[:, 0], ref.coef_, atol=1e-8)  # default fit_intercept=False
    _, c_warm, _, its = lasso_path(X, y, alphas=[a], coef_init=ref.coef_, tol=1e-12,
                                   max_iter=100_000, return_n_iter=True)
    assert_allclose(c_warm, c_cold, atol=1e-8)
    assert its[0] <= 1


def test_path_random_selection_reproducible():
    X, y, _ = make_problem(seed=41)
    kw = dict(alphas=6, selection="random", tol=1e-12, max_iter=100_000)
    _, c1, _ = lasso_path(X, y, random_state=3, **kw)
    _, c2, _ = lasso_path(X, y, random_state=3, **kw)
    _, c3, _ = lasso_path(X, y, alphas=6, tol=1e-12, max_iter=100_000)
    assert_array_equal(c1, c2)
    assert_allclose(c1, c3, atol=1e-8)


# ---------------------------------------------------------------------------- CV
def _cv_pair(kind, **kw):
    if kind == "lasso":
        return LassoCV(**kw), sk.LassoCV(**kw)
    if kind == "enet_list":
        return (ElasticNetCV(l1_ratio=[0.2, 0.7, 1.0], **kw),
                sk.ElasticNetCV(l1_ratio=[0.2, 0.7, 1.0], **kw))
    return ElasticNetCV(l1_ratio=0.5, **kw), sk.ElasticNetCV(l1_ratio=0.5, **kw)


@pytest.mark.parametrize("kind", ["lasso", "enet_list", "enet"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fmt_", ["dense", "csr"])
def test_cv_matches_sklearn_default_tol(kind, fit_intercept, weighted, fmt_):
    X, y, _ = make_problem(n_samples=100, n_features=40, fmt=fmt_, noise=0.5, seed=42)
    sw = _sw(X.shape[0], 4) if weighted else None
    ours, ref = _cv_pair(kind, cv=KFold(5), alphas=30, fit_intercept=fit_intercept)
    ours.fit(X, y, sample_weight=sw)
    ref.fit(X, y, sample_weight=sw)
    assert_allclose(ours.alpha_, ref.alpha_, rtol=1e-12)
    if kind != "lasso":
        assert ours.l1_ratio_ == ref.l1_ratio_
    assert ours.mse_path_.shape == ref.mse_path_.shape
    assert ours.alphas_.shape == ref.alphas_.shape
    assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    # At tol=1e-4 both solvers are ~1e-3 (up to 1e-2 at the smallest alphas) away
    # from the exact held-out MSE, in different directions, hence rtol=5e-3 here;
    # test_cv_matches_sklearn_tight_tol checks 1e-5.
    assert_allclose(ours.mse_path_, ref.mse_path_, rtol=5e-3)
    scale = np.abs(ref.coef_).max()
    assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=2e-3 * scale)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=2e-3 * scale)


@pytest.mark.parametrize("kind", ["lasso", "enet_list", "enet"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fmt_", ["dense", "csc"])
def test_cv_matches_sklearn_tight_tol(kind, weighted, fmt_):
    X, y, _ = make_problem(n_samples=100, n_features=40, fmt=fmt_, noise=0.5, seed=43)
    sw = _sw(X.shape[0], 5) if weighted else None
    ours, ref = _cv_pair(kind, cv=KFold(5), alphas=30, tol=1e-8, max_iter=100_000)
    ours.fit(X, y, sample_weight=sw)
    ref.fit(X, y, sample_weight=sw)
    assert_allclose(ours.alpha_, ref.alpha_, rtol=1e-12)
    assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-5)
    assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-5)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-5)
    # the refit is the estimator at (alpha_, l1_ratio_)
    refit = ElasticNet(alpha=ours.alpha_, l1_ratio=ours.l1_ratio_, tol=1e-8,
                       max_iter=100_000).fit(X, y, sample_weight=sw)
    assert_allclose(ours.coef_, refit.coef_, atol=1e-6)


def test_cv_explicit_alphas_and_positive():
    X, y, _ = make_problem(n_samples=80, n_features=30, noise=0.5, seed=44)
    given = [0.3, 0.001, 0.03, 0.01, 0.1]
    for positive in (False, True):
        ours = LassoCV(alphas=given, cv=KFold(4), positive=positive, tol=1e-8,
                       max_iter=100_000).fit(X, y)
        ref = sk.LassoCV(alphas=given, cv=KFold(4), positive=positive, tol=1e-8,
                         max_iter=100_000).fit(X, y)
        assert_array_equal(ours.alphas_, np.sort(given)[::-1])
        assert_allclose(ours.alphas_, ref.alphas_)
        assert ours.alpha_ == ref.alpha_
        assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-5)
        if positive:
            assert np.all(ours.coef_ >= 0)


def test_cv_shapes():
    X, y, _ = make_problem(n_samples=60, n_features=20, seed=45)
    est = LassoCV(cv=4, alphas=7).fit(X, y)
    assert est.mse_path_.shape == (7, 4) and est.alphas_.shape == (7,)
    assert est.coef_.shape == (20,) and np.ndim(est.intercept_) == 0
    assert est.alpha_ in est.alphas_
    est = ElasticNetCV(l1_ratio=0.3, cv=3, alphas=7).fit(X, y)
    assert est.mse_path_.shape == (7, 3) and est.alphas_.shape == (7,)
    assert est.l1_ratio_ == 0.3
    est = ElasticNetCV(l1_ratio=[0.1, 0.5, 0.9, 1.0], cv=3, alphas=7).fit(X, y)
    assert est.mse_path_.shape == (4, 7, 3) and est.alphas_.shape == (4, 7)
    assert est.l1_ratio_ in (0.1, 0.5, 0.9, 1.0)
    i = [0.1, 0.5, 0.9, 1.0].index(est.l1_ratio_)
    assert est.alpha_ in est.alphas_[i]
    mean = est.mse_path_.mean(axis=-1)
    assert mean[i, list(est.alphas_[i]).index(est.alpha_)] == mean.min()
    # the grid of each l1_ratio starts at its alpha_max
    for j, r in enumerate([0.1, 0.5, 0.9, 1.0]):
        assert_allclose(est.alphas_[j, 0], alpha_max(X, y, r), rtol=1e-10)


@pytest.mark.parametrize("Est", [LassoCV, ElasticNetCV])
def test_cv_n_jobs_identical(Est):
    X, y, _ = make_problem(n_samples=100, n_features=40, seed=46)
    kw = dict(cv=5, alphas=20)
    if Est is ElasticNetCV:
        kw["l1_ratio"] = [0.5, 1.0]
    a = Est(n_jobs=1, **kw).fit(X, y)
    b = Est(n_jobs=2, **kw).fit(X, y)
    assert_array_equal(a.mse_path_, b.mse_path_)
    assert_array_equal(a.coef_, b.coef_)
    assert a.alpha_ == b.alpha_
    kw.update(tol=1e-10, max_iter=100_000, alphas=8)
    c = Est(n_jobs=2, selection="random", random_state=0, **kw).fit(X, y)
    d = Est(n_jobs=2, selection="random", random_state=0, **kw).fit(X, y)
    e = Est(n_jobs=1, selection="random", random_state=0, **kw).fit(X, y)
    assert_array_equal(c.mse_path_, d.mse_path_)
    assert_array_equal(c.mse_path_, e.mse_path_)
    cyclic = Est(n_jobs=2, **kw).fit(X, y)
    assert_allclose(c.mse_path_, cyclic.mse_path_, rtol=1e-6)


def test_cv_groups_and_int_cv():
    X, y, _ = make_problem(n_samples=60, n_features=20, seed=47)
    groups = np.repeat(np.arange(6), 10)
    kw = dict(cv=GroupKFold(3), alphas=5, tol=1e-8, max_iter=100_000)
    est = LassoCV(**kw).fit(X, y, groups=groups)
    with sklearn.config_context(enable_metadata_routing=True):
        ref = sk.LassoCV(**kw).fit(X, y, groups=groups)
    assert est.mse_path_.shape == (5, 3)
    assert_allclose(est.mse_path_, ref.mse_path_, rtol=1e-5)
    a = LassoCV(cv=3, alphas=5).fit(X, y)
    b = LassoCV(cv=KFold(3), alphas=5).fit(X, y)
    assert_array_equal(a.mse_path_, b.mse_path_)


@pytest.mark.parametrize("Est", [LassoCV, ElasticNetCV])
def test_cv_rejects_multi_column_y(Est):
    X, y, _ = make_problem(seed=48)
    with pytest.raises(ValueError, match="single target"):
        Est(cv=3).fit(X, np.c_[y, y])


@pytest.mark.parametrize("Est", [LassoCV, ElasticNetCV])
def test_cv_column_vector_y_warns_and_works(Est):
    # like scikit-learn: a (n, 1) y is raveled with a DataConversionWarning
    X, y, _ = make_problem(seed=49)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        a = Est(cv=3, alphas=5).fit(X, y[:, None])
    b = Est(cv=3, alphas=5).fit(X, y)
    assert_array_equal(a.coef_, b.coef_)


# --------------------------------------------------------------- property test
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(2, 40),
    p=st.integers(1, 30),
    density=st.floats(0.05, 1.0),
    frac=st.floats(1e-3, 1.2),
    l1_ratio=st.sampled_from([1.0, 0.9, 0.5, 0.05]),
    positive=st.booleans(),
    fit_intercept=st.booleans(),
    weighted=st.booleans(),
    fmt_=st.sampled_from(["dense", "csr", "csc"]),
)
def test_random_problems_are_solved(seed, n, p, density, frac, l1_ratio, positive,
                                    fit_intercept, weighted, fmt_):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=seed,
                  data_rvs=rng.standard_normal)
    y = rng.standard_normal(n) * 3 + X @ rng.standard_normal(p)
    sw = rng.uniform(0.1, 2.0, n) if weighted else None
    Xf = X.toarray() if fmt_ == "dense" else X.asformat(fmt_)
    amax = alpha_max(X, y, l1_ratio, sw, fit_intercept, positive)
    alpha = max(frac * amax, 1e-3)
    est = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=positive,
                     fit_intercept=fit_intercept, tol=1e-10, max_iter=100_000)
    est.fit(Xf, y, sample_weight=sw)
    gap, scale = duality_gap(X, y, est.coef_, alpha, l1_ratio, sw, fit_intercept,
                             positive)
    assert gap <= 1e-10 * scale + 1e-13
    bound = kkt_bound(X, 1e-10 * scale + 1e-13, alpha, l1_ratio, sw, fit_intercept)
    assert kkt_violation(X, y, est.coef_, alpha, l1_ratio, sw, fit_intercept,
                         positive) <= bound * 1.001 + 1e-12
    if positive:
        assert np.all(est.coef_ >= 0)
    if alpha >= amax:
        assert np.all(est.coef_ == 0)
    # the same problem on another format gives the same answer
    other = ElasticNet(**est.get_params()).fit(X.tocsc() if fmt_ == "dense" else
                                                 X.toarray(), y, sample_weight=sw)
    assert_allclose(other.coef_, est.coef_, rtol=0, atol=1e-6 * max(1.0, scale))


# ------------------------------------------------------------ support Newton step
def _ratings_problem(fmt, seed=0):
    # User x item ratings (1-5 on 30% of the entries, a shared taste factor): the
    # columns are strongly correlated, a support of ~100 features.
    rng = np.random.default_rng(seed)
    n, p = 200, 400
    mask = rng.random((n, p)) < 0.3
    taste = rng.standard_normal(n)[:, None] * rng.standard_normal(p)[None, :]
    R = np.clip(np.rint(3 + taste + 0.5 * rng.standard_normal((n, p))), 1, 5) * mask
    y = R @ rng.standard_normal(p) * 0.1 + 0.3 * rng.standard_normal(n) + 5.0
    return as_format(sp.csr_matrix(R), fmt), y


def test_support_gram_matches_dense(fmt, monkeypatch):
    from sparse_estimators._solvers import _enet

    X, _ = _ratings_problem(fmt)
    sw = _sw(X.shape[0], 3)
    S = np.array([0, 5, 7, 50, 119])
    Xd = X.toarray() if sp.issparse(X) else X
    for fit_intercept in (True, False):
        for weights in (None, sw):
            d = _enet.Design(X, weights, fit_intercept)
            s = np.ones(X.shape[0]) if weights is None else np.sqrt(weights)
            W = s @ s
            xbar = (s**2 @ Xd) / W if fit_intercept else np.zeros(X.shape[1])
            Xc = s[:, None] * (Xd - xbar)
            expected = Xc[:, S].T @ Xc[:, S]
            for block in (32 << 20, 8 * len(S) * 7):  # one block; 7-row blocks
                monkeypatch.setattr(_enet, "NEWTON_BLOCK_BYTES", block)
                G = _enet.support_gram(d, S)
                assert_allclose(np.tril(G), np.tril(expected), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
def test_support_newton_step_is_taken_and_optimal(fmt, fit_intercept, weighted, positive,
                                                  l1_ratio, capsys, monkeypatch):
    # The cost model is set to always take the step (it is tuned by timing, in
    # benchmarks/): what is tested is that the step keeps the solver exact.
    from sparse_estimators._solvers import _enet

    monkeypatch.setattr(_enet, "NEWTON_GAIN", 0.0)
    X, y = _ratings_problem(fmt)
    sw = _sw(X.shape[0], 2) if weighted else None
    # supports of 60-150 features (below 0.8 n_samples, where the step is allowed)
    alpha = (0.05 if l1_ratio == 1.0 else 0.1) * alpha_max(X, y, l1_ratio, sw,
                                                          fit_intercept, positive)
    tol = 1e-12
    est = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                     positive=positive, tol=tol, max_iter=100_000,
                     verbose=1).fit(X, y, sample_weight=sw)
    out = capsys.readouterr().out
    assert "support Newton" in out and "accepted" in out
    w = est.coef_
    gap, scale = duality_gap(X, y, w, alpha, l1_ratio, sw, fit_intercept, positive)
    assert -1e-12 * scale <= gap <= tol * scale
    bound = kkt_bound(X, tol * scale, alpha, l1_ratio, sw, fit_intercept)
    assert kkt_violation(X, y, w, alpha, l1_ratio, sw, fit_intercept, positive) <= bound
    ref = sk.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                        positive=positive, tol=1e-14,
                        max_iter=1_000_000).fit(X, y, sample_weight=sw)
    assert_allclose(w, ref.coef_, rtol=1e-5, atol=1e-7 * np.abs(ref.coef_).max())
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-6, abs=1e-8)
    # the same answer without the Newton step (CD alone)
    d = _enet.Design(X, None if sw is None else sw / sw.mean(), fit_intercept)
    yc, _ = d.center_target(y)
    l1 = alpha * l1_ratio * d.W
    l2 = alpha * (1 - l1_ratio) * d.W
    t = _enet.gap_tolerance(yc, tol, 1.0)
    w_cd = _enet.enet_solve(d, yc, np.zeros(X.shape[1]), l1, l2, positive=positive,
                            tol=t, max_iter=100_000, newton=False)[0]
    assert_allclose(w, w_cd, rtol=1e-6, atol=1e-8 * np.abs(w_cd).max())


def _solver_problem(X, y, rel_tol):
    """``enet_solve``'s inputs for ``X, y`` with an intercept: the design, the
    centred target, l1 at alpha_max / 20 and the absolute tol of ``rel_tol``."""
    from sparse_estimators._solvers import _enet

    d = _enet.Design(X, None, True)
    yc, _ = d.center_target(y)
    l1 = 0.05 * _enet.alpha_max(d, yc) * d.W
    return d, yc, l1, _enet.gap_tolerance(yc, rel_tol, 1.0)


@pytest.mark.parametrize("n_kept", [0, 1])
def test_wrong_screening_is_caught_by_the_final_full_gap(monkeypatch, n_kept):
    # The gap that stops the solver is over the unscreened candidates only. If
    # screening ever discarded a feature of the solution (it decides from a
    # floating-point gap), the full gap checked before returning exceeds tol:
    # all features come back and the solver carries on to the true optimum.
    # Forced here by a screening test that, once, keeps a single feature (whose
    # problem is then solved to tol), or none (nothing left to violate).
    from sparse_estimators._solvers import _enet

    X, y, _ = make_problem(seed=3)
    d, yc, l1, tol = _solver_problem(X, y, 1e-10)
    ref = _enet.enet_solve(d, yc, np.zeros(X.shape[1]), l1, 0.0, tol=tol,
                           max_iter=100_000, screening=False)[0]
    real_screen = _enet.K.screen_violations
    real_gap = _enet.K.enet_gap
    tests, calls = [], []

    def keep_top_once(cand, grad, w, norms_c, l1, l2, positive, gap, dual_norm, screen,
                      *out):
        if screen:
            tests.append(cand.shape[0])
            if len(tests) == 2:
                # a zero gap keeps only the features at the dual norm (the largest
                # violation); a dual norm far above every correlation, none
                gap, dual_norm = 0.0, (dual_norm if n_kept else 1e100)
        res = real_screen(cand, grad, w, norms_c, l1, l2, positive, gap, dual_norm,
                          screen, *out)
        if len(tests) == 2 and screen:
            assert res[0] == n_kept
        return res

    def gap(*args):
        calls.append(len(args[5]))
        return real_gap(*args)

    monkeypatch.setattr(_enet.K, "screen_violations", keep_top_once)
    monkeypatch.setattr(_enet.K, "enet_gap", gap)
    w, gap, _, conv = _enet.enet_solve(d, yc, np.zeros(X.shape[1]), l1, 0.0, tol=tol,
                                       max_iter=100_000)
    p = int(np.count_nonzero(d.norms > 0))
    assert len(tests) == 2  # no screening once all features came back
    assert n_kept == 0 or 1 in calls  # the one-feature problem was solved to tol
    assert calls.count(p) >= 3  # start, the failed full check, the resumed solve
    assert conv and gap <= tol
    assert_allclose(w, ref, rtol=1e-6, atol=1e-8 * np.abs(ref).max())


def test_support_newton_candidates(fmt):
    # One step from a perturbed optimum with the right support and signs lands on
    # the optimum; a step that crosses zero is projected (first candidate) and cut
    # at the first crossing (second), each with exact zeros and a lower objective.
    from sparse_estimators._solvers import _enet

    X, y = _ratings_problem(fmt, seed=1)
    d, yc, l1, t = _solver_problem(X, y, 1e-14)
    w_opt = _enet.enet_solve(d, yc, np.zeros(X.shape[1]), l1, 0.0, tol=t,
                             max_iter=100_000, newton=False)[0]
    Xc = d.X if d.X is not None else (X.toarray() - d.xbar)

    def objective(w):
        r = yc - Xc @ w
        return 0.5 * r @ r + l1 * np.abs(w).sum()

    def grad_at(w):
        return Xc.T @ (yc - Xc @ w)

    S = np.flatnonzero(w_opt)
    assert S.size > 5
    w0 = w_opt.copy()
    w0[S] *= 1.0 + 0.05 * np.random.default_rng(0).standard_normal(S.size) ** 2
    S0, sign0 = _enet._orthant(w0, False)
    cands, built = _enet._support_newton(d, w0, S0, sign0, grad_at(w0)[S0], l1, 0.0, {})
    assert built and len(cands) == 1
    assert_allclose(cands[0], w_opt, rtol=1e-8, atol=1e-10 * np.abs(w_opt).max())
    # push one coordinate near zero with the wrong pull: the step crosses zero there
    w1 = w_opt.copy()
    k = S[np.argmin(np.abs(w_opt[S]))]
    w1[k] = 1e-3 * np.sign(w_opt[k])
    extra = np.setdiff1d(np.arange(X.shape[1]), S)[0]
    w1[extra] = 0.5  # not in the optimal support: the step drives it through zero
    S1, sign1 = _enet._orthant(w1, False)
    cands, _ = _enet._support_newton(d, w1, S1, sign1, grad_at(w1)[S1], l1, 0.0, {})
    assert len(cands) == 2
    proj, cut = cands
    assert proj[extra] == 0.0 or np.sign(proj[extra]) == 1.0
    assert np.count_nonzero(cut) == np.count_nonzero(w1) - 1
    assert np.all(np.sign(cut[cut != 0]) == np.sign(w1[cut != 0]))
    assert objective(cut) < objective(w1)
    assert np.all((proj == 0) | (np.sign(proj) == np.sign(w1)))


def test_every_warning_names_the_callers_line():
    # warn_at_caller skips this package's frames and scikit-learn's fit wrappers,
    # so public functions reached through others (lasso_path -> enet_path, fit ->
    # _fit_context, SparseCoder.transform -> sparse_encode) still name this file
    from sparse_estimators.decomposition import SparseCoder, sparse_encode
    from sparse_estimators.linear_model import (
        SparseLogisticRegression,
        classifier_path,
        enet_path,
        lasso_path,
    )

    X, y, _ = make_problem(n_samples=60, n_features=30, seed=3)
    labels = np.where(y > np.median(y), 1, 0)
    D = np.random.default_rng(0).normal(size=(4, 30))
    tight = dict(tol=1e-14, max_iter=2)
    calls = {
        "Lasso.fit": lambda: Lasso(alpha=1e-4, **tight).fit(X, y),
        "alpha=0": lambda: Lasso(alpha=0.0, **tight).fit(X, y),
        "LassoCV.fit": lambda: LassoCV(alphas=[1e-4], cv=2, **tight).fit(X, y),
        "enet_path": lambda: enet_path(X, y, alphas=[1e-4], **tight),
        "lasso_path": lambda: lasso_path(X, y, alphas=[1e-4], **tight),
        "classifier_path": lambda: classifier_path(X, labels, Cs=[1e3], max_iter=1,
                                                   tol=1e-14),
        "SparseLogisticRegression.fit": lambda: SparseLogisticRegression(
            C=1e3, max_iter=1, tol=1e-14).fit(X, labels),
        "sparse_encode": lambda: sparse_encode(X.toarray(), D, alpha=1e-3, **tight),
        "SparseCoder.transform": lambda: SparseCoder(
            D, transform_algorithm="lasso_cd", transform_alpha=1e-3,
            transform_max_iter=2).transform(X.toarray()),
    }
    for name, call in calls.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        files = {w.filename for w in caught
                 if issubclass(w.category, (ConvergenceWarning, UserWarning))}
        assert files == {__file__}, name


def test_zero_tol_runs_max_iter_without_numpy_warnings():
    # tol=0 is allowed; the epoch prediction must not take log(0)
    import warnings

    rng = np.random.RandomState(0)
    X = rng.randn(80, 12)
    X[X < 0.3] = 0
    y = X[:, :3] @ [1.0, 2.0, -3.0] + 0.1 * rng.randn(80) + 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = Lasso(alpha=1e-2, tol=0, max_iter=200).fit(X, y)
    kinds = {w.category for w in caught}
    assert kinds == {ConvergenceWarning}
    assert model.dual_gap_ < 1e-12
