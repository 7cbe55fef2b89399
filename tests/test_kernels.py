"""Direct tests of the numba kernels and of the solver's Design, against NumPy.

Kernels are called the way the solver calls them (``*design.kernel_args``), so the
tests follow the layout that ``Design`` chooses for dense and sparse designs.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from sparse_estimators import _kernels as K
from sparse_estimators._solvers import Design, alpha_grid, alpha_max, enet_path_solve, enet_solve
from sparse_estimators._solvers._enet import _inner_solve


# ------------------------------------------------------------------ helpers
def _data(n=50, p=20, density=0.3, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=seed,
                  data_rvs=rng.standard_normal)
    y = X @ rng.standard_normal(p) + rng.standard_normal(n) + 1.5
    w = rng.standard_normal(p) * (rng.random(p) < 0.5)
    sw = rng.uniform(0.1, 3.0, n)
    sw *= n / sw.sum()
    return X, y, w, sw


def _explicit(X, sw, fit_intercept):
    """Dense explicit ``Xs = diag(sqrt(sw)) (X - xbar)`` and ``xbar`` (float64)."""
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n = Xd.shape[0]
    sw = np.ones(n) if sw is None else sw
    W = sw.sum()
    xbar = sw @ Xd / W if fit_intercept else np.zeros(Xd.shape[1])
    return np.sqrt(sw)[:, None] * (Xd - xbar), xbar, W


def _in_format(X, fmt, dtype=np.float64):
    if fmt == "dense":
        return X.toarray().astype(dtype)
    return X.asformat(fmt).astype(dtype)


def _ref_gap(l1, l2, positive, r, y, grad, w, norms):
    """NumPy duality gap of 1/2||r||^2 + l1||w||_1 + l2/2||w||^2 at (w, r); for
    l1 = l2 = 0, sum_j pg_j^2 / (2 ||X_j||^2) with pg the projected gradient."""
    rn, ry = r @ r, r @ y
    if l1 == 0:
        if l2 == 0:
            pg = np.where(positive & (w <= 0) & (grad < 0), 0.0, grad)
            return 0.5 * np.sum(pg**2 / norms)
        g = np.maximum(grad, 0.0) if positive else grad
        return rn + 0.5 * l2 * (w @ w) - ry + (g @ g) / (2 * l2)
    xta = grad - l2 * w
    dn = max(xta.max(), 0.0) if positive else np.abs(xta).max()
    scale = min(1.0, l1 / dn) if dn > 0 else 1.0
    quad = rn + l2 * (w @ w)
    return 0.5 * quad + l1 * np.abs(w).sum() - (scale * ry - 0.5 * scale**2 * quad)


# ------------------------------------------------------------------- prox
@pytest.mark.parametrize("x, t, expected", [
    (3.0, 1.0, 2.0), (-3.0, 1.0, -2.0), (0.5, 1.0, 0.0), (-0.5, 1.0, 0.0),
    (1.0, 1.0, 0.0), (-1.0, 1.0, 0.0), (2.5, 0.0, 2.5), (-2.5, 0.0, -2.5),
    (0.0, 0.0, 0.0), (1e-300, 1e-301, 9e-301),
])
def test_soft_threshold_values(x, t, expected):
    assert_allclose(K.soft_threshold(x, t), expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("positive", [False, True])
def test_prox_enet_is_coordinate_minimiser(positive):
    # prox_enet(z, l1, denom, positive) = argmin denom/2 w^2 - z w + l1 |w|
    rng = np.random.default_rng(0)
    grid = np.linspace(-10, 10, 400_001)
    if positive:
        grid = grid[grid >= 0]
    for _ in range(30):
        z = rng.uniform(-8, 8)
        l1 = rng.uniform(0, 3)
        denom = rng.uniform(0.5, 4)
        got = K.prox_enet(z, l1, denom, positive)
        f = 0.5 * denom * grid**2 - z * grid + l1 * np.abs(grid)
        assert abs(got - grid[np.argmin(f)]) <= 1e-4
        if positive:
            expected = max(z - l1, 0.0) / denom
        else:
            expected = np.sign(z) * max(abs(z) - l1, 0.0) / denom
        assert_allclose(got, expected, rtol=1e-14, atol=0)


def test_prox_enet_positive_clips_negative():
    assert K.prox_enet(-5.0, 1.0, 2.0, True) == 0.0
    assert K.prox_enet(-5.0, 1.0, 2.0, False) == -2.0
    assert K.prox_enet(5.0, 1.0, 2.0, True) == 2.0
    assert K.prox_enet(0.5, 1.0, 2.0, True) == 0.0


def test_threshold_kernels():
    x = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    X = x.reshape(1, -1)
    t = np.full(7, 1.0)
    out = np.empty_like(X)
    K.threshold_dense(X, t, False, out)
    assert_array_equal(out[0], [-2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0])
    K.threshold_dense(X, np.full(7, 0.75), True, out)
    assert_array_equal(out[0], [-3.0, -1.0, 0.0, 0.0, 0.0, 1.0, 3.0])
    # per-column thresholds on CSR values, in place (out aliases data)
    y = x.copy()
    K.threshold_sparse(y, np.arange(7), np.array([0.5, 2.0, 0, 0, 0, 0.5, 5.0]), False, y)
    assert_array_equal(y, [-2.5, 0.0, -0.5, 0.0, 0.5, 0.5, 0.0])
    # top-2 per segment, ties keep the earlier entry; soft shrinks by the 3rd magnitude
    z = np.array([1.0, -3.0, 3.0, 2.0, 5.0, 0.0])
    indptr = np.array([0, 4, 6])
    out = np.empty_like(z)
    K.topk_segments(z, indptr, 2, False, out)
    assert_array_equal(out, [0.0, -3.0, 3.0, 0.0, 5.0, 0.0])
    K.topk_segments(z, indptr, 2, True, out)
    assert_array_equal(out, [0.0, -1.0, 1.0, 0.0, 5.0, 0.0])


# ---------------------------------------------------------------- Design
@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_design_offsets_and_norms(fmt, weighted, fit_intercept):
    X, y, w, sw = _data(seed=1)
    sw = sw if weighted else None
    d = Design(_in_format(X, fmt), sw, fit_intercept)
    Xs, xbar, W = _explicit(X, sw, fit_intercept)
    assert_allclose(d.W, W, rtol=1e-14)
    assert_allclose(d.x_offset, xbar, rtol=1e-12, atol=1e-14)
    assert_allclose(d.norms, (Xs**2).sum(axis=0), rtol=1e-10, atol=1e-12)
    assert d.is_sparse == (fmt != "dense")
    # the target side
    yc, y_off = d.center_target(y)
    s = np.ones(len(y)) if sw is None else np.sqrt(sw)
    ybar = (np.average(y, weights=sw) if fit_intercept else 0.0)
    assert_allclose(y_off, ybar, rtol=1e-13)
    assert_allclose(yc, s * (y - ybar), rtol=1e-12, atol=1e-13)
    assert_allclose(d.intercept(w, y_off), (ybar - xbar @ w) if fit_intercept else 0.0,
                    rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("weighted", [False, True])
def test_design_sparse_equals_dense(weighted):
    X, _, _, sw = _data(n=80, p=30, seed=2)
    sw = sw if weighted else None
    ds = Design(X.tocsc(), sw, True)
    dd = Design(X.toarray(), sw, True)
    assert_allclose(ds.norms, dd.norms, rtol=1e-11, atol=1e-12)
    assert_allclose(ds.x_offset, dd.x_offset, rtol=1e-13, atol=1e-15)
    assert_allclose(ds.W, dd.W, rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fmt", ["dense", "csc", "csr"])
def test_design_constant_and_zero_columns_have_zero_norm(fmt, weighted, dtype):
    # With an intercept a constant column is centred to zero: its norm must be 0
    # (or negligible against the other columns) so that it never enters the model.
    X, _, _, sw = _data(n=40, p=10, seed=3)
    Xd = X.toarray()
    Xd[:, 2] = 0.1
    Xd[:, 4] = 7.0
    Xd[:, 5] = 0.0
    d = Design(_in_format(sp.csr_matrix(Xd), fmt, dtype), sw if weighted else None,
               True)
    assert d.norms[5] == 0.0
    others = np.delete(d.norms, [2, 4, 5])
    assert np.all(others > 0)
    assert np.all(d.norms[[2, 4]] <= 1e-20 * others.min()), d.norms[[2, 4]]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_csc_column_stats(index_dtype, dtype):
    rng = np.random.default_rng(3)
    X = sp.random(40, 9, density=0.3, format="lil", random_state=rng)
    X[:, 2] = 0.0
    X[:, 5] = 0.7  # full and constant
    X[:, 6] = 0.7  # full, then one value differs
    X[3, 6] = 0.5
    X[:, 7] = 0.0
    X[::2, 7] = 1.0  # equal stored values, with implicit zeros: not constant
    X = X.tocsc().astype(dtype)
    X.eliminate_zeros()
    X.data[X.indptr[8]] = 0.0  # an explicit zero stored in column 8
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    D = X.toarray().astype(np.float64)
    s = rng.uniform(0.5, 2.0, 40)
    sq, wsum = np.full(9, np.nan), np.full(9, np.nan)
    const = np.zeros(9, dtype=bool)
    for fit_intercept, expected in ((False, [2]), (True, [2, 5])):
        assert K.csc_column_stats(X.data, X.indices, X.indptr, None, 40, fit_intercept,
                                  sq, wsum, const, None)
        assert_allclose(sq, (D**2).sum(0), rtol=1e-6)
        assert_allclose(wsum, D.sum(0), rtol=1e-6)
        assert_array_equal(np.flatnonzero(const), expected)
    scaled = np.empty_like(X.data)
    assert K.csc_column_stats(X.data, X.indices, X.indptr, s, 40, True, sq, wsum, const,
                              scaled)
    Ds = s[:, None] * D
    assert_allclose(sp.csc_matrix((scaled, X.indices, X.indptr), shape=X.shape).toarray(),
                    Ds, rtol=1e-6)
    assert_allclose(sq, (Ds**2).sum(0), rtol=1e-6)
    assert_allclose(wsum, Ds.T @ s, rtol=1e-6)
    assert_array_equal(np.flatnonzero(const), [2, 5])  # tested on the unscaled values


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_csc_column_stats_canonical_test(index_dtype):
    def is_canonical(indices, indptr):
        p = indptr.shape[0] - 1
        nnz = int(indptr[-1])
        return K.csc_column_stats(np.ones(nnz), indices, indptr, None, 1 + int(
            indices.max(initial=0)), True, np.empty(p), np.empty(p),
            np.empty(p, dtype=bool), None)

    rng = np.random.default_rng(4)
    X = sp.random(30, 8, density=0.4, format="lil", random_state=rng)
    X[:, 3] = 0.0  # an empty column between non-empty ones
    X = X.tocsc()
    X.eliminate_zeros()
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    assert is_canonical(X.indices, X.indptr)
    j = int(np.argmax(np.diff(X.indptr)))
    a, b = X.indptr[j], X.indptr[j + 1]
    bad = X.copy()
    bad.indices[a:b] = bad.indices[a:b][::-1]  # unsorted
    assert not is_canonical(bad.indices, bad.indptr)
    bad = X.copy()
    bad.indices[a + 1] = bad.indices[a]  # a duplicate
    assert not is_canonical(bad.indices, bad.indptr)
    # the last entry of a column above the first of the next is not a fault
    assert X.indices[X.indptr[1] - 1] > X.indices[X.indptr[1]]
    empty = sp.csc_matrix((5, 3))
    assert is_canonical(empty.indices, empty.indptr)
    one = sp.csc_matrix(np.array([[0.0, 2.0], [0.0, 3.0]]))
    assert is_canonical(one.indices, one.indptr)
    one.indices[1] = 0
    assert not is_canonical(one.indices, one.indptr)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_constant_columns(order, dtype):
    X = np.random.default_rng(0).standard_normal((30, 6)).astype(dtype)
    X[:, 1] = 0.1
    X[:, 3] = 0.0
    X[:, 4] = 2.0
    X[-1, 4] = 2.5  # constant but for the last row
    X[:, 5] = 0.0
    X[-1, 5] = 1e-30  # non-zero only in the last row
    X = np.asarray(X, order=order)
    assert_array_equal(K.dense_constant_columns(X, True),
                       [False, True, False, True, False, False])
    assert_array_equal(K.dense_constant_columns(X, False),
                       [False, False, False, True, False, False])


def test_design_does_not_modify_input():
    X, _, _, sw = _data(seed=4)
    for Xf in (X.tocsc(), X.tocsr(), np.asfortranarray(X.toarray())):
        before = Xf.copy()
        Design(Xf, sw, True)
        Design(Xf, None, False)
        if sp.issparse(Xf):
            assert_array_equal(Xf.data, before.data)
            assert_array_equal(Xf.indices, before.indices)
            assert_array_equal(Xf.indptr, before.indptr)
        else:
            assert_array_equal(Xf, before)


# ------------------------------------------------- residual / gradient / stats
@pytest.mark.parametrize("fmt", ["dense", "csc", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_residual_and_gradient_match_numpy(fmt, weighted, fit_intercept, dtype):
    X, y, w, sw = _data(n=60, p=25, seed=5)
    sw = sw if weighted else None
    Xf = _in_format(X, fmt, dtype)
    d = Design(Xf, sw, fit_intercept)
    yc, _ = d.center_target(y.astype(dtype))
    # reference on the data as the solver sees it (float32-rounded X, float64 maths)
    Xs, _, W = _explicit(Xf.astype(np.float64), sw, fit_intercept)
    r_ref = yc - Xs @ w
    rt = np.empty(X.shape[0])
    c = K.residual(*d.kernel_args, yc, w.copy(), rt)
    r = rt + c * d.s
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert_allclose(r, r_ref, rtol=rtol, atol=rtol * np.abs(r_ref).max())
    feats = np.arange(X.shape[1])
    out = np.empty(X.shape[1])
    K.gradient(*d.kernel_args, d.W, feats, rt, c, out)
    g_ref = Xs.T @ r_ref
    assert_allclose(out, g_ref, rtol=rtol, atol=rtol * np.abs(g_ref).max())
    # a subset of features, in any order
    sub = np.array([7, 0, 3, 24])
    out_sub = np.empty(4)
    K.gradient(*d.kernel_args, d.W, sub, rt, c, out_sub)
    assert_allclose(out_sub, out[sub], rtol=1e-14)
    # the residual statistics used by the gap
    rn, ry = K.residual_stats(rt, c, d.s, yc)
    assert_allclose(rn, r_ref @ r_ref, rtol=rtol)
    assert_allclose(ry, r_ref @ yc, rtol=rtol)
    # with fit_intercept the residual is orthogonal to sqrt(sw): implicit centring
    if fit_intercept:
        # (float32 designs are centred in float32: orthogonal to ~1e-7 relative)
        assert abs(d.s @ r) <= (1e-9 if dtype == np.float64 else 1e-5) * np.abs(r).sum()


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_gradient_int64_indices(index_dtype):
    X, y, w, sw = _data(seed=6)
    Xc = X.tocsc()
    Xc.indices = Xc.indices.astype(index_dtype)
    Xc.indptr = Xc.indptr.astype(index_dtype)
    d = Design(Xc, sw, True)
    yc, _ = d.center_target(y)
    rt = np.empty(X.shape[0])
    c = K.residual(*d.kernel_args, yc, w.copy(), rt)
    out = np.empty(X.shape[1])
    K.gradient(*d.kernel_args, d.W, np.arange(X.shape[1]), rt, c, out)
    Xs, _, _ = _explicit(X, sw, True)
    assert_allclose(out, Xs.T @ (yc - Xs @ w), rtol=1e-12, atol=1e-12)


def _noncanonical_csr(X, index_dtype):
    """``X`` as CSR with its rows' entries reversed (unsorted) and each stored value
    split into two duplicates that add up to it."""
    X = X.tocsr()
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    half = X.data / 2
    data = np.concatenate([half, X.data - half])[::-1]
    cols = np.concatenate([X.indices, X.indices])[::-1]
    rr = np.concatenate([rows, rows])[::-1]
    order = np.argsort(rr, kind="stable")  # rows in order, entries within reversed
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rr, minlength=X.shape[0]))])
    Y = sp.csr_matrix((data[order], cols[order].astype(index_dtype),
                       indptr.astype(index_dtype)), shape=X.shape)
    assert not Y.has_canonical_format
    return Y


@pytest.mark.parametrize("canonical", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype, index_dtype", [(np.float64, np.int32), (np.float32, np.int64)])
@pytest.mark.parametrize("rows", [False, True])
def test_design_gradient_both_layouts(canonical, weighted, fit_intercept, dtype,
                                      index_dtype, rows):
    """``Design.gradient`` on CSR input, forced through the CSR row scatter or the
    column dots, equals the explicit NumPy gradient (over all features and a subset
    in any order), whatever the input's duplicates and order."""
    X, y, w, sw = _data(n=20, p=60, seed=11)  # short columns: the CSR is kept
    sw = sw if weighted else None
    Xf = X.astype(dtype)
    Xf.indices = Xf.indices.astype(index_dtype)
    Xf.indptr = Xf.indptr.astype(index_dtype)
    if not canonical:
        Xf = _noncanonical_csr(Xf, index_dtype)
    d = Design(Xf, sw, fit_intercept)
    assert d.rows is not None and d.rows[1] is Xf.indices  # a reference, not a copy
    d._rows_cost = 0.0 if rows else np.inf  # force one layout
    yc, _ = d.center_target(y.astype(dtype))
    rt = np.empty(X.shape[0])
    c = K.residual(*d.kernel_args, yc, w.copy(), rt)
    Xs, _, _ = _explicit(X.astype(dtype).astype(np.float64), sw, fit_intercept)
    g_ref = Xs.T @ (yc - Xs @ w)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    out = d.gradient(np.arange(X.shape[1]), rt, c, np.empty(X.shape[1]))
    assert_allclose(out, g_ref, rtol=tol, atol=tol * np.abs(g_ref).max())
    sub = np.array([59, 3, 0, 17])
    assert_allclose(d.gradient(sub, rt, c, np.empty(4)), g_ref[sub], rtol=tol,
                    atol=tol * np.abs(g_ref).max())


