"""Coordinate-descent kernels for the quadratic loss (Lasso / ElasticNet).

The problem solved here is the *unnormalised* elastic net on a centred design::

    min_w  1/2 ||r||^2 + l1 ||w||_1 + l2/2 ||w||^2,     r = yc - Xc w

One kernel serves dense and sparse designs, so the CD logic exists once. The
layout is chosen by *type*: a dense design passes ``data = indices = indptr =
None``, a sparse one ``X = None``; numba prunes the branch that tests a ``None``
argument at compile time, so each layout gets its own machine code with no branch
in the inner loops (a run-time ``is_sparse`` flag made the sparse epoch 7-10x
slower: LLVM could no longer optimise the loops):

* dense: ``X`` is Fortran-ordered and already centred / row-scaled, so ``Xc = X``,
  ``xbar = 0`` and the residual is ``r = rt``;
* sparse: ``(data, indices, indptr)`` is the CSC form of ``X~ = diag(s) X`` with
  ``s = sqrt(sample_weight)``; centring is implicit, ``Xc = X~ - s xbar^T`` with the
  weighted column means ``xbar``. The residual is kept as ``r = rt + c * s`` where
  ``rt = yc - X~ w`` gets sparse updates and the scalar ``c = xbar . w``. Because
  ``s^T r = 0`` (the intercept is optimal for every ``w``), ``Xc_j^T r =
  X~_j^T rt + c * W * xbar_j`` with ``W = s^T s``: an update of ``w_j`` costs
  ``O(nnz_j)``, never ``O(n_samples)`` (implicit centring, as in glmnet, Friedman,
  Hastie & Tibshirani 2010, section 2.6).

Kernels take arrays and scalars only (no jitted classes, no function arguments)
so that numba can cache their machine code on disk.
"""

import math

import numpy as np
from numba import njit

from ._glm import csr_rmatvec
from ._prox import prox_enet


# The nested ``is None`` tests are what numba can prune: only a test on an argument
# typed ``none`` is resolved before typing, so each layout tests the argument that
# is None for it. (``inline="always"`` would defeat the pruning; LLVM inlines these.)
# Row indices and the ``indptr`` bounds are cast to unsigned before indexing: numba
# then emits no check for negative (wrap-around) indices in the gather / scatter
# loops. Those checks made the sparse CD epoch 2x slower (0.80 -> 0.40 ms over a
# 20000 x 2000 CSC at 1% density); CSC indices are never negative.
@njit(cache=True, fastmath={"reassoc", "contract"}, no_cpython_wrapper=True)
def _dense_col_dot(X, j, v):
    # Reassociation lets LLVM vectorise the reduction (4x faster on a 500-row column,
    # on par with BLAS).
    acc = 0.0
    for i in range(X.shape[0]):
        acc += X[i, j] * v[i]
    return acc


@njit(cache=True, fastmath={"reassoc", "contract"}, no_cpython_wrapper=True)
def _sparse_col_dot(data, indices, indptr, j, v):
    # Reassociated as well: LLVM then uses vector gathers, which keep more loads in
    # flight. On a 120 MB CSC (residual out of L2) X^T r drops from 11.2 to 6.6 ms;
    # on cache-resident data it is unchanged (with signed indices it was slower).
    acc = 0.0
    for k in range(np.uint64(indptr[j]), np.uint64(indptr[j + 1])):
        acc += data[k] * v[np.uint64(indices[k])]
    return acc


@njit(cache=True, no_cpython_wrapper=True)
def _col_dot(j, X, data, indices, indptr, v):
    acc = 0.0
    if data is None:
        if X is not None:
            acc = _dense_col_dot(X, j, v)
    else:
        if X is None:
            acc = _sparse_col_dot(data, indices, indptr, j, v)
    return acc


@njit(cache=True, no_cpython_wrapper=True)
def _col_axpy(j, a, X, data, indices, indptr, v):
    # v += a * column j
    if data is None:
        if X is not None:
            for i in range(X.shape[0]):
                v[i] += a * X[i, j]
    else:
        if X is None:
            for k in range(np.uint64(indptr[j]), np.uint64(indptr[j + 1])):
                v[np.uint64(indices[k])] += a * data[k]


