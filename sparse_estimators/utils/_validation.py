"""Input validation shared by the estimators (scikit-learn conventions)."""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import _check_sample_weight


def check_sparse_structure(X, name="X"):
    """Raise ``ValueError`` if ``X`` is a CSR or CSC matrix with malformed index arrays.

    scipy builds a compressed matrix from ``(data, indices, indptr)`` without looking
    at the index values, and scikit-learn's ``check_array`` does not either; a
    negative or too-large index would then be read out of bounds by scipy's C++
    conversions and this library's numba kernels (a crash, or a silently wrong
    model). Checked here, before any conversion: ``indptr`` has one entry per row
    (CSR) or column (CSC) plus one, starts at 0, never decreases and ends within
    ``indices`` and ``data``; every stored index lies in ``[0, n_columns)`` (CSR) or
    ``[0, n_rows)`` (CSC). Cost: a min and a max over the stored indices (about
    35 us for 4 * 10^5 of them). Anything else, dense input included, is
    returned untouched.

    Returns
    -------
    X : the input, unchanged.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> bad = sp.csr_matrix((np.ones(2), np.array([0, 7]), np.array([0, 1, 2])),
    ...                     shape=(2, 3))
    >>> check_sparse_structure(bad)
    Traceback (most recent call last):
    ...
    ValueError: X is a malformed CSR matrix: a stored column index is 7, outside [0, 3).
    """
    if not sp.issparse(X) or X.format not in ("csr", "csc"):
        return X
    fmt = X.format.upper()
    n_major, n_minor = X.shape if X.format == "csr" else X.shape[::-1]
    what = "column" if X.format == "csr" else "row"
    indptr, indices = np.asarray(X.indptr), np.asarray(X.indices)

    def bad(msg):
        return ValueError(f"{name} is a malformed {fmt} matrix: {msg}.")

    if indptr.ndim != 1 or indptr.shape[0] != n_major + 1:
        raise bad(f"indptr has {indptr.shape[0] if indptr.ndim == 1 else indptr.shape} "
                  f"entries, expected {n_major + 1}")
    if indptr[0] != 0:
        raise bad(f"indptr[0] is {indptr[0]}, expected 0")
    nnz = int(indptr[-1])
    if nnz > min(indices.shape[0], np.shape(X.data)[0]):
        raise bad(f"indptr[-1] = {nnz} exceeds the {min(indices.shape[0], len(X.data))} "
                  "stored values")
    if n_major > 0 and np.any(indptr[1:] < indptr[:-1]):
        raise bad("indptr is decreasing somewhere")
    if nnz:
        used = indices[:nnz]
        lo, hi = used.min(), used.max()
        for v in (lo, hi):
            if v < 0 or v >= n_minor:
                raise bad(f"a stored {what} index is {v}, outside [0, {n_minor})")
    return X


def normalized_sample_weight(sample_weight, X):
    """Validate ``sample_weight`` and rescale it to sum to ``n_samples``.

    Returns ``None`` for ``None`` or a scalar (uniform weights). The objective
    ``1/2 * average(squared error, weights=sample_weight) + penalty`` is invariant
    to this rescaling, so ``alpha`` keeps scikit-learn's meaning.

    Raises
    ------
    ValueError
        If the weights have the wrong shape, are negative, non-finite, or all zero.
    """
    if sample_weight is None or isinstance(sample_weight, numbers.Number):
        if isinstance(sample_weight, numbers.Number) and not sample_weight > 0:
            raise ValueError(
                f"sample_weight must be positive when given as a scalar, got {sample_weight!r}."
            )
        return None
    sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    total = float(np.sum(sw, dtype=np.float64))
    if not total > 0.0:
        raise ValueError("sample_weight must have a positive sum; got all zeros.")
    return sw * (X.shape[0] / total)


def check_alphas(alphas, name="alphas"):
    """Return ``alphas`` as a positive int (grid size) or a 1-D float array sorted
    in decreasing order (the order in which warm starts pay off)."""
    if isinstance(alphas, numbers.Integral) and not isinstance(alphas, bool):
        if alphas < 1:
            raise ValueError(f"{name} must be a positive integer or an array, got {alphas}.")
        return int(alphas)
    arr = np.asarray(alphas, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty.")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and non-negative, got {alphas!r}.")
    return np.sort(arr)[::-1]
