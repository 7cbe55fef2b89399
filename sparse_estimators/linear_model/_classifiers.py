"""L1 / elastic-net linear classifiers: logistic regression and the L2-loss SVM
(proximal Newton over the working-set coordinate descent of the regression core)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin, SparseCoefMixin
from sklearn.utils import check_array, check_consistent_length, column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_sample_weight, validate_data

from .._solvers._glm import as_solver_input, csr_or_none, glm_solve, null_gradient_norm
from ..utils import check_sparse_structure, device_backend
from ..utils._warnings import warn_at_caller

_DTYPES = [np.float64, np.float32]


#: The ``device`` entry of the classifiers' docstrings (substituted for ``<device>``).
_DEVICE_DOC = """device : {"cpu", "gpu", "auto"}, default="cpu"
        ``"gpu"`` solves by FISTA with adaptive restart on an NVIDIA GPU through
        CuPy (``X`` and ``X^T`` as cuSPARSE CSR; the duality gap of the CPU solver
        every 10 iterations as the stopping rule, its products with ``X`` on the
        device and its ``O(n_samples)`` rest on the host; see
        :mod:`sparse_estimators.gpu`); ``max_iter`` then counts
        FISTA iterations (raise it: thousands are typical at a tight ``tol``), the
        binary problems run one after the other and ``n_jobs`` does not apply.
        ``"auto"`` takes the GPU when CuPy and a device are there and the CPU
        otherwise; ``"gpu"`` without them raises an error saying what is missing.
        The CV classes and :func:`classifier_path` take the same ``device``.

"""


def _with_device_doc(cls):
    cls.__doc__ = cls.__doc__.replace("    <device>\n", "    " + _DEVICE_DOC)
    return cls


class _LogisticProbaMixin:
    """``predict_proba`` of the logistic one-vs-rest classifiers."""

    def predict_proba(self, X):
        """Class probabilities: the logistic function of the decision function,
        normalised over the one-vs-rest problems when there are more than 2 classes.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self._predict_proba_lr(X)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return np.log(self.predict_proba(X))


