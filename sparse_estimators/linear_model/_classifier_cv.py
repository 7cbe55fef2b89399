"""Regularisation paths of the sparse linear classifiers, and their cross-validated
versions (``C`` chosen on held-out folds along warm-started paths)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import SparseCoefMixin
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import check_array, check_consistent_length, column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import validate_data

from .._solvers._glm import as_solver_input, csr_or_none, glm_solve
from ..utils import check_sparse_structure, device_backend
from ..utils._warnings import warn_at_caller
from ._classifiers import (
    _DTYPES,
    SparseLinearSVC,
    SparseLogisticRegression,
    _binary_problems,
    _CheckedLinearClassifierMixin,
    _LogisticProbaMixin,
    c_min,
)

_LOSS_OF = {"logistic": SparseLogisticRegression, "squared_hinge": SparseLinearSVC}


def _c_grid(X, problems, sw, loss, l1_ratio, fit_intercept, Cs, eps):
    """Increasing C grid: ``Cs`` values from the smallest C with a non-zero model up
    to ``1/eps`` times it (geometric), or the given values sorted."""
    if isinstance(Cs, Integral) and not isinstance(Cs, bool):
        if Cs < 1:
            raise ValueError(f"Cs must be a positive integer or an array, got {Cs}.")
        if l1_ratio == 0:
            raise ValueError("With l1_ratio=0 there is no all-zero model to start a grid "
                             "from: give the C values (Cs=array).")
        low = c_min(X, problems, sw, loss, l1_ratio, fit_intercept)
        return np.geomspace(low, low / eps, int(Cs))
    grid = np.sort(np.asarray(Cs, dtype=np.float64).ravel())
    if grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid <= 0):
        raise ValueError(f"Cs must be positive and finite, got {Cs!r}.")
    return grid


def _path(solve, Cs, n_features):
    """One binary problem along the increasing ``Cs``, each fit warm-started from the
    previous one: ``solve(C, w0, b0)`` returns ``(w, b, gap, n_iter, converged)``.
    Returns coefs (n_Cs, p), intercepts, n_iter, converged flags."""
    coefs = np.zeros((Cs.shape[0], n_features))
    intercepts = np.zeros(Cs.shape[0])
    n_iter = np.zeros(Cs.shape[0], dtype=np.int32)
    converged = np.ones(Cs.shape[0], dtype=bool)
    w = b = None
    for i, C in enumerate(Cs):
        w, b, _, n_iter[i], converged[i] = solve(C, w, b)
        coefs[i], intercepts[i] = w, b
    return coefs, intercepts, n_iter, converged


def _cpu_solver(X, y, c, *, loss, l1_ratio, fit_intercept, tol, max_iter, X_rows=None):
    """``solve(C, w0, b0)`` of :func:`_path` by the proximal Newton solver. ``X`` is a
    float64 CSC matrix or array (converted once by the caller), ``X_rows`` the same
    as CSR when at hand (see :func:`glm_solve`)."""
    l1, l2 = float(l1_ratio), float(1.0 - l1_ratio)

    def solve(C, w, b):
        return glm_solve(X, y, C * c, l1, l2, loss=loss, fit_intercept=fit_intercept,
                         w0=w, b0=b, tol=tol, max_iter=max_iter, X_rows=X_rows)
    return solve


def _device_solver(backend, X, y, design, *, loss, l1_ratio, fit_intercept, tol,
                   max_iter):
    """``solve(C, w0, b0)`` of :func:`_path` by FISTA on ``backend``, ``design`` (``X``
    and the loss weights ``c`` on the device, from
    :func:`~sparse_estimators.gpu.prepare_glm_design`) shared by every ``C`` and
    every one-vs-rest problem: the objective divided by ``C``, ``sum_i c_i loss +
    (l1/C) ||w||_1 + (l2/C)/2 ||w||^2``, has the same minimisers and the same gap
    relative to its all-zero objective, so ``C`` only rescales the penalty."""
    from ..gpu import glm_fista

    l1, l2 = float(l1_ratio), float(1.0 - l1_ratio)

    def solve(C, w, b):
        return glm_fista(backend, X, y, None, l1 / C, l2 / C, loss=loss,
                         fit_intercept=fit_intercept, w0=w, b0=b, tol=tol,
                         max_iter=max_iter, design=design)
    return solve


def _problem_paths(X, problems, c, grid, *, device, loss, l1_ratio, fit_intercept, tol,
                   max_iter, n_jobs=None, X_rows=None):
    """:func:`_path` of every one-vs-rest problem of ``X`` (CSC or array on the CPU,
    host data on a device), one design for them all; ``device`` a backend or
    ``None`` for the CPU (threads over the problems with ``n_jobs``)."""
    kw = dict(loss=loss, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=tol,
              max_iter=max_iter)
    if device is None:
        return Parallel(n_jobs=n_jobs, prefer="threads")(
            delayed(_path)(_cpu_solver(X, yk, c, X_rows=X_rows, **kw), grid, X.shape[1])
            for yk in problems)
    from ..gpu import prepare_glm_design

    design = prepare_glm_design(device, X, c, fit_intercept)
    return [_path(_device_solver(device, X, yk, design, **kw), grid, X.shape[1])
            for yk in problems]


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "loss": [StrOptions({"logistic", "squared_hinge"})],
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "sample_weight": ["array-like", None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_jobs": [None, Integral],
        "device": [StrOptions({"cpu", "gpu", "auto"})],
    },
    prefer_skip_nested_validation=True,
)
def classifier_path(X, y, *, loss="logistic", Cs=10, eps=1e-3, l1_ratio=1.0,
                    fit_intercept=True, sample_weight=None, class_weight=None, tol=1e-4,
                    max_iter=100, n_jobs=None, device="cpu"):
    """Coefficients of :class:`SparseLogisticRegression` / :class:`SparseLinearSVC`
    along a grid of ``C``, with warm starts.

    The grid runs from the smallest ``C`` with a non-zero model (:func:`l1_min_c`,
    where ``coef_`` is all zero) up to ``1/eps`` times it; each fit starts from the
    previous solution, so the whole path costs a few single fits. Multiclass targets
    give one path per one-vs-rest problem (in parallel threads with ``n_jobs``).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    loss : {"logistic", "squared_hinge"}, default="logistic"
    Cs : int or array-like, default=10
        Number of grid points, or the C values (sorted increasingly).
    eps : float, default=1e-3
        ``C_min / C_max`` of the automatic grid.
    l1_ratio : float, default=1.0
        As in the estimators; with ``l1_ratio=0`` give ``Cs`` explicitly.
    fit_intercept : bool, default=True
    sample_weight : array-like of shape (n_samples,), default=None
    class_weight : dict or "balanced", default=None
    tol : float, default=1e-4
        Relative duality-gap tolerance of every fit (as the estimators' ``tol``).
    max_iter : int, default=100
        Newton iterations per fit.
    n_jobs : int, default=None
        Threads over the one-vs-rest problems.
    device : {"cpu", "gpu", "auto"}, default="cpu"
        ``"gpu"``: every fit by FISTA on the GPU as in
        :class:`SparseLogisticRegression` (``X`` moved to the device once for the
        whole path and all the one-vs-rest problems, which then run one after the
        other; ``max_iter`` counts FISTA iterations). ``"auto"``: the GPU when CuPy
        and a device are there, else the CPU.

    Returns
    -------
    Cs : ndarray of shape (n_Cs,)
        Increasing.
    coefs : ndarray of shape (n_problems, n_Cs, n_features)
        ``n_problems`` is 1 for two classes, else the number of classes.
    intercepts : ndarray of shape (n_problems, n_Cs)
    n_iter : ndarray of shape (n_problems, n_Cs)
        Newton iterations of each fit.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sparse_estimators.linear_model import classifier_path
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> Cs, coefs, intercepts, _ = classifier_path(StandardScaler().fit_transform(X), y,
    ...                                            Cs=5)
    >>> coefs.shape
    (1, 5, 30)
    >>> nnz = [int((c != 0).sum()) for c in coefs[0]]   # sparse to dense along the path
    >>> nnz[0], nnz[1] < nnz[-1] < 30
    (0, True)
    """
    check_sparse_structure(X)
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=_DTYPES)
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    _, problems, sw = _binary_problems(X, y, sample_weight, class_weight)
    backend = device_backend(device)
    # the CPU solver needs X as float64 CSC; the device path solves on X itself,
    # and the grid reads a CSR X as it is (no host CSC copy)
    Xs = as_solver_input(X) if backend is None or csr_or_none(X) is None else X
    grid = _c_grid(Xs, problems, sw, loss, l1_ratio, fit_intercept, Cs, eps)
    results = _problem_paths(X if backend is not None else Xs, problems, sw, grid,
                             device=backend, loss=loss, l1_ratio=l1_ratio,
                             fit_intercept=fit_intercept, tol=tol, max_iter=max_iter,
                             n_jobs=n_jobs, X_rows=csr_or_none(X))
    if not all(r[3].all() for r in results):
        kind = "Newton" if backend is None else "FISTA"
        warn_at_caller(f"Some fits of the path did not reach tol={tol:g} in "
                       f"max_iter={max_iter} {kind} iterations.", ConvergenceWarning)
    return (grid, np.array([r[0] for r in results]), np.array([r[1] for r in results]),
            np.array([r[2] for r in results]))


class _SparseLinearClassifierCV(_CheckedLinearClassifierMixin, SparseCoefMixin,
                                BaseEstimator):
    """Shared fit of the cross-validated sparse linear classifiers."""

    _loss = None

    _parameter_constraints: dict = {
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
        "device": [StrOptions({"cpu", "gpu", "auto"})],
    }

    def __init__(self, Cs=10, *, eps=1e-3, l1_ratio=1.0, fit_intercept=True, cv=None,
                 scoring=None, tol=1e-4, max_iter=100, class_weight=None, n_jobs=None,
                 verbose=0, device="cpu"):
        self.Cs = Cs
        self.eps = eps
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.scoring = scoring
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.device = device

    def _single(self, C):
        return _LOSS_OF[self._loss](
            C=C, l1_ratio=self.l1_ratio, fit_intercept=self.fit_intercept, tol=self.tol,
            max_iter=self.max_iter, class_weight=self.class_weight, n_jobs=self.n_jobs,
            verbose=self.verbose, device=self.device)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the path on every fold, pick ``C``, refit on all the data.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        check_sparse_structure(X)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=_DTYPES)
        # class weights ("balanced" included) from all of y, as scikit-learn's
        # LogisticRegressionCV: every fold solves the same weighted objective
        classes, problems, sw = _binary_problems(X, y, sample_weight, self.class_weight)
        X_rows = csr_or_none(X)
        # CSR input: each fold converts its own rows; the grid reads the CSR as is
        Xs = as_solver_input(X) if X_rows is None else X
        grid = _c_grid(Xs, problems, sw, self._loss, self.l1_ratio, self.fit_intercept,
                       self.Cs, self.eps)
        folds = list(check_cv(self.cv, y, classifier=True).split(X, y))
        for f, (train, _) in enumerate(folds):
            present = np.unique(y[train]).tolist()     # Python scalars for the message
            missing = [c for c in np.asarray(classes).tolist() if c not in present]
            if len(present) < 2 or (len(classes) > 2 and missing):
                what = (f"a single class ({present[0]!r})" if len(present) < 2 else
                        f"no sample of class {missing[0]!r} (its one-vs-rest problem "
                        "has a single class)")
                raise ValueError(f"Training fold {f} holds {what}: use fewer folds or "
                                 "a stratified splitter.")

        backend = device_backend(self.device)
        kw = dict(device=backend, loss=self._loss, l1_ratio=self.l1_ratio,
                  fit_intercept=self.fit_intercept, tol=self.tol, max_iter=self.max_iter)

        def fold_paths(train):
            # one row selection per fold, shared by its problems
            if backend is not None:
                return _problem_paths(X[train], [yk[train] for yk in problems],
                                      sw[train], grid, **kw)
            if X_rows is None:
                Xt, Xt_rows = Xs[train], None
            else:
                Xt_rows = X_rows[train]
                Xt = as_solver_input(Xt_rows)
            return _problem_paths(Xt, [yk[train] for yk in problems], sw[train], grid,
                                  X_rows=Xt_rows, **kw)

        # threads over folds (the numba kernels release the GIL); one at a time on
        # a device
        results = Parallel(n_jobs=self.n_jobs if backend is None else None,
                           prefer="threads")(
            delayed(fold_paths)(train) for train, _ in folds)
        coefs = np.array([[r[0] for r in fold] for fold in results])
        intercepts = np.array([[r[1] for r in fold] for fold in results])
        scorer = check_scoring(self._single(1.0), scoring=self.scoring)
        scores = np.empty((len(folds), grid.shape[0]))
        # the weights as the fits saw them, a scalar broadcast to every row
        sw_rows = (None if sample_weight is None else
                   np.broadcast_to(np.asarray(sample_weight, dtype=np.float64),
                                   (X.shape[0],)))
        for f, (_, test) in enumerate(folds):
            sw_test = None if sw_rows is None else sw_rows[test]
            kwargs = {} if sw_test is None else {"sample_weight": sw_test}
            for i, C in enumerate(grid):
                model = self._single(C)
                model.classes_, model.n_features_in_ = classes, X.shape[1]
                model.coef_ = coefs[f, :, i].astype(X.dtype)
                model.intercept_ = intercepts[f, :, i].astype(X.dtype)
                scores[f, i] = scorer(model, X[test], y[test], **kwargs)
        best = int(np.argmax(scores.mean(axis=0)))   # first best: the sparsest
        final = self._single(grid[best]).fit(X, y, sample_weight=sample_weight)
        self.Cs_ = grid
        self.C_ = float(grid[best])
        self.scores_ = scores
        self.coefs_paths_ = coefs
        self.intercepts_paths_ = intercepts
        self.classes_ = final.classes_
        self.coef_ = final.coef_
        self.intercept_ = final.intercept_
        self.n_iter_ = final.n_iter_
        self.dual_gap_ = final.dual_gap_
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


_CV_DOC = """{summary}

    For each fold the path of :func:`classifier_path` (``Cs`` values from the
    smallest C with a non-zero model up to ``1/eps`` times it, computed once on all
    the data; each fit warm-started from the previous one) is fitted on the
    training part and scored on the held-out part; the ``C`` with the best mean
    score (the smallest on ties: the sparsest model) is refitted on all the data.
    Fits run in parallel threads over folds and one-vs-rest problems with
    ``n_jobs``. Class weights (``"balanced"`` included) are computed on all of
    ``y``, as in scikit-learn's ``LogisticRegressionCV``.

    Parameters
    ----------
    Cs : int or array-like, default=10
        Number of grid points, or the C values.
    eps : float, default=1e-3
        ``C_min / C_max`` of the automatic grid.
    l1_ratio : float, default=1.0
        Elastic-net mixing (with ``l1_ratio=0`` give ``Cs`` explicitly).
    fit_intercept : bool, default=True
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn (``None``: 5-fold stratified).
    scoring : str or callable, default=None
        Held-out score to maximise (default: accuracy).
    tol : float, default=1e-4
    max_iter : int, default=100
    class_weight : dict or "balanced", default=None
    n_jobs : int, default=None
        Threads over the folds (CPU only).
    verbose : int, default=0
    device : {{"cpu", "gpu", "auto"}}, default="cpu"
        ``"gpu"``: every fit of every fold by FISTA on the GPU, as in
        :class:`{single}` (each fold's ``X`` and weights moved to the device once
        and shared by its one-vs-rest problems and all the ``C`` values; folds run
        one after the other; ``max_iter`` counts FISTA iterations); the final
        refit is ``{single}(device=device)``. ``"auto"``: the GPU when CuPy and a
        device are there, else the CPU.

    Attributes
    ----------
    C_ : float
        The chosen ``C``.
    Cs_ : ndarray of shape (n_Cs,)
    scores_ : ndarray of shape (n_folds, n_Cs)
        Held-out scores.
    coefs_paths_ : ndarray of shape (n_folds, n_problems, n_Cs, n_features)
    intercepts_paths_ : ndarray of shape (n_folds, n_problems, n_Cs)
    classes_, coef_, intercept_, n_iter_, dual_gap_
        Of the model refitted at ``C_``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sparse_estimators.linear_model import {name}
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = {name}(Cs=8).fit(X, y)
    >>> clf.scores_.shape
    (5, 8)
    >>> bool(clf.score(X, y) > 0.95)
    True
    """


class SparseLogisticRegressionCV(_LogisticProbaMixin, _SparseLinearClassifierCV):
    _loss = "logistic"
    __doc__ = _CV_DOC.format(
        summary="L1 / elastic-net logistic regression with ``C`` chosen by "
                "cross-validation.", name="SparseLogisticRegressionCV",
        single="SparseLogisticRegression")


class SparseLinearSVCCV(_SparseLinearClassifierCV):
    _loss = "squared_hinge"
    __doc__ = _CV_DOC.format(
        summary="L1 / elastic-net squared-hinge linear SVM with ``C`` chosen by "
                "cross-validation.", name="SparseLinearSVCCV", single="SparseLinearSVC")
