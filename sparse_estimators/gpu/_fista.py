"""Elastic net by accelerated proximal gradient, written once for NumPy and CuPy.

Coordinate descent is sequential; on a GPU the elastic net is solved by FISTA
(Beck & Teboulle 2009) with adaptive restart (O'Donoghue & Candes 2015). Each
iteration is two sparse matrix-vector products, ``X v`` and ``X^T r``, with ``X`` and
``X^T`` both held as CSR on the device (a transposed CSR product is slow on
cuSPARSE; dense ``X`` stays dense), plus element-wise work and a few reductions that
stay on the device.

Every ``check_every`` iterations one host synchronisation brings back the duality
gap (the stopping certificate) and whether the step ``1/L`` satisfied the
sufficient-decrease condition of the smooth part at every iteration since the last
check. ``L`` starts from a Lanczos estimate of the largest eigenvalue of
``Xc^T Xc``, which can fall short (a start vector with little weight on the top
eigenvector); a violated condition doubles ``L`` and resumes from the last checked
iterate, as Beck & Teboulle's backtracking does per iteration.

The problem is the one :func:`sparse_estimators._solvers._enet.enet_solve` solves,
in the same units::

    min_w 1/2 ||yc - Xc w||^2 + l1 ||w||_1 + l2/2 ||w||^2      (w >= 0 if positive)

where ``Xc = diag(s) (X - 1 xbar^T)`` and ``yc = s (y - ybar)``, ``s = sqrt(sample
weights)``. The centring is implicit, so sparse ``X`` stays sparse: ``Xc w = s (X w) - s
(xbar . w)`` and ``Xc^T r = X^T (s r) - xbar (s . r)``. The gap is the CPU kernel's
(``enet_gap``): scikit-learn's formulation "A", whose dual point is the residual
scaled to dual feasibility; with ``l1 = l2 = 0`` (least squares) it is the decrease
one exact coordinate step would give each coordinate, summed.
"""

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigh_tridiagonal

from .._solvers._enet import center_target
from ._backend import extrapolate, fista_scalars, prox_step

__all__ = ["enet_fista", "prepare_design"]

#: Lanczos steps for the first Lipschitz estimate, and the margin on it.
LANCZOS_STEPS = 30
LIPSCHITZ_MARGIN = 1.02


