"""The command line: ``python -m sparse_estimators {demo,fit}``."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file

from sparse_estimators._cli import main
from sparse_estimators.datasets import make_sparse_regression
from sparse_estimators.linear_model import Lasso, LassoCV


@pytest.fixture
def data():
    return make_sparse_regression(120, 40, density=0.2, n_informative=4, noise=0.1,
                                  random_state=0)


def test_fit_svmlight_saves_a_working_model(tmp_path, data, capsys):
    X, y = data
    path = tmp_path / "d.svmlight"
    dump_svmlight_file(X, y, str(path))
    model_path = tmp_path / "m.pkl"
    assert main(["fit", str(path), "--alpha", "0.01", "--save", str(model_path),
                 "--test-size", "0"]) == 0
    out = capsys.readouterr().out
    assert "120 x 40" in out and "selected features" in out and "R^2" in out
    with open(model_path, "rb") as fh:
        model = pickle.load(fh)
    assert isinstance(model, Lasso)
    ref = Lasso(alpha=0.01).fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-8)


@pytest.mark.parametrize("layout", ["save_npz", "X_y"])
def test_fit_npz_with_cv(tmp_path, data, capsys, layout):
    X, y = data
    path = tmp_path / "d.npz"
    if layout == "save_npz":
        sp.save_npz(path, X)
        target = tmp_path / "y.npy"
        np.save(target, y)
        argv = ["fit", str(path), "--target", str(target)]
    else:
        np.savez(path, X=X.toarray(), y=y)
        argv = ["fit", str(path)]
    assert main(argv + ["--cv", "3"]) == 0
    out = capsys.readouterr().out
    assert "LassoCV" in out and "alpha (CV)" in out


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_read_data_keeps_every_save_npz_format(tmp_path, fmt):
    # A square CSC file read as CSR would be the transpose, silently.
    from sparse_estimators._cli import _read_data

    X = sp.random(30, 30, density=0.2, format=fmt, random_state=0)
    path, target = tmp_path / "d.npz", tmp_path / "y.npy"
    sp.save_npz(path, X)
    np.save(target, np.arange(30.0))
    Xr, y = _read_data(str(path), str(target))
    assert sp.issparse(Xr) and Xr.format in ("csr", "csc")
    assert abs(Xr - X).max() == 0 and abs(Xr - X.T).max() > 0
    np.testing.assert_array_equal(y, np.arange(30.0))


def test_fit_elastic_net(tmp_path, data, capsys):
    X, y = data
    path = tmp_path / "d.svmlight"
    dump_svmlight_file(X, y, str(path))
    assert main(["fit", str(path), "--alpha", "0.01", "--l1-ratio", "0.5"]) == 0
    assert "ElasticNet:" in capsys.readouterr().out


def test_fit_npz_without_target_is_a_clear_error(tmp_path, data, capsys):
    X, _ = data
    path = tmp_path / "d.npz"
    sp.save_npz(path, X)
    assert main(["fit", str(path)]) == 2
    assert "no target" in capsys.readouterr().err


def test_fit_mismatched_target_is_a_clear_error(tmp_path, data, capsys):
    X, y = data
    path = tmp_path / "d.npz"
    sp.save_npz(path, X)
    target = tmp_path / "y.npy"
    np.save(target, y[:-1])
    assert main(["fit", str(path), "--target", str(target)]) == 2
    assert "rows" in capsys.readouterr().err


def test_demo_runs_and_compares(capsys):
    assert main(["demo", "--cv", "3", "--n-alphas", "20", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "442 x 4753 CSR" in out
    assert "sparse_estimators LassoCV" in out and "scikit-learn LassoCV" in out
    assert "speed-up over scikit-learn" in out
    n_sel = int(out.split("selected features : ")[1].split(" of")[0])
    assert 0 < n_sel < 4753


def test_module_entry_point():
    res = subprocess.run([sys.executable, "-m", "sparse_estimators", "--help"],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0 and "demo" in res.stdout and "fit" in res.stdout


def test_demo_model_is_the_estimator(capsys):
    # The demo's numbers come from the public estimator, not a special path.
    from sparse_estimators._cli import _diabetes_interactions

    X, y, names, _ = _diabetes_interactions()
    assert X.shape == (442, 4753) and len(names) == 4753
    m = LassoCV(cv=3, alphas=10).fit(X, y)
    assert np.count_nonzero(m.coef_) < X.shape[1]


def _have_recbole():
    from sparse_estimators.datasets import _movielens

    try:
        _movielens._movielens_100k_dir()
    except (ImportError, FileNotFoundError):
        return False
    return True


@pytest.mark.skipif(not _have_recbole(), reason="needs `pip install --no-deps recbole`")
@pytest.mark.parametrize("feedback", ["explicit", "implicit"])
def test_recommend_command(feedback, capsys):
    assert main(["recommend", "--feedback", feedback, "-n", "3", "--user", "5"]) == 0
    out = capsys.readouterr().out
    assert ("held-out RMSE" in out) == (feedback == "explicit")
    lines = out.split("top 3 unseen movies for user")[1].strip().splitlines()[1:]
    assert len(lines) == 3 and all("(19" in line for line in lines)   # titles with years
    # more than the user's unseen movies: the padding (-1) is not printed as a title
    assert main(["recommend", "--feedback", feedback, "-n", "5000", "--user", "5"]) == 0
    out = capsys.readouterr().out
    head, body = out.split(" unseen movies for user")
    n_shown = int(head.rsplit("top ", 1)[1])
    assert 1000 < n_shown < 1682 and len(body.strip().splitlines()) == n_shown + 1
    assert "-inf" not in body
    assert main(["recommend", "--user", "100000"]) == 2
    assert "--user must be in" in capsys.readouterr().err


def test_fit_warnings_name_the_command_line_code(tmp_path, data):
    # the package's entry points count as the caller of the estimator
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    X, y = data
    path = tmp_path / "d.svmlight"
    dump_svmlight_file(X, y, str(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        main(["fit", str(path), "--alpha", "1e-6", "--max-iter", "1", "--tol", "1e-14",
              "--test-size", "0"])
    from sparse_estimators import _cli

    files = {w.filename for w in caught if w.category is ConvergenceWarning}
    assert files == {_cli.__file__}
