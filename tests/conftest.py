"""Shared fixtures: small seeded regression problems, and the GPU path's backends
(emulated on NumPy, CuPy where there is a GPU, or CuPy missing)."""

import numpy as np
import pytest
import scipy.sparse as sp

from sparse_estimators.gpu import NUMPY, _backend


def make_problem(n_samples=60, n_features=30, *, density=0.3, n_informative=5,
                 n_targets=None, fmt="csr", dtype=np.float64, noise=0.1,
                 intercept=2.0, seed=0):
    """Random sparse-ish regression problem.

    Returns ``(X, y, w_true)``; ``X`` in ``fmt`` ("dense", "csr" or "csc") with
    ``dtype``; ``y`` float64 of shape ``(n_samples,)`` or ``(n_samples, n_targets)``.
    The non-zeros of ``X`` are standard normal, so no column is constant by chance.
    """
    rng = np.random.default_rng(seed)
    X = sp.random(n_samples, n_features, density=density, format="csr",
                  random_state=seed, data_rvs=rng.standard_normal)
    Xd = X.toarray()
    k = 1 if n_targets is None else n_targets
    W = np.zeros((n_features, k))
    W[:n_informative] = 3.0 * rng.standard_normal((n_informative, k))
    Y = Xd @ W + noise * rng.standard_normal((n_samples, k)) + intercept
    y = Y[:, 0] if n_targets is None else Y
    w = W[:, 0] if n_targets is None else W
    if fmt == "dense":
        Xo = Xd.astype(dtype)
    else:
        Xo = X.asformat(fmt).astype(dtype)
    return Xo, y, w


@pytest.fixture
def problem():
    """The :func:`make_problem` factory."""
    return make_problem


@pytest.fixture(params=["dense", "csr", "csc"])
def fmt(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(42)


def gpu_backend_or_skip():
    """The CuPy backend, or skip the test where there is no GPU."""
    try:
        return _backend.cupy_backend()
    except (ImportError, RuntimeError) as exc:
        pytest.skip(f"no GPU: {exc}")


@pytest.fixture
def emulated_gpu(monkeypatch):
    """Route device='gpu' to the NumPy backend: the estimators' GPU code path in CI."""
    monkeypatch.setattr(_backend, "cupy_backend", lambda: NUMPY)


@pytest.fixture(params=["numpy", pytest.param("cupy", marks=pytest.mark.gpu)])
def gpu_path(request, monkeypatch):
    """``device="gpu"`` on the NumPy backend (CI) and, marked ``gpu``, on CuPy where
    there is a GPU (skipped elsewhere): the backend's name."""
    if request.param == "numpy":
        monkeypatch.setattr(_backend, "cupy_backend", lambda: NUMPY)
    else:
        gpu_backend_or_skip()
    return request.param


@pytest.fixture
def no_cupy(monkeypatch):
    """``device="gpu"`` as on a machine without CuPy."""
    def missing():
        raise ImportError("device='gpu' needs CuPy: install CuPy")
    monkeypatch.setattr(_backend, "cupy_backend", missing)
