"""Prune-and-refit: prune a fitted linear model to a target sparsity or pattern, then
refit it on the kept support (debiasing)."""

import copy
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, get_tags, validate_data

from ..utils._validation import check_sparse_structure
from ._prune import apply_mask, block_norms, pattern_mask


def _inner_has(name):
    def check(self):
        est = getattr(self, "estimator_", self.estimator)
        return hasattr(est, name)
    return check


def cubic_schedule(target, n_steps):
    """Sparsity after each of ``n_steps`` pruning steps, rising to ``target`` along
    the cubic schedule ``s_t = target * (1 - (1 - t/T)**3)`` of Zhu & Gupta ("To prune,
    or not to prune", 2017): big steps first, small ones near the target.

    Examples
    --------
    >>> from sparse_estimators.sparsity import cubic_schedule
    >>> cubic_schedule(0.9, 3).round(3)
    array([0.633, 0.867, 0.9  ])
    """
    t = np.arange(1, n_steps + 1) / n_steps
    return target * (1.0 - (1.0 - t) ** 3)


def nm_schedule(n, m, n_steps):
    """Kept-per-group counts for iterative N:M pruning: from ``m`` down to ``n`` in
    ``n_steps`` (as even as integers allow), e.g. 2:4 in two steps is 3:4 then 2:4.

    Examples
    --------
    >>> from sparse_estimators.sparsity import nm_schedule
    >>> nm_schedule(1, 8, 3)
    [6, 3, 1]
    """
    return [int(round(m - (m - n) * t / n_steps)) for t in range(1, n_steps + 1)]


