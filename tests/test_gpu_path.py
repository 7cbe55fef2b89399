"""The GPU path (sparse_estimators.gpu): the FISTA elastic net on the NumPy backend
in CI, the estimators' device switch, and real-GPU tests marked ``gpu``."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from sparse_estimators.gpu import NUMPY, _backend, enet_fista, resolve_device
from sparse_estimators.linear_model import ElasticNet, Lasso


def problem(fmt="csr", dtype=np.float64, n=300, p=120, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=0.08, format="csr", random_state=seed,
                  data_rvs=rng.standard_normal).astype(dtype)
    w = np.zeros(p)
    w[:8] = rng.standard_normal(8)
    y = (X @ w + 0.05 * rng.standard_normal(n) + 1.5).astype(dtype)
    X = X.toarray() if fmt == "dense" else X.asformat(fmt)
    return X, y


def objective(X, y, coef, b, alpha, l1_ratio, sw=None):
    r = y - X @ coef - b
    sw = np.ones_like(y) if sw is None else sw
    return (0.5 * np.sum(sw * r * r) / np.sum(sw) + alpha * l1_ratio * np.abs(coef).sum()
            + 0.5 * alpha * (1 - l1_ratio) * coef @ coef)


@pytest.mark.parametrize("fmt", ["csr", "csc", "dense"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
def test_fista_matches_coordinate_descent(fmt, fit_intercept, l1_ratio):
    X, y = problem(fmt)
    alpha = 0.01
    ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                     tol=1e-12, max_iter=100_000).fit(X, y)
    coef, b, gap, n_iter, conv = enet_fista(NUMPY, X, y, alpha, l1_ratio,
                                            fit_intercept=fit_intercept, tol=1e-12,
                                            max_iter=100_000)
    assert conv and gap >= -1e-12
    assert_allclose(coef, ref.coef_, atol=1e-6)
    assert b == pytest.approx(ref.intercept_, abs=1e-6)
    # same objective up to the certified gaps
    assert objective(X, y, coef, b, alpha, l1_ratio) == pytest.approx(
        objective(X, y, ref.coef_, ref.intercept_, alpha, l1_ratio), rel=1e-9)


def test_fista_sample_weight_positive_and_float32():
    X, y = problem()
    sw = np.random.default_rng(1).uniform(0.2, 3.0, size=y.shape)
    sw_norm = sw * (len(sw) / sw.sum())
    ref = Lasso(alpha=0.005, positive=True, tol=1e-12, max_iter=100_000).fit(
        X, y, sample_weight=sw)
    coef, b, *_ = enet_fista(NUMPY, X, y, 0.005, 1.0, sample_weight=sw_norm,
                             positive=True, tol=1e-12, max_iter=100_000)
    assert coef.min() >= 0
    assert_allclose(coef, ref.coef_, atol=1e-6)
    assert b == pytest.approx(ref.intercept_, abs=1e-6)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    coef32, b32, *_ = enet_fista(NUMPY, X32, y32, 0.005, 1.0, tol=1e-8)
    ref64 = Lasso(alpha=0.005, tol=1e-12).fit(X, y)
    assert coef32.dtype == np.float32
    assert_allclose(coef32, ref64.coef_, rtol=1e-3, atol=1e-3)


def test_fista_all_zero_design_and_input_untouched():
    X = sp.csr_matrix((50, 10))
    y = np.arange(50.0)
    coef, b, gap, _, conv = enet_fista(NUMPY, X, y, 0.1)
    assert conv and not coef.any() and b == pytest.approx(y.mean())
    X, y = problem()
    snap = (X.data.copy(), X.indices.copy(), y.copy())
    enet_fista(NUMPY, X, y, 0.01)
    assert_allclose(X.data, snap[0])
    assert_allclose(y, snap[2])


@pytest.fixture
def emulated_gpu(monkeypatch):
    """Route device='gpu' to the NumPy backend: the estimators' GPU code path in CI."""
    monkeypatch.setattr(_backend, "cupy_backend", lambda: NUMPY)


@pytest.mark.parametrize("est", [Lasso(alpha=0.01), ElasticNet(alpha=0.02, l1_ratio=0.3),
                                 Lasso(alpha=0.01, fit_intercept=False)])
