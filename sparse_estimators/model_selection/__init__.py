"""Train/test splits of interaction matrices: random over the stored entries, or
leave-k-out per user. Both keep the matrix shape, so users and items keep their
indices on both sides of the split."""

from ._split import leave_k_out_split, train_test_split_interactions

__all__ = ["leave_k_out_split", "train_test_split_interactions"]