class _CenteredDesign:
    """``Xc`` and ``Xc^T`` products on a backend, shared by the targets of a fit."""

    def __init__(self, backend, X, sample_weight, fit_intercept, dtype,
                 check_finite=False):
        xp = backend.xp
        self.backend = backend
        self.xp = xp
        self.dtype = dtype
        n, p = X.shape
        self.shape = (n, p)
        self.X, self.XT = device_matrices(backend, X, dtype)
        if check_finite and not backend.all_finite(
                self.X.data if hasattr(self.X, "tocsr") else self.X):
            raise ValueError("Input X contains NaN or infinity.")
        self.s = (None if sample_weight is None
                  else xp.sqrt(backend.asarray(sample_weight, dtype)))
        w2 = self.s * self.s if self.s is not None else xp.ones(n, dtype=dtype)
        self.w2 = w2
        # on the host in float64 as the CPU Design holds them (center_target, W)
        self.sw_host = (None if sample_weight is None
                        else np.asarray(sample_weight, dtype=np.float64))
        self.W = float(n if sample_weight is None
                       else np.sum(self.sw_host, dtype=np.float64))
        self.xbar = backend.spmv(self.XT, w2) / self.W if fit_intercept else None
        self.fit_intercept = fit_intercept
        self.lipschitz = _top_eigenvalue(backend, self)
        self._col_norms = None

    def center_target(self, y):
        """``(yc, y_offset)`` on the host, as the CPU path's ``Design.center_target``
        (the alpha grid and the tolerances of the path functions and CV)."""
        return center_target(y, self.sw_host, self.W, self.fit_intercept)

    def correlation(self, yc):
        """``Xc^T yc`` for a host target from :meth:`center_target`, computed on the
        device and returned as a host float64 array: ``alpha_max`` without a host
        copy of ``X`` (``rmatvec`` applies ``s`` once more: ``Xc^T yc = X^T (s yc) -
        xbar (s . yc)``). The vector is float64 whatever ``X``'s dtype, so that a
        float32 ``X`` is summed in float64 as by the CPU's kernels (large column
        values cancel in float32 sums; on CuPy the product then makes a transient
        float64 copy of ``X^T``, once)."""
        g = self.rmatvec(self.backend.asarray(yc, np.float64))
        return self.backend.to_host(g).astype(np.float64)

    def matvec(self, w):
        z = self.backend.spmv(self.X, w)
        if self.xbar is not None:
            z = z - self.xp.dot(self.xbar, w)
        return z * self.s if self.s is not None else z

    def rmatvec(self, r):
        rs = r * self.s if self.s is not None else r
        g = self.backend.spmv(self.XT, rs)
        if self.xbar is not None:
            g = g - self.xbar * rs.sum()
        return g

    def restrict(self, keep):
        """The design on the columns ``keep`` (a host int array): ``X[:, keep]`` and
        the rows ``keep`` of ``X^T``, with the same weights and centring. Its
        ``lipschitz`` is the parent's, an upper bound for a column subset."""
        sub = object.__new__(_CenteredDesign)
        sub.__dict__.update(self.__dict__)
        idx = keep if self.backend.name == "numpy" else self.xp.asarray(keep)
        sub.shape = (self.shape[0], len(keep))
        sub.X = self.X[:, idx]
        # sparse: the rows of the CSR transpose; dense: a view of the new X
        sub.XT = self.XT[idx] if hasattr(self.XT, "tocsr") else sub.X.T
        sub.xbar = None if self.xbar is None else self.xbar[idx]
        sub._col_norms = None if self._col_norms is None else self._col_norms[idx]
        return sub

    def col_norms(self):
        """``||Xc_j||^2`` (the least-squares certificate and the screening test)."""
        if self._col_norms is None:
            X2 = self.XT.multiply(self.XT) if hasattr(self.XT, "multiply") else \
                self.XT * self.XT
            norms = self.backend.spmv(X2, self.w2)
            if self.xbar is not None:
                norms = norms - self.W * self.xbar * self.xbar
            self._col_norms = norms
        return self._col_norms


def device_matrices(backend, X, dtype):
    """``X`` and ``X^T`` on ``backend``: both CSR for sparse ``X`` (a transposed CSR
    product is slow on cuSPARSE; see :meth:`Backend.csr_pair`), dense as is."""
    if sp.issparse(X):
        return backend.csr_pair(X if X.format in ("csr", "csc") else X.tocsr(), dtype)
    Xd = backend.asarray(X, dtype)
    return Xd, Xd.T


def decrease_slack(dtype):
    """Relative slack of the sufficient-decrease test: float32 reductions carry
    ~1e-6 relative noise, which must not read as a violation."""
    return 1e-6 if dtype == np.float64 else 1e-4


