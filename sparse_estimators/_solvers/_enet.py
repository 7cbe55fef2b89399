"""Outer loop of the elastic-net solver: working sets, gap-safe screening, stopping.

Knows no estimator: it takes a prepared :class:`Design` (centred, row-scaled,
CSC or Fortran-ordered) and a target, and calls the kernels in ``_kernels``.

References
----------
- J. Friedman, T. Hastie, R. Tibshirani, "Regularization paths for generalized
  linear models via coordinate descent", J. Stat. Softw. 33(1), 2010.
- M. Massias, A. Gramfort, J. Salmon, "Celer: a fast solver for the Lasso with dual
  extrapolation", ICML 2018 (working sets grown from the features that violate the
  optimality conditions, ranked by violation).
- T. Johnson, C. Guestrin, "Blitz: a principled meta-algorithm for scaling sparse
  optimization", ICML 2015.
- E. Ndiaye, O. Fercoq, A. Gramfort, J. Salmon, "Gap safe screening rules for
  sparsity enforcing penalties", JMLR 18, 2017 (sphere test used below).
- Q. Bertrand, M. Massias, "Anderson acceleration of coordinate descent",
  AISTATS 2021 (in the inner kernel).
- M. Osborne, B. Presnell, B. Turlach, "A new approach to variable selection in
  least squares problems", IMA J. Numer. Anal. 20(3), 2000 (the Lasso is a
  quadratic on each orthant: on a fixed support and signs its minimiser solves a
  linear system; the support Newton step below).
"""

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .. import _kernels as K

#: The inner solver stops when the working-set gap is this fraction of the full gap.
INNER_GAP_FRACTION = 0.3
#: Smallest working set.
WS_MIN = 10
#: When at least this share of the last working set ended non-zero, the next one is
#: WS_FAST_GROWTH times larger (instead of twice the support).
WS_FULL = 0.9
WS_FAST_GROWTH = 4
#: Violator count ratio between outer iterations read as "stable" (dense regime).
DENSE_STABLE = 0.8
#: Anderson extrapolation every this many epochs (0 disables it).
ANDERSON_K = 5
#: ... and only when the iterates contract by at least this ratio per epoch: where
#: they contract faster, the next epochs make the extrapolation's gain anyway, and
#: it was mostly rejected (measured over the benchmark's fits: 11 of 44 accepted at
#: step ratios under 0.5, 62-84 % above), a wasted epoch's worth of work each time.
ANDERSON_MIN_CONTRACTION = 0.5
#: The inner gap check (O(n_samples)) is spaced so that n_samples / nnz(ws) epochs
#: times this ratio pass between checks (and never fewer than ANDERSON_K + 1).
CHECK_COST_RATIO = 5.0
#: Support Newton step (see :func:`_support_newton`): tried when the coordinate
#: descent work predicted to reach ``tol`` exceeds NEWTON_GAIN times its cost.
NEWTON_GAIN = 3.0
#: Cost of one flop of the support Gram matrix (``dsyrk``) and of its Cholesky
#: factor, in units of one stored value streamed by a CD epoch. Measured on this
#: project's 2-core AMD EPYC VM: dsyrk 50-75 GFlop/s, dpotrf 18-50 GFlop/s, a
#: sparse epoch ~0.8 ns per stored value: 0.01-0.07. On the newer EPYC (znver5)
#: VM: the whole step (densify, dsyrk, dpotrf) on movielens_age's 437-feature
#: support 4.3 ms for 2.1e8 flops, an epoch 0.68 ns per stored value: 0.031, half
#: the 0.06 used before, which kept the step from firing where it then saves up to
#: 40 % of the fit (benchmarks/RESULTS.md).
NEWTON_FLOP_COST = 0.03
#: Cost of one element of a dense CD epoch in the same unit (contiguous, vectorised
#: column reads instead of gathers).
NEWTON_DENSE_ELEMENT = 0.12
#: Largest support the Newton step factorises, and the row block (bytes) in which
#: the support columns are densified for the Gram matrix.
NEWTON_MAX_SUPPORT = 3000
#: ... and no support above this fraction of n_samples: near n_samples the support
#: Gram matrix is close to singular and the support is rarely final (measured: 495
#: of 500 dense rows, every step cut short at a zero crossing).
NEWTON_MAX_SUPPORT_FRACTION = 0.8
NEWTON_BLOCK_BYTES = 32 << 20
#: Cost model of ``X^T r`` (:meth:`Design.gradient`), in units of one stored value:
#: the column dots pay this much more per column, the CSR scatter per row (fitted
#: on this project's 2-core AMD EPYC VM: ~6.7 ns per column, ~4.7 ns per row, ~0.4
#: ns per stored value either way).
GRAD_COL_COST = 17
GRAD_ROW_COST = 12
#: ... and only once the last working set was nearly the support: at most this many
#: support-plus-violators per support feature (earlier, the gap is the features
#: still to enter, which a step on the support does not reduce).
NEWTON_WS_SLACK = 1.25
#: Newton steps whose Gram matrix is new (not a refinement on the same support and
#: signs) at most per solve.
NEWTON_MAX_BUILDS = 3