def test_estimators_on_the_device_path(emulated_gpu, est):
    X, y = problem()
    cpu = est.set_params(tol=1e-10, max_iter=100_000).fit(X, y)
    ref_coef, ref_b = cpu.coef_.copy(), cpu.intercept_
    dev = est.set_params(device="gpu").fit(X, y)
    assert_allclose(dev.coef_, ref_coef, atol=1e-6)
    assert dev.intercept_ == pytest.approx(ref_b, abs=1e-6)
    assert dev.dual_gap_ >= -1e-12 and dev.n_iter_ > 0
    Y = np.c_[y, 2 * y]                                   # multi-target
    multi = est.fit(X, Y)
    assert multi.coef_.shape == (2, X.shape[1])
    assert_allclose(multi.coef_[0], ref_coef, atol=1e-6)
    assert est.set_params(device="auto").fit(X, y).n_iter_ == dev.n_iter_


def test_device_warm_start_and_non_convergence(emulated_gpu):
    X, y = problem()
    est = Lasso(alpha=0.01, tol=1e-10, max_iter=100_000, device="gpu").fit(X, y)
    cold = est.n_iter_
    est.set_params(warm_start=True).fit(X, y)
    assert est.n_iter_ < cold
    with pytest.warns(ConvergenceWarning, match="FISTA iterations"):
        Lasso(alpha=1e-4, tol=1e-14, max_iter=3, device="gpu").fit(X, y)


def test_device_switch_without_cupy(monkeypatch):
    def no_cupy():
        raise ImportError("device='gpu' needs CuPy: install CuPy")
    monkeypatch.setattr(_backend, "cupy_backend", no_cupy)
    X, y = problem()
    with pytest.raises(ImportError, match="CuPy"):
        Lasso(device="gpu").fit(X, y)
    assert resolve_device("auto") is None                  # auto falls back to the CPU
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = Lasso(alpha=0.01, device="auto").fit(X, y)
    assert_allclose(auto.coef_, Lasso(alpha=0.01).fit(X, y).coef_)
    with pytest.raises(ValueError, match="device"):
        Lasso(device="tpu").fit(X, y)


def _gpu_backend_or_skip():
    try:
        return _backend.cupy_backend()
    except (ImportError, RuntimeError) as exc:
        pytest.skip(f"no GPU: {exc}")


@pytest.mark.gpu
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-6), (np.float32, 1e-3)])
def test_gpu_lasso_matches_cpu(dtype, tol):
    backend = _gpu_backend_or_skip()
    X, y = problem(dtype=dtype, n=5000, p=2000)
    cpu = Lasso(alpha=0.005, tol=1e-10, max_iter=100_000).fit(X, y)
    coef, b, gap, _, conv = enet_fista(backend, X, y, 0.005, tol=1e-10 if dtype ==
                                       np.float64 else 1e-6, max_iter=100_000)
    assert conv
    scale = np.abs(cpu.coef_).max()
    assert np.abs(coef - cpu.coef_).max() <= tol * scale
    gpu = Lasso(alpha=0.005, tol=1e-10, max_iter=100_000, device="gpu").fit(X, y)
    assert np.abs(gpu.coef_ - cpu.coef_).max() <= tol * scale


@parametrize_with_checks([Lasso(device="gpu", tol=1e-12, max_iter=200_000),
                          ElasticNet(device="gpu", tol=1e-12, max_iter=200_000)])
def test_device_path_passes_estimator_checks(estimator, check, emulated_gpu):
    # scikit-learn's checks through the GPU code path (NumPy backend)
    check(estimator)


def test_fista_least_squares_and_final_gap_is_that_of_the_returned_coef():
    X, y = problem(n=200, p=20)
    ref = ElasticNet(alpha=0.0, tol=1e-12, max_iter=100_000)
    with pytest.warns(UserWarning, match="alpha=0"):
        ref.fit(X, y)
    coef, b, gap, _, conv = enet_fista(NUMPY, X, y, 0.0, 1.0, tol=1e-12, max_iter=100_000)
    assert conv and gap >= 0
    assert_allclose(coef, ref.coef_, atol=1e-6)
    # stopped between two checks: the gap reported is recomputed at the returned coef
    X, y = problem()
    for max_iter in (1, 7, 19):
        coef, b, gap, n_iter, conv = enet_fista(NUMPY, X, y, 0.05, tol=1e-3,
                                                max_iter=max_iter)
        assert n_iter == max_iter
        _, _, gap0, _, _ = enet_fista(NUMPY, X, y, 0.05, tol=0.0, max_iter=0, w0=coef)
        assert gap == pytest.approx(gap0, rel=1e-9)


