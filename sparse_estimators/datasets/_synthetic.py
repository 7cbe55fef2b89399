"""Synthetic sparse regression problems."""

import numbers

import numpy as np
import scipy.sparse as sp

__all__ = ["make_sparse_regression"]

_INT32_MAX = np.iinfo(np.int32).max
_FORMATS = ("csr", "csc", "dense")


def _as_generator(random_state):
    """Turn ``random_state`` into a :class:`numpy.random.Generator`.

    ``None``, an int, a :class:`numpy.random.Generator` or a
    :class:`numpy.random.RandomState` are accepted.  A ``RandomState`` is used
    to draw the seed of a fresh ``Generator`` (so it is advanced, as usual).
    """
    if random_state is None or isinstance(random_state, numbers.Integral):
        if random_state is not None and not 0 <= random_state < 2**63:
            raise ValueError(
                "random_state must be None, a non-negative int, a "
                f"numpy.random.Generator or a numpy.random.RandomState; got "
                f"{random_state!r}."
            )
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(
            random_state.randint(0, np.iinfo(np.int64).max, dtype=np.int64)
        )
    raise ValueError(
        "random_state must be None, a non-negative int, a numpy.random.Generator "
        f"or a numpy.random.RandomState; got {random_state!r}."
    )


def _check_int(value, name, low, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int; got {value!r}.")
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {bounds}; got {value!r}.")
    return int(value)


def _check_float(value, name, low=None, high=None, low_open=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number; got {value!r}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}.")
    if low is not None and (value < low or (low_open and value == low)):
        op = ">" if low_open else ">="
        raise ValueError(f"{name} must be {op} {low}; got {value!r}.")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}; got {value!r}.")
    return value


