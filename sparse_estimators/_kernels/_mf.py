"""Matrix-factorisation kernels: one coordinate-descent pass over the factors of a
range of rows, with the factors of the other side fixed.

The model is ``R ~ X Y^T`` where ``X`` (rows, K) and ``Y`` (columns, K) are the
factor matrices of the two sides; biases are folded in as factor columns, a bias
column on one side facing a column of ones on the other, so one kernel serves
factors and biases alike. For row ``u`` with observed entries ``(i, c_ui, p_ui)``
(confidence, target), the kernel decreases

    1/2 sum_obs c_ui (p_ui - x_u.y_i)^2 + c0/2 sum_unobs (x_u.y_i)^2
        + s_u sum_f (l2_f/2 x_uf^2 + l1_f |x_uf|),   x_uf >= 0 where required,

by cyclic exact minimisation over the free coordinates ``f``:

* explicit feedback (``c0 = 0``): the unobserved entries do not count; this is
  ALS solved by coordinate descent, the per-row counterpart of the CCD++ rank-one
  updates of Yu, Hsieh, Si & Dhillon (2012);
* implicit feedback (``c0 > 0``, Hu, Koren & Volinsky 2008): the sum over the
  unobserved entries is never formed. With ``S = c0 Y^T Y`` (K x K, computed once
  per half sweep) it equals ``x_u^T S x_u / 2`` minus the observed part, which is
  the element-wise ALS of He, Zhang, Kan & Chua (2016): ``O(n_u K + K^2)`` per row
  and pass instead of ``O(n_u K^2 + K^3)`` for an exact ALS solve.

Coordinate ``f`` solves ``a w^2/2 - b w + l1 |w|`` with
``a = sum_obs (c - c0) y_f^2 + S_ff + s_u l2_f`` and
``b = sum_obs (c p - (c - c0) r_ui) y_f + a_data x_f - (S x)_f + S_ff x_f``, where
``r_ui`` is the current prediction and ``a_data`` the data part of ``a``.

Kernels work on the rows ``r0 .. r1`` and release the GIL, so the Python caller
can split rows over threads (:func:`sparse_estimators.utils._parallel.run_rows`).
"""

import numpy as np
from numba import njit

from ._prox import prox_enet


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def mf_cd_rows(indptr, indices, ct, cm, X, Y, S, c0, free, l2, l1, positive,
               reg_scale, n_pass, tol, r0, r1):
    """Coordinate-descent passes over ``X[u, free]`` for the rows ``u in r0 .. r1``.

    Parameters (arrays are read-only except ``X``)
    ----------
    indptr, indices : CSR structure of the observed entries (rows of ``X`` x rows of ``Y``).
    ct, cm : per observed entry, ``c_ui p_ui`` and ``c_ui - c0``.
    X : (n_rows, K) factors updated in place; Y : (n_cols, K) fixed factors.
    S : (K, K) ``c0 Y^T Y`` (ignored when ``c0 == 0``).
    free : int array, the coordinates of ``X`` to update, in that order.
    l2, l1 : (K,) penalties per coordinate; positive : (K,) bool constraint.
    reg_scale : (n_rows,) multiplier of the penalties of each row.
    n_pass, tol : at most ``n_pass`` passes per row, stopping early once a pass
        moves no coordinate by more than ``tol`` times the largest ``|x_uf|``.

    Returns
    -------
    loss : float
        ``sum_obs ((c - c0) r^2 - 2 c p r)`` at the final ``X`` over these rows, with
        ``r`` the prediction: twice the observed part of the data fit up to the
        constant ``sum_obs c p^2``, so the caller gets the objective without
        another pass over the data.
    """
    K = X.shape[1]
    n_free = free.shape[0]
    max_nnz = 0
    for u in range(r0, r1):
        max_nnz = max(max_nnz, indptr[u + 1] - indptr[u])
    Yt = np.empty((K, max_nnz))      # gathered Y[i, :] of the row, feature-major
    pred = np.empty(max_nnz)
    sx = np.zeros(K)                 # S x_u, kept current as x_u changes
    implicit = c0 != 0.0
    loss = 0.0
    for u in range(r0, r1):
        start = indptr[u]
        n_u = indptr[u + 1] - start
        for j in range(n_u):
            i = indices[start + j]
            acc = 0.0
            for f in range(K):
                y = Y[i, f]
                Yt[f, j] = y
                acc += X[u, f] * y
            pred[j] = acc
        if implicit:
            for f in range(K):
                acc = 0.0
                for g in range(K):
                    acc += S[f, g] * X[u, g]
                sx[f] = acc
        scale = reg_scale[u]
        for _ in range(n_pass):
            max_delta = 0.0
            max_x = 0.0
            for q in range(n_free):
                f = free[q]
                xf = X[u, f]
                a_data = 0.0
                b = 0.0
                for j in range(n_u):
                    y = Yt[f, j]
                    cy = cm[start + j] * y
                    a_data += cy * y
                    b += ct[start + j] * y - cy * pred[j]
                a = a_data + scale * l2[f]
                b += a_data * xf
                if implicit:
                    a += S[f, f]
                    b -= sx[f] - S[f, f] * xf
                if a <= 0.0:
                    continue
                new = prox_enet(b, scale * l1[f], a, positive[f])
                d = new - xf
                if d != 0.0:
                    X[u, f] = new
                    for j in range(n_u):
                        pred[j] += d * Yt[f, j]
                    if implicit:
                        for g in range(K):
                            sx[g] += d * S[f, g]     # S is symmetric: row f
                    max_delta = max(max_delta, abs(d))
                max_x = max(max_x, abs(new))
            if max_delta <= tol * max_x:
                break
        for j in range(n_u):
            r = pred[j]
            loss += cm[start + j] * r * r - 2.0 * ct[start + j] * r
    return loss