def test_fista_recovers_from_a_short_lipschitz_estimate():
    # the top right singular vector is orthogonal to the power iteration's start, so
    # the estimate settles on the second eigenvalue; the decrease check must catch it
    rng = np.random.default_rng(3)
    n, p = 300, 60
    start = 1.0 + 0.1 * np.random.default_rng(0).standard_normal(p)
    V = np.linalg.qr(np.c_[rng.standard_normal(p), start, rng.standard_normal((p, p - 2))])[0]
    V[:, [0, 1]] = V[:, [1, 0]]                 # first column orthogonal to start
    U = np.linalg.qr(rng.standard_normal((n, p)))[0]
    svals = np.r_[3.0, np.linspace(1.0, 0.5, p - 1)]
    X = (U * svals) @ V.T
    y = X @ rng.standard_normal(p) + 0.1 * rng.standard_normal(n)
    ref = Lasso(alpha=1e-4, tol=1e-12, max_iter=100_000).fit(X, y)
    coef, b, gap, _, conv = enet_fista(NUMPY, X, y, 1e-4, tol=1e-12, max_iter=100_000)
    assert conv and np.all(np.isfinite(coef))
    assert_allclose(coef, ref.coef_, atol=1e-6)


@pytest.mark.parametrize("sparse_X", [False, True])
@pytest.mark.parametrize("positive", [False, True])
def test_batched_lasso_codes_match_coordinate_descent(sparse_X, positive, emulated_gpu):
    from sparse_estimators.decomposition import sparse_encode
    from sparse_estimators.gpu._coding import lasso_codes_fista

    rng = np.random.default_rng(0)
    D = rng.standard_normal((12, 30))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    X = rng.standard_normal((80, 30)) * (rng.random((80, 30)) < 0.3)
    X = sp.csr_matrix(X) if sparse_X else X
    ref = sparse_encode(X, D, alpha=0.2, positive=positive, tol=1e-12, max_iter=100_000)
    codes, n_iter, conv = lasso_codes_fista(NUMPY, X, D, 0.2, positive=positive,
                                            tol=1e-12, max_iter=100_000)
    assert conv
    assert_allclose(codes, ref, atol=1e-6)
    dev = sparse_encode(X, D, alpha=0.2, positive=positive, tol=1e-12, max_iter=100_000,
                        device="gpu")
    assert_allclose(dev, ref, atol=1e-6)
    X32 = X.astype(np.float32)
    assert sparse_encode(X32, D.astype(np.float32), alpha=0.2, device="gpu").dtype == \
        np.float32
    assert sp.issparse(sparse_encode(X, D, alpha=0.2, device="gpu", return_sparse=True))
    with pytest.raises(ValueError, match="lasso_cd"):
        sparse_encode(X, D, algorithm="omp", device="gpu")
    with pytest.warns(ConvergenceWarning, match="FISTA"):
        sparse_encode(X, D, alpha=0.01, tol=1e-14, max_iter=2, device="gpu")


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
def test_gap_safe_screening_restricts_and_keeps_the_solution(monkeypatch, positive,
                                                             l1_ratio):
    from sparse_estimators.gpu import _fista

    X, y = problem(n=150, p=2000, seed=2)
    alpha_max = np.max(np.abs(X.T @ (y - y.mean()))) / len(y)
    alpha = alpha_max / 5
    ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=positive, tol=1e-12,
                     max_iter=100_000).fit(X, y)
    sizes = []
    restrict = _fista._CenteredDesign.restrict

    def spy(self, keep):
        sizes.append(len(keep))
        return restrict(self, keep)
    monkeypatch.setattr(_fista._CenteredDesign, "restrict", spy)
    coef, b, gap, _, conv = enet_fista(NUMPY, X, y, alpha, l1_ratio, positive=positive,
                                       tol=1e-12, max_iter=100_000)
    assert conv and sizes and sizes[-1] < 200            # most of the 2000 screened out
    assert np.all(np.diff(sizes) < 0)
    assert_allclose(coef, ref.coef_, atol=1e-6)
    assert b == pytest.approx(ref.intercept_, abs=1e-6)
    plain, *_ = enet_fista(NUMPY, X, y, alpha, l1_ratio, positive=positive, tol=1e-12,
                           max_iter=100_000, screening=False)
    assert_allclose(plain, coef, atol=1e-6)
