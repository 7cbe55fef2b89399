"""SparseLogisticRegression and SparseLinearSVC: optimality, agreement with liblinear,
formats, weights, multiclass, bad input."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError

from sparse_estimators._solvers._glm import glm_gap, optimal_intercept
from sparse_estimators.linear_model import SparseLinearSVC, SparseLogisticRegression, l1_min_c

FORMATS = ["dense", "csr", "csc"]
CLASSIFIERS = [SparseLogisticRegression, SparseLinearSVC]
LOSS = {SparseLogisticRegression: "logistic", SparseLinearSVC: "squared_hinge"}


def _loss_terms(eta, ypm, loss):
    """Per-sample loss and its derivative in eta."""
    if loss == "logistic":
        return np.logaddexp(0.0, -ypm * eta), -ypm * expit(-ypm * eta)
    m = np.maximum(1.0 - ypm * eta, 0.0)
    return m * m, -2.0 * ypm * m


def make_classification_data(n=300, p=80, n_classes=2, density=0.1, seed=0, fmt="csr"):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    W = np.zeros((p, n_classes))
    W[:8] = 2.0 * rng.standard_normal((8, n_classes))
    scores = X @ W + 0.3 * rng.standard_normal((n, n_classes))
    y = np.argmax(scores, axis=1) if n_classes > 2 else (scores[:, 0] > scores[:, 1])
    y = y.astype(int)
    if fmt == "dense":
        X = X.toarray()
    else:
        X = X.asformat(fmt)
    return X, y


def objective(X, y01, w, b, C, l1_ratio, sw=None, loss="logistic"):
    ypm = np.where(y01 == 1, 1.0, -1.0)
    sw = np.ones(X.shape[0]) if sw is None else sw
    eta = np.asarray(X @ w).ravel() + b
    data = C * np.sum(sw * _loss_terms(eta, ypm, loss)[0])
    return data + l1_ratio * np.abs(w).sum() + 0.5 * (1 - l1_ratio) * (w @ w)


def kkt_violation(X, y01, w, b, C, l1_ratio, fit_intercept, sw=None, loss="logistic"):
    ypm = np.where(y01 == 1, 1.0, -1.0)
    sw = np.ones(X.shape[0]) if sw is None else sw
    eta = np.asarray(X @ w).ravel() + b
    dloss = C * sw * _loss_terms(eta, ypm, loss)[1]
    g = np.asarray(X.T @ dloss).ravel() + (1 - l1_ratio) * w
    lam = l1_ratio
    nz = w != 0
    viol = np.empty_like(w)
    viol[nz] = np.abs(g[nz] + lam * np.sign(w[nz]))
    viol[~nz] = np.maximum(np.abs(g[~nz]) - lam, 0.0)
    out = viol.max()
    if fit_intercept:
        out = max(out, abs(dloss.sum()))
    return out


@pytest.mark.parametrize("Est", CLASSIFIERS)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("C", [0.1, 1.0, 10.0])
def test_matches_liblinear_without_intercept(Est, fmt, C):
    # Without an intercept liblinear's L1 objectives are the same as ours.
    X, y = make_classification_data(n=200, p=40, density=0.2, fmt=fmt, seed=1)
    ours = Est(C=C, fit_intercept=False, tol=1e-12).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if Est is SparseLogisticRegression:
            ref = LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear",
                                     fit_intercept=False, tol=1e-9, max_iter=100_000)
        else:
            ref = LinearSVC(C=C, penalty="l1", loss="squared_hinge", dual=False,
                            fit_intercept=False, tol=1e-9, max_iter=100_000)
        ref.fit(X, y)
    loss = LOSS[Est]
    p_ours = objective(X, y, ours.coef_.ravel(), 0.0, C, 1.0, loss=loss)
    p_ref = objective(X, y, ref.coef_.ravel(), 0.0, C, 1.0, loss=loss)
    assert p_ours <= p_ref * (1 + 1e-10)
    assert (p_ours - p_ref) / p_ref > -1e-8  # liblinear also reached the optimum
    assert_allclose(ours.coef_, ref.coef_, atol=1e-5 * max(1.0, np.abs(ref.coef_).max()))
    assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("Est", CLASSIFIERS)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_duality_gap_and_kkt(Est, fmt, l1_ratio, fit_intercept, weighted):
    X, y = make_classification_data(fmt=fmt, seed=2)
    sw = np.random.default_rng(3).uniform(0.2, 3.0, X.shape[0]) if weighted else None
    C = 0.5
    tol = 1e-10
    loss = LOSS[Est]
    est = Est(C=C, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
              tol=tol).fit(X, y, sample_weight=sw)
    w, b = est.coef_.ravel(), float(est.intercept_[0])
    if l1_ratio == 1.0:
        assert 0 < np.count_nonzero(w) < X.shape[1]
    ypm = np.where(y == 1, 1.0, -1.0)
    c = C * (np.ones(X.shape[0]) if sw is None else sw)
    gap, primal = glm_gap(X, ypm, c, w, b, l1_ratio, 1 - l1_ratio, loss)
    assert_allclose(primal, objective(X, y, w, b, C, l1_ratio, sw, loss), rtol=1e-12)
    b0 = optimal_intercept(np.zeros(X.shape[0]), ypm, c, loss=loss) if fit_intercept else 0.0
    p0 = objective(X, y, np.zeros_like(w), b0, C, l1_ratio, sw, loss)
    assert -1e-12 * p0 <= gap <= tol * p0
    assert est.dual_gap_[0] <= tol
    # a gap of g bounds each coordinate's violation by sqrt(2 L_j g)
    lip = 0.25 if loss == "logistic" else 2.0
    curv = lip * C * np.asarray(X.multiply(X).sum(0) if sp.issparse(X) else (X**2).sum(0))
    bound = np.sqrt(2 * (curv.max() * (sw.max() if weighted else 1.0) + 1) * tol * p0)
    assert kkt_violation(X, y, w, b, C, l1_ratio, fit_intercept, sw, loss) <= bound


def test_agrees_with_saga_with_intercept():
    X, y = make_classification_data(n=200, p=30, density=0.3, seed=4)
    ours = SparseLogisticRegression(C=1.0, tol=1e-12).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = LogisticRegression(C=1.0, l1_ratio=1.0, solver="saga", tol=1e-14,
                                 max_iter=200_000).fit(X, y)
    p_ours = objective(X, y, ours.coef_.ravel(), ours.intercept_[0], 1.0, 1.0)
    p_ref = objective(X, y, ref.coef_.ravel(), ref.intercept_[0], 1.0, 1.0)
    assert p_ours <= p_ref * (1 + 1e-12)
    assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)


@pytest.mark.parametrize("Est", CLASSIFIERS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dense_csr_csc_identical(Est, fit_intercept):
    X, y = make_classification_data(seed=5)
    fits = [Est(C=2.0, fit_intercept=fit_intercept, tol=1e-10)
            .fit(X.asformat(f) if f != "dense" else X.toarray(), y)
            for f in FORMATS]
    for est in fits[1:]:
        assert_allclose(est.coef_, fits[0].coef_, atol=1e-7)
        assert_allclose(est.intercept_, fits[0].intercept_, atol=1e-7)


@pytest.mark.parametrize("Est", CLASSIFIERS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_float32_in_float32_out(Est, fmt):
    X, y = make_classification_data(fmt=fmt, seed=6)
    X32 = X.astype(np.float32)
    est32 = Est(C=1.0, tol=1e-8).fit(X32, y)
    est64 = Est(C=1.0, tol=1e-8).fit(X, y)
    assert est32.coef_.dtype == np.float32 and est32.intercept_.dtype == np.float32
    assert_allclose(est32.coef_, est64.coef_, atol=1e-4)
    assert est32.decision_function(X32).dtype == np.float32


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_multiclass_one_vs_rest_string_labels_and_threads(Est):
    X, y = make_classification_data(n=400, n_classes=3, seed=7)
    labels = np.array(["ant", "bee", "cat"])[y]
    est = Est(C=1.0, tol=1e-10).fit(X, labels)
    assert_array_equal(est.classes_, ["ant", "bee", "cat"])
    assert est.coef_.shape == (3, X.shape[1]) and est.n_iter_.shape == (3,)
    for k, name in enumerate(est.classes_):
        binary = Est(C=1.0, tol=1e-10).fit(X, labels == name)
        assert_allclose(est.coef_[k], binary.coef_[0], atol=1e-8)
        assert_allclose(est.intercept_[k], binary.intercept_[0], atol=1e-8)
    if hasattr(est, "predict_proba"):
        proba = est.predict_proba(X)
        assert_allclose(proba.sum(1), 1.0)
        assert_array_equal(est.classes_[proba.argmax(1)], est.predict(X))
    assert_array_equal(est.classes_[est.decision_function(X).argmax(1)], est.predict(X))
    assert np.mean(est.predict(X) == labels) > 0.7  # chance: 1/3
    par = Est(C=1.0, tol=1e-10, n_jobs=2).fit(X, labels)
    assert_allclose(par.coef_, est.coef_, atol=0)


def test_binary_probabilities_are_the_logistic_of_the_decision():
    X, y = make_classification_data(seed=8)
    est = SparseLogisticRegression(C=1.0).fit(X, y)
    d = est.decision_function(X)
    assert_allclose(est.predict_proba(X)[:, 1], expit(d))
    assert_allclose(est.predict_log_proba(X), np.log(est.predict_proba(X)))


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_class_weight_balanced_equals_sample_weight(Est):
    X, y = make_classification_data(seed=9)
    y[:200] = 0  # imbalance
    counts = np.bincount(y)
    sw = (len(y) / (2 * counts))[y]
    a = Est(C=1.0, class_weight="balanced", tol=1e-10).fit(X, y)
    b = Est(C=1.0, tol=1e-10).fit(X, y, sample_weight=sw)
    assert_allclose(a.coef_, b.coef_, atol=1e-8)
    c = Est(C=1.0, class_weight={0: 1.0, 1: 3.0}, tol=1e-10).fit(X, y)
    d = Est(C=1.0, tol=1e-10).fit(
        X, y, sample_weight=np.where(y == 1, 3.0, 1.0))
    assert_allclose(c.coef_, d.coef_, atol=1e-8)


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_warm_start_reuses_the_solution(Est):
    X, y = make_classification_data(seed=10)
    est = Est(C=1.0, tol=1e-10, warm_start=True).fit(X, y)
    first = est.n_iter_[0]
    coef = est.coef_.copy()
    est.fit(X, y)
    assert est.n_iter_[0] < first
    assert_allclose(est.coef_, coef, atol=1e-8)


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_tiny_C_gives_zero_coef_and_the_null_intercept(Est):
    X, y = make_classification_data(seed=11)
    est = Est(C=1e-6).fit(X, y)
    assert not est.coef_.any()
    p = y.mean()
    # the intercept minimising the loss alone: the log-odds for the logistic loss,
    # the mean label in {-1, +1} for the squared hinge
    null = np.log(p / (1 - p)) if Est is SparseLogisticRegression else 2 * p - 1
    assert_allclose(est.intercept_[0], null, rtol=1e-6)


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_large_C_converges(Est):
    # Weak regularisation on non-separable data (20% of the labels flipped).
    # (On nearly separable data a very large C is slow for SparseLinearSVC: its
    # Newton model ignores the samples past the margin; see its docstring.)
    X, y = make_classification_data(seed=12, density=0.3)
    flip = np.random.default_rng(0).random(y.shape[0]) < 0.2
    y = np.where(flip, 1 - y, y)
    est = Est(C=1e3, tol=1e-8, max_iter=500).fit(X, y)
    assert est.dual_gap_[0] <= 1e-8


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_all_zero_columns_get_zero_coef(Est):
    X, y = make_classification_data(seed=13, fmt="csc")
    X = X.tolil()
    X[:, [3, 7]] = 0.0
    X = X.tocsr()
    est = Est(C=10.0).fit(X, y)
    assert est.coef_[0, 3] == 0 and est.coef_[0, 7] == 0


@pytest.mark.parametrize("Est", CLASSIFIERS)
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_int64_indices_and_duplicate_entries(Est, index_dtype):
    X, y = make_classification_data(seed=14)
    ref = Est(C=1.0, tol=1e-10).fit(X, y)
    # the same matrix with every stored value split into two duplicates, unsorted
    indptr, indices, data = [0], [], []
    for i in range(X.shape[0]):
        a, b = X.indptr[i], X.indptr[i + 1]
        cols, vals = X.indices[a:b], X.data[a:b]
        indices += list(np.concatenate([cols, cols])[::-1])
        data += list(np.concatenate([0.5 * vals, 0.5 * vals])[::-1])
        indptr.append(len(indices))
    Xd = sp.csr_matrix((np.array(data), np.array(indices, dtype=index_dtype),
                        np.array(indptr, dtype=index_dtype)), shape=X.shape)
    assert not Xd.has_canonical_format
    est = Est(C=1.0, tol=1e-10).fit(Xd, y)
    assert_allclose(est.coef_, ref.coef_, atol=1e-8)


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_inputs_not_modified(Est):
    X, y = make_classification_data(seed=15)
    sw = np.random.default_rng(0).uniform(0.5, 2, X.shape[0])
    copies = X.copy(), y.copy(), sw.copy()
    Est(C=1.0).fit(X, y, sample_weight=sw)
    assert (X != copies[0]).nnz == 0
    assert_array_equal(y, copies[1])
    assert_array_equal(sw, copies[2])


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_bad_input(Est):
    X, y = make_classification_data(seed=16)
    with pytest.raises(ValueError, match="at least 2 classes"):
        Est().fit(X, np.zeros(X.shape[0]))
    with pytest.raises(ValueError, match="Unknown label type"):
        Est().fit(X, np.linspace(0, 1, X.shape[0]))
    Xn = X.toarray()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Est().fit(Xn, y)
    with pytest.raises(ValueError, match="[Nn]egative"):
        Est().fit(X, y, sample_weight=-np.ones(X.shape[0]))
    with pytest.raises(ValueError, match="non-zero|positive sum"):
        Est().fit(X, y, sample_weight=np.zeros(X.shape[0]))
    # all the weight on one class: with an intercept the optimum is at infinity
    with pytest.raises(ValueError, match="at least 2 classes"):
        Est().fit(X, y, sample_weight=(y == 1).astype(float))
    with pytest.raises(ValueError, match="at least 2 classes"):
        Est(class_weight={0: 0.0, 1: 1.0}).fit(X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Est().fit(X, y[:-1])
    with pytest.raises(InvalidParameterError, match="C"):
        Est(C=0.0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="l1_ratio"):
        Est(l1_ratio=1.5).fit(X, y)
    est = Est().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :-1])


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_convergence_warning_names_the_fix(Est):
    X, y = make_classification_data(seed=17)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        Est(C=100.0, tol=1e-14, max_iter=1).fit(X, y)


@pytest.mark.parametrize("Est", CLASSIFIERS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_l1_min_c_is_the_edge_of_the_zero_model(Est, fit_intercept, n_classes, l1_ratio):
    X, y = make_classification_data(n_classes=n_classes, seed=18)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    c_min = l1_min_c(X, y, loss=LOSS[Est], l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                     sample_weight=sw, class_weight="balanced")
    kw = dict(l1_ratio=l1_ratio, fit_intercept=fit_intercept, class_weight="balanced",
              tol=1e-12, max_iter=500)
    below = Est(C=0.999 * c_min, **kw).fit(X, y, sample_weight=sw)
    above = Est(C=1.05 * c_min, **kw).fit(X, y, sample_weight=sw)
    assert not below.coef_.any()
    assert above.coef_.any()


def test_l1_min_c_bad_input():
    X, y = make_classification_data(seed=19)
    with pytest.raises(ValueError, match="l1_ratio"):
        l1_min_c(X, y, l1_ratio=0.0)
    with pytest.raises(ValueError, match="loss"):
        l1_min_c(X, y, loss="hinge")
    with pytest.raises(ValueError, match="at least 2 classes"):
        l1_min_c(X, np.ones(X.shape[0]))
