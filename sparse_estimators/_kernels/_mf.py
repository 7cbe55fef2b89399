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

Coordinate ``f`` solves ``a w^2/2 - b w + s_u l1_f |w|`` with
``a = sum_obs (c - c0) y_f^2 + S_ff + s_u l2_f`` and
``b = sum_obs (c p - (c - c0) r_ui) y_f + a_data x_f - (S x)_f + S_ff x_f``, where
``r_ui`` is the current prediction and ``a_data`` the data part of ``a``.

Kernels work on the rows ``r0 .. r1`` and release the GIL, so the Python caller
can split rows over threads (:func:`sparse_estimators.utils._parallel.run_rows`).
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from ._prox import prox_enet

#: Entries ahead whose factor row the gather loops prefetch: the rows of the other
#: side are read in random order, from DRAM once they outgrow the caches (a million
#: users x 32 float32 factors). 8 to 16 ahead makes such a gather 2.5x faster.
PREFETCH_AHEAD = 12


@intrinsic
def _prefetch_row(typingctx, arr, i):
    """Hint the CPU to fetch row ``i`` of the C-contiguous 2-D ``arr`` into the
    cache (``llvm.prefetch``, read, high locality); no effect on results."""
    sig = types.void(arr, i)

    def codegen(context, builder, signature, args):
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        row = context.cast(builder, args[1], idxty, types.intp)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [row, zero])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0),
                          ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def mf_cd_rows(indptr, indices, ct, cm, X, Y, S, c0, free, l2, l1, positive,
               reg_scale, n_pass, tol, row_loss, r0, r1):
    """Coordinate-descent passes over ``X[u, free]`` for the rows ``u in r0 .. r1``.

    Parameters (arrays are read-only except ``X``)
    ----------
    indptr, indices : CSR structure of the observed entries (rows of ``X`` x rows of ``Y``).
    ct, cm : per observed entry, ``c_ui p_ui`` and ``c_ui - c0``; a ``cm`` of length
        1 is the same for every entry (explicit feedback: 1).
    X : (n_rows, K) factors updated in place; Y : (n_cols, K) fixed factors.
    S : (K, K) ``c0 Y^T Y`` (ignored when ``c0 == 0``).
    free : int array, the coordinates of ``X`` to update, in that order.
    l2, l1 : (K,) penalties per coordinate; positive : (K,) bool constraint.
    reg_scale : (n_rows,) multiplier of the penalties of each row.
    n_pass, tol : at most ``n_pass`` passes per row, stopping early once a pass
        moves no coordinate by more than ``tol`` times the largest ``|x_uf|``.
    row_loss : (n_rows,) float64 receiving, per row, ``sum_obs ((c - c0) r^2 - 2 c p r)``
        at the final ``X`` (``r`` the prediction): twice the observed part of the
        data fit up to the constant ``sum_obs c p^2``, so the caller gets the
        objective without another pass over the data, summed in the same order
        whatever the split over threads. Length 0: not computed (saves
        ``O(n_u K)`` per row).

    Notes
    -----
    Per row, the kernel keeps the weighted residuals ``e_j = c p - (c - c0) r`` of
    its entries, so coordinate ``f`` costs one dot product ``b = e . y_f`` and, if
    it moves by ``d``, one update ``e -= d (c - c0) y_f``; ``sum (c - c0) y_f^2`` is
    computed once per row.
    """
    K = X.shape[1]
    n_free = free.shape[0]
    max_nnz = 0
    for u in range(r0, r1):
        max_nnz = max(max_nnz, indptr[u + 1] - indptr[u])
    # gathered Y[i, :] of the row, feature-major with a row stride of n_u (not
    # max_nnz: a stride of a multiple of 4 kB makes every write miss the cache)
    # Work arrays and sums in the factors' dtype: float32 factors run float32
    # arithmetic (twice the SIMD width), as the caller asked by passing float32.
    dt = X.dtype
    max_pad = (max_nnz + 15) // 16 * 16
    Yt_buf = np.zeros(K * max_pad, dt)
    Yg = np.empty((max_nnz, K), dt)
    w_buf = np.zeros(max_pad, dt)
    e = np.zeros(max_pad, dt)
    a_data = np.empty(K, dt)
    b0 = np.empty(K, dt)
    sx = np.zeros(K, dt)             # S x_u, kept current as x_u changes
    zero = sx[:1].sum() * 0
    implicit = c0 != 0.0
    per_entry = 1 if cm.shape[0] > 1 else 0
    nnz_end = indptr[r1]
    want_loss = row_loss.shape[0] > 0
    for u in range(r0, r1):
        start = indptr[u]
        n_u = indptr[u + 1] - start
        # rows padded with zeros to a multiple of 16 entries: the loops over a row's
        # entries then run whole SIMD vectors, without a scalar remainder
        n_pad = (n_u + 15) // 16 * 16
        Yt = Yt_buf[:K * n_pad].reshape((K, n_pad))
        w = w_buf[:n_pad]
        ev = e[:n_pad]
        for j in range(n_u, n_pad):
            w[j] = zero
            ev[j] = zero
        # a row whose confidences all equal c0 (implicit feedback with c = 1) has a
        # constant e: b = sum_j c p y_jf needs no pass over its entries
        weighted = False
        for j in range(n_u):
            if cm[(start + j) * per_entry] != 0.0:
                weighted = True
                break
        for f in range(K):
            a_data[f] = zero
            b0[f] = zero
        if weighted:
            for j in range(n_u):
                if start + j + PREFETCH_AHEAD < nnz_end:
                    _prefetch_row(Y, indices[start + j + PREFETCH_AHEAD])
                i = indices[start + j]
                wj = cm[(start + j) * per_entry]
                w[j] = wj
                acc = zero
                for f in range(K):
                    y = Y[i, f]
                    Yg[j, f] = y
                    a_data[f] += wj * y * y
                    acc += X[u, f] * y
                e[j] = ct[start + j] - wj * acc
            for f in range(K):
                for j in range(n_u):
                    Yt[f, j] = Yg[j, f]
                for j in range(n_u, n_pad):
                    Yt[f, j] = zero
        else:
            for j in range(n_u):
                if start + j + PREFETCH_AHEAD < nnz_end:
                    _prefetch_row(Y, indices[start + j + PREFETCH_AHEAD])
                i = indices[start + j]
                cj = ct[start + j]
                for f in range(K):
                    b0[f] += cj * Y[i, f]
        if implicit:
            for f in range(K):
                acc = zero
                for g in range(K):
                    acc += S[f, g] * X[u, g]
                sx[f] = acc
        scale = reg_scale[u]
        for _ in range(n_pass):
            max_delta = 0.0
            max_x = 0.0
            # b_next = e . y_f of the next coordinate, computed in the same loop as
            # the update of e by the current one (one pass over e per coordinate)
            b_next = zero
            if weighted and n_free > 0:
                f0 = free[0]
                for j in range(n_pad):
                    b_next += ev[j] * Yt[f0, j]
            for q in range(n_free):
                f = free[q]
                xf = X[u, f]
                b = b_next if weighted else b0[f]
                has_next = q + 1 < n_free
                fn = free[q + 1] if has_next else f
                a = a_data[f] + scale * l2[f]
                b += a_data[f] * xf
                if implicit:
                    a += S[f, f]
                    b -= sx[f] - S[f, f] * xf
                new = xf
                if a > 0.0:
                    new = prox_enet(b, scale * l1[f], a, positive[f])
                d = new - xf
                max_x = max(max_x, abs(new))
                if d != 0.0:
                    X[u, f] = new
                    if implicit:
                        for g in range(K):
                            sx[g] += d * S[f, g]     # S is symmetric: row f
                    max_delta = max(max_delta, abs(d))
                if weighted:
                    if d != 0.0:
                        bn = zero
                        for j in range(n_pad):
                            ej = ev[j] - d * w[j] * Yt[f, j]
                            ev[j] = ej
                            bn += ej * Yt[fn, j]
                        b_next = bn
                    elif has_next:
                        bn = zero
                        for j in range(n_pad):
                            bn += ev[j] * Yt[fn, j]
                        b_next = bn
            if max_delta <= tol * max_x:
                break
        if want_loss:
            loss = 0.0
            for j in range(n_u):
                if start + j + PREFETCH_AHEAD < nnz_end:
                    _prefetch_row(Y, indices[start + j + PREFETCH_AHEAD])
                i = indices[start + j]
                r = 0.0
                for f in range(K):
                    r += X[u, f] * Y[i, f]
                loss += cm[(start + j) * per_entry] * r * r - 2.0 * ct[start + j] * r
            row_loss[u] = loss
    return 0


