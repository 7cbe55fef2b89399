"""Proximal operators (soft / hard thresholding) as numba kernels.

Scalar helpers are ``inline="always"`` so the coordinate-descent kernels pay no call
overhead; the array versions are the building blocks of the thresholding
transformers.
"""

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def soft_threshold(x, t):
    """Soft-thresholding ``sign(x) * max(|x| - t, 0)`` (prox of ``t * |.|``)."""
    if x > t:
        return x - t
    if x < -t:
        return x + t
    return 0.0


@njit(cache=True, inline="always")
def prox_enet(z, l1, denom, positive):
    """Coordinate minimiser of ``denom/2 * w**2 - z*w + l1*|w|`` (``w >= 0`` if positive)."""
    if positive:
        if z > l1:
            return (z - l1) / denom
        return 0.0
    return soft_threshold(z, l1) / denom


@njit(cache=True, inline="always")
def hard_threshold(x, t):
    """Hard-thresholding: ``x`` where ``|x| > t``, else 0 (prox of ``t**2/2 * ||.||_0``)."""
    if x > t or x < -t:
        return x
    return 0.0


@njit(cache=True)
def threshold_dense(X, t, hard, out):
    """Soft (or, with ``hard``, hard) thresholding of the 2-D ``X`` into ``out``
    (may alias ``X``), column ``j`` by ``t[j]``."""
    n, p = X.shape
    for i in range(n):
        for j in range(p):
            if hard:
                out[i, j] = hard_threshold(X[i, j], t[j])
            else:
                out[i, j] = soft_threshold(X[i, j], t[j])
    return out


@njit(cache=True)
def threshold_sparse(data, indices, t, hard, out):
    """Thresholding of the stored values of a CSR matrix, value ``k`` by
    ``t[indices[k]]`` (per-column thresholds); ``out`` may alias ``data``."""
    for k in range(data.shape[0]):
        if hard:
            out[k] = hard_threshold(data[k], t[indices[k]])
        else:
            out[k] = soft_threshold(data[k], t[indices[k]])
    return out


@njit(cache=True)
def topk_segments(data, indptr, k, soft, out):
    """Keep the ``k`` largest magnitudes of each segment ``data[indptr[i]:indptr[i+1]]``
    (a CSR row, or a row of a raveled C-ordered dense matrix) and zero the rest.

    Ties keep the earlier entry, so exactly ``min(k, length)`` entries survive. With
    ``soft``, the kept entries are soft-thresholded by the ``(k+1)``-th largest
    magnitude of the segment: the smallest soft threshold leaving at most ``k``
    non-zeros. ``out`` must not alias ``data``.
    """
    for i in range(indptr.shape[0] - 1):
        start, stop = indptr[i], indptr[i + 1]
        length = stop - start
        if length <= k:
            for q in range(start, stop):
                out[q] = data[q]
            continue
        mag = np.abs(data[start:stop])
        order = np.argsort(-mag, kind="mergesort")
        tau = mag[order[k]] if soft else 0.0
        for q in range(start, stop):
            out[q] = 0.0
        for r in range(k):
            q = start + order[r]
            out[q] = soft_threshold(data[q], tau)
    return out