@njit(cache=True, nogil=True)
def residual(X, data, indices, indptr, xbar, yc, w, rt):
    """Recompute ``rt = yc - X~ w`` in place from scratch; return ``c = xbar . w``."""
    # an explicit copy loop: ``rt[:] = yc`` compiles numba's broadcasting checks and
    # their string-formatting error messages, ~1.5 s of cold-cache compile time
    for i in range(yc.shape[0]):
        rt[i] = yc[i]
    c = 0.0
    for j in range(w.shape[0]):
        if w[j] != 0.0:
            _col_axpy(j, -w[j], X, data, indices, indptr, rt)
            c += w[j] * xbar[j]
    return c


@njit(cache=True, nogil=True)
def gradient(X, data, indices, indptr, xbar, W, feats, rt, c, out):
    """``out[k] = Xc_j^T r`` for ``j = feats[k]`` (the negative datafit gradient)."""
    for k in range(feats.shape[0]):
        j = feats[k]
        out[k] = _col_dot(j, X, data, indices, indptr, rt) + c * W * xbar[j]
    return out


@njit(cache=True, nogil=True)
def csr_gradient(data, indices, indptr, xbar, W, feats, v, c, full, out):
    """:func:`gradient` from the CSR form of ``X`` (the caller's, unscaled), with
    ``v = s * rt``: one scatter pass over the rows into ``full`` (length
    ``n_features``), then ``out[k] = full[j] + c * W * xbar[j]`` for ``j =
    feats[k]``. Where columns are short it beats the column dot products, whose
    per-column cost dominates (0.08 vs 0.21 ms over the 1000 x 20000 benchmark
    matrix with ten stored values per column)."""
    csr_rmatvec(data, indices, indptr, v, full)
    for k in range(feats.shape[0]):
        j = feats[k]
        out[k] = full[j] + c * W * xbar[j]
    return out


@njit(cache=True, nogil=True)
def residual_stats(rt, c, s, yc):
    """``(||r||^2, r . yc)`` for ``r = rt + c * s``."""
    rn = 0.0
    ry = 0.0
    if c == 0.0:
        for i in range(rt.shape[0]):
            rn += rt[i] * rt[i]
            ry += rt[i] * yc[i]
    else:
        for i in range(rt.shape[0]):
            ri = rt[i] + c * s[i]
            rn += ri * ri
            ry += ri * yc[i]
    return rn, ry


@njit(cache=True, nogil=True)
def enet_gap(l1, l2, positive, r_norm2, r_dot_y, grad, w_sub, norms_sub):
    """Duality gap of the unnormalised elastic net and the dual norm.

    ``grad`` holds ``Xc_j^T r``, ``w_sub`` the coefficients and ``norms_sub`` the
    squared column norms over the same features; coefficients outside that set must
    be zero.

    * ``l1 > 0``: the dual point is the rescaled residual ``theta = r * min(1, l1 /
      ||Xc^T r - l2 w||_inf)`` (``max`` instead of ``||.||_inf`` when positive):
      scikit-learn's formulation "A", the dual used by the gap-safe rules of Ndiaye
      et al. (2017).
    * ``l1 == 0 < l2`` (ridge): ``theta = r`` in the ridge dual, whose conjugate
      penalty is ``||u||^2 / (2 l2)``, or ``||max(u, 0)||^2 / (2 l2)`` when
      positive.
    * ``l1 == l2 == 0`` (least squares, no dual): ``sum_j pg_j^2 / (2 ||Xc_j||^2)``
      with ``pg`` the (projected, when positive) gradient, the decrease one exact
      coordinate step would give each coordinate: like a gap it is in objective
      units, so ``tol`` keeps its meaning whatever the scale of ``X``.
    """
    w_l1 = 0.0
    w_l2 = 0.0
    for k in range(w_sub.shape[0]):
        w_l1 += abs(w_sub[k])
        w_l2 += w_sub[k] * w_sub[k]
    if l1 == 0.0:
        g2 = 0.0
        if l2 == 0.0:
            for k in range(grad.shape[0]):
                g = grad[k]
                if positive and w_sub[k] <= 0.0 and g < 0.0:
                    g = 0.0
                if norms_sub[k] > 0.0:
                    g2 += g * g / norms_sub[k]
            return 0.5 * g2, np.sqrt(g2)
        for k in range(grad.shape[0]):
            g = grad[k]
            if positive and g < 0.0:
                g = 0.0
            g2 += g * g
        gap = r_norm2 + 0.5 * l2 * w_l2 - r_dot_y + g2 / (2.0 * l2)
        return gap, np.sqrt(g2)
    dual_norm = 0.0
    for k in range(grad.shape[0]):
        a = grad[k] - l2 * w_sub[k]
        if not positive:
            a = abs(a)
        if a > dual_norm:
            dual_norm = a
    scale = 1.0
    if dual_norm > l1:
        scale = l1 / dual_norm
    quad = r_norm2 + l2 * w_l2
    primal = 0.5 * quad + l1 * w_l1
    dual = -0.5 * scale * scale * quad + scale * r_dot_y
    return primal - dual, dual_norm