@njit(cache=True, nogil=True)
def mf_predict_entries(indptr, indices, X, Y, item_offset, out, r0, r1):
    """``out[k] = X[u] . Y[i] + item_offset[i]`` (``i = indices[k]``) for the stored
    entries of rows ``r0 .. r1``."""
    K = X.shape[1]
    nnz_end = indptr[r1]
    for u in range(r0, r1):
        for k in range(indptr[u], indptr[u + 1]):
            if k + PREFETCH_AHEAD < nnz_end:
                _prefetch_row(Y, indices[k + PREFETCH_AHEAD])
            i = indices[k]
            acc = item_offset[i]
            for f in range(K):
                acc += X[u, f] * Y[i, f]
            out[k] = acc
    return 0


@njit(inline="always")
def _below(vals, idx, a, b):
    """Whether heap slot ``a`` ranks below slot ``b``: a lower score, or the same
    score and a larger index (the smaller index wins ties)."""
    return vals[a] < vals[b] or (vals[a] == vals[b] and idx[a] > idx[b])


@njit(inline="always")
def _sift_down(vals, idx, pos, size):
    """Restore the min-heap ``vals[:size]`` (with payload ``idx``) below ``pos``."""
    while True:
        child = 2 * pos + 1
        if child >= size:
            return
        if child + 1 < size and _below(vals, idx, child + 1, child):
            child += 1
        if _below(vals, idx, child, pos):
            vals[pos], vals[child] = vals[child], vals[pos]
            idx[pos], idx[child] = idx[child], idx[pos]
            pos = child
        else:
            return