def test_design_gradient_layout_choice(monkeypatch):
    """The CSR scatter is used where columns are short (p >> n, ten values per
    column), the column dots where they are long or the input is not CSR."""
    calls = []
    monkeypatch.setattr(K, "csr_gradient",
                        lambda *a: calls.append(1) or K._quadratic.csr_gradient(*a))
    short = sp.random(100, 2000, density=0.01, format="csr", random_state=0)
    long_ = sp.random(2000, 20, density=0.1, format="csr", random_state=0)
    rng = np.random.default_rng(0)
    for X, expect in ((short, 1), (long_, 0), (short.tocsc(), 0)):
        calls.clear()
        d = Design(X, None, True)
        rt = rng.standard_normal(X.shape[0])
        rt -= rt.mean()  # a residual of the centred problem: orthogonal to 1
        p = X.shape[1]
        out = d.gradient(np.arange(p), rt, 0.0, np.empty(p))
        assert len(calls) == expect
        Xd = X.toarray()
        assert_allclose(out, (Xd - Xd.mean(0)).T @ rt, rtol=1e-12, atol=1e-12)
        # a handful of candidates: the column dots, whatever the layout
        calls.clear()
        d.gradient(np.arange(3), rt, 0.0, np.empty(3))
        assert not calls


# ---------------------------------------------------------------------- gap
# (positive with l1 == 0 is checked at the optimum by test_enet_gap_zero_at_optimum)
@pytest.mark.parametrize("l1, l2, positive", [
    (3.0, 0.0, False), (3.0, 2.0, False), (0.5, 10.0, False), (1e3, 1.0, False),
    (3.0, 0.0, True), (3.0, 2.0, True), (0.5, 10.0, True), (1e3, 1.0, True),
    (0.0, 2.0, False), (0.0, 0.0, False),
])
def test_enet_gap_matches_numpy(l1, l2, positive):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((40, 15))
    y = rng.standard_normal(40)
    for _ in range(5):
        w = rng.standard_normal(15) * (rng.random(15) < 0.4)
        if positive:
            w = np.abs(w)
        r = y - X @ w
        grad = X.T @ r
        norms = (X**2).sum(axis=0)
        gap, dual_norm = K.enet_gap(l1, l2, positive, r @ r, r @ y, grad, w, norms)
        assert_allclose(gap, _ref_gap(l1, l2, positive, r, y, grad, w, norms),
                        rtol=1e-12)
        if l1 > 0:
            xta = grad - l2 * w
            ref_dn = max(xta.max(), 0.0) if positive else np.abs(xta).max()
            assert_allclose(dual_norm, ref_dn, rtol=1e-14)
            assert gap >= -1e-10  # weak duality


