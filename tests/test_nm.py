"""Tests of the compressed N:M container ``NMSparse`` and its kernels."""

import io
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sparse_estimators.sparsity import NMSparse, nm_mask
from sparse_estimators.sparsity._nm import index_bits, packed_row_bytes


# ------------------------------------------------------------------ helpers
def _pruned(W, n=2, m=4):
    """Reference: ``W`` with zeros outside ``nm_mask`` along the last axis."""
    W = np.asarray(W)
    return np.where(nm_mask(W, n, m), W, np.zeros((), dtype=W.dtype))


def _ref_pack(indices, bits):
    """Pure-Python reference packing: LSB first, slot order, whole bytes per row."""
    out = []
    for row in np.asarray(indices, dtype=np.int64):
        acc, nb, row_bytes = 0, 0, []
        for v in row:
            acc |= int(v) << nb
            nb += bits
            while nb >= 8:
                row_bytes.append(acc & 0xFF)
                acc >>= 8
                nb -= 8
        if nb:
            row_bytes.append(acc)
        out.append(row_bytes)
    return np.array(out, dtype=np.uint8).reshape(len(out), -1)


def _tol(dtype):
    return dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)


def _assert_product(got, ref, absref, dtype):
    """``got`` == ``ref`` up to the dtype's rounding, relative to ``|W| @ |X|``."""
    tol = _tol(dtype)
    assert got.dtype == dtype
    assert got.shape == ref.shape
    assert np.all(np.abs(got - ref) <= tol["atol"] + tol["rtol"] * absref)


def _messy_csr(X, seed=0):
    """CSR equal to the dense ``X`` with unsorted column indices and duplicates."""
    rng = np.random.default_rng(seed)
    rows, cols = np.nonzero(X)
    vals = X[rows, cols]
    # split every value in two halves (duplicates), shuffle within the matrix
    rows = np.r_[rows, rows]
    cols = np.r_[cols, cols]
    vals = np.r_[vals / 2, vals - vals / 2]
    perm = rng.permutation(rows.size)
    order = np.argsort(rows[perm], kind="stable")
    rows, cols, vals = rows[perm][order], cols[perm][order], vals[perm][order]
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=X.shape[0]))]
    M = sp.csr_matrix((vals, cols, indptr), shape=X.shape)
    assert not M.has_canonical_format or rows.size == 0
    return M


@pytest.fixture
def W():
    return np.random.default_rng(0).standard_normal((6, 11))


# ------------------------------------------------------------------ format
def test_round_trip_equals_pruned(W):
    nm = NMSparse.from_dense(W)
    assert_array_equal(nm.to_dense(), _pruned(W))
    assert nm.shape == W.shape and nm.dtype == W.dtype and nm.ndim == 2
    assert nm.values.shape == (6, 3 * 2) and nm.indices.dtype == np.uint8


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, m", [(2, 4), (1, 4), (4, 8), (3, 3), (1, 1), (5, 7)])
def test_round_trip_patterns(dtype, n, m):
    W = np.random.default_rng(1).standard_normal((5, 23)).astype(dtype)
    nm = NMSparse.from_dense(W, n, m)
    D = nm.to_dense()
    assert D.dtype == dtype
    assert_array_equal(D, _pruned(W, n, m))
    assert nm.nnz == np.count_nonzero(D)
    assert nm.density == pytest.approx(nm.nnz / W.size)


def test_worked_example():
    # the example of doc/nm_format.md
    W = np.array([[0.5, -2.0, 0.0, 1.5, 0.0, 0.0, 3.0, 0.0, 0.1, -0.2, 0.3, -0.4]])
    nm = NMSparse.from_dense(W)
    assert_array_equal(nm.values, [[-2.0, 1.5, 0.0, 3.0, 0.3, -0.4]])
    assert_array_equal(nm.indices, [[1, 3, 0, 2, 2, 3]])
    assert_array_equal(nm.packed_indices, [[0x8D, 0x0E]])


def test_explicit_zeros_fill_smallest_unused_positions():
    W = np.array([[0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 0.0]])
    nm = NMSparse.from_dense(W, prune=False)
    assert_array_equal(nm.values, [[0.0, 5.0, 0.0, 0.0]])
    assert_array_equal(nm.indices, [[0, 3, 0, 1]])
    assert nm.nnz == 1
    # same storage through nm_mask (ties keep the lower index)
    nm2 = NMSparse.from_dense(W)
    assert_array_equal(nm2.values, nm.values)
    assert_array_equal(nm2.indices, nm.indices)


