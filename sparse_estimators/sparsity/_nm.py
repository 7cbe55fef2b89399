"""``NMSparse``: a weight matrix in the compressed N:M structured-sparse format.

The storage format is documented bit by bit in ``doc/nm_format.md``; the kernels
live in :mod:`sparse_estimators._kernels._nm`.
"""

import numbers
import os

import numpy as np
import scipy.sparse as sp

from .._kernels._nm import (
    nm_check,
    nm_compress,
    nm_decompress,
    nm_matmat,
    nm_matmat_csr,
    nm_matvec,
    nm_pack,
    nm_unpack,
)
from ..utils._parallel import run_rows
from ..utils._validation import check_sparse_structure
from ._prune import _check_nm, check_weights, nm_mask

FORMAT_VERSION = 1

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def index_bits(m):
    """Bits per packed position: ``ceil(log2(m))`` (0 for ``m = 1``)."""
    return int(m - 1).bit_length()


def packed_row_bytes(n_slots, m):
    """Bytes of one row of packed positions: ``ceil(n_slots * index_bits(m) / 8)``."""
    return -(-n_slots * index_bits(m) // 8)


def _check_shape(shape):
    try:
        shp = tuple(shape)
    except TypeError:
        shp = None
    if (shp is None or len(shp) not in (1, 2)
            or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 1
                       for d in shp)):
        raise ValueError(f"shape must be a tuple of 1 or 2 positive integers, got {shape!r}.")
    return tuple(int(d) for d in shp)


def _as_float_dtype(dtype, name):
    """float32 / float64 kept, bool and integers -> float64, anything else a TypeError."""
    dtype = np.dtype(dtype)
    if dtype in _FLOATS:
        return dtype
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    raise TypeError(f"{name} must have a float32, float64, integer or bool dtype, got "
                    f"{dtype}.")


def _offsets(n_groups, n, m):
    # (s // n) * m for every slot s: the column of a slot's group start
    dt = np.int32 if n_groups * m < 2**31 else np.int64
    return np.repeat(np.arange(n_groups, dtype=dt) * dt(m), n)


# Blocking of the dense product (see nm_matmat): rows go in chunks of this many; the
# slots are swept in blocks reaching about this many bytes of X.
_ROW_BLOCK = 128
_X_BLOCK_BYTES = 512 * 1024


def _slot_block(n, m, k, itemsize):
    """Slots per block: the block's groups reach ``~_X_BLOCK_BYTES`` of X's rows;
    a multiple of 8 (the kernel's unrolling), at least 8."""
    groups = max(1, _X_BLOCK_BYTES // max(1, m * k * itemsize))
    return max(8, groups * n // 8 * 8)


# ------------------------------------------------------------------ threads
def _dense_operand(X, name="X"):
    """Dense numeric ndarray from ``X`` (no copy when already one), or TypeError."""
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a numeric array or a scipy sparse matrix: {exc}"
                        ) from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be a numeric array or a scipy sparse matrix, got "
                        f"dtype {arr.dtype} ({type(X).__name__}).")
    return arr


def _result_dtype(values_dtype, x_dtype):
    """Result dtype of a product: ``np.result_type``, with integer / bool operands read
    as float64; a complex or extended-precision operand is a TypeError."""
    x_dtype = np.dtype(x_dtype)
    if x_dtype.kind in "biu":
        return np.dtype(np.float64)
    if x_dtype.kind == "f":
        out = np.result_type(values_dtype, x_dtype)
        if out in _FLOATS:
            return out
    raise TypeError(f"X must have a real dtype of at most 64 bits, got {x_dtype}.")


