"""A real text corpus: the docstrings of installed Python packages."""

import importlib
import inspect
import numbers
import pkgutil
import warnings

import numpy as np
from sklearn.utils import Bunch

from ._synthetic import _as_generator

__all__ = ["load_docstrings", "load_docstrings_regression"]

# Public-looking module names that hold test suites, build scripts or vendored
# third-party code rather than the package's API.
_SKIP_MODULE_PARTS = frozenset(
    {"tests", "test", "conftest", "setup", "__main__", "benchmarks", "externals"}
)


def _is_private(name):
    return name.startswith("_")


# Modules whose import failed or warned in this process.  A module warns only
# the first time it is imported, so remembering the verdict keeps repeated
# calls of load_docstrings consistent (nothing is stored on disk).
_REJECTED_MODULES = set()


def _import_quietly(name):
    """Import module ``name``; None if it fails or emits any warning.

    Warnings are recorded (never shown): a module whose import warns is
    typically deprecated, and is skipped.
    """
    if name in _REJECTED_MODULES:
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            module = importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - SystemExit from scripts
            if isinstance(exc, KeyboardInterrupt):
                raise
            _REJECTED_MODULES.add(name)
            return None
    if caught:
        _REJECTED_MODULES.add(name)
        return None
    return module


def _walk_public_modules(package):
    """Yield the public modules of ``package`` (itself first), sorted by name."""
    seen = set()
    stack = [package]
    while stack:
        module = stack.pop()
        if module.__name__ in seen:
            continue
        seen.add(module.__name__)
        yield module
        path = getattr(module, "__path__", None)
        if path is None:
            continue
        try:
            children = sorted(
                info.name for info in pkgutil.iter_modules(path, module.__name__ + ".")
            )
        except Exception:  # noqa: BLE001 - exotic loaders
            continue
        sub = []
        for child in children:
            last = child.rsplit(".", 1)[-1]
            if _is_private(last) or last in _SKIP_MODULE_PARTS:
                continue
            child_module = _import_quietly(child)
            if child_module is not None:
                sub.append(child_module)
        # Reverse so that the stack pops them in sorted order.
        stack.extend(reversed(sub))


def _belongs_to(obj, package_name):
    mod = getattr(obj, "__module__", None)
    return isinstance(mod, str) and (
        mod == package_name or mod.startswith(package_name + ".")
    )


def _public_names(module):
    names = getattr(module, "__all__", None)
    if not isinstance(names, (list, tuple)) or not all(
        isinstance(n, str) for n in names
    ):
        names = dir(module)
    return sorted({n for n in names if not _is_private(n)})


def _getattr_quietly(module, attr):
    """``module.attr``, or None if the lookup fails or warns (deprecated)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            obj = getattr(module, attr)
        except Exception:  # noqa: BLE001 - lazy attributes may raise anything
            return None
    return None if caught else obj


#: Doctest markers of an output that differs between runs (numpydoc's convention
#: for random draws, e.g. the examples that ``scipy.stats`` generates at import).
_VARYING_MARKERS = ("# may vary", "# random")


def _drop_varying_output(doc):
    """``doc`` without the doctest outputs marked as varying between runs.

    A doctest output is the block of lines after a ``>>>`` / ``...`` prompt, up to
    the next prompt or blank line; a block with a :data:`_VARYING_MARKERS` marker on
    any of its lines is dropped (its prompt is kept), so that the corpus is the same
    in every process.
    """
    if not any(m in doc for m in _VARYING_MARKERS):
        return doc
    out, block = [], []

    def flush():
        if not any(m in line for line in block for m in _VARYING_MARKERS):
            out.extend(block)
        block.clear()

    in_output = False
    for line in doc.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith((">>>", "...")) and (len(stripped) == 3
                                                    or stripped[3] == " "):
            flush()
            out.append(line)
            in_output = True
        elif in_output and stripped:
            block.append(line)
        else:
            flush()
            out.append(line)
            in_output = False
    flush()
    return "\n".join(out)


def _n_params(obj):
    """Number of parameters of ``obj``'s signature, NaN if unavailable."""
    try:
        return float(len(inspect.signature(obj).parameters))
    except Exception:  # noqa: BLE001 - signature() may run arbitrary code
        return np.nan


