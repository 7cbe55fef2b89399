"""Pruning masks and ``prune``: the kept entries are the largest, patterns hold,
dense and sparse agree, estimators' weights are pruned in a copy, bad input fails."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier

from sparse_estimators.sparsity import (
    block_mask,
    block_norms,
    magnitude_mask,
    nm_mask,
    prune,
)

finite = st.floats(-1e6, 1e6, allow_nan=False, width=64)


def matrices(max_side=12):
    shape = st.tuples(st.integers(1, max_side), st.integers(1, max_side))
    return arrays(np.float64, shape, elements=finite)


def _sparse_like(W):
    return sp.csr_matrix(W)


# --------------------------------------------------------------- magnitude
@settings(max_examples=60, deadline=None)
@given(W=matrices(), sparsity=st.floats(0, 1))
def test_magnitude_keeps_largest(W, sparsity):
    mask = magnitude_mask(W, sparsity)
    n_keep = W.size - int(np.floor(sparsity * W.size + 1e-9))
    assert mask.sum() == n_keep
    kept, dropped = np.abs(W[mask]), np.abs(W[~mask])
    if kept.size and dropped.size:
        assert kept.min() >= dropped.max()


@settings(max_examples=40, deadline=None)
@given(W=matrices(), sparsity=st.floats(0, 1), axis=st.sampled_from([0, 1, -1]))
def test_magnitude_per_slice(W, sparsity, axis):
    mask = magnitude_mask(W, sparsity, axis=axis)
    length = W.shape[axis]
    n_keep = length - int(np.floor(sparsity * length + 1e-9))
    assert np.all(mask.sum(axis=axis) == n_keep)
    Wm, Mm = np.moveaxis(np.abs(W), axis, -1), np.moveaxis(mask, axis, -1)
    for w, k in zip(Wm.reshape(-1, length), Mm.reshape(-1, length)):
        if k.any() and (~k).any():
            assert w[k].min() >= w[~k].max()


@settings(max_examples=40, deadline=None)
@given(W=matrices(), sparsity=st.floats(0, 1), axis=st.sampled_from([None, 0, 1]))
def test_magnitude_sparse_matches_dense(W, sparsity, axis):
    W[np.abs(W) < 1e5] = 0.0       # make it sparse
    d = magnitude_mask(W, sparsity, axis=axis)
    s = magnitude_mask(_sparse_like(W), sparsity, axis=axis)
    assert sp.issparse(s)
    # the sparse mask only marks stored entries; on them it agrees with the dense one
    assert_array_equal(s.toarray(), d & (W != 0))


def test_magnitude_ties_keep_lower_index():
    assert_array_equal(magnitude_mask(np.ones(4), 0.5), [True, True, False, False])


def test_magnitude_scores_override():
    W = np.array([5.0, 1.0, 2.0, 3.0])
    mask = magnitude_mask(W, 0.5, scores=np.array([0.0, 9.0, 8.0, 0.0]))
    assert_array_equal(mask, [False, True, True, False])


def test_magnitude_nd_and_1d():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 4, 5))
    assert magnitude_mask(W, 0.4).sum() == 60 - 24
    assert np.all(magnitude_mask(W, 0.4, axis=1).sum(axis=1) == 3)
    assert magnitude_mask(W[0, 0], 0.6).sum() == 2


# -------------------------------------------------------------------- N:M
@settings(max_examples=60, deadline=None)
@given(W=matrices(), nm=st.integers(1, 8).flatmap(lambda m: st.tuples(st.integers(1, m),
                                                                       st.just(m))),
       axis=st.sampled_from([0, 1, -1]))
def test_nm_pattern(W, nm, axis):
    n, m = nm
    mask = nm_mask(W, n, m, axis=axis)
    Mm, Wm = np.moveaxis(mask, axis, -1), np.moveaxis(np.abs(W), axis, -1)
    length = Mm.shape[-1]
    for start in range(0, length, m):
        g, w = Mm[..., start:start + m], Wm[..., start:start + m]
        assert np.all(g.sum(axis=-1) == min(n, g.shape[-1]))
        for gk, wk in zip(g.reshape(-1, g.shape[-1]), w.reshape(-1, g.shape[-1])):
            if gk.any() and (~gk).any():
                assert wk[gk].min() >= wk[~gk].max()


@settings(max_examples=40, deadline=None)
@given(W=matrices(), axis=st.sampled_from([0, 1]))
def test_nm_sparse_matches_dense(W, axis):
    W[np.abs(W) < 3e5] = 0.0
    d = nm_mask(W, 2, 4, axis=axis)
    s = nm_mask(_sparse_like(W), 2, 4, axis=axis)
    assert_array_equal(s.toarray(), d & (W != 0))


def test_nm_example_and_partial_group():
    W = np.array([[1.0, -5.0, 2.0, 0.5, 3.0, 0.0]])
    assert_array_equal(nm_mask(W), [[False, True, True, False, True, True]])
    assert_array_equal(nm_mask(W, 1, 4), [[False, True, False, False, True, False]])


# ------------------------------------------------------------------ block
@settings(max_examples=40, deadline=None)
@given(W=matrices(), sparsity=st.floats(0, 1),
       bs=st.tuples(st.integers(1, 4), st.integers(1, 4)))
def test_block_mask_prunes_smallest_blocks(W, sparsity, bs):
    mask = block_mask(W, sparsity, block_shape=bs)
    norms = block_norms(W, bs)
    gr, gc = norms.shape
    kept = np.zeros(norms.shape, dtype=bool)
    for i in range(gr):
        for j in range(gc):
            blk = mask[i * bs[0]:(i + 1) * bs[0], j * bs[1]:(j + 1) * bs[1]]
            assert blk.all() or not blk.any()       # whole blocks only
            kept[i, j] = blk.all()
    assert kept.sum() == norms.size - int(np.floor(sparsity * norms.size + 1e-9))
    if kept.any() and (~kept).any():
        assert norms[kept].min() >= norms[~kept].max()
    s = block_mask(_sparse_like(W), sparsity, block_shape=bs)
    assert_array_equal(s.toarray(), mask & (W != 0))


def test_block_norms_value():
    W = np.arange(12.0).reshape(3, 4)
    norms = block_norms(W, (2, 3))
    assert norms.shape == (2, 2)
    assert np.isclose(norms[0, 0], np.linalg.norm(W[:2, :3]))
    assert np.isclose(norms[1, 1], np.linalg.norm(W[2:, 3:]))
    assert_array_equal(block_norms(sp.csr_matrix(W), (2, 3)), norms)


# ------------------------------------------------------------------ prune
def test_prune_array_returns_copy_and_mask():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 8)).astype(np.float32)
    W0 = W.copy()
    P, mask = prune(W, 0.75, return_mask=True)
    assert_array_equal(W, W0)                # caller's array untouched
    assert P.dtype == np.float32
    assert_array_equal(P, np.where(mask, W, 0))
    assert np.count_nonzero(P) == 8


def test_prune_sparse_input_stays_sparse():
    rng = np.random.default_rng(1)
    W = sp.random(20, 40, density=0.3, random_state=1, format="csr",
                  data_rvs=rng.standard_normal, dtype=np.float32)
    W.indices = W.indices.astype(np.int64)
    W.indptr = W.indptr.astype(np.int64)
    P = prune(W, pattern="n:m")
    assert sp.issparse(P) and P.dtype == np.float32
    assert_array_equal(P.toarray(), prune(W.toarray(), pattern="n:m"))


def test_prune_unsorted_duplicate_csr():
    W = sp.csr_matrix((np.array([1.0, 2.0, 5.0, -4.0]), np.array([3, 0, 3, 1]),
                       np.array([0, 4])), shape=(1, 4))      # unsorted, (0, 3) twice
    assert not W.has_canonical_format
    P = prune(W, 0.5)
    assert_array_equal(P.toarray(), [[0.0, -4.0, 0.0, 6.0]])


def test_prune_estimator_coef_copy():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 10)), rng.standard_normal(60)
    ridge = Ridge().fit(X, y)
    coef0 = ridge.coef_.copy()
    pruned, masks = prune(ridge, 0.6, return_mask=True)
    assert_array_equal(ridge.coef_, coef0)
    assert pruned is not ridge and np.count_nonzero(pruned.coef_) == 4
    assert_array_equal(masks["coef_"], pruned.coef_ != 0)
    assert_array_equal(pruned.predict(X), X @ pruned.coef_ + pruned.intercept_)


def test_prune_estimator_nm_along_features_multiclass():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((90, 12)), rng.integers(0, 3, 90)
    clf = LogisticRegression().fit(X, y)
    pruned = prune(clf, pattern="n:m")
    nz = (pruned.coef_ != 0).reshape(3, 3, 4).sum(axis=-1)
    assert np.all(nz == 2)


def test_prune_mlp_layers_along_reduction_axis():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 8)), rng.integers(0, 2, 50)
    mlp = MLPClassifier(hidden_layer_sizes=(6,), max_iter=50, random_state=0)
    with pytest.warns(Warning):
        mlp.fit(X, y)
    pruned, masks = prune(mlp, pattern="n:m", return_mask=True)
    first = pruned.coefs_[0]                  # (8 inputs, 6 units): groups along axis 0
    assert np.all((first != 0).reshape(2, 4, 6).sum(axis=1) == 2)
    assert isinstance(masks["coefs_"], list) and len(masks["coefs_"]) == 2
    pruned.predict(X)                          # still a working model


def test_prune_sparsified_coef():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 10)), rng.integers(0, 2, 60)
    clf = LogisticRegression().fit(X, y).sparsify()
    pruned = prune(clf, 0.5)
    assert sp.issparse(pruned.coef_) and pruned.coef_.nnz == 5


# -------------------------------------------------------------- bad input
@pytest.mark.parametrize("W, exc, match", [
    (np.array([1.0, np.nan]), ValueError, "NaN"),
    (np.array([1.0, np.inf]), ValueError, "NaN or infinity"),
    (np.zeros((0, 3)), ValueError, "empty"),
    (np.float64(3.0), ValueError, "at least 1-D"),
    (np.array(["a", "b"]), TypeError, "numeric"),
    (np.array([1 + 1j]), TypeError, "real"),
    (sp.csr_matrix(np.array([[np.nan, 1.0]])), ValueError, "NaN"),
])
def test_bad_weights(W, exc, match):
    with pytest.raises(exc, match=match):
        prune(W, 0.5)


@pytest.mark.parametrize("kwargs, match", [
    ({"sparsity": 1.5}, "sparsity must be a float in"),
    ({"sparsity": -0.1}, "sparsity must be a float in"),
    ({"sparsity": None}, "sparsity is required"),
    ({"sparsity": 0.5, "pattern": "n:m"}, "sparsity must be None"),
    ({"pattern": "n:m", "n": 3, "m": 2}, "n must be at most m"),
    ({"pattern": "n:m", "n": 0}, "n must be a positive integer"),
    ({"pattern": "n:m", "m": 300, "n": 2}, "m must be at most 256"),
    ({"sparsity": 0.5, "axis": 2}, "out of bounds"),
    ({"sparsity": 0.5, "axis": 1.5}, "axis must be an integer"),
    ({"sparsity": 0.5, "pattern": "block", "block_shape": (0, 2)}, "block_shape"),
    ({"sparsity": 0.5, "pattern": "block", "block_shape": 4}, "block_shape"),
    ({"sparsity": 0.5, "pattern": "diagonal"}, "pattern must be one of"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        prune(np.ones((4, 8)), **kwargs)


def test_block_pruning_rejects_3d_weights():
    # the 1-D case is a row; anything above 2-D is an error, not flattened
    from sparse_estimators.sparsity import block_mask, block_norms

    with pytest.raises(ValueError, match="1-D or 2-D W, got ndim=3"):
        block_mask(np.ones((2, 2, 4)), 0.5)
    with pytest.raises(ValueError, match="1-D or 2-D W, got ndim=3"):
        block_norms(np.ones((2, 2, 4)), (1, 2))
    assert block_mask(np.arange(8.0), 0.5, block_shape=(1, 4)).tolist() == 4 * [0] + 4 * [1]


def test_bad_scores_and_unfitted_estimator():
    with pytest.raises(ValueError, match="scores must have shape"):
        magnitude_mask(np.ones(4), 0.5, scores=np.ones(3))
    with pytest.raises(ValueError, match="scores contains NaN"):
        nm_mask(np.ones(4), scores=np.array([1.0, np.nan, 0.0, 0.0]))
    with pytest.raises(TypeError, match="dense W"):
        magnitude_mask(sp.eye(3, format="csr"), 0.5, scores=np.ones((3, 3)))
    with pytest.raises(ValueError, match="is it fitted"):
        prune(Ridge(), 0.5)
    with pytest.raises(ValueError, match="no attribute"):
        prune(Ridge().fit(np.eye(3), [1, 2, 3]), 0.5, attributes=["weights_"])


def test_extreme_sparsity():
    W = np.arange(1.0, 9.0)
    assert_array_equal(prune(W, 0.0), W)
    assert not np.any(prune(W, 1.0))
    assert_array_equal(prune(W, 1.0, pattern="block", block_shape=(1, 2)), np.zeros(8))


def test_prune_components_of_a_decomposition():
    from sklearn.decomposition import TruncatedSVD

    rng = np.random.default_rng(0)
    X = sp.random(40, 16, density=0.3, random_state=0, format="csr",
                  data_rvs=rng.standard_normal)
    svd = TruncatedSVD(n_components=3, random_state=0).fit(X)
    pruned = prune(svd, pattern="n:m", n=1, m=4)
    assert np.all((pruned.components_ != 0).reshape(3, 4, 4).sum(axis=-1) == 1)
    assert pruned.transform(X).shape == (40, 3)
    assert np.count_nonzero(svd.components_) == 48      # the original is untouched