class FistaIterates:
    """FISTA's iterates on a device, with adaptive restart and the decrease safeguard.

    Holds the iterate ``x`` and its image ``z`` under the design (carried by
    linearity), the extrapolated point ``v`` and its image ``z_v``, the momentum
    ``t``, the step ``1/L``, the last checked iterate, and the device flag of a failed
    sufficient-decrease test since then (Beck & Teboulle 2009; O'Donoghue & Candes
    2015 for the restart).
    """

    def __init__(self, backend, x, z, L, dtype, name):
        xp = backend.xp
        self.backend = backend
        self.xp = xp
        self.one = xp.asarray(1.0, dtype=dtype)
        self.slack = decrease_slack(dtype)
        self.L = L
        self.name = name
        self.last_check = -1
        self.restart_from(x, z)

    def restart_from(self, x, z):
        """Start afresh (no momentum) from ``x``, taken as checked."""
        self.x, self.z = x, z
        self.v, self.z_v, self.t = x, z, self.one
        self.x_chk, self.z_chk = x, z
        self.violated = self.xp.asarray(False)

    def flag(self):
        """The decrease flag as a float64 device array of one value, to bring to the
        host with a check's other values (one sync)."""
        return self.violated.astype(np.float64)[None]

    def backtrack(self, violated, it, verbose=0):
        """At a check, with the host value of :meth:`flag`: when the step ``1/L`` was
        too long somewhere since the last check, double ``L``, resume from the
        iterate checked there and return True."""
        if not (violated and self.last_check >= 0):
            return False
        self.L *= 2.0
        self.restart_from(self.x_chk, self.z_chk)
        self.last_check = -1
        if verbose:
            print(f"[{self.name}] iteration {it}: step too long, L -> {self.L:.3e}")
        return True

    def checked(self, it):
        """Record the current iterate as the last checked one."""
        self.last_check = it
        self.x_chk, self.z_chk = self.x, self.z

    def advance(self, x_new, z_new, f_new, f_v, g_v):
        """Take ``x_new`` (the prox step from ``v``, with image ``z_new``): test the
        sufficient decrease of the smooth part (``f_new`` at ``x_new``, ``f_v`` and its
        gradient ``g_v`` at ``v``) and extrapolate, all on the device (fused kernels
        on CuPy: :func:`~sparse_estimators.gpu._backend.fista_scalars` and
        :func:`~sparse_estimators.gpu._backend.extrapolate`)."""
        xp, backend = self.xp, self.backend
        d = x_new - self.v
        bound = (f_v + xp.dot(g_v, d) + 0.5 * self.L * xp.dot(d, d)
                 + self.slack * xp.abs(f_v))
        move = -xp.dot(d, x_new - self.x)          # (v - x_new) . (x_new - x)
        self.violated, beta, self.t = fista_scalars(backend, f_new, bound, move, self.t,
                                                    self.violated)
        self.v = extrapolate(backend, x_new, self.x, beta)
        self.z_v = extrapolate(backend, z_new, self.z, beta)
        self.x, self.z = x_new, z_new


def prepare_design(backend, X, sample_weight=None, fit_intercept=True,
                   check_finite=False):
    """Move ``X`` to ``backend`` once (as CSR and its transpose as CSR) with its
    centring statistics and Lipschitz estimate, for several targets.

    ``check_finite``: raise ``ValueError`` if ``X`` holds NaN or infinity, checked
    on the backend after the transfer (for a caller that skipped the host check).
    """
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    return _CenteredDesign(backend, X, sample_weight, fit_intercept, dtype,
                           check_finite)


def _top_eigenvalue(backend, design):
    """Largest eigenvalue of ``Xc^T Xc`` (times a margin) by Lanczos, from ``1 +
    noise``.

    ``LANCZOS_STEPS`` steps of the Lanczos recurrence on ``v -> Xc^T (Xc v)``
    (Lanczos 1950; Golub & Van Loan, "Matrix Computations", section 10.1), without
    reorthogonalisation: its largest Ritz value converges to the top eigenvalue much
    faster than power iteration on the clustered spectra of random sparse designs
    (on a 10^7-value design: 99.9% after 30 steps, where 90 power steps reach 99.3%).
    The recurrence stays on the device; its coefficients come to the host once, for
    the tridiagonal eigenvalue problem. An invariant subspace (a rank below the step
    count: few samples, zero or repeated columns) ends it early: a ``beta`` under
    ``sqrt(eps)`` times the largest ``alpha`` zeroes the next vector.

    The Ritz value is a lower bound; the margin covers the rest, and FISTA's
    sufficient-decrease test catches a shortfall (the start vector nearly
    orthogonal to the top eigenvector).
    """
    xp = backend.xp
    p = design.shape[1]
    if p == 0:
        return 0.0
    start = 1.0 + 0.1 * np.random.default_rng(0).standard_normal(p)
    q = backend.asarray(start / np.linalg.norm(start), design.dtype)
    q_prev = xp.zeros_like(q)
    beta = xp.zeros((), dtype=design.dtype)
    a_max = xp.zeros((), dtype=design.dtype)
    tiny = np.sqrt(np.finfo(design.dtype).eps)
    alphas, betas = [], []
    for _ in range(min(LANCZOS_STEPS, p)):
        w = design.rmatvec(design.matvec(q))
        alpha = xp.dot(w, q)
        w = w - alpha * q - beta * q_prev
        beta = xp.linalg.norm(w)
        a_max = xp.maximum(a_max, xp.abs(alpha))
        alive = beta > tiny * a_max
        q_prev, q = q, xp.where(alive, w / xp.where(alive, beta, 1.0), 0.0)
        beta = xp.where(alive, beta, 0.0)
        alphas.append(alpha)
        betas.append(beta)
    coeffs = backend.to_host(xp.stack(alphas + betas)).astype(np.float64)
    k = len(alphas)
    top = eigh_tridiagonal(coeffs[:k], coeffs[k:2 * k - 1], eigvals_only=True)[-1]
    return LIPSCHITZ_MARGIN * max(float(top), 0.0)


