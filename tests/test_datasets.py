"""Tests of sparse_estimators.datasets."""

import doctest
import importlib.metadata
import importlib.util
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from sparse_estimators import datasets
from sparse_estimators.datasets import (
    _docstrings,
    _movielens,
    _synthetic,
    load_docstrings,
    load_docstrings_regression,
    load_movielens_100k,
    load_movielens_age,
    make_sparse_regression,
)

HAS_RECBOLE = importlib.util.find_spec("recbole") is not None
needs_recbole = pytest.mark.skipif(
    not HAS_RECBOLE,
    reason="MovieLens data come from the recbole wheel: pip install --no-deps recbole",
)

# Small stdlib packages: quick to walk, present everywhere.
SMALL_PACKAGES = ("json", "email", "csv")


def test_public_api():
    assert sorted(datasets.__all__) == sorted(
        [
            "make_sparse_regression",
            "load_movielens_100k",
            "load_movielens_age",
            "load_docstrings",
            "load_docstrings_regression",
        ]
    )
    for name in datasets.__all__:
        assert callable(getattr(datasets, name))


# --------------------------------------------------------------------------
# make_sparse_regression


def test_make_sparse_regression_defaults():
    X, y = make_sparse_regression(random_state=0)
    assert sp.issparse(X) and X.format == "csr"
    assert X.shape == (1000, 10000)
    assert y.shape == (1000,)
    assert X.dtype == y.dtype == np.float64
    assert X.indices.dtype == np.int32 and X.indptr.dtype == np.int32
    assert X.has_canonical_format
    X.check_format(full_check=True)


@pytest.mark.parametrize("density", [0.001, 0.02, 0.3, 1.0])
def test_make_sparse_regression_density(density):
    n, p = 400, 2500
    X, _ = make_sparse_regression(n, p, density=density, random_state=1)
    expected = density * n * p
    # Binomial(n * p, density): 6 standard deviations of slack.
    tol = 6 * np.sqrt(expected * (1 - density)) + 1
    assert abs(X.nnz - expected) <= tol
    X.check_format(full_check=True)
    # Non-zeros are spread over rows and columns, with standard normal values.
    if density >= 0.02:
        assert (X.getnnz(axis=0) > 0).mean() > 0.9
        assert (X.getnnz(axis=1) > 0).all()
        assert abs(X.data.mean()) < 0.1 and abs(X.data.std() - 1) < 0.1
    assert np.all(X.data != 0)


@pytest.mark.parametrize("density", [5e-324, 1e-300, 1e-18, 1e-9])
def test_make_sparse_regression_tiny_density(density):
    # Huge geometric gaps must neither overflow nor land inside the matrix.
    X, y = make_sparse_regression(30, 40, density=density, random_state=0)
    assert X.nnz == 0 and X.shape == (30, 40)
    assert np.isfinite(y).all()


def test_bernoulli_positions_uniform():
    rng = np.random.default_rng(0)
    counts = np.zeros(6)
    for _ in range(4000):
        pos = _synthetic._bernoulli_positions(rng, 6, 0.3)
        assert np.all(np.diff(pos) > 0)
        counts[pos] += 1
    np.testing.assert_allclose(counts / 4000, 0.3, atol=0.03)


def test_make_sparse_regression_model():
    X, y, coef = make_sparse_regression(
        300, 800, density=0.05, n_informative=7, noise=0.0,
        fit_intercept_shift=3.5, random_state=2, return_coef=True,
    )
    assert coef.shape == (800,)
    assert np.count_nonzero(coef) == 7
    np.testing.assert_allclose(y, X @ coef + 3.5, rtol=1e-12, atol=1e-12)

    _, y_noisy, coef2 = make_sparse_regression(
        300, 800, density=0.05, n_informative=7, noise=2.0,
        fit_intercept_shift=3.5, random_state=2, return_coef=True,
    )
    np.testing.assert_array_equal(coef, coef2)
    resid = y_noisy - (X @ coef + 3.5)
    assert resid.std() > 1.5 and resid.std() < 2.5  # noise=2.0

    _, y0, coef0 = make_sparse_regression(
        50, 60, n_informative=0, noise=0.0, random_state=0, return_coef=True
    )
    assert not coef0.any() and not y0.any()


