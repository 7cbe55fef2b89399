"""Cross-validated Lasso and ElasticNet along warm-started regularisation paths."""

from functools import partial
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.model_selection import check_cv
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from .._solvers import Design, alpha_grid, enet_path_solve, gap_tolerance
from ..utils import (
    check_alphas,
    check_sparse_structure,
    device_backend,
    normalized_sample_weight,
)
from ._coordinate_descent import (
    _DTYPES,
    ElasticNet,
    _check_finite_model,
    _device_path,
    _seed,
    _SparseLinearRegressorMixin,
    _warn_not_converged,
)


def _fold_mse(X, y, sw, train, test, fit_intercept, grids, l1_ratios, path_kw):
    """Fit every path of one fold on ``train``; return MSE on ``test`` per alpha."""
    sw_tr = None if sw is None else sw[train]
    design = Design(X[train], sw_tr, fit_intercept)  # one CSC conversion per fold
    yc, y_offset = design.center_target(y[train])
    X_te, y_te = X[test], y[test].astype(np.float64)
    w_te = None if sw is None else sw[test]
    out = np.empty((len(l1_ratios), grids.shape[1]))
    for i, l1_ratio in enumerate(l1_ratios):
        coefs, _, _, _ = enet_path_solve(design, yc, grids[i], l1_ratio, **path_kw)
        icpt = (y_offset - design.x_offset @ coefs) if fit_intercept else 0.0
        pred = np.asarray(X_te @ coefs, dtype=np.float64) + icpt
        err = (pred - y_te[:, None]) ** 2
        out[i] = np.average(err, axis=0, weights=w_te)
    return out


def _fold_mse_device(backend, X, y, sw, train, test, fit_intercept, grids, l1_ratios,
                     path_kw):
    """:func:`_fold_mse` on ``backend``: every path by FISTA, each alpha warm-started
    from the previous one's coefficients, the fold's design moved once."""
    from ..gpu import prepare_design

    sw_tr = None if sw is None else sw[train]
    X_tr, y_tr = X[train], y[train]
    design = prepare_design(backend, X_tr, sw_tr, fit_intercept)  # shared by the paths
    X_te, y_te = X[test], y[test].astype(np.float64)
    w_te = None if sw is None else sw[test]
    out = np.empty((len(l1_ratios), grids.shape[1]))
    for i, l1_ratio in enumerate(l1_ratios):
        coefs, icpts, _, _, _ = _device_path(
            backend, design, X_tr, y_tr, grids[i], l1_ratio, sample_weight=sw_tr,
            fit_intercept=fit_intercept, **path_kw)
        pred = np.asarray(X_te @ coefs, dtype=np.float64) + icpts
        out[i] = np.average((pred - y_te[:, None]) ** 2, axis=0, weights=w_te)
    return out


