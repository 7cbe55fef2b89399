"""Proximal Newton solver for L1 / elastic-net binary linear classifiers.

Solves, for labels ``y`` in {-1, +1} and per-sample loss weights ``c``::

    min_{w, b}  P(w, b) = sum_i c_i loss(y_i, x_i . w + b) + l1 ||w||_1 + l2 / 2 ||w||^2

(``c_i = C * sample_weight_i * class_weight_{y_i}`` for scikit-learn's ``C``
parametrisation) with the intercept ``b`` not penalised, for two losses:

* ``"logistic"``: ``log(1 + exp(-y eta))``;
* ``"squared_hinge"``: ``max(0, 1 - y eta)^2`` (L1-regularised L2-loss SVM; its
  second derivative is the generalised one, ``2 [1 - y eta > 0]``).

Each outer iteration builds the second-order model of the loss at the current
margins ``eta = Xw + b`` and minimises it plus the penalty: a weighted elastic net
with sample weights ``h_i = c_i loss''(eta_i)`` and working response
``z_i = eta_i - loss'(eta_i) / loss''(eta_i)``, solved
by the working-set / screening / Anderson coordinate descent of :mod:`._enet`
(the newGLMNET scheme: Yuan, Ho, Lin, "An improved GLMNET for L1-regularized
logistic regression", JMLR 13, 2012; Friedman, Hastie, Tibshirani 2010). The step
is then damped by an Armijo line search on ``P`` along the direction
(Tseng & Yun, "A coordinate gradient descent method for nonsmooth separable
minimization", Math. Program. 117, 2009).

Stopping is certified by a duality gap. With ``alpha_i = c_i loss'(eta_i)`` at the
exact optimal intercept for ``w`` (so that ``sum_i alpha_i = 0``), the dual point is
``s * alpha`` with ``s`` rescaling ``X^T alpha`` into the L1 ball when ``l2 = 0``::

    D(s alpha) = -sum_i f_i*(s alpha_i) - pen*(-s X^T alpha),
    pen*(u) = sum_j max(|u_j| - l1, 0)^2 / (2 l2)   (0 on ||u||_inf <= l1 if l2 = 0)

with the conjugates of ``f_i = c_i loss(y_i, .)``: for the logistic loss, with
``alpha_i = -c_i y_i q_i``, ``f_i*(alpha_i) = c_i (q_i log q_i + (1 - q_i) log(1 - q_i))``;
for the squared hinge, with ``alpha_i = -y_i a_i`` (``a_i >= 0``),
``f_i*(alpha_i) = -a_i + a_i^2 / (4 c_i)``. Then ``P - D >= P - P* >= 0``.
"""

import numpy as np
import scipy.sparse as sp

from .. import _kernels as K
from ._enet import Design, enet_solve

#: Armijo constant of the line search and its largest number of halvings.
ARMIJO = 1e-2
MAX_HALVINGS = 40
#: The Newton subproblem is solved until its gap is this fraction of the current
#: duality gap and of its own gap at the current point (the first is loose far from
#: the optimum, where the dual point is poor; the second tightens by itself).
INNER_GAP_FRACTION = 0.3
#: Smallest Hessian weight relative to c_i: keeps the weighted design non-degenerate
#: where the model is already certain of a sample (logistic) or the sample is past
#: the margin (squared hinge, whose generalised curvature is 0 there). The floor is
#: raised tenfold after a step the line search had to shorten below 1/2 and lowered
#: after a full step (Levenberg-Marquardt style damping): a model that ignores the
#: samples past the margin otherwise proposes huge steps that push them back in.
MIN_CURVATURE = 1e-10
MAX_CURVATURE_FLOOR = 1.0
#: Smallest Newton working set.
NEWTON_WS_MIN = 10
#: When at least NEWTON_WS_FULL of the last working set came back non-zero, the next
#: one is NEWTON_WS_GROWTH times larger (instead of twice the support).
NEWTON_WS_FULL = 0.9
NEWTON_WS_GROWTH = 4
#: Newton steps in a row without a new smallest duality gap before the solver stops.
MAX_STALLS = 5
_EPS = np.finfo(np.float64).eps
#: Coordinate-descent epochs allowed per Newton step.
INNER_MAX_EPOCHS = 10_000