def test_make_sparse_regression_determinism():
    kw = dict(n_samples=200, n_features=300, density=0.05, return_coef=True)
    X1, y1, c1 = make_sparse_regression(**kw, random_state=42)
    X2, y2, c2 = make_sparse_regression(**kw, random_state=42)
    X3, y3, c3 = make_sparse_regression(**kw, random_state=43)
    assert (X1 != X2).nnz == 0
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(c1, c2)
    assert (X1 != X3).nnz > 0
    assert not np.array_equal(y1, y3)

    # Generators and RandomStates are accepted, and RandomStates are advanced.
    Xg, _ = make_sparse_regression(50, 50, random_state=np.random.default_rng(0))
    Xg2, _ = make_sparse_regression(50, 50, random_state=np.random.default_rng(0))
    assert (Xg != Xg2).nnz == 0
    rs = np.random.RandomState(0)
    Xa, _ = make_sparse_regression(50, 50, density=0.5, random_state=rs)
    Xb, _ = make_sparse_regression(50, 50, density=0.5, random_state=rs)
    assert (Xa != Xb).nnz > 0


@pytest.mark.parametrize("fmt", ["csr", "csc", "dense"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_make_sparse_regression_format_dtype(fmt, dtype):
    X_ref, y_ref = make_sparse_regression(80, 120, density=0.1, random_state=3)
    X, y, coef = make_sparse_regression(
        80, 120, density=0.1, dtype=dtype, format=fmt, random_state=3,
        return_coef=True,
    )
    assert X.shape == (80, 120) and y.shape == (80,) and coef.shape == (120,)
    assert X.dtype == y.dtype == coef.dtype == dtype
    if fmt == "dense":
        assert isinstance(X, np.ndarray)
        dense = X
    else:
        assert sp.issparse(X) and X.format == fmt
        assert X.indices.dtype == np.int32
        X.check_format(full_check=True)
        dense = X.toarray()
    # The same seed gives the same problem in every format and dtype.
    rtol = 1e-6 if dtype == np.float32 else 0
    np.testing.assert_allclose(dense, X_ref.toarray(), rtol=rtol)
    np.testing.assert_allclose(y, y_ref, rtol=rtol * 10, atol=rtol * 10)


def test_make_sparse_regression_large_is_fast():
    import time

    tic = time.perf_counter()
    X, y = make_sparse_regression(
        100_000, 100_000, density=1e-3, random_state=0
    )
    elapsed = time.perf_counter() - tic
    assert X.shape == (100_000, 100_000)
    assert abs(X.nnz - 1e7) < 6 * np.sqrt(1e7)
    assert X.indices.dtype == np.int32 and X.indptr.dtype == np.int32
    assert np.all(np.diff(X.indptr) >= 0)
    # About a second here; the bound only catches an accidental O(n * p).
    assert elapsed < 20


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_samples=0), "n_samples"),
        (dict(n_samples=2.5), "n_samples"),
        (dict(n_features=-1), "n_features"),
        (dict(n_features=True), "n_features"),
        (dict(density=0.0), "density"),
        (dict(density=1.5), "density"),
        (dict(density=float("nan")), "density"),
        (dict(density="dense"), "density"),
        (dict(n_informative=-1), "n_informative"),
        (dict(n_features=5, n_informative=6), "n_informative"),
        (dict(noise=-0.1), "noise"),
        (dict(fit_intercept_shift=float("inf")), "fit_intercept_shift"),
        (dict(dtype=np.int64), "dtype"),
        (dict(dtype="not a dtype"), "dtype"),
        (dict(format="coo"), "format"),
        (dict(format=None), "format"),
        (dict(random_state="seed"), "random_state"),
        (dict(random_state=-1), "random_state"),
    ],
)
def test_make_sparse_regression_bad_arguments(kwargs, match):
    params = dict(n_samples=10, n_features=10)
    params.update(kwargs)
    with pytest.raises(ValueError, match=match):
        make_sparse_regression(**params)


# --------------------------------------------------------------------------
# MovieLens


