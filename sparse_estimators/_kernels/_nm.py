"""Kernels of the compressed N:M structured-sparse format (``NMSparse``).

The format (``doc/nm_format.md``): a logical ``(rows, cols)`` matrix is cut, along
each row, into ``n_groups = ceil(cols / m)`` groups of ``m`` consecutive columns
(zero-padded to ``n_groups * m``). Each group keeps exactly ``n`` slots, so a row
holds ``n_slots = n_groups * n`` of them:

* ``values[r, s]``: the value of slot ``s`` of row ``r``;
* ``indices[r, s]`` (uint8): its position ``0 .. m-1`` inside group ``s // n``,
  strictly increasing within a group. The slot's column is
  ``(s // n) * m + indices[r, s]``.

A group with fewer than ``n`` non-zeros stores explicit zeros; in a partial last group
a slot may point into the padding (column ``>= cols``): the kernels skip those.

The products take ``offs``, the per-slot group offset ``(s // n) * m`` (one small
int32 array shared by all rows, computed by the caller), so the column of a slot is
one addition instead of a division, and ``n_full``, the number of slots in complete
groups (``(cols // m) * n``): only the slots after it can point into the padding, so
only they are tested. All kernels take arrays and scalars only and write into
caller-allocated (and, for the products, zeroed) outputs.

Slots whose value is an explicit zero are multiplied like any other stored entry (as
scipy.sparse does with explicit zeros): a test per slot would cost more than the
multiplication.
"""

import numpy as np
from numba import njit


# ------------------------------------------------------------------ conversion
@njit(cache=True, nogil=True)
def nm_select(scores, n, m, keep):
    """``keep[r, j] = True`` for the ``n`` highest ``scores`` of every group of ``m``
    consecutive columns of each row (the last group may be shorter and keeps
    ``min(n, its length)``); equal scores keep the lower column. ``keep`` must be
    all False on entry. O(n m) per group: a repeated arg-max, cheaper than a sort
    for the small ``n`` of structured sparsity (2:4, 1:8 ...).
    """
    rows, cols = scores.shape
    for r in range(rows):
        for start in range(0, cols, m):
            stop = min(start + m, cols)
            for _ in range(min(n, stop - start)):
                best = -1
                for j in range(start, stop):
                    if not keep[r, j] and (best < 0 or scores[r, j] > scores[r, best]):
                        best = j
                keep[r, best] = True
    return keep


@njit(cache=True, nogil=True)
def nm_compress(W, keep, n, m, values, indices):
    """Fill ``values`` / ``indices`` (``(rows, n_groups * n)``) from the dense ``W``.

    ``keep`` (bool, ``W``'s shape) marks the entries to store. Each group stores its
    kept entries and, if it has fewer than ``n``, explicit zeros at its smallest
    positions that are not kept (possibly in the padding of a partial last group),
    all in increasing position order. Returns ``-1``, or the flat index
    ``r * n_groups + g`` of the first group with more than ``n`` kept entries (the
    outputs are then incomplete).
    """
    rows, cols = W.shape
    n_groups = values.shape[1] // n
    for r in range(rows):
        for g in range(n_groups):
            base = g * m
            stop = min(base + m, cols)
            count = 0
            for c in range(base, stop):
                if keep[r, c]:
                    count += 1
            if count > n:
                return r * n_groups + g
            fill = n - count        # explicit zeros at the first unkept positions
            s = g * n
            for j in range(m):
                c = base + j
                if c < stop and keep[r, c]:
                    values[r, s] = W[r, c]
                    indices[r, s] = j
                    s += 1
                elif fill > 0:
                    values[r, s] = 0
                    indices[r, s] = j
                    s += 1
                    fill -= 1
    return -1