class Design:
    """A design matrix prepared for the quadratic CD kernels.

    The weighted least-squares problem with an unpenalised intercept is turned into
    an intercept-free problem on ``Xc = diag(s) (X - 1 xbar^T)``, ``s =
    sqrt(sample_weight)``. Dense ``X`` is centred and scaled explicitly into a
    Fortran-ordered copy (only when needed); sparse ``X`` is never densified: it is
    held as CSC of ``diag(s) X`` and centred implicitly by the kernels. CSR input
    with short columns is also kept, by reference, for :meth:`gradient`.

    Parameters
    ----------
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        Validated, finite, float32 or float64. Never modified.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights with a positive sum (the estimators normalise theirs to
        sum to ``n_samples``; proximal Newton passes curvatures as they are).
    fit_intercept : bool
        Whether to centre (an unpenalised intercept).
    """

    def __init__(self, X, sample_weight, fit_intercept):
        n_samples, n_features = X.shape
        dtype = X.dtype
        self.dtype = dtype
        self.shape = X.shape
        self.fit_intercept = fit_intercept
        self.is_sparse = sp.issparse(X)
        if sample_weight is None:
            self.s = np.ones(n_samples)
            self.sw = None
        else:
            self.sw = np.asarray(sample_weight, dtype=np.float64)
            self.s = np.sqrt(self.sw)
        self.W = float(n_samples if sample_weight is None else np.sum(self.sw, dtype=np.float64))
        if self.is_sparse:
            Xc = X.tocsc()
            sq, wsum = np.empty(n_features), np.empty(n_features)
            constant = np.empty(n_features, dtype=bool)
            s_arg = None if sample_weight is None else self.s
            for _ in range(2):
                # the sample-weighted design diag(s) X goes to a new data array
                # (never the caller's), scaled in the statistics pass
                data = None if sample_weight is None else np.empty_like(Xc.data)
                if K.csc_column_stats(Xc.data, Xc.indices, Xc.indptr, s_arg, n_samples,
                                      fit_intercept, sq, wsum, constant, data):
                    break
                # unsorted or duplicate entries (the statistics are void: duplicates
                # count apart): sum them on a private copy, and recompute
                if Xc is X:
                    Xc = X.copy()
                Xc.sum_duplicates()
            self.data = Xc.data if data is None else data
            self.indices, self.indptr = Xc.indices, Xc.indptr
            self.col_nnz = np.diff(Xc.indptr)
            # CSR input is kept as well (a reference, not a copy) where a scatter over
            # its rows computes X^T r faster than the column dots: short columns
            self.rows, self._rows_cost = None, np.inf
            rows_cost = X.nnz + GRAD_ROW_COST * n_samples + n_features
            if X.format == "csr" and X.nnz + GRAD_COL_COST * n_features > rows_cost:
                self.rows, self._rows_cost = (X.data, X.indices, X.indptr), rows_cost
            self.X = None
            if fit_intercept:
                # X~^T s = X^T sw, so the weighted column means are X~^T s / W.
                self.x_offset = wsum / self.W
                norms = sq - self.W * self.x_offset**2
            else:
                self.x_offset = np.zeros(n_features)
                norms = sq
            self.xbar = self.x_offset
        else:
            self.data = self.indices = self.indptr = None
            self.col_nnz, self.rows, self._rows_cost = None, None, np.inf
            if n_samples == 0:
                constant = np.ones(n_features, dtype=bool)
            else:
                constant = K.dense_constant_columns(X, fit_intercept)
            if fit_intercept:
                if sample_weight is None:
                    self.x_offset = X.mean(axis=0, dtype=np.float64)
                else:
                    self.x_offset = (self.sw @ X) / self.W
            else:
                self.x_offset = np.zeros(n_features)
            if fit_intercept or sample_weight is not None or not X.flags.f_contiguous:
                # one pass writes the centred, row-scaled Fortran copy
                Xd = np.empty((n_samples, n_features), dtype=dtype, order="F")
                np.subtract(X, self.x_offset.astype(dtype), out=Xd)
                if sample_weight is not None:
                    Xd *= self.s[:, None].astype(dtype)
            else:
                Xd = X  # already Fortran-ordered and used as is
            self.X = Xd
            norms = np.einsum("ij,ij->j", self.X, self.X, dtype=np.float64)
            self.xbar = np.zeros(n_features)
        # Constant columns are zero once centred; detected exactly on the caller's
        # values, since rounding leaves float32 noise in their computed norm.
        norms[constant] = 0.0
        self.norms = np.maximum(norms, 0.0)

    # -- targets ---------------------------------------------------------------
    def center_target(self, y):
        """Return ``(yc, y_offset)`` with ``yc = s * (y - y_offset)`` for a 1-D ``y``."""
        return center_target(y, self.sw, self.W, self.fit_intercept)

    def intercept(self, w, y_offset):
        """Intercept of the original problem for coefficients ``w``."""
        if not self.fit_intercept:
            return 0.0
        return y_offset - float(np.sum(self.x_offset * w))

    # -- kernel plumbing -------------------------------------------------------
    @property
    def kernel_args(self):
        """``(X, data, indices, indptr, xbar)``: how kernels see the design.

        Dense designs pass ``data = indices = indptr = None``, sparse ones
        ``X = None``: the kernels specialise on that at compile time.
        """
        return (self.X, self.data, self.indices, self.indptr, self.xbar)

    def gradient(self, feats, rt, c, out, nnz=None):
        """``out[k] = Xc_j^T r`` for ``j = feats[k]`` at the residual ``(rt, c)``.

        By column dot products (:func:`K.gradient`), or, for CSR input where a scatter
        over all rows is predicted cheaper, by :func:`K.csr_gradient`. ``nnz``: the
        stored values of the columns ``feats`` (computed when not given).
        """
        if self.rows is not None:
            if nnz is None:
                nnz = int(np.sum(self.col_nnz[feats]))
            if nnz + GRAD_COL_COST * feats.shape[0] > self._rows_cost:
                v = rt if self.sw is None else self.s * rt
                return K.csr_gradient(*self.rows, self.xbar, self.W, feats, v, c,
                                      np.empty(self.shape[1]), out)
        return K.gradient(*self.kernel_args, self.W, feats, rt, c, out)

    def correlation(self, r_target):
        """``Xc^T yc`` for a centred target (used for ``alpha_max``)."""
        p = self.shape[1]
        return self.gradient(np.arange(p), r_target, 0.0, np.empty(p))