class _CheckedLinearClassifierMixin(LinearClassifierMixin):
    """scikit-learn's ``predict`` / ``decision_function``, after the sparse-structure
    check its validation lacks (a malformed CSR ``X`` would be read out of bounds)."""

    def decision_function(self, X):
        """Confidence scores ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_sparse_structure(X)
        return super().decision_function(X)


class _SparseLinearClassifier(_CheckedLinearClassifierMixin, SparseCoefMixin, BaseEstimator):
    """Shared fit of the penalised linear classifiers (one-vs-rest over ``_loss``)."""

    _loss = None
    _solver_name = "Proximal Newton"

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
        "device": [StrOptions({"cpu", "gpu", "auto"})],
    }

    def __init__(self, C=1.0, *, l1_ratio=1.0, fit_intercept=True, tol=1e-4, max_iter=100,
                 class_weight=None, warm_start=False, n_jobs=None, verbose=0, device="cpu"):
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.device = device

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Dense, CSR or CSC; float32 or float64 (kept for ``coef_``).
        y : array-like of shape (n_samples,)
            Class labels (any type scikit-learn accepts: strings, integers...).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights multiplying each sample's loss.

        Returns
        -------
        self : object
        """
        check_sparse_structure(X)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=_DTYPES)
        classes, problems, sw = _binary_problems(X, y, sample_weight, self.class_weight)
        c = self.C * sw
        l1, l2 = float(self.l1_ratio), float(1.0 - self.l1_ratio)
        n_problems = len(problems)
        w0 = [None] * n_problems
        b0 = [None] * n_problems
        if (self.warm_start and hasattr(self, "coef_")
                and self.coef_.shape == (n_problems, X.shape[1])):
            w0 = list(np.asarray(self.coef_, dtype=np.float64))
            b0 = list(np.asarray(self.intercept_, dtype=np.float64))
        backend = device_backend(self.device)
        if backend is not None:
            results = self._fit_device(backend, X, problems, c, l1, l2, w0, b0)
            return self._store(X, classes, results, f"FISTA on device {backend.name!r}",
                               "FISTA")

        Xs = as_solver_input(X)  # once for all the binary problems
        X_rows = csr_or_none(X)

        def solve(k):
            return glm_solve(Xs, problems[k], c, l1, l2, loss=self._loss,
                             fit_intercept=self.fit_intercept, w0=w0[k], b0=b0[k],
                             tol=self.tol, max_iter=self.max_iter, verbose=self.verbose,
                             X_rows=X_rows)

        # threads: the numba kernels and numpy release the GIL
        results = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(solve)(k) for k in range(n_problems))
        return self._store(X, classes, results, self._solver_name, "Newton")

    def _fit_device(self, backend, X, problems, c, l1, l2, w0, b0):
        """The binary problems one after the other by FISTA on ``backend`` (see
        :mod:`sparse_estimators.gpu`), ``X`` moved there once."""
        from ..gpu import glm_fista, prepare_glm_design

        design = prepare_glm_design(backend, X, c, self.fit_intercept)
        return [glm_fista(backend, X, yk, c, l1, l2, loss=self._loss,
                          fit_intercept=self.fit_intercept, w0=w0[k], b0=b0[k],
                          tol=self.tol, max_iter=self.max_iter, verbose=self.verbose,
                          design=design)
                for k, yk in enumerate(problems)]

    def _store(self, X, classes, results, solver, iterations):
        """Set the fitted attributes from the ``(w, b, gap, n_iter, converged)`` of
        each binary problem; warn when one did not converge."""
        coef = np.array([r[0] for r in results], dtype=X.dtype)
        intercept = np.array([r[1] for r in results], dtype=X.dtype)
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
            raise ValueError("The solver produced non-finite coefficients: the input has "
                             "values too large for its dtype; scale X.")
        self.classes_ = classes
        self.coef_ = coef
        self.intercept_ = intercept
        self.dual_gap_ = np.array([r[2] for r in results])
        self.n_iter_ = np.array([r[3] for r in results], dtype=np.int32)
        if not all(r[4] for r in results):
            worst = float(np.max(self.dual_gap_))
            warn_at_caller(
                f"{solver} did not converge: relative duality gap {worst:.3e} is above "
                f"tol={self.tol:g} after max_iter={self.max_iter} {iterations} iterations. "
                "Increase max_iter, raise tol, or scale the features.",
                ConvergenceWarning)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


@_with_device_doc
class SparseLogisticRegression(_LogisticProbaMixin, _SparseLinearClassifier):
    """Logistic regression with an L1 or elastic-net penalty, for sparse data.

    Minimises, for each binary problem (labels ``y_i`` in {-1, +1}), the objective
    of :class:`sklearn.linear_model.LogisticRegression`::

        C * sum_i s_i log(1 + exp(-y_i (x_i . w + b)))
            + l1_ratio * ||w||_1 + (1 - l1_ratio) / 2 * ||w||_2^2

    with ``s_i`` the sample weight times the class weight of sample ``i``. The
    intercept ``b`` is not penalised (liblinear penalises it). Multiclass targets
    are fitted one-vs-rest, one binary problem per class, in parallel threads with
    ``n_jobs``.

    The solver is a proximal Newton method (the newGLMNET scheme of Yuan, Ho & Lin,
    JMLR 2012): each Newton step minimises the penalised second-order model of the
    loss, a weighted elastic net, with this library's working-set coordinate
    descent (gap-safe screening, Anderson acceleration), followed by an Armijo line
    search. It stops on a certified duality gap. X is never densified: the Newton
    steps read columns from a CSC form (made once per fit from CSR input), the gap
    checks' products ``X^T v`` scan the rows of CSR input as given; dense input is
    used as a float64 array.

    Parameters
    ----------
    C : float, default=1.0
        Inverse of the regularisation strength (weight of the data term), as in
        scikit-learn's ``LogisticRegression``.
    l1_ratio : float, default=1.0
        Elastic-net mixing, ``0 <= l1_ratio <= 1``: 1 is the pure L1 penalty
        (sparse ``coef_``), 0 the pure L2 penalty.
    fit_intercept : bool, default=True
        Whether to fit an unpenalised intercept.
    tol : float, default=1e-4
        Stop once the duality gap is at most ``tol`` times the objective of the
        all-zero model (with its optimal intercept): a bound on the relative
        suboptimality.
    max_iter : int, default=100
        Maximum number of Newton iterations per binary problem (FISTA iterations
        with a device).
    class_weight : dict or "balanced", default=None
        Weights of the classes (multiplying ``sample_weight``); "balanced" uses
        ``n_samples / (n_classes * np.bincount(y))``.
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_`` when refitting.
    n_jobs : int, default=None
        Threads for the one-vs-rest problems (``None`` means 1, ``-1`` all cores).
    verbose : int, default=0
        Print the objective and gap at each Newton iteration.
    <device>
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        dtype of ``X`` (float32 or float64).
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,) or (n_classes,)
        Newton iterations of each binary problem (FISTA iterations with a device).
    dual_gap_ : ndarray of shape (1,) or (n_classes,)
        Final duality gaps, relative to the objective of the all-zero model.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has string feature names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : the same objective, other solvers.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sparse_estimators.linear_model import SparseLogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = SparseLogisticRegression(C=0.1).fit(X, y)
    >>> int((clf.coef_ != 0).sum()) < X.shape[1]
    True
    >>> bool(clf.score(X, y) > 0.95)
    True
    """

    _loss = "logistic"