def csr_or_none(X):
    """``X`` when it is a CSR matrix (the ``X_rows`` of :func:`glm_solve`), else None."""
    return X if sp.issparse(X) and X.format == "csr" else None


def as_solver_input(X):
    """``X`` as the solver works on it: float64 CSC or a float64 array. A no-op for
    what it returns, so callers that solve several problems on one ``X`` convert it
    once. (Duplicate entries may remain: the products add them up, and
    :class:`Design` sums them on its own copy.)"""
    if sp.issparse(X):
        return X.tocsc().astype(np.float64, copy=False)
    return np.asarray(X, dtype=np.float64)


def _matvec(X, w):
    """``X @ w``; for CSC ``X`` a numba pass over the columns where ``w != 0`` only
    (the iterates and Newton directions are sparse)."""
    if sp.issparse(X) and X.format == "csc":
        out = np.zeros(X.shape[0])
        K.residual(None, X.data, X.indices, X.indptr, np.zeros(X.shape[1]), out,
                   -np.ascontiguousarray(w, dtype=np.float64), out)
        return out
    return np.asarray(X @ w, dtype=np.float64).ravel()


def _rmatvec(X, v, X_rows=None):
    """``X.T @ v``. With ``X_rows`` (the same matrix as CSR) a scatter over the rows
    with ``v_i != 0`` (1.3x faster than the column dots on a 4000 x 20000 problem
    at 0.25% density, and the squared hinge's ``v`` is zero past the margin);
    for CSC ``X`` the numba column dots (vectorised gathers)."""
    if X_rows is not None:
        out = np.empty(X_rows.shape[1])
        return K.csr_rmatvec(X_rows.data, X_rows.indices, X_rows.indptr,
                             np.ascontiguousarray(v, dtype=np.float64), out)
    if sp.issparse(X) and X.format == "csc":
        p = X.shape[1]
        out = np.empty(p)
        K.gradient(None, X.data, X.indices, X.indptr, np.zeros(p), 0.0, np.arange(p),
                   np.ascontiguousarray(v, dtype=np.float64), 0.0, out)
        return out
    return np.asarray(X.T @ v, dtype=np.float64).ravel()


def _take_columns(X, cols):
    """``X[:, cols]`` for a CSC matrix (one numba copy; scipy's fancy indexing cost
    0.1 ms more per Newton step) or an array."""
    if not sp.issparse(X):
        return X[:, cols]
    lengths = X.indptr[cols + 1] - X.indptr[cols]
    nnz = int(np.sum(lengths))
    data = np.empty(nnz)
    indices = np.empty(nnz, dtype=X.indices.dtype)
    indptr = np.empty(cols.shape[0] + 1, dtype=X.indptr.dtype)
    K.csc_take_columns(X.data, X.indices, X.indptr, cols, data, indices, indptr)
    return sp.csc_matrix((data, indices, indptr), shape=(X.shape[0], cols.shape[0]),
                         copy=False)


def _penalty(w, l1, l2):
    return l1 * float(np.sum(np.abs(w))) + 0.5 * l2 * float(np.sum(w * w))


_BELOW_ONE = np.nextafter(1.0, 0.0)


def _logistic_parts(m, b, y):
    # z = -y eta and e = exp(-|z|): log(1 + exp(z)) = max(z, 0) + log1p(e) and
    # expit(z) = [z >= 0 ? 1 : e] / (1 + e), one exp for both, no overflow
    z = m + b
    z *= -y
    e = np.exp(-np.abs(z))
    return z, e


def _logistic_loss(z, e, c):
    # sum_i c_i log(1 + exp(z_i)) from _logistic_parts
    return float(np.sum(c * (np.log1p(e) + np.maximum(z, 0.0))))


