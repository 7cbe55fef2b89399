"""Validation of sparse and dense inputs, dtype and index handling."""

from ._device import device_backend
from ._validation import check_alphas, check_sparse_structure, normalized_sample_weight

__all__ = ["check_alphas", "device_backend", "check_sparse_structure", "normalized_sample_weight"]
