"""Thresholding transformers: exact values, dense/CSR/CSC parity, output formats,
learned thresholds, bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.pipeline import make_pipeline

from sparse_estimators.linear_model import Lasso
from sparse_estimators.sparsity import AdaptiveThreshold, HardThreshold, SoftThreshold


def _data(seed=0, n=40, p=15, density=0.4, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, random_state=seed, format="csr",
                  data_rvs=lambda k: 3 * rng.standard_normal(k)).astype(dtype)
    return X


def _as(X, fmt):
    return X.toarray() if fmt == "dense" else X.asformat(fmt)


def _dense(A):
    return A.toarray() if sp.issparse(A) else A


def _soft(X, t):
    return np.sign(X) * np.maximum(np.abs(X) - t, 0)


ALL = [SoftThreshold(1.0), HardThreshold(1.0), AdaptiveThreshold(quantile=0.7),
       AdaptiveThreshold(method="top_k", k=3), AdaptiveThreshold(method="top_k", k=3,
                                                                   mode="soft"),
       AdaptiveThreshold(method="universal"), AdaptiveThreshold(method="universal",
                                                                mode="soft")]


@pytest.mark.parametrize("est", ALL, ids=repr)
@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_formats_agree_and_dtype_kept(est, fmt, dtype):
    X = _data(dtype=dtype)
    Xd = X.toarray()
    Xd[:, 0] = 0.5    # dense column: the universal rule sees a non-zero median
    Xf = _as(sp.csr_matrix(Xd), fmt)
    Xf0 = Xf.copy()
    ref = _dense(est.fit(Xd).transform(Xd))
    out = est.fit(Xf).transform(Xf)
    assert out.dtype == dtype
    assert sp.issparse(out) == (fmt != "dense" or est.sparse_output_)
    if fmt != "dense":
        assert out.format == fmt
    assert_allclose(_dense(out), ref, rtol=1e-6)
    assert_array_equal(_dense(Xf), _dense(Xf0))               # input untouched
    assert_allclose(_dense(est.fit_transform(Xf)), ref, rtol=1e-6)


def test_soft_and_hard_values():
    X = _data().toarray()
    assert_allclose(SoftThreshold(1.2, output="dense").fit_transform(X), _soft(X, 1.2))
    assert_allclose(HardThreshold(1.2, output="dense").fit_transform(X),
                    np.where(np.abs(X) > 1.2, X, 0))


def test_per_feature_thresholds():
    X = _data().toarray()
    t = np.linspace(0, 3, X.shape[1])
    assert_allclose(SoftThreshold(t, output="dense").fit_transform(X), _soft(X, t))
    out = HardThreshold(t).fit_transform(sp.csc_matrix(X))
    assert_allclose(out.toarray(), np.where(np.abs(X) > t, X, 0))


def test_zero_and_huge_threshold():
    X = _data()
    assert_allclose(SoftThreshold(0.0).fit_transform(X).toarray(), X.toarray())
    out = SoftThreshold(1e300).fit_transform(X)
    assert out.nnz == 0 and out.shape == X.shape


def test_output_auto_decides_in_fit():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 20))
    sparse_est = SoftThreshold(2.0).fit(X)              # ~5% non-zeros survive
    assert sparse_est.sparse_output_ and sp.issparse(sparse_est.transform(X))
    assert sp.issparse(sparse_est.transform(X * 100))   # same type on any batch
    dense_est = SoftThreshold(0.01).fit(X)
    assert not dense_est.sparse_output_ and isinstance(dense_est.transform(X), np.ndarray)
    assert sp.issparse(SoftThreshold(0.01, output="sparse").fit_transform(X))
    assert isinstance(SoftThreshold(2.0, output="dense").fit_transform(sp.csr_matrix(X)),
                      np.ndarray)


def test_set_output_pandas_gives_dense_frame():
    pd = pytest.importorskip("pandas")
    X = np.random.default_rng(0).standard_normal((30, 4))
    out = SoftThreshold(2.0).set_output(transform="pandas").fit_transform(X)
    assert isinstance(out, pd.DataFrame)


def test_duplicate_entries_summed_before_thresholding():
    X = sp.csr_matrix((np.array([0.6, 0.6, 2.0]), np.array([1, 1, 0]), np.array([0, 3])),
                      shape=(1, 2))
    assert not X.has_canonical_format
    out = HardThreshold(1.0).fit_transform(X)
    assert_array_equal(out.toarray(), [[2.0, 1.2]])


@pytest.mark.parametrize("method", ["quantile", "universal", "top_k"])
def test_adaptive_statistics_sum_duplicates_first(method):
    # the learned threshold must be the one of the matrix the duplicates stand for
    rng = np.random.default_rng(1)
    A = sp.random(20, 12, density=0.4, format="coo", random_state=1,
                  data_rvs=rng.standard_normal)
    C = A.tocsr()
    # every entry stored twice, as two halves, next to each other
    X = sp.csr_matrix((np.repeat(C.data / 2, 2), np.repeat(C.indices, 2), 2 * C.indptr),
                      shape=A.shape)
    assert not X.has_canonical_format
    kept = X.copy()
    est = AdaptiveThreshold(method, quantile=0.5, k=3, output="dense")
    got = est.fit_transform(X)
    ref = AdaptiveThreshold(method, quantile=0.5, k=3, output="dense").fit(A.toarray())
    assert_allclose(est.threshold_, ref.threshold_, equal_nan=True)
    assert_allclose(got, ref.transform(A.toarray()), atol=1e-15)
    assert_array_equal(X.data, kept.data)   # the caller's matrix untouched


def test_int64_indices():
    X = _data()
    X.indices, X.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    out = SoftThreshold(1.0).fit_transform(X)
    assert_allclose(out.toarray(), _soft(X.toarray(), 1.0))


def test_quantile_threshold_is_quantile_of_nonzeros():
    X = _data()
    est = AdaptiveThreshold(quantile=0.8).fit(X)
    assert np.isclose(est.threshold_, np.quantile(np.abs(X.data), 0.8))
    out = est.transform(X)
    # about 20% of the non-zeros survive (ties aside)
    assert abs(out.nnz - 0.2 * X.nnz) <= 1


def test_universal_threshold_formula():
    rng = np.random.default_rng(0)
    X = 0.5 * rng.standard_normal((200, 50))
    X[:, :3] += 20.0                                   # three strong features
    est = AdaptiveThreshold(method="universal").fit(X)
    sigma = np.median(np.abs(X)) / 0.6745
    assert np.isclose(est.noise_scale_, sigma)
    assert np.isclose(est.threshold_, sigma * np.sqrt(2 * np.log(50)))
    out = _dense(est.transform(X))
    assert np.all(out[:, :3] != 0)
    assert np.mean(out[:, 3:] != 0) < 0.01            # the noise is gone
    # mostly-zero data: the robust scale is 0 and nothing is thresholded
    Xs = _data(density=0.2)
    est = AdaptiveThreshold(method="universal").fit(Xs)
    assert est.threshold_ == 0.0 and est.transform(Xs).nnz == Xs.nnz


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_top_k_keeps_k_largest_per_row(fmt):
    X = _data(p=30, density=0.5)
    Xd = X.toarray()
    out = _dense(AdaptiveThreshold(method="top_k", k=4).fit_transform(_as(X, fmt)))
    for row, orig in zip(out, Xd):
        keep = row != 0
        assert keep.sum() == min(4, np.count_nonzero(orig))
        assert_array_equal(row[keep], orig[keep])
        if keep.any() and (orig[~keep] != 0).any():
            assert np.abs(orig[keep]).min() >= np.abs(orig[~keep]).max()
    soft = _dense(AdaptiveThreshold(method="top_k", k=4, mode="soft").fit_transform(Xd))
    for row, orig in zip(soft, Xd):
        mags = np.sort(np.abs(orig))[::-1]
        assert_allclose(row, _soft(orig, mags[4]) if mags.size > 4 else orig)


def test_top_k_larger_than_row_and_zero():
    X = _data(p=5)
    out = AdaptiveThreshold(method="top_k", k=50).fit_transform(X)
    assert_allclose(out.toarray(), X.toarray())
    assert AdaptiveThreshold(method="top_k", k=0).fit_transform(X).nnz == 0


def test_in_a_pipeline_before_lasso():
    X = _data(n=80, p=20)
    y = np.asarray(X[:, :3].sum(axis=1)).ravel()
    pipe = make_pipeline(AdaptiveThreshold(method="top_k", k=5), Lasso(alpha=0.01))
    assert pipe.fit(X, y).score(X, y) > 0.5


@pytest.mark.parametrize("X, match", [
    (np.array([[1.0, np.nan]]), "NaN"),
    (np.array([[1.0, np.inf]]), "infinity"),
    (np.zeros((0, 3)), "0 sample"),
    (np.zeros((3, 0)), "0 feature"),
])
def test_bad_input(X, match):
    with pytest.raises(ValueError, match=match):
        SoftThreshold().fit(X)


def test_bad_thresholds_and_params():
    X = np.ones((3, 4))
    with pytest.raises(ValueError, match=r"shape \(n_features,\)"):
        SoftThreshold(np.ones(3)).fit(X)
    with pytest.raises(ValueError, match="non-negative"):
        HardThreshold(np.array([1.0, -1.0, 0.0, 0.0])).fit(X)
    with pytest.raises(ValueError, match="threshold"):
        SoftThreshold(-1.0).fit(X)
    with pytest.raises(ValueError, match="method"):
        AdaptiveThreshold(method="median").fit(X)
    with pytest.raises(ValueError, match="quantile"):
        AdaptiveThreshold(quantile=1.5).fit(X)
    with pytest.raises(ValueError, match="expecting 4 features"):
        SoftThreshold().fit(X).transform(np.ones((2, 5)))
