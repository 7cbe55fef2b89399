"""L1 / elastic-net linear classifiers by accelerated proximal gradient, written once
for NumPy and CuPy.

The problem is the one :func:`sparse_estimators._solvers._glm.glm_solve` solves, per
binary problem (labels ``y`` in {-1, +1}, loss weights ``c``)::

    min_{w, b}  sum_i c_i loss(y_i, x_i . w + b) + l1 ||w||_1 + l2/2 ||w||^2

with ``b`` not penalised and the logistic (``log(1 + exp(-y eta))``) or squared hinge
(``max(0, 1 - y eta)^2``) loss. The CPU solver is a proximal Newton method, whose
coordinate-descent subproblems are sequential; here it is FISTA (Beck & Teboulle
2009) with adaptive restart (O'Donoghue & Candes 2015) on ``theta = (w, b)``: the
smooth part is the loss, with gradient ``A^T alpha`` for ``A = [X, 1]`` and
``alpha_i = c_i loss'(eta_i)``, and the prox is soft-thresholding with the L2
shrinkage on ``w`` (the identity on ``b``). Each iteration costs one product with
``X`` and one with ``X^T`` (both CSR on the device), plus element-wise work.

The step is ``1/L`` with ``L = kappa lambda_max(A^T diag(c) A)``, ``kappa`` the
largest second derivative of the loss (1/4 logistic, 2 squared hinge), the
eigenvalue from the Lanczos estimate of :mod:`._fista` with its margin; the
sufficient-decrease test of :mod:`._fista` catches a short estimate (``L`` doubles
and the solver resumes from the last checked iterate).

Every ``check_every`` iterations (and at the end) the solver certifies the current
``w`` with the CPU solver's own duality gap and stops once it is at most ``tol * P0``
(``P0`` the objective at ``w = 0`` with its optimal intercept), the CPU's rule. The
two products with ``X`` of the certificate (the margins ``X w`` and ``X^T alpha``)
run on the device; the ``O(n_samples + n_features)`` rest runs on the host, with the
CPU's :func:`~sparse_estimators._solvers._glm.optimal_intercept` and
:func:`~sparse_estimators._solvers._glm.gap_from_gradient` (one vector each way per
product, instead of two host passes over ``X``). That is for float64 data, whose
device products are float64: the certificate is the CPU's up to the order of the
sums. For float32 data both products stay on the host, in float64 from a host copy
of ``X`` made at the first check: float32 products (float32 sums) make the gap noisy
far above a typical tolerance when the features have large uncentred values (a
review measured 180 -> 1320 iterations at tol 1e-4 on features of mean 1000), so
the certificate holds for the returned ``(w, b)`` whatever the device precision.
"""

import numpy as np

from .._solvers._glm import (
    _gradient,
    _matvec,
    _penalty,
    _rmatvec,
    as_solver_input,
    gap_from_gradient,
    optimal_intercept,
)
from ._backend import prox_step
from ._fista import FistaIterates, _top_eigenvalue, device_matrices

__all__ = ["glm_fista", "prepare_glm_design"]

#: Largest second derivative of each loss in the margin.
CURVATURE = {"logistic": 0.25, "squared_hinge": 2.0}


