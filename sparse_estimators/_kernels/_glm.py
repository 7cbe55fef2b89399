"""Per-sample kernels of the proximal Newton solver for linear classifiers.

For the squared hinge ``f_i(eta) = c_i max(0, 1 - y_i eta)^2`` (labels ``y_i`` in
{-1, +1}): derivative ``-2 c_i y_i max(0, 1 - y_i eta)``, generalised second
derivative ``2 c_i [1 - y_i eta > 0]``. Each kernel is one pass over the samples;
in numpy the same quantities took one temporary array per operation.

The logistic loss stays in numpy (``_solvers._glm``): its cost is ``exp`` and
``log1p``, which numpy evaluates with SIMD (3 us per 4000 samples) and numba calls
one value at a time (a fused numba pass was 4x slower than numpy's).
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, fastmath={"reassoc"})
def hinge_loss(m, d, t, b, y, c):
    """``sum_i c_i max(0, 1 - y_i (m_i + t d_i + b))^2``."""
    total = 0.0
    for i in range(m.shape[0]):
        g = 1.0 - y[i] * (m[i] + t * d[i] + b)
        if g > 0.0:
            total += c[i] * g * g
    return total


@njit(cache=True, nogil=True, fastmath={"reassoc"})
def hinge_derivatives(m, b, y, c, floor, alpha, h):
    """Derivatives of the squared hinge at ``eta = m + b``.

    Fills ``alpha_i = c_i loss'(eta_i)`` and the curvatures
    ``h_i = max(c_i loss''(eta_i), floor c_i)``. Returns ``(loss, sum alpha, sum h)``.
    """
    total = 0.0
    sum_a = 0.0
    sum_h = 0.0
    for i in range(m.shape[0]):
        ci = c[i]
        g = 1.0 - y[i] * (m[i] + b)
        if g > 0.0:
            total += ci * g * g
            a = -2.0 * ci * y[i] * g
            hi = 2.0 * ci
        else:
            a = 0.0
            hi = 0.0
        lo = floor * ci
        hi = hi if hi > lo else lo
        alpha[i] = a
        h[i] = hi
        sum_a += a
        sum_h += hi
    return total, sum_a, sum_h


@njit(cache=True, nogil=True, fastmath={"reassoc"})
def hinge_conjugate(m, b, y, c, scale):
    """``sum_i f_i*(scale * alpha_i)``: ``a^2 / (4 c_i) - a`` with
    ``a = 2 scale c_i max(0, 1 - y_i eta_i)``, ``eta = m + b``."""
    total = 0.0
    for i in range(m.shape[0]):
        ci = c[i]
        g = 1.0 - y[i] * (m[i] + b)
        if g > 0.0 and ci > 0.0:
            a = scale * 2.0 * ci * g
            total += a * a / (4.0 * ci) - a
    return total


@njit(cache=True, nogil=True)
def newton_target(m, b, alpha, h, z):
    """Working response ``z_i = eta_i - alpha_i / h_i`` (``eta_i`` where ``h_i = 0``)."""
    for i in range(m.shape[0]):
        z[i] = m[i] + b
        if h[i] > 0.0:
            z[i] -= alpha[i] / h[i]


@njit(cache=True, nogil=True)
def csc_take_columns(data, indices, indptr, cols, out_data, out_indices, out_indptr):
    """Columns ``cols`` of a CSC matrix into preallocated CSC arrays (``out_indptr``
    of length ``len(cols) + 1``; ``out_data`` / ``out_indices`` of length at least the
    columns' stored count, which is returned)."""
    pos = 0
    out_indptr[0] = 0
    for k in range(cols.shape[0]):
        j = cols[k]
        for q in range(indptr[j], indptr[j + 1]):
            out_data[pos] = data[q]
            out_indices[pos] = indices[q]
            pos += 1
        out_indptr[k + 1] = pos
    return pos


@njit(cache=True, nogil=True)
def csr_rmatvec(data, indices, indptr, v, out):
    """``out = X^T v`` for a CSR ``X``, one scatter pass over the rows with
    ``v_i != 0`` (duplicate entries add up, as scipy reads them)."""
    for j in range(out.shape[0]):
        out[j] = 0.0
    for i in range(v.shape[0]):
        a = v[i]
        if a != 0.0:
            for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                out[np.uint64(indices[k])] += data[k] * a
    return out