def _solve_reference(X, y, l1, l2, positive):
    """Tight solution of 1/2||y - Xw||^2 + l1||w||_1 + l2/2||w||^2 by scipy."""
    from scipy.optimize import lsq_linear, minimize
    n, p = X.shape
    if l1 == 0:
        A = np.r_[X, np.sqrt(l2) * np.eye(p)]
        b = np.r_[y, np.zeros(p)]
        lb = 0.0 if positive else -np.inf
        return lsq_linear(A, b, bounds=(lb, np.inf), method="bvls", tol=1e-15).x
    # split w = u - v, u, v >= 0: smooth bound-constrained problem
    def f(z):
        u, v = z[:p], z[p:]
        w = u - v
        r = y - X @ w
        val = 0.5 * r @ r + l1 * z.sum() + 0.5 * l2 * (w @ w)
        g = -X.T @ r + l2 * w
        return val, np.r_[g + l1, -g + l1]
    bounds = [(0, None)] * p + [(0, 0) if positive else (0, None)] * p
    res = minimize(f, np.zeros(2 * p), jac=True, method="L-BFGS-B", bounds=bounds,
                   options=dict(ftol=1e-15, gtol=1e-12, maxiter=10_000))
    return res.x[:p] - res.x[p:]


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("l1, l2", [(5.0, 0.0), (5.0, 3.0), (0.0, 3.0)])
def test_enet_gap_zero_at_optimum(l1, l2, positive):
    # The gap must (nearly) vanish at the optimum, or the solver can never stop.
    rng = np.random.default_rng(8)
    X = rng.standard_normal((60, 12))
    y = X @ rng.standard_normal(12) + rng.standard_normal(60)
    w = _solve_reference(X, y, l1, l2, positive)
    if positive:
        assert np.any(w == 0)
    r = y - X @ w
    gap, _ = K.enet_gap(l1, l2, positive, r @ r, r @ y, X.T @ r, w,
                        (X**2).sum(axis=0))
    assert abs(gap) <= 1e-6 * (y @ y)



