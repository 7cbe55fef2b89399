"""Matrix factorisation on an array backend: the CPU solver's sweeps, vectorised
over rows.

:class:`~sparse_estimators.decomposition.SparseMatrixFactorization` alternates half
sweeps: each row of one side gets one cyclic coordinate-descent pass over its free
factor columns with the other side fixed (:mod:`sparse_estimators._solvers._mf`).
Rows of a half sweep are independent, so here every row takes its step for column
``f`` at once, in the CPU kernel's column order and with its formulas: for column
``f`` and all rows ``u``,

    a_u = sum_obs (c - c0) y_if^2 + S_ff + s_u l2_f
    b_u = sum_obs e_ui y_if + (a_u - S_ff - s_u l2_f) x_uf - (S x_u)_f + S_ff x_uf
    x_uf <- prox(b_u, s_u l1_f) / a_u,    e_ui -= (c - c0) (x_uf^new - x_uf) y_if

with ``e = c p - (c - c0) r`` the weighted residuals of the stored entries (``r``
the prediction) and ``S = c0 Y^T Y`` (implicit feedback). ``sum_obs e y_f`` is a
CSR matrix-vector product (cuSPARSE or this package's kernel on a GPU) with the
residuals as values, and the update of ``e`` one gather over the entries: a half
sweep is ``O(nnz K + n K^2)`` work in ``2 K + 2`` passes over the entries, each one
data-parallel, where the CPU kernel walks rows one after the other. The iterates
are the CPU solver's up to rounding; the objective, the stopping rule and so
``n_iter_`` are the same.

The matrix lives on the device once: its CSR arrays, the transpose built there
(cuSPARSE ``csr2csc`` on a GPU), the confidences, the residuals and the factors.
One host synchronisation per sweep brings back the objective.
"""

from dataclasses import dataclass

import numpy as np

from ._backend import prox_step

__all__ = ["DeviceSide", "device_sides", "fit_factors"]


@dataclass
class DeviceSide:
    """The stored entries seen from one side, on the device (CSR with that side's
    rows), and how that side's factor columns are penalised."""

    indptr: object
    indices: object
    rows: object          # the row of each stored entry
    ct: object            # c p per entry
    cm: object            # c - c0 per entry; None when it is the constant cm_value
    cm_value: float
    free: tuple           # factor columns this side updates, in order
    l2: tuple
    l1: tuple
    positive: tuple
    reg_scale: object     # (n_rows,) penalty multiplier per row
    n_cols: int

    @property
    def n_rows(self):
        return self.reg_scale.shape[0]

    @property
    def weighted(self):
        """Whether any entry has ``c != c0`` (else the residuals never move)."""
        return self.cm is not None or self.cm_value != 0.0

    def matrix(self, backend, values):
        """The side's CSR matrix holding ``values`` (one per stored entry)."""
        M = backend.sparse.csr_matrix((values, self.indices, self.indptr),
                                      shape=(self.n_rows, self.n_cols))
        # canonical by construction (validated CSR, or its transpose): said so, or
        # cupyx checks it with a kernel and a host sync before every SpMM
        M.has_canonical_format = True
        return M


