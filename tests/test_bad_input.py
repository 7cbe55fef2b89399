"""Bad input must fail early, in Python, with a clear message (never inside numba)."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from sparse_estimators.linear_model import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    enet_path,
    lasso_path,
)

ESTIMATORS = [Lasso, ElasticNet, LassoCV, ElasticNetCV]
PATHS = [lasso_path, enet_path]


def _data(n=20, p=4, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(n, p), rng.randn(n)


def _est(Est, **kw):
    if Est in (LassoCV, ElasticNetCV):
        kw.setdefault("cv", 3)
        kw.setdefault("alphas", 5)
    return Est(**kw)


def _with(X, i, j, value):
    X = X.copy()
    X[i, j] = value
    return X


# ---------------------------------------------------------------- non-finite
@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix, sp.csc_matrix])
@pytest.mark.parametrize("value, msg", [(np.nan, "NaN"), (np.inf, "infinity"),
                                        (-np.inf, "infinity")])
def test_non_finite_X(Est, container, value, msg):
    X, y = _data()
    with pytest.raises(ValueError, match=f"Input X contains {msg}"):
        _est(Est).fit(container(_with(X, 3, 1, value)), y)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("value, msg", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_y(Est, value, msg):
    X, y = _data()
    y = y.copy()
    y[5] = value
    with pytest.raises(ValueError, match=f"Input y contains {msg}"):
        _est(Est).fit(X, y)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_non_finite_paths(path, container):
    X, y = _data()
    with pytest.raises(ValueError, match="NaN"):
        path(container(_with(X, 0, 0, np.nan)), y)
    with pytest.raises(ValueError, match="infinity"):
        path(container(_with(X, 0, 0, np.inf)), y)
    y = y.copy()
    y[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        path(container(X), y)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_non_finite_predict(Est):
    X, y = _data()
    est = _est(Est).fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        est.predict(_with(X, 0, 0, np.nan))
    with pytest.raises(ValueError, match="NaN"):
        est.predict(sp.csr_matrix(_with(X, 0, 0, np.nan)))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_too_large_for_the_solver(Est, dtype):
    # Finite but overflowing data (squares overflow): either a clear ValueError that
    # tells to rescale, or a finite model; never a LinAlgError from inside numba.
    X, y = _data()
    for Xb, yb in ((X, y * 1e300), ((X * 1e30).astype(dtype), y)):
        est = _est(Est)
        try:
            with np.errstate(all="ignore"):
                est.fit(Xb.astype(dtype), yb)
        except np.linalg.LinAlgError as e:  # (a ValueError subclass)
            pytest.fail(f"LinAlgError escaped from the solver: {e}")
        except ValueError as e:
            assert "scale" in str(e) or "too large" in str(e), str(e)
        else:
            assert np.all(np.isfinite(est.coef_))
            assert np.all(np.isfinite(est.intercept_))
            # and certified: no NaN gap behind finite coefficients
            assert not np.any(np.isnan(getattr(est, "dual_gap_", 0.0)))


# ----------------------------------------------------------------- empty / shape
@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_empty_X(Est, container):
    X, y = _data()
    with pytest.raises(ValueError, match="0 sample"):
        _est(Est).fit(container(X[:0]), y[:0])
    with pytest.raises(ValueError, match="0 feature"):
        _est(Est).fit(container(X[:, :0]), y)


@pytest.mark.parametrize("path", PATHS)
def test_empty_X_paths(path):
    X, y = _data()
    with pytest.raises(ValueError, match="0 sample"):
        path(X[:0], y[:0])
    with pytest.raises(ValueError, match="0 feature"):
        path(X[:, :0], y)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_shape_errors(Est):
    X, y = _data()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _est(Est).fit(X, y[:-1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _est(Est).fit(sp.csr_matrix(X), y[:-1])
    with pytest.raises(ValueError, match="dim 3"):
        _est(Est).fit(X.reshape(20, 2, 2), y)
    with pytest.raises(ValueError, match="Expected 2D array"):
        _est(Est).fit(X[:, 0], y)
    with pytest.raises(ValueError, match="sample_weight"):
        _est(Est).fit(X, y, sample_weight=np.ones(19))
    with pytest.raises(ValueError, match="Sample weights must be 1D"):
        _est(Est).fit(X, y, sample_weight=np.ones((20, 1)))


@pytest.mark.parametrize("path", PATHS)
def test_shape_errors_paths(path):
    X, y = _data()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        path(X, y[:-1])
    with pytest.raises(ValueError, match="dim 3"):
        path(X.reshape(20, 2, 2), y)
    with pytest.raises(ValueError, match="sample_weight"):
        path(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="coef_init"):
        path(X, y, coef_init=np.ones(3))


# ----------------------------------------------------------------- sample weights
@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_bad_sample_weight(Est, container):
    X, y = _data()
    X = container(X)
    sw = np.ones(20)
    sw[3] = -1.0
    with pytest.raises(ValueError, match="Negative values.*sample_weight"):
        _est(Est).fit(X, y, sample_weight=sw)
    with pytest.raises(ValueError, match="[Ss]ample.weight.*(non-zero|positive)"):
        _est(Est).fit(X, y, sample_weight=np.zeros(20))
    with pytest.raises(ValueError, match="sample_weight"):
        _est(Est).fit(X, y, sample_weight=0.0)
    with pytest.raises(ValueError, match="sample_weight contains NaN"):
        _est(Est).fit(X, y, sample_weight=np.r_[np.nan, np.ones(19)])


@pytest.mark.parametrize("path", PATHS)
def test_bad_sample_weight_paths(path):
    X, y = _data()
    with pytest.raises(ValueError, match="Negative values.*sample_weight"):
        path(X, y, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="[Ss]ample.weight.*(non-zero|positive)"):
        path(X, y, sample_weight=np.zeros(20))


# ------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_non_numeric_X_and_y(Est):
    X, y = _data()
    with pytest.raises(ValueError, match="could not convert string to float"):
        _est(Est).fit(np.array([["a", "b"]] * 20), y)
    with pytest.raises(TypeError, match="float"):
        _est(Est).fit(np.array([[object(), 1.0]] * 20, dtype=object), y)
    with pytest.raises(ValueError, match="Complex data not supported"):
        _est(Est).fit(X + 1j, y)
    with pytest.raises(ValueError, match="could not convert string to float"):
        _est(Est).fit(X, np.array(["a"] * 20))


# --------------------------------------------------------------- invalid params
@pytest.mark.parametrize("Est", [Lasso, ElasticNet])
@pytest.mark.parametrize("param, value", [
    ("alpha", -1.0), ("alpha", np.nan), ("alpha", "a"),
    ("max_iter", 0), ("max_iter", 1.5), ("tol", -1e-3),
    ("selection", "foo"), ("positive", "yes"), ("fit_intercept", None),
])
def test_invalid_params(Est, param, value):
    X, y = _data()
    with pytest.raises(ValueError, match=f"'{param}' parameter of {Est.__name__}"):
        Est(**{param: value}).fit(X, y)


@pytest.mark.parametrize("value", [1.5, -0.1, np.nan])
def test_invalid_l1_ratio(value):
    X, y = _data()
    with pytest.raises(ValueError, match="'l1_ratio' parameter"):
        ElasticNet(l1_ratio=value).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio"):
        ElasticNetCV(l1_ratio=value, cv=3).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio"):
        enet_path(X, y, l1_ratio=value)


@pytest.mark.parametrize("value", [[0.5, 1.5], [-0.1], [], [np.nan], [0.5, np.nan]])
def test_invalid_l1_ratio_list(value):
    X, y = _data()
    with pytest.raises(ValueError, match="l1_ratio"):
        ElasticNetCV(l1_ratio=value, cv=3, alphas=5).fit(X, y)


@pytest.mark.parametrize("Est", [LassoCV, ElasticNetCV])
@pytest.mark.parametrize("param, value", [
    ("max_iter", 0), ("tol", -1.0), ("selection", "foo"), ("eps", 0.0),
    ("eps", -1.0), ("n_jobs", "a"), ("cv", 1), ("alphas", 0), ("alphas", -3),
    ("alphas", 2.5), ("alphas", "foo"),
])
def test_invalid_params_cv(Est, param, value):
    X, y = _data()
    with pytest.raises(ValueError, match=f"'{param}' parameter of {Est.__name__}"):
        Est(**{param: value}).fit(X, y)


@pytest.mark.parametrize("Est", [LassoCV, ElasticNetCV])
@pytest.mark.parametrize("alphas", [[], [-1.0], [np.nan], [1.0, np.inf], [0.1, -0.2]])
def test_bad_alpha_grid_cv(Est, alphas):
    X, y = _data()
    with pytest.raises(ValueError, match="alphas"):
        Est(alphas=alphas, cv=3).fit(X, y)


def test_auto_grid_needs_l1_ratio_above_zero():
    X, y = _data()
    with pytest.raises(ValueError, match="l1_ratio"):
        ElasticNetCV(l1_ratio=[0.0, 0.5], cv=3).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio"):
        enet_path(X, y, l1_ratio=0.0)
    # explicit alphas make ridge fine
    est = ElasticNetCV(l1_ratio=[0.0, 0.5], alphas=[1.0, 0.1], cv=3).fit(X, y)
    assert est.l1_ratio_ in (0.0, 0.5)


def test_cv_too_many_folds():
    X, y = _data()
    with pytest.raises(ValueError, match="n_splits=50"):
        LassoCV(cv=50).fit(X, y)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kw, msg", [
    (dict(alphas=0), "alphas"), (dict(alphas=-2), "alphas"),
    (dict(alphas=[]), "alphas"),
    (dict(alphas=[-1.0]), "alphas"), (dict(alphas=[np.nan]), "alphas"),
    (dict(eps=0.0), "eps"), (dict(eps=np.nan), "eps"), (dict(max_iter=0), "max_iter"),
    (dict(max_iter=2.5), "max_iter"), (dict(tol=-1.0), "tol"),
    (dict(selection="foo"), "selection"),
])
def test_invalid_params_paths(path, kw, msg):
    X, y = _data()
    with pytest.raises(ValueError, match=msg):
        path(X, y, **kw)


def test_lasso_path_rejects_l1_ratio_and_unknown_kwargs():
    X, y = _data()
    with pytest.raises(TypeError, match="l1_ratio"):
        lasso_path(X, y, l1_ratio=0.5)
    with pytest.raises(TypeError, match="foo"):
        lasso_path(X, y, foo=1)


# --------------------------------------------------------------------- predict
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_predict_before_fit(Est):
    X, _ = _data()
    with pytest.raises(NotFittedError):
        _est(Est).predict(X)
    with pytest.raises(NotFittedError):
        _est(Est).predict(sp.csr_matrix(X))


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_predict_wrong_number_of_features(Est, container):
    X, y = _data()
    est = _est(Est).fit(container(X), y)
    with pytest.raises(ValueError, match="X has 3 features, but .* expecting 4"):
        est.predict(container(X[:, :3]))
    with pytest.raises(ValueError, match="X has 5 features, but .* expecting 4"):
        est.predict(container(np.c_[X, X[:, 0]]))


# ------------------------------------------------------- malformed sparse structure
def _malformed(fmt, shape, case):
    """A CSR/CSC matrix of ``shape`` whose index arrays scipy accepts at construction
    but that are wrong: an index past the end, a negative one, a decreasing indptr."""
    n_major, n_minor = shape if fmt == "csr" else shape[::-1]
    rng = np.random.RandomState(0)
    M = sp.random(*shape, density=0.5, format=fmt, random_state=rng)
    data, indices, indptr = M.data.copy(), M.indices.copy(), M.indptr.copy()
    if case == "index too large":
        indices[-1] = n_minor + 1000
    elif case == "negative index":
        indices[0] = -3
    else:  # indptr decreasing in the middle, ends where it should
        k = n_major // 2
        indptr[k] = indptr[k + 1] + 1 if indptr[k + 1] < indptr[-1] else indptr[k]
        indptr[k + 1] = indptr[k] - 1
    cls = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
    return cls((data, indices, indptr), shape=shape)


def _all_estimators():
    from sparse_estimators.decomposition import (
        DictionaryLearning,
        MiniBatchDictionaryLearning,
        SparseMatrixFactorization,
    )
    from sparse_estimators.linear_model import (
        SparseLinearSVC,
        SparseLinearSVCCV,
        SparseLogisticRegression,
        SparseLogisticRegressionCV,
    )
    from sparse_estimators.sparsity import HardThreshold, PruneRefit, SoftThreshold
    return [Lasso(), ElasticNet(), LassoCV(cv=3, alphas=3), ElasticNetCV(cv=3, alphas=3),
            SparseLogisticRegression(), SparseLinearSVC(),
            SparseLogisticRegressionCV(cv=3, Cs=3), SparseLinearSVCCV(cv=3, Cs=3),
            DictionaryLearning(n_components=2, max_iter=2),
            MiniBatchDictionaryLearning(n_components=2, max_iter=2),
            SparseMatrixFactorization(n_components=2, max_iter=2),
            HardThreshold(threshold=0.1), SoftThreshold(threshold=0.1),
            PruneRefit(Lasso(alpha=0.01), sparsity=0.5)]


CASES = ["index too large", "negative index", "indptr decreasing"]


@pytest.mark.parametrize("est", _all_estimators(), ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("case", CASES)
def test_malformed_sparse_fit(est, fmt, case):
    """scipy and scikit-learn both accept these; fitting on them used to crash the
    process (CSR with an index past the end) or return a model of other data."""
    X = _malformed(fmt, (12, 5), case)
    y = np.arange(12) % 2
    with pytest.raises(ValueError, match=f"X is a malformed {fmt.upper()} matrix"):
        est.fit(X, y)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("case", CASES)
def test_malformed_sparse_predict_and_paths(fmt, case):
    from sparse_estimators.linear_model import SparseLogisticRegression, classifier_path
    X, y = _data(12, 5)
    bad = _malformed(fmt, (12, 5), case)
    match = f"X is a malformed {fmt.upper()} matrix"
    for est in (Lasso(alpha=0.01).fit(X, y), SparseLogisticRegression().fit(X, y > 0)):
        with pytest.raises(ValueError, match=match):
            est.predict(bad)
    for path in PATHS:
        with pytest.raises(ValueError, match=match):
            path(bad, y)
    with pytest.raises(ValueError, match=match):
        classifier_path(bad, y > 0)


@pytest.mark.parametrize("case", CASES)
def test_malformed_sparse_toolbox(case):
    from sparse_estimators.decomposition import sparse_encode
    from sparse_estimators.metrics import precision_at_k
    from sparse_estimators.model_selection import train_test_split_interactions
    from sparse_estimators.sparsity import NMSparse, magnitude_mask
    bad = _malformed("csr", (6, 8), case)
    with pytest.raises(ValueError, match="W is a malformed CSR"):
        magnitude_mask(bad, sparsity=0.5)
    with pytest.raises(ValueError, match="y_true is a malformed CSR"):
        precision_at_k(bad, np.zeros((6, 2), dtype=int), k=2)
    with pytest.raises(ValueError, match="X is a malformed CSR"):
        train_test_split_interactions(bad)
    with pytest.raises(ValueError, match="X is a malformed CSR"):
        sparse_encode(bad, np.eye(8)[:3])
    nm = NMSparse.from_dense(np.zeros((3, 8)))
    with pytest.raises(ValueError, match="X is a malformed CSR"):
        nm.matmul(bad) if hasattr(nm, "matmul") else nm @ bad


def test_well_formed_sparse_passes_untouched():
    from sparse_estimators.utils import check_sparse_structure
    X = sp.random(7, 4, density=0.5, format="csr", random_state=0)
    assert check_sparse_structure(X) is X
    empty = sp.csr_matrix((0, 3))
    assert check_sparse_structure(empty) is empty
    Xd = np.ones((2, 2))
    assert check_sparse_structure(Xd) is Xd