class NMSparse:
    """A weight matrix in the compressed N:M structured-sparse format.

    In every group of ``m`` consecutive columns of a row at most ``n`` entries are
    non-zero (2:4 by default: the pattern NVIDIA's sparse tensor cores run, from the
    Ampere generation on, through cuSPARSELt; Mishra et al. 2021, "Accelerating
    Sparse Deep Neural Networks", arXiv:2104.08378). Groups run along the columns,
    the reduction axis of ``X @ W.T``: a ``(out_features, in_features)`` weight as in
    a torch ``Linear`` layer, or scikit-learn's ``coef_``, and cuSPARSELt's
    structured operand. A row is stored as ``n`` values and ``n`` positions per
    group; ``doc/nm_format.md`` documents the layout bit by bit.

    Build one with :meth:`from_dense`; the constructor takes the stored arrays
    directly and validates them.

    Parameters
    ----------
    values : ndarray of shape (rows, n_groups * n), float32 or float64
        Slot ``g * n + t`` of a row holds the ``t``-th stored entry of group ``g``
        (``n_groups = ceil(cols / m)``). For a 1-D ``shape``, ``rows = 1`` (a 1-D
        ``values`` is accepted then).
    indices : integer ndarray of values' shape
        Position ``0 .. m-1`` of each slot inside its group, strictly increasing
        within a group. Stored as uint8.
    shape : tuple of int
        ``(rows, cols)``, or ``(cols,)`` for a vector (one row).
    n, m : int, default=2, 4
        At most ``n`` non-zeros per group of ``m`` (``1 <= n <= m <= 256``).

    Attributes
    ----------
    values : ndarray of shape (rows, n_groups * n)
        The stored values (groups with fewer than ``n`` non-zeros store explicit
        zeros). Treat as read-only.
    indices : ndarray of uint8, of values' shape
        The position of each value inside its group. Treat as read-only.
    shape : tuple of int
        Shape of the logical (dense) matrix.
    n, m : int

    Notes
    -----
    In the last group of a row whose length is not a multiple of ``m``, an explicit
    zero may point into the zero padding (position ``>= cols - g * m``); the
    products skip it. ``values`` and ``indices`` are what the CPU kernels read (one
    byte per position); :attr:`packed_indices` is the ``ceil(log2(m))``-bit form
    that the format's size (:attr:`nbytes`) and :meth:`save` use.

    For the GPU: cuSPARSELt compresses on the device, from the dense pruned matrix
    (``to_dense()``), into a layout of its own that it does not document; its 50%
    sparsity is 2:4 for half, bfloat16 and 8-bit types but 1:2 for float32, and it
    has no float64 (``doc/nm_format.md``).

    Products follow scipy.sparse for non-finite operands: NaN or infinity in ``X``
    propagates through the stored entries (an explicit zero times infinity is NaN),
    not through the entries that are not stored.

    Examples
    --------
    >>> import numpy as np
    >>> from sparse_estimators.sparsity import NMSparse
    >>> W = np.array([[1., -5., 2., 0.5, 3., 0., 0., -1.],
    ...               [0., 0., 0., 4., 1., 2., 3., 4.]])
    >>> nm = NMSparse.from_dense(W)          # 2:4: keep the 2 largest of every 4
    >>> nm.values
    array([[-5.,  2.,  3., -1.],
           [ 0.,  4.,  3.,  4.]])
    >>> nm.indices
    array([[1, 2, 0, 3],
           [0, 3, 2, 3]], dtype=uint8)
    >>> nm.to_dense()
    array([[ 0., -5.,  2.,  0.,  3.,  0.,  0., -1.],
           [ 0.,  0.,  0.,  4.,  0.,  0.,  3.,  4.]])
    >>> nm @ np.ones(8)
    array([-1., 11.])
    >>> np.ones((1, 8)) @ nm.T
    array([[-1., 11.]])
    """

    def __init__(self, values, indices, shape, n=2, m=4):
        shape = _check_shape(shape)
        n, m = _check_nm(n, m)
        rows, cols = (1, shape[0]) if len(shape) == 1 else shape
        n_slots = -(-cols // m) * n
        values = np.asarray(values)
        if values.dtype not in _FLOATS:
            raise TypeError(f"values must be float32 or float64, got {values.dtype}.")
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"indices must have an integer dtype, got {indices.dtype}.")
        if len(shape) == 1 and values.ndim == 1:
            values = values.reshape(1, -1)
        if len(shape) == 1 and indices.ndim == 1:
            indices = indices.reshape(1, -1)
        expected = (rows, n_slots)
        if values.shape != expected:
            raise ValueError(f"values must have shape {expected} (rows, ceil(cols / m) * n) "
                             f"for shape={shape}, n={n}, m={m}; got {values.shape}.")
        if indices.shape != expected:
            raise ValueError(f"indices must have values' shape {expected}, got "
                             f"{indices.shape}.")
        if indices.size and (indices.min() < 0 or indices.max() >= m):
            bad = np.argwhere((indices < 0) | (indices >= m))[0]
            raise ValueError(f"indices must lie in [0, m={m}); got {indices[tuple(bad)]} at "
                             f"row {bad[0]}, slot {bad[1]}.")
        values = np.array(values, order="C", copy=True)
        indices = np.array(indices, dtype=np.uint8, order="C", copy=True)
        code, r, s = nm_check(values, indices, n, m, cols)
        if code:
            g = s // n
            where = f"row {r}, slot {s} (group {g}, columns {g * m}..{g * m + m - 1})"
            if code == 1:
                raise ValueError(f"indices must be strictly increasing within each group: "
                                 f"{indices[r, s]} after {indices[r, s - 1]} at {where}.")
            if code == 2:
                raise ValueError(f"values contains NaN or infinity at {where}.")
            raise ValueError(f"values has a non-zero ({values[r, s]!r}) at {where}, position "
                             f"{indices[r, s]}: column {g * m + int(indices[r, s])} is in "
                             f"the padding of a matrix with {cols} columns.")
        self._set(values, indices, shape, n, m)

    def _set(self, values, indices, shape, n, m):
        self.values = values
        self.indices = indices
        self.shape = shape
        self.n = n
        self.m = m

    @classmethod
    def _new(cls, values, indices, shape, n, m):
        # trusted arrays (built here): no validation, no copy
        obj = cls.__new__(cls)
        obj._set(values, indices, shape, n, m)
        return obj

    # ------------------------------------------------------------ construction
    @classmethod
    def from_dense(cls, W, n=2, m=4, *, prune=True):
        """Compress a dense weight vector or matrix.

        Parameters
        ----------
        W : array-like of shape (rows, cols) or (cols,)
            Finite real weights; float32 and float64 are kept, integers and bool
            become float64 (other dtypes are a TypeError).
        n, m : int, default=2, 4
            The pattern: at most ``n`` non-zeros per group of ``m`` consecutive
            columns.
        prune : bool, default=True
            Keep the ``n`` largest magnitudes of every group
            (:func:`~sparse_estimators.sparsity.nm_mask`, ties to the lower column)
            and drop the others. With ``False``, ``W`` must already follow the
            pattern: a group with more than ``n`` non-zeros is a ValueError.

        Returns
        -------
        NMSparse

        Examples
        --------
        >>> import numpy as np
        >>> from sparse_estimators.sparsity import NMSparse
        >>> nm = NMSparse.from_dense(np.array([4., 3., 2., 1., 0., 1., 0., 0.]))
        >>> nm.to_dense()
        array([4., 3., 0., 0., 0., 1., 0., 0.])
        >>> nm.values, nm.indices
        (array([[4., 3., 0., 1.]]), array([[0, 1, 0, 1]], dtype=uint8))
        >>> NMSparse.from_dense(np.array([[1., 0., 2., 3.]]), prune=False)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: W does not follow the 2:4 pattern: row 0, group 0 (columns 0..3) has 3 ...
        """
        if sp.issparse(W):
            raise TypeError("W must be dense; call W.toarray() first.")
        n, m = _check_nm(n, m)
        W = check_weights(W)
        dtype = _as_float_dtype(W.dtype, "W")
        if W.ndim not in (1, 2):
            raise ValueError(f"W must be 1-D or 2-D, got ndim={W.ndim}.")
        shape = W.shape
        W2 = np.ascontiguousarray(W.reshape(1, -1) if W.ndim == 1 else W, dtype=dtype)
        keep = nm_mask(W2, n, m, axis=-1) if prune else W2 != 0
        rows, cols = W2.shape
        n_groups = -(-cols // m)
        values = np.zeros((rows, n_groups * n), dtype=dtype)
        indices = np.zeros((rows, n_groups * n), dtype=np.uint8)
        bad = nm_compress(W2, np.ascontiguousarray(keep), n, m, values, indices)
        if bad >= 0:
            r, g = divmod(int(bad), n_groups)
            stop = min(g * m + m, cols) - 1
            count = int(np.count_nonzero(W2[r, g * m:stop + 1]))
            raise ValueError(f"W does not follow the {n}:{m} pattern: row {r}, group {g} "
                             f"(columns {g * m}..{stop}) has {count} non-zeros. Use "
                             f"prune=True to keep the {n} largest.")
        return cls._new(values, indices, shape, n, m)

    def to_dense(self):
        """The dense matrix, of the original shape and dtype.

        Returns
        -------
        ndarray of shape ``self.shape``

        Examples
        --------
        >>> import numpy as np
        >>> from sparse_estimators.sparsity import NMSparse
        >>> NMSparse(np.array([[5., 7.]]), np.array([[1, 3]]), shape=(1, 4)).to_dense()
        array([[0., 5., 0., 7.]])
        """
        out = np.zeros((self._rows, self._cols), dtype=self.values.dtype)
        nm_decompress(self.values, self.indices, self.n, self.m, out)
        return out.reshape(self.shape)

    # ------------------------------------------------------------ properties
    @property
    def _rows(self):
        return 1 if len(self.shape) == 1 else self.shape[0]

    @property
    def _cols(self):
        return self.shape[-1]

    @property
    def n_groups(self):
        """Groups per row: ``ceil(cols / m)``."""
        return -(-self._cols // self.m)

    @property
    def dtype(self):
        """dtype of the values (float32 or float64)."""
        return self.values.dtype

    @property
    def ndim(self):
        """1 or 2, as the original array."""
        return len(self.shape)

    @property
    def size(self):
        """Number of entries of the dense matrix."""
        return int(np.prod(self.shape))

    @property
    def nnz(self):
        """Number of non-zero stored values (explicit zeros are not counted)."""
        return int(np.count_nonzero(self.values))

    @property
    def density(self):
        """``nnz / size``; at most ``n / m`` (a little more when ``cols % m != 0``)."""
        return self.nnz / self.size

    @property
    def index_bits(self):
        """Bits per packed position: ``ceil(log2(m))``."""
        return index_bits(self.m)

    @property
    def packed_indices(self):
        """The positions bit-packed, ``index_bits`` bits each, least significant
        bits first, slot order, each row padded to a whole byte: uint8 array of
        shape ``(rows, ceil(n_slots * index_bits / 8))`` (computed on access). For
        2:4 one byte holds the four 2-bit positions of two consecutive groups,
        ``i0 | i1 << 2 | i2 << 4 | i3 << 6``.

        Examples
        --------
        >>> import numpy as np
        >>> from sparse_estimators.sparsity import NMSparse
        >>> nm = NMSparse(np.ones((1, 4)), np.array([[1, 2, 0, 3]]), shape=(1, 8))
        >>> nm.packed_indices          # 1 | 2 << 2 | 0 << 4 | 3 << 6 = 201
        array([[201]], dtype=uint8)
        >>> NMSparse.unpack_indices(nm.packed_indices, n_slots=4, m=4)
        array([[1, 2, 0, 3]], dtype=uint8)
        """
        rows, n_slots = self.values.shape
        out = np.zeros((rows, packed_row_bytes(n_slots, self.m)), dtype=np.uint8)
        if out.size:
            nm_pack(self.indices, self.index_bits, out)
        return out

    @staticmethod
    def unpack_indices(packed, n_slots, m):
        """Inverse of :attr:`packed_indices`.

        Parameters
        ----------
        packed : ndarray of uint8, shape (rows, ceil(n_slots * ceil(log2(m)) / 8))
        n_slots : int
            Slots per row, ``ceil(cols / m) * n``.
        m : int

        Returns
        -------
        indices : ndarray of uint8, shape (rows, n_slots)

        Examples
        --------
        >>> import numpy as np
        >>> from sparse_estimators.sparsity import NMSparse
        >>> NMSparse.unpack_indices(np.array([[201]], dtype=np.uint8), 4, 4)
        array([[1, 2, 0, 3]], dtype=uint8)
        """
        packed = np.asarray(packed)
        if packed.dtype != np.uint8 or packed.ndim != 2:
            raise ValueError(f"packed must be a 2-D uint8 array, got {packed.dtype} of "
                             f"ndim {packed.ndim}.")
        width = packed_row_bytes(n_slots, m)
        if packed.shape[1] != width:
            raise ValueError(f"packed must have {width} bytes per row for {n_slots} slots "
                             f"and m={m}, got {packed.shape[1]}.")
        out = np.zeros((packed.shape[0], n_slots), dtype=np.uint8)
        if out.size and index_bits(m):
            nm_unpack(np.ascontiguousarray(packed), index_bits(m), out)
        return out

    @property
    def nbytes(self):
        """Bytes the format needs: ``values.nbytes + packed_indices.nbytes``."""
        rows, n_slots = self.values.shape
        return self.values.nbytes + rows * packed_row_bytes(n_slots, self.m)

    @property
    def T(self):
        """Transposed view, for ``X @ nm.T`` (the product of a linear layer).

        Examples
        --------
        >>> import numpy as np
        >>> from sparse_estimators.sparsity import NMSparse
        >>> nm = NMSparse.from_dense(np.arange(8.).reshape(2, 4))
        >>> nm.T.shape
        (4, 2)
        >>> np.ones((3, 4)) @ nm.T
        array([[ 5., 13.],
               [ 5., 13.],
               [ 5., 13.]])
        """
        return NMSparseTranspose(self)

    def __repr__(self):
        return (f"<NMSparse {self.n}:{self.m} of shape {self.shape}, dtype {self.dtype}, "
                f"{self.nnz} non-zeros, {self.nbytes} bytes>")

    # ------------------------------------------------------------ products
    # NumPy must not try to turn this object into an array in ``X @ nm`` / ``X @
    # nm.T``: it defers to ``__rmatmul__`` instead.
    __array_ufunc__ = None

    def __matmul__(self, X):
        """``W @ X``, without building the dense ``W``.

        Parameters
        ----------
        X : array-like of shape (cols,) or (cols, k), or scipy sparse (cols, k)
            Real numbers; a sparse ``X`` is not densified.

        Returns
        -------
        ndarray of shape (rows,) or (rows, k)
            For a 1-D ``W``, as numpy's vector products: (k,) or a scalar. Dtype:
            ``np.result_type(W.dtype, X.dtype)``, integer / bool ``X`` read as
            float64.

        Examples
        --------
        >>> import numpy as np
        >>> import scipy.sparse as sp
        >>> from sparse_estimators.sparsity import NMSparse
        >>> nm = NMSparse.from_dense(np.array([[1., 2., 3., 4.], [4., 0., 0., 1.]]))
        >>> nm @ np.array([1., 1., 1., 1.])
        array([7., 5.])
        >>> nm @ sp.csr_matrix(np.eye(4)[:, :2])
        array([[0., 0.],
               [4., 0.]])
        """
        out = self._product(X, transpose_x=False)
        if self.ndim == 1:
            out = out[0]
        return out

    def _product(self, X, transpose_x):
        """Dense ``W2 @ X`` (``transpose_x=False``, X: (cols,) / (cols, k)) or
        ``(X @ W2.T).T`` layout-wise (``transpose_x=True``, X: (cols,) / (k, cols)),
        W2 the 2-D view of W. Returns (rows,), (rows, k) or (k, rows)."""
        rows, cols = self._rows, self._cols
        offs = _offsets(self.n_groups, self.n, self.m)
        n_full = (cols // self.m) * self.n
        if sp.issparse(X):
            if X.ndim != 2:
                raise ValueError(f"sparse X must be 2-D, got ndim={X.ndim}.")
            check_sparse_structure(X)
            if X.dtype.kind not in "biuf":
                raise TypeError(f"X must have a real numeric dtype, got {X.dtype}.")
            dtype = _result_dtype(self.dtype, X.dtype)
            axis = 1 if transpose_x else 0
            if X.shape[axis] != cols:
                raise ValueError(self._mismatch(X.shape, transpose_x))
            # CSR of the (cols, k) operand: X itself, or the CSC arrays of X when it
            # is (k, cols). Both conversions copy only when the format differs.
            Xc = X.tocsc() if transpose_x else X.tocsr()
            k = X.shape[1 - axis]
            data = Xc.data.astype(dtype, copy=False)
            out = np.zeros((rows, k), dtype=dtype)
            # int64 indices whatever scipy chose: one compiled kernel (an O(nnz) copy
            # for int32, small next to the product's O(nnz * rows * n / m))
            args = (self.values, self.indices, offs, cols, data,
                    Xc.indices.astype(np.intp, copy=False),
                    Xc.indptr.astype(np.intp, copy=False), out)
            work = self.values.size * max(1, Xc.nnz // cols)
            run_rows(nm_matmat_csr, args, rows, work)
            return np.ascontiguousarray(out.T) if transpose_x else out
        X = _dense_operand(X)
        dtype = _result_dtype(self.dtype, X.dtype)
        if X.ndim == 1:
            if X.shape[0] != cols:
                raise ValueError(self._mismatch(X.shape, transpose_x))
            x = np.ascontiguousarray(X, dtype=dtype)
            out = np.zeros(rows, dtype=dtype)
            is_24 = (self.n, self.m) == (2, 4)
            run_rows(nm_matvec, (self.values, self.indices, offs, is_24, n_full, x, out),
                      rows, self.values.size)
            return out
        if X.ndim != 2:
            raise ValueError(f"X must be 1-D or 2-D, got ndim={X.ndim}.")
        if X.shape[1 if transpose_x else 0] != cols:
            raise ValueError(self._mismatch(X.shape, transpose_x))
        Xt = np.ascontiguousarray(X.T if transpose_x else X, dtype=dtype)
        out = np.zeros((rows, Xt.shape[1]), dtype=dtype)
        args = (self.values, self.indices, offs, n_full, Xt, out, _ROW_BLOCK,
                _slot_block(self.n, self.m, Xt.shape[1], dtype.itemsize))
        run_rows(nm_matmat, args, rows, self.values.size * Xt.shape[1])
        return np.ascontiguousarray(out.T) if transpose_x else out

    def _mismatch(self, xshape, transpose_x):
        cols = self._cols
        if transpose_x:
            return (f"matmul: dimension mismatch: X @ W.T needs X of shape (k, {cols}) or "
                    f"({cols},) for W.T of shape {self.shape[::-1]}, got X of shape "
                    f"{xshape} (size {xshape[-1]} is different from {cols}).")
        return (f"matmul: dimension mismatch: W @ X needs X of shape ({cols}, k) or "
                f"({cols},) for W of shape {self.shape}, got X of shape {xshape} "
                f"(size {xshape[0]} is different from {cols}).")

    # ------------------------------------------------------------ persistence
    def save(self, file):
        """Write to an ``.npz`` archive (no pickled objects).

        The archive holds ``values``, ``packed_indices``, ``shape``, ``n``, ``m`` and
        ``format_version``. A file name is used as given (no ``.npz`` is appended).

        Parameters
        ----------
        file : str, path-like or writable binary file object

        Examples
        --------
        >>> import io
        >>> import numpy as np
        >>> from sparse_estimators.sparsity import NMSparse
        >>> nm = NMSparse.from_dense(np.arange(8.).reshape(2, 4))
        >>> buf = io.BytesIO()
        >>> nm.save(buf)
        >>> _ = buf.seek(0)
        >>> np.array_equal(NMSparse.load(buf).to_dense(), nm.to_dense())
        True
        """
        arrays = dict(values=self.values, packed_indices=self.packed_indices,
                      shape=np.array(self.shape, dtype=np.int64),
                      n=np.int64(self.n), m=np.int64(self.m),
                      format_version=np.int64(FORMAT_VERSION))
        if isinstance(file, (str, os.PathLike)):
            with open(file, "wb") as f:
                np.savez(f, **arrays)
        else:
            np.savez(file, **arrays)

    @classmethod
    def load(cls, file):
        """Read an archive written by :meth:`save`, validating everything.

        Parameters
        ----------
        file : str, path-like or readable binary file object

        Returns
        -------
        NMSparse

        Examples
        --------
        >>> import io
        >>> import numpy as np
        >>> from sparse_estimators.sparsity import NMSparse
        >>> buf = io.BytesIO()
        >>> NMSparse.from_dense(np.array([3., -1., 0.5, 2.])).save(buf)
        >>> _ = buf.seek(0)
        >>> NMSparse.load(buf).to_dense()
        array([3., 0., 0., 2.])
        """
        with np.load(file, allow_pickle=False) as z:
            missing = {"values", "packed_indices", "shape", "n", "m",
                       "format_version"} - set(z.files)
            if missing:
                raise ValueError(f"not an NMSparse archive: missing {sorted(missing)}.")
            version = int(z["format_version"])
            if version != FORMAT_VERSION:
                raise ValueError(f"unsupported NMSparse format_version {version} (this "
                                 f"version reads {FORMAT_VERSION}).")
            values, packed = z["values"], z["packed_indices"]
            shape = tuple(int(d) for d in np.atleast_1d(z["shape"]))
            n, m = int(z["n"]), int(z["m"])
        n, m = _check_nm(n, m)
        shape = _check_shape(shape)
        n_slots = -(-shape[-1] // m) * n
        indices = cls.unpack_indices(packed, n_slots, m)
        return cls(values, indices, shape, n=n, m=m)


class NMSparseTranspose:
    """Transposed view of an :class:`NMSparse` (``nm.T``): supports ``X @ nm.T``.

    ``X`` dense of shape (k, cols) or (cols,), or scipy sparse (k, cols); returns a
    dense ndarray of shape (k, rows) or (rows,) (for a 1-D ``nm``, as numpy's
    vector products: (k,) or a scalar). ``.T`` gives the ``NMSparse`` back.
    """

    __array_ufunc__ = None

    def __init__(self, base):
        self._base = base

    @property
    def T(self):
        return self._base

    @property
    def shape(self):
        return self._base.shape[::-1]

    @property
    def dtype(self):
        return self._base.dtype

    @property
    def ndim(self):
        return self._base.ndim

    def __rmatmul__(self, X):
        out = self._base._product(X, transpose_x=True)
        if self._base.ndim == 1:
            out = out[..., 0] if out.ndim == 2 else out[0]
        return out

    def __repr__(self):
        return f"<transpose of {self._base!r}>"
