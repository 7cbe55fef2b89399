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


@njit(cache=True)
def soft_threshold_array(x, t, out):
    """Elementwise soft-thresholding of ``x`` by ``t`` into ``out`` (may alias ``x``)."""
    for i in range(x.shape[0]):
        out[i] = soft_threshold(x[i], t)
    return out


@njit(cache=True)
def hard_threshold_array(x, t, out):
    """Elementwise hard-thresholding: keep ``x[i]`` where ``|x[i]| > t``, else 0."""
    for i in range(x.shape[0]):
        out[i] = x[i] if np.abs(x[i]) > t else 0.0
    return out