def _gap_terms(xp, yc, r, grad, w, l2, positive, col_norms):
    """The reductions of the gap, in float64, as one device array (one sync)."""
    r64, w64, g64 = (a.astype(np.float64) for a in (r, w, grad))
    a = g64 - l2 * w64
    if col_norms is not None:                      # least squares: coordinate steps
        pg = xp.where((w64 <= 0.0) & (g64 < 0.0), 0.0, g64) if positive else g64
        nrm = col_norms.astype(np.float64)
        ls = xp.where(nrm > 0.0, pg * pg / xp.where(nrm > 0.0, nrm, 1.0), 0.0).sum()
    else:
        ls = xp.zeros((), dtype=np.float64)
    g_pos = xp.maximum(g64, 0.0) if positive else g64
    dual_norm = (a.max() if positive else xp.abs(a).max()) if a.size else \
        xp.zeros((), dtype=np.float64)
    return xp.stack([xp.dot(r64, r64), xp.dot(r64, yc.astype(np.float64)),
                     xp.dot(w64, w64), xp.abs(w64).sum(), xp.asarray(dual_norm),
                     xp.dot(g_pos, g_pos), ls])


def _gap(terms, l1, l2):
    """Duality gap of the unnormalised elastic net from :func:`_gap_terms` (host)."""
    quad_r, r_dot_y, w_l2, w_l1, dual_norm, g2, ls = (float(t) for t in terms)
    if l1 == 0.0 and l2 == 0.0:
        return 0.5 * ls
    if l1 == 0.0:
        return quad_r + 0.5 * l2 * w_l2 - r_dot_y + g2 / (2.0 * l2)
    scale = l1 / dual_norm if dual_norm > l1 else 1.0
    quad = quad_r + l2 * w_l2
    primal = 0.5 * quad + l1 * w_l1
    dual = -0.5 * scale * scale * quad + scale * r_dot_y
    return primal - dual


