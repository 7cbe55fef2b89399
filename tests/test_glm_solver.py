"""The proximal Newton solver's pieces: per-sample losses, derivatives and conjugates
(against textbook formulas and the Fenchel-Young equality), the products over CSR
and CSC, the working-set column copy."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit

from sparse_estimators._solvers import _glm
from sparse_estimators.linear_model import SparseLinearSVC, SparseLogisticRegressionCV

# margins from deep on the wrong side to deep on the right one: exp overflows past 709
ETA = np.concatenate([np.linspace(-5, 5, 41), [-800.0, -40.0, 40.0, 800.0, 0.0, 1.0]])


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    n = ETA.shape[0]
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    c = rng.uniform(0.0, 2.0, n)
    c[3] = 0.0  # a sample without weight
    return y, c


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
@pytest.mark.parametrize("b", [0.0, 0.7])
def test_loss_and_derivatives_match_textbook_formulas(loss, b):
    y, c = _problem()
    m = ETA - b
    logistic = loss == "logistic"
    z = -y * ETA
    if logistic:
        f = c * np.logaddexp(0.0, z)
        d1 = -c * y * expit(z)
        d2 = c * expit(z) * expit(-z)
    else:
        g = np.maximum(1.0 - y * ETA, 0.0)
        f, d1, d2 = c * g * g, -2.0 * c * y * g, np.where(g > 0, 2.0 * c, 0.0)
    alpha, h = np.empty_like(m), np.empty_like(m)
    floor = 1e-3
    total, s_alpha, s_h = _glm._derivatives(m, b, y, c, logistic, floor, alpha, h)
    assert np.isfinite(total) and np.all(np.isfinite(alpha)) and np.all(np.isfinite(h))
    assert_allclose(total, f.sum(), rtol=1e-13)
    assert_allclose(alpha, d1, rtol=1e-12, atol=1e-300)
    assert_allclose(h, np.maximum(d2, floor * c), rtol=1e-12, atol=1e-300)
    assert_allclose([s_alpha, s_h], [alpha.sum(), h.sum()], rtol=1e-12)
    # the loss along a direction, as the line search evaluates it
    d = np.random.default_rng(1).standard_normal(m.shape[0])
    t = 0.25
    ref = _glm._loss_sum(m + t * d, m, 0.0, b, y, c, logistic)
    assert_allclose(_glm._loss_sum(m, d, t, b, y, c, logistic), ref, rtol=1e-13)


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
def test_conjugate_satisfies_fenchel_young(loss):
    # f(eta) + f*(f'(eta)) = eta f'(eta) holds with equality for a conjugate pair
    y, c = _problem(2)
    logistic = loss == "logistic"
    eta = np.clip(ETA, -30, 30)  # keep eta * f'(eta) well above rounding
    alpha, h = np.empty_like(eta), np.empty_like(eta)
    f = _glm._derivatives(eta, 0.0, y, c, logistic, 0.0, alpha, h)[0]
    conj = _glm._conjugate_sum(eta, 0.0, y, c, 1.0, logistic)
    assert_allclose(f + conj, float(np.sum(eta * alpha)), rtol=1e-12, atol=1e-12)
    # and f*(s alpha) <= sup over a grid of eta of (s alpha eta - f(eta)) equality
    s = 0.6
    grid = np.linspace(-60, 60, 240001)
    for i in range(0, eta.shape[0], 7):
        if c[i] == 0.0:
            continue
        vals = (s * alpha[i] * grid
                - c[i] * (np.logaddexp(0.0, -y[i] * grid) if logistic
                          else np.maximum(1.0 - y[i] * grid, 0.0) ** 2))
        one = _glm._conjugate_sum(eta[i:i + 1], 0.0, y[i:i + 1], c[i:i + 1], s, logistic)
        assert_allclose(one, vals.max(), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_scatter_equals_column_dots(index_dtype, dtype):
    rng = np.random.default_rng(3)
    X = sp.random(60, 45, density=0.2, format="csr", random_state=rng, dtype=dtype)
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    v = rng.standard_normal(60)
    v[::3] = 0.0  # rows the scatter skips
    ref = X.toarray().astype(np.float64).T @ v
    Xc = _glm.as_solver_input(X)
    assert Xc.format == "csc" and Xc.dtype == np.float64
    assert_allclose(_glm._rmatvec(Xc, v), ref, rtol=1e-12, atol=1e-12)
    assert_allclose(_glm._rmatvec(Xc, v, X), ref, rtol=1e-12, atol=1e-12)
    # duplicate and unsorted entries add up, as scipy reads them: every row's
    # values split in two halves, stored in reverse order
    indptr, indices, data = [0], [], []
    for i in range(X.shape[0]):
        sl = slice(X.indptr[i], X.indptr[i + 1])
        indices += list(np.r_[X.indices[sl], X.indices[sl]][::-1])
        data += list(np.r_[X.data[sl], X.data[sl]][::-1] / 2)
        indptr.append(len(indices))
    Xd = sp.csr_matrix((np.array(data, dtype=dtype), np.array(indices, dtype=index_dtype),
                        np.array(indptr, dtype=index_dtype)), shape=X.shape)
    assert not Xd.has_canonical_format
    assert_allclose(_glm._rmatvec(None, v, Xd), ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_take_columns_equals_scipy(index_dtype):
    rng = np.random.default_rng(4)
    X = sp.random(50, 30, density=0.3, format="csc", random_state=rng)
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    cols = np.array([0, 3, 4, 17, 29])
    out = _glm._take_columns(X, cols)
    assert out.format == "csc" and out.shape == (50, 5)
    assert_array_equal(out.toarray(), X[:, cols].toarray())
    # duplicate entries are copied as they are (Design sums them on its own copy)
    Xd = sp.csc_matrix((X.data.repeat(2) / 2, X.indices.repeat(2),
                        2 * X.indptr), shape=X.shape)
    assert not Xd.has_canonical_format
    assert_allclose(_glm._take_columns(Xd, cols).toarray(), X[:, cols].toarray())
    assert_array_equal(_glm._take_columns(X.toarray(), cols), X[:, cols].toarray())
    empty = _glm._take_columns(X, np.array([], dtype=np.int64))
    assert empty.shape == (50, 0) and empty.nnz == 0


def test_fit_on_csr_and_csc_agree_with_rows_mostly_past_the_margin():
    # large C: many samples end past the margin, where the squared hinge's gradient
    # is zero and the row scatter skips them
    rng = np.random.default_rng(5)
    X = sp.random(400, 300, density=0.05, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    y = (X @ rng.standard_normal(300) > 0).astype(int)
    a = SparseLinearSVC(C=50.0, tol=1e-10).fit(X, y)
    b = SparseLinearSVC(C=50.0, tol=1e-10).fit(X.tocsc(), y)
    s = np.where(y == 1, 1.0, -1.0)
    assert np.mean(s * a.decision_function(X) >= 1.0) > 0.3
    assert_allclose(a.coef_, b.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(a.intercept_, b.intercept_, rtol=1e-6, atol=1e-8)


def test_cv_on_csr_and_csc_agree():
    rng = np.random.default_rng(6)
    X = sp.random(200, 60, density=0.1, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    y = (X @ rng.standard_normal(60) + 0.3 * rng.standard_normal(200) > 0).astype(int)
    a = SparseLogisticRegressionCV(Cs=5, cv=3, tol=1e-8).fit(X, y)
    b = SparseLogisticRegressionCV(Cs=5, cv=3, tol=1e-8).fit(X.tocsc(), y)
    assert a.C_ == b.C_
    assert_allclose(a.scores_, b.scores_, atol=1e-9)
    assert_allclose(a.coef_, b.coef_, rtol=1e-5, atol=1e-7)


def test_tol_below_rounding_stops_instead_of_repeating_null_steps():
    # a tolerance no float64 gap can reach: the solver must stop once a Newton step
    # no longer lowers the objective, not spin to max_iter, and say it did not converge
    rng = np.random.default_rng(7)
    X = sp.random(300, 80, density=0.1, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    y = np.where(X @ rng.standard_normal(80) > 0, 1.0, -1.0)
    c = np.ones(300)
    for loss in ("logistic", "squared_hinge"):
        w, b, gap, n_iter, converged = _glm.glm_solve(X, y, c, 0.5, 0.0, loss=loss,
                                                     tol=1e-30, max_iter=200)
        ref = _glm.glm_solve(X, y, c, 0.5, 0.0, loss=loss, tol=1e-12, max_iter=200)
        assert not converged
        assert n_iter < 60
        assert gap <= 1e-12
        assert_allclose(w, ref[0], atol=1e-8)
