"""Sparse coding and dictionary learning on dense and sparse input.

``sparse_encode`` and ``SparseCoder`` mirror scikit-learn's API (same algorithm
names and alpha scaling) with numba kernels on the Gram matrix.
"""

from ._coding import SparseCoder, sparse_encode

__all__ = ["SparseCoder", "sparse_encode"]