def center_target(y, sample_weight, W, fit_intercept):
    """``(yc, y_offset)``: the float64 target centred on its (weighted) mean when
    ``fit_intercept``, and row-scaled, ``yc = sqrt(sample_weight) * (y - y_offset)``;
    ``W`` is the total weight. Shared by :class:`Design` and the GPU path's design
    (``sparse_estimators.gpu``), so that both solve the same centred problem."""
    y = np.asarray(y)
    if fit_intercept:
        if sample_weight is None:
            y_offset = float(np.mean(y, dtype=np.float64))
        else:
            y_offset = float(sample_weight @ y.astype(np.float64)) / W
    else:
        y_offset = 0.0
    yc = y.astype(np.float64) - y_offset
    if sample_weight is not None:
        yc *= np.sqrt(sample_weight)
    return yc, y_offset


def gap_tolerance(yc, tol, W):
    """scikit-learn's stopping threshold ``tol * ||yc||^2 / W`` on the duality gap.

    (``np.sum`` rather than ``np.dot``: a BLAS level-1 call wakes the BLAS thread
    pool, which stalls for milliseconds when the cores are busy.)
    """
    return tol * float(np.sum(yc * yc)) / W


def alpha_max(design, yc, l1_ratio=1.0, positive=False):
    """Smallest ``alpha`` for which the normalised elastic net has ``w = 0``.

    ``design``: a :class:`Design`, or any object with its ``W`` and
    ``correlation(yc)`` (the GPU path's device design computes ``Xc^T yc`` there).
    """
    corr = design.correlation(yc)
    top = np.max(corr) if positive else np.max(np.abs(corr))
    return max(float(top), 0.0) / (design.W * l1_ratio)


