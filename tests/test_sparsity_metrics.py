"""Sparsity metrics and reports: counts, byte sizes, N:M pattern detection."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.linear_model import Ridge
from sklearn.neural_network import MLPRegressor

from sparse_estimators.linear_model import Lasso
from sparse_estimators.sparsity import (
    NMSparse,
    density,
    prune,
    sparsity_ratio,
    sparsity_report,
)


def test_ratio_dense_sparse_and_explicit_zeros():
    W = np.array([[0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 1e-9, 3.0]])
    assert sparsity_ratio(W) == 0.5
    assert sparsity_ratio(W, atol=1e-6) == 0.625
    S = sp.csr_matrix(W)
    S.data[0] = 0.0                   # an explicitly stored zero counts as zero
    assert S.nnz == 4 and sparsity_ratio(S) == 0.625
    assert density(S) == 0.375
    assert sparsity_ratio(np.ones(3, dtype=np.float32)) == 0.0
    assert sparsity_ratio([0, 0, 1, 1]) == 0.5


def test_ratio_of_nm_container():
    W = np.arange(1.0, 17.0).reshape(2, 8)
    nm = NMSparse.from_dense(W)
    assert sparsity_ratio(nm) == 0.5 == sparsity_ratio(nm.to_dense())


@pytest.mark.parametrize("X, exc", [
    (np.array([np.nan, 1.0]), ValueError),
    (np.zeros((0, 2)), ValueError),
    (np.array(["x"]), TypeError),
])
def test_ratio_bad_input(X, exc):
    with pytest.raises(exc):
        sparsity_ratio(X)
    with pytest.raises(ValueError, match="atol"):
        sparsity_ratio(np.ones(2), atol=-1.0)


def test_report_of_array_bytes():
    W = np.zeros((4, 16), dtype=np.float32)
    W[:, ::4] = 1.0
    row = sparsity_report(W)["X"]
    assert row["shape"] == (4, 16) and row["nnz"] == 16 and row["sparsity"] == 0.75
    assert row["dense_bytes"] == 4 * 16 * 4
    assert row["csr_bytes"] == 16 * (4 + 4) + 5 * 4
    # 2:4: 8 float32 values per row + 8 two-bit positions = 2 bytes per row
    assert row["nm_bytes"] == 4 * (8 * 4 + 2)
    assert row["nm_pattern_holds"] is True
    assert sparsity_report(np.ones((4, 16)))["X"]["nm_pattern_holds"] is False


@pytest.mark.parametrize("shape", [(3, 16), (5, 13), (1, 7), (2, 3, 9)])
@pytest.mark.parametrize("nm", [(2, 4), (1, 8), (3, 5)])
def test_report_nm_bytes_match_the_container(shape, nm):
    rng = np.random.default_rng(0)
    W = rng.standard_normal(shape)
    n, m = nm
    row = sparsity_report(W, n=n, m=m)["X"]
    container = NMSparse.from_dense(W.reshape(-1, shape[-1]), n=n, m=m)
    assert row["nm_bytes"] == container.nbytes
    assert sparsity_report(container, n=n, m=m)["X"]["nm_bytes"] == container.nbytes


def test_report_sparse_matches_dense():
    rng = np.random.default_rng(0)
    W = prune(rng.standard_normal((6, 20)), pattern="n:m")
    d, s = sparsity_report(W)["X"], sparsity_report(sp.csr_matrix(W))["X"]
    assert d == s


def test_report_of_estimators():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 12))
    y = X[:, :2] @ [1.0, -2.0] + 0.01 * rng.standard_normal(60)
    report = sparsity_report(Lasso(alpha=0.05).fit(X, y))
    assert len(report) == 1 and report["coef_"]["nnz"] == 2
    mlp = MLPRegressor(hidden_layer_sizes=(5,), max_iter=20, random_state=0)
    with pytest.warns(Warning):
        mlp.fit(X, y)
    report = sparsity_report(mlp)
    assert [r["name"] for r in report] == ["coefs_[0]", "coefs_[1]"]
    assert report["coefs_[0]"]["shape"] == (12, 5)
    total = report.total
    assert total["size"] == 12 * 5 + 5 and total["nnz"] == sum(r["nnz"] for r in report)
    assert "coefs_[0]" in repr(report) and "2:4" in repr(report)
    # MLP layers are grouped along their reduction axis (0), as prune does
    assert not report["coefs_[0]"]["nm_pattern_holds"]
    pruned = sparsity_report(prune(mlp, pattern="n:m"))
    assert pruned["coefs_[0]"]["nm_pattern_holds"] and pruned["coefs_[1]"]["nm_pattern_holds"]
    assert pruned["coefs_[1]"]["nm_bytes"] == NMSparse.from_dense(mlp.coefs_[1].T).nbytes
    sparse_layers = {"coefs_[0]": sp.csr_matrix(prune(mlp, pattern="n:m").coefs_[0])}
    assert sparsity_report(sparse_layers)["coefs_[0]"]["nm_pattern_holds"] is False
    frame = report.to_frame()
    assert list(frame.index) == ["coefs_[0]", "coefs_[1]"]
    assert sparsity_report({"a": np.eye(3)})["a"]["nnz"] == 3
    with pytest.raises(ValueError, match="is it fitted"):
        sparsity_report(Ridge())
    with pytest.raises(KeyError):
        report["coef_"]


def test_sparsity_after_pruning_is_what_was_asked():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((8, 32))
    for s in (0.0, 0.3, 0.9):
        assert_allclose(sparsity_ratio(prune(W, s)), np.floor(s * W.size) / W.size)
    assert sparsity_ratio(prune(W, pattern="n:m", n=1, m=8)) == 7 / 8
