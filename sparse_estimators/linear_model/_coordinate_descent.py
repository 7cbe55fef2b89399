"""Lasso and ElasticNet estimators and their regularisation paths."""

import numbers
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from .._solvers import Design, alpha_grid, enet_path_solve, gap_tolerance
from ..utils import (
    check_alphas,
    check_sparse_structure,
    device_backend,
    normalized_sample_weight,
)
from ..utils._warnings import warn_at_caller

_DTYPES = [np.float64, np.float32]


def _convergence_message(gap, tol, max_iter, unit="epochs"):
    return (
        f"Objective did not converge: duality gap {gap:.3e} is above the tolerance "
        f"{tol:.3e} after {max_iter} {unit}. Increase max_iter, raise tol, scale the "
        "features (e.g. with StandardScaler(with_mean=False) on sparse data) or use a "
        "larger alpha."
    )


def _warn_not_converged(gaps, converged, tol_abs, max_iter, unit="epochs"):
    if not np.all(converged):
        worst = int(np.argmax(np.where(converged, -np.inf, gaps)))
        warn_at_caller(_convergence_message(gaps[worst], tol_abs, max_iter, unit),
                       ConvergenceWarning)


def _check_finite_model(coef, intercept, gaps=None):
    # a NaN gap: the objective overflowed although the coefficients stayed finite
    # (y near 1e300), so the model is not certified either
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))
            and (gaps is None or not np.any(np.isnan(gaps)))):
        raise ValueError(
            "Coordinate descent produced a non-finite model (coefficients or duality "
            "gap): the input has values too large for its dtype; scale X and y.")


def _seed(selection, random_state):
    if selection == "random":
        return True, int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    return False, 0


