"""Matrix factorisation of sparse user x item data, explicit or implicit feedback.

Only the stored entries of the CSR matrix are data: an unrated item is unknown
(explicit feedback) or a weak negative (implicit feedback), never an observed zero
as in :class:`sklearn.decomposition.NMF`. Fitting alternates coordinate-descent
half sweeps over the user and the item factors (:mod:`.._solvers._mf`); memory is
``O(nnz + (n_users + n_items) * n_components)``: no dense user x item matrix is
ever formed, not even for recommendations.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._solvers._mf import Side, alternating_cd, half_sweep, predict_entries, top_k, transpose_side
from ..utils import device_backend
from ..utils._validation import check_sparse_structure
from ._coding import DEVICE_CONSTRAINT, _check_positive_int

_DTYPES = [np.float64, np.float32]
_BIAS_PARTS = ("global", "user", "item")
#: Coordinate-descent passes and relative tolerance of a fold-in (``transform``):
#: tight enough that a fold-in is the exact minimiser for the fixed items. The
#: tolerance is at least 10 machine epsilons of the factors' dtype: float32 factors
#: never move by less than 1e-10 relative per pass, so a float32 fold-in would run
#: all its passes (20x slower).
_FOLD_IN_PASSES = 1000
_FOLD_IN_TOL = 1e-10


def _parse_biases(biases, feedback):
    if biases == "auto":
        return frozenset(_BIAS_PARTS) if feedback == "explicit" else frozenset()
    if biases == "none":
        return frozenset()
    parts = biases.split("+")
    if not parts or any(p not in _BIAS_PARTS for p in parts) or len(set(parts)) != len(parts):
        raise ValueError(
            "biases must be 'auto', 'none' or a '+'-joined subset of "
            f"{'/'.join(_BIAS_PARTS)} (e.g. 'global+user+item'); got {biases!r}.")
    parts = frozenset(parts)
    if parts and feedback == "implicit":
        raise ValueError(
            f"biases={biases!r} is for explicit feedback; implicit feedback fits "
            "preferences without biases (use biases='none' or 'auto').")
    return parts


class SparseMatrixFactorization(ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                                BaseEstimator):
    """Matrix factorisation of a sparse user x item matrix on its stored entries.

    Explicit feedback (ratings) fits the model
    ``r_ui ~ mu + b_u + c_i + w_u . h_i`` to the stored entries only::

        1/2 sum_obs (r_ui - mu - b_u - c_i - w_u . h_i)^2
            + sum_u s_u (alpha (1 - l1_ratio)/2 ||w_u||^2 + alpha l1_ratio ||w_u||_1
                         + alpha_bias/2 b_u^2)
            + (the same for the items)

    with ``s_u`` the number of ratings of user ``u`` when ``reg_scaling='count'``
    (the weighted-lambda regularisation of Zhou, Wilkinson, Schreiber & Pan 2008)
    or 1. ``mu`` is the mean rating; ``l1_ratio > 0`` gives genuinely sparse
    factors and ``nonnegative=True`` non-negative ones.

    Implicit feedback (clicks, plays) fits preferences ``p_ui = 1`` on the stored
    entries and 0 elsewhere, weighted by confidences ``c_ui = 1 + confidence_scale
    * r_ui`` (``'linear'``) or ``1 + confidence_scale * log(1 + r_ui)`` (``'log'``)
    on the stored entries and 1 elsewhere (Hu, Koren & Volinsky 2008)::

        1/2 sum_all c_ui (p_ui - w_u . h_i)^2 + penalties as above.

    The sum over all pairs is never formed: its unobserved part comes from the
    ``n_components x n_components`` Gram matrix of the fixed side (He et al. 2016).

    Both are solved by alternating half sweeps: every user's factors by one cyclic
    coordinate-descent pass with the items fixed (exact coordinate minimisation, in
    parallel over users), then every item's. Each sweep costs
    ``O(nnz * K + (n_users + n_items) * K^2)`` (the ``K^2`` only for implicit
    feedback) and never increases the objective.

    Parameters
    ----------
    n_components : int, default=10
        Number of latent factors ``K``.
    feedback : {"explicit", "implicit"}, default="explicit"
        Whether stored values are ratings to reproduce or confidences of an
        implicit preference.
    alpha : float, default=0.1
        Penalty strength on the factors.
    l1_ratio : float in [0, 1], default=0.0
        Share of the L1 penalty (sparse factors) in ``alpha``.
    alpha_bias : float, default=0.05
        L2 penalty on the user and item biases.
    reg_scaling : {"auto", "count", "none"}, default="auto"
        Multiply the penalty of each user (item) by its number of stored entries
        (``"count"``) or not (``"none"``). ``"auto"``: ``"count"`` for explicit,
        ``"none"`` for implicit feedback.
    nonnegative : bool, default=False
        Constrain the factors (not the biases) to be non-negative. Needs
        non-negative data.
    biases : str, default="auto"
        ``"none"`` or a ``'+'``-joined subset of ``global``, ``user``, ``item``.
        ``"auto"``: all three for explicit feedback, none for implicit.
    confidence : {"linear", "log"}, default="linear"
        Confidence of a stored implicit-feedback value ``r``.
    confidence_scale : float, default=1.0
        The ``alpha`` of Hu, Koren & Volinsky in the confidence.
    max_iter : int, default=30
        Maximum number of sweeps (user half sweep plus item half sweep).
    tol : float, default=1e-4
        Stop once a sweep decreases the objective by at most ``tol`` times its value.
    init_scale : float, default=0.1
        Standard deviation of the random initial factors (divided by
        ``sqrt(n_components)``).
    random_state : int, RandomState instance or None, default=None
        Seed of the initial factors.
    verbose : int, default=0
        Print the objective after each sweep.
    device : {"cpu", "gpu", "auto"}, default="cpu"
        Where ``fit`` runs. ``"gpu"`` runs the same sweeps on an NVIDIA GPU through
        CuPy, every row of a half sweep at once (:mod:`sparse_estimators.gpu._mf`):
        the same objective, iterates equal to the CPU's up to rounding, and the
        fitted factors back on the host. ``"auto"`` takes the GPU when CuPy and a
        device are there and the CPU otherwise; ``"gpu"`` without them raises an
        error saying what is missing. ``transform``, ``partial_fit`` (but for a
        first call, which is ``fit``), ``predict``, ``score`` and ``recommend`` run
        on the CPU.

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_components)
        ``w_u`` for each row of the training matrix.
    components_ : ndarray of shape (n_components, n_items)
        Item factors ``h_i`` as columns.
    user_bias_ : ndarray of shape (n_users,)
        ``b_u`` (zeros without user biases).
    item_bias_ : ndarray of shape (n_items,)
        ``c_i`` (zeros without item biases).
    global_mean_ : float
        ``mu`` (0 without the global bias).
    objective_ : ndarray of shape (n_iter_,)
        Objective after each sweep.
    n_iter_ : int
        Number of sweeps run.
    n_features_in_ : int
        Number of items.

    See Also
    --------
    sklearn.decomposition.NMF : treats every zero as an observed zero.

    Notes
    -----
    Rows are users: ``predict`` and ``score`` read the rows of their query as the
    fitted users (row ``u`` is user ``u``), while ``transform`` folds in rows as new
    users. scikit-learn's checks that permute or subset rows before ``predict``
    therefore do not apply (see ``tests/test_estimator_checks.py``).

    References
    ----------
    Hu, Koren & Volinsky, "Collaborative filtering for implicit feedback datasets",
    ICDM 2008. Yu, Hsieh, Si & Dhillon, "Scalable coordinate descent approaches to
    parallel matrix factorization for recommender systems", ICDM 2012. He, Zhang,
    Kan & Chua, "Fast matrix factorization for online recommendation with implicit
    feedback", SIGIR 2016. Zhou, Wilkinson, Schreiber & Pan, "Large-scale parallel
    collaborative filtering for the Netflix prize", AAIM 2008.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from sparse_estimators.decomposition import SparseMatrixFactorization
    >>> rng = np.random.default_rng(0)
    >>> W, H = rng.normal(size=(200, 3)), rng.normal(size=(100, 3))
    >>> mask = sp.random(200, 100, density=0.3, random_state=0, format="csr")
    >>> R = mask.copy()
    >>> R.data = (W @ H.T)[mask.nonzero()]             # a rank-3 matrix, 30% observed
    >>> mf = SparseMatrixFactorization(n_components=3, alpha=1e-6, biases="none",
    ...                                max_iter=500, tol=1e-12, random_state=0).fit(R)
    >>> err = mf.predict(R).data - R.data
    >>> bool(np.sqrt(np.mean(err ** 2)) < 1e-3)
    True
    >>> items, scores = mf.recommend(0, n=5)           # unseen items, best first
    >>> items.shape
    (5,)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "feedback": [StrOptions({"explicit", "implicit"})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "l1_ratio": [Interval(numbers.Real, 0, 1, closed="both")],
        "alpha_bias": [Interval(numbers.Real, 0, None, closed="left")],
        "reg_scaling": [StrOptions({"auto", "count", "none"})],
        "nonnegative": ["boolean"],
        "biases": [str],
        "confidence": [StrOptions({"linear", "log"})],
        "confidence_scale": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "init_scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": DEVICE_CONSTRAINT,
    }

    def __init__(self, n_components=10, *, feedback="explicit", alpha=0.1, l1_ratio=0.0,
                 alpha_bias=0.05, reg_scaling="auto", nonnegative=False, biases="auto",
                 confidence="linear", confidence_scale=1.0, max_iter=30, tol=1e-4,
                 init_scale=0.1, random_state=None, verbose=0, device="cpu"):
        self.n_components = n_components
        self.feedback = feedback
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.alpha_bias = alpha_bias
        self.reg_scaling = reg_scaling
        self.nonnegative = nonnegative
        self.biases = biases
        self.confidence = confidence
        self.confidence_scale = confidence_scale
        self.max_iter = max_iter
        self.tol = tol
        self.init_scale = init_scale
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    # ------------------------------------------------------------------ helpers
    @property
    def _implicit(self):
        return self.feedback == "implicit"

    @property
    def _c0(self):
        return 1.0 if self._implicit else 0.0

    def _requires_nonnegative(self):
        return self._implicit or self.nonnegative

    def _validate(self, X, reset):
        """CSR in canonical format (a copy whenever the caller's would change), the
        caller's float dtype, finite and (where required) non-negative values."""
        check_sparse_structure(X)
        X = validate_data(self, X, accept_sparse="csr", dtype=_DTYPES, reset=reset)
        if not sp.issparse(X):
            X = sp.csr_matrix(X)          # dense input: the zeros are unobserved
        elif not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        if self._requires_nonnegative() and X.nnz and X.data.min() < 0:
            why = "implicit feedback" if self._implicit else "nonnegative=True"
            raise ValueError(f"Negative values in data passed to {type(self).__name__} "
                             f"with {why}: stored values must be >= 0.")
        if self._implicit and X.nnz and not X.data.all():
            X = X.copy()
            X.eliminate_zeros()           # a stored 0 carries no confidence
        return X

    def _entries(self, X):
        """``c p`` and ``c - c0`` of each stored entry (confidence ``c``, target ``p``;
        ``c - c0`` as one value for all entries when it is constant) and the constant
        ``sum c p^2``, all without a float64 temporary of size nnz for float32 data."""
        data = X.data
        if self._implicit:
            conf = np.log1p(data) if self.confidence == "log" else data.copy()
            conf *= self.confidence_scale
            if self.confidence_scale == 0:
                cm = np.zeros(1, dtype=X.dtype)
            else:
                cm = conf.copy()
            conf += 1.0                                    # target p = 1
            return conf, cm, float(np.sum(conf, dtype=np.float64))
        target = data - np.asarray(self.global_mean_, dtype=X.dtype)
        # sum of squares in float64, a million entries at a time
        step = 1 << 20
        const = sum(float(np.dot(c, c)) for c in (
            target[i:i + step].astype(np.float64) for i in range(0, target.size, step)))
        return target, np.ones(1, dtype=X.dtype), const

    def _bias_columns(self):
        """``{"user": column, "item": column}`` of the biases in the augmented
        factors ``[W | b_u | 1]`` / ``[H | 1 | c_i]`` (absent biases left out): a bias
        column of one side faces a column of ones on the other."""
        cols = {}
        for owner in ("user", "item"):
            if owner in self._bias_parts:
                cols[owner] = self.n_components + len(cols)
        return cols

    def _layout(self, dtype):
        """Width of the augmented factors and, per side, the columns it updates and
        their penalties."""
        k = self.n_components
        bias = self._bias_columns()
        K = k + len(bias)
        sides = {}
        for side in ("user", "item"):
            l2 = np.zeros(K, dtype=dtype)
            l1 = np.zeros(K, dtype=dtype)
            l2[:k], l1[:k] = self.alpha * (1.0 - self.l1_ratio), self.alpha * self.l1_ratio
            positive = np.zeros(K, dtype=np.bool_)
            positive[:k] = self.nonnegative
            free = list(range(k))
            if side in bias:
                free.append(bias[side])
                l2[bias[side]] = self.alpha_bias
            sides[side] = (np.asarray(free, dtype=np.int64), l2, l1, positive)
        return K, sides

    def _ones_columns(self, side):
        """Columns of the augmented factors of ``side`` fixed at 1: those facing the
        other side's bias."""
        return [col for owner, col in self._bias_columns().items() if owner != side]

    def _side(self, name, indptr, indices, ct, cm, dtype):
        K, sides = self._layout(dtype)
        free, l2, l1, positive = sides[name]
        counts = np.diff(indptr).astype(dtype)
        scale = counts if self._reg_scaling == "count" else np.ones_like(counts)
        return Side(indptr, indices, ct, cm, free, l2, l1, positive, scale)

    def _augment_items(self):
        """Item factors ``[H | 1 | c_i]`` (C-contiguous, the kernels' layout)."""
        k = self.n_components
        bias = self._bias_columns()
        V = np.zeros((self.components_.shape[1], k + len(bias)),
                     dtype=self.user_factors_.dtype)
        V[:, :k] = self.components_.T
        for col in self._ones_columns("item"):
            V[:, col] = 1.0
        if "item" in bias:
            V[:, bias["item"]] = self.item_bias_
        return V

    def _fold_in(self, X):
        """Augmented factors ``[w | b_u | 1]`` of the rows of ``X`` (validated CSR),
        each the exact minimiser of its objective for the fixed items."""
        k = self.n_components
        V = self._augment_items()
        K = V.shape[1]
        U = np.zeros((X.shape[0], K), dtype=V.dtype)
        for col in self._ones_columns("user"):
            U[:, col] = 1.0
        ct, cm, _ = self._entries(X)
        users = self._side("user", X.indptr, X.indices, ct, cm, V.dtype)
        tol = max(_FOLD_IN_TOL, 10 * float(np.finfo(V.dtype).eps))
        half_sweep(users, U, V, self._c0, n_pass=_FOLD_IN_PASSES, tol=tol)
        col = self._bias_columns().get("user")
        bias = U[:, col] if col is not None else np.zeros(X.shape[0], V.dtype)
        return U[:, :k], bias

    def _user_index(self, users, n_rows=None):
        if users is None:
            n = self.user_factors_.shape[0]
            if n_rows is not None and n_rows != n:
                raise ValueError(
                    f"X has {n_rows} rows but the model was fitted on {n} users: rows "
                    "are users, so a query needs one row per fitted user (empty rows "
                    "for users without queries), or pass users= with the user of "
                    "each row.")
            return np.arange(n)
        idx = np.asarray(users)
        if idx.ndim > 1 or not (idx.size == 0 or np.issubdtype(idx.dtype, np.integer)):
            raise TypeError(f"users must be an integer or a 1-D array of integers, got "
                            f"{users!r}.")
        idx = np.atleast_1d(idx).astype(np.int64)
        n = self.user_factors_.shape[0]
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(f"users must be in [0, {n}); got values in "
                             f"[{idx.min()}, {idx.max()}].")
        if n_rows is not None and idx.shape[0] != n_rows:
            raise ValueError(f"users has {idx.shape[0]} entries but X has {n_rows} rows.")
        return idx

    # ---------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the user and item factors to the stored entries of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Ratings (explicit) or interaction strengths (implicit). Stored entries
            are the observations (a stored 0 is a rating of 0 in explicit mode);
            for dense input the zeros are unobserved. Duplicate entries are summed.
        y : Ignored

        Returns
        -------
        self : object
        """
        self._bias_parts = _parse_biases(self.biases, self.feedback)
        self._reg_scaling = (("none" if self._implicit else "count")
                             if self.reg_scaling == "auto" else self.reg_scaling)
        X = self._validate(X, reset=True)
        if X.nnz == 0:
            raise ValueError(f"X has no stored entries: {type(self).__name__} needs "
                             "observed entries to fit.")
        dtype = X.dtype
        self.global_mean_ = (float(np.mean(X.data, dtype=np.float64))
                             if "global" in self._bias_parts else 0.0)
        backend = device_backend(self.device)
        ct, cm, const = self._entries(X)
        K, layouts = self._layout(dtype)
        if backend is None:
            users = self._side("user", X.indptr, X.indices, ct, cm, dtype)
            t_indptr, t_indices, t_ct, t_cm = transpose_side(X.indptr, X.indices,
                                                             X.shape[1], ct, cm)
            items = self._side("item", t_indptr, t_indices, t_ct, t_cm, dtype)
        else:
            from ..gpu._mf import device_sides, fit_factors

            users, items = device_sides(backend, X.indptr, X.indices, X.shape[1], ct, cm,
                                        layouts, self._reg_scaling == "count")

        # a Generator seeded from random_state: float32 normals, 5x faster than
        # RandomState's (a million users x 64 factors: 0.2 s instead of 1 s)
        rng = check_random_state(self.random_state)
        gen = np.random.default_rng(rng.randint(np.iinfo(np.int32).max))
        k = self.n_components
        std = self.init_scale / np.sqrt(k)
        U = np.zeros((X.shape[0], K), dtype=dtype)
        V = np.zeros((X.shape[1], K), dtype=dtype)
        for F, side in ((U, "user"), (V, "item")):
            for r0 in range(0, F.shape[0], 1 << 16):     # bounded temporaries
                block = F[r0:r0 + (1 << 16), :k]
                block[:] = gen.standard_normal(size=block.shape, dtype=np.float32)
                block *= std
            if self.nonnegative:
                np.abs(F[:, :k], out=F[:, :k])
            for col in self._ones_columns(side):
                F[:, col] = 1.0
        callback = None
        if self.verbose:
            def callback(it, obj):
                print(f"[{type(self).__name__}] sweep {it + 1}: objective {obj:.6g}")
        if backend is None:
            # rows without entries stay at their minimiser, zero
            U[np.diff(users.indptr) == 0, :k] = 0.0
            V[np.diff(items.indptr) == 0, :k] = 0.0
            objectives, self.n_iter_ = alternating_cd(users, items, U, V, self._c0, const,
                                                      self.max_iter, self.tol, callback)
        else:
            U, V, objectives, self.n_iter_ = fit_factors(
                backend, users, items, U, V, self._c0, const, self.max_iter, self.tol,
                callback)
        self.objective_ = np.asarray(objectives)
        self._store(U, V, X)
        return self

    def _store(self, U, V, X):
        k = self.n_components
        self.user_factors_ = np.ascontiguousarray(U[:, :k])
        self.components_ = np.ascontiguousarray(V[:, :k]).T     # rows of H stay contiguous
        bias = self._bias_columns()
        self.user_bias_ = U[:, bias["user"]].copy() if "user" in bias else \
            np.zeros(U.shape[0], U.dtype)
        self.item_bias_ = V[:, bias["item"]].copy() if "item" in bias else \
            np.zeros(V.shape[0], V.dtype)
        self._seen = sp.csr_matrix((np.ones(X.nnz, dtype=np.int8), X.indices.copy(),
                                    X.indptr.copy()), shape=X.shape)

    @property
    def _n_features_out(self):
        """Number of transformed output features (for ``get_feature_names_out``)."""
        return self.n_components

    @property
    def n_users_(self):
        """Number of users (rows) the model knows."""
        check_is_fitted(self)
        return self.user_factors_.shape[0]

    # ---------------------------------------------------------------- transform
    def transform(self, X):
        """Fold in the rows of ``X`` as users, with the item factors fixed.

        Each row's factors (and bias) minimise the training objective restricted to
        that row, exactly as a full fit would give them for these items; the model
        is not changed (see :meth:`partial_fit` to store them).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_items)

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return self._fold_in(X)[0]

    def partial_fit(self, X, y=None, users=None):
        """Fold in new or updated users without refitting the items.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            All the interactions of each user (they replace what the model holds).
        y : Ignored
        users : array-like of int of shape (n_rows,), default=None
            The user of each row: an existing user (``< n_users_``) is updated, the
            index ``n_users_`` onwards appends new users (in order, without gaps).
            ``None`` appends every row as a new user. Before the first fit, the
            call is :meth:`fit`.

        Returns
        -------
        self : object
        """
        if not hasattr(self, "user_factors_"):
            return self.fit(X)
        X = self._validate(X, reset=False)
        n = self.user_factors_.shape[0]
        if users is None:
            idx = np.arange(n, n + X.shape[0])
        else:
            idx = np.atleast_1d(np.asarray(users))
            if not (idx.size == 0 or np.issubdtype(idx.dtype, np.integer)):
                raise TypeError(f"users must be an integer or a 1-D array of integers, "
                                f"got {users!r}.")   # 0.7 must not become user 0
            idx = idx.astype(np.int64)
            if idx.ndim != 1 or idx.shape[0] != X.shape[0]:
                raise ValueError(f"users must hold one user index per row of X "
                                 f"({X.shape[0]}), got shape {idx.shape}.")
            new = np.sort(idx[idx >= n])
            if idx.min(initial=0) < 0 or not np.array_equal(new, np.arange(n, n + new.size)):
                raise ValueError(f"users must be existing users (< {n}) or new users "
                                 f"numbered {n}, {n + 1}, ... without gaps.")
            if np.unique(idx).size != idx.size:
                raise ValueError("users must not repeat.")
        W, b = self._fold_in(X)
        n_new = int(max(idx.max(initial=n - 1) + 1 - n, 0))
        if n_new:
            self.user_factors_ = np.vstack(
                [self.user_factors_, np.zeros((n_new, W.shape[1]), W.dtype)])
            self.user_bias_ = np.concatenate([self.user_bias_, np.zeros(n_new, b.dtype)])
        self.user_factors_[idx] = W
        self.user_bias_[idx] = b
        seen = self._seen.tolil() if n_new == 0 else sp.vstack(
            [self._seen, sp.csr_matrix((n_new, self._seen.shape[1]), dtype=np.int8)]).tolil()
        rows = sp.csr_matrix((np.ones(X.nnz, np.int8), X.indices, X.indptr), shape=X.shape)
        seen[idx] = rows
        self._seen = seen.tocsr()
        return self

    # ------------------------------------------------------------------ predict
    def predict(self, X, users=None):
        """Predicted values at the stored positions of the query ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            The (user, item) pairs to predict, as the stored positions of a CSR
            matrix; the stored values are ignored.
        users : array-like of int of shape (n_rows,), default=None
            The user of each row. ``None``: row ``u`` is user ``u`` and ``X`` must
            have ``n_users_`` rows.

        Returns
        -------
        P : scipy.sparse.csr_matrix of shape (n_rows, n_items)
            Same sparsity structure as ``X`` with the predictions as values.
        """
        check_is_fitted(self)
        X = self._validate_query(X)
        idx = self._user_index(users, X.shape[0])
        return self._predict_rows(X, self.user_factors_[idx], self.user_bias_[idx])

    def _validate_query(self, X):
        check_sparse_structure(X)
        X = validate_data(self, X, accept_sparse="csr", dtype=_DTYPES, reset=False)
        X = sp.csr_matrix(X) if not sp.issparse(X) else X
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        return X

    def _scoring_factors(self, W, b):
        """``[W | mu + b]`` and ``[H | 1]`` in float64: their products plus the item
        biases are the predictions."""
        H = self.components_.T
        K = W.shape[1]
        Wa = np.empty((W.shape[0], K + 1))
        Wa[:, :K], Wa[:, K] = W, b + self.global_mean_
        Ha = np.empty((H.shape[0], K + 1))
        Ha[:, :K], Ha[:, K] = H, 1.0
        return Wa, Ha

    def _predict_rows(self, X, W, b):
        Wa, Ha = self._scoring_factors(W, b)
        values = predict_entries(X.indptr, X.indices, Wa, Ha,
                                 self.item_bias_.astype(np.float64))
        return sp.csr_matrix((values.astype(W.dtype), X.indices.copy(), X.indptr.copy()),
                             shape=X.shape)

    def score(self, X, y=None):
        """Negative RMSE (explicit) or NDCG@10 (implicit) on held-out entries.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Without ``y``: held-out entries of the fitted users (row ``u`` is user
            ``u``). With ``y``: the known interactions of users (new ones, e.g. a
            cross-validation fold of users), folded in to score ``y``.
        y : sparse matrix of shape (n_rows, n_items), default=None
            Held-out entries of the users of ``X``'s rows. A 1-D ``y`` is ignored.
            ``GridSearchCV(mf, grid).fit(X_known, y_held_out)`` so cross-validates
            over users on held-out entries (strong generalisation).

        Returns
        -------
        score : float
            ``-sqrt(mean((prediction - value)^2))`` over the held-out entries for
            explicit feedback; for implicit feedback, the NDCG@10 of the top-10
            recommendations (seen items excluded) against the held-out items.
        """
        check_is_fitted(self)
        if y is not None and (sp.issparse(y) or np.ndim(y) == 2):
            known = self._validate(X, reset=False)
            held = self._validate_query(y)
            if held.shape != known.shape:
                raise ValueError(f"y must have the shape of X {known.shape}, got "
                                 f"{held.shape}.")
            W, b = self._fold_in(known)
            seen = known
        else:
            held = self._validate_query(X)
            n_users = self.user_factors_.shape[0]
            if held.shape[0] != n_users:
                raise ValueError(
                    f"score(X) reads X as held-out entries of the {n_users} fitted users "
                    f"(row u is user u), but X has {held.shape[0]} rows. To score other "
                    "users (a cross-validation fold of users), pass their known "
                    "interactions as X and their held-out entries as y: "
                    "score(X_known, y_held_out), and in a search "
                    "GridSearchCV(...).fit(X_known, y_held_out) (see "
                    "sparse_estimators.model_selection.train_test_split_interactions).")
            idx = np.arange(n_users)
            W, b = self.user_factors_[idx], self.user_bias_[idx]
            seen = self._seen
        if held.nnz == 0:
            raise ValueError("The held-out matrix has no stored entries to score.")
        if not self._implicit:
            pred = self._predict_rows(held, W, b)
            return -float(np.sqrt(np.mean((pred.data.astype(np.float64) - held.data) ** 2)))
        from ..metrics import ndcg_at_k

        rows = np.flatnonzero(np.diff(held.indptr))
        recs, _ = self._top_items(W, b, rows, seen[rows], 10)
        full = np.full((held.shape[0], 10), -1, dtype=np.int64)
        full[rows] = recs
        return ndcg_at_k(held, full, k=10)

    # ---------------------------------------------------------------- recommend
    def _top_items(self, W, b, rows, exclude, n):
        Wa, Ha = self._scoring_factors(W[rows], b[rows])
        ex = exclude.tocsr()
        return top_k(Wa, Ha, ex.indptr.astype(np.int64), ex.indices.astype(np.int64), n,
                     self.item_bias_.astype(np.float64))

    def recommend(self, user=None, n=10, filter_seen=True, *, history=None):
        """The ``n`` items with the highest predicted value for ``user``.

        Parameters
        ----------
        user : int or array-like of int, default=None
            Fitted user(s). Leave it ``None`` when passing ``history``.
        n : int, default=10
            Number of items.
        filter_seen : bool, default=True
            Skip the items the user interacted with: in the training data (or
            stored by :meth:`partial_fit`), or in ``history``.
        history : {array-like, sparse matrix} of shape (n_rows, n_items), default=None
            Interactions of users the model does not hold (or holds an older
            version of): each row is folded in (as :meth:`transform`), without
            changing the model, and gets its recommendations.

        Returns
        -------
        items : ndarray of int64 of shape (n,) (or (n_users, n) for several users,
            and always (n_rows, n) with ``history``)
            Best first, ties to the smaller index; -1 where fewer than ``n`` items
            are eligible.
        scores : ndarray of float64, same shape
            Predicted values (``-inf`` for the -1 slots).
        """
        check_is_fitted(self)
        n = _check_positive_int(n, "n")
        if history is not None:
            if user is not None:
                raise ValueError("Pass either user (fitted users) or history (users "
                                 "folded in from their interactions), not both.")
            H = self._validate(history, reset=False)
            W, b = self._fold_in(H)
            rows = np.arange(H.shape[0])
            seen = H if filter_seen else sp.csr_matrix(H.shape, dtype=np.int8)
            return self._top_items(W, b, rows, seen, n)
        if user is None:
            raise ValueError("recommend needs user (fitted users) or history.")
        scalar = np.ndim(user) == 0
        rows = self._user_index(user)
        seen = self._seen[rows] if filter_seen else sp.csr_matrix(
            (rows.shape[0], self._seen.shape[1]), dtype=np.int8)
        items, scores = self._top_items(self.user_factors_, self.user_bias_, rows, seen,
                                        n)
        if scalar:
            return items[0], scores[0]
        return items, scores

    def similar_items(self, item, n=10):
        """The ``n`` items whose factors have the highest cosine similarity to
        ``item``'s (the item itself excluded).

        Parameters
        ----------
        item : int or array-like of int
        n : int, default=10

        Returns
        -------
        items, scores : ndarrays of shape (n,) (or (n_queries, n))
            Best first; -1 / -inf past the number of other items.
        """
        check_is_fitted(self)
        n = _check_positive_int(n, "n")
        n_items = self.components_.shape[1]
        scalar = np.ndim(item) == 0
        idx = np.atleast_1d(np.asarray(item))
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"item must be an integer or 1-D integer array, got {item!r}.")
        if idx.size and (idx.min() < 0 or idx.max() >= n_items):
            raise ValueError(f"item must be in [0, {n_items}).")
        H = np.ascontiguousarray(self.components_.T, dtype=np.float64)
        norms = np.linalg.norm(H, axis=1)
        Hn = H / np.where(norms > 0, norms, 1.0)[:, None]
        m = idx.shape[0]
        excl_ptr = np.arange(m + 1, dtype=np.int64)
        items, scores = top_k(np.ascontiguousarray(Hn[idx]), Hn, excl_ptr,
                              idx.astype(np.int64), n, np.zeros(n_items))
        if scalar:
            return items[0], scores[0]
        return items, scores

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = self.feedback == "implicit" or self.nonnegative
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
