"""Sparse coding and dictionary learning on dense and sparse input.

``sparse_encode``, ``SparseCoder``, ``DictionaryLearning`` and
``MiniBatchDictionaryLearning`` mirror scikit-learn's API (same algorithm names and
alpha scaling) with numba kernels on the Gram matrix; sparse input is never
densified.
"""

from ._coding import SparseCoder, sparse_encode
from ._dict_learning import DictionaryLearning, MiniBatchDictionaryLearning
from ._matrix_factorization import SparseMatrixFactorization

__all__ = ["DictionaryLearning", "MiniBatchDictionaryLearning", "SparseCoder",
           "SparseMatrixFactorization", "sparse_encode"]
