"""Command line: ``python -m sparse_estimators {demo,fit,recommend}`` (also
``sparse-estimators``).

``demo``       runs a feature-selection pipeline on data that ships with scikit-learn
               (or on the optional real sparse sets) and compares with scikit-learn.
``fit``        fits Lasso / ElasticNet (with or without CV) on your own
               svmlight/libsvm or ``.npz`` sparse data, reports the same, and can
               save the model.
``recommend``  fits SparseMatrixFactorization on MovieLens-100k (needs
               ``pip install --no-deps recbole``), scores it on held-out ratings and
               lists a user's recommendations.
"""

import argparse
import pickle
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

_DATASETS = ("diabetes", "docstrings", "movielens")


def _diabetes_interactions():
    """Diabetes (bundled with scikit-learn): raw + binned features and all their pairs.

    The 10 clinical variables are standardised and also cut into 10 quantile bins
    (one-hot, CSR); every pair of these columns is crossed, the usual way to let a
    linear model find non-linear effects and interactions: 442 patients x 4753
    sparse features, p >> n, for the Lasso to select from.
    """
    from sklearn.datasets import load_diabetes
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import (
        KBinsDiscretizer,
        PolynomialFeatures,
        StandardScaler,
    )

    data = load_diabetes()
    expand = make_pipeline(
        make_union(
            StandardScaler(),
            KBinsDiscretizer(n_bins=10, encode="onehot", strategy="quantile",
                             quantile_method="averaged_inverted_cdf"),
        ),
        PolynomialFeatures(degree=2, interaction_only=True, include_bias=False),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sex has 2 values: bins merge
        X = sp.csr_matrix(expand.fit_transform(data.data))
    names = [n.replace("standardscaler__", "").replace("kbinsdiscretizer__", "bin:")
             for n in expand.get_feature_names_out(data.feature_names)]
    return X, data.target.astype(np.float64), np.array(names), \
        "diabetes progression (442 patients)"


def _load(name):
    if name == "diabetes":
        return _diabetes_interactions()
    from . import datasets

    if name == "docstrings":
        X, y, vec = datasets.load_docstrings_regression()
        return (sp.csr_matrix(X), y, vec.get_feature_names_out(),
                "log(1 + #parameters) from docstring TF-IDF")
    X, y = datasets.load_movielens_age()
    names = np.array([f"item_{j}" for j in range(X.shape[1])])
    return sp.csr_matrix(X), y, names, "user age from MovieLens-100k ratings"


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _report(model, X_te, y_te, names, seconds, top):
    coef = np.ravel(model.coef_)
    nz = np.flatnonzero(coef)
    print(f"  selected features : {nz.size} of {coef.size} "
          f"(sparsity {1 - nz.size / coef.size:.2%})")
    if hasattr(model, "alpha_"):
        print(f"  alpha (CV)        : {model.alpha_:.4g}")
    print(f"  R^2 on held-out   : {model.score(X_te, y_te):.4f}")
    print(f"  fit time          : {seconds:.3f} s")
    if top and nz.size:
        order = nz[np.argsort(-np.abs(coef[nz]))][:top]
        print(f"  top {len(order)} features by |coef|:")
        for j in order:
            label = names[j] if names is not None else f"x{j}"
            print(f"    {coef[j]:+10.4f}  {label}")


def _warm_up_kernels():
    """Load (or, on the very first run, compile) the numba kernels before timing.

    The first run after installation compiles them once (several seconds) and
    caches the machine code; reporting that inside the fit time would misstate
    the speed of every later fit.
    """
    from .linear_model import Lasso

    t0 = time.perf_counter()
    for X in (sp.random(20, 5, density=0.5, format="csr", random_state=0),
              np.random.default_rng(0).standard_normal((20, 5))):
        Lasso(alpha=0.01).fit(X, np.arange(20.0))
    took = time.perf_counter() - t0
    if took > 0.5:
        print(f"(first use: numba kernels compiled in {took:.1f} s and cached on disk; "
              "later runs load them in milliseconds)\n")


def _cmd_demo(args):
    from sklearn import linear_model as sklm
    from sklearn.model_selection import train_test_split

    from .linear_model import ElasticNetCV, LassoCV

    _warm_up_kernels()
    X, y, names, what = _load(args.dataset)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
    print(f"Task: predict {what}")
    print(f"X: {X.shape[0]} x {X.shape[1]} CSR, {X.nnz} stored values "
          f"(density {X.nnz / (X.shape[0] * X.shape[1]):.3%}); 25% held out\n")
    kw = dict(cv=args.cv, alphas=args.n_alphas)
    if args.l1_ratio == 1.0:
        ours, theirs, label = LassoCV(**kw), sklm.LassoCV(**kw), "LassoCV"
    else:
        kw["l1_ratio"] = args.l1_ratio
        ours, theirs, label = ElasticNetCV(**kw), sklm.ElasticNetCV(**kw), "ElasticNetCV"
    print(f"sparse_estimators {label} ({args.cv}-fold CV over {args.n_alphas} alphas):")
    _, t_ours = _timed(lambda: ours.fit(X_tr, y_tr))
    _report(ours, X_te, y_te, names, t_ours, args.top)
    if args.no_compare:
        return 0
    print(f"\nscikit-learn {label} (same folds, same grid):")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, t_sk = _timed(lambda: theirs.fit(X_tr, y_tr))
    _report(theirs, X_te, y_te, names, t_sk, 0)
    print(f"\nspeed-up over scikit-learn: {t_sk / t_ours:.1f}x")
    if not np.isclose(ours.alpha_, theirs.alpha_):
        # Both stop at tol=1e-4, so their CV curves differ in the last digits; where
        # the curve is flat the argmin can land on another grid point.
        i, j = (int(np.argmin(np.abs(ours.alphas_ - a))) for a in (ours.alpha_,
                                                                theirs.alpha_))
        mse = ours.mse_path_.mean(axis=1)
        print(f"(the two picked alphas {ours.alpha_:.4g} and {theirs.alpha_:.4g} of the "
              f"same grid, whose mean CV MSE differ by {abs(mse[i] - mse[j]) / mse[i]:.1e} "
              "relative: the CV curve is flat there and both solvers stop at tol=1e-4)")
    return 0


def _read_data(path, target):
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            if "format" in keys:  # written by scipy.sparse.save_npz (any format)
                X = sp.load_npz(path)
                if X.format not in ("csr", "csc"):
                    X = X.tocsr()
                y = z["y"] if "y" in keys else None
            elif {"data", "indices", "indptr", "shape"} <= keys:  # CSR arrays by hand
                X = sp.csr_matrix((z["data"], z["indices"], z["indptr"]),
                                  shape=tuple(z["shape"]))
                y = z["y"] if "y" in keys else None
            elif "X" in keys:
                X, y = z["X"], (z["y"] if "y" in keys else None)
            else:
                raise ValueError(f"{path}: expected a scipy.sparse.save_npz file or "
                                 f"arrays 'X' and 'y'; found {sorted(keys)}")
        if target is not None:
            y = np.load(target)
        if y is None:
            raise ValueError(f"{path} holds no target: add an array 'y' to the .npz or "
                             "pass --target y.npy")
        return X, np.asarray(y, dtype=np.float64)
    from sklearn.datasets import load_svmlight_file

    X, y = load_svmlight_file(path)
    return X, y


def _cmd_fit(args):
    from sklearn.model_selection import train_test_split

    from .linear_model import ElasticNet, ElasticNetCV, Lasso, LassoCV

    X, y = _read_data(args.data, args.target)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but the target has {y.shape[0]}")
    print(f"{args.data}: {X.shape[0]} x {X.shape[1]}, "
          f"{X.nnz if sp.issparse(X) else np.count_nonzero(X)} non-zeros")
    if args.alpha is None:
        kw = dict(cv=args.cv, max_iter=args.max_iter, tol=args.tol)
        model = LassoCV(**kw) if args.l1_ratio == 1.0 else ElasticNetCV(
            l1_ratio=args.l1_ratio, **kw)
    else:
        kw = dict(alpha=args.alpha, max_iter=args.max_iter, tol=args.tol)
        model = Lasso(**kw) if args.l1_ratio == 1.0 else ElasticNet(
            l1_ratio=args.l1_ratio, **kw)
    if args.test_size > 0:
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=args.test_size,
                                                  random_state=0)
    else:
        X_tr, X_te, y_tr, y_te = X, X, y, y
    print(f"{type(model).__name__}:")
    _, t = _timed(lambda: model.fit(X_tr, y_tr))
    _report(model, X_te, y_te, None, t, args.top)
    if args.save:
        with open(args.save, "wb") as fh:
            pickle.dump(model, fh)
        print(f"model saved to {args.save} (load with pickle.load)")
    return 0


