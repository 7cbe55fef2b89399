"""Fast scikit-learn compatible estimators for sparse models on sparse data.

Subpackages are imported on demand::

    from sparse_estimators.linear_model import Lasso, ElasticNet, LassoCV
"""

__version__ = "0.1.0.dev0"

__all__ = ["datasets", "decomposition", "linear_model", "metrics", "model_selection",
           "sparsity", "utils", "__version__"]


def __getattr__(name):
    # Lazy subpackage import keeps ``import sparse_estimators`` cheap.
    if name in __all__:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