class _SparseLinearRegressorMixin:
    """``predict``, ``sparse_coef_`` and tags shared by the regressors."""

    @property
    def sparse_coef_(self):
        """Sparse (CSR) representation of the fitted ``coef_``."""
        return sp.csr_matrix(np.atleast_2d(self.coef_))

    def _decision_function(self, X):
        check_is_fitted(self)
        check_sparse_structure(X)
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"], reset=False,
                          dtype=_DTYPES)
        return safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_

    def predict(self, X):
        """Predict using the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        return self._decision_function(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class ElasticNet(_SparseLinearRegressorMixin, MultiOutputMixin, RegressorMixin,
                 BaseEstimator):
    """Linear regression with combined L1 and L2 priors, for dense and sparse X.

    Minimises the same objective as :class:`sklearn.linear_model.ElasticNet`::

        1 / (2 * n_samples) * ||y - Xw - b||^2_2
        + alpha * l1_ratio * ||w||_1
        + 0.5 * alpha * (1 - l1_ratio) * ||w||^2_2

    (with ``sample_weight``, the squared errors are averaged with those weights), so
    ``alpha``, ``l1_ratio`` and ``tol`` mean what they mean in scikit-learn.

    The solver is coordinate descent on working sets grown by violation of the
    optimality conditions (Massias et al. 2018), with gap-safe screening (Ndiaye et
    al. 2017) and Anderson acceleration (Bertrand & Massias 2021), in numba kernels
    cached on disk. Sparse ``X`` (CSR or CSC) is never densified; the intercept is
    fitted by implicit centring at ``O(nnz)`` cost per epoch.

    Parameters
    ----------
    alpha : float, default=1.0
        Constant that multiplies the penalty terms. ``alpha = 0`` is ordinary least
        squares (use :class:`sklearn.linear_model.LinearRegression` instead).
    l1_ratio : float, default=0.5
        Mixing parameter, ``0 <= l1_ratio <= 1``; 1 is the Lasso, 0 ridge.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    max_iter : int, default=1000
        Maximum number of coordinate-descent epochs (passes over the working set).
    copy_X : bool, default=True
        Kept for scikit-learn compatibility. The caller's ``X`` is never modified,
        whatever its value.
    tol : float, default=1e-4
        Stop when the duality gap is at most ``tol * ||y - mean(y)||^2 / n_samples``
        (the same rule as scikit-learn; weighted when ``sample_weight`` is given).
    warm_start : bool, default=False
        Start from the previous ``coef_`` when refitting.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    random_state : int, RandomState instance or None, default=None
        Seed of the coordinate order when ``selection='random'``.
    selection : {'cyclic', 'random'}, default='cyclic'
        ``'random'`` visits the working set in a new random permutation each epoch.
    verbose : int, default=0
        Print the gap at each outer (working-set) iteration.
    device : {"cpu", "gpu", "auto"}, default="cpu"
        ``"gpu"`` solves by FISTA with adaptive restart on an NVIDIA GPU through
        CuPy (``X`` and ``X^T`` as cuSPARSE CSR, implicit centring, the duality gap
        as the stopping rule and the only host sync; see
        :mod:`sparse_estimators.gpu`); ``max_iter`` then counts FISTA iterations,
        and ``selection`` / ``random_state`` do not apply. ``"auto"`` takes the GPU
        when CuPy and a device are there and the CPU otherwise; ``"gpu"`` without
        them raises an error saying what is missing.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, of the dtype of ``X`` (float32 stays float32).
    sparse_coef_ : sparse matrix of shape (1, n_features) or (n_targets, n_features)
        ``coef_`` as a CSR matrix.
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int or list of int
        Number of coordinate-descent epochs run (FISTA iterations with a device).
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the solution, on the scale of the objective above.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has feature names that are all strings.

    See Also
    --------
    Lasso : the ``l1_ratio=1`` special case.
    ElasticNetCV : chooses ``alpha`` and ``l1_ratio`` by cross-validation.
    enet_path : the whole regularisation path.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from sparse_estimators.linear_model import ElasticNet
    >>> X = sp.csr_matrix([[0., 1.], [1., 0.], [2., 0.], [0., 3.]])
    >>> y = [1., 1., 2., 3.]
    >>> reg = ElasticNet(alpha=0.01, l1_ratio=0.7).fit(X, y)
    >>> reg.coef_.round(2)
    array([0.95, 0.97])
    >>> reg.predict(X[:2]).round(2)
    array([1.04, 1.02])
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "copy_X": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "positive": ["boolean"],
        "random_state": ["random_state"],
        "selection": [StrOptions({"cyclic", "random"})],
        "verbose": ["verbose"],
        "device": [StrOptions({"cpu", "gpu", "auto"})],
    }

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, max_iter=1000,
                 copy_X=True, tol=1e-4, warm_start=False, positive=False,
                 random_state=None, selection="cyclic", verbose=0, device="cpu"):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.copy_X = copy_X
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.verbose = verbose
        self.device = device

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by coordinate descent (or FISTA with ``device="gpu"``).

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Training data: dense, CSR or CSC (int32 or int64 indices), float32 or
            float64. Never copied to dense, never modified.
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Target, cast to the dtype of ``X``.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative sample weights, rescaled internally to sum to
            ``n_samples``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if self.alpha == 0:
            warn_at_caller(
                "With alpha=0, coordinate descent solves ordinary least squares and "
                "converges slowly; sklearn.linear_model.LinearRegression is the right "
                "tool.", UserWarning)
        backend = device_backend(self.device)
        check_sparse_structure(X)
        # On the device path X's values are checked for NaN / inf on the device,
        # after the transfer (prepare_design), instead of by a host pass over them.
        X, y = validate_data(self, X, y, accept_sparse=["csc", "csr"], dtype=_DTYPES,
                             multi_output=True, y_numeric=True,
                             ensure_all_finite=backend is None)
        if not (isinstance(y, np.ndarray) and y.dtype == X.dtype):
            # validate_data checked y (finite, numeric); this casts it to X's dtype
            # and rejects a sparse y. Skipped when there is nothing to do: the call
            # costs ~33 us, 1-2% of a small fit.
            y = check_array(y, dtype=X.dtype, ensure_2d=False, copy=False)
        sw = normalized_sample_weight(sample_weight, X)
        Y = y[:, None] if y.ndim == 1 else y
        n_targets = Y.shape[1]
        n_features = X.shape[1]

        coef = np.zeros((n_targets, n_features), dtype=X.dtype)
        if self.warm_start and hasattr(self, "coef_"):
            prev = np.atleast_2d(self.coef_)
            if prev.shape == coef.shape:
                coef[:] = prev
        if backend is not None:
            return self._fit_device(backend, X, Y, y.ndim, sw, coef)
        design = Design(X, sw, self.fit_intercept)
        shuffle, seed = _seed(self.selection, self.random_state)
        intercept = np.zeros(n_targets, dtype=X.dtype)
        gaps = np.zeros(n_targets, dtype=X.dtype)
        n_iter = []
        for k in range(n_targets):
            yc, y_offset = design.center_target(Y[:, k])
            # overflow shows as a non-finite model, which _store turns into one clear
            # error, instead of hundreds of numpy warnings from the solver's steps
            with np.errstate(over="ignore", invalid="ignore"):
                coefs, g, its, conv = enet_path_solve(
                    design, yc, [self.alpha], self.l1_ratio, coef_init=coef[k],
                    positive=self.positive, tol=self.tol, max_iter=self.max_iter,
                    shuffle=shuffle, seed=seed, verbose=self.verbose,
                )
            _warn_not_converged(g, conv, gap_tolerance(yc, self.tol, design.W),
                                self.max_iter)
            coef[k] = coefs[:, 0]
            intercept[k] = design.intercept(coef[k], y_offset)
            gaps[k] = g[0]
            n_iter.append(its[0])

        return self._store(coef, intercept, gaps, n_iter, y.ndim)

    def _store(self, coef, intercept, gaps, n_iter, y_ndim):
        _check_finite_model(coef, intercept, gaps)
        if coef.shape[0] == 1:  # y of shape (n,) or (n, 1): shapes as scikit-learn's
            self.coef_ = coef[0]
            self.intercept_ = intercept[0] if y_ndim == 1 else intercept
            self.dual_gap_, self.n_iter_ = gaps[0], n_iter[0]
        else:
            self.coef_, self.intercept_ = coef, intercept
            self.dual_gap_, self.n_iter_ = gaps, n_iter
        return self

    def _fit_device(self, backend, X, Y, y_ndim, sw, coef, design=None):
        """One FISTA fit per target on ``backend`` (see :mod:`sparse_estimators.gpu`),
        on ``design`` (from ``prepare_design`` with the same ``sw`` and
        ``fit_intercept``) or on a new one."""
        from ..gpu import enet_fista, prepare_design

        if design is None:
            # once for all targets; X was not checked for NaN / inf on the host
            design = prepare_design(backend, X, sw, self.fit_intercept,
                                    check_finite=True)
        n_targets = Y.shape[1]
        intercept = np.zeros(n_targets, dtype=X.dtype)
        gaps = np.zeros(n_targets, dtype=X.dtype)
        n_iter = []
        for k in range(n_targets):
            w0 = coef[k] if np.any(coef[k]) else None
            coef[k], intercept[k], gaps[k], its, conv = enet_fista(
                backend, X, Y[:, k], self.alpha, self.l1_ratio, sample_weight=sw,
                fit_intercept=self.fit_intercept, positive=self.positive, w0=w0,
                tol=self.tol, max_iter=self.max_iter, verbose=self.verbose, design=design)
            if not conv:
                _warn_not_converged(
                    gaps[k:k + 1], [conv],
                    gap_tolerance(design.center_target(Y[:, k])[0], self.tol, design.W),
                    self.max_iter, unit="FISTA iterations")
            n_iter.append(its)
        return self._store(coef, intercept, gaps, n_iter, y_ndim)