def support_gram(design, S):
    """``Xc_S^T Xc_S`` in float64 (lower triangle filled; the upper is not read).

    The support's columns are densified, centred and accumulated in row blocks of
    at most ``NEWTON_BLOCK_BYTES`` (BLAS ``dsyrk``), so memory stays bounded
    whatever ``n_samples``.
    """
    n = design.shape[0]
    m = S.shape[0]
    rows = min(n, max(1, NEWTON_BLOCK_BYTES // (8 * m)))
    xbar = design.xbar[S] if design.is_sparse else None
    G = np.zeros((m, m), order="F")
    B = np.empty((rows, m), order="F") if design.is_sparse else None
    for r0 in range(0, n, rows):
        r1 = min(n, r0 + rows)
        if design.is_sparse:
            K.csc_dense_block(design.data, design.indices, design.indptr, S, design.s,
                              xbar, r0, B[:r1 - r0])
            block = B[:r1 - r0]
        else:
            block = np.asfortranarray(design.X[r0:r1, S], dtype=np.float64)
        G = sla.blas.dsyrk(1.0, block, beta=1.0, c=G, trans=1, lower=1, overwrite_c=1)
    return G


_BLAS = []  # the process's ThreadpoolController, made on first use


def _single_thread_blas():
    """Context limiting BLAS to one thread (the Gram matrix and its factor).

    With OpenBLAS's default of one thread per core, a ``dsyrk`` of a few hundred
    columns took 100 ms instead of 20 ms whenever the other core of this
    project's 2-core VM was busy (the threads spin-wait on each other); one
    thread is slower only by the parallel speed-up, and never stalls.
    """
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


def _orthant(w, positive):
    """Support of ``w`` and its signs (all +1 when ``positive``)."""
    S = np.flatnonzero(w)
    return S, (np.ones(S.shape[0]) if positive else np.sign(w[S]))


def _has_factor(cache, S, sign):
    """Whether ``cache`` holds the Newton factor of support ``S`` with signs ``sign``."""
    return (cache.get("S") is not None and np.array_equal(cache["S"], S)
            and np.array_equal(cache["sign"], sign))


def _objective(rn, w, l1, l2):
    """Unnormalised elastic-net objective from ``rn = ||r||^2``."""
    return 0.5 * rn + l1 * np.sum(np.abs(w)) + 0.5 * l2 * np.dot(w, w)


def newton_cost(n, m):
    """Predicted cost of a new support Newton step, in CD stored-value units."""
    return NEWTON_FLOP_COST * (n * m * m + m ** 3 / 3.0) + 2.0 * n * m


def _support_newton(design, w, S, sign, grad_S, l1, l2, cache):
    """Candidates from a Newton step on the support ``S`` of ``w``, signs ``sign``
    fixed (:func:`_orthant`).

    On the orthant of the current signs the objective is the smooth quadratic
    ``1/2 ||r||^2 + l1 sign^T w_S + l2/2 ||w_S||^2``; its minimiser is one
    step away: ``w_S + H^{-1} (Xc_S^T r - l2 w_S - l1 sign)`` with ``H = Xc_S^T
    Xc_S + l2 I`` (Osborne, Presnell & Turlach 2000). Written as a correction
    from the current point, repeated steps with the same factor refine the
    solution to working precision. Where the step crosses zero, it is cut at the
    first crossing and that coordinate set to 0: the objective decreases all along
    the segment inside the orthant. ``cache`` keeps the last factor (support,
    signs, Cholesky); the caller checks the decrease exactly. ``grad_S`` is
    ``Xc_S^T r`` at ``w``.

    Returns ``(candidates, built)``: the points to try in turn (the step
    projected on the orthant, which zeroes every crossing coordinate and often
    goes further, then the step cut at the first crossing; empty when ``H`` is not
    positive definite), and whether a new factor was computed.
    """
    wS = w[S]
    built = not _has_factor(cache, S, sign)
    if built:
        with _single_thread_blas():
            G = support_gram(design, S)
            G[np.diag_indices_from(G)] += l2
            try:
                cache["factor"] = sla.cho_factor(G, lower=True, overwrite_a=True,
                                                 check_finite=False)
            except (np.linalg.LinAlgError, ValueError):
                cache.clear()
                return [], built
        cache["S"], cache["sign"] = S, sign
    step = sla.cho_solve(cache["factor"], grad_S - l2 * wS - l1 * sign,
                         check_finite=False)
    if not np.all(np.isfinite(step)):
        cache.clear()
        return [], built
    new = wS + step
    cross = new * sign <= 0.0
    steps = [np.where(cross, 0.0, new)]
    if cross.any():
        t = -wS[cross] / step[cross]  # in (0, 1]: the first zero crossing
        k = np.argmin(t)
        cut = wS + t[k] * step
        cut[np.flatnonzero(cross)[k]] = 0.0
        cut[cut * sign < 0.0] = 0.0  # rounding at other crossings at the same t
        steps.append(cut)
    out = []
    for new in steps:
        cand = w.copy()
        cand[S] = new
        out.append(cand)
    return out, built


def _inner_solve(design, yc, ws, w, rt, c, l1, l2, positive, max_epochs, tol, every,
                 dw_tol, hist, n_hist, shuffle, seed, dec_cue, screen, order, work):
    """:func:`K.enet_inner` on ``ws``, with the Anderson extrapolations it asks for
    (:func:`K.anderson_step`, a kernel of its own so that numba compiles it only
    once a fit extrapolates). Returns ``(n_epochs, c, n_hist, gap, m_act)``."""
    kargs = design.kernel_args
    state = np.uint64(seed)
    resume = False
    n_epochs = 0
    while True:
        epochs, c, n_hist, gap, m_act, extrapolate, state = K.enet_inner(
            *kargs, design.W, design.s, yc, design.norms, ws, w, rt, c, l1, l2,
            positive, max_epochs - n_epochs, tol, every, dw_tol, hist, n_hist,
            True if shuffle else None, np.uint64(state), dec_cue, screen, order, work, resume)
        n_epochs += epochs
        if not extrapolate:
            return n_epochs, c, n_hist, gap, m_act
        if _contraction(hist) >= ANDERSON_MIN_CONTRACTION:
            c = K.anderson_step(*kargs, design.s, yc, ws, w, rt, c, l1, l2, positive,
                                hist, work)
        n_hist, resume = 0, True


def _contraction(hist):
    """``||w_K - w_{K-1}|| / ||w_{K-1} - w_{K-2}||`` over the last iterates of
    ``hist`` (1 when there are fewer than three, or the older step is zero)."""
    if hist.shape[0] < 3:
        return 1.0
    d1 = hist[-1] - hist[-2]
    d0 = hist[-2] - hist[-3]
    n0 = float(np.sum(d0 * d0))
    return float(np.sqrt(np.sum(d1 * d1) / n0)) if n0 > 0.0 else 1.0


def _difference(a, b, p):
    """Sorted indices in ``a`` and not in ``b`` (``b`` a subset of ``a``, both within
    ``[0, p)``): a mask, 2-4x cheaper than ``np.setdiff1d``'s sort (0.08 vs 0.15 ms
    on 2 * 10^4 indices)."""
    mask = np.zeros(p, dtype=bool)
    mask[a] = True
    mask[b] = False
    return np.flatnonzero(mask)


def _inner_certificate(design, yc, w, rt, c, l1, l2, positive, ws, order, m_act, work):
    """The duality gap over all of ``ws`` at the end of :func:`K.enet_inner`, from
    its last check: the gradient it left in ``work`` for the ``m_act`` features
    ``order[:m_act]`` that its screening kept, plus that of the features it
    screened out, computed here at the same residual (``O(n_samples)`` and their
    stored values, not a pass over ``X``)."""
    m = ws.shape[0]
    act = order[:m_act]
    grad = work[2 * m:2 * m + m_act]          # enet_inner's layout of ``work``
    rn, ry = K.residual_stats(rt, c, design.s, yc)
    return _completed_gap(design, rt, c, rn, ry, w, l1, l2, positive, act, grad, ws)


def _completed_gap(design, rt, c, rn, ry, w, l1, l2, positive, known, g_known, full):
    """Duality gap over the features ``full`` at residual ``(rt, c)`` (``rn, ry``:
    :func:`K.residual_stats`), given the gradient ``g_known`` of its subset
    ``known`` at that residual: only the others' gradient is computed (their stored
    values, not a pass over ``X``)."""
    if known.shape[0] < full.shape[0]:
        out = _difference(full, known, design.shape[1])
        g_out = design.gradient(out, rt, c, np.empty(out.shape[0]))
        known = np.concatenate([known, out])
        g_known = np.concatenate([g_known, g_out])
    return K.enet_gap(l1, l2, positive, rn, ry, g_known, w[known],
                      design.norms[known])[0]


def enet_solve(design, yc, w, l1, l2, *, positive=False, tol=1e-4, max_iter=1000,
               screening=True, shuffle=False, seed=0, verbose=0, dw_tol=1e-4,
               initial_gap_fraction=None, newton=True):
    """Minimise ``1/2 ||yc - Xc w||^2 + l1 ||w||_1 + l2/2 ||w||^2`` from ``w``.

    Working-set coordinate descent: every outer iteration computes the gradient
    and duality gap over the candidate features (the stopping certificate),
    discards features with the gap-safe sphere test (Ndiaye et al. 2017, their eq.
    for the elastic net), and solves the problem restricted to the current support
    plus the features that violate the optimality conditions most (Massias et al.
    2018), ranked by violation, to a fraction of the current gap. Screened features
    are not re-entered; the gap of the problem restricted to the candidates bounds
    the full problem's suboptimality (see the code), and the gap returned is the
    full one, checked once at the end. On tall problems whose solution turns out
    dense (most candidates keep violating after a first working set) working sets
    are dropped for plain CD over all candidates to the final tolerance (the
    "dense regime", see the code).

    Where coordinate descent converges slowly (an ill-conditioned support, e.g.
    ratings or dense correlated columns) the solver jumps with a Newton step on
    the current support and signs (:func:`_support_newton`): tried when the
    epochs that the gap decrease between outer iterations predicts, times the
    working set's stored values, exceed ``NEWTON_GAIN`` times the cost of the
    support's Gram matrix and Cholesky factor, and kept only when the objective,
    recomputed from the residual, decreases.

    Parameters
    ----------
    design : Design
    yc : ndarray of shape (n_samples,)
        Centred, row-scaled float64 target (:meth:`Design.center_target`).
    w : float64 ndarray of shape (n_features,)
        Start point; updated in place and returned.
    l1, l2 : float
        Unnormalised penalties (``n_samples * alpha * l1_ratio`` and
        ``n_samples * alpha * (1 - l1_ratio)``).
    tol : float
        Absolute tolerance on the duality gap.
    max_iter : int
        Maximum number of coordinate-descent epochs (over working sets).
    dw_tol : float
        An epoch whose largest update is below ``dw_tol`` times the largest
        coefficient triggers a gap check (scikit-learn's cue); pass the relative tol.
    initial_gap_fraction : float or None
        Also stop once the gap is this fraction of the gap at ``w`` (the inexact
        subproblem solves of proximal Newton).
    newton : bool
        Allow support Newton steps (the cost model decides when).

    Returns
    -------
    w : ndarray
    gap : float
        Duality gap of the unnormalised problem at ``w``.
    n_epochs : int
    converged : bool
    """
    n, p = design.shape
    kargs = design.kernel_args
    s, norms = design.s, design.norms
    # Residual and coefficients are float64 even for float32 data: a float32
    # residual drifts by rounding at every update and CD converges to a wrong point.
    rt = np.empty(n)
    work = np.empty(K.inner_work_size(p, ANDERSON_K))  # inner solver's buffers
    order = np.empty(p, dtype=np.int64)
    hist = prev_ws = None  # Anderson history, kept while the working set is unchanged
    col_nnz = design.col_nnz
    n_hist = 0
    c = K.residual(*kargs, yc, w, rt)
    # The candidates, as sorted feature indices: features that may be non-zero at
    # the optimum. Zero (or constant, when centred) columns never are, and gap-safe
    # screening removes more. The gradient, the gap and the violations are computed
    # over the candidates only: the gap of the problem restricted to them bounds the
    # suboptimality of the full one, since the two have the same minimum (screened
    # features are zero at the optimum) and the same objective at any w that is zero
    # off the candidates (Ndiaye et al. 2017, dynamic screening). Once screening has
    # removed most features, an outer iteration no longer costs a pass over X.
    # Screening decides from a floating-point gap, so before returning, the gap over
    # every feature is computed once: it is the gap reported, and should it exceed
    # tol (a feature screened wrongly), all features come back and screening stops.
    base = np.flatnonzero(norms > 0.0)
    cand = base
    nnz_cand = (-1, None)  # (number of candidates, their stored values), CSR only
    if cand.shape[0] < p:
        off = np.ones(p, dtype=bool)
        off[cand] = False
        if np.any(w[off] != 0.0):
            w[off] = 0.0
            c = K.residual(*kargs, yc, w, rt)
    norms_c = norms[cand]
    grad = np.empty(p)
    # screen_violations' outputs: the candidates once screened, and the scores
    cand_buf, norms_buf = np.empty(p, dtype=np.int64), np.empty(p)
    score_buf, viol_buf = np.empty(p), np.empty(p, dtype=np.int64)
    kept_buf = np.empty(p, dtype=np.bool_)
    n_epochs = 0
    gap = np.inf
    it = 0
    ws = None
    dense_regime = False
    prev_viol = 0
    epoch_cost = 0.0
    settled = False  # the last working set was (nearly) the support
    prev_point = None  # (n_epochs, gap) at the previous outer iteration
    newton_cache = {}
    newton_builds = 0
    newton_ok = newton and l1 > 0.0
    while True:
        n_cand = cand.shape[0]
        if design.rows is not None and nnz_cand[0] != n_cand:  # for the layout choice
            nnz_cand = (n_cand, int(np.sum(col_nnz[cand])))
        g = design.gradient(cand, rt, c, grad[:n_cand], nnz_cand[1])
        w_c = w if n_cand == p else w[cand]
        rn, ry = K.residual_stats(rt, c, s, yc)
        gap, dual_norm = K.enet_gap(l1, l2, positive, rn, ry, g, w_c, norms_c)
        if it == 0 and initial_gap_fraction is not None:
            tol = min(tol, initial_gap_fraction * gap)
        if verbose:
            print(f"[enet] outer {it}: gap {gap:.3e} (tol {tol:.3e}), "
                  f"{np.count_nonzero(w)} non-zeros, {n_epochs} epochs")
        if gap <= tol or n_epochs >= max_iter:
            if n_cand == base.shape[0]:
                break
            # the gradient over cand is g, at this residual: only the screened-out
            # features need theirs (not a second pass over all of X)
            gap = _completed_gap(design, rt, c, rn, ry, w, l1, l2, positive, cand, g,
                                 base)
            if gap <= tol or n_epochs >= max_iter:
                break
            cand, norms_c, screening = base, norms[base], False
            continue
        if newton_ok and settled and prev_point is not None and n_epochs > prev_point[0]:
            # epochs still needed at the gap's decrease rate per epoch since the last
            # outer iteration (no prediction, and no step, when the gap rose)
            slope = np.log(gap / prev_point[1]) / (n_epochs - prev_point[0])
            remaining = 0.0
            if slope < 0.0:
                remaining = float(max_iter - n_epochs)
                if tol > 0.0:   # tol=0: never reached, all the epochs left
                    remaining = min(remaining, np.log(tol / gap) / slope)
            S, sign = _orthant(w, positive)
            m = S.shape[0]
            same = _has_factor(newton_cache, S, sign)
            cost = float(m * m) if same else newton_cost(n, m)
            if (0 < m <= min(NEWTON_MAX_SUPPORT_FRACTION * n, NEWTON_MAX_SUPPORT)
                    and (same or newton_builds < NEWTON_MAX_BUILDS)
                    and remaining * epoch_cost > NEWTON_GAIN * cost):
                # the support is within the candidates: its gradient is in g
                g_S = g[np.searchsorted(cand, S)]
                cands, built = _support_newton(design, w, S, sign, g_S, l1, l2,
                                               newton_cache)
                newton_builds += built
                rt_new = np.empty(n)
                accepted = False
                p_old = _objective(rn, w, l1, l2)
                for point in cands:
                    c_new = K.residual(*kargs, yc, point, rt_new)
                    p_new = _objective(K.residual_stats(rt_new, c_new, s, yc)[0], point,
                                       l1, l2)
                    if p_new < p_old:
                        accepted = True
                        break
                    # the projected step did not decrease: the support is not final,
                    # and the cut step (kept if it decreases) makes little headway
                    newton_ok = False
                if verbose:
                    print(f"        support Newton on {m} features "
                          f"({'new factor' if built else 'same factor'}): "
                          f"{'accepted' if accepted else 'rejected'}")
                if accepted:
                    w[:] = point
                    rt, c = rt_new, c_new
                    hist = None  # extrapolating across the jump would mix two regimes
                    prev_point = None
                    it += 1
                    continue
        prev_point = (n_epochs, gap)
        if l1 == 0.0:
            ws = cand
        else:
            # gap-safe screening, then the violation scores of the candidates kept
            # (+inf on the support), in one pass; compacted into the solver's own
            # buffers (base is not to be modified)
            if cand is base:
                cand_o, norms_o = cand_buf, norms_buf
            else:
                cand_o, norms_o = cand, norms_c
            m, n_supp, n_viol, zeroed = K.screen_violations(
                cand, g, w, norms_c, l1, l2, positive, gap, dual_norm,
                screening and gap < np.inf, cand_o, norms_o, score_buf, viol_buf,
                kept_buf)
            if m < n_cand:  # (else cand is unchanged, and stays base if it was)
                cand, norms_c, n_cand = cand_o[:m], norms_o[:m], m
            if zeroed:
                c = K.residual(*kargs, yc, w, rt)
            score, viol = score_buf[:m], viol_buf[:n_viol]
            size = max(WS_MIN, 2 * n_supp)
            if ws is not None and n_supp >= WS_FULL * ws.shape[0]:
                # the last working set came back (almost) all non-zero: it was too
                # small, so grow faster than the support doubling
                size = max(size, WS_FAST_GROWTH * ws.shape[0])
            # viol: the violators (support included: its score is +inf), as indices
            # into cand; the working set is the n_take of them that violate most
            # Dense regime: a tall problem (n_samples >= candidates, so the support
            # is not capped by n_samples) where, after a first working set, at least
            # half of the candidates still violate the optimality conditions and
            # that count barely moved. There the solution is dense (measured on a
            # 20000 x 2000 CSR: 1464 -> 1317 violators for a 1153-feature support;
            # a 30-feature support showed 1346 -> 982 -> 30), growing working sets
            # only adds outer passes over X, and plain CD over all candidates to the
            # final tolerance (scikit-learn's algorithm, plus Anderson) wins.
            dense_regime = dense_regime or (
                it >= 1 and n >= n_cand and 2 * n_viol >= n_cand
                and n_viol >= DENSE_STABLE * prev_viol)
            prev_viol = n_viol
            settled = 0 < n_viol <= NEWTON_WS_SLACK * n_supp
            if dense_regime:
                n_viol = size = n_cand
            n_take = min(size, n_viol)
            if verbose:
                print(f"        support {n_supp}, support + violators {n_viol}, "
                      f"candidates {n_cand}, working set {n_take}")
            if n_take == 0:
                if n_cand < base.shape[0]:  # the full gap decides (as when gap <= tol)
                    cand, norms_c, screening = base, norms[base], False
                    continue
                break  # nothing violates optimality: w is optimal to working precision
            if n_take == n_cand:
                # (a copy, not a view of the buffer that later compactions rewrite)
                ws = cand if cand is base else cand.copy()
            elif n_take == n_viol:
                ws = cand[viol]  # sorted, as cand is
            else:
                # partial selection among the violators only (not all candidates:
                # 0.15 ms per outer iteration on 20000 candidates)
                top = np.argpartition(score[viol], n_viol - n_take)[n_viol - n_take:]
                ws = cand[viol[np.sort(top)]]
        if ws.shape[0] == 0:
            break
        # The inner gap costs O(n_samples): check it every `every` epochs so that
        # it stays a small fraction of the epochs' O(nnz of ws) work.
        nnz_ws = int(np.sum(col_nnz[ws])) if col_nnz is not None else n * ws.shape[0]
        epoch_cost = nnz_ws if col_nnz is not None else NEWTON_DENSE_ELEMENT * nnz_ws
        every = max(ANDERSON_K + 1, int(np.ceil(CHECK_COST_RATIO * n / max(nnz_ws, 1))))
        if hist is None or not np.array_equal(ws, prev_ws):
            # Anderson acceleration only where an epoch streams at least n_samples
            # stored values: its objective test costs O(n_samples)
            k_acc = ANDERSON_K if nnz_ws >= n else 0
            hist, n_hist, prev_ws = np.empty((k_acc + 1, ws.shape[0])), 0, ws
        epochs, c, n_hist, inner_gap, m_act = _inner_solve(
            design, yc, ws, w, rt, c, l1, l2, positive, max_iter - n_epochs,
            tol if dense_regime else INNER_GAP_FRACTION * gap, every, dw_tol, hist,
            n_hist, shuffle, seed + it, dense_regime, screening, order[:ws.shape[0]],
            work)
        n_epochs += epochs
        it += 1
        if dense_regime and inner_gap <= tol and ws is cand and n_cand == base.shape[0]:
            # The inner solve ran over every feature that can be non-zero and its
            # last check certified tol at this w: completed by the gradient of the
            # features it screened out, that check is the outer iteration's, whose
            # resynchronisation and full gradient pass (1.6 passes over X, 6-9% of
            # a dense-regime fit) would only repeat it.
            full_gap = _inner_certificate(design, yc, w, rt, c, l1, l2, positive,
                                          ws, order, m_act, work)
            if full_gap <= tol:
                gap = full_gap
                break
        # re-synchronise the residual with w (cheap: O(nnz of the support))
        c = K.residual(*kargs, yc, w, rt)
    return w, gap, n_epochs, gap <= tol


def enet_path_solve(design, yc, alphas, l1_ratio, *, coef_init=None, positive=False,
                    tol=1e-4, max_iter=1000, screening=True, shuffle=False, seed=0,
                    verbose=0):
    """Solve the normalised elastic net along ``alphas`` with warm starts.

    The objective at each ``alpha`` is scikit-learn's::

        1/(2 W) ||yc - Xc w||^2 + alpha * l1_ratio ||w||_1
            + alpha * (1 - l1_ratio)/2 ||w||^2

    with ``W`` the total sample weight (``n_samples`` when unweighted). ``tol`` is
    relative, as in scikit-learn: a fit stops once its duality gap (unnormalised)
    is ``<= tol * ||yc||^2``. Each solution starts from the previous one, so the
    working set at the next ``alpha`` begins at the previous support.

    Returns
    -------
    coefs : ndarray of shape (n_features, n_alphas), design dtype
    gaps : ndarray of shape (n_alphas,)
        Duality gaps divided by ``W`` (the scale of the normalised objective).
    n_iters : list of int
    converged : ndarray of bool
    """
    n_features = design.shape[1]
    alphas = np.asarray(alphas, dtype=np.float64)
    coefs = np.empty((n_features, alphas.shape[0]), dtype=design.dtype)
    gaps = np.empty(alphas.shape[0])
    converged = np.empty(alphas.shape[0], dtype=bool)
    n_iters = []
    if coef_init is None:
        w = np.zeros(n_features)
    else:
        w = np.array(coef_init, dtype=np.float64, copy=True)
        if positive:
            np.maximum(w, 0.0, out=w)  # an infeasible start would be kept as is
    tol_abs = gap_tolerance(yc, tol, 1.0)
    for i, alpha in enumerate(alphas):
        l1 = alpha * l1_ratio * design.W
        l2 = alpha * (1.0 - l1_ratio) * design.W
        w, gap, n_ep, conv = enet_solve(
            design, yc, w, l1, l2, positive=positive, tol=tol_abs, max_iter=max_iter,
            screening=screening, shuffle=shuffle, seed=seed, verbose=verbose, dw_tol=tol,
        )
        coefs[:, i] = w
        gaps[i] = gap / design.W
        converged[i] = conv
        n_iters.append(n_ep)
    return coefs, gaps, n_iters, converged


def alpha_grid(design, yc, *, l1_ratio=1.0, eps=1e-3, n_alphas=100, positive=False):
    """Geometric grid from ``alpha_max`` down to ``eps * alpha_max`` (as scikit-learn)."""
    amax = alpha_max(design, yc, l1_ratio=l1_ratio, positive=positive)
    res = np.finfo(np.float64).resolution
    if amax <= res:
        return np.full(n_alphas, res)
    return np.geomspace(amax, amax * eps, num=n_alphas)