@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("l2", [0.0, 2.0])
@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("gap", [0.05, np.inf, -1.0])
@pytest.mark.parametrize("l1_above_dual_norm", [False, True])
def test_screen_violations_matches_numpy(positive, l2, in_place, gap, l1_above_dual_norm):
    # The fused screening + scoring pass against its definition written in NumPy:
    # the gap-safe sphere test (a NaN test keeps the feature; no test at a negative
    # or infinite gap), the compaction, the scores (+inf on the support) and the
    # violators; discarded non-zero coefficients are set to 0 and reported.
    rng = np.random.default_rng(3)
    p = 400
    cand = np.sort(rng.choice(1000, p, replace=False)).astype(np.int64)
    w = np.zeros(1000)
    w[cand[::7]] = rng.standard_normal(cand[::7].shape[0])
    norms_c = rng.random(p) + 0.1
    grad = rng.standard_normal(p) * 2.0
    grad[5] = np.nan
    grad[0] = l2 * w[cand[0]]  # a non-zero coefficient without correlation: discarded
    # the dual norm as enet_gap computes it; l1 either below it or above it (near
    # the optimum the dual point is r itself)
    dual_norm = float(np.nanmax(np.abs(grad - l2 * w[cand])))
    l1 = 1.2 * dual_norm if l1_above_dual_norm else 0.3 * dual_norm
    grad[2] = l1  # w = 0 there: a score of exactly 0, not a violation
    assert w[cand[2]] == 0.0
    cand0, norms0, grad0, w0 = cand.copy(), norms_c.copy(), grad.copy(), w.copy()

    xta = grad - l2 * w[cand]
    if 0.0 <= gap < np.inf:
        d = (1.0 - np.abs(xta) / max(l1, dual_norm)) / np.sqrt(norms_c + l2)
        keep = ~(d > np.sqrt(2.0 * gap) / l1)
        assert 0 < keep.sum() < p
    else:
        keep = np.ones(p, dtype=bool)
    score = (xta if positive else np.abs(xta))[keep] - l1
    score[w[cand][keep] != 0.0] = np.inf

    if in_place:
        cand_o, norms_o = cand, norms_c
    else:
        cand_o, norms_o = np.full(p, -1, dtype=np.int64), np.full(p, np.nan)
    score_o, viol_o = np.full(p, np.nan), np.full(p, -1, dtype=np.int64)
    m, n_supp, n_viol, zeroed = K.screen_violations(
        cand, grad, w, norms_c, l1, l2, positive, gap, dual_norm, True, cand_o,
        norms_o, score_o, viol_o, np.empty(p, dtype=bool))
    assert m == keep.sum()
    if m < p:
        assert_array_equal(cand_o[:m], cand0[keep])
        assert_array_equal(norms_o[:m], norms0[keep])
    else:  # all kept: the candidates are cand itself, and nothing is written
        assert in_place or np.all(cand_o == -1)
    assert_array_equal(score_o[:m], score)  # NaN where grad is NaN
    assert_array_equal(viol_o[:n_viol], np.flatnonzero(score > 0.0))
    assert n_supp == np.count_nonzero(w0[cand0[keep]])
    out = cand0[~keep]
    assert zeroed == bool(np.any(w0[out] != 0.0))
    assert not 0.0 <= gap < np.inf or zeroed  # the data discard a non-zero coefficient
    assert np.all(w[out] == 0.0)
    assert_array_equal(np.delete(w, out), np.delete(w0, out))
    assert_array_equal(grad, grad0)
    if not in_place:
        assert_array_equal(cand, cand0)
        assert_array_equal(norms_c, norms0)
    # screen=False: nothing discarded, the same scores as with an infinite gap
    w = w0.copy()
    m2 = K.screen_violations(cand0, grad0, w, norms0, l1, l2, positive, gap, dual_norm,
                             False, np.empty(p, dtype=np.int64), np.empty(p),
                             score_o, viol_o, np.empty(p, dtype=bool))
    assert m2[0] == p and not m2[3]
    assert_array_equal(w, w0)


