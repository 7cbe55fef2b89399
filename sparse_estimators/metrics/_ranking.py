"""Top-k ranking metrics with binary relevance.

For a user with relevant (held-out) item set ``T`` and ranked recommendations
``L`` (the first ``k`` count), with ``hit_j = [L_j in T]``:

* precision@k = ``sum_j hit_j / k``;
* recall@k = ``sum_j hit_j / |T|``;
* NDCG@k = ``sum_j hit_j / log2(j + 2)`` over its maximum
  ``sum_{j < min(k, |T|)} 1 / log2(j + 2)`` (Jarvelin & Kekalainen 2002);
* MAP@k: the mean of ``AP@k = sum_j hit_j precision@(j+1) / min(k, |T|)``.

Each metric is the mean over the users with at least one relevant item (the
others have no defined recall or NDCG).
"""

import numbers

import numpy as np
import scipy.sparse as sp

from ..utils._validation import check_sparse_structure

__all__ = ["precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k"]


def _hits(y_true, recommended, k):
    """``(hits, n_relevant, users)``: the (n_users_scored, k) 0/1 hit matrix, the
    number of relevant items of each scored user, and which users are scored."""
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    if not sp.issparse(y_true):
        raise TypeError("y_true must be a sparse user x item matrix of held-out "
                        f"interactions, got {type(y_true).__name__}.")
    check_sparse_structure(y_true, "y_true")
    y = sp.csr_matrix(y_true, copy=True)    # the caller's matrix is left alone
    y.sum_duplicates()
    if y.nnz and not np.all(np.isfinite(y.data)):
        raise ValueError("y_true contains NaN or infinity.")
    y.eliminate_zeros()
    rec = np.asarray(recommended)
    if rec.ndim != 2 or rec.shape[0] != y.shape[0]:
        raise ValueError(f"recommended must have shape (n_users, k) with n_users = "
                         f"{y.shape[0]} (one row of item indices per row of y_true), "
                         f"got shape {rec.shape}.")
    if not np.issubdtype(rec.dtype, np.integer):
        raise TypeError(f"recommended must hold integer item indices, got {rec.dtype}.")
    if rec.shape[1] < k:
        raise ValueError(f"recommended has {rec.shape[1]} columns, fewer than k={k}.")
    rec = rec[:, :k].astype(np.int64)
    n_items = y.shape[1]
    if rec.size and (rec.max() >= n_items or rec.min() < -1):
        raise ValueError(f"recommended must hold item indices in [0, {n_items}) or -1 "
                         f"for an empty slot; got values in [{rec.min()}, {rec.max()}].")
    n_rel = np.diff(y.indptr)
    users = np.flatnonzero(n_rel > 0)
    if users.size == 0:
        raise ValueError("y_true has no relevant (non-zero) entries: the metric is "
                         "undefined.")
    rows = np.repeat(np.arange(y.shape[0], dtype=np.int64), n_rel)
    keys = rows * n_items + y.indices         # sorted: canonical CSR
    sub = rec[users]
    rec_keys = users[:, None] * n_items + sub
    pos = np.searchsorted(keys, rec_keys)
    pos = np.minimum(pos, keys.size - 1)
    hits = (keys[pos] == rec_keys) & (sub >= 0)
    # a repeated recommendation counts once
    if k > 1:
        srt = np.sort(np.where(hits, sub, -1), axis=1)
        dup = (srt[:, 1:] == srt[:, :-1]) & (srt[:, 1:] >= 0)
        if dup.any():
            for r in np.flatnonzero(dup.any(axis=1)):
                _, first = np.unique(sub[r], return_index=True)
                keep = np.zeros(k, dtype=bool)
                keep[first] = True
                hits[r] &= keep
    return hits.astype(np.float64), n_rel[users].astype(np.float64), users


def _mean(values, average):
    return float(values.mean()) if average else values


def precision_at_k(y_true, recommended, k=10, *, average=True):
    """Share of the top-``k`` recommendations that are relevant.

    Parameters
    ----------
    y_true : sparse matrix of shape (n_users, n_items)
        Relevant (held-out) items of each user: the stored non-zero entries.
    recommended : array-like of int of shape (n_users, >= k)
        Recommended item indices per user, best first; -1 marks an empty slot.
    k : int, default=10
    average : bool, default=True
        Return the mean over the users with relevant items, else one value each
        (in the order of those users).

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from sparse_estimators.metrics import precision_at_k
    >>> y = sp.csr_matrix(np.array([[1, 0, 1, 0], [0, 1, 0, 0]]))
    >>> precision_at_k(y, np.array([[2, 1], [0, 3]]), k=2)
    0.25
    """
    hits, _, _ = _hits(y_true, recommended, k)
    return _mean(hits.sum(axis=1) / k, average)


def recall_at_k(y_true, recommended, k=10, *, average=True):
    """Share of each user's relevant items found in the top ``k``.

    Parameters are those of :func:`precision_at_k`.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from sparse_estimators.metrics import recall_at_k
    >>> y = sp.csr_matrix(np.array([[1, 0, 1, 0], [0, 1, 0, 0]]))
    >>> recall_at_k(y, np.array([[2, 1], [1, 3]]), k=2)
    0.75
    """
    hits, n_rel, _ = _hits(y_true, recommended, k)
    return _mean(hits.sum(axis=1) / n_rel, average)


def ndcg_at_k(y_true, recommended, k=10, *, average=True):
    """Normalised discounted cumulative gain of the top ``k`` (binary relevance).

    Parameters are those of :func:`precision_at_k`.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from sparse_estimators.metrics import ndcg_at_k
    >>> y = sp.csr_matrix(np.array([[1, 0, 0]]))
    >>> round(ndcg_at_k(y, np.array([[1, 0]]), k=2), 4)     # hit at rank 2: 1/log2(3)
    0.6309
    """
    hits, n_rel, _ = _hits(y_true, recommended, k)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hits @ discount
    ideal = np.cumsum(discount)[np.minimum(n_rel, k).astype(np.int64) - 1]
    return _mean(dcg / ideal, average)


def map_at_k(y_true, recommended, k=10, *, average=True):
    """Mean average precision of the top ``k``.

    Parameters are those of :func:`precision_at_k`.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from sparse_estimators.metrics import map_at_k
    >>> y = sp.csr_matrix(np.array([[1, 0, 1, 0]]))
    >>> map_at_k(y, np.array([[0, 3, 2]]), k=3)             # (1/1 + 2/3) / 2
    0.8333333333333333
    """
    hits, n_rel, _ = _hits(y_true, recommended, k)
    prec = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    ap = (prec * hits).sum(axis=1) / np.minimum(n_rel, k)
    return _mean(ap, average)