def enet_fista(backend, X, y, alpha, l1_ratio=1.0, *, sample_weight=None,
               fit_intercept=True, positive=False, w0=None, tol=1e-4, max_iter=10_000,
               check_every=10, verbose=0, design=None, screening=True):
    """Fit one elastic net by FISTA with adaptive restart on ``backend``.

    Parameters
    ----------
    backend : Backend
        :data:`~sparse_estimators.gpu._backend.NUMPY` or the CuPy backend.
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        Host data (float32 or float64), moved to the backend once: sparse as CSR and
        its transpose as CSR, dense as it is.
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
        ``tol * ||yc||^2``. The gap is evaluated in float64 even for float32 data.
    max_iter : int
        Maximum number of FISTA iterations.
    check_every : int
        Iterations between two gap evaluations (each one syncs with the host).
    design : object from :func:`prepare_design`, optional
        ``X`` already on the backend (with the same ``sample_weight`` and
        ``fit_intercept``): saves the copies and the Lanczos estimate per target.
    screening : bool, default=True
        Gap-safe screening (Fercoq, Gramfort & Salmon 2015; Ndiaye et al. 2017 for
        the elastic net) at every gap check: a feature ``j`` with
        ``|theta . Xc_j - l2 theta_scale w_j| + sqrt(||Xc_j||^2 + l2) sqrt(2 gap)
        < l1`` is zero at the optimum. Once a tenth of the remaining features are
        screened out, the problem is restricted to the others: ``X[:, keep]`` and
        the rows ``keep`` of ``X^T`` are extracted once, and later products cost
        only their stored values. The gap is then the restricted problem's, which
        bounds the full problem's suboptimality since both have the same optimum.

    Returns
    -------
    coef : NumPy array of shape (n_features,), in ``X``'s dtype
    intercept : float
    gap : float
        Duality gap of the returned coefficients divided by ``W`` (the units of
        ``dual_gap_``).
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
    if design is None:
        design = prepare_design(backend, X, sample_weight, fit_intercept)
    full = design
    cols = np.arange(full.shape[1])        # columns of the working (restricted) design
    dtype = design.dtype
    p = design.shape[1]
    W = design.W
    yd = backend.asarray(y, dtype)
    if fit_intercept:
        y_offset = backend.scalar((yd * design.w2).sum()) / W
    else:
        y_offset = 0.0
    yc = yd - y_offset
    if design.s is not None:
        yc = yc * design.s
    l1 = alpha * l1_ratio * W
    l2 = alpha * (1.0 - l1_ratio) * W
    col_norms = design.col_norms() if l1 == 0.0 and l2 == 0.0 else None
    tol_abs = tol * backend.scalar(xp.dot(yc, yc))
    w = xp.zeros(p, dtype=dtype) if w0 is None else backend.asarray(w0, dtype)
    screen = screening and l1 > 0.0
    if positive:
        w = xp.maximum(w, 0.0)
    # w and Xc w (kept by linearity), the momentum and the decrease safeguard
    st = FistaIterates(backend, w, design.matvec(w), design.lipschitz + l2, dtype,
                       "enet_fista")
    gap = np.inf
    converged = False
    it = 0
    while True:
        if it % check_every == 0 or it >= max_iter or st.L == 0.0:
            r = yc - st.z
            grad = design.rmatvec(r)
            terms = backend.to_host(xp.concatenate(
                [_gap_terms(xp, yc, r, grad, st.x, l2, positive, col_norms), st.flag()]))
            if st.backtrack(terms[-1], it, verbose):
                continue
            gap = _gap(terms[:-1], l1, l2)
            st.checked(it)
            if verbose:
                print(f"[enet_fista] iteration {it}: gap {gap:.3e} (tol {tol_abs:.3e}), "
                      f"{cols.size} features")
            if gap <= tol_abs:
                converged = True
                break
            if it >= max_iter or st.L == 0.0:
                break
            if screen and cols.size:
                dual_norm = float(terms[4])
                theta_scale = l1 / dual_norm if dual_norm > l1 else 1.0
                a = theta_scale * (grad - l2 * st.x)
                bound = (a if positive else xp.abs(a)) + xp.sqrt(
                    xp.maximum(design.col_norms(), 0.0) + l2) * np.sqrt(2.0 * max(gap, 0.0))
                out = backend.to_host(bound < l1)
                if out.sum() >= max(1, cols.size // 10):
                    keep = np.flatnonzero(~out)
                    cols = cols[keep]
                    design = design.restrict(keep)
                    w = st.x[keep if backend.name == "numpy" else xp.asarray(keep)]
                    st.restart_from(w, design.matvec(w))
                    if verbose:
                        print(f"[enet_fista] screened down to {cols.size} features")
        # proximal gradient step from v
        v, L = st.v, st.L
        r_v = yc - st.z_v
        g_v = l2 * v - design.rmatvec(r_v)
        w_new = prox_step(backend, v, g_v, 1.0 / L, l1 / L, positive=positive)
        z_new = design.matvec(w_new)
        # sufficient decrease of the smooth part f = 1/2 ||yc - Xc w||^2 + l2/2 ||w||^2
        # (on the device: checked at the next gap evaluation); momentum with restart
        r_new = yc - z_new
        f_new = 0.5 * xp.dot(r_new, r_new) + 0.5 * l2 * xp.dot(w_new, w_new)
        f_v = 0.5 * xp.dot(r_v, r_v) + 0.5 * l2 * xp.dot(v, v)
        st.advance(w_new, z_new, f_new, f_v, g_v)
        it += 1
    w = st.x
    coef = np.zeros(full.shape[1], dtype=dtype)
    coef[cols] = backend.to_host(w)
    if fit_intercept:
        intercept = y_offset - (backend.scalar(xp.dot(design.xbar, w)) if cols.size else 0.0)
    else:
        intercept = 0.0
    return coef, intercept, gap / W, it, converged
