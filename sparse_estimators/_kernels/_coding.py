"""Sparse-coding kernels on the Gram matrix of a dictionary.

Every signal ``x`` (a row of ``X``) is coded on the dictionary ``D`` (``K`` atoms as
rows) through ``G = D D^T`` and ``q = D x`` only, so the cost per signal is
independent of the signal's dimension and sparse signals are handled by computing
``Q = X D^T`` once (a sparse-dense product) outside the kernels.

* :func:`gram_lasso_cd`: ``min_c 1/2 ||x - c D||^2 + alpha ||c||_1`` (optionally
  ``c >= 0``) by cyclic coordinate descent on the gradient ``g = q - G c``, stopped on
  the duality gap (Friedman, Hastie & Tibshirani 2010 for the coordinate updates;
  the gap uses the dual point ``theta = r * min(1, alpha / ||D r||_inf)``, where
  ``D r = g``).
* :func:`gram_omp`: orthogonal matching pursuit with an incremental Cholesky
  factorisation of ``G[I, I]`` (Batch-OMP, Rubinstein, Zibulevsky & Elad 2008),
  stopped after ``n_nonzero`` atoms or once the squared residual norm is ``<= tol``.

Both work on the rows ``s0 .. s1`` of the output, so the Python caller can split
the samples over threads (the kernels release the GIL).
"""

import numpy as np
from numba import njit

from ._prox import prox_enet


@njit(cache=True, nogil=True)
def gram_lasso_cd(G, Q, xnorm2, alpha, positive, max_iter, tol, C, n_iter, s0, s1):
    """Lasso codes of the samples ``s0 .. s1``.

    ``C`` holds the initial codes (zeros, or a warm start) and receives the result;
    ``n_iter[s]`` the epochs used. Sample ``s`` stops once its duality gap is at
    most ``tol * xnorm2[s]`` (scikit-learn's Lasso rule) or after ``max_iter``
    epochs. Returns the number of samples that did not converge.
    """
    K = G.shape[0]
    g = np.empty(K)
    failures = 0
    for s in range(s0, s1):
        # g = q - G c
        for j in range(K):
            acc = Q[s, j]
            for k in range(K):
                if C[s, k] != 0.0:
                    acc -= G[j, k] * C[s, k]
            g[j] = acc
        target = tol * xnorm2[s]
        epochs = 0
        converged = False
        while epochs < max_iter:
            for j in range(K):
                gjj = G[j, j]
                if gjj <= 0.0:
                    continue
                old = C[s, j]
                new = prox_enet(g[j] + gjj * old, alpha, gjj, positive)
                if new != old:
                    d = new - old
                    for k in range(K):
                        g[k] -= d * G[j, k]        # G is symmetric: row j
                    C[s, j] = new
            epochs += 1
            # duality gap: ||r||^2 = ||x||^2 - 2 q.c + c.G.c, and c.G.c = q.c - g.c
            qc = 0.0
            gc = 0.0
            l1 = 0.0
            top = 0.0
            for j in range(K):
                c = C[s, j]
                qc += Q[s, j] * c
                gc += g[j] * c
                l1 += abs(c)
                v = g[j] if positive else abs(g[j])
                if v > top:
                    top = v
            r2 = max(xnorm2[s] - qc - gc, 0.0)
            primal = 0.5 * r2 + alpha * l1
            scale = min(1.0, alpha / top) if top > 0.0 else 1.0
            xr = xnorm2[s] - qc
            dual = scale * xr - 0.5 * scale * scale * r2
            if primal - dual <= target:
                converged = True
                break
        n_iter[s] = epochs
        if not converged:
            failures += 1
    return failures


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _chol_append(G, act, n, L, j, tmp):
    # Append atom j to the Cholesky factor L of G[act[:n], act[:n]]; False when j is
    # (numerically) a combination of the active atoms.
    for i in range(n):
        acc = G[act[i], j]
        for k in range(i):
            acc -= L[i, k] * tmp[k]
        tmp[i] = acc / L[i, i]
    diag = G[j, j]
    for i in range(n):
        diag -= tmp[i] * tmp[i]
    if diag <= 1e-12 * G[j, j]:
        return False
    for i in range(n):
        L[n, i] = tmp[i]
    L[n, n] = np.sqrt(diag)
    return True


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _chol_solve(L, n, rhs, tmp, out):
    # out = (L L^T)^-1 rhs over the first n entries
    for i in range(n):
        acc = rhs[i]
        for k in range(i):
            acc -= L[i, k] * tmp[k]
        tmp[i] = acc / L[i, i]
    for i in range(n - 1, -1, -1):
        acc = tmp[i]
        for k in range(i + 1, n):
            acc -= L[k, i] * out[k]
        out[i] = acc / L[i, i]


