"""Sparse coding of dense or sparse signals on a fixed dictionary: ``sparse_encode``
and ``SparseCoder`` (scikit-learn's API, numba kernels on the Gram matrix)."""

import numbers
from contextlib import nullcontext

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from .._kernels._coding import gram_lasso_cd, gram_lasso_lars, gram_omp
from ..utils import check_sparse_structure, device_backend
from ..utils._parallel import run_rows, single_threaded_blas
from ..utils._warnings import warn_at_caller

ALGORITHMS = ("lasso_cd", "lasso_lars", "omp", "threshold")
_DTYPES = [np.float64, np.float32]


def _row_norms2(X):
    if sp.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    return np.einsum("ij,ij->i", X, X, dtype=np.float64)


def _check_alpha(alpha):
    """``alpha`` of the lasso / threshold coders: 1 when ``None``, else non-negative."""
    a = 1.0 if alpha is None else float(alpha)
    if not a >= 0:
        raise ValueError(f"alpha must be non-negative, got {alpha!r}.")
    return a


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def sparse_encode(X, dictionary, *, gram=None, cov=None, algorithm="lasso_cd",
                  n_nonzero_coefs=None, alpha=None, init=None, max_iter=1000, tol=1e-4,
                  n_jobs=None, check_input=True, positive=False, return_sparse=False,
                  device="cpu"):
    """Sparse codes of the rows of ``X`` on ``dictionary``.

    Solves, for every signal ``x`` (a row of ``X``) and the dictionary ``D`` (atoms as
    rows), the problem of scikit-learn's :func:`sklearn.decomposition.sparse_encode`
    with the same algorithm name, so the two are interchangeable:

    - ``"lasso_cd"``: ``min_c 1/2 ||x - c D||^2 + alpha ||c||_1`` by coordinate
      descent on the Gram matrix ``D D^T``, stopped per signal once the duality gap
      is at most ``tol * ||x||^2`` (scikit-learn's Lasso rule).
    - ``"lasso_lars"``: the same problem solved exactly by the LARS-Lasso homotopy
      on the Gram matrix (Efron et al. 2004), at most ``max_iter`` steps per signal.
    - ``"omp"``: orthogonal matching pursuit (Batch-OMP with an incremental
      Cholesky factorisation), ``n_nonzero_coefs`` atoms per signal (default
      ``max(n_features // 10, 1)``), or, when ``alpha`` is given, until the squared
      residual norm is at most ``alpha`` (scikit-learn's ``tol`` of OMP).
    - ``"threshold"``: ``sign(D x) * max(|D x| - alpha, 0)``.

    ``X`` may be dense, CSR or CSC (never densified: only ``X D^T`` is formed), in
    float32 or float64 (kept for the codes). Samples are split over ``n_jobs``
    threads (the numba kernels release the GIL).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    dictionary : array-like of shape (n_components, n_features)
        The atoms, as rows (unit norm is usual but not required).
    gram : ndarray of shape (n_components, n_components), default=None
        Precomputed ``dictionary @ dictionary.T``.
    cov : ndarray of shape (n_components, n_samples), default=None
        Precomputed ``dictionary @ X.T``.
    algorithm : {"lasso_cd", "lasso_lars", "omp", "threshold"}, default="lasso_cd"
    n_nonzero_coefs : int, default=None
        OMP: atoms per signal (ignored when ``alpha`` is given).
    alpha : float, default=None
        Lasso: the L1 penalty (default 1); threshold: the threshold (default 1);
        OMP: the squared residual norm to reach (overrides ``n_nonzero_coefs``).
    init : ndarray of shape (n_samples, n_components), default=None
        Warm start of the lasso codes.
    max_iter : int, default=1000
        ``lasso_cd``: coordinate-descent epochs per signal; ``lasso_lars``: homotopy
        steps per signal.
    tol : float, default=1e-4
        Lasso: relative duality-gap tolerance.
    n_jobs : int, default=None
        Threads (``None``: 1, ``-1``: all cores).
    check_input : bool, default=True
        Validate ``X`` and ``dictionary``.
    positive : bool, default=False
        Non-negative codes (lasso and threshold; ``"omp"`` raises ``ValueError``).
    return_sparse : bool, default=False
        Return the codes as a CSR matrix.
    device : {"cpu", "gpu", "auto"}, default="cpu"
        ``"gpu"`` computes ``lasso_cd`` codes for all samples at once by FISTA on
        the Gram matrix on an NVIDIA GPU through CuPy (see
        :mod:`sparse_estimators.gpu`; ``max_iter`` then counts FISTA iterations and
        ``gram`` / ``cov`` are recomputed on the device). Other algorithms run on
        the CPU: ``"gpu"`` raises for them, ``"auto"`` uses the GPU for
        ``lasso_cd`` when CuPy and a device are there.

    Returns
    -------
    code : ndarray or CSR matrix of shape (n_samples, n_components)

    Examples
    --------
    >>> import numpy as np
    >>> from sparse_estimators.decomposition import sparse_encode
    >>> D = np.eye(4)[:3]                       # 3 atoms in R^4
    >>> X = np.array([[3.0, 0.5, 0.0, 0.0], [0.0, 0.0, -2.0, 1.0]])
    >>> sparse_encode(X, D, algorithm="lasso_cd", alpha=1.0)
    array([[ 2.,  0.,  0.],
           [ 0.,  0., -1.]])
    >>> sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=1)
    array([[ 3.,  0.,  0.],
           [ 0.,  0., -2.]])
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}.")
    if positive and algorithm == "omp":
        raise ValueError("positive=True is not supported by algorithm='omp' (as in "
                         "scikit-learn); use 'lasso_lars', 'lasso_cd' or 'threshold'.")
    if not float(tol) >= 0:
        raise ValueError(f"tol must be non-negative, got {tol!r}.")
    if check_input:
        check_sparse_structure(X)
        X = check_array(X, accept_sparse=["csr", "csc"], dtype=_DTYPES)
        dictionary = check_array(dictionary, dtype=_DTYPES)
    if dictionary.ndim != 2 or dictionary.shape[1] != X.shape[1]:
        raise ValueError(f"dictionary must have shape (n_components, n_features) with "
                         f"n_features={X.shape[1]}, got {dictionary.shape}.")
    out_dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    if device != "cpu":
        if device == "gpu" and algorithm != "lasso_cd":
            raise ValueError(f"device='gpu' computes algorithm='lasso_cd' codes only, "
                             f"got algorithm={algorithm!r}.")
        backend = device_backend(device)
        if backend is not None and algorithm == "lasso_cd":
            return _encode_on_device(backend, X, dictionary, _check_alpha(alpha),
                                     positive, init, tol,
                                     _check_positive_int(max_iter, "max_iter"),
                                     out_dtype, return_sparse)
    n, K = X.shape[0], dictionary.shape[0]
    D = np.asarray(dictionary, dtype=np.float64)
    threads = effective_n_jobs(n_jobs)
    with single_threaded_blas() if threads > 1 else nullcontext():
        if gram is None:
            G = D @ D.T
        else:
            G = np.ascontiguousarray(gram, dtype=np.float64)
            if G.shape != (K, K):
                raise ValueError(f"gram must have shape ({K}, {K}), got {G.shape}.")
        if cov is None:
            Q = np.ascontiguousarray(X @ D.T, dtype=np.float64)
        else:
            Q = np.ascontiguousarray(np.asarray(cov, dtype=np.float64).T)
            if Q.shape != (n, K):
                raise ValueError(f"cov must have shape ({K}, {n}), got {Q.T.shape}.")

    if algorithm == "threshold":
        a = _check_alpha(alpha)
        code = (np.maximum(Q - a, 0.0) if positive
                else np.sign(Q) * np.maximum(np.abs(Q) - a, 0.0))
    elif algorithm == "omp":
        xnorm2 = _row_norms2(X)
        if alpha is not None:
            if not float(alpha) >= 0:
                raise ValueError(f"alpha (the OMP residual tolerance) must be "
                                 f"non-negative, got {alpha!r}.")
            n_atoms, err_tol = K, float(alpha)
        else:
            n_atoms = (max(X.shape[1] // 10, 1) if n_nonzero_coefs is None
                       else _check_positive_int(n_nonzero_coefs, "n_nonzero_coefs"))
            err_tol = -1.0
        n_atoms = min(n_atoms, K, X.shape[1])
        atoms = np.empty((n, n_atoms), dtype=np.int64)
        coefs = np.empty((n, n_atoms))
        active = np.zeros(n, dtype=np.int64)
        run_rows(gram_omp, (G, Q, xnorm2, n_atoms, err_tol, atoms, coefs, active), n,
                 n * n_atoms * K * 4, threads)
        used = np.arange(n_atoms) < active[:, None]
        if return_sparse:
            indptr = np.concatenate([[0], np.cumsum(active)])
            code = sp.csr_matrix((coefs[used].astype(out_dtype, copy=False), atoms[used],
                                  indptr), shape=(n, K))
            code.sort_indices()
            return code
        code = np.zeros((n, K))
        code[np.nonzero(used)[0], atoms[used]] = coefs[used]
    elif algorithm == "lasso_lars":
        a = _check_alpha(alpha)
        max_iter = _check_positive_int(max_iter, "max_iter")
        code = np.zeros((n, K))
        n_steps = np.zeros(n, dtype=np.int64)
        failures = run_rows(gram_lasso_lars, (G, Q, a, bool(positive), max_iter, code,
                                              n_steps), n, n * K * 64, threads)
        if sum(failures):
            warn_at_caller(f"LARS stopped before alpha for {sum(failures)} of {n} samples "
                           f"(max_iter={max_iter} steps, or atoms numerically dependent).",
                           ConvergenceWarning)
    else:
        a = _check_alpha(alpha)
        max_iter = _check_positive_int(max_iter, "max_iter")
        xnorm2 = _row_norms2(X)
        if init is None:
            code = np.zeros((n, K))
        else:
            code = np.array(init, dtype=np.float64, order="C")
            if code.shape != (n, K):
                raise ValueError(f"init must have shape ({n}, {K}), got {code.shape}.")
        n_iter = np.zeros(n, dtype=np.int64)
        failures = run_rows(gram_lasso_cd, (G, Q, xnorm2, a, bool(positive), max_iter,
                                            float(tol), code, n_iter),
                            n, n * K * K, threads)
        if sum(failures):
            warn_at_caller(f"Coordinate descent did not converge for {sum(failures)} of "
                           f"{n} samples within max_iter={max_iter} epochs; increase "
                           "max_iter or tol.", ConvergenceWarning)
    code = code.astype(out_dtype, copy=False)
    return sp.csr_matrix(code) if return_sparse else code


def _encode_on_device(backend, X, dictionary, alpha, positive, init, tol, max_iter,
                      out_dtype, return_sparse):
    from ..gpu._coding import lasso_codes_fista

    if init is not None:
        init = np.asarray(init, dtype=np.float64)
        if init.shape != (X.shape[0], dictionary.shape[0]):
            raise ValueError(f"init must have shape ({X.shape[0]}, {dictionary.shape[0]}), "
                             f"got {init.shape}.")
    code, n_iter, converged = lasso_codes_fista(backend, X, dictionary, alpha,
                                                positive=bool(positive), init=init,
                                                tol=float(tol), max_iter=max_iter)
    if not converged:
        warn_at_caller(f"FISTA did not reach tol={tol} for every sample within "
                       f"max_iter={max_iter} iterations on device {backend.name!r}; "
                       "increase max_iter or tol.", ConvergenceWarning)
    code = code.astype(out_dtype, copy=False)
    return sp.csr_matrix(code) if return_sparse else code


#: The ``device`` parameter of the coders: validated like ``Lasso``'s.
DEVICE_CONSTRAINT = [StrOptions({"cpu", "gpu", "auto"})]

#: The ``device`` entry of the coders' docstrings (``Lasso``'s wording, for codes).
DEVICE_DOC = """device : {"cpu", "gpu", "auto"}, default="cpu"
        Where the ``lasso_cd`` codes are computed. ``"gpu"`` codes all samples at
        once by FISTA on the Gram matrix on an NVIDIA GPU through CuPy (see
        :mod:`sparse_estimators.gpu` and :func:`sparse_encode`);
        ``transform_max_iter`` then counts FISTA iterations. ``"auto"`` takes the GPU
        when CuPy and a device are there and the CPU otherwise; ``"gpu"`` without them
        raises an error saying what is missing. The other algorithms run on the
        CPU: with ``"gpu"`` they raise a ``ValueError``."""


def coding_device(device, algorithms):
    """The ``device`` to hand :func:`sparse_encode`.

    ``"cpu"`` when ``device`` resolves to the CPU, else ``device`` itself (so
    ``"auto"`` still codes the non-lasso algorithms on the CPU). Resolved once per
    call of a coder's method, so that ``"auto"`` without CuPy does not try the
    import again for every batch.

    Parameters
    ----------
    device : {"cpu", "gpu", "auto"}
    algorithms : dict
        ``{parameter name: (value, value that codes with lasso_cd)}`` of the coder.

    Returns
    -------
    device : {"cpu", "gpu", "auto"}

    Raises
    ------
    ValueError
        With ``device="gpu"`` when a parameter selects a coding other than
        ``lasso_cd``, or with an unknown ``device``.
    ImportError, RuntimeError
        With ``device="gpu"`` without CuPy or a CUDA device.
    """
    if device == "cpu":
        return "cpu"
    if device == "gpu":
        wrong = [f"{name}={value!r}" for name, (value, lasso) in algorithms.items()
                 if value != lasso]
        if wrong:
            wanted = ", ".join(f"{name}={lasso!r}"
                               for name, (_, lasso) in algorithms.items())
            raise ValueError(f"device='gpu' computes lasso_cd codes only ({wanted}); "
                             f"got {', '.join(wrong)}. Use device='auto' to run the "
                             "other algorithms on the CPU.")
    return "cpu" if device_backend(device) is None else device


def encode_with(est, X, dictionary, tol=1e-4, device=None):
    """Codes of the validated ``X`` on ``dictionary`` with the ``transform_*``,
    ``n_jobs``, ``positive_code``, ``split_sign`` and ``device`` parameters of the
    coder ``est`` (shared by :class:`SparseCoder` and the dictionary learners).
    ``device`` overrides the resolution of ``est.device`` (see
    :func:`coding_device`)."""
    if device is None:
        device = coding_device(est.device, {"transform_algorithm": (
            est.transform_algorithm, "lasso_cd")})
    alpha = est.transform_alpha
    if alpha is None and est.transform_algorithm != "omp":
        # the learners code with their own ``alpha`` (scikit-learn >= 1.2);
        # SparseCoder has none and takes sparse_encode's default of 1
        alpha = getattr(est, "alpha", None)
    code = sparse_encode(
        X, dictionary.astype(X.dtype, copy=False), algorithm=est.transform_algorithm,
        n_nonzero_coefs=est.transform_n_nonzero_coefs, alpha=alpha,
        max_iter=est.transform_max_iter, tol=tol, n_jobs=est.n_jobs,
        positive=est.positive_code, check_input=False, device=device)
    return split_by_sign(est, code)


def split_by_sign(est, code):
    """``[max(code, 0), max(-code, 0)]`` side by side with ``est.split_sign``, else
    ``code`` (the output layout of every coder's codes)."""
    if est.split_sign:
        code = np.hstack([np.maximum(code, 0), np.maximum(-code, 0)])
    return code


def decode_with(est, code, dictionary):
    """Signals ``code @ dictionary``, undoing ``est.split_sign`` first."""
    check_sparse_structure(code)
    code = check_array(code, accept_sparse=["csr", "csc"], dtype=_DTYPES)
    k = dictionary.shape[0]
    width = 2 * k if est.split_sign else k
    if code.shape[1] != width:
        raise ValueError(f"X has {code.shape[1]} columns, but inverse_transform expects "
                         f"{width} codes ({k} atoms"
                         f"{', split by sign' if est.split_sign else ''}).")
    if est.split_sign:
        code = code[:, :k] - code[:, k:]
    return np.asarray(code @ dictionary.astype(code.dtype, copy=False))


class SparseCoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    __doc__ = """Sparse coding on a fixed dictionary (scikit-learn's ``SparseCoder`` API).

    ``transform`` returns the codes of :func:`sparse_encode` for the chosen
    algorithm; dense, CSR and CSC input are accepted (sparse input is never
    densified) and float32 stays float32.

    Parameters
    ----------
    dictionary : ndarray of shape (n_components, n_features)
        The atoms, as rows.
    transform_algorithm : {"lasso_cd", "lasso_lars", "omp", "threshold"}, \
default="omp"
    transform_n_nonzero_coefs : int, default=None
        OMP atoms per signal.
    transform_alpha : float, default=None
        Lasso penalty, threshold, or OMP residual tolerance (see
        :func:`sparse_encode`).
    split_sign : bool, default=False
        Return ``[max(code, 0), max(-code, 0)]`` side by side (non-negative
        features for downstream models).
    n_jobs : int, default=None
        Threads.
    positive_code : bool, default=False
        Non-negative codes.
    transform_max_iter : int, default=1000
        Lasso epochs per signal.
    transform_tol : float, default=1e-4
        Lasso relative duality-gap tolerance.
    sparse_output : bool, default=False
        Return the codes as CSR.
    """ + DEVICE_DOC + """

    Attributes
    ----------
    n_components_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from sparse_estimators.decomposition import SparseCoder
    >>> D = np.eye(3, 5)
    >>> X = sp.csr_matrix(np.array([[0.0, 2.0, 0.0, 0.0, 1.0]]))
    >>> SparseCoder(D, transform_algorithm="lasso_cd", transform_alpha=0.5).transform(X)
    array([[0. , 1.5, 0. ]])
    """

    _required_parameters = ["dictionary"]

    _parameter_constraints: dict = {
        "dictionary": ["array-like"],
        "transform_algorithm": [StrOptions(set(ALGORITHMS))],
        "transform_n_nonzero_coefs": [Interval(numbers.Integral, 1, None, closed="left"),
                                      None],
        "transform_alpha": [Interval(numbers.Real, 0, None, closed="left"), None],
        "split_sign": ["boolean"],
        "n_jobs": [numbers.Integral, None],
        "positive_code": ["boolean"],
        "transform_max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "transform_tol": [Interval(numbers.Real, 0, None, closed="left")],
        "sparse_output": ["boolean"],
        "device": DEVICE_CONSTRAINT,
    }

    def __init__(self, dictionary, *, transform_algorithm="omp",
                 transform_n_nonzero_coefs=None, transform_alpha=None, split_sign=False,
                 n_jobs=None, positive_code=False, transform_max_iter=1000,
                 transform_tol=1e-4, sparse_output=False, device="cpu"):
        self.dictionary = dictionary
        self.transform_algorithm = transform_algorithm
        self.transform_n_nonzero_coefs = transform_n_nonzero_coefs
        self.transform_alpha = transform_alpha
        self.split_sign = split_sign
        self.n_jobs = n_jobs
        self.positive_code = positive_code
        self.transform_max_iter = transform_max_iter
        self.transform_tol = transform_tol
        self.sparse_output = sparse_output
        self.device = device

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Only validate the parameters and ``X`` (the dictionary is given).

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
        validate_data(self, X, accept_sparse=["csr", "csc"], dtype=_DTYPES)
        return self

    @property
    def n_components_(self):
        """Number of atoms."""
        return np.shape(self.dictionary)[0]

    @property
    def _n_features_out(self):
        return self.n_components_ * (2 if self.split_sign else 1)

    def transform(self, X):
        """Codes of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        code : ndarray or CSR matrix of shape (n_samples, n_components)
            ``2 * n_components`` columns with ``split_sign``.
        """
        self._validate_params()        # transform needs no fit
        check_sparse_structure(X)
        if hasattr(self, "n_features_in_"):   # fitted: checked against the fit's X
            X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=_DTYPES,
                              reset=False)
        else:
            # nothing stored without a fit (a later set_params(dictionary=...) may
            # change the width) and no "fitted without feature names" warning
            X = check_array(X, accept_sparse=["csr", "csc"], dtype=_DTYPES)
        dictionary = check_array(self.dictionary, dtype=_DTYPES)
        code = encode_with(self, X, dictionary, tol=self.transform_tol)
        return sp.csr_matrix(code) if self.sparse_output else code

    def inverse_transform(self, X):
        """Signals reconstructed from codes: ``code @ dictionary``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_components)

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
        """
        return decode_with(self, X, np.asarray(self.dictionary))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
