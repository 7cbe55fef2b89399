"""Validation of sparse and dense inputs, dtype and index handling."""

from ._validation import check_alphas, normalized_sample_weight

__all__ = ["check_alphas", "normalized_sample_weight"]