def _expit(z, e):
    # expit(z) from _logistic_parts
    return np.where(z >= 0.0, 1.0, e) / (1.0 + e)


def _loss_sum(m, d, t, b, y, c, logistic):
    """``sum_i c_i loss(y_i, m_i + t d_i + b)``."""
    if not logistic:
        return K.hinge_loss(m, d, t, b, y, c)
    return _logistic_loss(*_logistic_parts(m + t * d if t != 0.0 else m, b, y), c)


def _derivatives(m, b, y, c, logistic, floor, alpha, h):
    """Fill ``alpha = c loss'(m + b)`` and ``h = max(c loss''(m + b), floor c)``;
    return ``(loss, sum(alpha), sum(h))``."""
    if not logistic:
        return K.hinge_derivatives(m, b, y, c, floor, alpha, h)
    z, e = _logistic_parts(m, b, y)
    np.multiply(-c * y, _expit(z, e), out=alpha)
    # q (1 - q) = e / (1 + e)^2 for either sign of z, without the cancellation of
    # 1 - q for badly misclassified samples
    np.maximum(c * (e / ((1.0 + e) * (1.0 + e))), floor * c, out=h)
    return _logistic_loss(z, e, c), float(np.sum(alpha)), float(np.sum(h))


def _conjugate_sum(m, b, y, c, scale, logistic):
    """``sum_i f_i*(scale * alpha_i)`` at ``alpha_i = c_i loss'(m_i + b)``; for the
    logistic loss ``c_i (q log q + (1 - q) log(1 - q))`` with ``q = scale expit(z_i)``."""
    if not logistic:
        return K.hinge_conjugate(m, b, y, c, scale)
    z, e = _logistic_parts(m, b, y)
    q = scale * _expit(z, e)
    # q log q -> 0 at q = 0 and (1 - q) log(1 - q) -> 0 at q = 1
    t = q * np.log(np.maximum(q, np.finfo(np.float64).tiny))
    t += (1.0 - q) * np.log1p(-np.minimum(q, _BELOW_ONE))
    return float(np.sum(c * t))


def _gradient(m, b, y, c, loss):
    """``(alpha, loss)``: ``alpha_i = c_i loss'(m_i + b)`` and the loss."""
    n = m.shape[0]
    alpha = np.empty(n)
    f = _derivatives(m, b, y, c, loss == "logistic", 0.0, alpha, np.empty(n))[0]
    return alpha, f


def optimal_intercept(m, y, c, b=0.0, max_iter=100, loss="logistic"):
    """Minimise ``sum_i c_i loss(y_i, m_i + b)`` over ``b`` (damped Newton).

    Returns ``b``; with one class only (or all weight on one class) the logistic
    infimum is at infinity and ``b`` stops where the loss no longer changes.
    """
    logistic = loss == "logistic"
    n = m.shape[0]
    alpha, curv = np.empty(n), np.empty(n)
    f = _loss_sum(m, m, 0.0, b, y, c, logistic)
    g_tol = 1e-13 * float(np.sum(c))  # the gap's dual point needs sum(alpha) ~ 0
    for _ in range(max_iter):
        _, g, h = _derivatives(m, b, y, c, logistic, 0.0, alpha, curv)
        if h <= 0.0 or abs(g) <= g_tol:
            break
        step = g / h
        t = 1.0
        for _ in range(MAX_HALVINGS):
            f_new = _loss_sum(m, m, 0.0, b - t * step, y, c, logistic)
            # near the minimum f is flat to rounding while the gradient is not yet
            # ~0, which the gap's dual point needs: accept changes at rounding level
            if f_new <= f + 4.0 * np.finfo(np.float64).eps * abs(f):
                break
            t *= 0.5
        else:
            break
        b -= t * step
        f = f_new
        if abs(t * step) <= 1e-15 * (1.0 + abs(b)):
            break
    return b


