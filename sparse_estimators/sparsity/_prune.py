"""Pruning masks: magnitude (global, per slice), N:M structured and block pruning.

Every mask function returns the *kept* positions: a boolean ndarray of ``W``'s shape
for dense ``W``, a boolean CSR matrix for sparse ``W`` (sparse weights are never
densified). Ties are broken towards the lower flat index, so masks are deterministic.
"""

import copy
import numbers

import numpy as np
import scipy.sparse as sp

from .._kernels._nm import nm_select
from ..utils._validation import check_sparse_structure

#: Weight attributes looked up on fitted estimators, in order. ``coefs_`` is the list
#: of layer matrices of scikit-learn's MLP estimators.
WEIGHT_ATTRIBUTES = ("coef_", "components_", "coefs_")

PATTERNS = ("unstructured", "n:m", "block")


def check_weights(W, name="W"):
    """Validate a weight array: a non-empty, finite numeric ndarray (``ndim >= 1``)
    or a 2-D scipy sparse matrix (returned as canonical CSR). Never copies dense
    input that is already an ndarray of a float dtype."""
    if sp.issparse(W):
        if W.ndim != 2:
            raise ValueError(f"{name} must be 2-D when sparse, got ndim={W.ndim}.")
        W = sp.csr_matrix(check_sparse_structure(W, name))
        if W.dtype.kind not in "biuf":
            raise TypeError(f"{name} must have a real numeric dtype, got {W.dtype}.")
        if not W.has_canonical_format:
            W = W.copy()
            W.sum_duplicates()
        if not np.all(np.isfinite(W.data)):
            raise ValueError(f"{name} contains NaN or infinity.")
        if W.shape[0] * W.shape[1] == 0:
            raise ValueError(f"{name} is empty (shape {W.shape}).")
        return W
    try:
        arr = np.asarray(W)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array-like of numbers: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_):
        raise TypeError(f"{name} must have a real numeric dtype, got {arr.dtype}.")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got {arr.dtype}.")
    if arr.ndim == 0:
        raise ValueError(f"{name} must be at least 1-D, got a scalar.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}).")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return arr


def _check_sparsity(sparsity):
    if (isinstance(sparsity, bool) or not isinstance(sparsity, numbers.Real)
            or not 0.0 <= sparsity <= 1.0):
        raise ValueError(f"sparsity must be a float in [0, 1], got {sparsity!r}.")
    return float(sparsity)


def _check_nm(n, m):
    for name, v in (("n", n), ("m", m)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}.")
    if n > m:
        raise ValueError(f"n must be at most m, got n={n}, m={m}.")
    if m > 256:
        raise ValueError(f"m must be at most 256 (positions are stored as uint8), got {m}.")
    return int(n), int(m)


def _check_axis(axis, ndim):
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise ValueError(f"axis must be an integer or None, got {axis!r}.")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for an array of dimension {ndim}.")
    return int(axis) % ndim


def _check_scores(scores, shape):
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != tuple(shape):
        raise ValueError(f"scores must have shape {tuple(shape)}, got {scores.shape}.")
    if np.any(np.isnan(scores)):
        raise ValueError("scores contains NaN.")
    return scores


def n_pruned(sparsity, size):
    """Number of entries a ``sparsity`` fraction prunes out of ``size``:
    ``floor(sparsity * size)`` (the achieved sparsity never exceeds the target)."""
    return int(np.floor(sparsity * size + 1e-9))


def _top_k_flat(scores, k):
    """Boolean mask of the ``k`` largest entries of the 1-D ``scores`` (stable:
    equal scores keep the lower index)."""
    keep = np.zeros(scores.shape[0], dtype=bool)
    if k > 0:
        keep[np.argsort(-scores, kind="stable")[:k]] = True
    return keep


