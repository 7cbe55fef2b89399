"""Alternating coordinate descent for weighted matrix factorisation.

Owns the outer loop: half sweeps over the users then the items (each one pass of
:func:`sparse_estimators._kernels._mf.mf_cd_rows` per row), the Gram matrix of the
fixed side for implicit feedback, the objective (assembled from what the kernels
return, without another pass over the data) and the stopping rule.
"""

from dataclasses import dataclass

import numpy as np

from .._kernels._mf import (
    csr_transpose,
    mf_cd_rows,
    mf_penalty,
    mf_predict_entries,
    mf_topk_rows,
)
from ..utils._parallel import run_rows, single_threaded_blas


@dataclass
class Side:
    """The observed entries seen from one side (a CSR matrix with that side as rows)
    and how that side's factor columns are penalised."""

    indptr: np.ndarray
    indices: np.ndarray
    ct: np.ndarray        # c_ui p_ui per stored entry (confidence times target)
    cm: np.ndarray        # c_ui - c0 per stored entry
    free: np.ndarray      # factor columns this side updates
    l2: np.ndarray        # (K,) L2 penalty per column (0 on fixed columns)
    l1: np.ndarray        # (K,) L1 penalty per column
    positive: np.ndarray  # (K,) bool
    reg_scale: np.ndarray  # (n_rows,) penalty multiplier per row

    @property
    def n_rows(self):
        return self.indptr.shape[0] - 1


def transpose_side(indptr, indices, n_cols, ct, cm):
    """CSR structure of the transpose with ``ct`` and ``cm`` permuted to follow it
    (``cm`` of length 1 is shared, not permuted); a counting sort in
    O(nnz + n_cols), whose row indices come out sorted within each column."""
    nnz = indices.shape[0]
    t_indptr = np.empty(n_cols + 1, dtype=indptr.dtype)
    t_indices = np.empty(nnz, dtype=indices.dtype)
    t_ct = np.empty_like(ct)
    t_cm = np.empty_like(cm) if cm.shape[0] > 1 else cm
    csr_transpose(indptr, indices, n_cols, ct, cm, t_indptr, t_indices, t_ct, t_cm)
    return t_indptr, t_indices, t_ct, t_cm


def penalty(F, side):
    """The penalty of the factors ``F`` of one side."""
    return float(mf_penalty(F, side.free, side.l2, side.l1, side.reg_scale))


def gram(F):
    """``F^T F``. The callers run BLAS on one thread around it (see
    ``single_threaded_blas``): the kernels that follow use the cores."""
    return F.T @ F


def half_sweep(side, X, Y, c0, n_pass=1, tol=0.0, gram_Y=None, want_loss=False):
    """Update ``X`` (the factors of ``side``'s rows) with ``Y`` fixed; returns (with
    ``want_loss``) the observed part of twice the data fit up to a constant (see
    ``mf_cd_rows``). ``gram_Y`` is ``Y^T Y`` when the caller has it (implicit
    feedback only)."""
    if c0:
        if gram_Y is None:
            with single_threaded_blas():
                gram_Y = gram(Y)
        S = c0 * gram_Y
    else:
        S = np.zeros((1, 1), dtype=X.dtype)
    n = side.n_rows
    row_loss = np.zeros(n if want_loss else 0)
    args = (side.indptr, side.indices, side.ct, side.cm, X, Y, S, float(c0),
            side.free, side.l2, side.l1, side.positive, side.reg_scale, int(n_pass),
            float(tol), row_loss)
    K = X.shape[1]
    work = (side.indices.shape[0] + n * K) * K * n_pass
    # a row costs O(n_u K) for its entries plus O(K^2) on its own (measured: a row
    # weighs about K / 3 entries)
    row_cost = K // 3 + 1
    run_rows(mf_cd_rows, args, n, work, indptr=side.indptr, row_cost=row_cost)
    return float(row_loss.sum())


def alternating_cd(users, items, X, Y, c0, const, max_iter, tol, callback=None):
    """Alternate half sweeps until the objective's relative decrease over a sweep
    is at most ``tol``. ``X``, ``Y`` are updated in place; ``const`` is
    ``sum_obs c p^2``.

    The objective comes from the item half sweep's return value (the observed
    part), ``c0 tr(X^T X Y^T Y)`` (implicit feedback: the Gram matrices the next
    half sweeps need anyway) and the penalties: no extra pass over the data.

    Returns ``(objectives, n_iter)``: the objective after each sweep.
    """
    with single_threaded_blas():
        return _alternate(users, items, X, Y, c0, const, max_iter, tol, callback)


def _alternate(users, items, X, Y, c0, const, max_iter, tol, callback):
    objectives = []
    gram_Y = gram(Y) if c0 else None
    for it in range(max_iter):
        half_sweep(users, X, Y, c0, gram_Y=gram_Y)
        gram_X = gram(X) if c0 else None
        loss = half_sweep(items, Y, X, c0, gram_Y=gram_X, want_loss=True)
        obj = 0.5 * (loss + const)
        if c0:
            gram_Y = gram(Y)
            obj += 0.5 * c0 * float(np.sum(gram_X * gram_Y))
        objectives.append(obj + penalty(X, users) + penalty(Y, items))
        if callback is not None:
            callback(it, objectives[-1])
        if len(objectives) > 1:
            prev, cur = objectives[-2], objectives[-1]
            if prev - cur <= tol * abs(cur):
                return objectives, it + 1
    return objectives, max_iter


def predict_entries(indptr, indices, X, Y, item_offset):
    """``X[u] . Y[i] + item_offset[i]`` at the stored entries ``(u, i)`` of a CSR
    structure."""
    out = np.empty(indices.shape[0], dtype=np.result_type(X.dtype, Y.dtype))
    n = indptr.shape[0] - 1
    run_rows(mf_predict_entries, (indptr, indices, X, Y, item_offset, out), n,
             indices.shape[0] * X.shape[1], indptr=indptr)
    return out


def top_k(X, Y, excl_indptr, excl_indices, n_top, item_offset):
    """Best ``n_top`` columns of ``X Y^T + item_offset`` for each row of ``X``,
    excluding the columns listed per row; returns ``(indices, scores)`` of shape
    ``(len(X), n_top)``, padded with -1 / -inf."""
    m = X.shape[0]
    out_idx = np.empty((m, n_top), dtype=np.int64)
    out_val = np.empty((m, n_top), dtype=np.float64)
    args = (X, Y, excl_indptr, excl_indices, item_offset, int(n_top), out_idx, out_val)
    run_rows(mf_topk_rows, args, m, m * Y.shape[0] * X.shape[1])
    return out_idx, out_val