# ----------------------------------------------------------- alpha_max / grid
@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("positive", [False, True])
def test_alpha_max_and_grid(fmt, weighted, positive):
    X, y, _, sw = _data(seed=9)
    sw = sw if weighted else None
    d = Design(_in_format(X, fmt), sw, True)
    yc, _ = d.center_target(y)
    Xs, _, W = _explicit(X, sw, True)
    corr = Xs.T @ yc
    for l1_ratio in (1.0, 0.25):
        top = corr.max() if positive else np.abs(corr).max()
        ref = top / (W * l1_ratio)
        assert_allclose(alpha_max(d, yc, l1_ratio=l1_ratio, positive=positive), ref,
                        rtol=1e-12)
        grid = alpha_grid(d, yc, l1_ratio=l1_ratio, eps=1e-2, n_alphas=7,
                          positive=positive)
        assert_allclose(grid, np.geomspace(ref, ref * 1e-2, 7), rtol=1e-12)


def test_alpha_grid_constant_target():
    X, _, _, _ = _data(seed=10)
    d = Design(X.tocsc(), None, True)
    yc, _ = d.center_target(np.full(X.shape[0], 3.0))
    grid = alpha_grid(d, yc, n_alphas=4)
    assert grid.shape == (4,) and np.all(grid > 0) and np.all(np.isfinite(grid))