def test_partial_last_group_points_into_padding():
    # cols = 5: the last group has one real column; its filler points into padding
    W = np.array([[1.0, 2.0, 3.0, 4.0, 7.0]])
    nm = NMSparse.from_dense(W)
    assert_array_equal(nm.indices, [[2, 3, 0, 1]])
    assert_array_equal(nm.values, [[3.0, 4.0, 7.0, 0.0]])
    assert_array_equal(nm.to_dense(), [[0.0, 0.0, 3.0, 4.0, 7.0]])
    assert_allclose(nm @ np.ones(5), [14.0])
    assert_allclose(np.ones((2, 5)) @ nm.T, [[14.0], [14.0]])
    assert_allclose(nm @ sp.csr_matrix(np.ones((5, 2))), [[14.0, 14.0]])
    # fewer columns than n
    nm1 = NMSparse.from_dense(np.array([[3.0]]), n=2, m=4)
    assert_array_equal(nm1.indices, [[0, 1]])
    assert_array_equal(nm1.to_dense(), [[3.0]])


@given(rows=st.integers(1, 5), cols=st.integers(1, 19), m=st.integers(1, 8),
       data=st.data(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_invariants_hypothesis(rows, cols, m, data, dtype, seed):
    n = data.draw(st.integers(1, m), label="n")
    rng = np.random.default_rng(seed)
    # few distinct magnitudes and many zeros: ties and sparse groups are common
    W = (rng.integers(-3, 4, (rows, cols)) * rng.random((rows, cols)).round(1)).astype(dtype)
    nm = NMSparse.from_dense(W, n, m)
    D = nm.to_dense()
    assert_array_equal(D, _pruned(W, n, m))
    g = -(-cols // m)
    padded = np.zeros((rows, g * m), dtype=dtype)
    padded[:, :cols] = D
    assert (np.count_nonzero(padded.reshape(rows, g, m), axis=-1) <= n).all()
    idx = nm.indices.astype(int).reshape(rows, g, n)
    assert (idx < m).all() and (np.diff(idx, axis=-1) > 0).all()
    # positions in the padding only hold zeros
    cols_of = np.arange(g)[None, :, None] * m + idx
    assert (nm.values.reshape(rows, g, n)[cols_of >= cols] == 0).all()
    # packing
    bits = index_bits(m)
    assert bits == (int(np.ceil(np.log2(m))) if m > 1 else 0)
    P = nm.packed_indices
    assert P.shape == (rows, packed_row_bytes(g * n, m)) == (rows, -(-g * n * bits // 8))
    if bits:
        assert_array_equal(P, _ref_pack(nm.indices, bits))
    assert_array_equal(NMSparse.unpack_indices(P, g * n, m), nm.indices)
    assert nm.nbytes == nm.values.nbytes + P.nbytes
    # prune=False accepts the pruned matrix and stores the same dense matrix
    assert_array_equal(NMSparse.from_dense(D, n, m, prune=False).to_dense(), D)
    # products
    k = int(rng.integers(1, 4))
    x = rng.standard_normal(cols).astype(dtype)
    X = rng.standard_normal((cols, k)).astype(dtype)
    Xk = rng.standard_normal((k, cols)).astype(dtype)
    Dd, Ad = D.astype(np.float64), np.abs(D.astype(np.float64))
    _assert_product(nm @ x, Dd @ x, Ad @ np.abs(x), dtype)
    _assert_product(nm @ X, Dd @ X, Ad @ np.abs(X), dtype)
    _assert_product(Xk @ nm.T, Xk @ Dd.T, np.abs(Xk) @ Ad.T, dtype)
    Xs = sp.random(cols, k, density=0.5, format="csr", random_state=seed, dtype=dtype)
    _assert_product(nm @ Xs, Dd @ Xs.toarray(), Ad @ np.abs(Xs.toarray()), dtype)
    _assert_product(Xs.T.tocsr() @ nm.T, Xs.toarray().T @ Dd.T,
                    np.abs(Xs.toarray().T) @ Ad.T, dtype)


def test_pack_2_4_byte_layout():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((3, 40))
    nm = NMSparse.from_dense(W)
    i = nm.indices.astype(np.uint16)
    expected = i[:, 0::4] | i[:, 1::4] << 2 | i[:, 2::4] << 4 | i[:, 3::4] << 6
    assert_array_equal(nm.packed_indices, expected.astype(np.uint8))


def test_packed_rows_padded_to_bytes():
    # 2:4, cols = 5 -> 2 groups, 4 slots, 1 byte; cols = 9 -> 3 groups, 6 slots, 2 bytes
    nm = NMSparse.from_dense(np.arange(1.0, 19.0).reshape(2, 9))
    assert nm.packed_indices.shape == (2, 2)
    # 3:8 -> 3 bits: 2 groups = 6 slots = 18 bits = 3 bytes
    nm = NMSparse.from_dense(np.arange(1.0, 17.0).reshape(1, 16), 3, 8)
    assert nm.packed_indices.shape == (1, 3)
    assert_array_equal(NMSparse.unpack_indices(nm.packed_indices, 6, 8), nm.indices)
    # m = 1: no index bits at all
    nm = NMSparse.from_dense(np.ones((2, 3)), 1, 1)
    assert nm.packed_indices.shape == (2, 0)
    assert nm.nbytes == nm.values.nbytes


def test_nbytes_2_4_float32():
    W = np.random.default_rng(0).standard_normal((8, 16)).astype(np.float32)
    nm = NMSparse.from_dense(W)
    # 4 groups per row x 2 slots x 2 bits = 16 bits: 2 bytes per row
    assert nm.values.nbytes == 8 * 8 * 4
    assert nm.packed_indices.nbytes == 8 * 2
    assert nm.nbytes == 8 * 8 * 4 + 8 * 2
    assert nm.nnz == 64 and nm.density == 0.5


def test_prune_false():
    W = np.array([[1.0, 0.0, 0.0, 2.0, 0.0, 3.0, 0.0, 0.0],
                  [0.0, 0.0, 0.0, 0.0, 4.0, 5.0, 0.0, 0.0]])
    nm = NMSparse.from_dense(W, prune=False)
    assert_array_equal(nm.to_dense(), W)
    bad = W.copy()
    bad[1, 6] = 1.0
    with pytest.raises(ValueError, match=r"row 1, group 1 \(columns 4\.\.7\) has 3 non-zeros"):
        NMSparse.from_dense(bad, prune=False)
    assert_array_equal(NMSparse.from_dense(bad).to_dense(), _pruned(bad))
    # partial last group
    with pytest.raises(ValueError, match=r"row 0, group 1 \(columns 4\.\.6\)"):
        NMSparse.from_dense(np.array([[1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]]), prune=False)


def test_one_dimensional():
    w = np.array([3.0, -1.0, 0.5, 2.0, 0.0, 1.0, -4.0])
    nm = NMSparse.from_dense(w)
    assert nm.shape == (7,) and nm.ndim == 1 and nm.T.shape == (7,)
    d = nm.to_dense()
    assert d.shape == (7,)
    assert_array_equal(d, _pruned(w))
    x = np.arange(7.0)
    X = np.arange(21.0).reshape(7, 3)
    assert np.ndim(nm @ x) == 0
    assert_allclose(nm @ x, d @ x, rtol=1e-12)
    assert_allclose(nm @ X, d @ X, rtol=1e-12)
    assert_allclose(X.T @ nm.T, X.T @ d, rtol=1e-12)
    assert_allclose(x @ nm.T, x @ d, rtol=1e-12)
    assert_allclose(nm @ sp.csr_matrix(X), d @ X, rtol=1e-12)
    nm2 = NMSparse(nm.values[0], nm.indices[0], (7,))
    assert_array_equal(nm2.to_dense(), d)


# ------------------------------------------------------------------ products
@pytest.mark.parametrize("wdt", [np.float32, np.float64])
@pytest.mark.parametrize("xdt", [np.float32, np.float64, np.int64, np.int32, np.bool_,
                                 np.float16])
def test_dense_products_dtypes(wdt, xdt):
    rng = np.random.default_rng(5)
    nm = NMSparse.from_dense(rng.standard_normal((9, 14)).astype(wdt))
    D = nm.to_dense().astype(np.float64)
    X = (rng.standard_normal((14, 3)) * 3).astype(xdt)
    expected = np.float64 if np.dtype(xdt).kind in "biu" else np.result_type(wdt, xdt)
    pairs = [(nm @ X, D @ X.astype(np.float64)),
             (nm @ X[:, 0], D @ X[:, 0].astype(np.float64)),
             (X.T @ nm.T, X.T.astype(np.float64) @ D.T)]
    if xdt != np.float16:    # scipy.sparse has no float16
        pairs.append((sp.csr_matrix(X.T) @ nm.T, X.T.astype(np.float64) @ D.T))
    for got, ref in pairs:
        assert got.dtype == expected
        assert_allclose(got, ref, **_tol(np.dtype(expected)))


def test_dense_product_layouts(W):
    nm = NMSparse.from_dense(W)
    D = nm.to_dense()
    rng = np.random.default_rng(7)
    X = rng.standard_normal((11, 40))
    for Xv in (X, np.asfortranarray(X), X[:, ::3], X.tolist()):
        assert_allclose(nm @ Xv, D @ np.asarray(Xv), rtol=1e-12)
        assert_allclose(np.asarray(Xv).T @ nm.T, np.asarray(Xv).T @ D.T, rtol=1e-12)
    out = X.T @ nm.T
    assert out.flags.c_contiguous and out.shape == (40, 6)
    # k = 0 and a long k (several slot blocks of the blocked kernel)
    assert (nm @ np.zeros((11, 0))).shape == (6, 0)
    big = NMSparse.from_dense(rng.standard_normal((37, 1003)).astype(np.float32))
    Xb = rng.standard_normal((1003, 300)).astype(np.float32)
    Db = big.to_dense().astype(np.float64)
    _assert_product(big @ Xb, Db @ Xb, np.abs(Db) @ np.abs(Xb), np.float32)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("idx_dtype", [np.int32, np.int64])
def test_sparse_products(W, fmt, idx_dtype):
    nm = NMSparse.from_dense(W)
    D = nm.to_dense()
    X = sp.random(11, 5, density=0.4, format="csr", random_state=1)
    XT = sp.random(5, 11, density=0.4, format="csr", random_state=2)
    for M in (X, XT):
        M.indices = M.indices.astype(idx_dtype)
        M.indptr = M.indptr.astype(idx_dtype)
    assert_allclose(nm @ X.asformat(fmt), D @ X.toarray(), rtol=1e-12, atol=1e-15)
    assert_allclose(XT.asformat(fmt) @ nm.T, XT.toarray() @ D.T, rtol=1e-12, atol=1e-15)
    assert_allclose(nm @ sp.csr_array(X), D @ X.toarray(), rtol=1e-12, atol=1e-15)
    assert isinstance(nm @ X, np.ndarray) and isinstance(XT @ nm.T, np.ndarray)


def test_sparse_unsorted_duplicates_and_empty(W):
    nm = NMSparse.from_dense(W)
    D = nm.to_dense()
    Xd = np.random.default_rng(2).standard_normal((11, 4)) * (
        np.random.default_rng(3).random((11, 4)) < 0.6)
    X = _messy_csr(Xd)
    data, ind, ptr = X.data.copy(), X.indices.copy(), X.indptr.copy()
    assert_allclose(nm @ X, D @ Xd, rtol=1e-12, atol=1e-14)
    XT = _messy_csr(Xd.T)
    assert_allclose(XT @ nm.T, Xd.T @ D.T, rtol=1e-12, atol=1e-14)
    # the caller's matrix is untouched (still non-canonical)
    assert_array_equal(X.data, data)
    assert_array_equal(X.indices, ind)
    assert_array_equal(X.indptr, ptr)
    assert_array_equal(nm @ sp.csr_matrix((11, 3)), np.zeros((6, 3)))


def test_nan_in_x_propagates_through_stored_entries():
    W = np.array([[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 3.0, 4.0]])
    nm = NMSparse.from_dense(W)
    x = np.array([np.nan, 1.0, 1.0, 1.0])
    out = nm @ x
    assert np.isnan(out[0]) and out[1] == 7.0
    out = np.vstack([x, x]) @ nm.T
    assert np.isnan(out[:, 0]).all() and (out[:, 1] == 7.0).all()


# ------------------------------------------------------------------ persistence
def test_save_load(tmp_path, W):
    nm = NMSparse.from_dense(W.astype(np.float32), 3, 8)
    path = tmp_path / "w.npz"
    nm.save(path)
    back = NMSparse.load(path)
    assert back.shape == nm.shape and (back.n, back.m) == (3, 8)
    assert back.dtype == np.float32
    assert_array_equal(back.values, nm.values)
    assert_array_equal(back.indices, nm.indices)
    with np.load(path) as z:
        assert set(z.files) == {"values", "packed_indices", "shape", "n", "m",
                                "format_version"}
        assert_array_equal(z["packed_indices"], nm.packed_indices)
    # the name is used as given; file objects work
    nm.save(str(tmp_path / "w.bin"))
    assert (tmp_path / "w.bin").exists()
    assert_array_equal(NMSparse.load(tmp_path / "w.bin").to_dense(), nm.to_dense())
    buf = io.BytesIO()
    NMSparse.from_dense(np.arange(5.0)).save(buf)
    buf.seek(0)
    assert NMSparse.load(buf).shape == (5,)


def test_load_validates(tmp_path, W):
    nm = NMSparse.from_dense(W)
    good = dict(values=nm.values, packed_indices=nm.packed_indices,
                shape=np.array(nm.shape), n=np.int64(2), m=np.int64(4),
                format_version=np.int64(1))

    def write(**changes):
        arrays = {**good, **changes}
        arrays = {k: v for k, v in arrays.items() if v is not None}
        path = tmp_path / "bad.npz"
        np.savez(path, **arrays)
        return path

    with pytest.raises(ValueError, match="format_version"):
        NMSparse.load(write(format_version=np.int64(2)))
    with pytest.raises(ValueError, match="missing"):
        NMSparse.load(write(packed_indices=None))
    with pytest.raises(ValueError, match="bytes per row"):
        NMSparse.load(write(packed_indices=nm.packed_indices[:, :1]))
    # positions 2, 1 in one group: not increasing
    corrupt = nm.packed_indices.copy()
    corrupt[0, 0] = 2 | 1 << 2 | 0 << 4 | 1 << 6
    with pytest.raises(ValueError, match="strictly increasing"):
        NMSparse.load(write(packed_indices=corrupt))
    with pytest.raises(ValueError, match="values must have shape"):
        NMSparse.load(write(shape=np.array([5, 11])))


def test_pickle(W):
    nm = NMSparse.from_dense(W)
    back = pickle.loads(pickle.dumps(nm))
    assert_array_equal(back.to_dense(), nm.to_dense())
    assert (back.n, back.m, back.shape) == (2, 4, W.shape)
    t = pickle.loads(pickle.dumps(nm.T))
    assert_allclose(np.ones((1, 11)) @ t, np.ones((1, 11)) @ nm.to_dense().T)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad, exc, match", [
    (np.array([[1.0, np.nan]]), ValueError, "NaN"),
    (np.array([[1.0, np.inf]]), ValueError, "NaN or infinity"),
    (np.zeros((0, 4)), ValueError, "empty"),
    (np.ones((2, 2, 4)), ValueError, "1-D or 2-D"),
    (np.float64(3.0), ValueError, "at least 1-D"),
    (np.ones((2, 4), dtype=np.float16), TypeError, "float16"),
    (np.ones((2, 4), dtype=np.complex128), TypeError, "real"),
    (np.array([["a", "b"]]), TypeError, "numeric"),
    (sp.csr_matrix(np.ones((2, 4))), TypeError, "dense"),
])
def test_from_dense_rejects(bad, exc, match):
    with pytest.raises(exc, match=match):
        NMSparse.from_dense(bad)


@pytest.mark.parametrize("n, m", [(0, 4), (5, 4), (2, 300), (True, 4), (2.0, 4), (2, None)])
def test_bad_n_m(n, m):
    with pytest.raises(ValueError, match="n must|m must"):
        NMSparse.from_dense(np.ones((2, 8)), n, m)
    with pytest.raises(ValueError, match="n must|m must"):
        NMSparse(np.ones((2, 4)), np.zeros((2, 4), dtype=np.uint8), (2, 8), n, m)


def test_integer_and_bool_weights():
    nm = NMSparse.from_dense(np.array([[1, -5, 2, 0]]))
    assert nm.dtype == np.float64
    assert_array_equal(nm.to_dense(), [[0.0, -5.0, 2.0, 0.0]])
    assert NMSparse.from_dense(np.array([[True, False, True, True]])).dtype == np.float64


def test_init_validates():
    v = np.array([[1.0, 2.0, 3.0, 4.0]])
    i = np.array([[0, 2, 1, 3]])
    nm = NMSparse(v, i, (1, 8))
    assert_array_equal(nm.to_dense(), [[1.0, 0.0, 2.0, 0.0, 0.0, 3.0, 0.0, 4.0]])
    cases = [
        (dict(values=v[:, :3]), ValueError, "values must have shape"),
        (dict(indices=i[:, :3]), ValueError, "indices must have values' shape"),
        (dict(values=v.astype(np.int64)), TypeError, "float32 or float64"),
        (dict(values=v.astype(np.float16)), TypeError, "float32 or float64"),
        (dict(indices=i.astype(float)), TypeError, "integer dtype"),
        (dict(indices=np.array([[0, 4, 1, 3]])), ValueError, r"\[0, m=4\)"),
        (dict(indices=np.array([[0, -1, 1, 3]])), ValueError, r"\[0, m=4\)"),
        (dict(indices=np.array([[2, 2, 1, 3]])), ValueError, "strictly increasing"),
        (dict(indices=np.array([[2, 1, 1, 3]])), ValueError, "row 0, slot 1"),
        (dict(values=np.array([[1.0, np.nan, 3.0, 4.0]])), ValueError, "NaN or infinity"),
        (dict(shape=(1, 7)), ValueError, "padding"),
        (dict(shape=(1, 0)), ValueError, "positive integers"),
        (dict(shape=(1, 8, 1)), ValueError, "1 or 2 positive"),
        (dict(shape="ab"), ValueError, "shape must"),
    ]
    for change, exc, match in cases:
        kwargs = dict(values=v, indices=i, shape=(1, 8))
        kwargs.update(change)
        with pytest.raises(exc, match=match):
            NMSparse(**kwargs)


def test_init_copies_and_caller_arrays_untouched(W):
    Wc = W.copy()
    nm = NMSparse.from_dense(W)
    assert_array_equal(W, Wc)
    v, i = nm.values.copy(), nm.indices.astype(np.int64)
    nm2 = NMSparse(v, i, W.shape)
    v[:] = 0
    i[:] = 0
    assert_array_equal(nm2.to_dense(), nm.to_dense())
    X = np.random.default_rng(0).standard_normal((11, 3))
    Xc = X.copy()
    nm @ X
    X.T @ nm.T
    nm @ X[:, 0]
    assert_array_equal(X, Xc)
    Xs = sp.csc_matrix(X)
    d, ind, ptr = Xs.data.copy(), Xs.indices.copy(), Xs.indptr.copy()
    nm @ Xs
    Xs.T @ nm.T
    assert_array_equal(Xs.data, d)
    assert_array_equal(Xs.indices, ind)
    assert_array_equal(Xs.indptr, ptr)


def test_product_errors(W):
    nm = NMSparse.from_dense(W)
    with pytest.raises(ValueError, match="matmul: dimension mismatch"):
        nm @ np.ones((10, 2))
    with pytest.raises(ValueError, match="matmul: dimension mismatch"):
        nm @ np.ones(12)
    with pytest.raises(ValueError, match="matmul: dimension mismatch"):
        np.ones((2, 10)) @ nm.T
    with pytest.raises(ValueError, match="matmul: dimension mismatch"):
        sp.csr_matrix(np.ones((11, 2))) @ nm.T
    with pytest.raises(ValueError, match="matmul: dimension mismatch"):
        nm @ sp.csr_matrix(np.ones((2, 11)))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        nm @ np.ones((11, 2, 2))
    with pytest.raises(TypeError, match="numeric"):
        nm @ np.array(["a"] * 11)
    with pytest.raises(TypeError, match="numeric"):
        nm @ np.array([object()] * 11)
    with pytest.raises(TypeError, match="real"):
        nm @ np.ones(11, dtype=complex)
    with pytest.raises(TypeError, match="real"):
        nm @ sp.csr_matrix(np.ones((11, 2), dtype=complex))
    with pytest.raises(TypeError):
        nm @ nm
    with pytest.raises(TypeError):
        np.ones((2, 6)) @ nm    # X @ W (no transpose) is not supported


def test_threaded_products_match_single_thread(monkeypatch):
    # rows are split over threads; each row is computed the same way whatever the
    # split, so the results are bitwise equal
    import numba

    import sparse_estimators.utils._parallel as parallel

    rng = np.random.default_rng(11)
    nm = NMSparse.from_dense(rng.standard_normal((53, 70)).astype(np.float32))
    nm35 = NMSparse.from_dense(rng.standard_normal((53, 70)), 3, 5)
    x = rng.standard_normal(70)
    X = rng.standard_normal((9, 70)).astype(np.float32)
    Xs = sp.random(9, 70, density=0.3, format="csr", random_state=0)

    def products():
        return [nm @ x, X @ nm.T, Xs @ nm.T, nm35 @ x, X @ nm35.T, nm35 @ Xs.T]

    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 1)
    single = products()
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 3)
    monkeypatch.setattr(parallel, "MIN_WORK_PER_THREAD", 1)
    for a, b in zip(products(), single):
        assert_array_equal(a, b)