def _simulate_no_recbole(monkeypatch):
    def no_distribution(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(_movielens, "_find_spec", lambda name: None)
    monkeypatch.setattr(_movielens, "_distribution", no_distribution)


def test_movielens_without_recbole_raises(monkeypatch):
    _simulate_no_recbole(monkeypatch)
    hint = (
        "the data come from the recbole wheel, install with "
        "`pip install --no-deps recbole` (or `pip install sparse_estimators[data]`)"
    )
    for loader in (load_movielens_100k, load_movielens_age):
        with pytest.raises(ImportError) as excinfo:
            loader()
        assert hint in str(excinfo.value)


def test_movielens_reader_on_tiny_files(tmp_path, monkeypatch):
    # Exercise the parser without recbole: a fake package directory.
    data_dir = tmp_path / "recbole" / "dataset_example" / "ml-100k"
    data_dir.mkdir(parents=True)
    (data_dir / "ml-100k.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        "10\t7\t4\t100\n"
        "2\t7\t1\t50\n"
        "10\t3\t5\t90\n"
        "2\t7\t2\t60\n"  # duplicate pair: the later rating wins
    )
    (data_dir / "ml-100k.user").write_text(
        "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
        "2\t31\tF\twriter\t12345\n"
        "10\t45\tM\tother\t54321\n"
    )
    monkeypatch.setattr(
        _movielens, "_recbole_package_dirs", lambda: [tmp_path / "recbole"]
    )
    ml = load_movielens_100k(return_user_features=True)
    assert list(ml.user_ids) == ["2", "10"]  # numeric order
    assert list(ml.item_ids) == ["3", "7"]
    np.testing.assert_array_equal(ml.ratings.toarray(), [[0, 2], [5, 4]])
    np.testing.assert_array_equal(ml.timestamps.toarray(), [[0, 60], [90, 100]])
    np.testing.assert_array_equal(ml.user_age, [31.0, 45.0])
    assert list(ml.user_gender) == ["F", "M"]
    assert list(ml.user_occupation) == ["writer", "other"]
    assert list(ml.item_titles) == ["", ""]          # no item file: empty titles
    (data_dir / "ml-100k.item").write_text(
        "item_id:token\tmovie_title:token_seq\trelease_year:token\n"
        "7\tSeven\t1995\n"
        "3\tThree\t\n"
    )
    assert list(load_movielens_100k().item_titles) == ["Three", "Seven (1995)"]
    X, y = load_movielens_age(binary=True)
    np.testing.assert_array_equal(X.toarray(), [[0, 1], [1, 1]])
    np.testing.assert_array_equal(y, [31.0, 45.0])


def test_movielens_missing_files(tmp_path, monkeypatch):
    monkeypatch.setattr(
        _movielens, "_recbole_package_dirs", lambda: [tmp_path / "recbole"]
    )
    with pytest.raises(FileNotFoundError, match="ml-100k.inter"):
        load_movielens_100k()


@needs_recbole
def test_load_movielens_100k():
    ml = load_movielens_100k()
    R = ml.ratings
    assert sp.issparse(R) and R.format == "csr" and R.dtype == np.float64
    assert R.shape == (943, 1682)
    assert R.nnz == 100_000
    assert R.has_canonical_format
    R.check_format(full_check=True)
    assert set(np.unique(R.data)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert ml.user_ids.shape == (943,) and ml.item_ids.shape == (1682,)
    assert len(set(ml.user_ids)) == 943 and len(set(ml.item_ids)) == 1682
    T = ml.timestamps
    assert T.shape == R.shape
    np.testing.assert_array_equal(T.indptr, R.indptr)
    np.testing.assert_array_equal(T.indices, R.indices)
    assert T.data.min() > 8e8  # 1997-1998 Unix times
    assert "user_age" not in ml
    # First line of ml-100k.inter: user 196 gave item 242 a 3.
    i = list(ml.user_ids).index("196")
    j = list(ml.item_ids).index("242")
    assert R[i, j] == 3.0 and T[i, j] == 881250949.0
    assert ml.item_titles.shape == (1682,)
    assert ml.item_titles[list(ml.item_ids).index("1")] == "Toy Story (1995)"
    # Every user rated at least 20 movies in MovieLens-100k.
    assert np.diff(R.indptr).min() >= 20


@needs_recbole
def test_load_movielens_100k_user_features():
    ml = load_movielens_100k(return_user_features=True)
    assert ml.user_age.shape == ml.user_gender.shape == ml.user_occupation.shape
    assert ml.user_age.shape == (943,) and ml.user_age.dtype == np.float64
    assert not np.isnan(ml.user_age).any()
    assert 5 <= ml.user_age.min() and ml.user_age.max() <= 80
    assert set(ml.user_gender) == {"M", "F"}
    assert "student" in set(ml.user_occupation)
    # User 1: 24, M, technician.
    k = list(ml.user_ids).index("1")
    assert (ml.user_age[k], ml.user_gender[k], ml.user_occupation[k]) == (
        24.0, "M", "technician",
    )


@needs_recbole
@pytest.mark.parametrize("binary", [False, True])
def test_load_movielens_age(binary):
    X, y = load_movielens_age(binary=binary)
    assert sp.issparse(X) and X.format == "csr" and X.dtype == np.float64
    assert X.shape == (943, 1682) and X.shape[1] > X.shape[0]
    assert X.nnz == 100_000
    assert y.shape == (943,) and y.dtype == np.float64
    values = set(np.unique(X.data))
    assert values == ({1.0} if binary else {1.0, 2.0, 3.0, 4.0, 5.0})


# --------------------------------------------------------------------------
# Docstrings


def test_load_docstrings_small():
    corpus = load_docstrings(packages=SMALL_PACKAGES)
    n = len(corpus.data)
    assert n > 20
    assert len(corpus.names) == n
    assert corpus.target.shape == corpus.n_params.shape == (n,)
    assert corpus.target.dtype == np.int64 and corpus.n_params.dtype == np.float64
    assert corpus.target_names == list(SMALL_PACKAGES)
    assert set(corpus.target) == {0, 1, 2}
    assert not np.isnan(corpus.n_params).any()
    assert (corpus.n_params >= 0).all()
    assert all(isinstance(d, str) and len(d) >= 50 for d in corpus.data)
    assert len(set(corpus.data)) == n  # deduplicated
    assert len(set(corpus.names)) == n
    for name, label in zip(corpus.names, corpus.target):
        assert name.split(".")[0] == SMALL_PACKAGES[label]
        assert not any(part.startswith("_") for part in name.split("."))
    # A known entry: json.dumps(obj, *, skipkeys, ensure_ascii, check_circular,
    # allow_nan, cls, indent, separators, default, sort_keys, **kw).
    k = corpus.names.index("json.dumps")
    assert corpus.target[k] == 0
    assert corpus.data[k].startswith("Serialize ``obj`` to a JSON formatted ``str``")
    import inspect
    import json

    assert corpus.n_params[k] == len(inspect.signature(json.dumps).parameters)


def test_load_docstrings_deterministic_and_options():
    a = load_docstrings(packages=SMALL_PACKAGES)
    b = load_docstrings(packages=list(SMALL_PACKAGES))
    assert a.data == b.data and a.names == b.names
    np.testing.assert_array_equal(a.n_params, b.n_params)

    single = load_docstrings(packages="json")
    assert single.target_names == ["json"] and set(single.target) == {0}
    assert single.names == [n for n in a.names if n.startswith("json.")]

    longer = load_docstrings(packages=SMALL_PACKAGES, min_length=500)
    assert 0 < len(longer.data) < len(a.data)
    assert all(len(d) >= 500 for d in longer.data)

    sub1 = load_docstrings(packages=SMALL_PACKAGES, max_docs_per_package=3)
    sub2 = load_docstrings(packages=SMALL_PACKAGES, max_docs_per_package=3)
    sub3 = load_docstrings(
        packages=SMALL_PACKAGES, max_docs_per_package=3, random_state=1
    )
    assert np.bincount(sub1.target).max() <= 3
    assert sub1.names == sub2.names
    assert set(sub1.names) <= set(a.names)
    assert sub1.names != sub3.names
    # Order is preserved when subsampling.
    order = [a.names.index(n) for n in sub1.names]
    assert order == sorted(order)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(packages=()), "packages"),
        (dict(packages=("json", "json")), "packages"),
        (dict(packages=("json", 3)), "packages"),
        (dict(packages=3), "packages"),
        (dict(min_length=-1), "min_length"),
        (dict(min_length=2.5), "min_length"),
        (dict(max_docs_per_package=0), "max_docs_per_package"),
        (dict(max_docs_per_package=1.5), "max_docs_per_package"),
    ],
)
def test_load_docstrings_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_docstrings(**kwargs)


