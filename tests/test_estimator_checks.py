"""scikit-learn's common estimator checks over the linear-model estimators."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from sparse_estimators.decomposition import (
    DictionaryLearning,
    MiniBatchDictionaryLearning,
    SparseCoder,
    SparseMatrixFactorization,
)
from sparse_estimators.linear_model import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    SparseLinearSVC,
    SparseLinearSVCCV,
    SparseLogisticRegression,
    SparseLogisticRegressionCV,
)
from sparse_estimators.sparsity import (
    AdaptiveThreshold,
    HardThreshold,
    PruneRefit,
    SoftThreshold,
)

#: Estimator checks whose data width differs from the dictionary's, with the
#: dictionary width each needs (scikit-learn's own per-check parameters).
SPARSE_CODER_CHECKS = {
    "check_estimators_dtypes": 5,
    "check_dtype_object": 10,
    "check_transformers_unfitted_stateless": 5,
    "check_fit_idempotent": 2,
}


ESTIMATORS = [
    Lasso(),
    ElasticNet(),
    # The CV estimators run with a tight tol: check_sample_weight_equivalence_* compares
    # predictions of weighted vs repeated-row fits at rtol=1e-7, while at the default
    # tol=1e-4 two fits of the same problem may stop at points ~1e-4 apart (both
    # inside the duality-gap tolerance). Weighting is exact (the check passes at tol
    # 1e-12 with identical alpha_ and mse_path_ up to round-off), so this is a
    # tolerance choice, not an expected failure. The check's data (15 distinct rows,
    # 30 features) is rank deficient and its best alpha tiny: coordinate descent
    # needs thousands of epochs there (scikit-learn's own Lasso: 4e3 to 5e4 at
    # tol=1e-8), hence max_iter.
    LassoCV(tol=1e-12, max_iter=100_000),
    ElasticNetCV(tol=1e-12, max_iter=100_000),
    SparseLogisticRegression(),
    SparseLogisticRegression(l1_ratio=0.5, tol=1e-10),
    SparseLinearSVC(),
    # cv=3: check_sparsify_coefficients fits 3 samples per class
    SparseLogisticRegressionCV(cv=3),
    SparseLinearSVCCV(cv=3),
    SparseCoder(np.random.RandomState(0).normal(size=(5, 3))),
    SparseCoder(np.random.RandomState(0).normal(size=(5, 3)),
                transform_algorithm="lasso_lars", transform_alpha=0.1),
    # as scikit-learn checks its own: fit_transform returns the fit's lasso codes,
    # which the checks compare with transform's (OMP by default)
    DictionaryLearning(n_components=3, max_iter=20, transform_algorithm="lasso_lars",
                       random_state=0),
    DictionaryLearning(n_components=3, fit_algorithm="cd", transform_algorithm="lasso_cd",
                       max_iter=50, random_state=0),
    MiniBatchDictionaryLearning(n_components=3, max_iter=5, batch_size=8, random_state=0),
    SoftThreshold(),
    SoftThreshold(output="sparse"),
    HardThreshold(0.5),
    AdaptiveThreshold(),
    AdaptiveThreshold(method="top_k", k=2, mode="soft"),
    AdaptiveThreshold(method="universal", mode="soft"),
    PruneRefit(Ridge()),
    PruneRefit(LogisticRegression()),
    # tight tol: the weighted-vs-repeated-rows check compares at rtol=1e-7
    PruneRefit(Lasso(alpha=0.01, tol=1e-12), pattern="n:m"),
    PruneRefit(SparseLogisticRegression(tol=1e-10), pattern="block", n_steps=3),
    PruneRefit(Ridge(), criterion="sensitivity", random_state=0),
    PruneRefit(LogisticRegression(), criterion="sensitivity", pattern="block",
               block_shape=(2, 2), random_state=0),
    SparseMatrixFactorization(n_components=2, random_state=0),
    SparseMatrixFactorization(n_components=2, feedback="implicit", random_state=0),
    SparseMatrixFactorization(n_components=2, nonnegative=True, l1_ratio=0.5,
                              random_state=0),
]

#: Checks that assume what matrix factorisation's predict does not: one value per
#: row (predict returns a CSR matrix with a value per stored query position) and
#: exchangeable rows (row u of a query is fitted user u; transform is the
#: row-wise fold-in). tests/test_matrix_factorization.py checks what these cover
#: otherwise: every sparse format and int64 indices, idempotent fits, and the
#: subset / order invariance of transform.
MF_ROW_IDENTITY_CHECKS = {
    "check_estimator_sparse_array": "predict returns a CSR matrix of the query's "
                                    "positions, not one value per row",
    "check_estimator_sparse_matrix": "predict returns a CSR matrix of the query's "
                                     "positions, not one value per row",
    "check_methods_subset_invariance": "row u of a predict query is fitted user u",
    "check_methods_sample_order_invariance": "row u of a predict query is fitted user u",
    "check_fit_idempotent": "predicts on a query with fewer rows than fitted users",
}


#: As scikit-learn's, DictionaryLearning.fit_transform returns the fit's last codes,
#: and these checks compare them with transform's at atol=1e-2. The checks' data are
#: nearly rank one (atoms' Gram eigenvalues 0.004, 0.007, 2.99): CD codes stop at the
#: coding tolerance (relative gap 1e-4) 0.02-0.2 away from the exact codes while
#: their objective is within that gap. The lars instances pass these checks;
#: tests/test_dict_learning.py::test_fit_transform_returns_the_fits_codes covers the
#: semantics.
DL_CD_CHECKS = dict.fromkeys(
    ["check_transformer_general", "check_transformer_data_not_an_array"],
    "CD codes at the coding tolerance on nearly rank-one data (see DL_CD_CHECKS)")


def _expected_failed_checks(estimator):
    # Every check is expected to pass, except one for the sensitivity criterion.
    # Note that check_sample_weight_equivalence_* uses group-wise CV splits
    # (weighted / repeated rows all in one fold), so it is *possible* for the CV
    # estimators as well and is not listed here.
    if isinstance(estimator, SparseCoder):
        # A coder's dictionary fixes n_features; these checks feed data of another
        # width. scikit-learn runs them on its own SparseCoder with a matching
        # dictionary per check; test_sparse_coder_width_dependent_checks does so.
        reason = "needs a dictionary as wide as the check's data (run separately)"
        return dict.fromkeys(SPARSE_CODER_CHECKS, reason)
    if isinstance(estimator, SparseMatrixFactorization):
        return MF_ROW_IDENTITY_CHECKS
    if isinstance(estimator, DictionaryLearning) and estimator.fit_algorithm == "cd":
        return DL_CD_CHECKS
    if isinstance(estimator, PruneRefit) and estimator.criterion == "sensitivity":
        reason = ("the sensitivity criterion holds out a random validation split: "
                  "repeated rows and weighted rows are split differently")
        return {"check_sample_weight_equivalence_on_dense_data": reason,
                "check_sample_weight_equivalence_on_sparse_data": reason}
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", sorted(SPARSE_CODER_CHECKS))
def test_sparse_coder_width_dependent_checks(name):
    from sklearn.utils import estimator_checks

    width = SPARSE_CODER_CHECKS[name]
    coder = SparseCoder(np.random.RandomState(0).normal(size=(5, width)))
    getattr(estimator_checks, name)(type(coder).__name__, coder)
