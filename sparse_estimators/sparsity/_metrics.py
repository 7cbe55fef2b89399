"""Sparsity metrics: how sparse an array, a sparse matrix or a fitted model is, and
what it would take to store it dense, as CSR, or N:M-compressed."""

import math

import numpy as np
import scipy.sparse as sp

from ._prune import _check_nm, check_weights, estimator_weights, is_estimator


def _count_nonzero(X, atol):
    if sp.issparse(X):
        return int(np.count_nonzero(np.abs(X.data) > atol))
    return int(np.count_nonzero(np.abs(X) > atol)) if atol > 0 else int(np.count_nonzero(X))


def _as_weights(X, name):
    nm = _nm_class()
    if isinstance(X, nm):
        return X
    return check_weights(X, name)


def _nm_class():
    from ._nm import NMSparse
    return NMSparse


def _size(X):
    return int(np.prod(X.shape))


def sparsity_ratio(X, *, atol=0.0):
    """Fraction of the entries of ``X`` that are zero (``|x| <= atol``).

    Parameters
    ----------
    X : array-like, sparse matrix or NMSparse
        Implicit zeros of a sparse matrix count as zeros; so do explicitly stored
        zeros.
    atol : float, default=0.0
        Entries with magnitude at most ``atol`` count as zero.

    Returns
    -------
    ratio : float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> from sparse_estimators.sparsity import sparsity_ratio
    >>> sparsity_ratio(np.array([[0.0, 1.0], [0.0, 1e-9]]))
    0.5
    >>> sparsity_ratio(np.array([[0.0, 1.0], [0.0, 1e-9]]), atol=1e-6)
    0.75
    """
    if not (atol >= 0 and math.isfinite(atol)):
        raise ValueError(f"atol must be finite and non-negative, got {atol!r}.")
    X = _as_weights(X, "X")
    if isinstance(X, _nm_class()):     # the logical matrix: its kept values, padded
        return 1.0 - _count_nonzero(X.values, atol) / _size(X)
    return 1.0 - _count_nonzero(X, atol) / _size(X)


def density(X, *, atol=0.0):
    """Fraction of the entries of ``X`` that are non-zero: ``1 - sparsity_ratio(X)``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from sparse_estimators.sparsity import density
    >>> density(sp.eye(4, format="csr"))
    0.25
    """
    return 1.0 - sparsity_ratio(X, atol=atol)


def csr_nbytes(nnz, n_rows, itemsize, index_itemsize=4):
    """Bytes of a CSR matrix: values, column indices and row pointers."""
    return nnz * (itemsize + index_itemsize) + (n_rows + 1) * index_itemsize


