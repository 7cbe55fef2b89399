"""PruneRefit: the pattern holds on coef_, refits are exact least-squares / per-row
refits on the kept support, refitting beats masking, iterative schedules, the
sensitivity criterion, scikit-learn integration and bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_diabetes, make_classification
from sklearn.feature_selection import SelectFromModel
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from sparse_estimators.linear_model import Lasso, SparseLogisticRegression
from sparse_estimators.sparsity import PruneRefit, cubic_schedule, nm_schedule


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_refit_is_ols_on_kept_support(diabetes):
    X, y = diabetes
    model = PruneRefit(Ridge(alpha=1.0), sparsity=0.6,
                       refit_estimator=LinearRegression()).fit(X, y)
    support = np.flatnonzero(model.mask_)
    assert support.size == 4 and model.sparsity_ == 0.6
    ols = LinearRegression().fit(X[:, support], y)
    assert_allclose(model.coef_[support], ols.coef_, rtol=1e-10)
    assert np.isclose(model.intercept_, ols.intercept_)
    # the kept features are the 4 largest |coef| of the full Ridge
    dense = np.abs(model.dense_estimator_.coef_)
    assert set(support) == set(np.argsort(-dense)[:4])


def test_refit_beats_masking(cancer):
    X, y = cancer
    base = LogisticRegression(C=1.0, max_iter=1000)
    for pattern, kw in [("unstructured", {"sparsity": 0.8}), ("n:m", {}),
                        ("block", {"sparsity": 0.5, "block_shape": (1, 3)})]:
        refit = PruneRefit(base, pattern=pattern, **kw).fit(X, y)
        masked = PruneRefit(base, pattern=pattern, refit=False, **kw).fit(X, y)
        assert_array_equal(refit.mask_, masked.mask_)
        assert refit.score(X, y) >= masked.score(X, y)
        loss = [np.mean(np.logaddexp(0, -(2 * y - 1) * m.decision_function(X)))
                for m in (refit, masked)]
        assert loss[0] < loss[1]          # the refit is the better fit on its support


def test_nm_pattern_on_coef(cancer):
    X, y = cancer                          # 30 features: 7 groups of 4 and one of 2
    model = PruneRefit(LogisticRegression(max_iter=1000), pattern="n:m").fit(X, y)
    nz = model.coef_[0] != 0
    assert np.all(nz[:28].reshape(7, 4).sum(axis=1) <= 2)
    assert model.mask_.sum() == 7 * 2 + 2


def test_block_pattern_and_iterative_schedule(diabetes):
    X, y = diabetes
    model = PruneRefit(Ridge(0.1), pattern="block", block_shape=(1, 2), sparsity=0.6,
                       n_steps=3).fit(X, y)
    blocks = model.mask_.reshape(5, 2)
    assert np.all(blocks.all(axis=1) | ~blocks.any(axis=1))
    assert blocks.all(axis=1).sum() == 2


def test_iterative_masks_are_nested(cancer):
    X, y = cancer
    est = LogisticRegression(max_iter=1000)
    masks = [PruneRefit(est, sparsity=s).fit(X, y).mask_ for s in cubic_schedule(0.9, 3)]
    it = PruneRefit(est, sparsity=0.9, n_steps=3).fit(X, y)
    assert it.mask_.sum() == masks[-1].sum()
    # iterative pruning reaches the same count; kept weights are a subset of step 1's
    assert np.all(it.mask_ <= PruneRefit(est, sparsity=cubic_schedule(0.9, 3)[0])
                  .fit(X, y).mask_)


def test_schedules():
    assert_allclose(cubic_schedule(0.8, 1), [0.8])
    s = cubic_schedule(0.9, 4)
    assert s[-1] == pytest.approx(0.9) and np.all(np.diff(s) > 0)
    assert np.all(np.diff(np.diff(s)) < 0)          # big steps first
    assert nm_schedule(2, 4, 2) == [3, 2]
    assert nm_schedule(1, 8, 1) == [1]


def test_iterative_nm(cancer):
    X, y = cancer
    model = PruneRefit(LogisticRegression(max_iter=1000), pattern="n:m", n=1, m=4,
                       n_steps=3).fit(X, y)
    assert np.all(model.mask_[0, :28].reshape(7, 4).sum(axis=1) == 1)


def test_multiclass_refits_one_vs_rest_per_row():
    X, y = make_classification(200, 12, n_informative=6, n_classes=3, random_state=0)
    est = LogisticRegression(max_iter=1000)
    model = PruneRefit(est, sparsity=0.5, axis=1).fit(X, y)
    assert model.coef_.shape == (3, 12)
    assert np.all(model.mask_.sum(axis=1) == 6)
    assert not np.all(model.mask_ == model.mask_[0])   # rows keep different features
    for k in range(3):
        cols = np.flatnonzero(model.mask_[k])
        ref = LogisticRegression(max_iter=1000).fit(X[:, cols], y == k)
        assert_allclose(model.coef_[k, cols], ref.coef_[0], rtol=1e-6, atol=1e-8)
        assert np.isclose(model.intercept_[k], ref.intercept_[0])
    assert model.score(X, y) > 0.6
    assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)


def test_multitarget_regression_refits_per_target():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 8))
    Y = np.c_[X[:, :3] @ [1.0, 2.0, 3.0], X[:, 4:7] @ [3.0, -2.0, 1.0]]
    Y += 0.01 * rng.standard_normal(Y.shape)
    model = PruneRefit(Ridge(1e-3), sparsity=5 / 8, axis=1,
                       refit_estimator=LinearRegression()).fit(X, Y)
    assert_array_equal(model.mask_[0], np.arange(8) < 3)
    assert_array_equal(model.mask_[1], (np.arange(8) >= 4) & (np.arange(8) < 7))
    for k in range(2):
        cols = np.flatnonzero(model.mask_[k])
        ref = LinearRegression().fit(X[:, cols], Y[:, k])
        assert_allclose(model.coef_[k, cols], ref.coef_, rtol=1e-10)
        assert np.isclose(model.intercept_[k], ref.intercept_)


def test_full_sparsity_keeps_an_intercept(diabetes):
    X, y = diabetes
    model = PruneRefit(LinearRegression(), sparsity=1.0).fit(X, y)
    assert not np.any(model.coef_)
    assert np.isclose(model.intercept_, y.mean())


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_matches_dense(fmt):
    rng = np.random.default_rng(0)
    X = sp.random(120, 30, density=0.2, random_state=0, format=fmt,
                  data_rvs=rng.standard_normal)
    y = np.asarray(X[:, :5].sum(axis=1)).ravel() + 0.1 * rng.standard_normal(120)
    est = Lasso(alpha=1e-3, tol=1e-10)
    a = PruneRefit(est, sparsity=0.8).fit(X, y)
    b = PruneRefit(est, sparsity=0.8).fit(X.toarray(), y)
    assert_array_equal(a.mask_, b.mask_)
    assert_allclose(a.coef_, b.coef_, rtol=1e-6, atol=1e-9)
    assert_allclose(a.predict(X), b.predict(X.toarray()), rtol=1e-6)


def test_sample_weight_reaches_the_refit(diabetes):
    X, y = diabetes
    w = np.random.default_rng(0).uniform(0.1, 3.0, y.shape[0])
    model = PruneRefit(LinearRegression(), sparsity=0.5).fit(X, y, sample_weight=w)
    cols = np.flatnonzero(model.mask_)
    ref = LinearRegression().fit(X[:, cols], y, sample_weight=w)
    assert_allclose(model.coef_[cols], ref.coef_, rtol=1e-8)


def test_sensitivity_scores_are_validation_drops():
    # a feature with a large weight that hurts on held-out data, and small useful ones
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 6))
    y = X[:, :3] @ [1.0, 1.0, 1.0] + 0.1 * rng.standard_normal(300)
    model = PruneRefit(LinearRegression(), sparsity=0.5, criterion="sensitivity",
                       random_state=0).fit(X, y)
    assert set(np.flatnonzero(model.mask_)) == {0, 1, 2}
    # the ranking it used equals manual score drops on its own split
    from sklearn.model_selection import train_test_split
    Xt, Xv, yt, yv = train_test_split(X, y, test_size=0.2, random_state=0)
    ref = LinearRegression().fit(Xt, yt)
    base = ref.score(Xv, yv)
    drops = []
    for j in range(6):
        probe = LinearRegression().fit(Xt, yt)
        probe.coef_ = ref.coef_.copy()
        probe.coef_[j] = 0
        drops.append(base - probe.score(Xv, yv))
    ranks = model._sensitivity(ref, lambda e, X_, y_: e.score(X_, y_), Xv, yv, None)
    assert_array_equal(np.argsort(ranks.ravel()), np.argsort(drops))


def test_sensitivity_block_classifier(cancer):
    X, y = cancer
    model = PruneRefit(LogisticRegression(max_iter=1000), pattern="block",
                       block_shape=(1, 5), sparsity=0.5, criterion="sensitivity",
                       scoring="neg_log_loss", random_state=0).fit(X, y)
    blocks = model.mask_.reshape(6, 5)
    assert np.all(blocks.all(axis=1) | ~blocks.any(axis=1)) and blocks.all(axis=1).sum() == 3
    assert model.score(X, y) > 0.9


def test_gridsearch_over_sparsity_and_selectfrommodel(cancer):
    X, y = cancer
    grid = GridSearchCV(PruneRefit(SparseLogisticRegression(C=1.0)),
                        {"sparsity": [0.5, 0.8, 0.95]}, cv=3).fit(X, y)
    assert grid.best_params_["sparsity"] in (0.5, 0.8, 0.95)
    model = PruneRefit(LogisticRegression(max_iter=1000), sparsity=0.9).fit(X, y)
    sel = SelectFromModel(model, prefit=True, threshold=1e-12)
    assert sel.transform(X).shape[1] == model.mask_.sum() == 3


def test_feature_names_and_delegates(cancer):
    pd = pytest.importorskip("pandas")
    X, y = cancer
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = PruneRefit(LogisticRegression(max_iter=1000), sparsity=0.5).fit(df, y)
    assert list(model.feature_names_in_) == list(df.columns)
    assert model.predict_log_proba(df).shape == (X.shape[0], 2)
    assert not hasattr(PruneRefit(Ridge()), "predict_proba")


def test_caller_arrays_untouched(diabetes):
    X, y = diabetes
    X0, y0 = X.copy(), y.copy()
    PruneRefit(Ridge(), n_steps=2, criterion="sensitivity", random_state=0).fit(X, y)
    assert_array_equal(X, X0)
    assert_array_equal(y, y0)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"sparsity": 1.5}, ValueError, "sparsity"),
    ({"pattern": "2:4"}, ValueError, "pattern"),
    ({"pattern": "n:m", "n": 5, "m": 4}, ValueError, "n must be at most m"),
    ({"n_steps": 0}, ValueError, "n_steps"),
    ({"validation_fraction": 1.0}, ValueError, "validation_fraction"),
    ({"estimator": "ridge"}, ValueError, "estimator"),
])
def test_bad_parameters(diabetes, kwargs, exc, match):
    X, y = diabetes
    params = {"estimator": Ridge(), **kwargs}
    with pytest.raises(exc, match=match):
        PruneRefit(**params).fit(X, y)


def test_bad_input(diabetes):
    X, y = diabetes
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        PruneRefit(Ridge()).fit(Xn, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        PruneRefit(Ridge()).fit(X, y[:-1])
    model = PruneRefit(Ridge()).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :5])
    with pytest.raises(TypeError, match="no coef_ after fit"):
        PruneRefit(_NoCoef()).fit(X, y)


class _NoCoef(Ridge):
    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight)
        del self.coef_
        return self