@njit(cache=True, nogil=True)
def gram_omp(G, Q, xnorm2, n_nonzero, tol, atoms, coefs, n_active, s0, s1):
    """OMP codes of the samples ``s0 .. s1``, in compact form: sample ``s`` uses the
    atoms ``atoms[s, :n_active[s]]`` with the coefficients ``coefs[s, :n_active[s]]``
    (``(n_samples, n_nonzero)`` arrays; the caller scatters them into a dense or a
    CSR matrix, so the kernel never touches an ``n_samples x K`` array).

    Selects at most ``n_nonzero`` atoms per sample; with ``tol >= 0`` it stops as
    soon as the squared residual norm is ``<= tol`` (checked after each selection,
    so at least one atom is selected, as in scikit-learn). Stops early when the next
    atom is (numerically) a combination of the selected ones.
    """
    K = G.shape[0]
    L = np.zeros((n_nonzero, n_nonzero))
    idx = np.empty(n_nonzero, dtype=np.int64)
    gamma = np.empty(n_nonzero)
    tmp = np.empty(n_nonzero)
    rhs = np.empty(n_nonzero)
    a = np.empty(K)
    selected = np.zeros(K, dtype=np.bool_)
    for s in range(s0, s1):
        for j in range(K):
            a[j] = Q[s, j]
            selected[j] = False
        n = 0
        err = xnorm2[s]
        # the tolerance is checked after each atom, so at least one is selected (as
        # scikit-learn's OMP does) unless the signal is orthogonal to every atom
        while n < n_nonzero and (n == 0 or not (tol >= 0.0 and err <= tol)):
            # the atom most correlated with the residual
            best = -1
            best_v = -1.0
            for j in range(K):
                if not selected[j] and abs(a[j]) > best_v:
                    best_v = abs(a[j])
                    best = j
            if best < 0 or best_v <= 0.0:
                break
            # grow the Cholesky factor of G[I, I], then gamma = G[I, I]^-1 q_I
            if not _chol_append(G, idx, n, L, best, tmp):
                break       # linearly dependent on the selected atoms
            idx[n] = best
            selected[best] = True
            n += 1
            for i in range(n):
                rhs[i] = Q[s, idx[i]]
            _chol_solve(L, n, rhs, tmp, gamma)
            # correlations with the new residual: a = q - G[:, I] gamma
            qg = 0.0
            for i in range(n):
                qg += gamma[i] * Q[s, idx[i]]
            err = xnorm2[s] - qg      # ||x - gamma D_I||^2 = ||x||^2 - gamma . q_I
            if n == n_nonzero or (tol >= 0.0 and err <= tol):
                break                 # no next atom to select: skip the O(K n) update
            for j in range(K):
                a[j] = Q[s, j]
            for i in range(n):
                gi = gamma[i]
                row = idx[i]
                for j in range(K):
                    a[j] -= G[row, j] * gi     # rows of the symmetric G
        for i in range(n):
            atoms[s, i] = idx[i]
            coefs[s, i] = gamma[i]
        n_active[s] = n
    return 0


@njit(cache=True, nogil=True, no_cpython_wrapper=True,
      fastmath={"reassoc", "nsz", "arcp", "contract"})
def _join_step(c, u, active, lam, positive, gj):
    # Smallest step at which an inactive atom's correlation reaches the active ones'
    # (|c_j - g u_j| = lam - g), and that atom. Branch-free first pass (selects, so
    # LLVM vectorises it), then a scan for the index.
    big = 1e300
    best = big
    for j in range(c.shape[0]):
        num = lam - c[j]
        den = 1.0 - u[j]
        g = num / den if (den > 1e-15 and num > 0.0) else big
        if not positive:
            num2 = lam + c[j]
            den2 = 1.0 + u[j]
            g2 = num2 / den2 if (den2 > 1e-15 and num2 > 0.0) else big
            g = min(g, g2)
        g = big if active[j] else g
        gj[j] = g
        best = min(best, g)
    if best >= big:
        return -1, np.inf
    for j in range(c.shape[0]):
        if gj[j] == best:
            return j, best
    return -1, np.inf