def nm_nbytes(shape, itemsize, n=2, m=4):
    """Bytes of the N:M-compressed storage of a matrix of ``shape`` (groups along the
    last axis): ``n`` values per group of ``m`` plus ``ceil(log2(m))``-bit positions,
    each row's positions packed to whole bytes (the layout of :class:`NMSparse`)."""
    n, m = _check_nm(n, m)
    cols = shape[-1] if len(shape) else 1
    rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
    slots = -(-cols // m) * n
    bits = (m - 1).bit_length()
    return rows * slots * itemsize + rows * (-(-(slots * bits) // 8))


def _nm_pattern_holds(W, n, m):
    """Whether every group of ``m`` consecutive entries along the last axis has at
    most ``n`` non-zeros."""
    if sp.issparse(W):
        rows = np.repeat(np.arange(W.shape[0], dtype=np.int64), np.diff(W.indptr))
        keys = rows * (-(-W.shape[1] // m)) + W.indices // m
        return bool(np.bincount(keys[W.data != 0]).max(initial=0) <= n)
    W2 = W.reshape(-1, W.shape[-1]) if W.ndim > 1 else W.reshape(1, -1)
    cols = W2.shape[1]
    padded = np.zeros((W2.shape[0], -(-cols // m) * m), dtype=bool)
    padded[:, :cols] = W2 != 0
    return bool(padded.reshape(W2.shape[0], -1, m).sum(axis=-1).max(initial=0) <= n)


def _row(name, W, n, m, axis=-1):
    nm_cls = _nm_class()
    if isinstance(W, nm_cls):
        shape, itemsize = W.shape, W.values.dtype.itemsize
        nnz = _count_nonzero(W.values, 0.0)
        # an N:M container holds its own pattern; another one is not checked
        holds = True if (W.n, W.m) == (n, m) else None
        dtype = W.dtype
    else:
        shape, itemsize, dtype = W.shape, W.dtype.itemsize, W.dtype
        nnz = _count_nonzero(W, 0.0)
        if axis != -1:
            W = W.T.tocsr() if sp.issparse(W) else W.T
        holds = _nm_pattern_holds(W, n, m)
    size = int(np.prod(shape))
    rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
    index_itemsize = 4 if max(size, nnz) < 2**31 else 8
    return {
        "name": name,
        "shape": tuple(int(s) for s in shape),
        "dtype": str(np.dtype(dtype)),
        "nnz": nnz,
        "sparsity": 1.0 - nnz / size,
        "dense_bytes": size * itemsize,
        "csr_bytes": csr_nbytes(nnz, rows, itemsize, index_itemsize),
        "nm_bytes": nm_nbytes(shape if axis == -1 else shape[::-1], itemsize, n, m),
        "nm_pattern_holds": holds,
    }


class SparsityReport:
    """Per-array sparsity statistics (returned by :func:`sparsity_report`).

    Iterating gives one dict per array with the keys ``name``, ``shape``, ``dtype``,
    ``nnz``, ``sparsity``, ``dense_bytes``, ``csr_bytes`` (int32 indices while they
    fit), ``nm_bytes`` (N:M-compressed, see :class:`NMSparse`) and
    ``nm_pattern_holds`` (whether the N:M pattern already holds along the reduction
    axis: the last one, axis 0 for the layers of an MLP's ``coefs_``, as in
    :func:`prune`).
    ``report["coef_"]`` looks a row up by name; ``to_frame()`` gives a pandas
    DataFrame.

    Examples
    --------
    >>> import numpy as np
    >>> from sparse_estimators.sparsity import sparsity_report
    >>> report = sparsity_report({"W": np.eye(4)})
    >>> report["W"]["sparsity"], report.total["dense_bytes"]
    (0.75, 128)
    """

    def __init__(self, rows, n, m):
        self.rows = list(rows)
        self.n, self.m = n, m

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, name):
        for row in self.rows:
            if row["name"] == name:
                return row
        raise KeyError(name)

    @property
    def total(self):
        """Totals over all rows: ``nnz``, ``size``, ``sparsity`` and the bytes."""
        size = sum(int(np.prod(r["shape"])) for r in self.rows)
        nnz = sum(r["nnz"] for r in self.rows)
        out = {"nnz": nnz, "size": size, "sparsity": 1.0 - nnz / size if size else 0.0}
        for key in ("dense_bytes", "csr_bytes", "nm_bytes"):
            out[key] = sum(r[key] for r in self.rows)
        return out

    def to_frame(self):
        """The rows as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:     # pragma: no cover - pandas is a test extra
            raise ImportError("to_frame needs pandas: pip install pandas") from exc
        return pd.DataFrame(self.rows).set_index("name")

    def __repr__(self):
        head = ("name", "shape", "dtype", "nnz", "sparsity", "dense",
                "CSR", f"{self.n}:{self.m}", f"{self.n}:{self.m} holds")
        body = [(r["name"], "x".join(map(str, r["shape"])), r["dtype"], str(r["nnz"]),
                 f"{r['sparsity']:.3f}", _fmt_bytes(r["dense_bytes"]),
                 _fmt_bytes(r["csr_bytes"]), _fmt_bytes(r["nm_bytes"]),
                 {True: "yes", False: "no", None: "n/a"}[r["nm_pattern_holds"]])
                for r in self.rows]
        widths = [max(len(c) for c in col) for col in zip(head, *body)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip()
                 for line in [head, *body]]
        return "\n".join(lines)


def _fmt_bytes(b):
    for unit in ("B", "KiB", "MiB"):
        if b < 1024 or unit == "MiB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024
    return f"{b:.1f} GiB"   # pragma: no cover


def sparsity_report(obj, *, n=2, m=4, attributes=None):
    """Sparsity statistics of an array, a sparse matrix, a dict of arrays, an
    :class:`NMSparse`, or the weight attributes of a fitted estimator.

    Parameters
    ----------
    obj : array-like, sparse matrix, NMSparse, dict or fitted estimator
        For an estimator, the attributes ``coef_``, ``components_`` and each layer
        of ``coefs_`` (scikit-learn MLPs) that exist, or those named in
        ``attributes``.
    n, m : int, default=2, 4
        The N:M pattern whose compressed size and validity are reported (groups
        along the last axis).
    attributes : list of str, default=None
        Estimator attributes to report.

    Returns
    -------
    report : SparsityReport
        Printable table; iterate for one dict per array.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Lasso
    >>> from sparse_estimators.sparsity import sparsity_report
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 40))
    >>> y = X[:, :3] @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(100)
    >>> report = sparsity_report(Lasso(alpha=0.1).fit(X, y))
    >>> report["coef_"]["nnz"], report["coef_"]["dense_bytes"]
    (3, 320)
    """
    n, m = _check_nm(n, m)
    if isinstance(obj, dict):
        items = [(name, W, -1) for name, W in obj.items()]
    elif is_estimator(obj):
        items = []
        for name, value in estimator_weights(obj, attributes):
            if isinstance(value, (list, tuple)):
                # MLP layers enter X @ W: their N:M groups run along axis 0 (as in prune)
                items.extend((f"{name}[{i}]", v, 0 if name == "coefs_" else -1)
                             for i, v in enumerate(value))
            else:
                items.append((name, value, -1))
    else:
        items = [("X", obj, -1)]
    rows = [_row(name, _as_weights(W, name), n, m, axis) for name, W, axis in items]
    return SparsityReport(rows, n, m)