@njit(cache=True, nogil=True)
def nm_decompress(values, indices, n, m, out):
    """Scatter the stored slots into the zeroed dense ``out`` (``(rows, cols)``);
    slots pointing into the padding (column ``>= cols``) are dropped."""
    rows, n_slots = values.shape
    cols = out.shape[1]
    for r in range(rows):
        for s in range(n_slots):
            c = (s // n) * m + np.intp(indices[r, s])
            if c < cols:
                out[r, c] = values[r, s]


@njit(cache=True, nogil=True)
def nm_check(values, indices, n, m, cols):
    """Validate stored arrays; ``indices`` must already be known to lie in
    ``0 .. m-1``. Returns ``(code, r, s)`` for the first bad slot, ``code``: 0 all
    valid, 1 position not strictly larger than the previous slot's in the same
    group, 2 value not finite, 3 non-zero value in the padding (column ``>= cols``).
    """
    rows, n_slots = values.shape
    for r in range(rows):
        for s in range(n_slots):
            v = values[r, s]
            if not (v - v == 0):
                return 2, r, s
            j = np.intp(indices[r, s])
            if s % n != 0 and j <= np.intp(indices[r, s - 1]):
                return 1, r, s
            if v != 0 and (s // n) * m + j >= cols:
                return 3, r, s
    return 0, 0, 0


@njit(cache=True, nogil=True)
def nm_pack(indices, bits, out):
    """Bit-pack ``indices`` (``(rows, n_slots)``, each ``< 2**bits``, ``bits <= 8``)
    into ``out`` (uint8, ``(rows, ceil(n_slots * bits / 8))``): slot order, least
    significant bits first, each row starting on a fresh byte (its last byte is
    zero-padded)."""
    rows, n_slots = indices.shape
    mask = (1 << bits) - 1
    for r in range(rows):
        acc = 0      # pending bits, the oldest in the low end
        nb = 0       # how many
        o = 0
        for s in range(n_slots):
            acc |= (np.int64(indices[r, s]) & mask) << nb
            nb += bits
            if nb >= 8:
                out[r, o] = acc & 0xFF
                o += 1
                acc >>= 8
                nb -= 8
        if nb > 0:
            out[r, o] = acc & 0xFF


@njit(cache=True, nogil=True)
def nm_unpack(packed, bits, out):
    """Inverse of :func:`nm_pack`: ``out`` (uint8, ``(rows, n_slots)``) from the
    packed bytes."""
    rows, n_slots = out.shape
    mask = (1 << bits) - 1
    for r in range(rows):
        acc = 0
        nb = 0
        i = 0
        for s in range(n_slots):
            if nb < bits:
                acc |= np.int64(packed[r, i]) << nb
                i += 1
                nb += 8
            out[r, s] = acc & mask
            acc >>= bits
            nb -= bits


# ------------------------------------------------------------------ products
# The products compute the output rows ``r0 .. r1-1``; the caller runs row ranges on
# several threads (the kernels release the GIL). Compared with ``parallel=True`` and
# ``prange`` (same speed on 2 cores), this compiles in ~0.5 s per kernel and dtype
# signature instead of ~1.2 s, and keeps OpenMP's thread pool out of the process.
#
# Measured on a 2-core AMD EPYC (Zen 5, AVX-512), 4096 x 4096 at 2:4:
# * matvec: a gather per slot. The column as int32 (``offs`` int32, index widened to
#   int32) lets LLVM use 32-bit-index gathers: 1.6 ms instead of 2.7 (float32) with
#   int64 arithmetic; iterating groups then slots (a runtime-length inner loop of
#   ``n``) was 2x slower than the flat slot loop with ``offs``. For 2:4, selecting
#   from the group's four contiguous entries beats the gathers (through ``offs``, or
#   at a computed ``4 * g + position``) at every size from 1024 to 8192, in float32
#   (1.2 vs 2.8 ms single-threaded at 4096) and float64 (5.2 vs 7.3 ms).
# * matmat: ``out[r, :] += v * X[c, :]`` over contiguous rows of X (the inner loop
#   vectorises). Eight slots per pass over ``out[r]`` (9 loads + 1 store per 8 FMAs
#   instead of 2 + 1 per FMA) made it 1.5-2x faster than one slot per pass; four
#   slots were 10-15% slower than eight, sixteen slower again (register pressure).
#   Tiling k (32..128 columns) was slower: the per-slot overhead is then paid k/kb
#   times. Blocking the slots instead (the rows of X a block reaches kept near
#   512 KB, swept over chunks of 128 rows) took 15-40% off once X outgrows L2
#   (4096 and 8192 columns, k = 256).
@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def nm_matvec(values, indices, offs, is_24, n_full, x, out, r0, r1):
    """``out[r] = sum_s values[r, s] * x[col(r, s)]`` for ``r0 <= r < r1``: ``W @ x``
    (``out`` zeroed).

    Reassociated sums (vectorised, like a BLAS dot). Slots from ``n_full`` on belong
    to the partial last group and are skipped when their column is ``>= len(x)``.

    With ``is_24`` (the 2:4 pattern only) there are no gathers: each group loads its
    four entries of ``x`` (contiguous) and picks the two it needs with selects on the
    positions, which LLVM vectorises across groups (with de-interleaving shuffles).
    It relies on valid positions (the second one of a group is ``>= 1``). Otherwise
    the loop gathers ``x[offs[s] + indices[r, s]]``.
    """
    n_slots = values.shape[1]
    cols = x.shape[0]
    for r in range(r0, r1):
        vr = values[r]
        ir = indices[r]
        acc = out[r]
        if is_24:
            for g in range(n_full // 2):
                b = 4 * g
                x0 = x[b]
                x1 = x[b + 1]
                x2 = x[b + 2]
                x3 = x[b + 3]
                i0 = ir[2 * g]
                i1 = ir[2 * g + 1]
                a0 = x0 if i0 == 0 else (x1 if i0 == 1 else (x2 if i0 == 2 else x3))
                a1 = x1 if i1 == 1 else (x2 if i1 == 2 else x3)
                acc += vr[2 * g] * a0 + vr[2 * g + 1] * a1
        else:
            for s in range(n_full):
                acc += vr[s] * x[np.uint64(np.int32(offs[s]) + np.int32(ir[s]))]
        for s in range(n_full, n_slots):
            c = np.intp(offs[s]) + np.intp(ir[s])
            if c < cols:
                acc += vr[s] * x[c]
        out[r] = acc


@njit(cache=True, nogil=True, fastmath={"contract"})
def nm_matmat(values, indices, offs, n_full, X, out, row_block, slot_block, r0, r1):
    """``out[r, :] += sum_s values[r, s] * X[col(r, s), :]`` for ``r0 <= r < r1``:
    ``W @ X`` for a C-contiguous ``X`` of shape ``(cols, k)`` into the zeroed ``out``
    ``(rows, k)``.

    Blocked for the cache: the rows go in chunks of ``row_block``; within a chunk the
    slots are swept in blocks of ``slot_block`` (the rows of ``X`` that a block
    reaches, ``slot_block * m / n`` of them, should fit in L2), each block over all
    the chunk's rows, so a row of ``X`` is read from L2 rather than L3 or memory.
    """
    n_slots = values.shape[1]
    cols, k = X.shape
    for c0 in range(r0, r1, row_block):
        c1 = min(c0 + row_block, r1)
        for s0 in range(0, n_slots, slot_block):
            s1 = min(s0 + slot_block, n_slots)
            e8 = s0 + max(min(s1, n_full) - s0, 0) // 8 * 8   # unrolled part
            for r in range(c0, c1):
                vr = values[r]
                ir = indices[r]
                o = out[r]
                for s in range(s0, e8, 8):
                    v0 = vr[s]
                    v1 = vr[s + 1]
                    v2 = vr[s + 2]
                    v3 = vr[s + 3]
                    v4 = vr[s + 4]
                    v5 = vr[s + 5]
                    v6 = vr[s + 6]
                    v7 = vr[s + 7]
                    x0 = X[np.uint64(np.intp(offs[s]) + np.intp(ir[s]))]
                    x1 = X[np.uint64(np.intp(offs[s + 1]) + np.intp(ir[s + 1]))]
                    x2 = X[np.uint64(np.intp(offs[s + 2]) + np.intp(ir[s + 2]))]
                    x3 = X[np.uint64(np.intp(offs[s + 3]) + np.intp(ir[s + 3]))]
                    x4 = X[np.uint64(np.intp(offs[s + 4]) + np.intp(ir[s + 4]))]
                    x5 = X[np.uint64(np.intp(offs[s + 5]) + np.intp(ir[s + 5]))]
                    x6 = X[np.uint64(np.intp(offs[s + 6]) + np.intp(ir[s + 6]))]
                    x7 = X[np.uint64(np.intp(offs[s + 7]) + np.intp(ir[s + 7]))]
                    for j in range(np.uint64(k)):
                        o[j] += (v0 * x0[j] + v1 * x1[j] + v2 * x2[j] + v3 * x3[j]
                                 + v4 * x4[j] + v5 * x5[j] + v6 * x6[j] + v7 * x7[j])
                for s in range(e8, s1):
                    c = np.intp(offs[s]) + np.intp(ir[s])
                    if c < cols:
                        v = vr[s]
                        xr = X[np.uint64(c)]
                        for j in range(np.uint64(k)):
                            o[j] += v * xr[j]


@njit(cache=True, nogil=True, fastmath={"contract"})
def nm_matmat_csr(values, indices, offs, cols, data, xind, xptr, out, r0, r1):
    """``W @ X`` for a CSR ``X`` of shape ``(cols, k)`` given as ``(data, xind,
    xptr)`` into the zeroed dense ``out`` ``(rows, k)``, rows ``r0 .. r1-1``: each
    slot scatters ``v * X[col, :]`` into ``out[r]``. Duplicate or unsorted entries
    of ``X`` are summed, so ``X`` need not be canonical. Slots whose column is
    ``>= cols`` (the padding) are skipped."""
    n_slots = values.shape[1]
    for r in range(r0, r1):
        vr = values[r]
        ir = indices[r]
        o = out[r]
        for s in range(n_slots):
            c = np.intp(offs[s]) + np.intp(ir[s])
            if c < cols:
                v = vr[s]
                for p in range(np.uint64(xptr[c]), np.uint64(xptr[c + 1])):
                    o[np.uint64(xind[p])] += v * data[p]