def glm_gap(X, y, c, w, b, l1, l2, loss="logistic"):
    """``(gap, primal)`` of the penalised problem at ``(w, b)``.

    With an intercept, ``b`` should be the optimal one for ``w`` (the dual point
    assumes ``sum_i alpha_i = 0``).
    """
    m = _matvec(X, w)
    alpha, f = _gradient(m, b, y, c, loss)
    primal = f + _penalty(w, l1, l2)
    return _gap_at(X, y, c, m, b, l1, l2, loss, alpha, primal)[0], primal


def _gap_at(X, y, c, m, b, l1, l2, loss, alpha, primal, X_rows=None):
    # (gap, X^T alpha) at margins m + b, with alpha = c loss'(m + b) and the
    # objective primal there
    u = _rmatvec(X, alpha, X_rows)  # gradient of the loss in w
    return gap_from_gradient(u, m, b, y, c, l1, l2, loss, primal), u


def gap_from_gradient(u, m, b, y, c, l1, l2, loss, primal):
    """The duality gap at margins ``m + b`` (objective ``primal`` there) from ``u =
    X^T alpha``, ``alpha = c loss'(m + b)``: the part of :func:`glm_gap` after the
    two products with ``X``, for callers that compute those elsewhere (on a GPU)."""
    if l2 > 0.0:
        scale = 1.0
        conj = float(np.sum(np.maximum(np.abs(u) - l1, 0.0) ** 2)) / (2.0 * l2)
    else:
        top = float(np.max(np.abs(u))) if u.size else 0.0
        scale = min(1.0, l1 / top) if top > 0.0 else 1.0
        conj = 0.0
    dual = -_conjugate_sum(m, b, y, c, scale, loss == "logistic") - conj
    return primal - dual


