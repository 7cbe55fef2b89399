"""The estimators' ``device`` parameter, resolved without importing the GPU path for
``device="cpu"``."""


def device_backend(device):
    """The array backend of ``device``: ``None`` for the CPU path.

    ``"cpu"`` returns ``None`` without importing :mod:`sparse_estimators.gpu`;
    ``"gpu"`` and ``"auto"`` go to :func:`sparse_estimators.gpu.resolve_device`
    (CuPy imported only then; ``"gpu"`` without it raises with the install hint).

    Examples
    --------
    >>> from sparse_estimators.utils import device_backend
    >>> device_backend("cpu") is None
    True
    """
    if device == "cpu":
        return None
    from ..gpu import resolve_device  # only now: the GPU path is optional

    return resolve_device(device)