class PruneRefit(MetaEstimatorMixin, BaseEstimator):
    """Prune a linear model's ``coef_`` to a target sparsity or pattern, then refit it
    on the kept features (debiasing).

    ``fit`` fits ``estimator`` on all features, ranks its weights (by magnitude, or by
    how much the validation score drops when a weight or block is removed), keeps
    the best ones under the chosen pattern, and refits on the kept support: each
    row of ``coef_`` (each target, or each class one-vs-rest) is refitted on the
    columns it keeps, and the resulting weights and intercepts replace those of the
    full model. Iterative pruning (``n_steps > 1``) alternates pruning and refitting
    along a schedule that reaches the target at the last step.

    Parameters
    ----------
    estimator : estimator object
        A linear regressor or classifier exposing ``coef_`` (and ``intercept_``)
        after ``fit``, e.g. ``Ridge``, ``Lasso``, ``LogisticRegression``,
        ``SparseLogisticRegression``.
    sparsity : float in [0, 1], default=0.5
        Fraction of weights (``pattern="unstructured"``) or blocks (``"block"``) to
        prune. Ignored for ``"n:m"``, whose sparsity is ``1 - n/m``.
    pattern : {"unstructured", "n:m", "block"}, default="unstructured"
        Unstructured keeps the largest weights of the whole ``coef_`` (or of each
        row with ``axis=1``); "n:m" keeps ``n`` of every ``m`` consecutive features
        of each row; "block" prunes whole ``block_shape`` blocks.
    n, m : int, default=2, 4
        The N:M pattern.
    block_shape : (int, int), default=(1, 4)
        Block size (rows of ``coef_`` x features).
    axis : {None, 1, 0, -1}, default=None
        Unstructured pattern only: ``None`` ranks all weights together, ``1`` prunes
        each row of ``coef_`` to ``sparsity``.
    n_steps : int, default=1
        1 prunes in one shot. More steps prune iteratively: unstructured and block
        sparsity follow :func:`cubic_schedule`; N:M goes through ``m-1:m`` ... ``n:m``
        (:func:`nm_schedule`); each step is followed by a refit.
    refit : bool, default=True
        Refit on the kept support. ``False`` only masks the full model's weights.
    refit_estimator : estimator object, default=None
        Estimator used for the refits (default: a clone of ``estimator``). A plain
        least-squares or weakly penalised model here debiases an L1 fit.
    criterion : {"magnitude", "sensitivity"}, default="magnitude"
        How weights are ranked. ``"sensitivity"`` holds out ``validation_fraction``
        of the training data, fits on the rest, and scores every non-zero weight
        (unstructured, N:M) or block by the drop of the validation score when it alone
        is set to zero (ties broken by magnitude); the final fit and refit then use
        all the data. Cost: one validation score per non-zero weight or block.
    scoring : str or callable, default=None
        Scorer of the sensitivity criterion (default: the estimator's ``score``).
    validation_fraction : float in (0, 1), default=0.2
        Held-out share of the sensitivity criterion.
    random_state : int, RandomState instance or None, default=None
        Seed of the validation split.

    Attributes
    ----------
    estimator_ : estimator
        The pruned (and refitted) model; ``predict`` and friends delegate to it.
    dense_estimator_ : estimator
        ``estimator`` fitted on all features, before pruning.
    mask_ : ndarray of bool, shape of ``coef_``
        Kept weights.
    coef_ : ndarray
        ``estimator_.coef_`` (zeros outside ``mask_``); ``SelectFromModel`` reads it.
    intercept_ : float or ndarray
        ``estimator_.intercept_``.
    sparsity_ : float
        Achieved fraction of zero weights in ``coef_``.
    classes_ : ndarray
        Classifiers only.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has string feature names.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> from sparse_estimators.sparsity import PruneRefit
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = PruneRefit(Ridge(alpha=0.1), sparsity=0.5).fit(X, y)
    >>> int((model.coef_ != 0).sum()), model.sparsity_
    (5, 0.5)
    >>> masked = PruneRefit(Ridge(alpha=0.1), sparsity=0.5, refit=False).fit(X, y)
    >>> bool(model.score(X, y) > masked.score(X, y))
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"])],
        "sparsity": [Interval(Real, 0, 1, closed="both")],
        "pattern": [StrOptions({"unstructured", "n:m", "block"})],
        "n": [Interval(Integral, 1, None, closed="left")],
        "m": [Interval(Integral, 1, 256, closed="both")],
        "block_shape": [tuple, list],
        "axis": [None, Interval(Integral, -1, 1, closed="both")],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "refit": ["boolean"],
        "refit_estimator": [None, HasMethods(["fit"])],
        "criterion": [StrOptions({"magnitude", "sensitivity"})],
        "scoring": [None, str, callable],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, *, sparsity=0.5, pattern="unstructured", n=2, m=4,
                 block_shape=(1, 4), axis=None, n_steps=1, refit=True, refit_estimator=None,
                 criterion="magnitude", scoring=None, validation_fraction=0.2,
                 random_state=None):
        self.estimator = estimator
        self.sparsity = sparsity
        self.pattern = pattern
        self.n = n
        self.m = m
        self.block_shape = block_shape
        self.axis = axis
        self.n_steps = n_steps
        self.refit = refit
        self.refit_estimator = refit_estimator
        self.criterion = criterion
        self.scoring = scoring
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit, prune and refit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every fit and refit (the wrapped estimators must accept it).

        Returns
        -------
        self : object
        """
        if self.n > self.m:
            raise ValueError(f"n must be at most m, got n={self.n}, m={self.m}.")
        check_sparse_structure(X)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=None,
                             multi_output=True, y_numeric=not is_classifier(self.estimator))
        if sp.issparse(X):
            X = X.tocsc()      # column selection for the refits
        if is_classifier(self.estimator):
            self.classes_ = np.unique(y)
        data = (X, y, sample_weight)
        self.dense_estimator_ = self._fit_clone(self.estimator, *data)
        if getattr(self.dense_estimator_, "coef_", None) is None:
            raise TypeError(f"{type(self.estimator).__name__} has no coef_ after fit: "
                            "PruneRefit wraps linear estimators.")
        model = self.dense_estimator_
        select = data
        if self.criterion == "sensitivity":
            split = train_test_split(*[a for a in data if a is not None],
                                     test_size=self.validation_fraction,
                                     random_state=self.random_state,
                                     stratify=y if self._can_stratify(y) else None)
            train, val = split[0::2], split[1::2]
            if sample_weight is None:
                train, val = (*train, None), (*val, None)
            select = tuple(train)
            model = self._fit_clone(self.estimator, *select)
            scorer = check_scoring(model, scoring=self.scoring)

        mask = None
        for target in self._schedule():
            scores = None
            if self.criterion == "sensitivity":
                scores = self._sensitivity(model, scorer, val[0], val[1], val[2])
            mask = self._mask(np.atleast_2d(model.coef_), target, scores, mask)
            model = (self._refit(model, mask, *select) if self.refit
                     else self._masked(model, mask))
        if self.criterion == "sensitivity":    # final model from all the data
            model = (self._refit(self.dense_estimator_, mask, *data) if self.refit
                     else self._masked(self.dense_estimator_, mask))
        self.estimator_ = model
        self.mask_ = mask.reshape(np.shape(self.dense_estimator_.coef_))
        self.sparsity_ = float(np.mean(np.asarray(model.coef_) == 0))
        return self

    def _can_stratify(self, y):
        if not is_classifier(self.estimator):
            return False
        _, counts = np.unique(y, return_counts=True)
        n_val = int(np.ceil(self.validation_fraction * len(y)))
        return counts.min() >= 2 and n_val >= len(counts) and len(y) - n_val >= len(counts)

    def _fit_clone(self, est, X, y, sample_weight):
        est = clone(est)
        if sample_weight is None:
            return est.fit(X, y)
        return est.fit(X, y, sample_weight=sample_weight)

    def _schedule(self):
        if self.pattern == "n:m":
            return nm_schedule(self.n, self.m, self.n_steps)
        return list(cubic_schedule(self.sparsity, self.n_steps))

    def _mask(self, coef, target, scores, previous):
        """Kept weights of the 2-D ``coef`` at this step's ``target`` (a sparsity,
        or the kept-per-group count for N:M). Pruned weights stay pruned."""
        if not np.all(np.isfinite(coef)):     # fit checked that coef_ exists
            raise ValueError("The estimator's coef_ is not finite.")
        if scores is None:
            scores = np.abs(coef).astype(np.float64)
            if self.pattern == "block":
                scores = block_norms(coef, self.block_shape)
        if previous is not None:   # keep the pruned ones pruned (ranked lowest)
            floor = -np.inf
            if self.pattern == "block":
                kept_blocks = block_norms(previous.astype(np.float64), self.block_shape) > 0
                scores = np.where(kept_blocks, scores, floor)
            else:
                scores = np.where(previous, scores, floor)
        if self.pattern == "n:m":
            return pattern_mask(coef, pattern="n:m", n=target, m=self.m, scores=scores)
        if self.pattern == "block":
            return pattern_mask(coef, pattern="block", sparsity=target,
                                block_shape=self.block_shape, scores=scores)
        return pattern_mask(coef, pattern="unstructured", sparsity=target, axis=self.axis,
                            scores=scores)

    # ---------------------------------------------------------- sensitivity
    def _groups(self, coef):
        """The weight groups the sensitivity criterion scores: a list of (flat
        indices) per group, and the shape of the score array."""
        if self.pattern == "block":
            br, bc = self.block_shape
            grid = block_norms(coef, self.block_shape).shape
            flat = np.arange(coef.size).reshape(coef.shape)
            groups = [flat[i * br:(i + 1) * br, j * bc:(j + 1) * bc].ravel()
                      for i in range(grid[0]) for j in range(grid[1])]
            return groups, grid
        return [np.array([k]) for k in range(coef.size)], coef.shape

    def _sensitivity(self, model, scorer, X_val, y_val, sw_val):
        """Validation-score drop when each group alone is zeroed (higher: more
        important), ranked with magnitude as the tie-breaker; zero groups rank last."""
        coef = np.atleast_2d(np.asarray(model.coef_, dtype=np.float64))
        groups, shape = self._groups(coef)
        kwargs = {} if sw_val is None else {"sample_weight": sw_val}
        base = scorer(model, X_val, y_val, **kwargs)
        probe = copy.copy(model)
        original = np.asarray(model.coef_)
        drop = np.full(len(groups), -np.inf)
        mag = np.zeros(len(groups))
        for g, idx in enumerate(groups):
            values = coef.ravel()[idx]
            mag[g] = np.sqrt(np.sum(values ** 2))
            if mag[g] == 0:
                continue
            trial = original.copy()
            trial.reshape(-1)[idx] = 0
            probe.coef_ = trial
            drop[g] = base - scorer(probe, X_val, y_val, **kwargs)
        order = np.lexsort((mag, drop))            # by drop, then magnitude
        rank = np.empty(len(groups))
        rank[order] = np.arange(len(groups))
        rank[np.isneginf(drop)] = -np.inf          # zero groups: pruned first
        return rank.reshape(shape)

    # --------------------------------------------------------------- refits
    def _masked(self, model, mask):
        out = copy.deepcopy(model)
        coef = np.asarray(model.coef_)
        out.coef_ = apply_mask(coef, mask.reshape(coef.shape))
        return out

    def _refit(self, model, mask, X, y, sample_weight):
        """``model`` with each row of ``coef_`` refitted on its kept columns."""
        base = self.refit_estimator if self.refit_estimator is not None else self.estimator
        coef = np.asarray(model.coef_)
        coef2 = np.atleast_2d(coef)
        mask2 = mask.reshape(coef2.shape)
        new_coef = np.zeros(coef2.shape, dtype=coef.dtype)
        intercept = np.atleast_1d(np.array(getattr(model, "intercept_", 0.0), dtype=float))
        new_intercept = np.zeros(max(coef2.shape[0], intercept.shape[0]), dtype=float)
        y_arr = np.asarray(y)
        uniform = bool(np.all(mask2 == mask2[0]))
        if uniform or coef2.shape[0] == 1:
            jobs = [(slice(None), mask2[0], y_arr)]
        elif is_classifier(self.estimator):     # one-vs-rest, class k against the rest
            jobs = [(k, mask2[k], y_arr == self.classes_[k]) for k in range(coef2.shape[0])]
        else:                                    # one target at a time
            jobs = [(k, mask2[k], y_arr[:, k]) for k in range(coef2.shape[0])]
        for rows, cols, target in jobs:
            est, support = self._fit_support(base, X, target, sample_weight, cols)
            c = np.atleast_2d(np.asarray(est.coef_))
            b = np.atleast_1d(np.asarray(getattr(est, "intercept_", 0.0), dtype=float))
            if isinstance(rows, slice):
                new_coef[:, support] = c[:, :support.shape[0]]
                new_intercept[:] = b if b.shape[0] == new_intercept.shape[0] else b[0]
            else:
                new_coef[rows, support] = c[-1, :support.shape[0]]
                new_intercept[rows] = b[-1]
        out = copy.deepcopy(model)
        out.coef_ = new_coef.reshape(coef.shape)
        if hasattr(model, "intercept_"):
            shape = np.shape(model.intercept_)
            out.intercept_ = (float(new_intercept[0]) if shape == ()
                              else new_intercept[:int(np.prod(shape))].reshape(shape)
                              .astype(np.asarray(model.intercept_).dtype))
        return out

    def _fit_support(self, base, X, y, sample_weight, cols):
        """Fit a clone of ``base`` on the columns ``cols`` (a constant zero column
        stands in for an empty support, so the intercept is still fitted)."""
        support = np.flatnonzero(cols)
        if support.shape[0]:
            Xs = X[:, support]
        else:
            Xs = np.zeros((X.shape[0], 1), dtype=X.dtype)
        return self._fit_clone(base, Xs, y, sample_weight), support

    # ------------------------------------------------------------- delegates
    def _check_X(self, X):
        check_is_fitted(self)
        check_sparse_structure(X)
        return validate_data(self, X, reset=False, accept_sparse=["csr", "csc"], dtype=None)

    def predict(self, X):
        """Predict with the pruned model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray
        """
        X = self._check_X(X)
        return self.estimator_.predict(X)

    @available_if(_inner_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the pruned model."""
        X = self._check_X(X)
        return self.estimator_.decision_function(X)

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the pruned model."""
        X = self._check_X(X)
        return self.estimator_.predict_proba(X)

    @available_if(_inner_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities of the pruned model."""
        X = self._check_X(X)
        return self.estimator_.predict_log_proba(X)

    def score(self, X, y, sample_weight=None):
        """The pruned model's ``score`` (R^2 for regressors, accuracy for classifiers).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        X = self._check_X(X)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    @property
    def coef_(self):
        """Pruned weights (``estimator_.coef_``)."""
        check_is_fitted(self)
        return self.estimator_.coef_

    @property
    def intercept_(self):
        """Intercept of the pruned model."""
        check_is_fitted(self)
        return self.estimator_.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags = inner.target_tags
        tags.input_tags.sparse = inner.input_tags.sparse
        return tags

