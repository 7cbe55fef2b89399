"""Dictionary learning, batch and online, on dense or sparse data.

Both estimators minimise scikit-learn's objective::

    1/2 ||X - U V||_F^2 + alpha ||U||_{1,1}    subject to ||V_k||_2 <= 1

(``U``: codes, ``V``: atoms as rows, ``components_``), alternating sparse coding
(:func:`sparse_encode`) with a block-coordinate update of the atoms that needs only
the sufficient statistics ``A = U^T U`` and ``B = U^T X`` (Mairal, Bach, Ponce &
Sapiro, "Online learning for matrix factorization and sparse coding", JMLR 2010,
algorithm 2). The residual ``X - U V`` is never formed, so sparse ``X`` (TF-IDF) is
never densified; the objective is evaluated from the same statistics.
"""

import numbers
import time

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_array, check_random_state, gen_batches
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import randomized_svd
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._validation import check_sparse_structure
from ._coding import (
    _DTYPES,
    DEVICE_CONSTRAINT,
    DEVICE_DOC,
    _row_norms2,
    coding_device,
    decode_with,
    encode_with,
    sparse_encode,
    split_by_sign,
)

_FIT_ALGORITHMS = {"lars": "lasso_lars", "cd": "lasso_cd"}


def update_atoms(V, A, B, positive=False, random_state=None, X=None):
    """One block-coordinate sweep over the atoms (rows of ``V``, in place).

    Atom ``k`` minimises ``1/2 tr(V^T A V) - tr(B^T V)`` exactly over its unit ball
    (the problem is isotropic in ``v_k``): ``v_k += (B_k - A_k V) / A_kk``, clipped at
    0 with ``positive``, then scaled into the ball. An atom no sample uses
    (``A_kk ~ 0``) is replaced by a random row of ``X`` (when given; clipped at 0
    with ``positive``), normalised, which leaves the objective unchanged.
    """
    rng = check_random_state(random_state)
    for k in range(V.shape[0]):
        if A[k, k] < 1e-10:
            if X is not None:
                row = X[rng.randint(X.shape[0])]
                row = row.toarray().ravel() if sp.issparse(row) else np.array(row)
                if positive:
                    np.maximum(row, 0.0, out=row)
                norm = np.linalg.norm(row)
                V[k] = row / norm if norm > 0 else 0.0
            continue
        V[k] += (B[k] - A[k] @ V) / A[k, k]
        if positive:
            np.maximum(V[k], 0.0, out=V[k])
        norm = np.linalg.norm(V[k])
        if norm > 1.0:
            V[k] /= norm
    return V


def objective_from_stats(xnorm2, A, B, V, l1):
    """``1/2 ||X - U V||^2 + alpha ||U||_1`` from ``||X||^2``, ``A = U^T U``,
    ``B = U^T X`` and ``l1 = alpha ||U||_1``."""
    return 0.5 * (xnorm2 - 2.0 * float(np.sum(B * V)) + float(np.sum(A * (V @ V.T)))) + l1


def _init_dictionary(X, n_components, dict_init, random_state):
    if dict_init is not None:
        V = check_array(dict_init, dtype=np.float64, copy=True)
        if V.shape != (n_components, X.shape[1]):
            raise ValueError(f"dict_init must have shape ({n_components}, {X.shape[1]}), "
                             f"got {V.shape}.")
    else:
        k = min(n_components, min(X.shape))
        _, S, Vt = randomized_svd(X.astype(np.float64), k, random_state=random_state)
        V = np.zeros((n_components, X.shape[1]))
        V[:k] = Vt
        if n_components > k:      # more atoms than the rank: random data rows
            rng = check_random_state(random_state)
            rows = X[rng.randint(X.shape[0], size=n_components - k)]
            V[k:] = rows.toarray() if sp.issparse(rows) else rows
    norms = np.linalg.norm(V, axis=1)
    V[norms > 0] /= norms[norms > 0, None]
    return V