@_with_device_doc
class SparseLinearSVC(_SparseLinearClassifier):
    """Linear SVM with the squared hinge loss and an L1 or elastic-net penalty.

    Minimises, for each binary problem (labels ``y_i`` in {-1, +1})::

        C * sum_i s_i max(0, 1 - y_i (x_i . w + b))^2
            + l1_ratio * ||w||_1 + (1 - l1_ratio) / 2 * ||w||_2^2

    with ``s_i`` the sample weight times the class weight of sample ``i``: for
    ``l1_ratio=1`` the objective of ``sklearn.svm.LinearSVC(penalty="l1",
    loss="squared_hinge", dual=False)``, except that the intercept ``b`` is not
    penalised (liblinear penalises it through ``intercept_scaling``). Multiclass
    targets are fitted one-vs-rest, in parallel threads with ``n_jobs``.

    The solver is the proximal Newton method of :class:`SparseLogisticRegression`
    with the generalised second derivative of the squared hinge (2 on the samples
    inside the margin, 0 elsewhere; Mangasarian, "A finite Newton method for
    classification", 2002), stopped on a certified duality gap. X is never
    densified. On nearly separable data with a very large ``C`` the Newton model,
    which sees no curvature for the samples past the margin, proposes steps the
    line search must shorten a lot: convergence is then slow (a damping raised on
    short steps mitigates it); a smaller ``C`` or a looser ``tol`` helps.

    Parameters
    ----------
    C : float, default=1.0
        Weight of the data term, as in scikit-learn's ``LinearSVC``.
    l1_ratio : float, default=1.0
        Elastic-net mixing, ``0 <= l1_ratio <= 1`` (1: pure L1, sparse ``coef_``).
    fit_intercept : bool, default=True
        Whether to fit an unpenalised intercept.
    tol : float, default=1e-4
        Stop once the duality gap is at most ``tol`` times the objective of the
        all-zero model (with its optimal intercept).
    max_iter : int, default=100
        Maximum number of Newton iterations per binary problem (FISTA iterations
        with a device).
    class_weight : dict or "balanced", default=None
        Weights of the classes, multiplying ``sample_weight``.
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_`` when refitting.
    n_jobs : int, default=None
        Threads for the one-vs-rest problems.
    verbose : int, default=0
        Print the objective and gap at each Newton iteration.
    <device>
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,) or (n_classes,)
        Newton iterations of each binary problem (FISTA iterations with a device).
    dual_gap_ : ndarray of shape (1,) or (n_classes,)
        Final duality gaps, relative to the objective of the all-zero model.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    See Also
    --------
    sklearn.svm.LinearSVC : liblinear's solver of the same loss.
    SparseLogisticRegression : the logistic loss, with probabilities.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sparse_estimators.linear_model import SparseLinearSVC
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = SparseLinearSVC(C=0.05).fit(X, y)
    >>> int((clf.coef_ != 0).sum()) < X.shape[1]
    True
    >>> bool(clf.score(X, y) > 0.95)
    True
    """

    _loss = "squared_hinge"