class Lasso(ElasticNet):
    """Linear model with an L1 penalty (the Lasso), for dense and sparse X.

    Minimises, as :class:`sklearn.linear_model.Lasso` does::

        1 / (2 * n_samples) * ||y - Xw - b||^2_2 + alpha * ||w||_1

    It is :class:`ElasticNet` with ``l1_ratio=1``; see there for the solver.

    Parameters
    ----------
    alpha : float, default=1.0
        Constant that multiplies the L1 term.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    max_iter : int, default=1000
        Maximum number of coordinate-descent epochs.
    copy_X : bool, default=True
        Kept for compatibility; ``X`` is never modified.
    tol : float, default=1e-4
        Relative tolerance on the duality gap (scikit-learn's rule).
    warm_start : bool, default=False
        Start from the previous ``coef_`` when refitting.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    random_state : int, RandomState instance or None, default=None
        Seed of the coordinate order when ``selection='random'``.
    selection : {'cyclic', 'random'}, default='cyclic'
        Coordinate order within an epoch.
    verbose : int, default=0
        Print the gap at each outer iteration.
    device : {"cpu", "gpu", "auto"}, default="cpu"
        Where to solve: see :class:`ElasticNet`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    sparse_coef_ : sparse matrix of shape (1, n_features) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int or list of int
    dual_gap_ : float or ndarray of shape (n_targets,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from sparse_estimators.linear_model import Lasso
    >>> rng = np.random.default_rng(0)
    >>> X = sp.random(200, 50, density=0.1, format="csr", random_state=0)
    >>> y = 3 * X[:, 0].toarray().ravel() + 0.01 * rng.standard_normal(200)
    >>> reg = Lasso(alpha=0.001).fit(X, y)
    >>> np.flatnonzero(reg.coef_).tolist(), round(float(reg.coef_[0]), 2)
    ([0], 2.96)
    """

    _parameter_constraints: dict = {
        k: v for k, v in ElasticNet._parameter_constraints.items() if k != "l1_ratio"
    }

    def __init__(self, alpha=1.0, *, fit_intercept=True, max_iter=1000, copy_X=True,
                 tol=1e-4, warm_start=False, positive=False, random_state=None,
                 selection="cyclic", verbose=0, device="cpu"):
        super().__init__(
            alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept, max_iter=max_iter,
            copy_X=copy_X, tol=tol, warm_start=warm_start, positive=positive,
            random_state=random_state, selection=selection, verbose=verbose,
            device=device,
        )


