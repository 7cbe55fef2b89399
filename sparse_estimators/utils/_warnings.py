"""Warnings that name the user's line."""

import os
import sys
import warnings

import sklearn

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
#: scikit-learn's method wrappers: ``fit``'s ``_fit_context``, parameter validation,
#: ``transform``'s output container (``set_output``) and ``available_if``
_SKLEARN_WRAPPERS = tuple(
    os.path.join(os.path.dirname(os.path.abspath(sklearn.__file__)), *parts)
    for parts in (("base.py",), ("utils", "_param_validation.py"),
                  ("utils", "_set_output.py"), ("utils", "_available_if.py")))


def warn_at_caller(message, category=UserWarning):
    """``warnings.warn`` with the stack level of the first frame outside this
    package and scikit-learn's ``fit`` wrappers: the line of the user's code that
    called the estimator, path function or coder, however deep inside the package
    the warning is raised (a fixed ``stacklevel`` would name a line of this package
    whenever a public function is reached through another, e.g. ``lasso_path``
    through ``enet_path``, ``fit`` through scikit-learn's ``_fit_context`` or
    ``transform`` through its ``set_output`` wrapper).

    Examples
    --------
    >>> import warnings
    >>> from sparse_estimators.utils._warnings import warn_at_caller
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_at_caller("careful")
    >>> caught[0].filename == __file__ or caught[0].filename.startswith("<doctest")
    True
    """
    frame = sys._getframe(1)          # the caller: stacklevel 2 of warnings.warn
    level = 2
    while frame.f_back is not None and _inside(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


#: the package's own entry points count as the caller (a warning of
#: ``python -m sparse_estimators fit ...`` names the command-line code)
_ENTRY_POINTS = tuple(os.path.join(_PACKAGE, name) for name in ("_cli.py", "__main__.py"))


def _inside(filename):
    path = os.path.abspath(filename)
    if path in _ENTRY_POINTS:
        return False
    return path.startswith(_PACKAGE) or path in _SKLEARN_WRAPPERS
