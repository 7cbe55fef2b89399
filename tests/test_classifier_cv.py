"""classifier_path and the cross-validated classifiers: warm-started paths equal cold
fits, CV scores equal GridSearchCV's, the refit is the plain estimator at C_."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sparse_estimators.linear_model import (
    SparseLinearSVC,
    SparseLinearSVCCV,
    SparseLogisticRegression,
    SparseLogisticRegressionCV,
    classifier_path,
    l1_min_c,
)

LOSSES = {"logistic": (SparseLogisticRegression, SparseLogisticRegressionCV),
          "squared_hinge": (SparseLinearSVC, SparseLinearSVCCV)}


def _data(n_classes=2, seed=0, n=120, p=40):
    X, y = make_classification(n, p, n_informative=6, n_classes=n_classes,
                               n_clusters_per_class=1, random_state=seed)
    X[np.abs(X) < 0.8] = 0.0        # sparse-ish
    return sp.csr_matrix(X), y


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_path_equals_cold_fits(loss, n_classes):
    X, y = _data(n_classes)
    Est = LOSSES[loss][0]
    Cs, coefs, intercepts, n_iter = classifier_path(X, y, loss=loss, Cs=6, tol=1e-10)
    n_problems = 1 if n_classes == 2 else n_classes
    assert coefs.shape == (n_problems, 6, 40) and intercepts.shape == (n_problems, 6)
    assert np.all(np.diff(Cs) > 0)
    assert np.isclose(Cs[0], l1_min_c(X, y, loss=loss)) and np.isclose(Cs[-1], 1e3 * Cs[0])
    assert not np.any(coefs[:, 0])                   # the grid starts at the zero model
    for i in (1, 3, 5):
        ref = Est(C=Cs[i], tol=1e-10).fit(X, y)
        assert_allclose(coefs[:, i], ref.coef_, rtol=1e-5, atol=1e-7)
        assert_allclose(intercepts[:, i], ref.intercept_, rtol=1e-5, atol=1e-7)
    assert n_iter.shape == (n_problems, 6)


def test_path_given_grid_and_l2():
    X, y = _data()
    Cs, coefs, _, _ = classifier_path(X, y, Cs=[10.0, 0.1, 1.0], l1_ratio=0.0)
    assert_array_equal(Cs, [0.1, 1.0, 10.0])
    assert np.all(coefs != 0)                        # pure L2: dense
    with pytest.raises(ValueError, match="l1_ratio=0"):
        classifier_path(X, y, Cs=5, l1_ratio=0.0)
    with pytest.raises(ValueError, match="positive and finite"):
        classifier_path(X, y, Cs=[1.0, -1.0])
    with pytest.raises(ValueError, match="Cs"):
        classifier_path(X, y, Cs=0)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_cv_scores_equal_gridsearch(loss, n_classes):
    X, y = _data(n_classes, seed=1)
    Est, EstCV = LOSSES[loss]
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    clf = EstCV(Cs=5, cv=cv, tol=1e-10).fit(X, y)
    assert clf.scores_.shape == (4, 5) and clf.C_ in clf.Cs_
    grid = GridSearchCV(Est(tol=1e-10), {"C": list(clf.Cs_)}, cv=cv).fit(X, y)
    mean = grid.cv_results_["mean_test_score"]
    assert_allclose(clf.scores_.mean(axis=0), mean, atol=1e-12)
    assert clf.C_ == clf.Cs_[np.argmax(mean)]
    ref = Est(C=clf.C_, tol=1e-10).fit(X, y)
    assert_allclose(clf.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    assert_array_equal(clf.predict(X), ref.predict(X))


def test_cv_paths_are_fold_paths():
    X, y = _data(seed=2)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    clf = SparseLogisticRegressionCV(Cs=4, cv=cv, tol=1e-10).fit(X, y)
    for f, (train, _) in enumerate(cv.split(X, y)):
        _, coefs, intercepts, _ = classifier_path(X[train], y[train], Cs=clf.Cs_, tol=1e-10)
        assert_allclose(clf.coefs_paths_[f], coefs, rtol=1e-5, atol=1e-8)
        assert_allclose(clf.intercepts_paths_[f], intercepts, rtol=1e-5, atol=1e-8)


def test_cv_dense_sparse_threads_and_scoring():
    X, y = _data(3, seed=3)
    a = SparseLogisticRegressionCV(Cs=4, cv=3, tol=1e-10).fit(X, y)
    b = SparseLogisticRegressionCV(Cs=4, cv=3, tol=1e-10, n_jobs=2).fit(X.toarray(), y)
    assert_allclose(a.scores_, b.scores_)
    assert a.C_ == b.C_
    assert_allclose(a.coef_, b.coef_, rtol=1e-6, atol=1e-9)
    c = SparseLogisticRegressionCV(Cs=4, cv=3, scoring="neg_log_loss").fit(X, y)
    assert np.all(c.scores_ < 0)
    assert_allclose(c.predict_proba(X).sum(axis=1), 1.0)


def test_cv_sample_and_class_weight_and_strings():
    X, y = _data(seed=4)
    labels = np.array(["ham", "spam"])[y]
    w = np.random.default_rng(0).uniform(0.5, 2.0, y.shape[0])
    clf = SparseLinearSVCCV(Cs=4, cv=3, class_weight="balanced").fit(X, labels,
                                                                       sample_weight=w)
    assert set(clf.predict(X)) <= {"ham", "spam"}
    assert clf.coef_.dtype == np.float64


def test_cv_float32_and_bad_input():
    X, y = _data(seed=5)
    clf = SparseLogisticRegressionCV(Cs=3, cv=3).fit(X.astype(np.float32), y)
    assert clf.coef_.dtype == np.float32
    with pytest.raises(ValueError, match="single class"):
        SparseLogisticRegressionCV(Cs=3, cv=[(np.flatnonzero(y == 0), np.flatnonzero(y == 1))]
                                   ).fit(X, y)
    Xn = X.toarray()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SparseLogisticRegressionCV().fit(Xn, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        SparseLogisticRegressionCV().fit(X, np.zeros(y.shape[0]))


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_scalar_sample_weight(loss):
    # a scalar weight scales the loss like C: the same models, the best C divided
    _, CV = LOSSES[loss]
    X, y = _data()
    grid = np.logspace(-2, 2, 9)
    plain = CV(Cs=grid, cv=3).fit(X, y)
    weighted = CV(Cs=grid * 2, cv=3).fit(X, y, sample_weight=0.5)
    assert_allclose(weighted.C_, 2 * plain.C_)
    assert_allclose(weighted.coef_, plain.coef_, atol=1e-6)


def test_fold_missing_one_class_of_a_multiclass_problem_is_named():
    # KFold on sorted labels: the first training fold has classes 1 and 2 only
    X, y = _data(n_classes=3, seed=6)
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    from sklearn.model_selection import KFold

    with pytest.raises(ValueError, match="Training fold 0 holds no sample of class 0"):
        SparseLogisticRegressionCV(Cs=3, cv=KFold(3)).fit(X, y)