@njit(cache=True, nogil=True)
def screen_violations(cand, grad, w, norms_c, l1, l2, positive, gap, dual_norm, screen,
                      cand_out, norms_out, score, viol, kept):
    """Gap-safe screening, then violation scores, over the candidate features.

    One outer working-set iteration's pass: the sphere test, then the scores of the
    features it keeps.

    ``cand`` are the candidates (sorted feature indices), ``grad`` their
    ``Xc_j^T r`` and ``norms_c`` their squared column norms. With ``screen`` (and a
    finite ``gap``), a feature is discarded when its correlation stays below ``l1``
    on the ball of radius ``sqrt(2 gap) / l1`` around the dual point ``r /
    max(l1, dual_norm)``, which holds the dual optimum: it is zero at the optimum
    (Ndiaye, Fercoq, Gramfort & Salmon 2017, "Gap safe screening rules for
    sparsity enforcing penalties", JMLR 18; the elastic net as a Lasso on ``[Xc;
    sqrt(l2) I]``, hence ``norms + l2``). A NaN test keeps the feature. A discarded
    feature with a non-zero coefficient has it set to 0 in ``w`` (the caller then
    recomputes the residual).

    The kept features are written, in order, to ``cand_out[:m]`` and
    ``norms_out[:m]`` (which may be ``cand`` and ``norms_c`` themselves: the
    compaction only writes behind what it reads; nothing is written when every
    feature is kept), with ``score[:m]`` the violation of the optimality
    conditions, ``|Xc_j^T r - l2 w_j| - l1`` (no absolute value when
    ``positive``), ``+inf`` on the support; ``viol[:n_viol]`` are the positions
    (into the kept features) of those with a positive score. ``kept`` is a boolean
    buffer as long as ``cand``. No feature is discarded at a negative or non-finite
    ``gap``, nor at a NaN ``dual_norm``. This replaced a dozen NumPy passes over the
    candidates (0.14 ms per outer iteration on 20000 candidates; ~0.03 ms here,
    measured 2026-12-07).

    Returns ``(m, n_support, n_viol, zeroed)``.
    """
    n = np.uint64(cand.shape[0])
    # (no test on a negative or non-finite gap; a NaN dual norm keeps every feature)
    test = screen and gap >= 0.0 and gap - gap == 0.0
    scale = l1 if l1 > dual_norm else dual_norm
    # the test (1 - |a| / scale) / sqrt(norm + l2) > radius, multiplied out and
    # squared: no division or square root per feature
    bound = 2.0 * gap * (scale / l1) ** 2 if test else 0.0
    n_kept = 0
    n_supp = 0
    for k in range(n):
        wj = w[np.uint64(cand[k])]
        n_supp += wj != 0.0
        a = grad[k] - l2 * wj
        t = scale - abs(a)
        keep = not (test & (t > 0.0) & (t * t > bound * (norms_c[k] + l2)))
        kept[k] = keep
        n_kept += keep
        score[k] = np.inf if wj != 0.0 else (a if positive else abs(a)) - l1
    # then the violators, with the compaction only where features were discarded
    # (branch-free counters: the outcomes are data-dependent, and mispredicted)
    m = np.uint64(0)
    n_viol = np.uint64(0)
    zeroed = False
    if n_kept == n:
        for k in range(n):
            viol[n_viol] = k
            n_viol += np.uint64(score[k] > 0.0)
        return n, n_supp, n_viol, zeroed
    n_supp = 0
    for k in range(n):
        j = cand[k]
        keep = kept[k]
        on = w[np.uint64(j)] != 0.0
        if not keep and on:
            w[np.uint64(j)] = 0.0
            zeroed = True
        cand_out[m] = j
        norms_out[m] = norms_c[k]
        sc = score[k]
        score[m] = sc
        viol[n_viol] = m
        n_viol += np.uint64(keep & (sc > 0.0))
        n_supp += keep & on
        m += np.uint64(keep)
    return m, n_supp, n_viol, zeroed


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _epoch(X, data, indices, indptr, xbar, W, norms, order, w, rt, c, l1,
           l2, positive):
    # One cyclic pass of coordinate descent over the features in ``order``.
    # Returns the new ``c``, the relative size of the largest update,
    # max |dw_j| / max |w_j| (scikit-learn's cue for checking the gap), and the
    # decrease of the objective the pass achieved, sum_j (L_j / 2) dw_j^2 with
    # L_j = ||x_j||^2 + l2 (each coordinate problem is L_j-strongly convex and is
    # minimised exactly, so this is a lower bound).
    dw_max = 0.0
    w_max = 0.0
    dec = 0.0
    for jj in range(order.shape[0]):
        j = order[jj]
        nj = norms[j]
        if nj <= 0.0:
            continue
        wj = w[j]
        g = _col_dot(j, X, data, indices, indptr, rt) + c * W * xbar[j]
        new = prox_enet(g + nj * wj, l1, nj + l2, positive)
        if new != wj:
            d = new - wj
            _col_axpy(j, -d, X, data, indices, indptr, rt)
            c += d * xbar[j]
            w[j] = new
            dec += (nj + l2) * d * d
            if abs(d) > dw_max:
                dw_max = abs(d)
        if abs(new) > w_max:
            w_max = abs(new)
    if w_max == 0.0:
        return c, 0.0, 0.5 * dec
    return c, dw_max / w_max, 0.5 * dec


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _anderson_coefs(hist, K, C, z):
    # Weights z (sum 1) minimising ||sum_k z_k (w_{k+1} - w_k)||: solve (U U^T) z = 1,
    # regularised by 1e-10 * trace, by Cholesky in the caller-owned flat buffer C
    # (K x K, lower triangle). K is ~5: a few hand-written loops compile in a fraction
    # of the time of np.linalg.solve's LAPACK binding or of Gaussian elimination with
    # pivoting. Returns False when the system is degenerate.
    m = hist.shape[1]
    for a in range(K):
        for b in range(a + 1):
            acc = 0.0
            for i in range(m):
                acc += (hist[a + 1, i] - hist[a, i]) * (hist[b + 1, i] - hist[b, i])
            C[a * K + b] = acc
    tr = 0.0
    for k in range(K):
        tr += C[k * K + k]
    if not tr > 0.0:
        return False
    for a in range(K):  # in place: C's lower triangle becomes L, with L L^T = C
        for b in range(a + 1):
            acc = C[a * K + b] + (1e-10 * tr if a == b else 0.0)
            for q in range(b):
                acc -= C[a * K + q] * C[b * K + q]
            if a == b:
                if not acc > 0.0:
                    return False
                C[a * K + a] = math.sqrt(acc)
            else:
                C[a * K + b] = acc / C[b * K + b]
    for a in range(K):  # L y = 1
        acc = 1.0
        for q in range(a):
            acc -= C[a * K + q] * z[q]
        z[a] = acc / C[a * K + a]
    sz = 0.0
    for a in range(K - 1, -1, -1):  # L^T z = y
        acc = z[a]
        for q in range(a + 1, K):
            acc -= C[q * K + a] * z[q]
        z[a] = acc / C[a * K + a]
        sz += z[a]
    if not (sz - sz == 0.0) or sz == 0.0:  # inf or nan, or no direction
        return False
    for a in range(K):
        z[a] /= sz
    return True


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _shuffle(order, state):
    # Fisher-Yates with a 64-bit LCG (Knuth's MMIX constants); returns the new state.
    # Cheaper to compile than np.random and reproducible from the caller's seed.
    for i in range(order.shape[0] - 1, 0, -1):
        state = (state * np.uint64(6364136223846793005)
                 + np.uint64(1442695040888963407))
        j = np.int64((state >> np.uint64(33)) % np.uint64(i + 1))
        tmp = order[i]
        order[i] = order[j]
        order[j] = tmp
    return state


