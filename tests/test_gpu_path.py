"""The GPU path (sparse_estimators.gpu): the FISTA elastic net on the NumPy backend
in CI, the estimators' device switch, and real-GPU tests marked ``gpu``."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import gpu_backend_or_skip
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from sparse_estimators.gpu import NUMPY, enet_fista, resolve_device
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


@pytest.mark.parametrize("est", [Lasso(alpha=0.01), ElasticNet(alpha=0.02, l1_ratio=0.3),
                                 Lasso(alpha=0.01, fit_intercept=False)])
def test_estimators_on_the_device_path(gpu_path, est):
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


def test_device_warm_start_and_non_convergence(gpu_path):
    X, y = problem()
    est = Lasso(alpha=0.01, tol=1e-10, max_iter=100_000, device="gpu").fit(X, y)
    cold = est.n_iter_
    est.set_params(warm_start=True).fit(X, y)
    assert est.n_iter_ < cold
    with pytest.warns(ConvergenceWarning, match="FISTA iterations"):
        Lasso(alpha=1e-4, tol=1e-14, max_iter=3, device="gpu").fit(X, y)


def test_device_switch_without_cupy(no_cupy):
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


@pytest.mark.gpu
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-6), (np.float32, 1e-3)])
def test_gpu_lasso_matches_cpu(dtype, tol):
    backend = gpu_backend_or_skip()
    X, y = problem(dtype=dtype, n=5000, p=2000)
    cpu = Lasso(alpha=0.005, tol=1e-10, max_iter=100_000).fit(X.astype(np.float64), y)
    # float32 sums carry ~1e-7 relative error: a relative gap of 1e-7 is their floor
    gap_tol = 1e-10 if dtype == np.float64 else 1e-6
    coef, b, gap, _, conv = enet_fista(backend, X, y, 0.005, tol=gap_tol, max_iter=100_000)
    assert conv
    scale = np.abs(cpu.coef_).max()
    assert np.abs(coef - cpu.coef_).max() <= tol * scale
    for Xf in (X, X.tocsc(), X.toarray()):
        gpu = Lasso(alpha=0.005, tol=gap_tol, max_iter=100_000, device="gpu").fit(Xf, y)
        assert gpu.coef_.dtype == dtype
        assert np.abs(gpu.coef_ - cpu.coef_).max() <= tol * scale


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gpu_fused_kernels_match_numpy(dtype):
    backend = gpu_backend_or_skip()
    from sparse_estimators.gpu._backend import (
        extrapolate,
        fista_scalars,
        momentum,
        prox_step,
    )

    rng = np.random.default_rng(5)
    v, g, x = (rng.standard_normal(1000).astype(dtype) for _ in range(3))
    thr = np.where(rng.random(1000) < 0.2, 0.0, 0.3).astype(dtype)
    dev = [backend.asarray(a, dtype) for a in (v, g, x, thr)]
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    for positive in (False, True):
        for thresh, shrink in ((0.4, 1.0), (thr, 1.0 + thr)):
            t_dev = dev[3] if isinstance(thresh, np.ndarray) else thresh
            s_dev = 1.0 + dev[3] if isinstance(shrink, np.ndarray) else shrink
            ref = prox_step(NUMPY, v, g, 0.7, thresh, shrink, positive)
            out = prox_step(backend, dev[0], dev[1], 0.7, t_dev, s_dev, positive)
            assert out.dtype == dtype
            assert_allclose(backend.to_host(out), ref, rtol=rtol, atol=rtol)
    beta = np.asarray(0.6, dtype)
    # a fused multiply-add rounds once where NumPy rounds twice: absolute tolerance
    assert_allclose(backend.to_host(extrapolate(backend, dev[0], dev[2],
                                                backend.asarray(beta, dtype))),
                    extrapolate(NUMPY, v, x, beta), rtol=rtol, atol=rtol)
    t = np.array([[1.0], [3.0], [7.0]], dtype)
    move = np.array([[0.5], [-1.0], [-2.0]], dtype)
    f_new = np.array([[1.0], [2.0], [3.0]], dtype)
    bound = np.array([[2.0], [1.0], [3.0]], dtype)
    flag = np.array([[False], [False], [True]])
    ref = fista_scalars(NUMPY, f_new, bound, move, t, flag)
    out = fista_scalars(backend, *(backend.xp.asarray(a) for a in (f_new, bound, move, t,
                                                                   flag)))
    for r, o in zip(ref, out):
        assert_allclose(backend.to_host(o), r, rtol=rtol)
    for r, o in zip(momentum(NUMPY, move, t),
                    momentum(backend, backend.xp.asarray(move), backend.xp.asarray(t))):
        assert_allclose(backend.to_host(o), r, rtol=rtol)
    assert backend.to_host(out[0]).ravel().tolist() == [False, True, True]


@pytest.mark.gpu
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_gpu_design_transposes_on_the_device(fmt):
    backend = gpu_backend_or_skip()
    X, _ = problem(fmt)
    X_dev, XT_dev = backend.csr_pair(X, np.float64)
    assert_allclose(backend.to_host(X_dev.toarray()), X.toarray())
    assert_allclose(backend.to_host(XT_dev.toarray()), X.T.toarray())
    assert X_dev.format == XT_dev.format == "csr"


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
    # the top right singular vector is orthogonal to the Lanczos start vector, so
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
def test_batched_lasso_codes_match_coordinate_descent(sparse_X, positive, gpu_path):
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


# --- the coders' device switch: SparseCoder and the dictionary learners -------------

def coding_problem(sparse_X=False, n=80, p=30, k=12, seed=0):
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((k, p))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    X = (rng.standard_normal((n, k)) * (rng.random((n, k)) < 0.3)) @ D \
        + 0.05 * rng.standard_normal((n, p))
    return (sp.csr_matrix(X * (np.abs(X) > 0.3)) if sparse_X else X), D


def lasso_code_objective(X, D, C, alpha):
    R = (X.toarray() if sp.issparse(X) else X) - C @ D
    return 0.5 * np.sum(R * R) + alpha * np.abs(C).sum()


@pytest.fixture
def device_calls(monkeypatch):
    """Count the batched FISTA coding calls (the device path of sparse_encode)."""
    from sparse_estimators.gpu import _coding

    calls = []
    fista = _coding.lasso_codes_fista

    def spy(backend, *args, **kwargs):
        calls.append(backend.name)
        return fista(backend, *args, **kwargs)
    monkeypatch.setattr(_coding, "lasso_codes_fista", spy)
    return calls


@pytest.fixture
def tight_fit_coding(monkeypatch):
    """The learners' fit codes at tol=1e-12 (their coding tol is sparse_encode's
    default), so that CPU and device fits can be compared tightly."""
    from functools import partial

    from sparse_estimators.decomposition import _dict_learning

    monkeypatch.setattr(_dict_learning, "sparse_encode",
                        partial(_dict_learning.sparse_encode, tol=1e-12))


@pytest.mark.parametrize("sparse_X", [False, True])
@pytest.mark.parametrize("positive, split_sign", [(False, False), (True, False),
                                                  (False, True)])
def test_sparse_coder_on_the_device_path(gpu_path, device_calls, sparse_X, positive,
                                         split_sign):
    from sparse_estimators.decomposition import SparseCoder

    X, D = coding_problem(sparse_X)
    params = dict(transform_algorithm="lasso_cd", transform_alpha=0.2,
                  positive_code=positive, split_sign=split_sign, transform_tol=1e-12,
                  transform_max_iter=100_000)
    cpu = SparseCoder(D, **params).transform(X)
    assert device_calls == []
    dev = SparseCoder(D, device="gpu", **params).fit(X).transform(X)
    assert device_calls == [gpu_path]
    assert dev.shape == cpu.shape == (X.shape[0], D.shape[0] * (2 if split_sign else 1))
    assert_allclose(dev, cpu, atol=1e-6)
    if not split_sign:
        assert lasso_code_objective(X, D, dev, 0.2) == pytest.approx(
            lasso_code_objective(X, D, cpu, 0.2), rel=1e-9)
    out = SparseCoder(D, device="gpu", sparse_output=True, **params).transform(X)
    assert sp.issparse(out)
    assert_allclose(out.toarray(), cpu, atol=1e-6)
    X32 = X.astype(np.float32)
    assert SparseCoder(D, device="gpu", **params).transform(X32).dtype == np.float32


@pytest.mark.parametrize("sparse_X", [False, True])
def test_dictionary_learning_on_the_device_path(gpu_path, device_calls,
                                                tight_fit_coding, sparse_X):
    from sparse_estimators.decomposition import DictionaryLearning

    X, _ = coding_problem(sparse_X, n=100, p=20, k=6, seed=1)
    params = dict(n_components=6, alpha=0.1, fit_algorithm="cd",
                  transform_algorithm="lasso_cd", transform_alpha=0.1, max_iter=5,
                  tol=0.0, transform_max_iter=100_000, random_state=0)
    cpu = DictionaryLearning(**params).fit(X)
    assert device_calls == []
    dev = DictionaryLearning(device="gpu", **params).fit(X)
    assert device_calls == [gpu_path] * 5                  # every alternation's coding
    assert dev.n_iter_ == cpu.n_iter_ == 5
    assert_allclose(dev.components_, cpu.components_, atol=1e-6)
    assert_allclose(dev.error_, cpu.error_, rtol=1e-9)
    codes = dev.transform(X)
    assert len(device_calls) == 6
    assert_allclose(codes, cpu.transform(X), atol=1e-3)   # transform_tol is 1e-4
    assert lasso_code_objective(X, dev.components_, codes, 0.1) == pytest.approx(
        lasso_code_objective(X, cpu.components_, cpu.transform(X), 0.1), rel=1e-4)


@pytest.mark.parametrize("sparse_X", [False, True])
def test_minibatch_dictionary_learning_on_the_device_path(gpu_path, device_calls,
                                                          tight_fit_coding, sparse_X):
    from sparse_estimators.decomposition import MiniBatchDictionaryLearning

    X, _ = coding_problem(sparse_X, n=100, p=20, k=6, seed=2)
    params = dict(n_components=6, alpha=0.1, fit_algorithm="cd",
                  transform_algorithm="lasso_cd", batch_size=25, max_iter=2, tol=0.0,
                  max_no_improvement=None, transform_max_iter=100_000, random_state=0)
    cpu = MiniBatchDictionaryLearning(**params).fit(X)
    dev = MiniBatchDictionaryLearning(device="gpu", **params).fit(X)
    assert device_calls == [gpu_path] * 8 and dev.n_steps_ == cpu.n_steps_ == 8
    assert_allclose(dev.components_, cpu.components_, atol=1e-6)
    assert_allclose(dev.objective_, cpu.objective_, rtol=1e-9)
    cpu.partial_fit(X[:30])
    dev.partial_fit(X[:30])
    assert len(device_calls) == 9
    assert_allclose(dev.components_, cpu.components_, atol=1e-6)


def test_coders_refuse_other_algorithms_on_the_gpu(gpu_path, device_calls):
    from sparse_estimators.decomposition import (
        DictionaryLearning,
        MiniBatchDictionaryLearning,
        SparseCoder,
    )

    X, D = coding_problem()
    with pytest.raises(ValueError, match="transform_algorithm='omp'"):
        SparseCoder(D, device="gpu").transform(X)           # omp is the default
    with pytest.raises(ValueError, match="fit_algorithm='lars'"):
        DictionaryLearning(n_components=4, transform_algorithm="lasso_cd",
                           device="gpu").fit(X)
    with pytest.raises(ValueError, match="transform_algorithm='threshold'"):
        MiniBatchDictionaryLearning(n_components=4, fit_algorithm="cd",
                                    transform_algorithm="threshold",
                                    device="gpu").partial_fit(X)
    assert device_calls == []
    # "auto" runs the lasso coding on the device and the others on the CPU
    dl = DictionaryLearning(n_components=4, fit_algorithm="cd", max_iter=2,
                            random_state=0, device="auto").fit(X)
    assert device_calls == [gpu_path] * 2
    dl.transform(X)                                        # omp, on the CPU
    assert len(device_calls) == 2
    for est in (SparseCoder(D, device="tpu"), DictionaryLearning(device="tpu"),
                MiniBatchDictionaryLearning(device="tpu")):
        with pytest.raises(ValueError, match="device"):
            est.fit(X)


def test_coders_without_cupy(monkeypatch, device_calls):
    import sys

    from sparse_estimators.decomposition import (
        DictionaryLearning,
        MiniBatchDictionaryLearning,
        SparseCoder,
    )

    monkeypatch.setitem(sys.modules, "cupy", None)        # `import cupy` fails
    X, D = coding_problem(sparse_X=True)
    lasso = dict(transform_algorithm="lasso_cd", transform_alpha=0.2)
    learn = dict(n_components=4, fit_algorithm="cd", transform_algorithm="lasso_cd",
                 max_iter=3, random_state=0)
    for est in (SparseCoder(D, device="gpu", **lasso),
                DictionaryLearning(device="gpu", **learn),
                MiniBatchDictionaryLearning(device="gpu", batch_size=20, **learn)):
        with pytest.raises(ImportError, match="pip install cupy-cuda12x"):
            est.fit(X).transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = SparseCoder(D, device="auto", **lasso).transform(X)
        dl_auto = DictionaryLearning(device="auto", **learn).fit(X)
        mb_auto = MiniBatchDictionaryLearning(device="auto", batch_size=20, **learn).fit(X)
    assert device_calls == []
    np.testing.assert_array_equal(auto, SparseCoder(D, **lasso).transform(X))
    np.testing.assert_array_equal(dl_auto.components_,
                                  DictionaryLearning(**learn).fit(X).components_)
    np.testing.assert_array_equal(
        mb_auto.components_,
        MiniBatchDictionaryLearning(batch_size=20, **learn).fit(X).components_)


def _coder_checks_expected_to_fail(estimator):
    from test_estimator_checks import DL_CD_CHECKS, SPARSE_CODER_CHECKS

    from sparse_estimators.decomposition import DictionaryLearning, SparseCoder

    if isinstance(estimator, SparseCoder):
        # the dictionary fixes the width; tests/test_estimator_checks.py runs these
        # with a matching dictionary on the CPU path
        return dict.fromkeys(SPARSE_CODER_CHECKS, "needs a dictionary of the data's width")
    if isinstance(estimator, DictionaryLearning):  # fit_algorithm="cd" on the device
        return DL_CD_CHECKS
    return {}


def _coders_and_cv_on_the_device():
    from sparse_estimators.decomposition import (
        DictionaryLearning,
        MiniBatchDictionaryLearning,
        SparseCoder,
    )
    from sparse_estimators.linear_model import ElasticNetCV, LassoCV

    lasso = dict(fit_algorithm="cd", transform_algorithm="lasso_cd", device="gpu",
                 random_state=0)
    return [SparseCoder(np.random.RandomState(0).normal(size=(5, 3)),
                        transform_algorithm="lasso_cd", transform_alpha=0.1,
                        transform_tol=1e-12, transform_max_iter=100_000, device="gpu"),
            DictionaryLearning(n_components=3, max_iter=10, **lasso),
            MiniBatchDictionaryLearning(n_components=3, max_iter=5, batch_size=8, **lasso),
            LassoCV(tol=1e-12, max_iter=100_000, device="gpu"),
            ElasticNetCV(tol=1e-12, max_iter=100_000, device="gpu")]


@parametrize_with_checks(_coders_and_cv_on_the_device(),
                         expected_failed_checks=_coder_checks_expected_to_fail)
def test_coders_and_cv_device_path_pass_estimator_checks(estimator, check, emulated_gpu):
    # scikit-learn's checks through the GPU code path (NumPy backend) of the coders
    # and the CV estimators
    check(estimator)


# --- LassoCV / ElasticNetCV on the device -------------------------------------------

@pytest.fixture
def fista_calls(monkeypatch):
    """Record the warm start (``w0``) of every FISTA fit."""
    from sparse_estimators import gpu

    calls = []
    fista = gpu.enet_fista

    def spy(*args, **kwargs):
        w0 = kwargs.get("w0")
        calls.append(None if w0 is None else np.array(w0))
        return fista(*args, **kwargs)
    monkeypatch.setattr(gpu, "enet_fista", spy)
    return calls


@pytest.mark.parametrize("fmt", ["csr", "dense"])
@pytest.mark.parametrize("l1_ratio", [1.0, [0.5, 1.0]])
def test_cv_estimators_on_the_device_path(gpu_path, fista_calls, fmt, l1_ratio):
    from sparse_estimators.linear_model import ElasticNetCV, LassoCV

    X, y = problem(fmt, n=150, p=40)
    n_alphas, cv = 12, 3
    params = dict(alphas=n_alphas, cv=cv, tol=1e-12, max_iter=100_000)
    make = ((lambda **kw: LassoCV(**params, **kw)) if l1_ratio == 1.0 else
            (lambda **kw: ElasticNetCV(l1_ratio=l1_ratio, **params, **kw)))
    cpu = make().fit(X, y)
    assert fista_calls == []
    dev = make(device="gpu").fit(X, y)
    n_paths = len(np.atleast_1d(l1_ratio))
    # every alpha of every path of every fold, then the refit
    assert len(fista_calls) == cv * n_paths * n_alphas + 1
    # along a path, each alpha starts from the previous alpha's solution
    starts = [w0 is None for w0 in fista_calls[:-1]]
    assert starts == ([True] + [False] * (n_alphas - 1)) * (cv * n_paths)
    assert_allclose(dev.alphas_, cpu.alphas_)
    assert_allclose(dev.mse_path_, cpu.mse_path_, rtol=1e-6)     # DESIGN.md: fp64 1e-6
    assert dev.alpha_ == cpu.alpha_
    if n_paths > 1:
        assert dev.l1_ratio_ == cpu.l1_ratio_
    assert_allclose(dev.coef_, cpu.coef_, atol=1e-6)
    assert dev.intercept_ == pytest.approx(cpu.intercept_, abs=1e-6)
    assert dev.dual_gap_ >= -1e-12 and dev.n_iter_ > 0


def test_cv_warm_start_saves_iterations(gpu_path, monkeypatch):
    from sparse_estimators import gpu
    from sparse_estimators.linear_model import LassoCV

    X, y = problem(n=150, p=40)
    iters = {"warm": 0, "cold": 0}
    fista = gpu.enet_fista

    def counting(*args, cold=False, **kwargs):
        if cold:
            kwargs["w0"] = None
        out = fista(*args, **kwargs)
        iters["cold" if cold else "warm"] += out[3]
        return out
    monkeypatch.setattr(gpu, "enet_fista", counting)
    warm = LassoCV(alphas=15, cv=3, tol=1e-10, max_iter=100_000, device="gpu").fit(X, y)
    monkeypatch.setattr(gpu, "enet_fista", lambda *a, **k: counting(*a, cold=True, **k))
    cold = LassoCV(alphas=15, cv=3, tol=1e-10, max_iter=100_000, device="gpu").fit(X, y)
    assert iters["warm"] < 0.9 * iters["cold"]               # 3210 against 3740
    assert warm.alpha_ == cold.alpha_
    assert_allclose(warm.mse_path_, cold.mse_path_, rtol=1e-6)


def test_cv_estimators_without_cupy(monkeypatch, fista_calls):
    import sys

    from sparse_estimators.linear_model import ElasticNetCV, LassoCV

    monkeypatch.setitem(sys.modules, "cupy", None)        # `import cupy` fails
    X, y = problem(n=120, p=30)
    with pytest.raises(ImportError, match="pip install cupy-cuda12x"):
        LassoCV(alphas=5, cv=3, device="gpu").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = ElasticNetCV(alphas=8, cv=3, device="auto").fit(X, y)
    assert fista_calls == []
    np.testing.assert_array_equal(auto.mse_path_,
                                  ElasticNetCV(alphas=8, cv=3).fit(X, y).mse_path_)
    with pytest.raises(ValueError, match="device"):
        LassoCV(device="tpu").fit(X, y)




# --- the L1 classifiers on the device -----------------------------------------------

def classification_problem(fmt="csr", dtype=np.float64, n=200, p=40, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=0.15, format="csr", random_state=seed,
                  data_rvs=rng.standard_normal).astype(dtype)
    W = np.zeros((p, n_classes))
    W[:6] = 3.0 * rng.standard_normal((6, n_classes))
    scores = X @ W + 0.3 * rng.standard_normal((n, n_classes))
    y = (scores[:, 0] + 0.2 > 0).astype(int) if n_classes == 2 else scores.argmax(1)
    X = X.toarray() if fmt == "dense" else X.asformat(fmt)
    return X, y


def _classifier(loss, **params):
    from sparse_estimators.linear_model import SparseLinearSVC, SparseLogisticRegression

    return (SparseLogisticRegression if loss == "logistic" else SparseLinearSVC)(**params)


def _binary_objective(X, y, sw, clf, loss):
    from sparse_estimators._solvers._glm import glm_gap

    c = clf.C * sw
    yb = np.where(y == clf.classes_[1], 1.0, -1.0)
    return glm_gap(X, yb, c, clf.coef_[0].astype(np.float64), float(clf.intercept_[0]),
                   clf.l1_ratio, 1.0 - clf.l1_ratio, loss)


@pytest.mark.parametrize("fmt", ["csr", "csc", "dense"])
@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_classifiers_on_the_device_path(gpu_path, fmt, loss, fit_intercept, l1_ratio):
    X, y = classification_problem(fmt)
    sw = np.random.default_rng(1).uniform(0.3, 2.0, size=y.shape)
    params = dict(C=2.0, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=1e-12,
                  max_iter=100_000)
    cpu = _classifier(loss, **params).fit(X, y, sample_weight=sw)
    dev = _classifier(loss, device="gpu", **params).fit(X, y, sample_weight=sw)
    gap_cpu, obj_cpu = _binary_objective(X, y, sw, cpu, loss)
    gap_dev, obj_dev = _binary_objective(X, y, sw, dev, loss)
    assert obj_dev == pytest.approx(obj_cpu, rel=1e-8)
    # strong convexity bounds ||w - w*||^2 by 2 gap / l2 (1e-5 at l1_ratio 0.5)
    assert_allclose(dev.coef_, cpu.coef_, atol=1e-9 if l1_ratio == 1.0 else 1e-4)
    assert_allclose(dev.intercept_, cpu.intercept_, atol=1e-8 if l1_ratio == 1.0 else 1e-4)
    if not fit_intercept:
        assert dev.intercept_[0] == 0.0
    # the certificate is the CPU's, recomputed at the returned model, relative to P0
    from sparse_estimators._solvers._glm import glm_gap, optimal_intercept

    yb = np.where(y == 1, 1.0, -1.0)
    c = 2.0 * sw
    b0 = optimal_intercept(np.zeros(len(y)), yb, c, loss=loss) if fit_intercept else 0.0
    p0 = glm_gap(X, yb, c, np.zeros(X.shape[1]), b0, l1_ratio, 1 - l1_ratio, loss)[1]
    assert dev.dual_gap_[0] == pytest.approx(gap_dev / p0, rel=1e-6, abs=1e-15)
    assert 0.0 <= gap_dev <= 1e-12 * p0
    assert dev.n_iter_[0] > 0 and dev.n_iter_[0] != cpu.n_iter_[0]


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
def test_classifier_device_float32_multiclass_and_warm_start(gpu_path, loss):
    X, y = classification_problem(n_classes=3, seed=2)
    params = dict(C=1.0, tol=1e-12, max_iter=100_000)
    cpu = _classifier(loss, **params).fit(X, y)
    dev = _classifier(loss, device="gpu", **params).fit(X, y)
    assert dev.coef_.shape == (3, X.shape[1]) and dev.n_iter_.shape == (3,)
    assert_allclose(dev.coef_, cpu.coef_, atol=1e-8)
    assert_allclose(dev.intercept_, cpu.intercept_, atol=1e-8)
    np.testing.assert_array_equal(dev.predict(X), cpu.predict(X))
    cold = dev.n_iter_.copy()
    dev.set_params(warm_start=True).fit(X, y)
    assert np.all(dev.n_iter_ < cold)
    # float32 in, float32 coef_ (float32 iterates: a looser tol)
    X32 = X.astype(np.float32)
    dev32 = _classifier(loss, device="gpu", C=1.0, tol=1e-5, max_iter=20_000).fit(X32, y)
    assert dev32.coef_.dtype == np.float32 and dev32.intercept_.dtype == np.float32
    assert_allclose(dev32.coef_, cpu.coef_, atol=1e-2 * np.abs(cpu.coef_).max())
    with pytest.warns(ConvergenceWarning, match="FISTA iterations"):
        _classifier(loss, device="gpu", C=1.0, tol=1e-14, max_iter=3).fit(X, y)


def test_glm_fista_resumes_after_a_short_lipschitz_estimate(monkeypatch):
    from sparse_estimators._solvers._glm import glm_solve
    from sparse_estimators.gpu import _glm, glm_fista, prepare_glm_design

    X, y = classification_problem()
    yb = np.where(y == 1, 1.0, -1.0)
    c = np.full(len(y), 2.0)
    design = prepare_glm_design(NUMPY, X, c)
    design.eig *= 0.01                                  # a 100x too short estimate
    printed = []
    monkeypatch.setattr("builtins.print", lambda *a, **k: printed.append(a[0]))
    w, b, gap, _, conv = glm_fista(NUMPY, X, yb, c, 1.0, 0.0, tol=1e-12, max_iter=100_000,
                                   design=design, verbose=1)
    assert conv and any("step too long" in line for line in printed)
    ref = glm_solve(X, yb, c, 1.0, 0.0, tol=1e-12)
    assert_allclose(w, ref[0], atol=1e-8)
    assert _glm.CURVATURE["logistic"] == 0.25


def test_classifiers_device_switch_without_cupy(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "cupy", None)        # `import cupy` fails
    X, y = classification_problem()
    for loss in ("logistic", "squared_hinge"):
        with pytest.raises(ImportError, match="pip install cupy-cuda12x"):
            _classifier(loss, device="gpu").fit(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            auto = _classifier(loss, device="auto").fit(X, y)
        cpu = _classifier(loss).fit(X, y)
        np.testing.assert_array_equal(auto.coef_, cpu.coef_)
        np.testing.assert_array_equal(auto.n_iter_, cpu.n_iter_)
        with pytest.raises(ValueError, match="device"):
            _classifier(loss, device="tpu").fit(X, y)


def _classifiers_on_the_device():
    # l1_ratio=0.5: strongly convex, so FISTA converges linearly on the checks' small,
    # nearly separable problems (pure L1 takes 1e5 iterations there at tol=1e-10)
    return [_classifier("logistic", device="gpu", l1_ratio=0.5, tol=1e-10,
                        max_iter=100_000),
            _classifier("squared_hinge", device="gpu", l1_ratio=0.5, tol=1e-10,
                        max_iter=100_000)]


@parametrize_with_checks(_classifiers_on_the_device())
def test_classifier_device_path_passes_estimator_checks(estimator, check, emulated_gpu):
    # scikit-learn's checks through the GPU code path (NumPy backend) of the classifiers
    check(estimator)


# --- classifier paths and CV on the device ------------------------------------------

@pytest.fixture
def glm_fista_calls(monkeypatch):
    """Count the device solves (and the designs built for them)."""
    from sparse_estimators import gpu
    from sparse_estimators.gpu import _glm

    calls = {"solve": 0, "design": 0}
    real_solve, real_design = gpu.glm_fista, gpu.prepare_glm_design

    def solve(*a, **k):
        calls["solve"] += 1
        return real_solve(*a, **k)

    def design(*a, **k):
        calls["design"] += 1
        return real_design(*a, **k)
    monkeypatch.setattr(gpu, "glm_fista", solve)
    monkeypatch.setattr(gpu, "prepare_glm_design", design)
    assert _glm.glm_fista is real_solve
    return calls


@pytest.mark.parametrize("fmt", ["csr", "csc", "dense"])
@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_path_on_the_device(gpu_path, glm_fista_calls, fmt, loss,
                                       n_classes):
    from sparse_estimators.linear_model import classifier_path

    X, y = classification_problem(fmt, n_classes=n_classes, seed=3)
    sw = np.random.default_rng(4).uniform(0.3, 2.0, size=y.shape)
    kw = dict(loss=loss, Cs=6, eps=1e-2, sample_weight=sw, class_weight="balanced",
              tol=1e-12, max_iter=100_000)
    Cs, coefs, icpts, n_iter = classifier_path(X, y, **kw)
    from sparse_estimators.linear_model import _classifier_cv as ccv
    real_convert, converted = ccv.as_solver_input, []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ccv, "as_solver_input",
                   lambda A: (converted.append(A.shape), real_convert(A))[1])
        Cs_d, coefs_d, icpts_d, n_iter_d = classifier_path(X, y, device="gpu", **kw)
    # the grid reads a CSR X as it is: no host CSC copy of it on the device path
    assert converted == ([] if fmt == "csr" else [X.shape])
    n_problems = 1 if n_classes == 2 else n_classes
    # one design (X, weights on the device) for the whole path and all the problems
    assert glm_fista_calls == {"design": 1, "solve": n_problems * 6}
    assert_allclose(Cs_d, Cs)
    assert coefs_d.shape == coefs.shape == (n_problems, 6, X.shape[1])
    # C rescales the penalty on the device: the same solutions as the CPU's C * c
    assert_allclose(coefs_d, coefs, atol=1e-8)
    assert_allclose(icpts_d, icpts, atol=1e-8)
    assert not coefs_d[:, 0].any()          # the grid starts at the all-zero model
    assert np.all(n_iter_d[:, 1:] > 0)


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
def test_classifier_cv_on_the_device(gpu_path, glm_fista_calls, loss):
    from sparse_estimators.linear_model import SparseLinearSVCCV, SparseLogisticRegressionCV

    Est = SparseLogisticRegressionCV if loss == "logistic" else SparseLinearSVCCV
    X, y = classification_problem(n_classes=3, seed=5, n=240)
    kw = dict(Cs=5, eps=1e-2, cv=3, tol=1e-12, max_iter=100_000, l1_ratio=0.7)
    cpu = Est(**kw).fit(X, y)
    dev = Est(device="gpu", **kw).fit(X, y)
    # one design per fold and one for the refit; 3 problems x 5 C per fold + refit
    assert glm_fista_calls == {"design": 4, "solve": 3 * 3 * 5 + 3}
    assert dev.C_ == cpu.C_
    assert_allclose(dev.scores_, cpu.scores_)
    # both at relative gap 1e-12: strong convexity (l2 = 0.3) bounds the distance of
    # each to the optimum by sqrt(2 gap / l2), ~3e-5 here
    assert_allclose(dev.coefs_paths_, cpu.coefs_paths_, atol=1e-4)
    assert_allclose(dev.coef_, cpu.coef_, atol=1e-4)
    assert_allclose(dev.intercept_, cpu.intercept_, atol=1e-4)
    np.testing.assert_array_equal(dev.predict(X), cpu.predict(X))
    with pytest.warns(ConvergenceWarning, match="FISTA iterations"):
        Est(device="gpu", Cs=3, cv=3, tol=1e-14, max_iter=2).fit(X, y)


def test_classifier_cv_and_path_without_cupy(monkeypatch, glm_fista_calls):
    import sys

    from sparse_estimators.linear_model import SparseLogisticRegressionCV, classifier_path

    monkeypatch.setitem(sys.modules, "cupy", None)        # `import cupy` fails
    X, y = classification_problem()
    with pytest.raises(ImportError, match="pip install cupy-cuda12x"):
        SparseLogisticRegressionCV(Cs=3, cv=3, device="gpu").fit(X, y)
    with pytest.raises(ImportError, match="pip install cupy-cuda12x"):
        classifier_path(X, y, Cs=3, device="gpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = SparseLogisticRegressionCV(Cs=3, cv=3, device="auto").fit(X, y)
        path_auto = classifier_path(X, y, Cs=3, device="auto")
    cpu = SparseLogisticRegressionCV(Cs=3, cv=3).fit(X, y)
    np.testing.assert_array_equal(auto.coef_, cpu.coef_)
    np.testing.assert_array_equal(path_auto[1], classifier_path(X, y, Cs=3)[1])
    assert glm_fista_calls["solve"] == 0
    with pytest.raises(ValueError, match="device"):
        SparseLogisticRegressionCV(device="tpu").fit(X, y)
    with pytest.raises(ValueError, match="device"):
        classifier_path(X, y, device="tpu")


def _classifier_cvs_on_the_device():
    from sparse_estimators.linear_model import SparseLinearSVCCV, SparseLogisticRegressionCV

    return [Est(device="gpu", cv=3, Cs=3, l1_ratio=0.5, tol=1e-8, max_iter=100_000)
            for Est in (SparseLogisticRegressionCV, SparseLinearSVCCV)]


@parametrize_with_checks(_classifier_cvs_on_the_device())
def test_classifier_cv_device_path_passes_estimator_checks(estimator, check, emulated_gpu):
    check(estimator)


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
def test_classifier_device_path_is_not_slowed_by_feature_means(gpu_path, loss):
    # two features of mean 100 (scikit-learn's check_fit_idempotent data): without the
    # implicit centring of _GLMDesign FISTA needed ~9e4 iterations here
    rng = np.random.RandomState(0)
    X = rng.normal(loc=100, size=(80, 2))
    y = rng.randint(0, 2, 80)
    ref = _classifier(loss, C=1.0, l1_ratio=0.5, tol=1e-10, max_iter=1000).fit(X - 100, y)
    dev = _classifier(loss, C=1.0, l1_ratio=0.5, tol=1e-10, max_iter=1000,
                      device="gpu").fit(X, y)
    assert dev.n_iter_[0] <= 200
    # same w as on the centred data; the intercept absorbs the shift
    assert_allclose(dev.coef_, ref.coef_, atol=1e-5)
    assert dev.intercept_[0] == pytest.approx(ref.intercept_[0] - 100 * ref.coef_.sum(),
                                              abs=1e-3)


def test_spmv_group_follows_the_mean_row_length():
    from sparse_estimators.gpu._backend import spmv_group

    assert [spmv_group(100, 100 * k) for k in (0, 1, 2, 3, 5, 12, 40, 3000)] == \
        [1, 1, 2, 2, 4, 8, 32, 32]
    assert spmv_group(0, 0) == 1
    # the NumPy backend's spmv is the plain product
    X, _ = problem()
    v = np.arange(X.shape[1], dtype=np.float64)
    assert_allclose(NUMPY.spmv(X, v), X @ v)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mean_row", [0.5, 3, 12, 40, 300, 3000])
def test_gpu_csr_kernel_matches_the_host(dtype, mean_row):
    backend = gpu_backend_or_skip()
    from sparse_estimators.gpu._backend import csr_spmv

    rng = np.random.default_rng(7)
    n, p = 700, 6000
    X = sp.random(n, p, density=mean_row / p, format="csr", random_state=7,
                  data_rvs=rng.standard_normal).astype(dtype)
    X = sp.vstack([X, sp.csr_matrix((5, p), dtype=dtype)]).tocsr()    # empty rows
    v = rng.standard_normal(p).astype(dtype)
    Xd, XTd = backend.csr_pair(X, dtype)
    ref = X.astype(np.float64) @ v.astype(np.float64)
    out = backend.to_host(csr_spmv(backend.xp, Xd, backend.asarray(v, dtype)))
    assert out.dtype == dtype and out.shape == (n + 5,)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.abs(out - ref).max() <= tol * max(1.0, np.abs(ref).max())
    assert not out[-5:].any()
    u = rng.standard_normal(n + 5).astype(dtype)
    outT = backend.to_host(backend.spmv(XTd, backend.asarray(u, dtype)))
    refT = X.T.astype(np.float64) @ u.astype(np.float64)
    assert np.abs(outT - refT).max() <= tol * max(1.0, np.abs(refT).max())


@pytest.mark.parametrize("fmt", ["csr", "csc", "dense"])
def test_enet_path_on_the_device(gpu_path, fista_calls, fmt):
    from sparse_estimators.linear_model import enet_path, lasso_path

    X, y = problem(fmt)
    kw = dict(l1_ratio=0.7, alphas=8, eps=1e-2, fit_intercept=True, tol=1e-12,
              max_iter=100_000, return_n_iter=True, return_intercept=True)
    alphas, coefs, gaps, _, icpts = enet_path(X, y, **kw)
    alphas_d, coefs_d, gaps_d, its_d, icpts_d = enet_path(X, y, device="gpu", **kw)
    assert_allclose(alphas_d, alphas)
    assert coefs_d.shape == coefs.shape == (X.shape[1], 8)
    assert_allclose(coefs_d, coefs, atol=1e-6)
    assert_allclose(icpts_d, icpts, atol=1e-6)
    assert np.all(gaps_d >= -1e-12) and len(its_d) == 8
    # one FISTA fit per alpha, each after the first warm-started from the last
    assert len(fista_calls) == 8 and fista_calls[0] is None
    assert all(w is not None for w in fista_calls[1:])
    assert_allclose(fista_calls[3], coefs_d[:, 2])
    Y = np.c_[y, -y]                                        # one problem per column
    path = dict(alphas=[0.1, 0.01], tol=1e-12, max_iter=100_000)
    _, multi_d, _ = lasso_path(X, Y, device="gpu", **path)
    _, multi, _ = lasso_path(X, Y, **path)
    assert multi_d.shape == (2, X.shape[1], 2)
    assert_allclose(multi_d, multi, atol=1e-6)
    with pytest.warns(ConvergenceWarning, match="after 2 FISTA iterations"):
        enet_path(X, y, alphas=[1e-4], device="gpu", tol=1e-14, max_iter=2)


def test_enet_path_device_switch(no_cupy):
    from sparse_estimators.linear_model import enet_path, lasso_path

    X, y = problem()
    with pytest.raises(ImportError, match="CuPy"):
        lasso_path(X, y, device="gpu")
    with pytest.raises(ValueError, match="device"):
        enet_path(X, y, device="tpu")
    _, auto, _ = lasso_path(X, y, alphas=5, device="auto")
    assert_allclose(auto, lasso_path(X, y, alphas=5)[1])


@pytest.mark.parametrize("fmt", ["csr", "csc", "dense"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_device_fit_checks_finiteness_on_the_device(gpu_path, fmt, bad, monkeypatch):
    # device="gpu" skips the host pass over X's values; the check happens on the
    # device after the transfer, with scikit-learn's kind of message
    X, y = problem()
    X = sp.csr_matrix(X)
    X.data[3] = bad
    X = X.toarray() if fmt == "dense" else X.asformat(fmt)
    copy = X.copy()
    with pytest.raises(ValueError, match="Input X contains NaN or infinity"):
        Lasso(alpha=0.01, device="gpu").fit(X, y)
    assert_array_equal(X.toarray() if sp.issparse(X) else X,
                       copy.toarray() if sp.issparse(copy) else copy)
    # the host's finite check is the one skipped, not the others
    import sklearn.utils.validation as skv
    seen = []
    real = skv._assert_all_finite
    monkeypatch.setattr(skv, "_assert_all_finite",
                        lambda a, *args, **kw: (seen.append(a.shape), real(a, *args, **kw)))
    Xf, _ = problem()
    Lasso(alpha=0.01, device="gpu").fit(Xf, y)
    assert Xf.data.shape not in seen and y.shape in seen
    # on the CPU, scikit-learn's own check keeps its message
    with pytest.raises(ValueError, match="Input X contains"):
        Lasso(alpha=0.01).fit(X, y)


@pytest.mark.parametrize("fmt", ["csr", "csc", "dense"])
def test_device_grid_and_refit_use_no_host_copy_of_x(gpu_path, fmt, monkeypatch):
    # On the device path, enet_path and the CV estimators compute the automatic
    # grid from the device copy of X and refit on it: no host Design (the CPU
    # path's CSC copy of X) is built, X goes to the device once per fold plus once
    from sparse_estimators import gpu
    from sparse_estimators.linear_model import LassoCV, enet_path
    from sparse_estimators.linear_model import _coordinate_descent as cd_mod
    from sparse_estimators.linear_model import _cv as cv_mod

    host, device = [], []
    for mod in (cd_mod, cv_mod):
        real = mod.Design
        monkeypatch.setattr(mod, "Design",
                            lambda X, *a, _real=real: (host.append(X.shape), _real(X, *a))[1])
    real_prepare = gpu.prepare_design
    monkeypatch.setattr(gpu, "prepare_design",
                        lambda b, X, *a, **k: (device.append(X.shape),
                                               real_prepare(b, X, *a, **k))[1])
    X, y = problem(fmt, n=150, p=40)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    kw = dict(l1_ratio=0.8, alphas=6, eps=1e-2, sample_weight=sw, tol=1e-12,
              max_iter=100_000)
    grid_d, coefs_d, _ = enet_path(X, y, device="gpu", **kw)
    assert host == [] and device == [X.shape]
    grid, coefs, _ = enet_path(X, y, **kw)
    assert host == [X.shape]
    assert_allclose(grid_d, grid, rtol=1e-12)
    assert_allclose(coefs_d, coefs, atol=1e-6)

    host.clear(), device.clear()
    cv = LassoCV(alphas=6, cv=3, tol=1e-12, max_iter=100_000)
    dev = cv.set_params(device="gpu").fit(X, y, sample_weight=sw)
    assert host == [] and len(device) == 4 and device[0] == X.shape
    cpu = LassoCV(alphas=6, cv=3, tol=1e-12, max_iter=100_000).fit(X, y,
                                                                    sample_weight=sw)
    assert_allclose(dev.alphas_, cpu.alphas_, rtol=1e-12)
    assert dev.alpha_ == cpu.alpha_
    assert_allclose(dev.coef_, cpu.coef_, atol=1e-6)
    assert dev.intercept_ == pytest.approx(cpu.intercept_, abs=1e-6)


def test_convergence_warnings_point_at_the_caller(gpu_path):
    # ConvergenceWarning's stacklevel names the line that called fit, through
    # scikit-learn's _fit_context wrapper, on both paths and in the CV refit
    from sparse_estimators.linear_model import LassoCV

    X, y = problem()
    fits = [lambda: Lasso(alpha=1e-4, tol=1e-14, max_iter=3).fit(X, y),
            lambda: Lasso(alpha=1e-4, tol=1e-14, max_iter=3, device="gpu").fit(X, y),
            lambda: LassoCV(alphas=[1e-4], cv=2, tol=1e-14, max_iter=3).fit(X, y),
            lambda: LassoCV(alphas=[1e-4], cv=2, tol=1e-14, max_iter=3,
                            device="gpu").fit(X, y)]
    for fit in fits:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit()
        files = {w.filename for w in caught if w.category is ConvergenceWarning}
        assert files == {__file__}


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
@pytest.mark.parametrize("fmt", ["csr", "dense"])
def test_glm_certificate_products_on_the_device(gpu_path, loss, fmt, monkeypatch):
    # The classifiers' gap checks take X w and X^T alpha on the device for float64
    # data, which never get a host copy of X; float32 data get one (per design),
    # the float64 certificate's. Same solutions.
    from sparse_estimators.gpu import _glm

    converted = []
    real = _glm.as_solver_input
    monkeypatch.setattr(_glm, "as_solver_input",
                        lambda A: (converted.append(A.dtype), real(A))[1])
    X, y = classification_problem(fmt, n_classes=2, seed=5)
    cpu = _classifier(loss, C=1.0, tol=1e-10, max_iter=100_000).fit(X, y)
    dev = _classifier(loss, device="gpu", C=1.0, tol=1e-10, max_iter=100_000).fit(X, y)
    assert converted == []
    assert_allclose(dev.coef_, cpu.coef_, atol=1e-6)
    assert dev.dual_gap_ <= 1e-10 * (1 + 1e-6)
    X32 = X.astype(np.float32)
    # (float32 iterates: a looser tol, as in the test above)
    dev32 = _classifier(loss, device="gpu", C=1.0, tol=1e-5, max_iter=100_000).fit(X32, y)
    assert converted == [np.float32]           # one host copy, for the certificate
    assert dev32.dual_gap_ <= 1e-5 * (1 + 1e-6)
    assert_allclose(dev32.coef_, cpu.coef_, atol=1e-2 * np.abs(cpu.coef_).max())


@pytest.mark.parametrize("weighted", [False, True])
def test_device_grid_float32_large_means_matches_the_cpu(gpu_path, weighted):
    # float32 columns of mean 1000: Xc^T yc summed in float32 loses ~4e-4 of
    # alpha_max to cancellation; the device grid sums in float64 like the CPU's
    from sparse_estimators.linear_model import enet_path

    n = 30_000
    rng = np.random.default_rng(7)
    X = (1000.0 + rng.standard_normal((n, 8))).astype(np.float32)
    y = (X[:, 0] - X[:, 1] + rng.standard_normal(n)).astype(np.float32)
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    kw = dict(alphas=4, eps=1e-2, sample_weight=sw, tol=1e-6, max_iter=100_000)
    grid_d = enet_path(X, y, device="gpu", **kw)[0]
    grid = enet_path(X, y, **kw)[0]
    # weighted: the device's float32 sqrt(weights) and means leave float32 rounding
    assert_allclose(grid_d, grid, rtol=1e-6 if weighted else 1e-12)