class _GLMDesign:
    """``A = [X - 1 xbar^T, 1]`` (or ``X`` without intercept) on a backend, shared by
    the binary problems of a fit.

    With an intercept the iterate is ``theta = (w, b')``, ``b' = b + xbar . w`` and
    ``xbar`` the ``c``-weighted column means of ``X``: the same margins ``X w + b``,
    but the columns of ``A`` are ``c``-orthogonal to the intercept's, so features
    with large means (counts, TF-IDF, any unscaled positive data) do not make
    ``A^T diag(c) A`` ill-conditioned (FISTA's iteration count grows with its
    condition number: 9e4 iterations instead of 10 on the data of scikit-learn's
    ``check_fit_idempotent``, two features of mean 100). ``X`` itself is never
    centred (it stays sparse): ``xbar . w`` is one dot product per product.
    """

    def __init__(self, backend, X, c, fit_intercept):
        xp = backend.xp
        self.backend = backend
        self.xp = xp
        self.dtype = np.float32 if X.dtype == np.float32 else np.float64
        n, p = X.shape
        self.p = p
        self.fit_intercept = fit_intercept
        self.shape = (n, p + int(fit_intercept))
        self.X, self.XT = device_matrices(backend, X, self.dtype)
        self._X_in = X                  # for a float64 host copy, only if one is needed
        self._host_X = None
        self.c_host = np.asarray(c, dtype=np.float64)
        self.c = backend.asarray(self.c_host, self.dtype)
        self.s = xp.sqrt(self.c)
        c_sum = float(self.c_host.sum())
        if fit_intercept and c_sum > 0:
            self.xbar = backend.spmv(self.XT, self.c) / c_sum
            self.xbar_host = backend.to_host(self.xbar).astype(np.float64)
        else:
            self.xbar_host = self.xbar = None
        # penalty mask: 1 on w, 0 on b
        self.mask = xp.concatenate([xp.ones(p, dtype=self.dtype),
                                    xp.zeros(self.shape[1] - p, dtype=self.dtype)])
        # lambda_max(A^T diag(c) A) (with the Lanczos estimate's margin)
        self.eig = _top_eigenvalue(backend, self)

    def margins(self, theta):
        """``A theta = X w + b' - xbar . w = X w + b``."""
        w = theta[:self.p]
        eta = self.backend.spmv(self.X, w)
        if not self.fit_intercept:
            return eta
        shift = theta[self.p] if self.xbar is None else theta[self.p] - self.xp.dot(
            self.xbar, w)
        return eta + shift

    def gradient(self, alpha):
        """``A^T alpha = (X^T alpha - xbar sum(alpha), sum(alpha))``."""
        g = self.backend.spmv(self.XT, alpha)
        if self.fit_intercept:
            total = alpha.sum()
            if self.xbar is not None:
                g = g - self.xbar * total
            g = self.xp.concatenate([g, total[None]])
        return g

    @property
    def host_X(self):
        """``X`` as float64 CSC (or array) on the host, made on first use: the
        certificates of float32 data."""
        if self._host_X is None:
            self._host_X = as_solver_input(self._X_in)
        return self._host_X

    # The certificate's products, host vectors in and host float64 out: on the
    # device for float64 data; float32 device products (float32 sums) are too
    # noisy for a certificate, so float32 data use the host's float64 copy.
    def host_margins(self, w):
        """``X w`` for a host ``w``."""
        if self.dtype != np.float64:
            return _matvec(self.host_X, w)
        m = self.backend.spmv(self.X, self.backend.asarray(w, self.dtype))
        return self.backend.to_host(m).astype(np.float64)

    def host_rmatvec(self, alpha):
        """``X^T alpha`` for a host ``alpha``."""
        if self.dtype != np.float64:
            return _rmatvec(self.host_X, alpha)
        u = self.backend.spmv(self.XT, self.backend.asarray(alpha, self.dtype))
        return self.backend.to_host(u).astype(np.float64)

    def to_theta_b(self, w, b):
        """``b'`` of ``(w, b)`` (host floats)."""
        return b if self.xbar_host is None else b + float(self.xbar_host @ w)

    def from_theta_b(self, w, b_prime):
        """``b`` of ``(w, b')`` (host floats)."""
        return b_prime if self.xbar_host is None else b_prime - float(self.xbar_host @ w)

    # the weighted products diag(sqrt c) A, for the Lanczos estimate
    def matvec(self, v):
        return self.s * self.margins(v)

    def rmatvec(self, r):
        return self.gradient(self.s * r)


