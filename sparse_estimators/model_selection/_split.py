"""Splits of a sparse interaction matrix into train and test matrices of the same
shape (users and items keep their indices), without densifying it."""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from ..utils._validation import check_sparse_structure

__all__ = ["train_test_split_interactions", "leave_k_out_split"]


def _as_canonical_csr(X, name="X"):
    if not sp.issparse(X):
        raise TypeError(f"{name} must be a sparse user x item matrix, got "
                        f"{type(X).__name__}.")
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got {X.ndim}-D.")
    X = sp.csr_matrix(check_sparse_structure(X, name), copy=True)
    X.sum_duplicates()
    return X


def _latest_per_position(T):
    """``T`` as canonical CSR where a duplicated position keeps its largest value
    (its latest time), not the sum of its values as scipy's canonical form would."""
    C = sp.coo_matrix(T)
    order = np.lexsort((C.col, C.row))
    r, c, d = C.row[order], C.col[order], C.data[order]
    if r.size:
        first = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        d = np.maximum.reduceat(d, first)
        r, c = r[first], c[first]
    out = sp.csr_matrix((d, (r, c)), shape=T.shape)
    out.sort_indices()
    return out


def _split_by_mask(X, test):
    """Two CSR matrices of X's shape holding the entries outside / inside ``test``."""
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))

    def pick(mask):
        counts = np.bincount(rows[mask], minlength=X.shape[0])
        indptr = np.zeros(X.shape[0] + 1, dtype=X.indptr.dtype)
        np.cumsum(counts, out=indptr[1:])
        out = sp.csr_matrix((X.data[mask], X.indices[mask], indptr), shape=X.shape)
        out.has_canonical_format = True
        return out

    return pick(~test), pick(test)


def train_test_split_interactions(X, test_size=0.2, *, random_state=None):
    """Random split of the stored entries of ``X`` into train and test matrices.

    Parameters
    ----------
    X : sparse matrix of shape (n_users, n_items)
    test_size : float in (0, 1) or int, default=0.2
        Share (float) or number (int) of the stored entries that go to the test
        matrix; exactly ``round(test_size * nnz)`` entries for a float.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X_train, X_test : scipy.sparse.csr_matrix of shape (n_users, n_items)
        Disjoint entries whose sum is ``X`` (duplicates summed first).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from sparse_estimators.model_selection import train_test_split_interactions
    >>> X = sp.random(50, 40, density=0.2, format="csr", random_state=0)
    >>> train, test = train_test_split_interactions(X, 0.25, random_state=0)
    >>> train.nnz, test.nnz, abs(train + test - X).max()
    (300, 100, np.float64(0.0))
    """
    X = _as_canonical_csr(X)
    nnz = X.nnz
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        if not 0 <= test_size <= nnz:
            raise ValueError(f"test_size={test_size} must be in [0, nnz={nnz}].")
        n_test = int(test_size)
    elif isinstance(test_size, numbers.Real) and 0.0 < test_size < 1.0:
        n_test = int(round(test_size * nnz))
    else:
        raise ValueError(f"test_size must be a float in (0, 1) or an int, got "
                         f"{test_size!r}.")
    rng = check_random_state(random_state)
    test = np.zeros(nnz, dtype=bool)
    test[rng.permutation(nnz)[:n_test]] = True
    return _split_by_mask(X, test)


def leave_k_out_split(X, k=1, *, timestamps=None, min_train=1, random_state=None):
    """Hold out ``k`` entries of every user: random ones, or the latest ones.

    Parameters
    ----------
    X : sparse matrix of shape (n_users, n_items)
    k : int, default=1
        Entries held out per user.
    timestamps : sparse matrix of X's shape, default=None
        Time of each entry, with exactly X's stored positions (as returned by
        :func:`sparse_estimators.datasets.load_movielens_100k`); the latest ``k``
        entries are held out (ties broken at random). ``None``: random entries.
        Duplicated positions are summed in ``X`` (scipy's convention) and take
        their latest time here.
    min_train : int, default=1
        Entries each user keeps in the train matrix: a user with fewer than
        ``k + min_train`` entries holds out only what exceeds ``min_train``.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X_train, X_test : scipy.sparse.csr_matrix of shape (n_users, n_items)

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from sparse_estimators.model_selection import leave_k_out_split
    >>> X = sp.random(30, 40, density=0.3, format="csr", random_state=0)
    >>> train, test = leave_k_out_split(X, k=2, random_state=0)
    >>> bool(np.all(np.diff(test.indptr) == 2))
    True
    """
    for name, v, lo in (("k", k, 1), ("min_train", min_train, 0)):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}.")
    X = _as_canonical_csr(X)
    rng = check_random_state(random_state)
    noise = rng.random_sample(X.nnz)
    if timestamps is None:
        key = noise
    else:
        if not sp.issparse(timestamps):
            raise TypeError("timestamps must be a sparse matrix with X's stored "
                            f"positions, got {type(timestamps).__name__}.")
        T = _latest_per_position(timestamps)
        if (T.shape != X.shape or T.nnz != X.nnz or not np.array_equal(T.indptr, X.indptr)
                or not np.array_equal(T.indices, X.indices)):
            raise ValueError("timestamps must have exactly the stored positions of X.")
        if not np.all(np.isfinite(T.data)):
            raise ValueError("timestamps contains NaN or infinity.")
        key = T.data.astype(np.float64)
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    # rank of each entry inside its row by descending key (noise breaks ties)
    order = np.lexsort((noise, -key, rows))
    rank = np.empty(X.nnz, dtype=np.int64)
    rank[order] = np.arange(X.nnz) - np.repeat(X.indptr[:-1], np.diff(X.indptr))
    n_out = np.clip(np.diff(X.indptr) - min_train, 0, k)
    test = rank < n_out[rows]
    return _split_by_mask(X, test)