@njit(cache=True, nogil=True)
def mf_predict_entries(indptr, indices, X, Y, offset, out, r0, r1):
    """``out[k] = offset + X[u] . Y[indices[k]]`` for the stored entries of rows ``r0 .. r1``."""
    K = X.shape[1]
    for u in range(r0, r1):
        for k in range(indptr[u], indptr[u + 1]):
            i = indices[k]
            acc = offset
            for f in range(K):
                acc += X[u, f] * Y[i, f]
            out[k] = acc
    return 0


@njit(inline="always")
def _sift_down(vals, idx, pos, size):
    """Restore the min-heap ``vals[:size]`` (with payload ``idx``) below ``pos``."""
    while True:
        child = 2 * pos + 1
        if child >= size:
            return
        if child + 1 < size and (vals[child + 1] < vals[child] or (
                vals[child + 1] == vals[child] and idx[child + 1] > idx[child])):
            child += 1
        if vals[child] < vals[pos] or (vals[child] == vals[pos] and idx[child] > idx[pos]):
            vals[pos], vals[child] = vals[child], vals[pos]
            idx[pos], idx[child] = idx[child], idx[pos]
            pos = child
        else:
            return


@njit(cache=True, nogil=True)
def mf_topk_rows(X, Y, rows, excl_indptr, excl_indices, offset, item_offset, n_top,
                 out_idx, out_val, r0, r1):
    """Top ``n_top`` columns of ``offset + X[rows[r]] . Y[i] + item_offset[i]`` for
    ``r in r0 .. r1``, skipping ``excl_indices[excl_indptr[r]:excl_indptr[r + 1]]``.

    Writes column indices (best first; ties to the smaller index) and scores into
    row ``r`` of ``out_idx`` / ``out_val``; slots beyond the number of eligible
    columns get index -1 and score -inf. Memory is ``O(n_top)`` per call: the
    scores of a row are never stored.
    """
    K = X.shape[1]
    n_cols = Y.shape[0]
    banned = np.zeros(n_cols, dtype=np.bool_)
    heap_val = np.empty(n_top)
    heap_idx = np.empty(n_top, dtype=np.int64)
    for r in range(r0, r1):
        u = rows[r]
        for k in range(excl_indptr[r], excl_indptr[r + 1]):
            banned[excl_indices[k]] = True
        size = 0
        for i in range(n_cols):
            if banned[i]:
                continue
            acc = offset + item_offset[i]
            for f in range(K):
                acc += X[u, f] * Y[i, f]
            if size < n_top:
                # sift up
                pos = size
                heap_val[pos] = acc
                heap_idx[pos] = i
                size += 1
                while pos > 0:
                    parent = (pos - 1) // 2
                    if heap_val[pos] < heap_val[parent] or (
                            heap_val[pos] == heap_val[parent]
                            and heap_idx[pos] > heap_idx[parent]):
                        heap_val[pos], heap_val[parent] = heap_val[parent], heap_val[pos]
                        heap_idx[pos], heap_idx[parent] = heap_idx[parent], heap_idx[pos]
                        pos = parent
                    else:
                        break
            elif acc > heap_val[0]:
                heap_val[0] = acc
                heap_idx[0] = i
                _sift_down(heap_val, heap_idx, 0, size)
        for k in range(excl_indptr[r], excl_indptr[r + 1]):
            banned[excl_indices[k]] = False
        # pop the heap: the smallest comes out first, so fill from the back
        for q in range(n_top - 1, -1, -1):
            if q >= size:
                out_idx[r, q] = -1
                out_val[r, q] = -np.inf
                continue
            out_idx[r, q] = heap_idx[0]
            out_val[r, q] = heap_val[0]
            size -= 1
            heap_val[0] = heap_val[size]
            heap_idx[0] = heap_idx[size]
            _sift_down(heap_val, heap_idx, 0, size)
    return 0