class _BaseDictionaryLearning(ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                              BaseEstimator):
    """Coding with the learned dictionary (``transform``) shared by both learners."""

    def _check_n_components(self, X):
        k = X.shape[1] if self.n_components is None else self.n_components
        return int(k)

    def transform(self, X):
        """Codes of ``X`` on ``components_`` (``transform_algorithm``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        code : ndarray of shape (n_samples, n_components)
            ``2 * n_components`` columns with ``split_sign``.
        """
        check_is_fitted(self)
        check_sparse_structure(X)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=_DTYPES, reset=False)
        return encode_with(self, X, self.components_)

    def _resolve_device(self):
        """Check ``device`` against both codings and resolve it once for a fit
        (see :func:`coding_device`): with ``"gpu"`` both the
        fit's coding and ``transform`` must be the lasso (``fit_algorithm="cd"``,
        ``transform_algorithm="lasso_cd"``), so that ``transform`` cannot fail
        after a fit that succeeded."""
        self._device = coding_device(self.device, {
            "fit_algorithm": (self.fit_algorithm, "cd"),
            "transform_algorithm": (self.transform_algorithm, "lasso_cd")})

    def inverse_transform(self, X):
        """Signals reconstructed from codes: ``code @ components_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        return decode_with(self, X, self.components_)

    @property
    def _n_features_out(self):
        return self.components_.shape[0] * (2 if self.split_sign else 1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _code(self, X, V, init=None):
        return sparse_encode(X, V, algorithm=_FIT_ALGORITHMS[self.fit_algorithm],
                             alpha=self.alpha, init=init, n_jobs=self.n_jobs,
                             positive=self.positive_code, check_input=False,
                             max_iter=self.transform_max_iter, device=self._device)


_COMMON_CONSTRAINTS = {
    "n_components": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "alpha": [Interval(numbers.Real, 0, None, closed="left")],
    "fit_algorithm": [StrOptions({"lars", "cd"})],
    "transform_algorithm": [StrOptions({"lasso_lars", "lasso_cd", "omp", "threshold"})],
    "transform_n_nonzero_coefs": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "transform_alpha": [Interval(numbers.Real, 0, None, closed="left"), None],
    "n_jobs": [numbers.Integral, None],
    "dict_init": [np.ndarray, None],
    "verbose": ["verbose"],
    "split_sign": ["boolean"],
    "random_state": ["random_state"],
    "positive_code": ["boolean"],
    "positive_dict": ["boolean"],
    "transform_max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
    "device": DEVICE_CONSTRAINT,
}

_SHARED_PARAMS_DOC = """
    n_components : int, default=None
        Number of atoms (default ``n_features``).
    alpha : float, default=1.0
        Sparsity penalty of the codes (scikit-learn's scaling: the objective is
        ``1/2 ||X - U V||_F^2 + alpha ||U||_{1,1}``).
    fit_algorithm : {"lars", "cd"}, default="lars"
        Coding during fit: the LARS-Lasso homotopy or coordinate descent.
    transform_algorithm : {"omp", "lasso_lars", "lasso_cd", "threshold"}, \