def device_sides(backend, indptr, indices, n_cols, ct, cm, layouts, count_scaling):
    """Both sides of a CSR user x item matrix on the device.

    Parameters
    ----------
    backend : Backend
    indptr, indices : host CSR structure (users as rows) in canonical format.
    n_cols : int
        Number of items.
    ct, cm : host arrays of the factors' dtype
        ``c p`` per entry and ``c - c0`` per entry or, of length 1, for all.
    layouts : dict
        ``{"user": (free, l2, l1, positive), "item": ...}`` (host arrays).
    count_scaling : bool
        Penalties per row multiplied by the row's number of entries (else by 1).

    Returns
    -------
    users, items : DeviceSide
    """
    xp = backend.xp
    dt = ct.dtype
    idx_dtype = np.int32 if backend.name != "numpy" else indices.dtype
    if backend.name != "numpy" and indices.shape[0] >= np.iinfo(np.int32).max:
        raise ValueError(f"X has {indices.shape[0]} stored values: cuSPARSE CSR through "
                         "CuPy holds int32 indices, at most 2**31 - 1 values.")
    u_indptr = backend.asarray(indptr, idx_dtype)
    u_indices = backend.asarray(indices, idx_dtype)
    u_ct = backend.asarray(ct, dt)
    per_entry = cm.shape[0] > 1
    u_cm = backend.asarray(cm, dt) if per_entry else None
    nnz = u_indices.shape[0]
    # the transpose on the device, carrying each entry's position so that ct and cm
    # follow it (float64 positions are exact up to 2**53 entries)
    pos = backend.sparse.csr_matrix(
        (xp.arange(nnz, dtype=np.float64), u_indices, u_indptr),
        shape=(indptr.shape[0] - 1, n_cols)).T.tocsr()
    perm = pos.data.astype(np.int64)
    t_indptr = pos.indptr.astype(idx_dtype, copy=False)
    t_indices = pos.indices.astype(idx_dtype, copy=False)
    structures = {
        "user": (u_indptr, u_indices, u_ct, u_cm, n_cols),
        "item": (t_indptr, t_indices, u_ct[perm], u_cm[perm] if per_entry else None,
                 indptr.shape[0] - 1),
    }
    sides = []
    for name in ("user", "item"):
        ip, ind, side_ct, side_cm, other = structures[name]
        free, l2, l1, positive = layouts[name]
        counts = xp.diff(ip).astype(dt)
        sides.append(DeviceSide(
            indptr=ip, indices=ind,
            rows=(xp.searchsorted(ip, xp.arange(nnz), side="right") - 1).astype(
                idx_dtype, copy=False),
            ct=side_ct, cm=side_cm, cm_value=0.0 if per_entry else float(cm[0]),
            free=tuple(int(f) for f in free), l2=tuple(float(v) for v in l2),
            l1=tuple(float(v) for v in l1), positive=tuple(bool(v) for v in positive),
            reg_scale=counts if count_scaling else xp.ones_like(counts), n_cols=other))
    return sides[0], sides[1]


def _predictions(backend, side, X, Y):
    """``X[u] . Y[i]`` at every stored entry ``(u, i)`` of ``side``, one gather per
    factor column (no ``nnz x K`` temporary)."""
    xp = backend.xp
    r = xp.zeros(side.indices.shape[0], dtype=X.dtype)
    for f in range(X.shape[1]):
        r += X[:, f][side.rows] * Y[:, f][side.indices]
    return r


def _coordinate_min(backend, b, thresh, a, positive, old):
    """``prox_enet`` of the CPU kernel for every row: the minimiser of ``a w^2 / 2
    - b w + thresh |w|`` (``w >= 0`` if positive), i.e. the FISTA solvers'
    :func:`prox_step` at ``b`` with ``a`` as the shrink, or ``old`` where
    ``a <= 0``."""
    xp = backend.xp
    has_curvature = a > 0.0
    zero = xp.zeros((), dtype=b.dtype)
    new = prox_step(backend, b, zero, zero, thresh, xp.where(has_curvature, a, 1.0),
                    positive)
    return xp.where(has_curvature, new, old).astype(old.dtype, copy=False)


def half_sweep(backend, side, X, Y, S=None, want_loss=False):
    """One coordinate-descent pass over ``X[:, side.free]`` for every row at once,
    ``Y`` fixed; ``X`` is updated in place. ``S`` is ``c0 Y^T Y`` (implicit
    feedback) or ``None``. Returns (with ``want_loss``) the observed part of twice
    the data fit, ``sum_obs ((c - c0) r^2 - 2 c p r)``, as a float64 0-d array."""
    xp = backend.xp
    cm = side.cm if side.cm is not None else side.cm_value
    if side.weighted:
        e = side.ct - cm * _predictions(backend, side, X, Y)
        A = xp.asarray(side.matrix(backend, side.cm) @ (Y * Y)) if side.cm is not None \
            else cm * xp.asarray(side.matrix(backend, xp.ones_like(side.ct)) @ (Y * Y))
    else:
        B0 = xp.asarray(side.matrix(backend, side.ct) @ Y)
    for f in side.free:
        xf = X[:, f].copy()
        a = side.reg_scale * side.l2[f]
        if side.weighted:
            yf = xp.ascontiguousarray(Y[:, f])
            b = backend.spmv(side.matrix(backend, e), yf) + A[:, f] * xf
            a = a + A[:, f]
        else:
            b = B0[:, f]
        if S is not None:
            a = a + S[f, f]
            b = b - (X @ S[f] - S[f, f] * xf)
        new = _coordinate_min(backend, b, side.reg_scale * side.l1[f], a,
                              side.positive[f], xf)
        X[:, f] = new
        if side.weighted:
            e -= cm * (new - xf)[side.rows] * yf[side.indices]
    if not want_loss:
        return None
    # predictions summed in float64, as the CPU kernel does: a float32 objective
    # can rise by rounding and stop the fit sweeps early at a tight tol
    r = _predictions(backend, side, X.astype(np.float64), Y.astype(np.float64))
    ct = side.ct.astype(np.float64)
    cm = side.cm.astype(np.float64) if side.cm is not None else side.cm_value
    return (cm * r * r - 2.0 * ct * r).sum()


