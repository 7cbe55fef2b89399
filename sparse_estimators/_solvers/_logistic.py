"""Proximal Newton solver for L1 / elastic-net binary logistic regression.

Solves, for labels ``y`` in {-1, +1} and per-sample loss weights ``c``::

    min_{w, b}  P(w, b) = sum_i c_i log(1 + exp(-y_i (x_i . w + b)))
                          + l1 ||w||_1 + l2 / 2 ||w||^2

(``c_i = C * sample_weight_i * class_weight_{y_i}`` for scikit-learn's ``C``
parametrisation). The intercept ``b`` is not penalised.

Each outer iteration builds the second-order model of the loss at the current
margins ``eta = Xw + b`` and minimises it plus the penalty: a weighted elastic net
with sample weights ``h_i = c_i q_i (1 - q_i)`` and working response
``z_i = eta_i + y_i q_i / (q_i (1 - q_i))`` (``q_i = sigmoid(-y_i eta_i)``), solved
by the working-set / screening / Anderson coordinate descent of :mod:`._enet`
(the newGLMNET scheme: Yuan, Ho, Lin, "An improved GLMNET for L1-regularized
logistic regression", JMLR 13, 2012; Friedman, Hastie, Tibshirani 2010). The step
is then damped by an Armijo line search on ``P`` along the direction
(Tseng & Yun, "A coordinate gradient descent method for nonsmooth separable
minimization", Math. Program. 117, 2009).

Stopping is certified by a duality gap. With ``alpha_i = d/d eta_i`` of the loss
(``-c_i y_i q_i``) at the exact optimal intercept for ``w`` (so that
``sum_i alpha_i = 0``), the dual point is ``s * alpha`` with ``s`` rescaling
``X^T alpha`` into the L1 ball when ``l2 = 0``::

    D(s alpha) = -sum_i c_i H(s q_i) - pen*(-s X^T alpha),
    H(q) = q log q + (1 - q) log(1 - q),
    pen*(u) = sum_j max(|u_j| - l1, 0)^2 / (2 l2)   (0 on ||u||_inf <= l1 if l2 = 0)

and ``P - D >= P - P* >= 0``.
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from ._enet import Design, enet_solve

#: Armijo constant of the line search and its largest number of halvings.
ARMIJO = 1e-2
MAX_HALVINGS = 40
#: The Newton subproblem is solved until its gap is this fraction of the current
#: duality gap and of its own gap at the current point (the first is loose far from
#: the optimum, where the dual point is poor; the second tightens by itself).
INNER_GAP_FRACTION = 0.1
#: Smallest Hessian weight relative to c_i (keeps the weighted design finite where
#: the model is already certain of a sample).
MIN_CURVATURE = 1e-10


def _matvec(X, w):
    return np.asarray(X @ w, dtype=np.float64).ravel()


def _rmatvec(X, v):
    return np.asarray(X.T @ v, dtype=np.float64).ravel()


def _penalty(w, l1, l2):
    return l1 * float(np.sum(np.abs(w))) + 0.5 * l2 * float(np.sum(w * w))


def _loss(eta, y, c):
    return float(np.sum(c * np.logaddexp(0.0, -y * eta)))


def _entropy_sum(q, c):
    # sum_i c_i (q log q + (1 - q) log(1 - q)), with 0 log 0 = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(q > 0, q * np.log(q), 0.0) + np.where(q < 1, (1 - q) * np.log1p(-q), 0.0)
    return float(np.sum(c * t))


def optimal_intercept(m, y, c, b=0.0, max_iter=100):
    """Minimise ``sum_i c_i log(1 + exp(-y_i (m_i + b)))`` over ``b`` (damped Newton).

    Returns ``b``; with one class only (or all weight on one class) the infimum is
    at infinity and ``b`` stops where the loss no longer changes in floating point.
    """
    f = _loss(m + b, y, c)
    g_tol = 1e-13 * float(np.sum(c))  # the gap's dual point needs sum(alpha) ~ 0
    for _ in range(max_iter):
        q = expit(-y * (m + b))
        g = -float(np.sum(c * y * q))
        h = float(np.sum(c * q * (1.0 - q)))
        if h <= 0.0 or abs(g) <= g_tol:
            break
        step = g / h
        t = 1.0
        for _ in range(MAX_HALVINGS):
            f_new = _loss(m + b - t * step, y, c)
            if f_new <= f:
                break
            t *= 0.5
        else:
            break
        b -= t * step
        f = f_new
        if abs(t * step) <= 1e-15 * (1.0 + abs(b)):
            break
    return b


def logistic_gap(X, y, c, w, b, l1, l2, fit_intercept):
    """``(gap, primal)`` of the penalised logistic problem at ``(w, b)``.

    ``b`` should be the optimal intercept for ``w`` when ``fit_intercept`` (the dual
    point assumes ``sum_i alpha_i = 0``).
    """
    eta = _matvec(X, w) + b
    primal = _loss(eta, y, c) + _penalty(w, l1, l2)
    q = expit(-y * eta)
    alpha = -c * y * q
    u = _rmatvec(X, alpha)  # gradient of the loss in w
    if l2 > 0.0:
        scale = 1.0
        conj = float(np.sum(np.maximum(np.abs(u) - l1, 0.0) ** 2)) / (2.0 * l2)
    else:
        top = float(np.max(np.abs(u))) if u.size else 0.0
        scale = min(1.0, l1 / top) if top > 0.0 else 1.0
        conj = 0.0
    dual = -_entropy_sum(scale * q, c) - conj
    return primal - dual, primal


def logistic_solve(X, y, c, l1, l2, *, fit_intercept=True, w0=None, b0=None, tol=1e-4,
                   max_iter=100, max_epochs=100_000, verbose=0):
    """Minimise the penalised logistic loss by proximal Newton (see module docstring).

    Parameters
    ----------
    X : ndarray or CSR / CSC matrix of shape (n_samples, n_features)
        float32 or float64; never modified.
    y : ndarray of shape (n_samples,)
        Labels in {-1, +1}.
    c : ndarray of shape (n_samples,)
        Non-negative loss weights.
    l1, l2 : float
        Penalty strengths (``l1 > 0`` or ``l2 > 0``).
    tol : float
        Relative tolerance: stop once the duality gap is ``<= tol * P0``, with
        ``P0`` the objective at ``w = 0`` and its optimal intercept.
    max_iter : int
        Maximum number of Newton iterations.

    Returns
    -------
    w : float64 ndarray of shape (n_features,)
    b : float
    gap : float
        Final duality gap relative to ``P0``.
    n_iter : int
        Newton iterations done.
    converged : bool
    """
    n, p = X.shape
    y = np.asarray(y, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    # One float64 CSC copy that every Newton step's Design reuses. float64 even for
    # float32 data: each step rescales the design by the new curvatures, and float32
    # rounding there perturbs the Newton model enough to stall the line search
    # around a relative gap of 1e-8.
    if sp.issparse(X):
        X = X.tocsc().astype(np.float64, copy=False)
    else:
        X = np.asarray(X, dtype=np.float64)
    w = np.zeros(p) if w0 is None else np.array(w0, dtype=np.float64, copy=True)
    zero = np.zeros(n)
    b_null = optimal_intercept(zero, y, c) if fit_intercept else 0.0
    p0 = _loss(zero + b_null, y, c)
    tol_abs = tol * max(p0, np.finfo(np.float64).tiny)
    if fit_intercept:
        b = optimal_intercept(_matvec(X, w), y, c, b_null if b0 is None else float(b0))
    else:
        b = 0.0
    gap = np.inf
    it = 0
    converged = False
    epochs = 0
    while True:
        gap, primal = logistic_gap(X, y, c, w, b, l1, l2, fit_intercept)
        if verbose:
            print(f"[logistic] newton {it}: objective {primal:.10g}, gap {gap:.3e} "
                  f"(tol {tol_abs:.3e}), {np.count_nonzero(w)} non-zeros")
        if gap <= tol_abs:
            converged = True
            break
        if it >= max_iter or epochs >= max_epochs:
            break
        eta = _matvec(X, w) + b
        q = expit(-y * eta)
        grad_eta = -c * y * q
        h = np.maximum(c * q * (1.0 - q), MIN_CURVATURE * c)
        keep = h > 0.0
        z = eta.copy()
        z[keep] -= grad_eta[keep] / h[keep]
        design = Design(X, h, fit_intercept)
        zc, z_offset = design.center_target(z)
        w_new, _, n_ep, _ = enet_solve(
            design, zc, w.copy(), l1, l2, tol=INNER_GAP_FRACTION * gap,
            max_iter=max_epochs - epochs, dw_tol=0.0,
            initial_gap_fraction=INNER_GAP_FRACTION)
        epochs += n_ep
        b_new = design.intercept(w_new, z_offset) if fit_intercept else 0.0
        d_w = w_new - w
        d_b = b_new - b
        # predicted decrease of the prox-Newton model (Tseng & Yun)
        delta = (float(_rmatvec(X, grad_eta) @ d_w) + float(np.sum(grad_eta)) * d_b
                 + _penalty(w_new, l1, l2) - _penalty(w, l1, l2))
        d_eta = _matvec(X, d_w) + d_b
        f_old = primal
        t = 1.0
        for _ in range(MAX_HALVINGS):
            w_try = w + t * d_w
            f_try = _loss(eta + t * d_eta, y, c) + _penalty(w_try, l1, l2)
            if f_try <= f_old + ARMIJO * t * min(delta, 0.0):
                break
            t *= 0.5
        else:
            it += 1
            break  # no decrease along the Newton direction: at working precision
        w = w_try
        b = b + t * d_b
        if fit_intercept:
            b = optimal_intercept(_matvec(X, w), y, c, b)
        it += 1
    return w, b, gap / max(p0, np.finfo(np.float64).tiny), it, converged