default="omp"
        Coding in ``transform`` (see :func:`sparse_encode`).
    transform_n_nonzero_coefs : int, default=None
        Atoms per sample with ``transform_algorithm="omp"`` (``None``:
        ``n_features // 10``, at least 1).
    transform_alpha : float, default=None
        Lasso penalty or threshold of ``transform``; ``None`` uses ``alpha``, as
        scikit-learn does since 1.2. With ``"omp"`` a value is the residual
        tolerance and overrides ``transform_n_nonzero_coefs``; ``None`` keeps the
        atom count.
    n_jobs : int, default=None
        Threads for the coding.
    dict_init : ndarray of shape (n_components, n_features), default=None
        Initial atoms (default: the top right singular vectors of ``X``, then
        random rows of ``X``, normalised).
    verbose : bool, default=False
    split_sign : bool, default=False
    random_state : int, RandomState instance or None, default=None
    positive_code : bool, default=False
    positive_dict : bool, default=False
    transform_max_iter : int, default=1000
        Epochs of ``lasso_cd`` / steps of ``lasso_lars``, in fit and transform.
    """ + DEVICE_DOC + """
        ``"gpu"`` covers the fit's coding and ``transform``: it needs
        ``fit_algorithm="cd"`` and ``transform_algorithm="lasso_cd"``."""


class DictionaryLearning(_BaseDictionaryLearning):
    __doc__ = """Batch dictionary learning on dense or sparse data.

    Alternates exact sparse coding of all samples with one block-coordinate sweep
    over the atoms (computed from ``U^T U`` and ``U^T X``, so sparse ``X`` is never
    densified) until the objective decreases by less than ``tol`` (relative). With
    ``fit_algorithm="lars"`` both steps are exact minimisations, so the objective
    in ``error_`` never increases.

    Parameters
    ----------""" + _SHARED_PARAMS_DOC + """
    max_iter : int, default=1000
        Maximum number of alternations.
    tol : float, default=1e-8
        Stop when an alternation lowers the objective by less than ``tol`` times it.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The atoms (unit norm at most), dtype of ``X``.
    error_ : ndarray of shape (n_iter,)
        Objective after each alternation.
    n_iter_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sparse_estimators.decomposition import DictionaryLearning
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 8)) @ rng.standard_normal((8, 20))
    >>> dl = DictionaryLearning(n_components=8, alpha=0.5, random_state=0).fit(X)
    >>> dl.components_.shape
    (8, 20)
    >>> bool(np.all(np.diff(dl.error_) <= 1e-9 * dl.error_[0]))
    True
    """

    _parameter_constraints: dict = {
        **_COMMON_CONSTRAINTS,
        "max_iter": [Interval(numbers.Integral, 0, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(self, n_components=None, *, alpha=1.0, max_iter=1000, tol=1e-8,
                 fit_algorithm="lars", transform_algorithm="omp",
                 transform_n_nonzero_coefs=None, transform_alpha=None, n_jobs=None,
                 dict_init=None, verbose=False, split_sign=False, random_state=None,
                 positive_code=False, positive_dict=False, transform_max_iter=1000,
                 device="cpu"):
        self.n_components = n_components
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.fit_algorithm = fit_algorithm
        self.transform_algorithm = transform_algorithm
        self.transform_n_nonzero_coefs = transform_n_nonzero_coefs
        self.transform_alpha = transform_alpha
        self.n_jobs = n_jobs
        self.dict_init = dict_init
        self.verbose = verbose
        self.split_sign = split_sign
        self.random_state = random_state
        self.positive_code = positive_code
        self.positive_dict = positive_dict
        self.transform_max_iter = transform_max_iter
        self.device = device

    def fit(self, X, y=None):
        """Learn the dictionary.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self.fit_transform(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit, then return the codes of the last iteration of the fit.

        As scikit-learn's: the codes by ``fit_algorithm`` on the atoms before the
        last atom update (``transform`` codes by ``transform_algorithm`` on
        ``components_``), side by side by sign with ``split_sign``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        code : ndarray of shape (n_samples, n_components)
            ``2 * n_components`` columns with ``split_sign``.
        """
        check_sparse_structure(X)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=_DTYPES)
        self._resolve_device()
        rng = check_random_state(self.random_state)
        V = _init_dictionary(X, self._check_n_components(X), self.dict_init, rng)
        Xc = X.tocsr() if sp.issparse(X) else X
        xnorm2 = float(np.sum(_row_norms2(Xc)))
        errors = []
        code = None
        for it in range(self.max_iter):
            code = self._code(Xc, V, init=code if self.fit_algorithm == "cd" else None)
            A = code.T @ code
            B = np.asarray(code.T @ Xc) if not sp.issparse(Xc) else (Xc.T @ code).T
            l1 = self.alpha * float(np.abs(code).sum())
            update_atoms(V, A, B, self.positive_dict, rng, Xc)
            errors.append(objective_from_stats(xnorm2, A, B, V, l1))
            if self.verbose:
                print(f"[DictionaryLearning] iteration {it + 1}: objective {errors[-1]:.6g}")
            if len(errors) > 1 and errors[-2] - errors[-1] < self.tol * errors[-1]:
                break
        self.components_ = V.astype(X.dtype)
        self.error_ = np.array(errors)
        self.n_iter_ = len(errors)
        if code is None:  # max_iter=0: the codes on the initial atoms
            code = self._code(Xc, V)
        return split_by_sign(self, np.asarray(code, dtype=X.dtype))


class MiniBatchDictionaryLearning(_BaseDictionaryLearning):
    __doc__ = """Online dictionary learning (Mairal et al., JMLR 2010) on dense or
    sparse data.

    Each step codes a mini-batch, folds its statistics into ``A = U^T U`` and
    ``B = U^T X`` with a forgetting factor, and runs one block-coordinate sweep over
    the atoms. ``partial_fit`` makes one step on the
    data it is given. ``fit`` runs at most ``max_iter`` passes over shuffled
    mini-batches and stops when the atoms move less than ``tol`` (relative) in a
    step, or when the smoothed mini-batch objective has not improved for
    ``max_no_improvement`` steps (scikit-learn's rules).

    Parameters
    ----------""" + _SHARED_PARAMS_DOC + """
    max_iter : int, default=1000
        Maximum number of passes over the data.
    batch_size : int, default=256
    shuffle : bool, default=True
    tol : float, default=1e-3
        Stop when ``||V_new - V||_F / ||V||_F`` (per step) is below ``tol``; 0 disables.
    max_no_improvement : int or None, default=10
        Stop after this many steps without improvement of the smoothed objective;
        ``None`` disables.
    forget_rate : float, default=4.0
        At step ``t`` the statistics are scaled by ``(1 - 1/t) ** forget_rate``
        before the new batch's are added (Mairal et al. 2010, section 3.4), so the
        batch of step ``s`` weighs about ``(s / t) ** forget_rate``: codes computed
        with early, poor dictionaries fade. 1 weighs all batches alike, close to
        scikit-learn's rule; 4 reached a lower held-out objective per pass on image
        patches (``benchmarks/RESULTS.md``).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    n_iter_ : float
        Passes over the data done by ``fit``.
    n_steps_ : int
        Mini-batch steps done.
    objective_ : list of float
        Objective of each mini-batch (per sample), as coded in its step.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from sparse_estimators.decomposition import MiniBatchDictionaryLearning
    >>> X = sp.random(500, 40, density=0.1, format="csr", random_state=0)
    >>> mb = MiniBatchDictionaryLearning(n_components=10, alpha=0.05, batch_size=50,
    ...                                  max_iter=5, random_state=0).fit(X)
    >>> mb.components_.shape, mb.transform(X[:3]).shape
    ((10, 40), (3, 10))
    """

    _parameter_constraints: dict = {
        **_COMMON_CONSTRAINTS,
        "max_iter": [Interval(numbers.Integral, 0, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "max_no_improvement": [Interval(numbers.Integral, 0, None, closed="left"), None],
        "forget_rate": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(self, n_components=None, *, alpha=1.0, max_iter=1000, fit_algorithm="lars",
                 n_jobs=None, batch_size=256, shuffle=True, dict_init=None,
                 transform_algorithm="omp", transform_alpha=None,
                 transform_n_nonzero_coefs=None, verbose=False, split_sign=False,
                 random_state=None, positive_code=False, positive_dict=False,
                 transform_max_iter=1000, tol=1e-3, max_no_improvement=10,
                 forget_rate=4.0, device="cpu"):
        self.n_components = n_components
        self.alpha = alpha
        self.max_iter = max_iter
        self.fit_algorithm = fit_algorithm
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.dict_init = dict_init
        self.transform_algorithm = transform_algorithm
        self.transform_alpha = transform_alpha
        self.transform_n_nonzero_coefs = transform_n_nonzero_coefs
        self.verbose = verbose
        self.split_sign = split_sign
        self.random_state = random_state
        self.positive_code = positive_code
        self.positive_dict = positive_dict
        self.transform_max_iter = transform_max_iter
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.forget_rate = forget_rate
        self.device = device

    def _start(self, X, rng):
        V = _init_dictionary(X, self._check_n_components(X), self.dict_init, rng)
        k = V.shape[0]
        self._A = np.zeros((k, k))
        self._B = np.zeros((k, X.shape[1]))
        self._V = V
        self.n_steps_ = 0
        self.objective_ = []
        self._rng = rng

    def _step(self, Xb):
        """One online step on the mini-batch ``Xb``; returns the relative change of
        the atoms."""
        n = Xb.shape[0]
        V = self._V
        code = self._code(Xb, V)
        # forgetting (Mairal et al. 2010, section 3.4): after t steps the statistics
        # of step s weigh about (s / t) ** forget_rate
        step = self.n_steps_
        beta = (1.0 - 1.0 / (step + 1)) ** self.forget_rate if step else 0.0
        A_b = code.T @ code
        B_b = (Xb.T @ code).T if sp.issparse(Xb) else code.T @ Xb
        self._A *= beta
        self._A += A_b / n
        self._B *= beta
        self._B += B_b / n
        old = V.copy()
        update_atoms(V, self._A, self._B, self.positive_dict, self._rng, Xb)
        self.n_steps_ += 1
        # the batch's objective under the dictionary it was coded with
        xnorm2 = float(np.sum(_row_norms2(Xb)))
        self.objective_.append(objective_from_stats(
            xnorm2, A_b, B_b, old, self.alpha * float(np.abs(code).sum())) / n)
        denom = np.linalg.norm(old)
        return np.linalg.norm(V - old) / denom if denom > 0 else np.inf

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the dictionary from mini-batches of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        check_sparse_structure(X)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=_DTYPES)
        X = X.tocsr() if sp.issparse(X) else X
        self._resolve_device()
        rng = check_random_state(self.random_state)
        self._start(X, rng)
        n = X.shape[0]
        batch = min(self.batch_size, n)
        ewa, best, no_improve = None, np.inf, 0
        t0 = time.perf_counter()
        done = False
        steps = 0
        for _ in range(self.max_iter):
            order = rng.permutation(n) if self.shuffle else np.arange(n)
            for sl in gen_batches(n, batch):
                change = self._step(X[order[sl]])
                steps += 1
                cost = self.objective_[-1]
                ewa = cost if ewa is None else ewa * (1 - batch / (n + 1)) + cost * batch / (n + 1)
                if self.verbose:
                    print(f"[MiniBatchDictionaryLearning] step {steps}: batch objective "
                          f"{cost:.6g} (smoothed {ewa:.6g}), {time.perf_counter() - t0:.2f} s")
                if self.tol > 0 and change <= self.tol:
                    done = True
                    break
                if self.max_no_improvement is not None:
                    if ewa < best:
                        best, no_improve = ewa, 0
                    else:
                        no_improve += 1
                        if no_improve >= self.max_no_improvement:
                            done = True
                            break
            if done:
                break
        self.n_iter_ = steps * batch / n
        self.components_ = self._V.astype(X.dtype)
        return self

    def partial_fit(self, X, y=None):
        """One online step on ``X`` (the first call initialises the dictionary).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        first = not hasattr(self, "components_")
        if first:
            self._validate_params()
        check_sparse_structure(X)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=_DTYPES, reset=first)
        X = X.tocsr() if sp.issparse(X) else X
        self._resolve_device()
        if first:
            self._start(X, check_random_state(self.random_state))
        self._step(X)
        self.components_ = self._V.astype(X.dtype)
        return self