# ---------------------------------------------------------------------------- paths
def enet_path(X, y, *, l1_ratio=0.5, eps=1e-3, alphas=100, coef_init=None,
              fit_intercept=False, sample_weight=None, tol=1e-4, max_iter=1000,
              positive=False, selection="cyclic", random_state=None, verbose=False,
              return_n_iter=False, return_intercept=False, device="cpu"):
    """Compute the elastic-net path with warm-started coordinate descent.

    For a 1-D ``y`` the objective at each ``alpha`` is::

        1 / (2 * n_samples) * ||y - Xw - b||^2_2
        + alpha * l1_ratio * ||w||_1 + 0.5 * alpha * (1 - l1_ratio) * ||w||^2_2

    Like :func:`sklearn.linear_model.enet_path`, the default is no intercept
    (``fit_intercept=False``: ``b = 0``, centre ``X`` and ``y`` yourself); pass
    ``fit_intercept=True`` to fit it, implicitly for sparse ``X``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        A 2-D ``y`` fits every column as its own problem (not scikit-learn's joint
        multi-task problem) on one alpha grid, starting at the largest ``alpha_max``
        of the columns.
    l1_ratio : float, default=0.5
        Mixing parameter in ``[0, 1]``.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    alphas : int or array-like, default=100
        Number of alphas of the automatic grid, or the alphas themselves (solved in
        decreasing order and returned in that order).
    coef_init : array-like of shape (n_features,), default=None
        Start point of the first fit.
    fit_intercept : bool, default=False
        Fit an unpenalised intercept.
    sample_weight : array-like of shape (n_samples,), default=None
    tol : float, default=1e-4
        Relative tolerance on the duality gap (scikit-learn's rule).
    max_iter : int, default=1000
        Maximum epochs per alpha.
    positive : bool, default=False
    selection : {'cyclic', 'random'}, default='cyclic'
    random_state : int, RandomState instance or None, default=None
    verbose : bool or int, default=False
    return_n_iter : bool, default=False
        Also return the number of epochs of each fit.
    return_intercept : bool, default=False
        Also return the intercepts (zeros when ``fit_intercept=False``).
    device : {"cpu", "gpu", "auto"}, default="cpu"
        ``"gpu"`` solves the path by FISTA on an NVIDIA GPU through CuPy
        (:mod:`sparse_estimators.gpu`): ``X`` goes to the device once, and each alpha
        is warm-started from the previous one's coefficients. ``max_iter`` and the
        returned ``n_iters`` then count FISTA iterations, and ``selection`` /
        ``random_state`` do not apply. The automatic grid is computed on the device
        too (``Xc^T yc`` there, no host copy of ``X``). ``"auto"`` takes the GPU
        when CuPy and a device are there and the CPU otherwise; ``"gpu"`` without
        CuPy raises ``ImportError`` with the install hint.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas) or (n_targets, n_features, n_alphas)
    dual_gaps : ndarray of shape (n_alphas,) or (n_targets, n_alphas)
    n_iters : list of int, only with ``return_n_iter=True``
    intercepts : ndarray of shape (n_alphas,) or (n_targets, n_alphas), only with
        ``return_intercept=True``

    Examples
    --------
    >>> import numpy as np
    >>> from sparse_estimators.linear_model import enet_path
    >>> X = np.array([[1., 2.], [3., 4.], [5., 7.]]); y = np.array([1., 2., 3.1])
    >>> alphas, coefs, gaps = enet_path(X, y, alphas=3, l1_ratio=0.9)
    >>> alphas.shape, coefs.shape
    ((3,), (2, 3))
    >>> bool(np.all(coefs[:, 0] == 0))
    True
    """
    if not 0.0 <= float(l1_ratio) <= 1.0:
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio}.")
    if not float(eps) > 0:
        raise ValueError(f"eps must be positive, got {eps}.")
    if selection not in ("cyclic", "random"):
        raise ValueError(f"selection must be 'cyclic' or 'random', got {selection!r}.")
    if not (isinstance(max_iter, numbers.Integral) and max_iter >= 1):
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}.")
    if not float(tol) >= 0:
        raise ValueError(f"tol must be non-negative, got {tol!r}.")
    backend = device_backend(device)
    check_sparse_structure(X)
    X = check_array(X, accept_sparse=["csc", "csr"], dtype=_DTYPES)
    y = check_array(y, dtype=X.dtype, ensure_2d=False)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y have inconsistent numbers of samples: "
                         f"{X.shape[0]} and {y.shape[0]}.")
    alphas = check_alphas(alphas)
    if isinstance(alphas, int) and l1_ratio == 0:
        raise ValueError("An automatic alpha grid needs l1_ratio > 0; pass alphas "
                         "explicitly for ridge.")
    if coef_init is not None:
        coef_init = np.asarray(coef_init, dtype=np.float64)
        if coef_init.shape != (X.shape[1],):
            raise ValueError(f"coef_init must have shape (n_features,) = "
                             f"({X.shape[1]},), got {coef_init.shape}.")
    sw = normalized_sample_weight(sample_weight, X)
    if backend is None:
        design = Design(X, sw, fit_intercept)
    else:
        # X goes to the device once, for the grid and every target's path: no host
        # CSC copy of it
        from ..gpu import prepare_design
        design = prepare_design(backend, X, sw, fit_intercept)
    Y = y[:, None] if y.ndim == 1 else y
    shuffle, seed = _seed(selection, random_state)
    targets = [design.center_target(Y[:, k]) for k in range(Y.shape[1])]
    if isinstance(alphas, int):
        # one grid for every target (each column is its own problem): it starts at
        # the largest alpha_max so that every column's path starts at zero
        grid = max((alpha_grid(design, yc, l1_ratio=l1_ratio, eps=eps,
                               n_alphas=alphas, positive=positive)
                    for yc, _ in targets), key=lambda g: g[0])
    else:
        grid = alphas
    results = []
    for k, (yc, y_offset) in enumerate(targets):
        if backend is None:
            coefs, gaps, its, conv = enet_path_solve(
                design, yc, grid, l1_ratio, coef_init=coef_init, positive=positive,
                tol=tol, max_iter=max_iter, shuffle=shuffle, seed=seed,
                verbose=verbose)
            icpt = np.array([design.intercept(coefs[:, i], y_offset)
                             for i in range(coefs.shape[1])])
        else:
            coefs, icpt, gaps, its, conv = _device_path(
                backend, design, X, Y[:, k], grid, l1_ratio, coef_init,
                sample_weight=sw, fit_intercept=fit_intercept, positive=positive,
                tol=tol, max_iter=max_iter, verbose=verbose)
        _warn_not_converged(gaps, conv, gap_tolerance(yc, tol, design.W), max_iter,
                            unit="epochs" if backend is None else "FISTA iterations")
        results.append((grid, coefs, gaps, its, icpt))
    if y.ndim == 1:
        _, coefs, gaps, its, icpt = results[0]
    else:
        coefs = np.stack([r[1] for r in results])
        gaps = np.stack([r[2] for r in results])
        its = [r[3] for r in results]
        icpt = np.stack([r[4] for r in results])
    out = (grid, coefs, gaps)
    if return_n_iter:
        out += (its,)
    if return_intercept:
        out += (icpt,)
    return out