FAKE_DOC = "A public function of the fake package, documented at length: {}."


def test_load_docstrings_walks_public_modules(tmp_path, monkeypatch):
    pkg = tmp_path / "fakepkg_docstrings"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "_private").mkdir()
    (pkg / "tests").mkdir()

    def write(rel, body):
        (pkg / rel).write_text(body)

    def func(name, n_args):
        args = ", ".join(f"a{i}" for i in range(n_args))
        doc = FAKE_DOC.format(name)
        return f"def {name}({args}):\n    {doc!r}\n"

    write("__init__.py", func("top", 2) + "from json import dumps\n")
    write("good.py", func("good_func", 3) + func("_hidden", 1)
          + "def short(a):\n    'Too short.'\n"
          + "def nodoc(a):\n    pass\n"
          + f"class Klass:\n    {FAKE_DOC.format('Klass')!r}\n"
          + "    def __init__(self, x, y=1):\n        pass\n"
          + "same_func = good_func\n")
    write("zdup.py", func("copy_of_good", 4).replace("copy_of_good.", "good_func."))
    write("broken.py", func("broken_func", 1) + "raise RuntimeError('boom')\n")
    write("warns.py", "import warnings\n"
          "warnings.warn('deprecated module', DeprecationWarning)\n"
          + func("warned_func", 1))
    write("sub/__init__.py", "")
    write("sub/deep.py", func("deep_func", 0))
    write("_private/__init__.py", func("private_func", 1))
    write("tests/__init__.py", func("test_func", 1))
    monkeypatch.syspath_prepend(str(tmp_path))

    corpus = load_docstrings(packages="fakepkg_docstrings")
    expected = {
        "fakepkg_docstrings.top": 2,
        "fakepkg_docstrings.good.good_func": 3,
        "fakepkg_docstrings.good.Klass": 2,
        "fakepkg_docstrings.sub.deep.deep_func": 0,
    }
    assert dict(zip(corpus.names, corpus.n_params)) == expected
    assert corpus.names == sorted(expected)
    # copy_of_good has the same docstring as good_func: dropped as duplicate;
    # warns.py is skipped on the second call too, although already imported.
    again = load_docstrings(packages="fakepkg_docstrings")
    assert again.names == corpus.names and again.data == corpus.data


