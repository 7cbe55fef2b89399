"""N:M structured-sparse weights on an NVIDIA GPU, multiplied by the fastest kernel.

:class:`~sparse_estimators.sparsity.NMSparse` stores a pruned weight matrix on the
host. :class:`DeviceNMSparse` moves it to a CUDA device through PyTorch and keeps up
to three device forms of it:

- ``"cusparselt"``: a 2:4 semi-structured tensor (``torch.sparse.
  to_sparse_semi_structured``), multiplied on the sparse tensor cores through
  cuSPARSELt (Mishra et al. 2021, arXiv:2104.08378). Only for the 2:4 pattern in
  float16 or bfloat16: cuSPARSELt's float32 sparsity is 1:2, and it has no float64.
- ``"cublas"``: the dense pruned matrix (cuBLAS GEMM).
- ``"cusparse"``: a CSR matrix (cuSPARSE SpMM).

Which one is fastest depends on the shape, the batch and the chip (the sparse
tensor cores halve the multiplications, but cuSPARSELt pays for its metadata and
only wins once the product is large enough to be bound by arithmetic). With
``method="auto"`` the three are timed once, at construction, on a batch of the
size the caller expects, and the winner serves every later product;
:attr:`DeviceNMSparse.timings_` keeps the measurement.

PyTorch is imported only here, with an install hint when it is missing; a plain
CuPy wheel has no cuSPARSELt binding.
"""

import numpy as np

__all__ = ["DeviceNMSparse", "METHODS", "pick_fastest"]

#: The device forms, in the order they are tried.
METHODS = ("cusparselt", "cublas", "cusparse")
_DTYPES = ("float16", "bfloat16", "float32")
#: cuSPARSELt's semi-structured operand: both dimensions a multiple of this (the
#: largest of torch's per-dtype minimums); zero rows and columns pad it there.
_PAD = 64

INSTALL_HINT = ("install PyTorch with CUDA (https://pytorch.org/get-started/locally/, "
                "e.g. `pip install torch`)")


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError(f"DeviceNMSparse needs PyTorch: {INSTALL_HINT}.") from exc
    if not torch.cuda.is_available():
        raise RuntimeError("DeviceNMSparse: PyTorch finds no CUDA device.")
    return torch


def pick_fastest(timings):
    """The method of smallest time in ``timings`` (``{method: seconds}``), ties to
    the first in :data:`METHODS` order.

    Examples
    --------
    >>> from sparse_estimators.gpu import pick_fastest
    >>> pick_fastest({"cublas": 2.0e-4, "cusparselt": 1.5e-4, "cusparse": 9.0e-4})
    'cusparselt'
    """
    if not timings:
        raise ValueError("no method to choose from.")
    order = {m: i for i, m in enumerate(METHODS)}
    return min(timings, key=lambda m: (timings[m], order.get(m, len(order))))