def _collect_package(package_name, min_length):
    """Docstring records ``(name, doc, n_params)`` of one package, sorted."""
    package = _import_quietly(package_name)
    if package is None:
        try:  # Re-raise the real error for a package that cannot be imported.
            importlib.import_module(package_name)
        except ImportError as exc:
            raise ImportError(
                f"packages: cannot import {package_name!r}: {exc}"
            ) from exc
        package = importlib.import_module(package_name)

    found = {}  # id(obj) -> [best public name, obj]
    for module in _walk_public_modules(package):
        for attr in _public_names(module):
            obj = _getattr_quietly(module, attr)
            if obj is None:
                continue
            if not (inspect.isclass(obj) or inspect.isroutine(obj)):
                continue
            if not _belongs_to(obj, package_name):
                continue
            name = f"{module.__name__}.{attr}"
            key = id(obj)
            if key in found:
                best = found[key][0]
                if (name.count("."), name) < (best.count("."), best):
                    found[key][0] = name
            else:
                found[key] = [name, obj]

    records = []
    for name, obj in sorted(found.values(), key=lambda r: r[0]):
        doc = getattr(obj, "__doc__", None)
        if not isinstance(doc, str):
            continue
        doc = _drop_varying_output(inspect.cleandoc(doc))
        if len(doc) < min_length:
            continue
        n_params = _n_params(obj)
        if np.isnan(n_params):
            continue
        records.append((name, doc, n_params))
    return records