@njit(cache=True, nogil=True)
def anderson_step(X, data, indices, indptr, xbar, s, yc, ws, w, rt, c, l1, l2, positive,
                  hist, work):
    """Try the Anderson extrapolation of the ``K + 1`` iterates in ``hist``.

    Called by the solver when :func:`enet_inner` returns with its history full
    (Bertrand & Massias, AISTATS 2021). A kernel of its own, not a callee of
    ``enet_inner``: numba compiles it on the first extrapolation, so a process
    whose fits never extrapolate (working sets with fewer stored values than
    ``n_samples``) does not pay its ~1 s of cold-cache compile time.

    The candidate is kept only if it lowers the objective ``P``, tested exactly
    through the residual: move to it (one pass over the working set), compare
    ``||r||^2 / 2 + penalty`` before and after (``O(n_samples)``), and move back if
    it did not drop (one more pass). The solver only extrapolates when the working
    set holds at least ``n_samples`` stored values, so the test costs at most about
    one epoch. ``work`` is ``enet_inner``'s buffer (its first ``2 m`` entries and
    the Anderson system are scratch here). Returns the new ``c``.
    """
    m = ws.shape[0]
    K = hist.shape[0] - 1
    w_acc = work[:m]
    w_old = work[m:2 * m]
    lin_sys = work[5 * m:5 * m + K * K]
    coefs = work[5 * m + K * K:5 * m + K * (K + 1)]
    if not _anderson_coefs(hist, K, lin_sys, coefs):
        return c
    dpen = 0.0
    for k in range(m):
        v = 0.0
        for q in range(K):
            v += coefs[q] * hist[q + 1, k]
        if positive and v < 0.0:
            v = 0.0
        w_acc[k] = v
        wj = w[ws[k]]
        w_old[k] = wj
        dpen += l1 * (abs(v) - abs(wj)) + 0.5 * l2 * (v * v - wj * wj)
    p_old = 0.5 * residual_stats(rt, c, s, yc)[0]
    c_old = c
    for k in range(m):
        j = ws[k]
        d = w_acc[k] - w_old[k]
        if d != 0.0:
            _col_axpy(j, -d, X, data, indices, indptr, rt)
            c += d * xbar[j]
            w[j] = w_acc[k]
    if 0.5 * residual_stats(rt, c, s, yc)[0] + dpen < p_old:
        return c
    for k in range(m):
        j = ws[k]
        d = w[j] - w_old[k]
        if d != 0.0:
            _col_axpy(j, d, X, data, indices, indptr, rt)
            w[j] = w_old[k]
    return c_old


