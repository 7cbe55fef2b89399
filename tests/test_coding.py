"""sparse_encode / SparseCoder: lasso codes are optimal (KKT), LARS and OMP agree
with scikit-learn, dense and sparse input give the same codes, bad input fails."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.decomposition import sparse_encode as sk_encode
from sklearn.linear_model import orthogonal_mp_gram

from sparse_estimators.decomposition import SparseCoder, sparse_encode


def _problem(n=60, p=20, K=12, seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((K, p))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    if sparse:
        X = sp.random(n, p, density=0.3, format="csr", random_state=seed,
                      data_rvs=rng.standard_normal)
    else:
        codes = rng.standard_normal((n, K)) * (rng.random((n, K)) < 0.3)
        X = codes @ D + 0.05 * rng.standard_normal((n, p))
    return X, D


def _dense(A):
    return A.toarray() if sp.issparse(A) else A


def kkt_violation(X, D, C, alpha, positive=False):
    """Largest violation of the lasso optimality conditions, per sample."""
    R = _dense(X) - C @ D
    g = R @ D.T                         # D r for every sample
    viol = np.where(C != 0, np.abs(g - alpha * np.sign(C)),
                    np.maximum(g - alpha, 0) if positive else np.maximum(np.abs(g) - alpha, 0))
    return viol.max()


@pytest.mark.parametrize("algorithm", ["lasso_cd", "lasso_lars"])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("alpha", [0.05, 0.5])
def test_lasso_codes_are_optimal(algorithm, positive, alpha):
    X, D = _problem()
    C = sparse_encode(X, D, algorithm=algorithm, alpha=alpha, positive=positive,
                      tol=1e-12, max_iter=100_000)
    assert 0 < np.count_nonzero(C) < C.size
    if positive:
        assert np.all(C >= 0)
    assert kkt_violation(X, D, C, alpha, positive) < 1e-6


def test_lars_matches_scikit_learn():
    X, D = _problem(seed=1)
    ours = sparse_encode(X, D, algorithm="lasso_lars", alpha=0.2)
    ref = sk_encode(X, D, algorithm="lasso_lars", alpha=0.2)
    assert_allclose(ours, ref, atol=1e-8)


def test_positive_lars_is_optimal_where_scikit_learn_is_not():
    # scikit-learn 1.9's positive lasso_lars stops short on this problem (KKT
    # violation 0.05, objectives up to 6e-3 higher); ours satisfies the conditions
    X, D = _problem(seed=1)
    a = 0.2
    ours = sparse_encode(X, D, algorithm="lasso_lars", alpha=a, positive=True)
    ref = sk_encode(X, D, algorithm="lasso_lars", alpha=a, positive=True)

    def obj(C):
        return 0.5 * np.sum((X - C @ D) ** 2, axis=1) + a * np.abs(C).sum(axis=1)

    assert kkt_violation(X, D, ours, a, positive=True) < 1e-10
    assert np.all(obj(ours) <= obj(ref) + 1e-12)


def test_lasso_cd_objective_matches_scikit_learn():
    X, D = _problem(seed=2)
    ours = sparse_encode(X, D, algorithm="lasso_cd", alpha=0.1, tol=1e-10)
    ref = sk_encode(X, D, algorithm="lasso_lars", alpha=0.1)

    def obj(C):
        return 0.5 * np.sum((X - C @ D) ** 2) + 0.1 * np.abs(C).sum()

    assert obj(ours) <= obj(ref) * (1 + 1e-9)


@pytest.mark.parametrize("k", [1, 3, 8])
def test_omp_matches_scikit_learn(k):
    X, D = _problem(seed=3)
    ours = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=k)
    ref = sk_encode(X, D, algorithm="omp", n_nonzero_coefs=k)
    assert_allclose(ours, ref, atol=1e-10)
    assert np.all((ours != 0).sum(axis=1) == k)


def test_omp_residual_tolerance():
    X, D = _problem(seed=4)
    tol = 0.5
    C = sparse_encode(X, D, algorithm="omp", alpha=tol)
    res = np.sum((X - C @ D) ** 2, axis=1)
    nnz = (C != 0).sum(axis=1)
    assert np.all((res <= tol + 1e-10) | (nnz == D.shape[0]))
    # scikit-learn's sparse_encode ignores alpha for OMP (it always uses
    # n_nonzero_coefs), although its docstring says alpha is the tolerance; compare
    # with its OMP solver called with that tolerance
    ref = orthogonal_mp_gram(D @ D.T, D @ X.T, tol=tol,
                             norms_squared=np.sum(X ** 2, axis=1)).T
    assert_allclose(C, ref, atol=1e-10)
    # the residual is orthogonal to the selected atoms (the OMP projection)
    R = X - C @ D
    assert np.abs((R @ D.T)[C != 0]).max() < 1e-10


def test_threshold():
    X, D = _problem(seed=5)
    Q = X @ D.T
    assert_allclose(sparse_encode(X, D, algorithm="threshold", alpha=0.3),
                    np.sign(Q) * np.maximum(np.abs(Q) - 0.3, 0))
    assert_allclose(sparse_encode(X, D, algorithm="threshold", alpha=0.3, positive=True),
                    np.maximum(Q - 0.3, 0))


@pytest.mark.parametrize("algorithm", ["lasso_cd", "lasso_lars", "omp", "threshold"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_equals_dense(algorithm, fmt):
    X, D = _problem(sparse=True, seed=6)
    X = X.asformat(fmt)
    X.indices = X.indices.astype(np.int64)
    X.indptr = X.indptr.astype(np.int64)
    X0 = X.copy()
    kw = dict(algorithm=algorithm, alpha=0.1 if algorithm != "omp" else None, tol=1e-12)
    a = sparse_encode(X, D, **kw)
    b = sparse_encode(X.toarray(), D, **kw)
    assert_allclose(a, b, atol=1e-10)
    assert_array_equal(X.toarray(), X0.toarray())


def test_float32_threads_and_sparse_output():
    X, D = _problem(n=300, seed=7)
    C64 = sparse_encode(X, D, algorithm="lasso_lars", alpha=0.1)
    C32 = sparse_encode(X.astype(np.float32), D.astype(np.float32), algorithm="lasso_lars",
                        alpha=0.1)
    assert C32.dtype == np.float32
    assert_allclose(C32, C64, atol=1e-4)
    for algorithm in ("lasso_cd", "lasso_lars", "omp"):
        one = sparse_encode(X, D, algorithm=algorithm, alpha=0.1 if algorithm != "omp"
                            else None, n_jobs=1)
        two = sparse_encode(X, D, algorithm=algorithm, alpha=0.1 if algorithm != "omp"
                            else None, n_jobs=2)
        assert_array_equal(one, two)        # each sample is coded the same way
    S = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=2, return_sparse=True)
    assert sp.issparse(S) and S.format == "csr" and np.all(np.diff(S.indptr) == 2)


def test_precomputed_gram_cov_and_init():
    X, D = _problem(seed=8)
    C = sparse_encode(X, D, gram=D @ D.T, cov=D @ X.T, algorithm="lasso_cd", alpha=0.1,
                      tol=1e-12)
    ref = sparse_encode(X, D, algorithm="lasso_cd", alpha=0.1, tol=1e-12)
    assert_allclose(C, ref, atol=1e-8)
    warm = sparse_encode(X, D, algorithm="lasso_cd", alpha=0.1, init=ref, tol=1e-12)
    assert_allclose(warm, ref, atol=1e-8)


def test_zero_signal_and_huge_alpha():
    X, D = _problem(seed=9)
    X[0] = 0.0
    for algorithm in ("lasso_cd", "lasso_lars", "omp"):
        C = sparse_encode(X, D, algorithm=algorithm,
                          alpha=0.1 if algorithm != "omp" else None)
        assert not np.any(C[0])
    assert not np.any(sparse_encode(X, D, algorithm="lasso_lars", alpha=1e6))
    assert not np.any(sparse_encode(X, D, algorithm="lasso_cd", alpha=1e6))


def test_convergence_warning():
    X, D = _problem(seed=10)
    with pytest.warns(Warning, match="did not converge"):
        sparse_encode(X, D, algorithm="lasso_cd", alpha=0.01, max_iter=1, tol=1e-14)


@pytest.mark.parametrize("kwargs, match", [
    ({"algorithm": "lars"}, "algorithm must be one of"),
    ({"alpha": -1.0, "algorithm": "lasso_cd"}, "alpha must be non-negative"),
    ({"alpha": -1.0, "algorithm": "omp"}, "non-negative"),
    ({"n_nonzero_coefs": 0, "algorithm": "omp"}, "n_nonzero_coefs"),
    ({"max_iter": 0, "algorithm": "lasso_cd"}, "max_iter"),
    ({"init": np.zeros((2, 2)), "algorithm": "lasso_cd"}, "init must have shape"),
    ({"gram": np.eye(3)}, "gram must have shape"),
    ({"tol": -1.0, "algorithm": "lasso_cd"}, "tol must be non-negative"),
    # as scikit-learn: OMP has no sign constraint, so positive=True is an error
    ({"positive": True, "algorithm": "omp"}, "positive=True is not supported"),
])
def test_bad_parameters(kwargs, match):
    X, D = _problem()
    with pytest.raises(ValueError, match=match):
        sparse_encode(X, D, **kwargs)


def test_bad_input():
    X, D = _problem()
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sparse_encode(Xn, D)
    with pytest.raises(ValueError, match="dictionary must have shape"):
        sparse_encode(X, D[:, :5])
    with pytest.raises(ValueError, match="0 sample"):
        sparse_encode(X[:0], D)


def test_sparse_coder():
    X, D = _problem(sparse=True, seed=11)
    coder = SparseCoder(D, transform_algorithm="lasso_lars", transform_alpha=0.05)
    C = coder.fit_transform(X)
    assert_allclose(C, sparse_encode(X, D, algorithm="lasso_lars", alpha=0.05))
    split = SparseCoder(D, transform_algorithm="omp", transform_n_nonzero_coefs=2,
                        split_sign=True, sparse_output=True).fit(X)
    out = split.transform(X)
    assert sp.issparse(out) and out.shape == (X.shape[0], 2 * D.shape[0])
    assert split.get_feature_names_out()[0] == "sparsecoder0"
    rec = split.inverse_transform(out)
    codes = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=2)
    assert_allclose(rec, codes @ D, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SparseCoder(D).transform(X.toarray())     # no fit needed


def test_sparse_coder_transform_alpha_none_is_one():
    # SparseCoder has no alpha of its own: None is sparse_encode's default, 1
    X, D = _problem(seed=12)
    got = SparseCoder(D, transform_algorithm="lasso_lars").transform(X)
    assert_allclose(got, sparse_encode(X, D, algorithm="lasso_lars", alpha=1.0))


def test_unfitted_sparse_coder_stores_no_width():
    # transform without fit must not pin n_features_in_: the dictionary sets it
    X, D = _problem(seed=13)
    coder = SparseCoder(D, transform_algorithm="threshold", transform_alpha=0.1)
    coder.transform(X)
    assert not hasattr(coder, "n_features_in_")
    coder.set_params(dictionary=D[:, :5])
    assert coder.transform(X[:, :5]).shape == (X.shape[0], D.shape[0])
    with pytest.raises(ValueError, match="dictionary must have shape"):
        coder.transform(X)
    fitted = SparseCoder(D).fit(X)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(X[:, :5])
    pd = pytest.importorskip("pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no "fitted without feature names"
        SparseCoder(D).transform(pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]))


@pytest.mark.parametrize("split_sign", [False, True])
def test_inverse_transform_checks_the_code_width(split_sign):
    X, D = _problem(seed=14)
    coder = SparseCoder(D, split_sign=split_sign)
    codes = coder.transform(X)
    assert coder.inverse_transform(codes).shape == X.shape
    with pytest.raises(ValueError, match="inverse_transform expects"):
        coder.inverse_transform(codes[:, :-1])
