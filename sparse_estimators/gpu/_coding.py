"""Batched lasso sparse coding by FISTA on the Gram matrix, for NumPy and CuPy.

Every signal ``x`` (a row of ``X``) gets ``min_c 1/2 ||x - c D||^2 + alpha ||c||_1``
(``c >= 0`` if positive), the problem of ``sparse_encode(algorithm="lasso_cd")``.
All signals move together: with ``G = D D^T`` (K x K) and ``Q = X D^T`` (n x K, a
sparse-dense product for sparse ``X``), one FISTA iteration for the whole batch is
``C <- prox(V - (V G - Q) / L)``: one dense matrix-matrix product (cuBLAS on a GPU).
``L`` is the largest eigenvalue of ``G``, exact (``eigvalsh`` of a K x K matrix).
The momentum restarts per signal (O'Donoghue & Candes 2015). Every ``check_every``
iterations one host synchronisation brings back whether every signal's duality gap
is at most ``tol * ||x||^2``, scikit-learn's Lasso rule. The dual point is the
residual scaled into the dual ball: ``theta = r * min(1, alpha / ||D r||_inf)``, with
``D r = q - G c``.
"""

import numpy as np
import scipy.sparse as sp

from ._backend import extrapolate, momentum, prox_step

__all__ = ["lasso_codes_fista"]


def _row_gaps(xp, C, Q, G, xnorm2, alpha, positive):
    """Duality gap of each row's lasso at codes ``C`` (float64 device array)."""
    CG = C @ G
    r2 = xnorm2 - 2.0 * (C * Q).sum(axis=1) + (CG * C).sum(axis=1)   # ||x - c D||^2
    r2 = xp.maximum(r2, 0.0)
    Dr = Q - CG
    top = Dr.max(axis=1) if positive else xp.abs(Dr).max(axis=1)
    scale = xp.where(top > alpha, alpha / xp.where(top > 0.0, top, 1.0), 1.0)
    r_dot_x = xnorm2 - (C * Q).sum(axis=1)
    primal = 0.5 * r2 + alpha * xp.abs(C).sum(axis=1)
    dual = scale * r_dot_x - 0.5 * scale * scale * r2
    return primal - dual


def lasso_codes_fista(backend, X, dictionary, alpha, *, positive=False, init=None,
                      tol=1e-4, max_iter=1000, check_every=10):
    """Lasso codes of all rows of ``X`` at once, by FISTA on ``backend``.

    Parameters
    ----------
    backend : Backend
        :data:`~sparse_estimators.gpu._backend.NUMPY` or the CuPy backend.
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        Host data; sparse ``X`` is moved as CSR and only ``X D^T`` is formed.
    dictionary : ndarray of shape (n_components, n_features)
        Atoms as rows.
    alpha : float
        L1 penalty.
    positive : bool, default=False
    init : ndarray of shape (n_samples, n_components), default=None
        Warm start.
    tol : float, default=1e-4
        Stop once every row's gap is at most ``tol * ||x||^2``.
    max_iter : int, default=1000
        FISTA iterations.
    check_every : int, default=10
        Iterations between two gap evaluations (one host sync each).

    Returns
    -------
    codes : NumPy array of shape (n_samples, n_components), float64
    n_iter : int
    converged : bool

    Examples
    --------
    >>> import numpy as np
    >>> from sparse_estimators.gpu import NUMPY
    >>> from sparse_estimators.gpu._coding import lasso_codes_fista
    >>> D = np.eye(4)[:3]
    >>> X = np.array([[3.0, 0.5, 0.0, 0.0], [0.0, 0.0, -2.0, 1.0]])
    >>> codes, n_iter, converged = lasso_codes_fista(NUMPY, X, D, 1.0)
    >>> codes.round(6)
    array([[ 2.,  0.,  0.],
           [ 0.,  0., -1.]])
    """
    xp = backend.xp
    n = X.shape[0]
    D = backend.asarray(dictionary, np.float64)
    K = D.shape[0]
    if sp.issparse(X):
        Xh = sp.csr_matrix(X)
        Xd = backend.csr(Xh, np.float64)
        Q = Xd @ D.T
        xnorm2 = backend.asarray(np.asarray(Xh.multiply(Xh).sum(axis=1)).ravel(),
                                 np.float64)
    else:
        Xd = backend.asarray(X, np.float64)
        Q = Xd @ D.T
        xnorm2 = (Xd * Xd).sum(axis=1)
    Q = xp.asarray(Q)                        # SpMM gives a dense (matrix) result
    G = D @ D.T
    L = float(backend.scalar(xp.linalg.eigvalsh(G)[-1])) if K else 0.0
    C = xp.zeros((n, K)) if init is None else backend.asarray(init, np.float64)
    if positive:
        C = xp.maximum(C, 0.0)
    target = tol * xnorm2
    V = C
    t = xp.ones((n, 1))
    converged = False
    it = 0
    while True:
        if it % check_every == 0 or it >= max_iter or L == 0.0:
            worst = backend.scalar((_row_gaps(xp, C, Q, G, xnorm2, alpha, positive)
                                    - target).max()) if n else 0.0
            if worst <= 0.0:
                converged = True
                break
            if it >= max_iter or L == 0.0:
                break
        C_new = prox_step(backend, V, V @ G - Q, 1.0 / L, alpha / L, positive=positive)
        # per-row adaptive restart (no decrease test: L is the Gram's exact top
        # eigenvalue)
        move = ((V - C_new) * (C_new - C)).sum(axis=1, keepdims=True)
        beta, t_next = momentum(backend, move, t)
        V = extrapolate(backend, C_new, C, beta)
        C, t = C_new, t_next
        it += 1
    return backend.to_host(C), it, converged