def _rank_in_groups(groups, scores):
    """Rank (0 = largest score) of each entry among the entries of its group;
    equal scores rank the earlier entry first."""
    order = np.lexsort((-scores, groups))          # by group, then decreasing score
    g_sorted = groups[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g_sorted)) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, g_sorted.shape[0]]))
    rank = np.empty(groups.shape[0], dtype=np.int64)
    rank[order] = np.arange(groups.shape[0]) - run_start
    return rank


def _sparse_mask(W, keep):
    """Boolean CSR with ``W``'s sparsity structure, True where ``keep``."""
    M = sp.csr_matrix((keep, W.indices.copy(), W.indptr.copy()), shape=W.shape, dtype=bool)
    M.eliminate_zeros()
    return M


def magnitude_mask(W, sparsity, *, axis=None, scores=None):
    """Mask keeping the largest-magnitude weights.

    Parameters
    ----------
    W : array-like or sparse matrix
        Weights, any shape (2-D when sparse).
    sparsity : float in [0, 1]
        Fraction of entries to prune: ``floor(sparsity * size)`` smallest entries
        (of the whole array, or of each slice along ``axis``) are removed. Entries
        that are already zero count as pruned first.
    axis : int, default=None
        ``None`` prunes globally; ``axis=1`` prunes each row (each slice along axis
        1) to ``sparsity``, ``axis=0`` each column.
    scores : ndarray of W's shape, default=None
        Importance of each weight (default ``|W|``); the highest scores are kept.
        Dense ``W`` only.

    Returns
    -------
    mask : ndarray of bool, or CSR matrix of bool for sparse ``W``
        True where the weight is kept.

    Examples
    --------
    >>> import numpy as np
    >>> from sparse_estimators.sparsity import magnitude_mask
    >>> magnitude_mask(np.array([[3., -1., 0.5, -4.]]), 0.5)
    array([[ True, False, False,  True]])
    """
    W = check_weights(W)
    sparsity = _check_sparsity(sparsity)
    if sp.issparse(W):
        if scores is not None:
            raise TypeError("scores is only supported for dense W.")
        mag = np.abs(W.data).astype(np.float64)
        if axis is None:
            size = W.shape[0] * W.shape[1]
            keep = _top_k_flat(mag, size - n_pruned(sparsity, size))
            return _sparse_mask(W, keep)
        axis = _check_axis(axis, 2)
        if axis == 1:   # each row
            groups = np.repeat(np.arange(W.shape[0]), np.diff(W.indptr))
        else:           # each column
            groups = W.indices.astype(np.int64)
        length = W.shape[axis]
        rank = _rank_in_groups(groups, mag)
        return _sparse_mask(W, rank < length - n_pruned(sparsity, length))
    s = np.abs(W).astype(np.float64) if scores is None else _check_scores(scores, W.shape)
    if axis is None:
        return _top_k_flat(s.ravel(), W.size - n_pruned(sparsity, W.size)).reshape(W.shape)
    axis = _check_axis(axis, W.ndim)
    sm = np.moveaxis(s, axis, -1)
    length = sm.shape[-1]
    k = length - n_pruned(sparsity, length)
    order = np.argsort(-sm, axis=-1, kind="stable")
    keep = np.zeros(sm.shape, dtype=bool)
    np.put_along_axis(keep, order[..., :k], True, axis=-1)
    return np.moveaxis(keep, -1, axis)