def _cmd_recommend(args):
    from .datasets import load_movielens_100k
    from .decomposition import SparseMatrixFactorization
    from .metrics import ndcg_at_k, precision_at_k
    from .model_selection import train_test_split_interactions

    ml = load_movielens_100k()
    R = ml.ratings
    if not 0 <= args.user < R.shape[0]:
        raise ValueError(f"--user must be in [0, {R.shape[0]}), got {args.user}.")
    train, test = train_test_split_interactions(R, 0.2, random_state=0)
    print(f"MovieLens-100k: {R.shape[0]} users x {R.shape[1]} movies, {R.nnz} ratings; "
          f"random 80/20 split of the ratings\n")
    if args.feedback == "implicit":
        train.data = (train.data >= 4).astype(np.float64)
        train.eliminate_zeros()
        test.data = (test.data >= 4).astype(np.float64)
        test.eliminate_zeros()
        alpha = 10.0 if args.alpha is None else args.alpha
        mf = SparseMatrixFactorization(n_components=args.n_components, feedback="implicit",
                                       alpha=alpha, confidence_scale=0.0, max_iter=15,
                                       random_state=0)
    else:
        alpha = 0.1 if args.alpha is None else args.alpha
        mf = SparseMatrixFactorization(n_components=args.n_components, alpha=alpha,
                                       random_state=0)
    _, seconds = _timed(lambda: mf.fit(train))
    print(f"SparseMatrixFactorization(n_components={args.n_components}, "
          f"feedback={args.feedback!r}, alpha={alpha:g}): {mf.n_iter_} sweeps in "
          f"{seconds:.3f} s")
    if args.feedback == "implicit":
        rec, _ = mf.recommend(np.arange(R.shape[0]), n=10)
        popular = np.argsort(-np.diff(train.tocsc().indptr), kind="stable")
        pop = np.array([[i for i in popular if i not in set(train[u].indices)][:10]
                        for u in range(R.shape[0])])
        print(f"held-out ratings >= 4: precision@10 {precision_at_k(test, rec):.4f}, "
              f"NDCG@10 {ndcg_at_k(test, rec):.4f} (most popular unseen movies: "
              f"{precision_at_k(test, pop):.4f}, {ndcg_at_k(test, pop):.4f})")
    else:
        baseline = np.sqrt(np.mean((test.data - train.data.mean()) ** 2))
        print(f"held-out RMSE {-mf.score(test):.4f} (predicting the mean rating: "
              f"{baseline:.4f})")
    items, scores = mf.recommend(args.user, n=args.n)
    shown = items >= 0   # recommend pads with -1 past the user's unseen movies
    print(f"\ntop {int(shown.sum())} unseen movies for user {ml.user_ids[args.user]}:")
    for item, score in zip(items[shown], scores[shown]):
        print(f"  {score:6.3f}  {ml.item_titles[item]}")
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="sparse-estimators", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="feature selection on bundled data, vs scikit-learn")
    d.add_argument("--dataset", choices=_DATASETS, default="diabetes",
                   help="diabetes (bundled, default); docstrings (TF-IDF of installed "
                        "packages' docstrings); movielens (needs `pip install --no-deps "
                        "recbole`)")
    d.add_argument("--cv", type=int, default=5)
    d.add_argument("--n-alphas", type=int, default=100)
    d.add_argument("--l1-ratio", type=float, default=1.0)
    d.add_argument("--top", type=int, default=10, help="features to list")
    d.add_argument("--no-compare", action="store_true", help="skip scikit-learn")
    d.set_defaults(func=_cmd_demo)

    f = sub.add_parser("fit", help="fit on your svmlight/libsvm or .npz data")
    f.add_argument("data", help="svmlight/libsvm file, or .npz (scipy.sparse.save_npz "
                                "plus an array 'y', or arrays 'X' and 'y')")
    f.add_argument("--target", help=".npy target when the .npz holds only X")
    f.add_argument("--alpha", type=float, default=None,
                   help="regularisation; omit to choose it by cross-validation")
    f.add_argument("--l1-ratio", type=float, default=1.0)
    f.add_argument("--cv", type=int, default=5)
    f.add_argument("--tol", type=float, default=1e-4)
    f.add_argument("--max-iter", type=int, default=1000)
    f.add_argument("--test-size", type=float, default=0.2,
                   help="held-out fraction for the reported R^2 (0: score on train)")
    f.add_argument("--top", type=int, default=10)
    f.add_argument("--save", help="pickle the fitted model to this path")
    f.set_defaults(func=_cmd_fit)

    r = sub.add_parser("recommend", help="matrix factorisation on MovieLens-100k "
                                         "(needs `pip install --no-deps recbole`)")
    r.add_argument("--feedback", choices=("explicit", "implicit"), default="explicit")
    r.add_argument("--n-components", type=int, default=10)
    r.add_argument("--alpha", type=float, default=None,
                   help="L2 penalty (default 0.1 per rating explicit, 10 implicit)")
    r.add_argument("--user", type=int, default=0, help="row of the user to recommend to")
    r.add_argument("-n", type=int, default=10, help="recommendations to list")
    r.set_defaults(func=_cmd_recommend)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, ImportError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