# ------------------------------------------------------------- solver driver
@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize("positive", [False, True])
def test_screening_does_not_change_the_solution(fmt, positive):
    X, y, _, sw = _data(n=80, p=60, seed=11)
    d = Design(_in_format(X, fmt), sw, True)
    yc, _ = d.center_target(y)
    amax = alpha_max(d, yc, positive=positive)
    alphas = amax * np.array([0.5, 0.2, 0.05, 0.01])
    a, ga, _, ca = enet_path_solve(d, yc, alphas, 0.9, positive=positive, tol=1e-12,
                                   max_iter=100_000, screening=True)
    b, gb, _, cb = enet_path_solve(d, yc, alphas, 0.9, positive=positive, tol=1e-12,
                                   max_iter=100_000, screening=False)
    assert ca.all() and cb.all()
    assert_allclose(a, b, rtol=0, atol=1e-8)
    assert np.all(ga <= 1e-12 * (yc @ yc) / d.W)


def test_enet_solve_certifies_its_gap():
    X, y, _, _ = _data(n=70, p=40, seed=12)
    d = Design(X.tocsc(), None, True)
    yc, _ = d.center_target(y)
    l1 = 0.1 * alpha_max(d, yc) * d.W
    l2 = 0.5
    w = np.zeros(X.shape[1])
    tol = 1e-9 * (yc @ yc)
    w, gap, n_epochs, converged = enet_solve(d, yc, w, l1, l2, tol=tol,
                                             max_iter=100_000)
    assert converged and gap <= tol and n_epochs > 0
    Xs, _, _ = _explicit(X, None, True)
    r = yc - Xs @ w
    assert _ref_gap(l1, l2, False, r, yc, Xs.T @ r, w, None) <= tol * (1 + 1e-6)


