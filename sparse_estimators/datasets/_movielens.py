"""MovieLens-100k, read from the copy that ships inside the ``recbole`` wheel.

``recbole`` itself is never imported (it pulls in torch and friends): the
package is only located on disk and its data files are read as plain text.
"""

import importlib.metadata
import importlib.util
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

__all__ = ["load_movielens_100k", "load_movielens_age"]

_DATA_SUBDIR = ("dataset_example", "ml-100k")
_INSTALL_HINT = (
    "the data come from the recbole wheel, install with "
    "`pip install --no-deps recbole` (or `pip install sparse_estimators[data]`)"
)

# Module-level aliases so that tests can simulate a missing recbole.
_find_spec = importlib.util.find_spec
_distribution = importlib.metadata.distribution


def _recbole_package_dirs():
    """Candidate ``recbole`` package directories, without importing recbole."""
    dirs = []
    try:
        spec = _find_spec("recbole")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        dirs.extend(Path(p) for p in spec.submodule_search_locations)
    try:
        dist = _distribution("recbole")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        dirs.append(Path(dist.locate_file("recbole")))
    return dirs


def _movielens_100k_dir():
    """Directory holding ``ml-100k.inter`` and ``ml-100k.user``."""
    dirs = _recbole_package_dirs()
    if not dirs:
        raise ImportError(
            "MovieLens-100k is not available because recbole is not "
            f"installed: {_INSTALL_HINT}."
        )
    for d in dirs:
        data_dir = d.joinpath(*_DATA_SUBDIR)
        if (data_dir / "ml-100k.inter").is_file():
            return data_dir
    searched = ", ".join(str(d.joinpath(*_DATA_SUBDIR)) for d in dirs)
    raise FileNotFoundError(
        "recbole is installed but its MovieLens-100k example files "
        f"(ml-100k.inter) were not found in: {searched}. Reinstall it: "
        f"{_INSTALL_HINT}."
    )


def _read_atomic_file(path):
    """Read a RecBole atomic file into ``{field_name: list of str}``.

    The first line is a tab-separated header of ``name:type`` fields (e.g.
    ``user_id:token``); the type suffix is dropped from the returned keys.
    """
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\r\n").split("\t")
        names = [field.split(":", 1)[0] for field in header]
        rows = [line.rstrip("\r\n").split("\t") for line in f if line.strip()]
    n_fields = len(names)
    bad = [i for i, r in enumerate(rows) if len(r) != n_fields]
    if bad:
        raise ValueError(
            f"{path}: line {bad[0] + 2} has {len(rows[bad[0]])} fields, "
            f"expected {n_fields}."
        )
    columns = list(zip(*rows)) if rows else [()] * n_fields
    return {name: list(col) for name, col in zip(names, columns)}


def _require(fields, name, path):
    if name not in fields:
        raise ValueError(
            f"{path}: no {name!r} column in header (found {sorted(fields)})."
        )
    return fields[name]


def _sorted_tokens(tokens):
    """Unique tokens, sorted numerically when they are all integers."""
    uniq = set(tokens)
    if all(t.isdigit() for t in uniq):
        return sorted(uniq, key=int)
    return sorted(uniq)


def _item_titles(path, item_ids):
    """``"title (year)"`` per item id, ``""`` for ids the item file lacks."""
    if not path.is_file():
        return np.asarray([""] * len(item_ids), dtype=str)
    items = _read_atomic_file(path)
    tokens = _require(items, "item_id", path)
    titles = items.get("movie_title", [""] * len(tokens))
    years = items.get("release_year", [""] * len(tokens))
    by_id = {t: (f"{title} ({year})" if year.strip() else title)
             for t, title, year in zip(tokens, titles, years)}
    return np.asarray([by_id.get(t, "") for t in item_ids], dtype=str)