def nm_mask(W, n=2, m=4, *, axis=-1, scores=None):
    """Mask of the N:M structured pattern: in every group of ``m`` consecutive
    weights along ``axis``, the ``n`` largest magnitudes are kept.

    With ``n=2, m=4`` (the default) this is the 2:4 pattern that sparse tensor cores
    (NVIDIA Ampere and Hopper) run. When the length along ``axis`` is not a multiple
    of ``m``, the last, shorter group keeps ``min(n, length)`` of its entries.

    Parameters
    ----------
    W : array-like or sparse matrix
        Weights, any shape (2-D when sparse).
    n, m : int, default=2, 4
        Keep ``n`` of every ``m`` (``1 <= n <= m <= 256``).
    axis : int, default=-1
        Axis along which groups run: the reduction axis of the product the weights
        enter (the last axis of ``coef_`` in ``X @ coef_.T``; axis 0 of an MLP
        layer in ``X @ coefs_[i]``).
    scores : ndarray of W's shape, default=None
        Importance of each weight (default ``|W|``). Dense ``W`` only.

    Returns
    -------
    mask : ndarray of bool, or CSR matrix of bool for sparse ``W``

    Examples
    --------
    >>> import numpy as np
    >>> from sparse_estimators.sparsity import nm_mask
    >>> nm_mask(np.array([1., -5., 2., 0.5, 3., 0., 0., -1.]))
    array([False,  True,  True, False,  True, False, False,  True])
    """
    W = check_weights(W)
    n, m = _check_nm(n, m)
    if sp.issparse(W):
        if scores is not None:
            raise TypeError("scores is only supported for dense W.")
        axis = _check_axis(axis, 2)
        rows = np.repeat(np.arange(W.shape[0], dtype=np.int64), np.diff(W.indptr))
        cols = W.indices.astype(np.int64)
        if axis == 1:
            groups = rows * ((W.shape[1] + m - 1) // m) + cols // m
        else:
            groups = cols * ((W.shape[0] + m - 1) // m) + rows // m
        rank = _rank_in_groups(groups, np.abs(W.data).astype(np.float64))
        return _sparse_mask(W, rank < n)
    axis = _check_axis(axis, W.ndim)
    s = np.abs(W) if scores is None else _check_scores(scores, W.shape)
    sm = np.moveaxis(s, axis, -1)
    lead, length = sm.shape[:-1], sm.shape[-1]
    flat = np.ascontiguousarray(sm.reshape(-1, length), dtype=np.float64)
    keep = nm_select(flat, n, m, np.zeros(flat.shape, dtype=bool))
    return np.moveaxis(keep.reshape(lead + (length,)), -1, axis)


def _block_grid(shape, block_shape):
    return (-(-shape[0] // block_shape[0]), -(-shape[1] // block_shape[1]))


def _check_block_shape(block_shape):
    bs = tuple(block_shape) if isinstance(block_shape, (tuple, list)) else None
    if (bs is None or len(bs) != 2
            or not all(isinstance(b, numbers.Integral) and not isinstance(b, bool) and b >= 1
                       for b in bs)):
        raise ValueError(f"block_shape must be a pair of positive integers, got {block_shape!r}.")
    return int(bs[0]), int(bs[1])


def block_norms(W, block_shape):
    """L2 norm of every ``block_shape`` block of the 2-D ``W`` (edge blocks are
    smaller when the shape is not a multiple), as an array of the block grid's shape.

    Examples
    --------
    >>> import numpy as np
    >>> from sparse_estimators.sparsity import block_norms
    >>> block_norms(np.array([[3.0, 4.0, 1.0], [0.0, 0.0, 0.0]]), (1, 2))
    array([[5., 1.],
           [0., 0.]])
    """
    W = check_weights(W)
    br, bc = _check_block_shape(block_shape)
    if W.ndim > 2:
        raise ValueError(f"block pruning needs a 1-D or 2-D W, got ndim={W.ndim}.")
    W2 = W.reshape(1, -1) if W.ndim == 1 else W
    gr, gc = _block_grid(W2.shape, (br, bc))
    if sp.issparse(W2):
        rows = np.repeat(np.arange(W2.shape[0], dtype=np.int64), np.diff(W2.indptr))
        keys = (rows // br) * gc + W2.indices // bc
        sq = np.bincount(keys, weights=np.square(W2.data, dtype=np.float64), minlength=gr * gc)
        return np.sqrt(sq).reshape(gr, gc)
    padded = np.zeros((gr * br, gc * bc))
    padded[:W2.shape[0], :W2.shape[1]] = W2
    return np.sqrt(np.einsum("ijkl,ijkl->ik", *(2 * [padded.reshape(gr, br, gc, bc)])))


def block_mask(W, sparsity, *, block_shape=(1, 4), scores=None):
    """Mask pruning whole blocks of a 2-D (or 1-D, seen as one row) weight matrix.

    The ``floor(sparsity * n_blocks)`` blocks with the smallest L2 norm are removed.

    Parameters
    ----------
    W : array-like or sparse matrix of ndim 1 or 2
    sparsity : float in [0, 1]
        Fraction of blocks to prune.
    block_shape : (int, int), default=(1, 4)
        Rows and columns of a block; edge blocks are cut at the matrix border.
    scores : ndarray of the block grid's shape, default=None
        Importance of each block (default: its L2 norm, see :func:`block_norms`).

    Returns
    -------
    mask : ndarray of bool, or CSR matrix of bool for sparse ``W``

    Examples
    --------
    >>> import numpy as np
    >>> from sparse_estimators.sparsity import block_mask
    >>> W = np.array([[1., 1., 0.1, 0.1], [1., 1., 0.1, 0.1]])
    >>> block_mask(W, 0.5, block_shape=(2, 2)).astype(int)
    array([[1, 1, 0, 0],
           [1, 1, 0, 0]])
    """
    W = check_weights(W)
    sparsity = _check_sparsity(sparsity)
    br, bc = _check_block_shape(block_shape)
    norms = block_norms(W, (br, bc))
    s = norms if scores is None else _check_scores(scores, norms.shape)
    keep_blocks = _top_k_flat(s.ravel(), s.size - n_pruned(sparsity, s.size)).reshape(s.shape)
    if sp.issparse(W):
        rows = np.repeat(np.arange(W.shape[0], dtype=np.int64), np.diff(W.indptr))
        return _sparse_mask(W, keep_blocks[rows // br, W.indices // bc])
    W2 = W if W.ndim == 2 else W.reshape(1, -1)
    keep = np.repeat(np.repeat(keep_blocks, br, axis=0), bc, axis=1)
    return keep[:W2.shape[0], :W2.shape[1]].reshape(W.shape)


def pattern_mask(W, *, pattern="unstructured", sparsity=None, axis=None, n=2, m=4,
                 block_shape=(1, 4), scores=None):
    """Dispatch to :func:`magnitude_mask`, :func:`nm_mask` or :func:`block_mask`.

    ``axis=None`` means "global" for the unstructured pattern and "last axis" for
    N:M. The N:M pattern fixes the sparsity (``1 - n/m``): ``sparsity`` must then be
    ``None``.
    """
    if pattern == "unstructured":
        if sparsity is None:
            raise ValueError("sparsity is required for the unstructured pattern.")
        return magnitude_mask(W, sparsity, axis=axis, scores=scores)
    if pattern == "n:m":
        if sparsity is not None:
            raise ValueError("sparsity must be None for the n:m pattern: the pattern keeps "
                             "n of every m weights (sparsity 1 - n/m).")
        return nm_mask(W, n, m, axis=-1 if axis is None else axis, scores=scores)
    if pattern == "block":
        if sparsity is None:
            raise ValueError("sparsity is required for the block pattern.")
        return block_mask(W, sparsity, block_shape=block_shape, scores=scores)
    raise ValueError(f"pattern must be one of {PATTERNS}, got {pattern!r}.")


def apply_mask(W, mask):
    """Pruned copy of ``W``: zeros outside ``mask`` (a sparse copy for sparse ``W``,
    dtype kept)."""
    if sp.issparse(W):
        out = sp.csr_matrix(sp.csr_matrix(W).multiply(mask), dtype=W.dtype)
        out.eliminate_zeros()
        return out
    return np.where(mask, W, np.zeros((), dtype=W.dtype))


def is_estimator(obj):
    """Whether ``obj`` is a (fitted or not) estimator rather than an array."""
    return hasattr(obj, "fit") and not sp.issparse(obj)


def estimator_weights(est, attributes=None):
    """``[(name, value), ...]`` of the weight attributes of a fitted estimator: those
    named in ``attributes``, else those of :data:`WEIGHT_ATTRIBUTES` that exist."""
    names = attributes
    if names is None:
        names = [a for a in WEIGHT_ATTRIBUTES if getattr(est, a, None) is not None]
        if not names:
            raise ValueError(
                f"{type(est).__name__} has none of the weight attributes "
                f"{WEIGHT_ATTRIBUTES}: is it fitted? Name them with attributes=.")
    for name in names:
        if not hasattr(est, name):
            raise ValueError(f"{type(est).__name__} has no attribute {name!r}.")
    return [(name, getattr(est, name)) for name in names]


def _attribute_axis(name, pattern, axis):
    # MLP layers are (n_in, n_out) and enter X @ W: the reduction axis is 0.
    if axis is None and pattern == "n:m" and name == "coefs_":
        return 0
    return axis


def prune(obj, sparsity=None, *, pattern="unstructured", axis=None, n=2, m=4,
          block_shape=(1, 4), attributes=None, return_mask=False):
    """Pruned copy of a weight array, a sparse matrix, or a fitted estimator.

    Parameters
    ----------
    obj : array-like, sparse matrix or fitted estimator
        For an estimator, its weight attributes (``coef_``, ``components_``, the
        layer list ``coefs_`` of scikit-learn's MLPs, or those named in
        ``attributes``) are pruned in a deep copy; the estimator itself is untouched.
    sparsity : float in [0, 1], default=None
        Fraction of entries (unstructured) or blocks (block) to prune. Must be
        ``None`` for ``pattern="n:m"``.
    pattern : {"unstructured", "n:m", "block"}, default="unstructured"
    axis : int, default=None
        Unstructured: ``None`` global, else each slice along ``axis`` (1: each row).
        N:M: the grouping axis, default the last one (axis 0 for ``coefs_``).
    n, m : int, default=2, 4
        The N:M pattern.
    block_shape : (int, int), default=(1, 4)
    attributes : list of str, default=None
        Estimator attributes to prune (default: those of ``coef_``, ``components_``,
        ``coefs_`` that exist).
    return_mask : bool, default=False
        Also return the mask (for an estimator: a dict attribute -> mask, a list of
        masks for ``coefs_``).

    Returns
    -------
    pruned : ndarray, sparse matrix or estimator
    mask : ndarray, sparse matrix or dict
        Only when ``return_mask=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sparse_estimators.sparsity import prune
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((50, 8)), rng.standard_normal(50)
    >>> pruned = prune(Ridge().fit(X, y), pattern="n:m")    # 2:4 along features
    >>> int((pruned.coef_ != 0).sum())
    4
    """
    kwargs = dict(pattern=pattern, sparsity=sparsity, n=n, m=m, block_shape=block_shape)
    if is_estimator(obj):
        out = copy.deepcopy(obj)
        masks = {}
        for name, value in estimator_weights(obj, attributes):
            ax = _attribute_axis(name, pattern, axis)
            if isinstance(value, (list, tuple)):
                pairs = [_prune_array(v, ax, kwargs) for v in value]
                setattr(out, name, type(value)(p for p, _ in pairs))
                masks[name] = [k for _, k in pairs]
            else:
                pruned, masks[name] = _prune_array(value, ax, kwargs)
                setattr(out, name, pruned)
        return (out, masks) if return_mask else out
    pruned, mask = _prune_array(obj, axis, kwargs)
    return (pruned, mask) if return_mask else pruned


def _prune_array(W, axis, kwargs):
    W = check_weights(W)
    mask = pattern_mask(W, axis=axis, **kwargs)
    return apply_mask(W, mask), mask