@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
@pytest.mark.parametrize("shuffle", [False, True])
def test_enet_inner_screening_keeps_the_solution(fmt, l1_ratio, shuffle):
    # A tall problem with a mid-sized support, solved over every feature with
    # Anderson extrapolation on (K = 5) and a gap check after every epoch, so that
    # screening starts while the support is still moving (a screening that dropped
    # every zero feature at the first check fails this test). The result must
    # satisfy the optimality conditions of the *full* problem, not only of the
    # features left in the epochs, and equal the unscreened solve.
    rng = np.random.default_rng(3)
    n, p = 400, 60
    X = sp.random(n, p, density=0.3, format="csc", random_state=3,
                  data_rvs=rng.standard_normal)
    y = X @ (rng.standard_normal(p) * (rng.random(p) < 0.4)) + rng.standard_normal(n)
    d = Design(_in_format(X, fmt), None, False)
    yc, _ = d.center_target(y)
    amax = alpha_max(d, yc, l1_ratio=l1_ratio)
    l1 = 0.05 * amax * d.W * l1_ratio
    l2 = 0.05 * amax * d.W * (1 - l1_ratio)
    tol = 1e-12 * (yc @ yc)
    ws = np.arange(p)
    out = {}
    for screen in (False, True):
        w = np.zeros(p)
        rt = np.empty(n)
        c = K.residual(*d.kernel_args, yc, w, rt)
        hist = np.empty((6, p))
        epochs, c, _, gap, _ = _inner_solve(
            d, yc, ws, w, rt, c, l1, l2, False, 100_000, tol, 1, 1e-12, hist, 0,
            shuffle, 0, True, screen, np.empty(p, dtype=np.int64),
            np.empty(K.inner_work_size(p, 5)))
        assert gap <= tol and epochs < 100_000
        Xs, _, _ = _explicit(X, None, False)
        r = yc - Xs @ w
        assert_allclose(rt, r, atol=1e-9 * np.abs(yc).max())
        full_gap = _ref_gap(l1, l2, False, r, yc, Xs.T @ r, w, d.norms)
        assert full_gap <= tol * (1 + 1e-6)
        out[screen] = w
    assert 0 < np.count_nonzero(out[True]) < p
    assert_allclose(out[True], out[False], rtol=0, atol=1e-6 * np.abs(out[False]).max())


def test_enet_inner_screening_with_a_zero_column_and_no_l2():
    # a working set holding an all-zero column (squared norm 0) and l2 = 0: the
    # sphere test has no norm to divide by; the column is dropped, not a crash
    rng = np.random.default_rng(4)
    n, p = 200, 12
    X = rng.standard_normal((n, p))
    X[:, 3] = 0.0
    y = X @ (rng.standard_normal(p) * (rng.random(p) < 0.5)) + rng.standard_normal(n)
    d = Design(np.asfortranarray(X), None, False)
    yc, _ = d.center_target(y)
    l1 = 0.1 * alpha_max(d, yc) * d.W
    ws = np.arange(p)
    w, rt = np.zeros(p), np.empty(n)
    c = K.residual(*d.kernel_args, yc, w, rt)
    tol = 1e-12 * (yc @ yc)
    _, _, _, gap, _ = _inner_solve(
        d, yc, ws, w, rt, c, l1, 0.0, False, 100_000, tol, 1, 1e-12, np.empty((6, p)),
        0, False, 0, True, True, np.empty(p, dtype=np.int64),
        np.empty(K.inner_work_size(p, 5)))
    assert gap <= tol and w[3] == 0.0
    r = yc - X @ w
    assert _ref_gap(l1, 0.0, False, r, yc, X.T @ r, w, None) <= tol * (1 + 1e-6)


def _inner_run(X, d, yc, l1, max_epochs, tol, every, screen, k_acc=5):
    n, p = X.shape
    w, rt = np.zeros(p), np.empty(n)
    c = K.residual(*d.kernel_args, yc, w, rt)
    out = _inner_solve(d, yc, np.arange(p), w, rt, c, l1, 0.0, False, max_epochs, tol,
                       every, -1.0, np.empty((k_acc + 1, p)), 0, False, 0, False, screen,
                       np.empty(p, dtype=np.int64), np.empty(K.inner_work_size(p, k_acc)))
    return out, w, rt