def prepare_glm_design(backend, X, c, fit_intercept=True):
    """Move ``X`` to ``backend`` once (and ``X^T``, both CSR when sparse) with the loss
    weights ``c`` and the top eigenvalue of ``A^T diag(c) A``, for several binary
    problems sharing them (one-vs-rest)."""
    return _GLMDesign(backend, X, c, fit_intercept)


def _loss_and_alpha(xp, eta, y, c, loss):
    """``(sum_i c_i loss(y_i, eta_i), alpha)`` with ``alpha_i = c_i loss'(eta_i)``, on
    the device (the loss sum a 0-d array)."""
    if loss == "logistic":
        # z = -y eta, e = exp(-|z|): log(1 + exp(z)) = max(z, 0) + log1p(e) and
        # expit(z) = [z >= 0 ? 1 : e] / (1 + e), without overflow
        z = -y * eta
        e = xp.exp(-xp.abs(z))
        f = xp.dot(c, xp.log1p(e) + xp.maximum(z, 0.0))
        q = xp.where(z >= 0.0, 1.0, e) / (1.0 + e)
        return f, -c * y * q
    m = xp.maximum(1.0 - y * eta, 0.0)
    return xp.dot(c, m * m), -2.0 * c * y * m


def _loss_value(xp, eta, y, c, loss):
    return _loss_and_alpha(xp, eta, y, c, loss)[0]