def _device_path(backend, design, X, y, alphas, l1_ratio, w0=None, **kwargs):
    """The path on ``backend``: :func:`sparse_estimators.gpu.enet_fista` at each
    alpha in the given order, warm-started from the previous coefficients, on the
    device ``design`` of ``X``. Returns ``(coefs of shape (n_features, n_alphas),
    intercepts, gaps, n_iters, converged)``, each along the alphas."""
    from .. import gpu

    n_alphas = len(alphas)
    coefs = np.empty((X.shape[1], n_alphas), dtype=X.dtype)
    icpts, gaps = np.empty(n_alphas), np.empty(n_alphas)
    conv = np.empty(n_alphas, dtype=bool)
    its = []
    for j, alpha in enumerate(alphas):
        w0, icpts[j], gaps[j], n_iter, conv[j] = gpu.enet_fista(
            backend, X, y, alpha, l1_ratio, w0=w0, design=design, **kwargs)
        coefs[:, j] = w0
        its.append(n_iter)
    return coefs, icpts, gaps, its, conv


def lasso_path(X, y, *, eps=1e-3, alphas=100, **params):
    """Compute the Lasso path with warm-started coordinate descent.

    :func:`enet_path` with ``l1_ratio=1``: the objective at each ``alpha`` is
    ``1 / (2 * n_samples) * ||y - Xw||^2_2 + alpha * ||w||_1``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    alphas : int or array-like, default=100
        Grid size or the alphas themselves.
    **params
        Keyword arguments of :func:`enet_path` (``fit_intercept``, ``tol``,
        ``max_iter``, ``positive``, ``sample_weight``, ``return_n_iter``, ...).

    Returns
    -------
    alphas, coefs, dual_gaps[, n_iters][, intercepts]
        As :func:`enet_path`.

    Examples
    --------
    >>> import numpy as np
    >>> from sparse_estimators.linear_model import lasso_path
    >>> X = np.array([[1., 2.], [3., 4.], [5., 7.]]); y = np.array([1., 2., 3.1])
    >>> alphas, coefs, _ = lasso_path(X, y, alphas=[5., 1., .5])
    >>> coefs.round(3)
    array([[0.   , 0.   , 0.   ],
           [0.242, 0.416, 0.438]])
    """
    if "l1_ratio" in params:
        raise TypeError("lasso_path() got an unexpected keyword argument 'l1_ratio'")
    return enet_path(X, y, l1_ratio=1.0, eps=eps, alphas=alphas, **params)
