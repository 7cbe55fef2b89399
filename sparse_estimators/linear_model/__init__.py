"""Sparse linear models: Lasso and ElasticNet (with paths and CV), L1 / elastic-net
logistic regression and linear SVM.

Drop-in counterparts of scikit-learn's estimators of the same names, for dense,
CSR and CSC input, solved by numba coordinate descent with working sets.
"""

from ._classifier_cv import SparseLinearSVCCV, SparseLogisticRegressionCV, classifier_path
from ._classifiers import SparseLinearSVC, SparseLogisticRegression, l1_min_c
from ._coordinate_descent import ElasticNet, Lasso, enet_path, lasso_path
from ._cv import ElasticNetCV, LassoCV

__all__ = [
    "ElasticNet",
    "ElasticNetCV",
    "Lasso",
    "LassoCV",
    "SparseLinearSVC",
    "SparseLinearSVCCV",
    "SparseLogisticRegression",
    "SparseLogisticRegressionCV",
    "classifier_path",
    "enet_path",
    "l1_min_c",
    "lasso_path",
]