def glm_solve(X, y, c, l1, l2, *, loss="logistic", fit_intercept=True, w0=None, b0=None,
              tol=1e-4, max_iter=100, max_epochs=100_000, verbose=0, continuation=True,
              X_rows=None):
    """Minimise the penalised loss by proximal Newton (see module docstring).

    From a cold start (``w0=None``) with an L1 penalty, the loss weights are first
    scaled down to just past the point where ``w = 0`` stops being optimal, then up
    to ``c`` by factors of ``PATH_FACTOR``, each step warm-started from the last and
    solved to ``PATH_TOL`` (a short regularisation path, as glmnet): Newton steps
    from ``w = 0`` at a weak penalty overshoot the support badly.

    Parameters
    ----------
    X : ndarray or CSR / CSC matrix of shape (n_samples, n_features)
        float32 or float64; never modified. Pass :func:`as_solver_input` of it when
        solving several problems on one ``X`` (converted once).
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
    X_rows : CSR matrix or None
        The same matrix as ``X`` in CSR form (any float dtype, duplicates allowed),
        used for the products ``X^T v`` of the gap checks; taken from ``X`` when it
        is CSR.

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
    # One float64 CSC form (the caller's own when it is one) from which every
    # Newton step copies its working-set columns, shared with the steps of the
    # continuation. float64 even for float32 data: each step rescales the design by
    # the new curvatures, and float32 rounding there perturbs the Newton model
    # enough to stall the line search around a relative gap of 1e-8.
    if X_rows is None:
        X_rows = csr_or_none(X)
    X = as_solver_input(X)
    if continuation and w0 is None and l1 > 0.0:
        return _continuation(X, y, c, l1, l2, loss=loss, fit_intercept=fit_intercept,
                             tol=tol, max_iter=max_iter, max_epochs=max_epochs,
                             verbose=verbose, X_rows=X_rows)
    logistic = loss == "logistic"
    w = np.zeros(p) if w0 is None else np.array(w0, dtype=np.float64, copy=True)
    zero = np.zeros(n)
    b_null = optimal_intercept(zero, y, c, loss=loss) if fit_intercept else 0.0
    p0 = _loss_sum(zero, zero, 0.0, b_null, y, c, logistic)
    tol_abs = tol * max(p0, np.finfo(np.float64).tiny)
    # Margins without the intercept, recomputed from w after every step (a pass over
    # the support's columns, cheaper than the step's own product with the working
    # set): incremental updates would carry rounding into the certified gap.
    m = _matvec(X, w)
    if fit_intercept:
        b = optimal_intercept(m, y, c, b_null if b0 is None else float(b0), loss=loss)
    else:
        b = 0.0
    alpha, h, z = np.empty(n), np.empty(n), np.empty(n)
    gap = np.inf
    it = 0
    converged = False
    epochs = 0
    floor = MIN_CURVATURE
    ws = None
    best_gap = best_primal = np.inf
    stalls = 0
    while True:
        # loss, its gradient in the margins and the Newton curvatures, in one pass
        f, sum_alpha, _ = _derivatives(m, b, y, c, logistic, floor, alpha, h)
        pen = _penalty(w, l1, l2)
        primal = f + pen
        gap, u = _gap_at(X, y, c, m, b, l1, l2, loss, alpha, primal, X_rows)
        if verbose:
            print(f"[{loss}] newton {it}: objective {primal:.10g}, gap {gap:.3e} "
                  f"(tol {tol_abs:.3e}), {np.count_nonzero(w)} non-zeros")
        if gap <= tol_abs:
            converged = True
            break
        # A step makes progress if it lowers the objective beyond rounding or the
        # gap below its smallest value so far: near the optimum the objective is
        # flat to rounding while the gap still falls (the dual point improves), and
        # far from it the squared hinge's gap may rise while the objective falls.
        # MAX_STALLS steps in a row without either: both are at the rounding
        # floor, and more steps would only run to max_iter.
        if gap < best_gap or primal < best_primal - 8.0 * _EPS * abs(primal):
            stalls = 0
        else:
            stalls += 1
        best_gap, best_primal = min(best_gap, gap), min(best_primal, primal)
        if it >= max_iter or epochs >= max_epochs or stalls >= MAX_STALLS:
            break
        K.newton_target(m, b, alpha, h, z)
        # Newton working set: the support and the features that violate their
        # optimality condition most (Massias et al. 2018 for prox-Newton), twice the
        # support in all (at least NEWTON_WS_MIN, NEWTON_WS_GROWTH times the last
        # working set when that came back full, never more than the support and
        # the violators): the subproblem's design is built on those columns only.
        # Taking every violator at once made the first steps overshoot the support
        # (C=8 on the docstrings: 230 non-zeros after one step for 117 at the end)
        # and cost 25-40% more time.
        viol = np.abs(u + l2 * w) - l1
        score = np.where(w != 0.0, np.inf, viol)
        n_supp = int(np.count_nonzero(w))
        n_take = max(NEWTON_WS_MIN, 2 * n_supp)
        if ws is not None and n_supp >= NEWTON_WS_FULL * ws.shape[0]:
            # the last working set came back (almost) all non-zero: it was too small
            # (from w = 0 the support otherwise takes log2(support / 10) steps)
            n_take = max(n_take, NEWTON_WS_GROWTH * ws.shape[0])
        # never more than the support and the violators (as the inner solver)
        n_take = min(p, n_take, max(1, int(np.count_nonzero(score > 0.0))))
        ws = np.sort(np.argpartition(score, p - n_take)[p - n_take:]) if n_take < p \
            else np.arange(p)
        Xws = _take_columns(X, ws) if n_take < p else X
        design = Design(Xws, h, fit_intercept)
        zc, z_offset = design.center_target(z)
        w_old = w[ws]
        w_ws, _, n_ep, _ = enet_solve(
            design, zc, w_old.copy(), l1, l2, tol=INNER_GAP_FRACTION * gap,
            max_iter=min(INNER_MAX_EPOCHS, max_epochs - epochs), dw_tol=0.0,
            initial_gap_fraction=INNER_GAP_FRACTION)
        epochs += n_ep
        b_new = design.intercept(w_ws, z_offset) if fit_intercept else 0.0
        d_w = w_ws - w_old  # the direction is zero outside the working set
        d_b = b_new - b
        pen_old = _penalty(w_old, l1, l2)
        pen_rest = pen - pen_old  # the penalty outside the working set
        # predicted decrease of the prox-Newton model (Tseng & Yun); u = X^T alpha
        delta = (float(np.sum(u[ws] * d_w)) + sum_alpha * d_b
                 + _penalty(w_ws, l1, l2) - pen_old)
        d_m = _matvec(Xws, d_w)
        rounding = 8.0 * _EPS * abs(primal)
        t = 1.0
        for _ in range(MAX_HALVINGS):
            w_try = w_old + t * d_w
            f_try = (_loss_sum(m, d_m, t, b + t * d_b, y, c, logistic)
                     + pen_rest + _penalty(w_try, l1, l2))
            # (the loss sums of two kernels may differ by rounding, so a step that
            # changes nothing must pass)
            if f_try <= primal + ARMIJO * t * min(delta, 0.0) + rounding:
                break
            t *= 0.5
        else:
            it += 1
            break  # no decrease along the Newton direction: at working precision
        w[ws] = w_try
        if t < 0.5:
            floor = min(10.0 * floor, MAX_CURVATURE_FLOOR)
        elif t == 1.0:
            floor = max(0.1 * floor, MIN_CURVATURE)
        it += 1
        m = _matvec(X, w)
        b = b + t * d_b
        if fit_intercept:
            b = optimal_intercept(m, y, c, b, loss=loss)
    return w, b, gap / max(p0, np.finfo(np.float64).tiny), it, converged


#: Continuation of cold starts: loss-weight scale factor per step, and the
#: relative gap the intermediate steps are solved to.
PATH_FACTOR = 30.0
PATH_TOL = 1e-2


def null_gradient_norm(X, y, c, *, loss="logistic", fit_intercept=True, X_rows=None):
    """``||X^T alpha||_inf`` at ``w = 0`` (and its optimal intercept).

    ``alpha`` is the loss gradient in the margins; ``w = 0`` is optimal exactly while
    this is at most ``l1``, so ``l1 / null_gradient_norm`` is the largest scale of
    the loss weights ``c`` with an all-zero model.
    """
    n = X.shape[0]
    if X_rows is None:
        X_rows = csr_or_none(X)
    b_null = optimal_intercept(np.zeros(n), y, c, loss=loss) if fit_intercept else 0.0
    alpha = _gradient(np.zeros(n), b_null, y, c, loss)[0]
    return float(np.max(np.abs(_rmatvec(X, alpha, X_rows)))) if X.shape[1] else 0.0


def _continuation(X, y, c, l1, l2, *, loss, fit_intercept, tol, max_iter, max_epochs,
                  verbose, X_rows):
    # X: the float64 CSC or dense copy glm_solve made
    top = null_gradient_norm(X, y, c, loss=loss, fit_intercept=fit_intercept,
                             X_rows=X_rows)
    # w = 0 is optimal for the weights tau * c while tau * top <= l1
    tau0 = l1 / top if top > 0.0 else np.inf
    scales = []
    tau = tau0 * PATH_FACTOR
    while tau < 1.0:
        scales.append(tau)
        tau *= PATH_FACTOR
    w = b = None
    n_iter = 0
    for tau in scales:
        w, b, _, its, _ = glm_solve(X, y, tau * c, l1, l2, loss=loss,
                                    fit_intercept=fit_intercept, w0=w, b0=b,
                                    tol=max(tol, PATH_TOL), max_iter=max_iter,
                                    max_epochs=max_epochs, verbose=verbose,
                                    continuation=False, X_rows=X_rows)
        n_iter += its
    w, b, gap, its, conv = glm_solve(X, y, c, l1, l2, loss=loss, fit_intercept=fit_intercept,
                                     w0=w, b0=b, tol=tol, max_iter=max_iter,
                                     max_epochs=max_epochs, verbose=verbose,
                                     continuation=False, X_rows=X_rows)
    return w, b, gap, n_iter + its, conv
