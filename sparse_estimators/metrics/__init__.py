"""Ranking metrics for recommendations: precision, recall, NDCG and MAP at ``k``.

They take the held-out interactions as a sparse user x item matrix and the
recommendations as an integer array of item indices per user (as returned by
:meth:`sparse_estimators.decomposition.SparseMatrixFactorization.recommend`).
"""

from ._ranking import map_at_k, ndcg_at_k, precision_at_k, recall_at_k

__all__ = ["map_at_k", "ndcg_at_k", "precision_at_k", "recall_at_k"]
