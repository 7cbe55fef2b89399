"""Elastic net by accelerated proximal gradient, written once for NumPy and CuPy.

Coordinate descent is sequential; on a GPU the elastic net is solved by FISTA
(Beck & Teboulle 2009) with adaptive restart (O'Donoghue & Candes 2015). Each
iteration is two sparse matrix-vector products, ``X v`` and ``X^T r``, with ``X`` and
``X^T`` both held as CSR (a transposed CSR product is slow on cuSPARSE), plus
element-wise work. The duality gap, the only host synchronisation, is checked every
``check_every`` iterations.

The problem is the one :func:`sparse_estimators._solvers._enet.enet_solve` solves,
in the same units::

    min_w 1/2 ||yc - Xc w||^2 + l1 ||w||_1 + l2/2 ||w||^2      (w >= 0 if positive)

where ``Xc = diag(s) (X - 1 xbar^T)`` and ``yc = s (y - ybar)``, ``s = sqrt(sample
weights)``. The centring is implicit, so sparse ``X`` stays sparse: ``Xc w = s (X w) - s
(xbar . w)`` and ``Xc^T r = X^T (s r) - xbar (s . r)``. The gap is scikit-learn's
formulation "A": the dual point is the residual scaled to dual feasibility, exactly
as in the CPU kernels (``enet_gap``).
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["enet_fista"]

#: Power-iteration steps for the Lipschitz constant, and the safety factor on it.
POWER_STEPS = 50
LIPSCHITZ_MARGIN = 1.02


class _CenteredDesign:
    """``Xc`` and ``Xc^T`` products on a backend (``X`` and ``X^T`` as CSR)."""

    def __init__(self, backend, X, s, fit_intercept, dtype):
        xp = backend.xp
        self.xp = xp
        n, p = X.shape
        self.shape = (n, p)
        self.dense = not sp.issparse(X)
        if self.dense:
            self.X = backend.asarray(X, dtype)
            self.XT = self.X.T
        else:
            Xh = sp.csr_matrix(X)
            self.X = backend.csr(Xh, dtype)
            self.XT = backend.csr(Xh.T.tocsr(), dtype)      # transposed on the host, once
        self.s = s                                          # (n,) device array or None
        w2 = s * s if s is not None else xp.ones(n, dtype=dtype)
        self.W = float(backend.scalar(w2.sum()))
        if fit_intercept:
            self.xbar = (self.XT @ w2) / self.W
        else:
            self.xbar = None

    def matvec(self, w):
        z = self.X @ w
        if self.xbar is not None:
            z = z - self.xp.dot(self.xbar, w)
        return z * self.s if self.s is not None else z

    def rmatvec(self, r):
        rs = r * self.s if self.s is not None else r
        g = self.XT @ rs
        if self.xbar is not None:
            g = g - self.xbar * rs.sum()
        return g


def _lipschitz(backend, design, dtype, seed=0):
    """Largest eigenvalue of ``Xc^T Xc`` by power iteration (times a margin)."""
    xp = backend.xp
    p = design.shape[1]
    if p == 0:
        return 0.0
    v = backend.asarray(np.random.default_rng(seed).standard_normal(p), dtype)
    v /= xp.linalg.norm(v)
    lam = 0.0
    for _ in range(POWER_STEPS):
        u = design.rmatvec(design.matvec(v))
        norm = backend.scalar(xp.linalg.norm(u))
        if norm == 0.0:
            return 0.0
        v = u / norm
        if abs(norm - lam) <= 1e-6 * norm:
            lam = norm
            break
        lam = norm
    return LIPSCHITZ_MARGIN * lam


def _gap(xp, backend, yc, r, grad, w, l1, l2, positive):
    """Duality gap of the unnormalised elastic net (as the CPU ``enet_gap``)."""
    quad_r = backend.scalar(xp.dot(r, r))
    r_dot_y = backend.scalar(xp.dot(r, yc))
    w_l2 = backend.scalar(xp.dot(w, w))
    if l1 == 0.0:
        g = xp.maximum(grad, 0.0) if positive else grad
        return quad_r + 0.5 * l2 * w_l2 - r_dot_y + backend.scalar(xp.dot(g, g)) / (2 * l2)
    a = grad - l2 * w
    dual_norm = backend.scalar(a.max() if positive else xp.abs(a).max()) if a.size else 0.0
    scale = l1 / dual_norm if dual_norm > l1 else 1.0
    quad = quad_r + l2 * w_l2
    primal = 0.5 * quad + l1 * backend.scalar(xp.abs(w).sum())
    dual = -0.5 * scale * scale * quad + scale * r_dot_y
    return primal - dual


def enet_fista(backend, X, y, alpha, l1_ratio=1.0, *, sample_weight=None,
               fit_intercept=True, positive=False, w0=None, tol=1e-4, max_iter=10_000,
               check_every=10, verbose=0):
    """Fit one elastic net by FISTA with adaptive restart on ``backend``.

    Parameters
    ----------
    backend : Backend
        :data:`~sparse_estimators.gpu._backend.NUMPY` or the CuPy backend.
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        Host data (float32 or float64), moved to the backend once as CSR and its
        transpose as CSR (dense stays dense).
    y : ndarray of shape (n_samples,)
    alpha, l1_ratio : float
        scikit-learn's parameters: the objective is
        ``1/(2 W) ||s (y - X w - b)||^2 + alpha l1_ratio ||w||_1
        + alpha (1 - l1_ratio)/2 ||w||^2`` with ``W = sum(sample_weight)``.
    sample_weight : ndarray of shape (n_samples,) or None
    fit_intercept, positive : bool
    w0 : ndarray of shape (n_features,) or None
        Warm start.
    tol : float
        scikit-learn's rule: stop once the (unnormalised) duality gap is at most
        ``tol * ||yc||^2``.
    max_iter : int
        Maximum number of FISTA iterations.
    check_every : int
        Iterations between two gap evaluations (each one syncs with the host).

    Returns
    -------
    coef : NumPy array of shape (n_features,), in ``X``'s dtype
    intercept : float
    gap : float
        Final duality gap divided by ``W`` (the units of ``dual_gap_``).
    n_iter : int
    converged : bool

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from sparse_estimators.gpu import NUMPY, enet_fista
    >>> X = sp.random(200, 50, density=0.1, format="csr", random_state=0)
    >>> y = 3 * X[:, 0].toarray().ravel() + 1.0
    >>> coef, intercept, gap, n_iter, converged = enet_fista(NUMPY, X, y, alpha=0.001)
    >>> converged, np.flatnonzero(np.abs(coef) > 0.1).tolist()
    (True, [0])
    """
    xp = backend.xp
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    n, p = X.shape
    yd = backend.asarray(y, dtype)
    s = None if sample_weight is None else xp.sqrt(backend.asarray(sample_weight, dtype))
    design = _CenteredDesign(backend, X, s, fit_intercept, dtype)
    W = design.W
    if fit_intercept:
        w2 = s * s if s is not None else None
        y_offset = backend.scalar((yd * w2).sum() if w2 is not None else yd.sum()) / W
    else:
        y_offset = 0.0
    yc = yd - y_offset
    if s is not None:
        yc = yc * s
    l1 = alpha * l1_ratio * W
    l2 = alpha * (1.0 - l1_ratio) * W
    tol_abs = tol * backend.scalar(xp.dot(yc, yc))
    L = _lipschitz(backend, design, dtype) + l2
    w = xp.zeros(p, dtype=dtype) if w0 is None else backend.asarray(w0, dtype)
    if positive:
        w = xp.maximum(w, 0.0)
    z_w = design.matvec(w)                 # Xc w, kept by linearity
    v, z_v = w, z_w
    one = xp.asarray(1.0, dtype=dtype)
    t = one
    gap = np.inf
    converged = False
    it = 0
    if L == 0.0:                           # Xc is all zeros: w = 0 is optimal
        w = xp.zeros(p, dtype=dtype)
        z_w = design.matvec(w)
    while True:
        if it % check_every == 0:
            r = yc - z_w
            grad = design.rmatvec(r)
            gap = _gap(xp, backend, yc, r, grad, w, l1, l2, positive)
            if verbose:
                print(f"[enet_fista] iteration {it}: gap {gap:.3e} (tol {tol_abs:.3e})")
            if gap <= tol_abs:
                converged = True
                break
        if it >= max_iter or L == 0.0:
            break
        # proximal gradient step from v
        g_v = l2 * v - design.rmatvec(yc - z_v)
        u = v - g_v / L
        thresh = l1 / L
        if positive:
            w_new = xp.maximum(u - thresh, 0.0)
        else:
            w_new = xp.sign(u) * xp.maximum(xp.abs(u) - thresh, 0.0)
        z_new = design.matvec(w_new)
        # adaptive restart when the step goes against the momentum; decided on the
        # device (a 0-d array), so that the gap checks stay the only host syncs
        restart = xp.dot(v - w_new, w_new - w) > 0.0
        t_next = xp.where(restart, one, 0.5 * (1.0 + xp.sqrt(1.0 + 4.0 * t * t)))
        beta = xp.where(restart, 0.0 * one, (t - 1.0) / t_next)
        v = w_new + beta * (w_new - w)
        z_v = z_new + beta * (z_new - z_w)
        t = t_next
        w, z_w = w_new, z_new
        it += 1
    coef = backend.to_host(w).astype(dtype, copy=False)
    if fit_intercept:
        intercept = y_offset - float(backend.to_host(xp.dot(design.xbar, w)))
    else:
        intercept = 0.0
    return coef, intercept, gap / W, it, converged