def _binary_problems(X, y, sample_weight, class_weight):
    """Validate the targets and weights of a linear classifier.

    Returns ``(classes, problems, sw)``: the sorted classes, the label vectors in
    {-1, +1} of the binary problems (one for two classes, one-vs-rest otherwise)
    and the per-sample loss weights for ``C = 1`` (sample times class weights).
    """
    if not (isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "iub"):
        # (1-D integer labels are class labels by construction; scikit-learn's
        # check costs 0.3 ms, a tenth of a small fit)
        check_classification_targets(y)
    classes, y_idx = np.unique(y, return_inverse=True)
    if classes.shape[0] < 2:
        raise ValueError(
            "This solver needs samples of at least 2 classes in the data, but the "
            f"data contains only one class: {classes[0]!r}.")
    sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    if class_weight is not None:
        cw = compute_class_weight(class_weight, classes=classes, y=y)
        sw = sw * cw[y_idx]
    if not float(np.sum(sw)) > 0.0:
        raise ValueError("sample_weight (times class_weight) must have a positive sum.")
    if np.count_nonzero(np.bincount(y_idx, weights=sw, minlength=classes.shape[0]) > 0) < 2:
        # all the weight on one class: with an intercept the optimum is at infinity
        # and no duality gap certifies anything
        raise ValueError("sample_weight (times class_weight) must give a positive weight "
                         "to samples of at least 2 classes.")
    positives = [1] if classes.shape[0] == 2 else range(classes.shape[0])
    problems = [np.where(y_idx == k, 1.0, -1.0) for k in positives]
    return classes, problems, sw


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "loss": [StrOptions({"logistic", "squared_hinge"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="right")],
        "fit_intercept": ["boolean"],
        "sample_weight": ["array-like", None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    },
    prefer_skip_nested_validation=True,
)
def l1_min_c(X, y, *, loss="logistic", l1_ratio=1.0, fit_intercept=True, sample_weight=None,
             class_weight=None):
    """Smallest ``C`` for which :class:`SparseLogisticRegression` (or
    :class:`SparseLinearSVC`) has a non-zero ``coef_``.

    For ``C`` at or below it every coefficient is exactly zero (the intercept alone
    is fitted); the bound is exact for this library's objective, whose intercept is
    unpenalised: ``l1_ratio / max_k ||X^T g_k||_inf`` with ``g_k`` the gradient of
    the loss of binary problem ``k`` at the all-zero model. Use it to start a grid
    of ``C`` values (e.g. ``np.geomspace(c_min, 1e3 * c_min, 20)``).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    loss : {"logistic", "squared_hinge"}, default="logistic"
        ``"logistic"`` for :class:`SparseLogisticRegression`,
        ``"squared_hinge"`` for :class:`SparseLinearSVC`.
    l1_ratio : float, default=1.0
        The estimator's ``l1_ratio`` (must be positive: a pure L2 penalty has no
        all-zero regime).
    fit_intercept : bool, default=True
    sample_weight : array-like of shape (n_samples,), default=None
    class_weight : dict or "balanced", default=None

    Returns
    -------
    c_min : float

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sparse_estimators.linear_model import SparseLogisticRegression, l1_min_c
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> c_min = l1_min_c(X, y)
    >>> int((SparseLogisticRegression(C=c_min).fit(X, y).coef_ != 0).sum())
    0
    >>> clf = SparseLogisticRegression(C=1.1 * c_min, tol=1e-10).fit(X, y)
    >>> int((clf.coef_ != 0).sum())
    1
    """
    check_sparse_structure(X)
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=_DTYPES)
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    _, problems, sw = _binary_problems(X, y, sample_weight, class_weight)
    return c_min(X, problems, sw, loss, l1_ratio, fit_intercept)


def c_min(X, problems, sw, loss, l1_ratio, fit_intercept):
    """:func:`l1_min_c` on validated binary problems and loss weights."""
    top = max(null_gradient_norm(X, yk, sw, loss=loss, fit_intercept=fit_intercept)
              for yk in problems)
    if not top > 0.0:
        raise ValueError("X^T y is zero at the all-zero model (e.g. a single class carries "
                         "all the sample weight): every C gives an all-zero model.")
    return float(l1_ratio) / top