class ElasticNetCV(_SparseLinearRegressorMixin, RegressorMixin, BaseEstimator):
    """Elastic net with ``alpha`` (and ``l1_ratio``) chosen by cross-validation.

    Same objective, parameters and attributes as
    :class:`sklearn.linear_model.ElasticNetCV`: for every ``l1_ratio`` the alpha
    grid is computed on the whole data, each fold fits the whole path with warm
    starts (its design is converted to CSC once and shared by all ``l1_ratio``),
    the pair with the lowest mean held-out MSE wins, and the model is refitted on
    all the data. Folds run in parallel threads with ``n_jobs`` (the numba kernels
    release the GIL).

    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
        Mixing parameter(s) in ``[0, 1]``; a list is searched.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    alphas : int or array-like, default=100
        Grid size per ``l1_ratio`` or the alphas themselves.
    fit_intercept : bool, default=True
    max_iter : int, default=1000
        Maximum epochs per fit.
    tol : float, default=1e-4
        Relative duality-gap tolerance (scikit-learn's rule).
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn; ``None`` is 5-fold.
    copy_X : bool, default=True
        Kept for compatibility; ``X`` is never modified.
    verbose : int, default=0
    n_jobs : int, default=None
        Folds fitted in parallel threads.
    positive : bool, default=False
    random_state : int, RandomState instance or None, default=None
        Seed of the coordinate order when ``selection='random'``.
    selection : {'cyclic', 'random'}, default='cyclic'
    device : {"cpu", "gpu", "auto"}, default="cpu"
        ``"gpu"`` solves by FISTA with adaptive restart on an NVIDIA GPU through
        CuPy (see :class:`ElasticNet` and :mod:`sparse_estimators.gpu`): each fold's
        design goes to the device once, its alpha paths are solved in decreasing
        order, each alpha warm-started from the previous one's coefficients. The
        whole ``X`` goes to the device once too: the alpha grid is computed there
        (no host CSC copy of ``X``) and the final model is refitted there as
        ``ElasticNet(device=device)`` would (so the device holds the whole ``X``
        and one fold's rows at a time, each with its transpose). ``max_iter`` then
        counts FISTA iterations, and ``selection`` / ``random_state`` do not apply.
        ``"auto"`` takes the GPU when CuPy and a device are there and the CPU
        otherwise; ``"gpu"`` without them raises an error saying what is missing.

    Attributes
    ----------
    alpha_ : float
    l1_ratio_ : float
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    mse_path_ : ndarray of shape (n_l1_ratio, n_alphas, n_folds)
        Squeezed to (n_alphas, n_folds) for a single ``l1_ratio``.
    alphas_ : ndarray of shape (n_l1_ratio, n_alphas) or (n_alphas,)
    dual_gap_ : float
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sparse_estimators.linear_model import ElasticNetCV
    >>> X, y = make_regression(n_features=20, n_informative=3, random_state=0)
    >>> reg = ElasticNetCV(l1_ratio=[0.5, 0.9, 1.0], cv=3).fit(X, y)
    >>> reg.mse_path_.shape
    (3, 100, 3)
    >>> float(reg.l1_ratio_)
    1.0
    """

    _parameter_constraints: dict = {
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "cv": ["cv_object"],
        "copy_X": ["boolean"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
        "positive": ["boolean"],
        "random_state": ["random_state"],
        "selection": [StrOptions({"cyclic", "random"})],
        "device": [StrOptions({"cpu", "gpu", "auto"})],
    }

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True,
                 max_iter=1000, tol=1e-4, cv=None, copy_X=True, verbose=0,
                 n_jobs=None, positive=False, random_state=None, selection="cyclic",
                 device="cpu"):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.device = device

    def _l1_ratios(self):
        return np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the paths on every fold, choose the best alpha, refit on all data.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Dense, CSR or CSC; float32 or float64.
        y : array-like of shape (n_samples,)
        sample_weight : float or array-like of shape (n_samples,), default=None
            Weights of the fits and of the held-out MSE.
        groups : array-like of shape (n_samples,), default=None
            Group labels for group-aware ``cv`` splitters.

        Returns
        -------
        self : object
        """
        check_sparse_structure(X)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=_DTYPES,
                             multi_output=True, y_numeric=True)
        if y.ndim == 2 and y.shape[1] != 1:
            raise ValueError(
                f"{type(self).__name__} supports a single target only; got y of "
                f"shape {y.shape}. Fit one model per column.")
        y = column_or_1d(y, warn=True).astype(X.dtype, copy=False)
        l1_ratios = self._l1_ratios()
        if l1_ratios.size == 0 or not np.all((l1_ratios >= 0) & (l1_ratios <= 1)):
            raise ValueError(f"l1_ratio must be in [0, 1], got {self.l1_ratio!r}.")
        alphas = check_alphas(self.alphas)
        if isinstance(alphas, int) and np.any(l1_ratios == 0):
            raise ValueError("An automatic alpha grid needs l1_ratio > 0; pass alphas "
                             "explicitly for l1_ratio=0.")
        sw = normalized_sample_weight(sample_weight, X)
        if sp.issparse(X):
            X = X.tocsr()  # row slicing for the folds
        backend = device_backend(self.device)
        if backend is None:
            full = Design(X, sw, self.fit_intercept)
        else:
            # the whole X goes to the device once, for the grid and the refit: no
            # host CSC copy of it
            from ..gpu import prepare_design
            full = prepare_design(backend, X, sw, self.fit_intercept)
        yc, y_offset = full.center_target(y)
        if isinstance(alphas, int):
            grids = np.array([
                alpha_grid(full, yc, l1_ratio=r, eps=self.eps, n_alphas=alphas,
                           positive=self.positive) for r in l1_ratios])
        else:
            grids = np.tile(alphas, (len(l1_ratios), 1))

        folds = list(check_cv(self.cv).split(X, y, groups))
        if backend is None:
            shuffle, seed = _seed(self.selection, self.random_state)
            path_kw = dict(positive=self.positive, tol=self.tol, max_iter=self.max_iter,
                           shuffle=shuffle, seed=seed)
            fold_mse = partial(_fold_mse, X, y, sw)
        else:
            path_kw = dict(positive=self.positive, tol=self.tol, max_iter=self.max_iter)
            fold_mse = partial(_fold_mse_device, backend, X, y, sw)
        mse = Parallel(n_jobs=self.n_jobs, prefer="threads", verbose=self.verbose)(
            delayed(fold_mse)(train, test, self.fit_intercept, grids, l1_ratios, path_kw)
            for train, test in folds)
        mse_path = np.stack(mse, axis=-1)  # (n_l1, n_alphas, n_folds)
        mean = mse_path.mean(axis=-1)
        i_best, j_best = np.unravel_index(np.argmin(mean), mean.shape)
        self.l1_ratio_ = float(l1_ratios[i_best])
        self.alpha_ = float(grids[i_best, j_best])

        if backend is None:
            coefs, gaps, its, conv = enet_path_solve(
                full, yc, [self.alpha_], self.l1_ratio_, **path_kw)
            _warn_not_converged(gaps, conv, gap_tolerance(yc, self.tol, full.W),
                                self.max_iter)
            self.coef_ = coefs[:, 0]
            self.intercept_ = X.dtype.type(full.intercept(self.coef_, y_offset))
            self.dual_gap_ = float(gaps[0])
            self.n_iter_ = its[0]
        else:
            refit = ElasticNet(
                alpha=self.alpha_, l1_ratio=self.l1_ratio_,
                fit_intercept=self.fit_intercept, max_iter=self.max_iter, tol=self.tol,
                positive=self.positive, verbose=self.verbose, device=self.device,
            )._fit_device(backend, X, y[:, None], 1, sw,
                          np.zeros((1, X.shape[1]), dtype=X.dtype), design=full)
            self.coef_ = refit.coef_
            self.intercept_ = X.dtype.type(refit.intercept_)
            self.dual_gap_ = float(refit.dual_gap_)
            self.n_iter_ = refit.n_iter_
        _check_finite_model(self.coef_, self.intercept_, self.dual_gap_)
        single = np.ndim(self.l1_ratio) == 0
        self.mse_path_ = mse_path[0] if single else mse_path
        self.alphas_ = grids[0] if single else grids
        return self


class LassoCV(ElasticNetCV):
    """Lasso with ``alpha`` chosen by cross-validation along warm-started paths.

    Same objective, parameters and attributes as
    :class:`sklearn.linear_model.LassoCV`; :class:`ElasticNetCV` with
    ``l1_ratio=1``.

    Parameters
    ----------
    eps : float, default=1e-3
    alphas : int or array-like, default=100
    fit_intercept : bool, default=True
    max_iter : int, default=1000
    tol : float, default=1e-4
    cv : int, cross-validation generator or iterable, default=None
    copy_X : bool, default=True
    verbose : int, default=0
    n_jobs : int, default=None
    positive : bool, default=False
    random_state : int, RandomState instance or None, default=None
    selection : {'cyclic', 'random'}, default='cyclic'
    device : {"cpu", "gpu", "auto"}, default="cpu"
        Where to solve: see :class:`ElasticNetCV`.

    Attributes
    ----------
    alpha_ : float
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    mse_path_ : ndarray of shape (n_alphas, n_folds)
    alphas_ : ndarray of shape (n_alphas,)
    dual_gap_ : float
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from sklearn.datasets import make_regression
    >>> from sparse_estimators.linear_model import LassoCV
    >>> X, y = make_regression(n_samples=100, n_features=30, n_informative=3,
    ...                        noise=1.0, random_state=0)
    >>> reg = LassoCV(cv=5).fit(sp.csr_matrix(X), y)
    >>> reg.mse_path_.shape
    (100, 5)
    >>> int((reg.coef_ != 0).sum()) < 30
    True
    """

    _parameter_constraints: dict = {
        k: v for k, v in ElasticNetCV._parameter_constraints.items() if k != "l1_ratio"
    }

    def __init__(self, *, eps=1e-3, alphas=100, fit_intercept=True, max_iter=1000,
                 tol=1e-4, cv=None, copy_X=True, verbose=0, n_jobs=None,
                 positive=False, random_state=None, selection="cyclic", device="cpu"):
        super().__init__(
            l1_ratio=1.0, eps=eps, alphas=alphas, fit_intercept=fit_intercept,
            max_iter=max_iter, tol=tol, cv=cv, copy_X=copy_X, verbose=verbose,
            n_jobs=n_jobs, positive=positive, random_state=random_state,
            selection=selection, device=device)

    def _l1_ratios(self):
        return np.ones(1)