def _penalty(xp, F, side):
    """The penalty of one side's factors (float64 0-d array), ``mf_penalty``'s sum."""
    free = list(side.free)
    Ff = F[:, free].astype(np.float64)
    l2 = xp.asarray([side.l2[f] for f in free], dtype=np.float64)
    l1 = xp.asarray([side.l1[f] for f in free], dtype=np.float64)
    per_row = 0.5 * (Ff * Ff) @ l2 + xp.abs(Ff) @ l1
    return (side.reg_scale.astype(np.float64) * per_row).sum()


def fit_factors(backend, users, items, U, V, c0, const, max_iter, tol, callback=None):
    """Alternate half sweeps until the objective's relative decrease over a sweep
    is at most ``tol``: :func:`sparse_estimators._solvers._mf.alternating_cd` on
    ``backend``.

    Parameters
    ----------
    backend : Backend
    users, items : DeviceSide
        From :func:`device_sides`.
    U, V : host ndarrays of shape (n_users, K) and (n_items, K)
        Initial augmented factors (not modified).
    c0 : float
        Confidence of the unobserved entries (0: explicit feedback).
    const : float
        ``sum_obs c p^2``.
    max_iter : int
    tol : float
    callback : callable, default=None
        Called as ``callback(iteration, objective)`` after each sweep.

    Returns
    -------
    U, V : host ndarrays
        The fitted factors; rows without stored entries are zero in their free
        columns (their minimiser).
    objectives : list of float
        The objective after each sweep.
    n_iter : int

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from sparse_estimators.gpu import NUMPY
    >>> from sparse_estimators.gpu._mf import device_sides, fit_factors
    >>> R = sp.random(30, 20, density=0.3, format="csr", random_state=0)
    >>> ridge = (np.arange(2), np.full(2, 1e-3), np.zeros(2), np.zeros(2, bool))
    >>> users, items = device_sides(NUMPY, R.indptr, R.indices, 20, R.data,
    ...                             np.ones(1), {"user": ridge, "item": ridge}, False)
    >>> rng = np.random.default_rng(0)
    >>> U0, V0 = rng.normal(size=(30, 2)), rng.normal(size=(20, 2))
    >>> U, V, objectives, n_iter = fit_factors(NUMPY, users, items, U0, V0, 0.0,
    ...                                        float(R.data @ R.data), 50, 1e-8)
    >>> bool(np.all(np.diff(objectives) <= 1e-12))   # each sweep decreases it
    True
    """
    xp = backend.xp
    dt = U.dtype
    X = backend.asarray(U, dt).copy()
    Y = backend.asarray(V, dt).copy()
    # rows without entries: their minimiser is zero in the free columns
    for F, side in ((X, users), (Y, items)):
        empty = xp.diff(side.indptr) == 0
        for f in side.free:
            F[:, f] = xp.where(empty, 0.0, F[:, f])
    objectives = []
    gram_Y = Y.T @ Y if c0 else None
    n_iter = max_iter
    for it in range(max_iter):
        half_sweep(backend, users, X, Y, S=c0 * gram_Y if c0 else None)
        gram_X = X.T @ X if c0 else None
        loss = half_sweep(backend, items, Y, X, S=c0 * gram_X if c0 else None,
                          want_loss=True)
        obj = 0.5 * (loss + const) + _penalty(xp, X, users) + _penalty(xp, Y, items)
        if c0:
            gram_Y = Y.T @ Y
            obj = obj + 0.5 * c0 * (gram_X.astype(np.float64)
                                    * gram_Y.astype(np.float64)).sum()
        objectives.append(backend.scalar(obj))       # the sweep's one host sync
        if callback is not None:
            callback(it, objectives[-1])
        if len(objectives) > 1 and objectives[-2] - objectives[-1] <= tol * abs(
                objectives[-1]):
            n_iter = it + 1
            break
    return backend.to_host(X), backend.to_host(Y), objectives, n_iter