@njit(cache=True, nogil=True)
def mf_topk_rows(X, Y, excl_indptr, excl_indices, item_offset, n_top, out_idx, out_val,
                 r0, r1):
    """Top ``n_top`` columns of ``X[r] . Y[i] + item_offset[i]`` for ``r in r0 .. r1``,
    skipping ``excl_indices[excl_indptr[r]:excl_indptr[r + 1]]``.

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
        for k in range(excl_indptr[r], excl_indptr[r + 1]):
            banned[excl_indices[k]] = True
        size = 0
        for i in range(n_cols):
            if banned[i]:
                continue
            acc = item_offset[i]
            for f in range(K):
                acc += X[r, f] * Y[i, f]
            if size < n_top:
                # sift up
                pos = size
                heap_val[pos] = acc
                heap_idx[pos] = i
                size += 1
                while pos > 0:
                    parent = (pos - 1) // 2
                    if _below(heap_val, heap_idx, pos, parent):
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


@njit(cache=True, nogil=True)
def csr_transpose(indptr, indices, n_cols, a, b, t_indptr, t_indices, t_a, t_b):
    """The transpose of a CSR structure with two per-entry arrays, by a counting
    sort in O(nnz + n_cols).

    Fills ``t_indptr`` (n_cols + 1), ``t_indices`` (the row of each entry of the
    transpose, increasing within a column) and ``t_a`` / ``t_b`` (``a`` / ``b``
    permuted to the transpose's order; a ``b`` of length 1 is not per-entry and
    ``t_b`` is left alone).
    """
    n_rows = indptr.shape[0] - 1
    per_entry_b = b.shape[0] > 1
    t_indptr[:] = 0
    for k in range(indptr[n_rows]):
        t_indptr[indices[k] + 1] += 1
    for c in range(n_cols):
        t_indptr[c + 1] += t_indptr[c]
    nxt = t_indptr[:n_cols].copy()
    for u in range(n_rows):
        for k in range(indptr[u], indptr[u + 1]):
            c = indices[k]
            pos = nxt[c]
            nxt[c] = pos + 1
            t_indices[pos] = u
            t_a[pos] = a[k]
            if per_entry_b:
                t_b[pos] = b[k]
    return 0


@njit(cache=True, nogil=True)
def mf_penalty(F, free, l2, l1, reg_scale):
    """``sum_u reg_scale[u] sum_{f in free} (l2_f / 2 F_uf^2 + l1_f |F_uf|)`` in float64."""
    total = 0.0
    for u in range(F.shape[0]):
        row = 0.0
        for q in range(free.shape[0]):
            f = free[q]
            x = float(F[u, f])
            row += 0.5 * l2[f] * x * x + l1[f] * abs(x)
        total += reg_scale[u] * row
    return total