def _round_up(k, step):
    return -(-k // step) * step


class DeviceNMSparse:
    """An N:M-sparse weight matrix on a CUDA device, for ``X @ W.T`` and ``W @ X``.

    Parameters
    ----------
    nm : NMSparse
        The weights, 2-D, of shape ``(out_features, in_features)`` (the layout of
        ``coef_``, of a dictionary's ``components_`` and of a torch ``Linear``).
    dtype : {"float16", "bfloat16", "float32"}, default="float16"
        The device dtype of the weights and of the products.
    method : {"auto", "cusparselt", "cublas", "cusparse"}, default="auto"
        The kernel; ``"auto"`` times each available one once on a random batch of
        ``batch`` rows and keeps the fastest.
    batch : int, default=256
        The number of rows of ``X`` in the products to come (the measurement's).
    repeats : int, default=10
        Timed products per method (median, after three warm-up products).

    Attributes
    ----------
    method_ : str
        The kernel in use.
    timings_ : dict
        ``{method: seconds}`` of one ``X @ W.T`` product, for each method timed
        (empty when ``method`` was given).
    shape : tuple of int
        ``(out_features, in_features)``.

    Notes
    -----
    ``"cusparselt"`` needs the 2:4 pattern (``nm.n == 2, nm.m == 4``) and float16 or
    bfloat16; it is left out otherwise. Its operand is padded with zero rows and
    columns to multiples of 64 (zeros keep the pattern; the padding of ``X``'s
    columns, when ``in_features`` is not a multiple of 64, is one copy of ``X`` per
    product).

    Examples
    --------
    On a machine with an NVIDIA GPU and PyTorch (skipped elsewhere):

    >>> import numpy as np
    >>> from sparse_estimators.sparsity import NMSparse
    >>> from sparse_estimators.gpu import DeviceNMSparse
    >>> W = np.random.default_rng(0).standard_normal((4096, 4096))
    >>> dev = DeviceNMSparse(NMSparse.from_dense(W), batch=4096)  # doctest: +SKIP
    >>> dev.method_ in ("cusparselt", "cublas", "cusparse")       # doctest: +SKIP
    True
    >>> dev.linear(np.ones((8, 4096), np.float16)).shape          # doctest: +SKIP
    (8, 4096)
    """

    def __init__(self, nm, dtype="float16", *, method="auto", batch=256, repeats=10):
        from ..sparsity import NMSparse

        if not isinstance(nm, NMSparse) or nm.ndim != 2:
            raise TypeError("nm must be a 2-D NMSparse matrix.")
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {_DTYPES}, got {dtype!r}.")
        if method != "auto" and method not in METHODS:
            raise ValueError(f"method must be 'auto' or one of {METHODS}, got {method!r}.")
        if int(batch) < 1 or int(repeats) < 1:
            raise ValueError(f"batch and repeats must be >= 1, got {batch} and {repeats}.")
        torch = _torch()
        self._torch = torch
        self.shape = tuple(nm.shape)
        self.dtype = dtype
        tdtype = getattr(torch, dtype)
        W = torch.as_tensor(nm.to_dense(), device="cuda").to(tdtype)
        usable = [m for m in METHODS
                  if m != "cusparselt" or ((nm.n, nm.m) == (2, 4) and dtype != "float32")]
        if method != "auto" and method not in usable:
            raise ValueError(f"method={method!r} needs the 2:4 pattern in float16 or "
                             f"bfloat16; this is {nm.n}:{nm.m} in {dtype}.")
        self._forms = {}
        for m in usable if method == "auto" else [method]:
            self._forms[m] = self._build(m, W)
        del W
        self.timings_ = {}
        if method == "auto":
            X = torch.randn(int(batch), self.shape[1], device="cuda").to(tdtype)
            for m in self._forms:
                self.timings_[m] = self._time(lambda m=m: self._linear(m, X), int(repeats))
            self.method_ = pick_fastest(self.timings_)
            self._forms = {self.method_: self._forms[self.method_]}   # free the others
        else:
            self.method_ = method

    # -------------------------------------------------------------- device forms
    def _build(self, method, W):
        torch = self._torch
        if method == "cublas":
            return W.contiguous()
        if method == "cusparse":
            return W.to_sparse_csr()
        from torch.sparse import to_sparse_semi_structured
        rows, cols = W.shape
        Wp = torch.nn.functional.pad(W, (0, _round_up(cols, _PAD) - cols,
                                         0, _round_up(rows, _PAD) - rows))
        return to_sparse_semi_structured(Wp)

    def _linear(self, method, X):
        """``X @ W.T`` for a CUDA tensor ``X`` of shape ``(batch, in_features)``."""
        torch = self._torch
        form = self._forms[method]
        out_f, in_f = self.shape
        if method == "cublas":
            return X @ form.T
        if method == "cusparse":
            return (form @ X.T).T
        pad = _round_up(in_f, _PAD) - in_f
        if pad:
            X = torch.nn.functional.pad(X, (0, pad))
        return torch.nn.functional.linear(X, form)[:, :out_f]

    def _time(self, fn, repeats):
        torch = self._torch
        for _ in range(3):
            fn()
        times = []
        for _ in range(repeats):
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(
                enable_timing=True)
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop) / 1e3)
        return float(np.median(times))

    # -------------------------------------------------------------- products
    def _to_tensor(self, X):
        torch = self._torch
        kind = "torch" if isinstance(X, torch.Tensor) else (
            "numpy" if isinstance(X, np.ndarray) else "dlpack")
        if kind == "numpy":
            T = torch.as_tensor(X, device="cuda")
        elif kind == "dlpack":                     # CuPy and other device arrays
            T = torch.from_dlpack(X)
        else:
            T = X
        if T.device.type != "cuda":
            T = T.to("cuda")
        return T.to(getattr(torch, self.dtype)), kind

    def _from_tensor(self, T, kind):
        if kind == "numpy":
            return T.float().cpu().numpy() if self.dtype == "bfloat16" else T.cpu().numpy()
        if kind == "dlpack":
            import cupy
            return cupy.from_dlpack(T.contiguous())
        return T

    def linear(self, X):
        """``X @ W.T``: the product of a linear layer, or ``predict`` with a
        multi-output ``coef_`` (without the intercept).

        Parameters
        ----------
        X : torch tensor, CuPy array or NumPy array of shape (batch, in_features)
            Cast to the device dtype (a NumPy array is copied to the device).

        Returns
        -------
        Array of the input's kind, of shape ``(batch, out_features)``
        """
        T, kind = self._to_tensor(X)
        if T.ndim != 2 or T.shape[1] != self.shape[1]:
            raise ValueError(f"X must have shape (batch, {self.shape[1]}), got "
                             f"{tuple(T.shape)}.")
        return self._from_tensor(self._linear(self.method_, T), kind)

    def __matmul__(self, X):
        """``W @ X`` for ``X`` of shape ``(in_features, batch)``: ``linear(X.T).T``."""
        T, kind = self._to_tensor(X)
        if T.ndim != 2 or T.shape[0] != self.shape[1]:
            raise ValueError(f"X must have shape ({self.shape[1]}, batch), got "
                             f"{tuple(T.shape)}.")
        return self._from_tensor(self._linear(self.method_, T.T).T, kind)

    def __repr__(self):
        return (f"DeviceNMSparse(shape={self.shape}, dtype={self.dtype!r}, "
                f"method_={self.method_!r})")
