"""Thresholding transformers: soft, hard and data-adaptive, on dense and sparse input.

All three run the numba kernels of :mod:`sparse_estimators._kernels._prox`, the same
soft-thresholding the coordinate-descent solvers use. Sparse input is thresholded on
its stored values (zeros stay zeros) and never densified.
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import check_is_fitted, validate_data

from .._kernels import threshold_dense, threshold_sparse, topk_segments
from ..utils._validation import check_sparse_structure
from ._metrics import csr_nbytes

_DTYPES = [np.float64, np.float32]


def abs_quantile(values, n_zeros, q):
    """``q``-quantile (linear interpolation, numpy's default) of the magnitudes of
    ``values`` together with ``n_zeros`` additional zeros, without materialising
    the zeros (the implicit zeros of a sparse matrix)."""
    mag = np.sort(np.abs(np.asarray(values, dtype=np.float64)))
    total = mag.shape[0] + n_zeros
    if total == 0:
        return 0.0
    h = q * (total - 1)
    lo, hi = int(np.floor(h)), int(np.ceil(h))

    def at(i):
        return 0.0 if i < n_zeros else mag[i - n_zeros]

    return float(at(lo) + (h - lo) * (at(hi) - at(lo)))


class _BaseThreshold(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Shared validation and output handling of the thresholding transformers."""

    _parameter_constraints: dict = {
        "output": [StrOptions({"auto", "dense", "sparse"})],
    }

    def _validate(self, X, reset):
        check_sparse_structure(X)
        return validate_data(self, X, reset=reset, accept_sparse=["csr", "csc"],
                             dtype=_DTYPES, copy=False)

    def _sparse_result(self, X):
        """Whether ``transform`` returns a sparse matrix."""
        if self.output == "sparse":
            return True
        if self.output == "dense":
            return False
        if _get_output_config("transform", self)["dense"] != "default":
            return False    # pandas / polars containers hold dense data only
        return sp.issparse(X) or self.sparse_output_

    def _threshold(self, X):
        """Thresholded copy of ``X`` (same format and dtype)."""
        if sp.issparse(X):
            out = X.copy()
            if not out.has_canonical_format:
                out.sum_duplicates()
            self._threshold_sparse(out)
            out.eliminate_zeros()
            return out
        return self._threshold_dense(X)

    def _threshold_sparse(self, out):
        """Threshold the stored values of ``out`` (CSR or CSC) in place."""
        t = self._column_thresholds(out)
        if out.format == "csr":
            threshold_sparse(out.data, out.indices, t, self._hard(), out.data)
        else:   # CSC: the stored values of column j are indptr[j]:indptr[j+1]
            cols = np.repeat(np.arange(out.shape[1]), np.diff(out.indptr))
            threshold_sparse(out.data, cols, t, self._hard(), out.data)

    def _threshold_dense(self, X):
        out = np.empty_like(X)
        return threshold_dense(X, self._column_thresholds(X), self._hard(), out)

    def _fit(self, X):
        """Validate ``X``, learn the threshold, decide the output format; return
        the thresholded training data."""
        X = self._validate(X, reset=True)
        if sp.issparse(X) and not X.has_canonical_format:
            # the statistics read the stored values: duplicates summed first, as
            # transform sums them (the caller's matrix is not touched)
            X = X.copy()
            X.sum_duplicates()
        self._fit_stats(X)
        out = self._threshold(X)
        nnz = out.nnz if sp.issparse(out) else int(np.count_nonzero(out))
        n, p = X.shape
        self.sparse_output_ = bool(sp.issparse(X) or csr_nbytes(nnz, n, X.dtype.itemsize)
                                   < n * p * X.dtype.itemsize)
        return out

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the threshold from ``X`` (if any) and decide the output format.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit to ``X`` and return it thresholded (one pass; the same result as
        ``fit(X).transform(X)``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        X_new : ndarray or sparse matrix of shape (n_samples, n_features)
        """
        return self._format(self._fit(X))

    def transform(self, X):
        """Threshold ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        X_new : ndarray or sparse matrix of shape (n_samples, n_features)
            Same dtype as ``X``. Sparse input gives sparse output (same format);
            dense input gives CSR when ``output="sparse"``, or with ``output="auto"``
            when CSR took fewer bytes than a dense array on the training data.
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return self._format(self._threshold(X))

    def _format(self, out):
        sparse = self._sparse_result(out)
        if sparse and not sp.issparse(out):
            return sp.csr_matrix(out)
        if not sparse and sp.issparse(out):
            return out.toarray()
        return out

    def _fit_stats(self, X):
        """Learn what the threshold needs from ``X``."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.requires_fit = True
        return tags


class _FixedThreshold(_BaseThreshold):
    _parameter_constraints: dict = {
        **_BaseThreshold._parameter_constraints,
        "threshold": [Interval(Real, 0, None, closed="left"), "array-like"],
    }

    def __init__(self, threshold=1.0, *, output="auto"):
        self.threshold = threshold
        self.output = output

    def _column_thresholds(self, X):
        return self.thresholds_.astype(X.dtype, copy=False)

    def _fit_stats(self, X):
        t = np.asarray(self.threshold, dtype=np.float64)
        if t.ndim == 0:
            t = np.full(X.shape[1], float(t))
        elif t.shape != (X.shape[1],):
            raise ValueError(f"threshold must be a scalar or an array of shape "
                             f"(n_features,)=({X.shape[1]},), got shape {t.shape}.")
        if not np.all(np.isfinite(t)) or np.any(t < 0):
            raise ValueError("threshold must be finite and non-negative.")
        self.thresholds_ = t


class SoftThreshold(_FixedThreshold):
    """Soft-thresholding of every entry: ``sign(x) * max(|x| - t, 0)``.

    The proximal operator of ``t * |x|`` (Donoho, "De-noising by soft-thresholding",
    IEEE Trans. Inf. Theory 1995): it zeroes small entries and shrinks the others
    towards zero by ``t``, the same operation coordinate descent applies to the
    Lasso's coefficients.

    Parameters
    ----------
    threshold : float or array-like of shape (n_features,), default=1.0
        Non-negative threshold, for all features or one per feature.
    output : {"auto", "dense", "sparse"}, default="auto"
        Format of ``transform``'s result. ``"auto"``: sparse input stays sparse (same
        format); dense input gives CSR when, on the training data, CSR took fewer
        bytes than the dense array (decided once in ``fit`` so every call returns the
        same type), and always dense when a pandas/polars output is configured with
        ``set_output``.

    Attributes
    ----------
    thresholds_ : ndarray of shape (n_features,)
        The threshold of each feature.
    sparse_output_ : bool
        Whether ``output="auto"`` returns sparse matrices.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has string feature names.

    See Also
    --------
    HardThreshold : zero small entries, keep the others unchanged.
    AdaptiveThreshold : a threshold chosen from the data.

    Examples
    --------
    >>> import numpy as np
    >>> from sparse_estimators.sparsity import SoftThreshold
    >>> X = np.array([[0.5, -2.0, 3.0], [1.5, 0.2, -0.7]])
    >>> SoftThreshold(1.0, output="dense").fit_transform(X)
    array([[ 0. , -1. ,  2. ],
           [ 0.5,  0. ,  0. ]])
    """

    def _hard(self):
        return False


class HardThreshold(_FixedThreshold):
    """Hard-thresholding of every entry: ``x`` where ``|x| > t``, else 0.

    The proximal operator of ``t**2 / 2 * ||x||_0``: small entries are zeroed and the
    others kept unchanged (no shrinkage bias).

    Parameters
    ----------
    threshold : float or array-like of shape (n_features,), default=1.0
        Non-negative threshold, for all features or one per feature.
    output : {"auto", "dense", "sparse"}, default="auto"
        Format of ``transform``'s result, as in :class:`SoftThreshold`.

    Attributes
    ----------
    thresholds_ : ndarray of shape (n_features,)
    sparse_output_ : bool
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has string feature names.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from sparse_estimators.sparsity import HardThreshold
    >>> X = sp.csr_matrix(np.array([[0.5, -2.0, 0.0], [1.5, 0.0, -0.7]]))
    >>> HardThreshold(1.0).fit_transform(X).toarray()
    array([[ 0. , -2. ,  0. ],
           [ 1.5,  0. ,  0. ]])
    """

    def _hard(self):
        return True


class AdaptiveThreshold(_BaseThreshold):
    """Thresholding with a threshold chosen from the data.

    Three rules:

    - ``"quantile"``: one threshold for all entries, the ``quantile``-quantile of the
      magnitudes of the non-zero entries of the training data (``quantile=0.9``
      zeroes about 90% of the non-zeros).
    - ``"top_k"``: in each row (sample) keep the ``k`` entries of largest magnitude
      (ties keep the earlier feature); nothing is learned in ``fit``. With
      ``mode="soft"`` the kept entries are shrunk by the row's ``(k+1)``-th largest
      magnitude (the smallest soft threshold that leaves ``k`` non-zeros).
    - ``"universal"``: the universal threshold of Donoho & Johnstone ("Ideal spatial
      adaptation by wavelet shrinkage", Biometrika 1994),
      ``sigma * sqrt(2 * log(n_features))``, with the noise level estimated robustly
      from all entries of the training data (zeros included) as
      ``sigma = median(|x|) / 0.6745``. On data that is more than half zeros the
      estimate is 0 and nothing is thresholded: use ``"quantile"`` or ``"top_k"``.

    The rules are defined on the values, not the storage: dense and sparse versions of
    the same data give the same result.

    Parameters
    ----------
    method : {"quantile", "top_k", "universal"}, default="quantile"
    quantile : float in [0, 1], default=0.9
        Used by ``method="quantile"``.
    k : int, default=10
        Entries kept per row by ``method="top_k"``.
    mode : {"hard", "soft"}, default="hard"
        Hard thresholding keeps the surviving entries unchanged; soft shrinks them.
    output : {"auto", "dense", "sparse"}, default="auto"
        Format of ``transform``'s result, as in :class:`SoftThreshold`.

    Attributes
    ----------
    threshold_ : float
        The learned threshold (``method="quantile"`` or ``"universal"``; NaN for
        ``"top_k"``, whose threshold differs per row).
    noise_scale_ : float
        The robust noise level ``sigma`` (``method="universal"`` only, else NaN).
    sparse_output_ : bool
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has string feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from sparse_estimators.sparsity import AdaptiveThreshold
    >>> X = np.array([[0.1, -3.0, 0.2, 2.0], [4.0, 0.3, -0.1, 0.0]])
    >>> AdaptiveThreshold(method="top_k", k=1, output="dense").fit_transform(X)
    array([[ 0., -3.,  0.,  0.],
           [ 4.,  0.,  0.,  0.]])
    >>> AdaptiveThreshold(quantile=0.5).fit(X).threshold_
    0.3
    """

    _parameter_constraints: dict = {
        **_BaseThreshold._parameter_constraints,
        "method": [StrOptions({"quantile", "top_k", "universal"})],
        "quantile": [Interval(Real, 0, 1, closed="both")],
        "k": [Interval(Integral, 0, None, closed="left")],
        "mode": [StrOptions({"hard", "soft"})],
    }

    def __init__(self, method="quantile", *, quantile=0.9, k=10, mode="hard", output="auto"):
        self.method = method
        self.quantile = quantile
        self.k = k
        self.mode = mode
        self.output = output

    def _hard(self):
        return self.mode == "hard"

    def _column_thresholds(self, X):
        return np.full(X.shape[1], self.threshold_, dtype=X.dtype)

    def _fit_stats(self, X):
        values = X.data if sp.issparse(X) else X.ravel()
        size = X.shape[0] * X.shape[1]
        self.threshold_ = self.noise_scale_ = np.nan
        if self.method == "quantile":
            nonzero = values[values != 0]
            self.threshold_ = abs_quantile(nonzero, 0, self.quantile)
        elif self.method == "universal":
            nonzero = values[values != 0]
            self.noise_scale_ = abs_quantile(nonzero, size - nonzero.shape[0], 0.5) / 0.6745
            self.threshold_ = self.noise_scale_ * np.sqrt(2.0 * np.log(max(X.shape[1], 1)))

    def _threshold_sparse(self, out):
        if self.method != "top_k":
            return super()._threshold_sparse(out)
        # CSR here: _threshold converts CSC (top-k runs along rows)
        topk_segments(out.data.copy(), out.indptr, self.k, not self._hard(), out.data)

    def _threshold(self, X):
        if self.method == "top_k" and sp.issparse(X) and X.format == "csc":
            return super()._threshold(X.tocsr()).tocsc()
        return super()._threshold(X)

    def _threshold_dense(self, X):
        if self.method != "top_k":
            return super()._threshold_dense(X)
        Xc = np.ascontiguousarray(X)
        n, p = Xc.shape
        out = np.empty_like(Xc)
        topk_segments(Xc.ravel(), np.arange(0, n * p + 1, p, dtype=np.int64) if p else
                      np.zeros(n + 1, dtype=np.int64), self.k, not self._hard(), out.ravel())
        return out