#: Entries of the float64 ``work`` buffer after the Anderson system: the state of
#: :func:`enet_inner`'s loop kept across a return for an extrapolation.
_STATE = 5


def inner_work_size(m, K):
    """Length of the float64 ``work`` buffer :func:`enet_inner` needs."""
    return 5 * m + K * (K + 1) + _STATE


@njit(cache=True, nogil=True)
def enet_inner(X, data, indices, indptr, xbar, W, s, yc, norms, ws, w, rt, c, l1, l2,
               positive, max_epochs, tol, check_every, dw_tol, hist, n_hist, shuffle,
               seed, dec_cue, screen, order, work, resume):
    """Solve the elastic net restricted to the working set ``ws``.

    Cyclic coordinate descent (Friedman et al. 2010) over ``ws``, recording the
    iterates for Anderson acceleration (Bertrand & Massias, "Anderson acceleration
    of coordinate descent", AISTATS 2021) in ``hist``, of ``K + 1`` rows (one row:
    no acceleration). When ``K + 1`` iterates are recorded the kernel returns with
    ``extrapolate`` set: the caller runs :func:`anderson_step` and calls again with
    ``resume=True`` and ``n_hist=0``, which continues the same loop (its state is
    kept in ``order``, ``work`` and ``seed``'s returned value) as if the
    extrapolation had happened inside. The caller enables the acceleration only
    for working sets with at least ``n_samples`` stored values: the extrapolation
    costs ``O(n_samples)``.

    Every ``check_every`` epochs, and after any epoch whose largest update is
    ``<= dw_tol`` times the largest coefficient (scikit-learn's cue), the duality
    gap of the restricted problem is computed (``O(n_samples + nnz of ws)``, hence
    the caller's choice of interval); the solver stops when it is ``<= tol``. With
    ``screen``, a failed check screens the working set with the gap-safe sphere
    test (Ndiaye et al. 2017, dynamic screening): features it proves zero at the
    optimum of the restricted problem leave the epochs and the later checks (this
    pays on large working sets whose solution is sparser than the set: the
    "dense regime" of the caller). ``ws`` must be sorted.

    ``w`` and ``rt`` are updated in place; coefficients outside ``ws`` must be 0.
    ``hist`` holds the last ``n_hist`` iterates: a caller that solves the same
    working set again passes them back, so the extrapolation does not restart.
    Buffers come from the caller (no allocation here: numba's array constructors
    add to the cold-cache compile time): ``order``, an int64 array of ``len(ws)``,
    and ``work``, a float64 array of at least ``inner_work_size(len(ws), K)``.
    Pass ``seed`` as a ``np.uint64`` always (a Python int would compile a second
    signature), and ``shuffle`` as None for cyclic order, True for a new random
    order of the working set every epoch: typed ``none``, the shuffle is compiled
    out (0.1 s less cold-cache compile time for the default selection).
    Returns ``(n_epochs, c, n_hist, gap, m_act, extrapolate, seed)``: ``gap`` is
    that of the last check, over the ``m_act`` features of ``ws`` left after
    screening (``order[:m_act]``); ``seed`` is the shuffling state to pass back
    on resuming.
    """
    m = ws.shape[0]
    K = hist.shape[0] - 1
    grad = work[2 * m:3 * m]  # its first m_act entries are read after return (see
    #                           _solvers._enet._inner_certificate)
    w_ws = work[3 * m:4 * m]
    norms_ws = work[4 * m:5 * m]
    loop = work[5 * m + K * (K + 1):5 * m + K * (K + 1) + _STATE]  # kept on return
    state = np.uint64(seed)
    epoch = 0
    if resume:
        m_act = np.int64(loop[0])
        last_check = -np.int64(loop[1])
        cue_space = loop[2]
        dec_prev = loop[3]
        gap = loop[4]
    else:
        for k in range(m):
            order[k] = ws[k]
        m_act = m  # order[:m_act]: the features not screened out
        last_check = 0
        cue_space = 1.0  # epochs before a cue may trigger a check (a float count)
        dec_prev = 0.0
        gap = np.inf
    while epoch < max_epochs:
        act = order[:m_act]
        if shuffle is not None:  # pruned at compile time for cyclic selection
            state = _shuffle(act, state)
        c, dw_rel, dec = _epoch(X, data, indices, indptr, xbar, W, norms, act, w, rt,
                                c, l1, l2, positive)
        epoch += 1
        # per-epoch contraction of the objective decrease (linear convergence rate)
        rate = dec / dec_prev if dec_prev > 0.0 else 1.0
        dec_prev = dec
        # The gap check comes first: an extrapolation is wasted work once converged.
        # Cue-triggered checks are spaced, or a stalled cue would check each epoch.
        # Cues: scikit-learn's (a tiny largest update), and with ``dec_cue`` an epoch
        # that lowered the objective by less than ``tol`` (well-conditioned problems
        # converge in a few epochs, well before ``check_every``). After a failed
        # check the next one waits for the epochs the measured rate predicts for
        # the gap to reach ``tol`` (``dec_cue``), or twice as long as last time.
        since = epoch - last_check
        cue = (dw_rel <= dw_tol and 4 * since >= check_every) or (dec_cue and dec <= tol)
        if since >= check_every or (cue and since >= cue_space):
            last_check = epoch
            gradient(X, data, indices, indptr, xbar, W, act, rt, c, grad[:m_act])
            rn, ry = residual_stats(rt, c, s, yc)
            for k in range(m_act):
                w_ws[k] = w[order[k]]
                norms_ws[k] = norms[order[k]]
            gap, dual_norm = enet_gap(l1, l2, positive, rn, ry, grad[:m_act],
                                      w_ws[:m_act], norms_ws[:m_act])
            if gap <= tol:
                break
            if screen and l1 > 0.0 and gap - gap == 0.0:
                # gap-safe sphere test (as screen_violations): a zero
                # feature whose correlation stays below l1 over the ball of radius
                # sqrt(2 gap) / l1 around the dual point is zero at the optimum
                radius = math.sqrt(2.0 * gap) / l1
                scale = l1 if l1 > dual_norm else dual_norm
                kept = 0
                for k in range(m_act):
                    j = order[k]
                    xta = abs(grad[k] - l2 * w_ws[k])
                    # (multiplied out: a zero column with l2 = 0 has no norm to
                    # divide by, and is zero at the optimum; NaN keeps the feature)
                    if (w_ws[k] != 0.0
                            or not (1.0 - xta / scale
                                    > radius * math.sqrt(norms_ws[k] + l2))):
                        order[kept] = j
                        kept += 1
                    elif K > 0:
                        # older iterates may hold it non-zero: an extrapolation from
                        # them would revive it behind the epochs' back (should ws not
                        # be sorted, the history restarts)
                        lo = 0  # bisection for j's position in ws
                        hi = m
                        while lo < hi:
                            mid = (lo + hi) >> 1
                            if ws[mid] < j:
                                lo = mid + 1
                            else:
                                hi = mid
                        q = lo
                        if q < m and ws[q] == j:
                            for h in range(K + 1):
                                hist[h, q] = 0.0
                        else:
                            n_hist = 0
                m_act = kept
            if dec_cue and 0.0 < rate < 1.0:
                # clipped to [1, check_every] by hand: the min / max / int builtins
                # cost 0.2 s of cold-cache compile time
                cue_space = math.ceil(math.log(tol / gap) / math.log(rate))
                if cue_space > check_every:
                    cue_space = float(check_every)
                if cue_space < 1.0:
                    cue_space = 1.0
            elif since < check_every:
                cue_space *= 2.0
        if K > 0:
            for k in range(m):
                hist[n_hist, k] = w[ws[k]]
            n_hist += 1
            if n_hist == K + 1:
                loop[0] = m_act
                loop[1] = epoch - last_check
                loop[2] = cue_space
                loop[3] = dec_prev
                loop[4] = gap
                return epoch, c, n_hist, gap, m_act, True, state
    return epoch, c, n_hist, gap, m_act, False, state


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def csc_column_stats(data, indices, indptr, s, n_rows, fit_intercept, sq, wsum, constant,
                     out):
    """Per column of a CSC matrix, in one pass over it, into the caller's arrays,
    and whether it is canonical.

    ``sq``: sum of squares; ``wsum``: ``sum_i s[i] * value`` (``X~^T s``), the plain
    column sum when ``s`` is None (unit weights). With weights ``s``, ``out`` (the
    size of ``data``; None without weights) receives the row-scaled matrix on the
    way, ``out[k] = data[k] * s[row]`` (``diag(s) X``, the sample-weighted design),
    and both sums are of the scaled values.
    ``constant``: the column is constant, tested exactly on the unscaled stored
    values: all of them zero (or none stored), or, with ``fit_intercept``, all
    ``n_rows`` of them stored and equal (canonical input: no duplicates). Sums are
    reassociated so that LLVM vectorises them (0.06 vs 0.45 ms over 4 * 10^5 stored
    values, with a min / max per column for the constant test); the equality scan
    runs only on full columns. (``X.multiply(X).sum(0)`` would allocate.)

    Returns whether the matrix is canonical: the row indices strictly increase
    within each column (sorted, no duplicates). If not, the statistics are not
    meaningful (duplicates would count apart): sum the duplicates and call again.
    The test is one branch-free pass over all of ``indices`` counting the places
    where an index does not exceed its predecessor, minus the column starts (where
    a drop is a reset, not a fault): 15x faster than a test per column (0.024 vs
    0.36 ms over 4 * 10^5 stored values), which LLVM could not vectorise. It is
    part of this kernel, not one of its own, to save the cold-cache compile of a
    separate kernel (0.15-0.2 s).
    """
    p = indptr.shape[0] - 1
    nnz = np.int64(indptr[p])
    bad = 0
    for k in range(1, nnz):
        bad += np.int64(indices[k] <= indices[k - 1])
    for j in range(1, p):
        b0 = np.int64(indptr[j])
        if 0 < b0 < nnz and indptr[j + 1] > b0:  # the first entry of a non-empty column
            bad -= np.int64(indices[b0] <= indices[b0 - 1])
    for j in range(p):
        a = np.uint64(indptr[j])
        b = np.uint64(indptr[j + 1])
        acc = 0.0
        tot = 0.0
        nonzero = 0
        if s is None:
            for k in range(a, b):
                v = data[k]
                acc += v * v
                tot += v
                nonzero += np.int64(v != 0.0)
        else:
            for k in range(a, b):
                v = data[k]
                si = s[np.uint64(indices[k])]
                out[k] = v * si
                u = out[k]  # as stored (rounded to float32 for float32 data)
                acc += u * u
                tot += u * si
                nonzero += np.int64(v != 0.0)
        sq[j] = acc
        wsum[j] = tot
        const = nonzero == 0
        if not const and fit_intercept and np.int64(b - a) == n_rows:
            const = True
            ref = data[a]
            for k in range(a + np.uint64(1), b):
                if data[k] != ref:
                    const = False
                    break
        constant[j] = const
    return bad == 0


