"""Input validation shared by the estimators (scikit-learn conventions)."""

import numbers

import numpy as np
from sklearn.utils.validation import _check_sample_weight


def normalized_sample_weight(sample_weight, X):
    """Validate ``sample_weight`` and rescale it to sum to ``n_samples``.

    Returns ``None`` for ``None`` or a scalar (uniform weights). The objective
    ``1/2 * average(squared error, weights=sample_weight) + penalty`` is invariant
    to this rescaling, so ``alpha`` keeps scikit-learn's meaning.

    Raises
    ------
    ValueError
        If the weights have the wrong shape, are negative, non-finite, or all zero.
    """
    if sample_weight is None or isinstance(sample_weight, numbers.Number):
        if isinstance(sample_weight, numbers.Number) and not sample_weight > 0:
            raise ValueError(
                f"sample_weight must be positive when given as a scalar, got {sample_weight!r}."
            )
        return None
    sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    total = float(np.sum(sw, dtype=np.float64))
    if not total > 0.0:
        raise ValueError("sample_weight must have a positive sum; got all zeros.")
    return sw * (X.shape[0] / total)


def check_alphas(alphas, name="alphas"):
    """Return ``alphas`` as a positive int (grid size) or a 1-D float array sorted
    in decreasing order (the order in which warm starts pay off)."""
    if isinstance(alphas, numbers.Integral) and not isinstance(alphas, bool):
        if alphas < 1:
            raise ValueError(f"{name} must be a positive integer or an array, got {alphas}.")
        return int(alphas)
    arr = np.asarray(alphas, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty.")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and non-negative, got {alphas!r}.")
    return np.sort(arr)[::-1]
