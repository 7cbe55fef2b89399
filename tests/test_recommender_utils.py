"""Ranking metrics (sparse_estimators.metrics) and interaction splits
(sparse_estimators.model_selection)."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.metrics import ndcg_score

from sparse_estimators.metrics import map_at_k, ndcg_at_k, precision_at_k, recall_at_k
from sparse_estimators.model_selection import (
    leave_k_out_split,
    train_test_split_interactions,
)


def loop_metrics(y, rec, k):
    """Per-user metrics by the textbook definitions, one user at a time."""
    y = sp.csr_matrix(y)
    out = {"p": [], "r": [], "ndcg": [], "map": []}
    for u in range(y.shape[0]):
        rel = set(y.indices[y.indptr[u]:y.indptr[u + 1]][y.data[y.indptr[u]:y.indptr[u + 1]] != 0])
        if not rel:
            continue
        hits, seen = [], set()
        for item in rec[u][:k]:
            hits.append(int(item >= 0 and item in rel and item not in seen))
            seen.add(item)
        hits = np.array(hits, float)
        out["p"].append(hits.sum() / k)
        out["r"].append(hits.sum() / len(rel))
        disc = 1 / np.log2(np.arange(2, k + 2))
        out["ndcg"].append(hits @ disc / disc[:min(k, len(rel))].sum())
        prec = np.cumsum(hits) / np.arange(1, k + 1)
        out["map"].append((prec * hits).sum() / min(k, len(rel)))
    return {key: np.mean(v) for key, v in out.items()}


@pytest.mark.parametrize("k", [1, 3, 10])
def test_metrics_match_textbook_definitions(k):
    rng = np.random.default_rng(k)
    y = sp.random(40, 25, density=0.15, random_state=k, format="csr")
    rec = np.array([rng.permutation(25)[:12] for _ in range(40)])
    rec[::7, -3:] = -1                     # empty slots
    rec[1, 1] = rec[1, 0]                  # a repeated item counts once
    ref = loop_metrics(y, rec, k)
    assert precision_at_k(y, rec, k) == pytest.approx(ref["p"])
    assert recall_at_k(y, rec, k) == pytest.approx(ref["r"])
    assert ndcg_at_k(y, rec, k) == pytest.approx(ref["ndcg"])
    assert map_at_k(y, rec, k) == pytest.approx(ref["map"])


def test_ndcg_matches_scikit_learn():
    rng = np.random.default_rng(0)
    y = sp.random(30, 20, density=0.2, random_state=1, format="csr")
    y.data[:] = 1.0
    scores = rng.random((30, 20))
    rec = np.argsort(-scores, axis=1)
    keep = np.diff(y.indptr) > 0
    expected = ndcg_score(y.toarray()[keep], scores[keep], k=5)
    assert ndcg_at_k(y, rec, k=5) == pytest.approx(expected)
    per_user = ndcg_at_k(y, rec, k=5, average=False)
    assert per_user.shape == (keep.sum(),)


def test_metric_input_errors():
    y = sp.csr_matrix(np.eye(3))
    rec = np.array([[0, 1], [1, 2], [2, 0]])
    with pytest.raises(ValueError, match="k must be"):
        precision_at_k(y, rec, k=0)
    with pytest.raises(ValueError, match="fewer than k"):
        precision_at_k(y, rec, k=3)
    with pytest.raises(ValueError, match="shape"):
        precision_at_k(y, rec[:2], k=2)
    with pytest.raises(TypeError, match="sparse"):
        precision_at_k(np.eye(3), rec, k=2)
    with pytest.raises(TypeError, match="integer"):
        precision_at_k(y, rec.astype(float), k=2)
    with pytest.raises(ValueError, match="item indices"):
        precision_at_k(y, rec + 5, k=2)
    with pytest.raises(ValueError, match="no relevant"):
        precision_at_k(sp.csr_matrix((3, 3)), rec, k=2)
    bad = y.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        precision_at_k(bad, rec, k=2)


def test_random_split_partitions_the_entries():
    X = sp.random(50, 30, density=0.2, random_state=0, format="csr")
    snapshot = X.data.copy()
    train, test = train_test_split_interactions(X, 0.3, random_state=0)
    assert test.nnz == round(0.3 * X.nnz) and train.nnz + test.nnz == X.nnz
    assert abs(train + test - X).max() == 0
    assert train.multiply(test).nnz == 0
    assert train.shape == test.shape == X.shape
    assert_array_equal(X.data, snapshot)
    again = train_test_split_interactions(X, 0.3, random_state=0)[1]
    assert_array_equal(again.indices, test.indices)
    assert train_test_split_interactions(X, 7, random_state=0)[1].nnz == 7
    for bad in (0.0, 1.0, -1, X.nnz + 1, "half"):
        with pytest.raises(ValueError, match="test_size"):
            train_test_split_interactions(X, bad)
    with pytest.raises(TypeError, match="sparse"):
        train_test_split_interactions(X.toarray())


def test_leave_k_out_random_and_by_time():
    X = sp.random(40, 30, density=0.2, random_state=0, format="csr")
    counts = np.diff(X.indptr)
    train, test = leave_k_out_split(X, k=2, random_state=0)
    assert_array_equal(np.diff(test.indptr), np.clip(counts - 1, 0, 2))
    assert abs(train + test - X).max() == 0
    T = X.copy()
    T.data = np.random.default_rng(0).permutation(T.nnz).astype(float)
    train, test = leave_k_out_split(X, k=3, timestamps=T, min_train=2)
    n_out = np.clip(counts - 2, 0, 3)
    assert_array_equal(np.diff(test.indptr), n_out)
    for u in range(X.shape[0]):
        row = slice(X.indptr[u], X.indptr[u + 1])
        latest = X.indices[row][np.argsort(-T.data[row])[:n_out[u]]]
        assert_array_equal(np.sort(latest), test.indices[test.indptr[u]:test.indptr[u + 1]])
    with pytest.raises(ValueError, match="stored positions"):
        leave_k_out_split(X, timestamps=X[:, :-1])
    with pytest.raises(ValueError, match="k must be"):
        leave_k_out_split(X, k=0)


def test_leave_k_out_duplicates_take_their_latest_time():
    rows, cols = np.array([0, 0, 0, 0]), np.array([1, 2, 1, 3])
    X = sp.csr_matrix((np.ones(4), (rows, cols)), shape=(1, 4))   # (0, 1) twice: summed
    X_dup = sp.coo_matrix((np.ones(4), (rows, cols)), shape=(1, 4))
    T = sp.coo_matrix((np.array([5.0, 6.0, 9.0, 7.0]), (rows, cols)), shape=(1, 4))
    train, test = leave_k_out_split(X_dup, k=1, timestamps=T)
    assert_array_equal(test.indices, [1])          # time max(5, 9) = 9 is the latest
    assert test.data[0] == 2.0 and train.nnz == 2
    assert abs(train + test - X).max() == 0
    with pytest.raises(TypeError, match="timestamps"):
        leave_k_out_split(X, timestamps=np.ones((1, 4)))