def test_inner_solve_resumes_after_each_extrapolation(monkeypatch):
    # enet_inner returns when its Anderson history (K = 5) is full; _inner_solve
    # runs anderson_step and resumes the same loop, whose state (screened set,
    # check schedule, last gap) must survive the return
    import sparse_estimators._solvers._enet as E

    rng = np.random.default_rng(5)
    n, p = 300, 40  # dense: every epoch streams n_samples values, so it extrapolates
    X = rng.standard_normal((n, p))
    y = X[:, :3] @ np.array([3.0, -2.0, 1.0]) + rng.standard_normal(n)
    d = Design(np.asfortranarray(X), None, False)
    yc, _ = d.center_target(y)
    l1 = 0.3 * alpha_max(d, yc) * d.W
    # every full history is extrapolated, however fast the iterates contract
    monkeypatch.setattr(E, "ANDERSON_MIN_CONTRACTION", 0.0)
    calls = []
    real = K.anderson_step
    monkeypatch.setattr(E.K, "anderson_step",
                        lambda *a: calls.append(1) or real(*a))

    # checks at epochs 4, 8 and 12 (screening at each), extrapolations after
    # epochs 6 and 12, then one more epoch: the gap and the screened set are those
    # of the check at epoch 12, carried across the last return
    (epochs, _, n_hist, gap, m_act), w, rt = _inner_run(X, d, yc, l1, 13, -1.0, 4, True)
    assert (epochs, n_hist, len(calls)) == (13, 1, 2)
    assert np.isfinite(gap) and 3 <= m_act < p
    assert_allclose(rt, yc - X @ w, atol=1e-10 * np.abs(yc).max())
    # the check schedule runs on across the return: with checks every 4 epochs the
    # 8th is checked (3 epochs after resuming), and its gap is the final point's
    l1_dense = 1e-3 * alpha_max(d, yc) * d.W  # a dense solution: many epochs
    (epochs, _, _, gap, _), w, _ = _inner_run(X, d, yc, l1_dense, 8, -1.0, 4, False)
    r = yc - X @ w
    assert epochs == 8 and gap > 1e-10 * (yc @ yc)  # far above rounding
    assert_allclose(gap, _ref_gap(l1_dense, 0.0, False, r, yc, X.T @ r, w, None),
                    rtol=1e-8)

    calls.clear()
    tol = 1e-12 * (yc @ yc)
    (epochs, _, _, gap, _), w, _ = _inner_run(X, d, yc, l1_dense, 100_000, tol, 3, True)
    assert gap <= tol and len(calls) > 0 and epochs < 100_000
    r = yc - X @ w
    assert _ref_gap(l1_dense, 0.0, False, r, yc, X.T @ r, w, None) <= tol * (1 + 1e-6)


def test_fast_contraction_skips_the_extrapolation(monkeypatch):
    # where the iterates contract faster than ANDERSON_MIN_CONTRACTION per epoch the
    # full history is dropped without extrapolating: the loop resumes and runs the
    # plain CD iterates, those of a run without acceleration, check for check
    import sparse_estimators._solvers._enet as E

    rng = np.random.default_rng(5)
    n, p = 300, 40
    X = rng.standard_normal((n, p))
    y = X[:, :3] @ np.array([3.0, -2.0, 1.0]) + rng.standard_normal(n)
    d = Design(np.asfortranarray(X), None, False)
    yc, _ = d.center_target(y)
    l1 = 1e-3 * alpha_max(d, yc) * d.W
    calls, ratios = [], []
    real = K.anderson_step
    monkeypatch.setattr(E.K, "anderson_step", lambda *a: calls.append(1) or real(*a))
    real_ratio = E._contraction
    monkeypatch.setattr(E, "_contraction",
                        lambda h: ratios.append(real_ratio(h)) or ratios[-1])
    _inner_run(X, d, yc, l1, 40, -1.0, 4, False)
    # a full history after epochs 6, 12, ... 36; extrapolated where the ratio
    # reaches the threshold (here both cases occur)
    assert len(ratios) == 6
    assert len(calls) == sum(r >= E.ANDERSON_MIN_CONTRACTION for r in ratios)
    assert 0 < len(calls) < 6
    # a threshold above every ratio skips them all
    calls.clear()
    monkeypatch.setattr(E, "ANDERSON_MIN_CONTRACTION", 1.0 + max(ratios))
    (ep, _, _, gap, _), w, rt = _inner_run(X, d, yc, l1, 40, -1.0, 4, True)
    (ep0, _, _, gap0, _), w0, _ = _inner_run(X, d, yc, l1, 40, -1.0, 4, True, k_acc=0)
    assert calls == [] and ep == ep0 == 40
    assert_array_equal(w, w0)
    assert gap == gap0
    assert_allclose(rt, yc - X @ w, atol=1e-10 * np.abs(yc).max())
    # the ratio itself: steps of norm 2 then 1
    h = np.zeros((3, 2))
    h[1, 0], h[2, 0] = 2.0, 3.0
    assert real_ratio(h) == 0.5
    assert real_ratio(np.zeros((3, 2))) == 1.0 and real_ratio(np.zeros((2, 2))) == 1.0


def test_anderson_kernel_compiles_only_when_a_fit_extrapolates():
    # a fit whose working sets stream fewer than n_samples values never
    # extrapolates, and must not load or compile the Anderson kernel (about 1 s of
    # a cold-cache first fit); one that extrapolates does
    import subprocess
    import sys

    code = (
        "import numpy as np, scipy.sparse as sp\n"
        "from sparse_estimators.linear_model import Lasso\n"
        "from sparse_estimators import _kernels as K\n"
        "rng = np.random.default_rng(0)\n"
        "X = sp.random(2000, 500, density=0.01, format='csr', random_state=0)\n"
        "y = X[:, :3] @ np.ones(3) + 0.01 * rng.standard_normal(2000)\n"
        "Lasso(alpha=0.1 * np.abs(X.T @ (y - y.mean())).max() / 2000).fit(X, y)\n"
        "print(len(K.anderson_step.signatures))\n"
        # correlated columns: CD contracts slowly, so the iterates are extrapolated
        "Xd = rng.standard_normal((300, 40)); Xd[:, 1:] += 2 * Xd[:, :1]\n"
        "yd = Xd @ rng.standard_normal(40)\n"
        "Lasso(alpha=1e-3, fit_intercept=False, tol=1e-4).fit(Xd, yd)\n"
        "print(len(K.anderson_step.signatures))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["0", "1"]