def load_movielens_100k(*, return_user_features=False):
    """Load the MovieLens-100k ratings as a sparse user x item matrix.

    The data are the 100,000 ratings (1 to 5 stars) given by 943 users to
    1682 movies, read from the copy of MovieLens-100k that ships inside the
    ``recbole`` wheel (``recbole/dataset_example/ml-100k``).  ``recbole`` is
    not imported, only located, so it can be installed without its (heavy)
    dependencies: ``pip install --no-deps recbole``.

    Parameters
    ----------
    return_user_features : bool, default=False
        If True, also return the demographic features of the users, aligned
        with the rows of ``ratings``.

    Returns
    -------
    data : sklearn.utils.Bunch
        Dictionary-like object with the following attributes.

        ratings : scipy.sparse.csr_matrix of shape (943, 1682), float64
            ``ratings[i, j]`` is the rating of user ``user_ids[i]`` for item
            ``item_ids[j]``; unrated pairs are implicit zeros.  The matrix is
            in canonical format (sorted indices, no duplicates).  Should a
            (user, item) pair appear several times, the rating with the
            latest timestamp is kept.
        timestamps : scipy.sparse.csr_matrix of shape (943, 1682), float64
            Unix time of each rating, with exactly the same sparsity
            structure (``indptr`` and ``indices``) as ``ratings``, so
            ``timestamps.data[k]`` belongs to ``ratings.data[k]``.
        user_ids : ndarray of str of shape (943,)
            Original user tokens in row order (sorted numerically).
        item_ids : ndarray of str of shape (1682,)
            Original item tokens in column order (sorted numerically).
        item_titles : ndarray of str of shape (1682,)
            Movie title of each column with its release year, e.g.
            ``"Toy Story (1995)"`` (``""`` where the item file has none).
        user_age : ndarray of float64 of shape (943,)
            Age of each user (NaN if unknown).  Only with
            ``return_user_features=True``.
        user_gender : ndarray of str of shape (943,)
            ``"M"`` or ``"F"`` (``""`` if unknown).  Only with
            ``return_user_features=True``.
        user_occupation : ndarray of str of shape (943,)
            Occupation of each user (``""`` if unknown).  Only with
            ``return_user_features=True``.
        DESCR : str
            Short description of the data set.

    Raises
    ------
    ImportError
        If ``recbole`` is not installed.

    Examples
    --------
    >>> from sparse_estimators.datasets import load_movielens_100k
    >>> ml = load_movielens_100k(return_user_features=True)
    >>> ml.ratings.shape, ml.ratings.nnz
    ((943, 1682), 100000)
    >>> ml.user_age[:3]
    array([24., 53., 23.])
    >>> str(ml.item_titles[0])
    'Toy Story (1995)'
    """
    data_dir = _movielens_100k_dir()
    inter_path = data_dir / "ml-100k.inter"
    inter = _read_atomic_file(inter_path)
    user_tok = _require(inter, "user_id", inter_path)
    item_tok = _require(inter, "item_id", inter_path)
    rating = np.asarray(_require(inter, "rating", inter_path), dtype=np.float64)
    if "timestamp" in inter:
        timestamp = np.asarray(inter["timestamp"], dtype=np.float64)
    else:
        timestamp = np.full(rating.shape, np.nan)

    user_ids = _sorted_tokens(user_tok)
    item_ids = _sorted_tokens(item_tok)
    user_index = {t: i for i, t in enumerate(user_ids)}
    item_index = {t: j for j, t in enumerate(item_ids)}
    rows = np.fromiter((user_index[t] for t in user_tok), np.int64, len(user_tok))
    cols = np.fromiter((item_index[t] for t in item_tok), np.int64, len(item_tok))
    n_users, n_items = len(user_ids), len(item_ids)

    # Sort by (row, col, timestamp) and keep the last entry of each (row, col)
    # so that duplicates, if any, resolve to the latest rating.
    order = np.lexsort((timestamp, cols, rows))
    rows, cols = rows[order], cols[order]
    rating, timestamp = rating[order], timestamp[order]
    if rows.size:
        keep = np.ones(rows.size, dtype=bool)
        keep[:-1] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols = rows[keep], cols[keep]
        rating, timestamp = rating[keep], timestamp[keep]
    indptr = np.zeros(n_users + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n_users), out=indptr[1:])
    indices = cols.astype(np.int32)
    shape = (n_users, n_items)
    ratings = sp.csr_matrix((rating, indices, indptr), shape=shape)
    timestamps = sp.csr_matrix((timestamp, indices.copy(), indptr.copy()), shape=shape)
    for m in (ratings, timestamps):
        m.has_sorted_indices = True
        m.has_canonical_format = True

    out = Bunch(
        ratings=ratings,
        timestamps=timestamps,
        user_ids=np.asarray(user_ids, dtype=str),
        item_ids=np.asarray(item_ids, dtype=str),
        item_titles=_item_titles(data_dir / "ml-100k.item", item_ids),
        DESCR=(
            "MovieLens-100k (GroupLens): 100,000 ratings (1-5) from 943 users "
            "on 1682 movies, as shipped in the recbole wheel "
            f"({data_dir})."
        ),
    )
    if return_user_features:
        user_path = data_dir / "ml-100k.user"
        users = _read_atomic_file(user_path)
        tokens = _require(users, "user_id", user_path)
        age = users.get("age", [""] * len(tokens))
        gender = users.get("gender", [""] * len(tokens))
        occupation = users.get("occupation", [""] * len(tokens))
        feats = {t: (a, g, o) for t, a, g, o in zip(tokens, age, gender, occupation)}
        missing = ("", "", "")
        rec = [feats.get(t, missing) for t in user_ids]
        out.user_age = np.array(
            [float(a) if a.strip() else np.nan for a, _, _ in rec], dtype=np.float64
        )
        out.user_gender = np.array([g for _, g, _ in rec], dtype=str)
        out.user_occupation = np.array([o for _, _, o in rec], dtype=str)
    return out


def load_movielens_age(*, binary=False):
    """Load a real p > n sparse regression problem: predict a user's age.

    Built from :func:`load_movielens_100k`: each of the 943 users is a sample
    whose features are their ratings of the 1682 movies (a CSR matrix with
    100,000 non-zeros, density about 6.3%), and the target is the user's
    age.  With more features than samples, this is a real high-dimensional
    sparse regression problem, well suited to the Lasso and ElasticNet.

    Needs ``recbole`` (``pip install --no-deps recbole``), see
    :func:`load_movielens_100k`.

    Parameters
    ----------
    binary : bool, default=False
        If True, ``X`` holds a 1.0 for every movie the user rated (an implicit
        feedback indicator) instead of the 1-5 rating.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (943, 1682), float64
        User x movie ratings (or 0/1 "rated" indicators).
    y : ndarray of shape (943,), float64
        Age of each user.

    Raises
    ------
    ImportError
        If ``recbole`` is not installed.

    Examples
    --------
    >>> from sparse_estimators.datasets import load_movielens_age
    >>> X, y = load_movielens_age(binary=True)
    >>> X.shape, float(X.max()), y[:3]
    ((943, 1682), 1.0, array([24., 53., 23.]))
    """
    ml = load_movielens_100k(return_user_features=True)
    X = ml.ratings
    if binary:
        X = X.copy()
        X.data = np.ones_like(X.data)
    y = ml.user_age
    if np.isnan(y).any():
        keep = ~np.isnan(y)
        X, y = X[keep], y[keep]
    return X, y