def test_drop_varying_output():
    doc = ("Draws.\n\n    >>> rng.random(2)\n    array([0.1,\n           0.2])  # may vary\n"
           "    >>> 1 + 1\n    2\n\n    >>> f()\n    3  # random\n\n    Text after.\n"
           "    >>> g()  # may vary\n    4\n")
    out = _docstrings._drop_varying_output(doc)
    assert "0.1" not in out and "0.2" not in out and "3  # random" not in out
    # prompts, unmarked outputs and the prose are kept
    for kept in (">>> rng.random(2)", ">>> 1 + 1\n    2", ">>> f()", "Text after.",
                 ">>> g()  # may vary\n    4"):
        assert kept in out
    assert _docstrings._drop_varying_output("No doctest.") == "No doctest."


def test_load_docstrings_same_in_every_process(tmp_path):
    # a docstring generated at import from an unseeded draw, as scipy.stats does
    pkg = tmp_path / "fakepkg_random_doc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "import os\n"
        "def draw(a):\n    pass\n"
        "draw.__doc__ = ('Draw numbers, documented at length with an example.\\n\\n'\n"
        "    '>>> draw(1)\\n' + repr(list(os.urandom(4))) + '  # may vary\\n')\n")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from sparse_estimators.datasets import load_docstrings; "
            "print(repr(load_docstrings(packages='fakepkg_random_doc').data))")
    outs = [subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True,
                           capture_output=True, text=True).stdout for _ in range(2)]
    assert outs[0] == outs[1] and ">>> draw(1)" in outs[0]
    assert "may vary" not in outs[0]


def test_load_docstrings_missing_package():
    with pytest.raises(ImportError, match="no_such_package_xyz"):
        load_docstrings(packages=("no_such_package_xyz",))


def test_load_docstrings_regression():
    X, y, vectorizer = load_docstrings_regression(packages=SMALL_PACKAGES)
    corpus = load_docstrings(packages=SMALL_PACKAGES)
    assert sp.issparse(X) and X.format == "csr" and X.dtype == np.float64
    assert X.shape == (len(corpus.data), len(vectorizer.get_feature_names_out()))
    np.testing.assert_allclose(y, np.log1p(corpus.n_params))
    # Rows are L2-normalized TF-IDF vectors (empty rows aside).
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    np.testing.assert_allclose(norms[norms > 0], 1.0)
    assert vectorizer.min_df == 2 and vectorizer.sublinear_tf


# --------------------------------------------------------------------------
# Examples in the docstrings


@pytest.mark.parametrize("module", [_synthetic, _movielens, _docstrings])
def test_docstring_examples(module):
    if module is _movielens and not HAS_RECBOLE:
        pytest.skip("recbole is not installed")
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    n_examples = 0
    for test in finder.find(module, module.__name__):
        n_examples += len(test.examples)
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert n_examples > 0
    assert results.failed == 0
