"""Synthetic and real sparse data sets.

- :func:`make_sparse_regression`: random sparse linear regression problems of
  any size, built in O(nnz).
- :func:`load_movielens_100k`, :func:`load_movielens_age`: MovieLens-100k
  ratings, read from the ``recbole`` wheel (``pip install --no-deps recbole``),
  and a real p > n sparse regression problem made from them.
- :func:`load_docstrings`, :func:`load_docstrings_regression`: a real text
  corpus made of the docstrings of installed packages, and a real sparse text
  regression problem made from it.
"""

from ._docstrings import load_docstrings, load_docstrings_regression
from ._movielens import load_movielens_100k, load_movielens_age
from ._synthetic import make_sparse_regression

__all__ = [
    "make_sparse_regression",
    "load_movielens_100k",
    "load_movielens_age",
    "load_docstrings",
    "load_docstrings_regression",
]