def _bernoulli_positions(rng, size, density):
    """Sorted positions in ``[0, size)``, each kept independently w.p. ``density``.

    The gaps between consecutive successes of a Bernoulli process are
    geometric, so the positions are the cumulative sums of geometric draws:
    O(nnz) work and memory, already sorted and without duplicates.
    ``size`` must be below ``2**62`` so that the sums cannot overflow before
    they pass ``size``.
    """
    if density >= 1.0:
        return np.arange(size, dtype=np.int64)
    mean = size * density
    chunk = int(min(mean + 6.0 * np.sqrt(mean * (1.0 - density)) + 16, 2**40))
    pieces = []
    last = -1  # position of the last success so far
    while True:
        gaps = rng.geometric(density, size=chunk)
        # Any gap > size lands past the end: clipping keeps every partial sum
        # below 2**63 until the first one that reaches ``size``.
        np.minimum(gaps, size + 1, out=gaps)
        gaps[0] += last
        pos = np.cumsum(gaps, dtype=np.int64)
        past_end = pos >= size
        if past_end.any():
            pieces.append(pos[: int(np.argmax(past_end))])
            break
        pieces.append(pos)
        last = int(pos[-1])
        chunk = max(16, chunk // 8)
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def make_sparse_regression(
    n_samples=1000,
    n_features=10000,
    *,
    density=0.01,
    n_informative=10,
    noise=1.0,
    fit_intercept_shift=0.0,
    dtype=np.float64,
    format="csr",
    random_state=None,
    return_coef=False,
):
    """Generate a random sparse linear regression problem.

    Every entry of ``X`` is non-zero independently with probability
    ``density`` (so the non-zeros are placed uniformly at random and every
    column has the same expected density), and the non-zero values are drawn
    from a standard normal distribution.  The target is::

        y = X @ coef + fit_intercept_shift + noise * N(0, 1)

    where ``coef`` has exactly ``n_informative`` non-zero entries at features
    chosen uniformly at random.  Their values have random signs and
    magnitudes drawn uniformly in ``[1, 2]``, divided by ``sqrt(density)`` so
    that each informative feature contributes a variance of order one to
    ``y`` whatever the density (with ``noise=1`` the signal-to-noise ratio is
    then roughly ``n_informative``-to-one).

    The matrix is built directly from random indices in O(nnz) time and
    memory (positions are drawn as cumulative geometric gaps), so a
    ``100_000 x 100_000`` matrix at density ``1e-3`` (10^7 non-zeros) takes
    about a second.  The matrix is always drawn in CSR order (CSC and dense
    outputs are converted from it), so a seed gives the same problem in every
    format.  Sparse outputs are in canonical format (sorted indices, no
    duplicates) with ``int32`` indices whenever the number of non-zeros fits.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples (rows), at least 1.
    n_features : int, default=10000
        Number of features (columns), at least 1.
    density : float, default=0.01
        Probability that an entry of ``X`` is non-zero, in ``(0, 1]``.
    n_informative : int, default=10
        Number of non-zero coefficients, in ``[0, n_features]``.
    noise : float, default=1.0
        Standard deviation of the Gaussian noise added to ``y`` (``>= 0``).
    fit_intercept_shift : float, default=0.0
        Constant added to every target value (the true intercept).
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Floating point type of ``X``, ``y`` and ``coef``.
    format : {"csr", "csc", "dense"}, default="csr"
        Format of ``X``: a :class:`scipy.sparse.csr_matrix`, a
        :class:`scipy.sparse.csc_matrix`, or a dense :class:`numpy.ndarray`.
        The same ``random_state`` gives the same matrix in every format.
        Beware that ``"dense"`` allocates ``n_samples * n_features`` values.
    random_state : int, numpy.random.Generator, numpy.random.RandomState \
or None, default=None
        Seed or random number generator; pass an int for reproducible output.
    return_coef : bool, default=False
        If True, also return the true coefficient vector.

    Returns
    -------
    X : scipy.sparse.csr_matrix, scipy.sparse.csc_matrix or ndarray of \
shape (n_samples, n_features)
        The design matrix.
    y : ndarray of shape (n_samples,)
        The target.
    coef : ndarray of shape (n_features,)
        The true coefficients, with ``n_informative`` non-zeros.  Only
        returned when ``return_coef=True``.

    Examples
    --------
    >>> from sparse_estimators.datasets import make_sparse_regression
    >>> X, y, coef = make_sparse_regression(
    ...     200, 500, density=0.05, n_informative=5, random_state=0,
    ...     return_coef=True)
    >>> X.shape, X.format, y.shape
    ((200, 500), 'csr', (200,))
    >>> int((coef != 0).sum())
    5
    >>> bool(abs(X.nnz / (200 * 500) - 0.05) < 0.01)
    True
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    n_features = _check_int(n_features, "n_features", 1)
    density = _check_float(density, "density", 0.0, 1.0, low_open=True)
    n_informative = _check_int(n_informative, "n_informative", 0, n_features)
    noise = _check_float(noise, "noise", 0.0)
    fit_intercept_shift = _check_float(fit_intercept_shift, "fit_intercept_shift")
    try:
        dtype = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(
            f"dtype must be numpy.float32 or numpy.float64; got {dtype!r}."
        ) from exc
    if dtype not in (np.float32, np.float64):
        raise ValueError(
            f"dtype must be numpy.float32 or numpy.float64; got {dtype!r}."
        )
    if not isinstance(format, str) or format not in _FORMATS:
        raise ValueError(
            f"format must be one of {_FORMATS}; got {format!r}."
        )
    if n_features > _INT32_MAX or n_samples > _INT32_MAX:
        raise ValueError(
            "n_samples and n_features must each be < 2**31; got "
            f"n_samples={n_samples}, n_features={n_features}."
        )
    rng = _as_generator(random_state)

    # Non-zero pattern of X in row-major (CSR) order; the other formats are
    # converted from it so that a seed gives the same matrix in every format.
    pos = _bernoulli_positions(rng, n_samples * n_features, density)
    nnz = pos.size
    idx_dtype = np.int32 if nnz <= _INT32_MAX else np.int64
    row_idx, col_idx = np.divmod(pos, n_features)
    del pos
    indices = col_idx.astype(idx_dtype)
    del col_idx
    counts = np.bincount(row_idx, minlength=n_samples)
    del row_idx
    indptr = np.empty(n_samples + 1, dtype=idx_dtype)
    indptr[0] = 0
    np.cumsum(counts, out=indptr[1:])
    data = rng.standard_normal(nnz)

    # True coefficients.
    coef = np.zeros(n_features)
    support = np.sort(rng.choice(n_features, size=n_informative, replace=False))
    signs = rng.choice(np.array([-1.0, 1.0]), size=n_informative)
    coef[support] = signs * rng.uniform(1.0, 2.0, size=n_informative)
    coef /= np.sqrt(density)

    X = sp.csr_matrix(
        (data, indices, indptr), shape=(n_samples, n_features), copy=False
    )
    X.has_sorted_indices = True
    X.has_canonical_format = True

    y = X @ coef
    y += fit_intercept_shift
    if noise > 0:
        y += noise * rng.standard_normal(n_samples)

    if dtype != np.float64:
        X.data = X.data.astype(dtype)
        y = y.astype(dtype)
        coef = coef.astype(dtype)
    if format == "csc":
        X = X.tocsc()
    elif format == "dense":
        X = X.toarray()
    if return_coef:
        return X, y, coef
    return X, y