def glm_fista(backend, X, y, c, l1, l2, *, loss="logistic", fit_intercept=True, w0=None,
              b0=None, tol=1e-4, max_iter=10_000, check_every=10, verbose=0,
              design=None):
    """Fit one penalised binary classifier by FISTA with adaptive restart on
    ``backend``.

    Beck & Teboulle, "A fast iterative shrinkage-thresholding algorithm for linear
    inverse problems", SIAM J. Imaging Sci. 2 (2009); O'Donoghue & Candes, "Adaptive
    restart for accelerated gradient schemes", Found. Comput. Math. 15 (2015).

    Parameters
    ----------
    backend : Backend
        :data:`~sparse_estimators.gpu._backend.NUMPY` or the CuPy backend.
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        Host data (float32 or float64; never densified), moved to the backend once.
    y : ndarray of shape (n_samples,)
        Labels in {-1, +1}.
    c : ndarray of shape (n_samples,)
        Non-negative loss weights (``C`` times sample and class weights); ignored
        when ``design`` is given (its weights are used).
    l1, l2 : float
        Penalty strengths (``l1 + l2 > 0``).
    loss : {"logistic", "squared_hinge"}, default="logistic"
    fit_intercept : bool, default=True
    w0 : ndarray of shape (n_features,) or None
        Warm start of ``w``.
    b0 : float or None
        Warm start of ``b`` (default: the optimal intercept at ``w0``).
    tol : float, default=1e-4
        Stop once the duality gap is at most ``tol * P0``, ``P0`` the objective at
        ``w = 0`` and its optimal intercept (the rule of
        :func:`~sparse_estimators._solvers._glm.glm_solve`).
    max_iter : int, default=10000
        Maximum number of FISTA iterations.
    check_every : int, default=10
        Iterations between two gap checks (each one syncs with the host).
    verbose : int, default=0
        Print the objective and gap at each check.
    design : object from :func:`prepare_glm_design`, optional
        ``X`` and ``c`` already on the backend: saves the copies and the power
        iteration per binary problem.

    Returns
    -------
    coef : NumPy array of shape (n_features,), in ``X``'s dtype
    intercept : float
        The optimal intercept for ``coef`` (0 without ``fit_intercept``).
    gap : float
        Duality gap of ``(coef, intercept)`` divided by ``P0``: the CPU's
        certificate (its products with ``X`` on the device for float64 data, on
        the host for float32 data; see the module docstring).
    n_iter : int
        FISTA iterations done.
    converged : bool

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from sparse_estimators.gpu import NUMPY, glm_fista
    >>> X = sp.random(200, 30, density=0.2, format="csr", random_state=0)
    >>> y = np.where(X[:, 0].toarray().ravel() > 0.1, 1.0, -1.0)
    >>> coef, b, gap, n_iter, converged = glm_fista(NUMPY, X, y, np.full(200, 10.0),
    ...                                             1.0, 0.0, tol=1e-8)
    >>> converged, int(np.argmax(np.abs(coef)))
    (True, 0)
    """
    if design is None:
        design = prepare_glm_design(backend, X, c, fit_intercept)
    xp = backend.xp
    dtype, p, c_host = design.dtype, design.p, design.c_host
    y_host = np.asarray(y, dtype=np.float64)
    yd = backend.asarray(y_host, dtype)
    cd = design.c
    n = y_host.shape[0]
    def certify(w, b):
        # the CPU's certificate (glm_gap's steps) at w and its optimal intercept
        # (warm from b), with the design's products
        m = design.host_margins(w)
        if fit_intercept:
            b = optimal_intercept(m, y_host, c_host, b, loss=loss)
        alpha, f = _gradient(m, b, y_host, c_host, loss)
        primal = f + _penalty(w, l1, l2)
        gap = gap_from_gradient(design.host_rmatvec(alpha), m, b, y_host, c_host, l1,
                                l2, loss, primal)
        return b, gap, primal

    b_null = optimal_intercept(np.zeros(n), y_host, c_host, loss=loss) \
        if fit_intercept else 0.0
    p0 = _gradient(np.zeros(n), b_null, y_host, c_host, loss)[1]  # the loss at w = 0
    tol_abs = tol * max(p0, np.finfo(np.float64).tiny)

    w_start = np.zeros(p) if w0 is None else np.asarray(w0, dtype=np.float64)
    if fit_intercept:
        b_start = certify(w_start, b_null if b0 is None else float(b0))[0]
        theta = backend.asarray(np.r_[w_start, design.to_theta_b(w_start, b_start)],
                                dtype)
    else:
        theta = backend.asarray(w_start, dtype)
    # theta and its margins (kept by linearity), the momentum and the safeguard
    st = FistaIterates(backend, theta, design.margins(theta), CURVATURE[loss] * design.eig,
                       dtype, "glm_fista")
    w_host, b_host, gap = w_start, 0.0, np.inf
    converged = False
    it = 0
    while True:
        if it % check_every == 0 or it >= max_iter or st.L == 0.0:
            host = backend.to_host(xp.concatenate([st.x.astype(np.float64), st.flag()]))
            if st.backtrack(host[-1], it, verbose):
                continue
            w_host = host[:p]
            b_host, gap, primal = certify(
                w_host, design.from_theta_b(w_host, float(host[p])) if fit_intercept else 0.0)
            st.checked(it)
            if verbose:
                print(f"[glm_fista] iteration {it}: objective {primal:.10g}, gap "
                      f"{gap:.3e} (tol {tol_abs:.3e})")
            if gap <= tol_abs:
                converged = True
                break
            if it >= max_iter or st.L == 0.0:
                break
        # proximal gradient step from v: soft-thresholding and L2 shrinkage on w
        v, L = st.v, st.L
        f_v, alpha_v = _loss_and_alpha(xp, st.z_v, yd, cd, loss)
        g_v = design.gradient(alpha_v)
        theta_new = prox_step(backend, v, g_v, 1.0 / L, (l1 / L) * design.mask,
                              1.0 + (l2 / L) * design.mask)
        eta_new = design.margins(theta_new)
        # sufficient decrease of the loss (read at the next check); momentum
        st.advance(theta_new, eta_new, _loss_value(xp, eta_new, yd, cd, loss), f_v, g_v)
        it += 1
    coef = np.asarray(w_host, dtype=dtype)
    return coef, (b_host if fit_intercept else 0.0), gap / max(p0, np.finfo(np.float64).tiny), \
        it, converged
