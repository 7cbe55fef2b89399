"""SparseMatrixFactorization(device="gpu"): the row-vectorised sweeps of
sparse_estimators.gpu._mf on the NumPy backend in CI and on CuPy where there is a GPU
(``gpu`` marker), against the CPU solver."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils.estimator_checks import parametrize_with_checks
from test_estimator_checks import MF_ROW_IDENTITY_CHECKS
from test_matrix_factorization import dense_objective, implicit_counts, planted

from sparse_estimators.decomposition import SparseMatrixFactorization as MF
from sparse_estimators.gpu import NUMPY
from sparse_estimators.gpu._mf import device_sides, half_sweep

CONFIGS = [
    dict(),                                                     # explicit, all biases
    dict(biases="user+global", reg_scaling="none", l1_ratio=0.3),
    dict(nonnegative=True, l1_ratio=0.5, alpha=0.01, biases="none"),
    dict(feedback="implicit"),
    dict(feedback="implicit", confidence="log", confidence_scale=4.0, alpha=0.5,
         l1_ratio=0.2),
    dict(feedback="implicit", confidence_scale=0.0),            # every c equals c0
]


def _data(kw, dtype):
    if kw.get("feedback") == "implicit":
        return implicit_counts(n_users=80, n_items=50, density=0.2).astype(dtype)
    R, _, _ = planted(n_users=80, n_items=50, density=0.3, noise=0.1)
    if kw.get("nonnegative"):
        R = abs(R)
    return R.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", CONFIGS)
def test_device_fit_is_the_cpu_fit(gpu_path, kw, dtype):
    # the same sweeps from the same start: same objectives, iterations and factors
    R = _data(kw, dtype)
    before = R.copy()
    est = dict(n_components=4, random_state=0, max_iter=40, tol=1e-9, **kw)
    cpu = MF(**est).fit(R)
    dev = MF(device="gpu", **est).fit(R)
    assert_array_equal(R.data, before.data)                 # the caller's data untouched
    assert dev.n_iter_ == cpu.n_iter_
    assert dev.user_factors_.dtype == dev.components_.dtype == dtype
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    assert_allclose(dev.objective_, cpu.objective_, rtol=rtol)
    atol = 1e-8 if dtype == np.float64 else 1e-3
    scale = max(1.0, np.abs(cpu.user_factors_).max())
    assert_allclose(dev.user_factors_, cpu.user_factors_, atol=atol * scale)
    assert_allclose(dev.components_, cpu.components_, atol=atol * scale)
    assert_allclose(dev.user_bias_, cpu.user_bias_, atol=atol * scale)
    assert_allclose(dev.item_bias_, cpu.item_bias_, atol=atol * scale)
    # the reported objective is the documented one at the returned factors
    assert dense_objective(dev, R) == pytest.approx(dev.objective_[-1], rel=rtol * 10)
    assert np.all(np.diff(dev.objective_) <= 1e-9 * np.abs(dev.objective_[1:]))
    if kw.get("nonnegative"):
        assert dev.user_factors_.min() >= 0 and dev.components_.min() >= 0


def test_float32_objective_is_summed_in_float64(gpu_path):
    # near convergence the sweeps' decrease is below float32 rounding of the
    # objective: summed in float32 it rose at sweep 9 and stopped the fit (22 on
    # the CPU, whose kernel sums the observed loss in float64)
    rng = np.random.default_rng(1)
    R = sp.random(60, 40, density=0.2, format="csr", random_state=3)
    R.data = rng.integers(0, 4, R.nnz).astype(np.float32)
    R = sp.vstack([R, sp.csr_matrix((3, 40), dtype=np.float32)]).tocsr()
    est = dict(n_components=3, random_state=0, max_iter=25, tol=1e-10, nonnegative=True,
               reg_scaling="none", l1_ratio=0.9, alpha=0.5)
    cpu = MF(**est).fit(R)
    dev = MF(device="gpu", **est).fit(R)
    assert dev.n_iter_ == cpu.n_iter_
    assert_allclose(dev.objective_, cpu.objective_, rtol=1e-6)


def test_half_sweep_is_one_cd_pass_per_row():
    # each row's step is the exact minimiser of its coordinate problem: a row's
    # objective after the pass is the CPU kernel's (checked on one column: one
    # coordinate step from zero is the closed form b / a)
    R = implicit_counts(n_users=20, n_items=15, density=0.4)
    layout = (np.array([0]), np.array([0.5]), np.array([0.0]), np.array([False]))
    users, _ = device_sides(NUMPY, R.indptr, R.indices, 15, R.data + 1.0, R.data.copy(),
                            {"user": layout, "item": layout}, False)
    Y = np.random.default_rng(0).normal(size=(15, 1))
    X = np.zeros((20, 1))
    half_sweep(NUMPY, users, X, Y, S=Y.T @ Y)
    C = R.toarray() + 1.0                                  # confidences (1 unobserved)
    P = (R.toarray() > 0).astype(float)                    # preferences
    expected = (C * P) @ Y[:, 0] / (C @ (Y[:, 0] ** 2) + 0.5)
    assert_allclose(X[:, 0], expected, rtol=1e-12)


def test_device_fit_with_empty_rows_and_columns_and_other_formats(gpu_path):
    R, _, _ = planted(n_users=40, n_items=30)
    R = sp.vstack([R, sp.csr_matrix((2, 30))]).tolil()
    R[:, 5] = 0                                              # an item nobody rated
    R = sp.csr_matrix(R)
    R.eliminate_zeros()
    est = dict(n_components=3, random_state=0, max_iter=30, tol=1e-10)
    cpu = MF(**est).fit(R)
    for X in (R, R.tocsc(), sp.csr_array(R)):
        X64 = X.copy()
        X64.indices = X64.indices.astype(np.int64)
        X64.indptr = X64.indptr.astype(np.int64)
        for data in (X, X64):
            dev = MF(device="gpu", **est).fit(data)
            assert_allclose(dev.objective_, cpu.objective_, rtol=1e-10)
            assert_array_equal(dev.user_factors_[-2:], 0.0)      # their minimiser
            assert_array_equal(dev.components_[:, 5], 0.0)
    # the rest of the API runs on the host factors
    items, scores = dev.recommend(0, n=3)
    assert items.shape == (3,) and np.all(np.diff(scores) <= 0)
    assert_allclose(dev.predict(R).data, cpu.predict(R).data, atol=1e-8)
    assert_allclose(dev.transform(R[:5]), cpu.transform(R[:5]), atol=1e-8)


def test_device_fit_verbose_and_auto(gpu_path, capsys):
    R = implicit_counts()
    dev = MF(n_components=2, feedback="implicit", random_state=0, max_iter=3, tol=0.0,
             verbose=1, device="gpu").fit(R)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == dev.n_iter_ == 3 and "sweep 3" in lines[-1]
    auto = MF(n_components=2, feedback="implicit", random_state=0, max_iter=3, tol=0.0,
              device="auto").fit(R)
    assert_allclose(auto.objective_, dev.objective_, rtol=1e-12)


def test_device_switch_without_cupy(no_cupy):
    R = implicit_counts()
    with pytest.raises(ImportError, match="CuPy"):
        MF(device="gpu").fit(R)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = MF(n_components=2, random_state=0, device="auto").fit(R)
    assert_array_equal(auto.user_factors_,
                       MF(n_components=2, random_state=0).fit(R).user_factors_)
    with pytest.raises(ValueError, match="device"):
        MF(device="tpu").fit(R)


@parametrize_with_checks(
    [MF(n_components=2, random_state=0, device="gpu"),
     MF(n_components=2, feedback="implicit", random_state=0, device="gpu"),
     MF(n_components=2, nonnegative=True, l1_ratio=0.5, random_state=0, device="gpu")],
    expected_failed_checks=lambda est: MF_ROW_IDENTITY_CHECKS)
def test_device_path_passes_estimator_checks(estimator, check, emulated_gpu):
    # scikit-learn's checks through the GPU code path (NumPy backend)
    check(estimator)