@njit(cache=True, nogil=True)
def gram_lasso_lars(G, Q, alpha, positive, max_steps, C, n_steps, s0, s1):
    """Exact lasso codes of the samples ``s0 .. s1`` by the LARS-Lasso homotopy.

    Follows the piecewise-linear path of ``min_c 1/2 ||x - c D||^2 + lam ||c||_1`` from
    ``lam = max |D x|`` (where ``c = 0``) down to ``lam = alpha`` (Efron, Hastie,
    Johnstone & Tibshirani, "Least angle regression", 2004, with the lasso
    modification: an atom whose coefficient crosses zero leaves the active set).
    Each step solves ``G[A, A] w = sign`` with a Cholesky factor updated as atoms
    join (rebuilt when one leaves), then moves to the next join, sign change or
    ``alpha``. ``C``'s rows must be zero on entry; ``n_steps[s]`` receives the
    number of steps (at most ``max_steps``). Returns the number of samples stopped
    by ``max_steps`` or by a numerically dependent atom before reaching ``alpha``.
    """
    K = G.shape[0]
    L = np.zeros((K, K))
    act = np.empty(K, dtype=np.int64)
    active = np.zeros(K, dtype=np.bool_)
    sgn = np.empty(K)
    w = np.empty(K)
    tmp = np.empty(K)
    beta = np.empty(K)
    c = np.empty(K)
    u = np.empty(K)
    gj = np.empty(K)
    failures = 0
    for s in range(s0, s1):
        for j in range(K):
            c[j] = Q[s, j]
            active[j] = False
        n = 0
        steps = 0
        dropped = -1
        lam = 0.0
        # the first atom: largest correlation
        best = -1
        for j in range(K):
            v = c[j] if positive else abs(c[j])
            if v > lam:
                lam = v
                best = j
        done = best < 0 or lam <= alpha
        if not done:
            _chol_append(G, act, 0, L, best, tmp)
            act[0] = best
            active[best] = True
            sgn[0] = 1.0 if c[best] > 0 else -1.0
            beta[0] = 0.0
            n = 1
        reached = done
        while not done and steps < max_steps:
            steps += 1
            _chol_solve(L, n, sgn, tmp, w)
            # u = G[:, A] w: how the correlations fall along the step
            for j in range(K):
                u[j] = 0.0
            for i in range(n):
                wi = w[i]
                row = act[i]
                for j in range(K):
                    u[j] += G[row, j] * wi
            gamma = lam - alpha
            event = -1          # -1: reach alpha; j >= 0: join j; -2 - i: drop act[i]
            if dropped >= 0:
                active[dropped] = True      # barred from this step's joins
            j_best, g_best = _join_step(c, u, active, lam, positive, gj)
            if dropped >= 0:
                active[dropped] = False
            if g_best < gamma:
                gamma = g_best
                event = j_best
            dropped = -1
            for i in range(n):
                if w[i] != 0.0:
                    g = -beta[i] / w[i]
                    if 0.0 < g < gamma:
                        gamma = g
                        event = -2 - i
            for i in range(n):
                beta[i] += gamma * w[i]
            for j in range(K):
                c[j] -= gamma * u[j]
            lam -= gamma
            if event == -1:
                reached = True
                break
            if event >= 0:
                if not _chol_append(G, act, n, L, event, tmp):
                    break       # dependent atom: stop at this lambda
                act[n] = event
                active[event] = True
                sgn[n] = 1.0 if c[event] > 0 else -1.0
                beta[n] = 0.0
                n += 1
            else:
                i = -2 - event
                # the leaving atom sits exactly at the join boundary: barred from the
                # next step's joins, or rounding can bring it straight back (cycling)
                dropped = act[i]
                active[act[i]] = False
                beta[i] = 0.0
                for k in range(i, n - 1):
                    act[k] = act[k + 1]
                    sgn[k] = sgn[k + 1]
                    beta[k] = beta[k + 1]
                n -= 1
                for k in range(n):      # rebuild the factor without the dropped atom
                    _chol_append(G, act, k, L, act[k], tmp)
        for i in range(n):
            C[s, act[i]] = beta[i]
        n_steps[s] = steps
        if not reached:
            failures += 1
    return failures