@njit(cache=True, nogil=True)
def dense_constant_columns(X, fit_intercept):
    """Columns of a dense ``X`` that are constant (all zero when not ``fit_intercept``).

    Compares every value of a column with its first (with 0) and stops at the first
    difference, so a non-constant column costs a couple of reads, unlike ``np.ptp``'s
    two full passes. Exact comparisons: a centred constant column must get a zero
    norm, not rounding noise.
    """
    n, p = X.shape
    out = np.zeros(p, dtype=np.bool_)
    for j in range(p):
        ref = X[0, j] if fit_intercept else 0.0
        same = True
        for i in range(n):
            if X[i, j] != ref:
                same = False
                break
        out[j] = same
    return out


@njit(cache=True, nogil=True)
def csc_dense_block(data, indices, indptr, cols, s, xbar_cols, r0, out):
    """Rows ``r0:r0 + out.shape[0]`` of the centred columns ``cols`` of a CSC matrix,
    ``x_j - xbar_j s``, written densely into ``out`` (float64, shape ``(rows,
    len(cols))``; pass ``xbar_cols = 0`` for no centring)."""
    rows = out.shape[0]
    for k in range(cols.shape[0]):
        j = cols[k]
        xb = xbar_cols[k]
        for i in range(rows):
            out[i, k] = -xb * s[r0 + i]
        for q in range(np.uint64(indptr[j]), np.uint64(indptr[j + 1])):
            i = np.int64(indices[q]) - r0
            if 0 <= i < rows:
                out[i, k] += data[q]