def load_docstrings(
    packages=("numpy", "scipy", "sklearn"),
    *,
    min_length=50,
    max_docs_per_package=None,
    random_state=0,
):
    """Load a text corpus made of the docstrings of installed packages.

    Every public module of each package is imported (modules or
    subpackages whose name starts with ``_``, test suites, and modules whose
    import fails or emits a warning, e.g. deprecated ones, are skipped; all
    warnings are silenced).  Every public class and function defined in the
    package (re-exports from other packages are ignored) contributes its
    cleaned docstring (:func:`inspect.cleandoc`), provided it is at least
    ``min_length`` characters long and :func:`inspect.signature` can tell
    its number of parameters.  An object exported under several names is
    counted once, under its shortest public name.  Identical docstrings are
    kept once (the first, in the order of ``packages`` then of names).

    The result is deterministic for a given set of installed package
    versions: names are sorted, and the doctest outputs marked ``# may vary``
    or ``# random`` are dropped (some packages generate them at import time
    from unseeded random draws, e.g. the examples of ``scipy.stats``'
    distribution classes).  Since a module warns
    only when first imported, a module seen to warn is remembered for the
    rest of the process, so repeated calls agree; a deprecated module that
    was imported before the first call cannot be recognized and is kept.
    Nothing is cached on disk; numpy + scipy + scikit-learn take about two
    seconds, mostly spent importing modules.

    Parameters
    ----------
    packages : str or sequence of str, default=("numpy", "scipy", "sklearn")
        Importable top-level package names (stdlib packages such as
        ``"json"`` work too).  Package ``packages[k]`` gets label ``k``.
    min_length : int, default=50
        Shortest docstring kept, in characters.
    max_docs_per_package : int or None, default=None
        If given, keep at most this many documents per package, drawn at
        random without replacement (order preserved).
    random_state : int, numpy.random.Generator, numpy.random.RandomState \
or None, default=0
        Seed of the subsampling done when ``max_docs_per_package`` is set.

    Returns
    -------
    data : sklearn.utils.Bunch
        Dictionary-like object with the following attributes.

        data : list of str
            The docstrings.
        target : ndarray of int64 of shape (n_docs,)
            Index in ``target_names`` of the package of each docstring.
        target_names : list of str
            The package names, ``packages`` in order.
        n_params : ndarray of float64 of shape (n_docs,)
            Number of parameters in the signature of each callable (for a
            class, of its constructor, ``self`` excluded).  Documents whose
            signature is unavailable are dropped, so there is no NaN: this
            is a real regression target.
        names : list of str
            Qualified name of each documented object (e.g.
            ``"json.dumps"``).
        DESCR : str
            Short description of the corpus.

    Examples
    --------
    >>> from sparse_estimators.datasets import load_docstrings
    >>> corpus = load_docstrings(packages=("json",))
    >>> "json.dumps" in corpus.names
    True
    >>> len(corpus.data) == len(corpus.target) == len(corpus.n_params)
    True
    """
    if isinstance(packages, str):
        packages = (packages,)
    try:
        packages = list(packages)
    except TypeError:
        raise ValueError(
            f"packages must be a str or a sequence of str; got {packages!r}."
        ) from None
    if not packages or not all(isinstance(p, str) and p for p in packages):
        raise ValueError(
            "packages must be a non-empty sequence of package names; got "
            f"{packages!r}."
        )
    if len(set(packages)) != len(packages):
        raise ValueError(f"packages must not contain duplicates; got {packages!r}.")
    if isinstance(min_length, bool) or not isinstance(min_length, numbers.Integral):
        raise ValueError(f"min_length must be an int; got {min_length!r}.")
    if min_length < 0:
        raise ValueError(f"min_length must be >= 0; got {min_length!r}.")
    if max_docs_per_package is not None and (
        isinstance(max_docs_per_package, bool)
        or not isinstance(max_docs_per_package, numbers.Integral)
        or max_docs_per_package < 1
    ):
        raise ValueError(
            "max_docs_per_package must be None or an int >= 1; got "
            f"{max_docs_per_package!r}."
        )
    rng = _as_generator(random_state)

    data, target, n_params, names = [], [], [], []
    seen_docs = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, package_name in enumerate(packages):
            records = []
            for record in _collect_package(package_name, min_length):
                if record[1] not in seen_docs:  # deduplicate identical docs
                    seen_docs.add(record[1])
                    records.append(record)
            if max_docs_per_package is not None and len(records) > max_docs_per_package:
                pick = np.sort(
                    rng.choice(len(records), size=max_docs_per_package, replace=False)
                )
                records = [records[i] for i in pick]
            for name, doc, k in records:
                names.append(name)
                data.append(doc)
                n_params.append(k)
                target.append(label)

    return Bunch(
        data=data,
        target=np.asarray(target, dtype=np.int64),
        target_names=list(packages),
        n_params=np.asarray(n_params, dtype=np.float64),
        names=names,
        DESCR=(
            "Docstrings of the public classes and functions of "
            + ", ".join(packages)
            + f" ({len(data)} documents)."
        ),
    )


def load_docstrings_regression(**kwargs):
    """Load a real sparse text regression problem built from docstrings.

    The documents of :func:`load_docstrings` (all keyword arguments are
    passed to it) are turned into TF-IDF features with
    ``TfidfVectorizer(min_df=2, sublinear_tf=True)`` and the target is
    ``log1p`` of the number of parameters of the documented callable: can one
    tell, from its docstring, how many arguments a function takes?  With
    the default packages this gives a few thousand documents and tens of
    thousands of very sparse features.

    Parameters
    ----------
    **kwargs
        Keyword arguments of :func:`load_docstrings`.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_docs, n_terms), float64
        L2-normalized TF-IDF matrix.
    y : ndarray of shape (n_docs,), float64
        ``log1p(n_params)``.
    vectorizer : sklearn.feature_extraction.text.TfidfVectorizer
        The fitted vectorizer (its ``get_feature_names_out()`` names the
        columns of ``X``).

    Examples
    --------
    >>> from sparse_estimators.datasets import load_docstrings_regression
    >>> X, y, vectorizer = load_docstrings_regression(packages=("json", "email"))
    >>> X.format, X.dtype, X.shape[0] == y.shape[0]
    ('csr', dtype('float64'), True)
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    corpus = load_docstrings(**kwargs)
    vectorizer = TfidfVectorizer(min_df=2, sublinear_tf=True, dtype=np.float64)
    X = vectorizer.fit_transform(corpus.data).tocsr()
    y = np.log1p(corpus.n_params)
    return X, y, vectorizer
