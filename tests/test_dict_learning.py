"""DictionaryLearning / MiniBatchDictionaryLearning: monotone batch objective, the
statistics-based objective equals the direct one, agreement with scikit-learn from
the same start, dense and sparse input give the same dictionary, bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.decomposition import DictionaryLearning as SkDL
from sklearn.decomposition import MiniBatchDictionaryLearning as SkMB

from sparse_estimators.decomposition import (
    DictionaryLearning,
    MiniBatchDictionaryLearning,
    sparse_encode,
)
from sparse_estimators.decomposition._dict_learning import objective_from_stats


def _data(n=120, p=16, k=6, seed=0):
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((k, p))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    U = rng.standard_normal((n, k)) * (rng.random((n, k)) < 0.4)
    return U @ D + 0.05 * rng.standard_normal((n, p)), D


def _objective(X, U, V, alpha):
    X = X.toarray() if sp.issparse(X) else X
    return 0.5 * np.sum((X - U @ V) ** 2) + alpha * np.abs(U).sum()


def test_objective_from_stats():
    X, D = _data()
    U = sparse_encode(X, D, algorithm="lasso_lars", alpha=0.1)
    got = objective_from_stats(np.sum(X ** 2), U.T @ U, U.T @ X, D, 0.1 * np.abs(U).sum())
    assert np.isclose(got, _objective(X, U, D, 0.1), rtol=1e-12)


@pytest.mark.parametrize("positive", [False, True])
def test_batch_objective_decreases_monotonically(positive):
    X, _ = _data()
    X = np.abs(X) if positive else X
    dl = DictionaryLearning(n_components=6, alpha=0.2, max_iter=30, tol=0, random_state=0,
                            positive_code=positive, positive_dict=positive).fit(X)
    err = dl.error_
    assert err.shape == (30,) and dl.n_iter_ == 30
    assert np.all(np.diff(err) <= 1e-10 * err[0])
    assert err[-1] < err[0]
    assert np.all(np.linalg.norm(dl.components_, axis=1) <= 1 + 1e-12)
    if positive:
        assert np.all(dl.components_ >= 0)
    # error_ is the true objective of the last codes and atoms
    U = sparse_encode(X, dl.components_, algorithm="lasso_lars", alpha=0.2,
                      positive=positive)
    assert _objective(X, U, dl.components_, 0.2) <= err[-1] * (1 + 1e-9)


def test_matches_scikit_learn_from_the_same_start():
    X, D = _data(seed=1)
    init = D + 0.3 * np.random.default_rng(2).standard_normal(D.shape)
    init /= np.linalg.norm(init, axis=1, keepdims=True)
    ours = DictionaryLearning(n_components=6, alpha=0.1, max_iter=15, tol=0,
                              dict_init=init).fit(X)
    ref = SkDL(n_components=6, alpha=0.1, max_iter=15, tol=0, dict_init=init,
               code_init=np.zeros((X.shape[0], 6)), fit_algorithm="lars").fit(X)
    assert_allclose(ours.error_, ref.error_, rtol=1e-7)
    assert_allclose(ours.components_, ref.components_, atol=1e-6)


@pytest.mark.parametrize("Est", [DictionaryLearning, MiniBatchDictionaryLearning])
def test_sparse_input_equals_dense(Est):
    rng = np.random.default_rng(3)
    X = sp.random(200, 30, density=0.15, format="csr", random_state=3,
                  data_rvs=rng.standard_normal)
    init = rng.standard_normal((5, 30))
    kw = dict(n_components=5, alpha=0.05, dict_init=init, max_iter=5, random_state=0)
    if Est is MiniBatchDictionaryLearning:
        kw.update(batch_size=40, tol=0, max_no_improvement=None)
    a = Est(**kw).fit(X)
    b = Est(**kw).fit(X.toarray())
    assert_allclose(a.components_, b.components_, atol=1e-8)
    assert_allclose(a.transform(X), b.transform(X.toarray()), atol=1e-8)


def test_minibatch_learns_a_good_dictionary():
    X, D = _data(n=2000, seed=4)
    X_train, X_test = X[:1600], X[1600:]
    mb = MiniBatchDictionaryLearning(n_components=6, alpha=0.1, batch_size=64, max_iter=20,
                                     random_state=0, tol=0).fit(X_train)

    def held_out(V):
        U = sparse_encode(X_test, V, algorithm="lasso_lars", alpha=0.1)
        return _objective(X_test, U, V, 0.1)

    rng = np.random.default_rng(0)
    random = rng.standard_normal(D.shape)
    random /= np.linalg.norm(random, axis=1, keepdims=True)
    assert held_out(mb.components_) < 0.5 * held_out(random)
    # as good as scikit-learn's online learner with the same settings
    ref = SkMB(n_components=6, alpha=0.1, batch_size=64, max_iter=20, random_state=0,
               tol=0).fit(X_train)
    assert held_out(mb.components_) <= 1.05 * held_out(ref.components_)
    assert mb.n_steps_ == len(mb.objective_) and mb.n_iter_ > 1


def test_partial_fit_and_float32():
    X, _ = _data(n=300, seed=5)
    mb = MiniBatchDictionaryLearning(n_components=6, alpha=0.1, random_state=0)
    for chunk in np.array_split(X.astype(np.float32), 6):
        mb.partial_fit(chunk)
    assert mb.n_steps_ == 6 and mb.components_.dtype == np.float32
    assert mb.transform(X[:4].astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="features"):
        mb.partial_fit(X[:, :5])


def test_transform_split_sign_and_inverse():
    X, _ = _data(seed=6)
    dl = DictionaryLearning(n_components=6, alpha=0.1, max_iter=5, random_state=0,
                            transform_algorithm="lasso_lars", transform_alpha=0.1,
                            split_sign=True).fit(X)
    code = dl.transform(X)
    assert code.shape == (X.shape[0], 12) and np.all(code >= 0)
    plain = sparse_encode(X, dl.components_, algorithm="lasso_lars", alpha=0.1)
    assert_allclose(dl.inverse_transform(code), plain @ dl.components_, atol=1e-10)
    assert list(dl.get_feature_names_out()[:2]) == ["dictionarylearning0",
                                                   "dictionarylearning1"]


def test_more_atoms_than_rank_and_unused_atoms():
    X, _ = _data(n=40, p=10, seed=7)
    dl = DictionaryLearning(n_components=15, alpha=2.0, max_iter=5, random_state=0).fit(X)
    assert dl.components_.shape == (15, 10)
    assert np.all(np.isfinite(dl.components_))


@pytest.mark.parametrize("Est", [DictionaryLearning, MiniBatchDictionaryLearning])
def test_bad_input(Est):
    X, _ = _data()
    Xn = X.copy()
    Xn[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        Est(n_components=3).fit(Xn)
    with pytest.raises(ValueError, match="dict_init must have shape"):
        Est(n_components=3, dict_init=np.ones((2, X.shape[1]))).fit(X)
    with pytest.raises(ValueError, match="alpha"):
        Est(alpha=-1.0).fit(X)
    with pytest.raises(ValueError, match="fit_algorithm"):
        Est(fit_algorithm="omp").fit(X)


def test_fit_transform_returns_the_fits_codes():
    # scikit-learn's semantics: the codes of the fit's last iteration (fit_algorithm
    # on the atoms before the last update), not transform's (OMP by default).
    X, D = _data(seed=1)
    init = D + 0.3 * np.random.default_rng(2).standard_normal(D.shape)
    init /= np.linalg.norm(init, axis=1, keepdims=True)
    kw = dict(n_components=6, alpha=0.1, max_iter=15, tol=0, dict_init=init)
    ours = DictionaryLearning(**kw)
    U = ours.fit_transform(X)
    ref = SkDL(**kw, code_init=np.zeros((X.shape[0], 6)), fit_algorithm="lars")
    assert_allclose(U, ref.fit_transform(X), atol=1e-6)
    assert_allclose(ours.components_, ref.components_, atol=1e-6)
    assert np.count_nonzero(U) > np.count_nonzero(ours.transform(X))  # OMP: fewer
    # fit is fit_transform without the codes
    assert_allclose(DictionaryLearning(**kw).fit(X).components_, ours.components_)
    both = DictionaryLearning(**kw, split_sign=True).fit_transform(X)
    assert_allclose(both[:, :6] - both[:, 6:], U)
    zero = DictionaryLearning(**{**kw, "max_iter": 0}).fit_transform(X)
    assert zero.shape == U.shape and np.all(np.isfinite(zero))


@pytest.mark.parametrize("Est", [DictionaryLearning, MiniBatchDictionaryLearning])
def test_positive_dict_holds_when_unused_atoms_are_replaced(Est):
    # alpha this large leaves atoms unused; each is replaced by a data row, which
    # must be clipped at 0 as well
    X = np.random.default_rng(0).standard_normal((60, 8))
    kw = dict(n_components=10, alpha=5.0, positive_dict=True, max_iter=5, random_state=0)
    if Est is MiniBatchDictionaryLearning:
        kw.update(batch_size=20)
    V = Est(**kw).fit(X).components_
    assert np.all(V >= 0)
    assert np.all(np.linalg.norm(V, axis=1) <= 1 + 1e-12)


@pytest.mark.parametrize("Est", [DictionaryLearning, MiniBatchDictionaryLearning])
@pytest.mark.parametrize("algo", ["lasso_lars", "lasso_cd", "threshold"])
def test_transform_alpha_none_is_alpha(Est, algo):
    # scikit-learn >= 1.2: transform_alpha=None codes with the learner's alpha
    X, _ = _data()
    kw = dict(n_components=6, alpha=0.05, transform_algorithm=algo, max_iter=3,
              random_state=0)
    if Est is MiniBatchDictionaryLearning:
        kw.update(batch_size=40)
    m = Est(**kw).fit(X)
    got = m.transform(X)
    want = sparse_encode(X, m.components_, algorithm=algo, alpha=0.05)
    assert_allclose(got, want, atol=1e-10)
    one = sparse_encode(X, m.components_, algorithm=algo, alpha=1.0)
    assert np.count_nonzero(got) > np.count_nonzero(one)
    # an explicit transform_alpha still wins
    assert_allclose(m.set_params(transform_alpha=1.0).transform(X), one, atol=1e-10)
