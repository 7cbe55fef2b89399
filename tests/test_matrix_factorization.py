"""SparseMatrixFactorization: optimality, fold-in, recovery, recommendations, input."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import GridSearchCV, KFold

from sparse_estimators.decomposition import SparseMatrixFactorization as MF
from sparse_estimators.model_selection import train_test_split_interactions


def planted(n_users=60, n_items=40, rank=3, density=0.4, seed=0, noise=0.0):
    """A rank-``rank`` matrix observed at random positions (all rows/cols non-empty)."""
    rng = np.random.default_rng(seed)
    W, H = rng.normal(size=(n_users, rank)), rng.normal(size=(n_items, rank))
    full = W @ H.T + 3.0
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    vals = full + noise * rng.normal(size=full.shape)
    R = sp.csr_matrix((vals[mask], np.nonzero(mask)), shape=full.shape)
    return R, full, mask


def implicit_counts(n_users=50, n_items=30, density=0.15, seed=0):
    X = sp.random(n_users, n_items, density=density, random_state=seed, format="csr")
    X.data = np.ceil(5 * X.data)
    return X


# ----------------------------------------------------------- brute-force oracle
def dense_objective(mf, R):
    """The documented objective, computed densely from the public attributes."""
    R = sp.csr_matrix(R)
    W, H = mf.user_factors_.astype(float), mf.components_.T.astype(float)
    b, c, mu = mf.user_bias_, mf.item_bias_, mf.global_mean_
    pred = mu + b[:, None] + c[None, :] + W @ H.T
    obs = R.toarray() != 0 if mf.feedback == "implicit" else _mask(R)
    l2, l1 = mf.alpha * (1 - mf.l1_ratio), mf.alpha * mf.l1_ratio
    scaling = mf.reg_scaling
    if scaling == "auto":
        scaling = "none" if mf.feedback == "implicit" else "count"
    su = obs.sum(1) if scaling == "count" else np.ones(R.shape[0])
    si = obs.sum(0) if scaling == "count" else np.ones(R.shape[1])
    if mf.feedback == "implicit":
        r = R.toarray()
        conf = 1 + mf.confidence_scale * (np.log1p(r) if mf.confidence == "log" else r)
        fit = 0.5 * np.sum(conf * (obs - W @ H.T) ** 2)
    else:
        fit = 0.5 * np.sum(obs * (R.toarray() - pred) ** 2)
    pen = (su @ (0.5 * l2 * (W ** 2).sum(1) + l1 * np.abs(W).sum(1) + 0.5 * mf.alpha_bias * b ** 2)
           + si @ (0.5 * l2 * (H ** 2).sum(1) + l1 * np.abs(H).sum(1)
                   + 0.5 * mf.alpha_bias * c ** 2))
    return fit + pen


def _mask(R):
    M = np.zeros(R.shape, dtype=bool)
    M[R.nonzero()] = True
    coo = R.tocoo()
    M[coo.row, coo.col] = True        # explicit zeros are observed too
    return M


def ridge_fold_in(mf, R):
    """Exact explicit-feedback fold-in with L2 penalties: one linear solve per user."""
    R = sp.csr_matrix(R)
    H = mf.components_.T.astype(float)
    k = H.shape[1]
    out_w, out_b = np.zeros((R.shape[0], k)), np.zeros(R.shape[0])
    for u in range(R.shape[0]):
        idx = R.indices[R.indptr[u]:R.indptr[u + 1]]
        y = R.data[R.indptr[u]:R.indptr[u + 1]] - mf.global_mean_ - mf.item_bias_[idx]
        Z = np.hstack([H[idx], np.ones((idx.size, 1))])
        s = idx.size if mf.reg_scaling in ("auto", "count") else 1.0
        reg = np.r_[np.full(k, mf.alpha), mf.alpha_bias] * s
        sol = np.linalg.solve(Z.T @ Z + np.diag(reg), Z.T @ y)
        out_w[u], out_b[u] = sol[:k], sol[k]
    return out_w, out_b


# ------------------------------------------------------------------ objective
@pytest.mark.parametrize("params", [
    dict(),
    dict(biases="none", reg_scaling="none", alpha=0.5),
    dict(l1_ratio=0.7, alpha=0.2),
    dict(nonnegative=True, biases="user+item"),
    dict(feedback="implicit", alpha=0.3),
    dict(feedback="implicit", confidence="log", confidence_scale=5.0, l1_ratio=0.5),
    dict(feedback="implicit", nonnegative=True, reg_scaling="count"),
])
def test_objective_decreases_and_matches_dense(params):
    R = implicit_counts() if params.get("feedback") == "implicit" else planted(noise=0.3)[0]
    R = abs(R) if params.get("nonnegative") else R
    objectives = []
    for n_iter in range(1, 7):
        mf = MF(n_components=4, max_iter=n_iter, tol=0, random_state=0, **params).fit(R)
        assert mf.n_iter_ == n_iter
        # the solver's bookkeeping (kernel return values + Gram terms) is exact
        assert_allclose(mf.objective_[-1], dense_objective(mf, R), rtol=1e-10)
        objectives.append(mf.objective_[-1])
    assert_allclose(objectives, mf.objective_, rtol=1e-12)   # same path, refit
    assert np.all(np.diff(mf.objective_) <= 1e-12 * mf.objective_[0])
    if params.get("nonnegative"):
        assert mf.user_factors_.min() >= 0 and mf.components_.min() >= 0


def test_l1_gives_sparse_factors():
    R = planted(noise=0.5)[0]
    dense = MF(n_components=6, random_state=0).fit(R)
    sparse = MF(n_components=6, l1_ratio=0.9, alpha=0.3, random_state=0).fit(R)
    assert np.mean(dense.user_factors_ == 0) == 0
    assert np.mean(sparse.user_factors_ == 0) > 0.3
    assert np.mean(sparse.components_ == 0) > 0.3


# --------------------------------------------------------------------- fold-in
def test_fold_in_is_exact_ridge_solution():
    R, _, _ = planted(noise=0.3)
    mf = MF(n_components=4, alpha=0.1, random_state=0).fit(R)
    W, b = ridge_fold_in(mf, R)
    assert_allclose(mf.transform(R), W, atol=1e-8)
    _, b_fold = mf._fold_in(mf._validate(R, reset=False))
    assert_allclose(b_fold, b, atol=1e-8)


def test_fold_in_is_exact_implicit_solution():
    X = implicit_counts()
    mf = MF(n_components=5, feedback="implicit", alpha=0.5, confidence_scale=3.0,
            random_state=0).fit(X)
    H = mf.components_.T
    P = (X.toarray() > 0).astype(float)
    C = 1 + 3.0 * X.toarray()
    expected = np.array([np.linalg.solve(H.T @ (C[u][:, None] * H) + 0.5 * np.eye(5),
                                         H.T @ (C[u] * P[u])) for u in range(X.shape[0])])
    assert_allclose(mf.transform(X), expected, atol=1e-8)


@pytest.mark.parametrize("params", [dict(), dict(feedback="implicit", alpha=0.2),
                                    dict(l1_ratio=0.5, alpha=0.2, nonnegative=True)])
def test_fold_in_matches_converged_fit(params):
    R = implicit_counts() if params.get("feedback") else abs(planted(noise=0.2)[0])
    mf = MF(n_components=3, max_iter=5000, tol=1e-15, random_state=0, **params).fit(R)
    # at a fixed point of the alternation, each user is optimal for the fixed items
    assert_allclose(mf.transform(R), mf.user_factors_, atol=1e-6)


def test_transform_is_row_wise():
    R, _, _ = planted(noise=0.2)
    mf = MF(n_components=3, random_state=0).fit(R)
    full = mf.transform(R)
    perm = np.random.default_rng(0).permutation(R.shape[0])
    assert_allclose(mf.transform(R[perm]), full[perm], atol=1e-12)
    assert_allclose(mf.transform(R[5:9]), full[5:9], atol=1e-12)


# -------------------------------------------------------------------- recovery
def test_exact_recovery_of_planted_low_rank():
    R, full, mask = planted(n_users=80, n_items=60, rank=3, density=0.4)
    mf = MF(n_components=3, alpha=1e-9, alpha_bias=1e-9, max_iter=3000, tol=1e-14,
            random_state=0).fit(R)
    users, items = np.nonzero(~mask)
    query = sp.csr_matrix((np.ones(users.size), (users, items)), shape=R.shape)
    pred = mf.predict(query)
    truth = full[query.nonzero()]
    assert np.sqrt(np.mean((pred.data - truth) ** 2)) < 1e-4 * np.std(full)


def test_planted_recovery_implicit_ranks_held_out_items_first():
    rng = np.random.default_rng(1)
    W, H = np.abs(rng.normal(size=(100, 2))), np.abs(rng.normal(size=(80, 2)))
    W[:50, 1] = 0
    W[50:, 0] = 0
    H[:40, 1] = 0
    H[40:, 0] = 0
    likes = (W @ H.T) > 0                    # two blocks of users x items
    observed = likes & (rng.random(likes.shape) < 0.5)
    X = sp.csr_matrix(observed.astype(float))
    mf = MF(n_components=2, feedback="implicit", alpha=0.1, random_state=0).fit(X)
    items, _ = mf.recommend(np.arange(100), n=10)
    assert np.all(likes[np.arange(100)[:, None], items])


# --------------------------------------------------------------- input formats
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil", "dok", "bsr", "dense"])
def test_same_answer_on_every_format(fmt):
    R = planted(noise=0.2)[0]
    ref = MF(n_components=3, random_state=0).fit(R)
    X = R.toarray() if fmt == "dense" else R.asformat(fmt)
    mf = MF(n_components=3, random_state=0).fit(X)
    assert_allclose(mf.user_factors_, ref.user_factors_, atol=1e-12)
    assert_allclose(mf.components_, ref.components_, atol=1e-12)


def test_int64_indices_and_float32():
    R = planted(noise=0.2)[0]
    ref = MF(n_components=3, random_state=0).fit(R)
    R64 = R.copy()
    R64.indices, R64.indptr = R64.indices.astype(np.int64), R64.indptr.astype(np.int64)
    mf = MF(n_components=3, random_state=0).fit(R64)
    assert_allclose(mf.user_factors_, ref.user_factors_, atol=1e-12)
    f32 = MF(n_components=3, random_state=0).fit(R.astype(np.float32))
    assert f32.user_factors_.dtype == np.float32 and f32.components_.dtype == np.float32
    assert f32.transform(R.astype(np.float32)).dtype == np.float32
    assert_allclose(f32.predict(R).data, ref.predict(R).data, rtol=1e-3, atol=1e-3)


def test_unsorted_and_duplicate_entries_are_summed_without_touching_input():
    R = planted(noise=0.2)[0].tocoo()
    rng = np.random.default_rng(0)
    order = rng.permutation(R.nnz)
    half = R.data[order] / 2
    rows = np.r_[R.row[order], R.row[order]]
    cols = np.r_[R.col[order], R.col[order]]
    # CSR built by hand: unsorted columns, each entry split into two duplicates
    key = np.lexsort((rng.random(rows.size), rows))
    rows, cols, vals = rows[key], cols[key], np.r_[half, half][key]
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=R.shape[0]))]
    messy = sp.csr_matrix((vals.copy(), cols.copy(), indptr), shape=R.shape)
    messy.has_canonical_format = False
    snapshot = (messy.data.copy(), messy.indices.copy(), messy.indptr.copy())
    ref = MF(n_components=3, random_state=0).fit(R.tocsr())
    mf = MF(n_components=3, random_state=0).fit(messy)
    assert_allclose(mf.user_factors_, ref.user_factors_, atol=1e-10)
    for a, b in zip(snapshot, (messy.data, messy.indices, messy.indptr)):
        assert_array_equal(a, b)
    mf.transform(messy)
    mf.predict(messy)
    assert_array_equal(snapshot[0], messy.data)


def test_explicit_zero_ratings_are_observations():
    R = sp.csr_matrix(np.array([[5.0, 0.0, 1.0], [4.0, 2.0, 0.0]]))
    R0 = sp.csr_matrix((np.array([5.0, 1.0, 4.0, 2.0, 0.0]), np.array([0, 2, 0, 1, 2]),
                        np.array([0, 2, 5])), shape=(2, 3))
    a = MF(n_components=1, random_state=0).fit(R)
    b = MF(n_components=1, random_state=0).fit(R0)
    assert b.global_mean_ == pytest.approx(12 / 5)
    assert a.global_mean_ == pytest.approx(12 / 4)


def test_empty_rows_and_columns():
    R = planted(noise=0.2)[0].tolil()
    R[3, :] = 0
    R[:, 7] = 0
    R = R.tocsr()
    R.eliminate_zeros()
    mf = MF(n_components=3, random_state=0).fit(R)
    assert_array_equal(mf.user_factors_[3], 0)
    assert mf.user_bias_[3] == 0
    assert_array_equal(mf.components_[:, 7], 0)
    assert mf.item_bias_[7] == 0
    items, scores = mf.recommend(3, n=5)           # falls back on the item biases
    assert_array_equal(items, np.argsort(-mf.item_bias_, kind="stable")[:5])
    assert np.all(np.isfinite(mf.objective_))


def test_huge_and_zero_regularisation():
    R = planted(noise=0.2)[0]
    big = MF(n_components=3, alpha=1e12, alpha_bias=1e12, random_state=0).fit(R)
    assert np.abs(big.user_factors_).max() < 1e-9 and np.abs(big.item_bias_).max() < 1e-9
    assert_allclose(big.predict(R).data, R.data.mean(), atol=1e-8)
    zero = MF(n_components=3, alpha=0.0, alpha_bias=0.0, random_state=0).fit(R)
    assert np.all(np.isfinite(zero.user_factors_))
    assert np.all(np.diff(zero.objective_) <= 1e-9 * zero.objective_[0])


# ------------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad, match", [
    (np.nan, "NaN"), (np.inf, "infinity"),
])
def test_non_finite_values_raise(bad, match):
    R = planted()[0]
    R.data[3] = bad
    with pytest.raises(ValueError, match=match):
        MF().fit(R)


def test_negative_values_need_explicit_unconstrained_mode():
    R = planted()[0]
    R.data[0] = -1.0
    MF(n_components=2).fit(R)                       # ratings may be negative
    with pytest.raises(ValueError, match="implicit feedback"):
        MF(feedback="implicit").fit(R)
    with pytest.raises(ValueError, match="nonnegative=True"):
        MF(nonnegative=True).fit(R)


def test_bad_parameters_and_shapes():
    R = planted()[0]
    with pytest.raises(ValueError, match="no stored entries"):
        MF().fit(sp.csr_matrix(R.shape))
    with pytest.raises(ValueError, match="biases"):
        MF(biases="user+bogus").fit(R)
    with pytest.raises(ValueError, match="explicit feedback"):
        MF(feedback="implicit", biases="user").fit(implicit_counts())
    with pytest.raises(ValueError, match="n_components"):
        MF(n_components=0).fit(R)
    mf = MF(n_components=2, random_state=0).fit(R)
    with pytest.raises(ValueError, match="features"):
        mf.transform(R[:, :-1])
    with pytest.raises(ValueError, match="rows"):
        mf.predict(R[:5])
    with pytest.raises(ValueError, match="users must be in"):
        mf.predict(R[:2], users=[0, 10_000])
    with pytest.raises(ValueError, match="users has"):
        mf.predict(R[:2], users=[0])
    with pytest.raises(ValueError, match="n must be"):
        mf.recommend(0, n=0)
    with pytest.raises(ValueError, match="users must be in"):
        mf.recommend(-1)
    with pytest.raises(ValueError, match="item must be in"):
        mf.similar_items(R.shape[1])
    with pytest.raises(ValueError, match="shape of X"):
        mf.score(R, sp.csr_matrix((R.shape[0] - 1, R.shape[1])))


# ------------------------------------------------------ predict / score / recs
def dense_scores(mf):
    return (mf.global_mean_ + mf.user_bias_[:, None] + mf.item_bias_[None, :]
            + mf.user_factors_ @ mf.components_)


def test_predict_and_score_match_dense():
    R = planted(noise=0.3)[0]
    train, test = train_test_split_interactions(R, 0.25, random_state=0)
    mf = MF(n_components=3, random_state=0).fit(train)
    P = mf.predict(test)
    assert_array_equal(P.indices, test.indices)
    assert_array_equal(P.indptr, test.indptr)
    assert_allclose(P.data, dense_scores(mf)[test.nonzero()], rtol=1e-12)
    rmse = np.sqrt(np.mean((P.data - test.data) ** 2))
    assert mf.score(test) == pytest.approx(-rmse)
    users = np.array([4, 1, 1])
    Q = test[users]
    assert_allclose(mf.predict(Q, users=users).data, dense_scores(mf)[users][
        Q.nonzero()], rtol=1e-12)


def test_recommend_and_similar_items_match_brute_force():
    X = implicit_counts(n_users=40, n_items=25, density=0.2)
    mf = MF(n_components=4, feedback="implicit", random_state=0).fit(X)
    scores = dense_scores(mf)
    seen = X.toarray() > 0
    for u in range(X.shape[0]):
        masked = np.where(seen[u], -np.inf, scores[u])
        order = np.argsort(-masked, kind="stable")[:5]
        items, vals = mf.recommend(u, n=5)
        assert_array_equal(items, order)
        assert_allclose(vals, masked[order], rtol=1e-12)
    all_items, _ = mf.recommend(np.arange(40), n=25, filter_seen=False)
    assert_array_equal(all_items, np.argsort(-scores, axis=1, kind="stable"))
    # more than the eligible items: padded with -1 / -inf
    u = int(np.argmax(seen.sum(1)))
    items, vals = mf.recommend(u, n=25)
    n_free = 25 - seen[u].sum()
    assert np.all(items[n_free:] == -1) and np.all(np.isneginf(vals[n_free:]))
    H = mf.components_.T / np.linalg.norm(mf.components_.T, axis=1, keepdims=True)
    cos = H @ H.T
    np.fill_diagonal(cos, -np.inf)
    items, vals = mf.similar_items(np.arange(25), n=4)
    assert_array_equal(items, np.argsort(-cos, axis=1, kind="stable")[:, :4])
    assert_allclose(vals, np.take_along_axis(cos, items, 1), rtol=1e-10)


def test_partial_fit_updates_and_appends_users():
    R = planted(noise=0.2)[0]
    mf = MF(n_components=3, random_state=0).fit(R[:50])
    H_before = mf.components_.copy()
    mf.partial_fit(R[50:])                              # 10 new users
    assert mf.n_users_ == 60
    assert_allclose(mf.user_factors_[50:], mf.transform(R[50:]), atol=1e-12)
    new_rows = R[[2, 3]]
    mf.partial_fit(new_rows, users=[2, 3])              # updated users
    assert_allclose(mf.user_factors_[[2, 3]], mf.transform(new_rows), atol=1e-12)
    assert_array_equal(mf.components_, H_before)
    items, _ = mf.recommend(55, n=5)
    assert not np.any(np.isin(items, R[55].indices))    # their items count as seen
    with pytest.raises(ValueError, match="without gaps"):
        mf.partial_fit(R[:1], users=[99])
    with pytest.raises(ValueError, match="repeat"):
        mf.partial_fit(R[:2], users=[1, 1])
    before = mf.user_factors_.copy()
    with pytest.raises(TypeError, match="integers"):
        mf.partial_fit(R[:1], users=[0.7])                # not silently user 0
    np.testing.assert_array_equal(mf.user_factors_, before)


def test_fit_is_deterministic_and_pickles():
    R = planted(noise=0.2)[0]
    a = MF(n_components=3, random_state=0).fit(R)
    b = pickle.loads(pickle.dumps(a))
    assert_array_equal(a.predict(R).data, b.predict(R).data)
    c = MF(n_components=3, random_state=0).fit(R)
    assert_array_equal(a.user_factors_, c.user_factors_)
    assert_array_equal(a.recommend(0)[0], b.recommend(0)[0])


def test_grid_search_over_users_with_held_out_entries():
    R = planted(n_users=80, noise=0.5)[0]
    known, held = train_test_split_interactions(R, 0.2, random_state=0)
    grid = GridSearchCV(MF(n_components=10, random_state=0),   # 10 > rank: can overfit
                        {"alpha": [1e-4, 0.1, 100.0]}, cv=KFold(3))
    grid.fit(known, held)
    assert grid.best_params_["alpha"] == 0.1
    assert np.all(grid.cv_results_["mean_test_score"] < 0)
    # the score of one fold is the RMSE of folded-in users on their held-out entries
    mf = MF(n_components=3, alpha=0.1, random_state=0).fit(known[:40])
    W, b = mf._fold_in(mf._validate(known[40:], reset=False))
    pred = mf.global_mean_ + b[:, None] + mf.item_bias_ + W @ mf.components_
    h = held[40:]
    expected = -np.sqrt(np.mean((pred[h.nonzero()] - h.data) ** 2))
    assert mf.score(known[40:], h) == pytest.approx(expected)
    # scoring other users without their held-out entries says how to do it
    with pytest.raises(ValueError, match=r"GridSearchCV\(\.\.\.\)\.fit\(X_known, y_held_out\)"):
        mf.score(known[40:70])


def test_implicit_score_is_ndcg_of_unseen_recommendations():
    from sparse_estimators.metrics import ndcg_at_k

    X = implicit_counts(n_users=60, n_items=40, density=0.25)
    train, test = train_test_split_interactions(X, 0.3, random_state=0)
    mf = MF(n_components=3, feedback="implicit", random_state=0).fit(train)
    rec, _ = mf.recommend(np.arange(60), n=10)
    assert mf.score(test) == pytest.approx(ndcg_at_k(test, rec, k=10))


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_transpose_side_matches_scipy(index_dtype):
    from sparse_estimators._solvers._mf import transpose_side

    X = sp.random(70, 45, density=0.2, random_state=0, format="csr")
    X.indices, X.indptr = X.indices.astype(index_dtype), X.indptr.astype(index_dtype)
    other = np.arange(X.nnz, dtype=float)
    t_indptr, t_indices, t_a, t_b = transpose_side(X.indptr, X.indices, 45, X.data, other)
    T = X.tocsc()
    assert_array_equal(t_indptr, T.indptr)
    assert_array_equal(t_indices, T.indices)
    assert_array_equal(t_a, T.data)
    assert_array_equal(X.data[t_b.astype(int)], T.data)     # the same permutation
    shared = np.ones(1)
    assert transpose_side(X.indptr, X.indices, 45, X.data, shared)[3] is shared


def test_feature_names_and_pandas_output():
    pd = pytest.importorskip("pandas")
    R = planted(noise=0.2)[0]
    mf = MF(n_components=3, random_state=0).fit(R)
    assert list(mf.get_feature_names_out()) == [
        "sparsematrixfactorization0", "sparsematrixfactorization1",
        "sparsematrixfactorization2"]
    out = mf.set_output(transform="pandas").transform(R[:4])
    assert isinstance(out, pd.DataFrame) and out.shape == (4, 3)


def test_float32_fold_in_matches_float64():
    R = planted(noise=0.2)[0]
    mf64 = MF(n_components=3, random_state=0).fit(R)
    mf32 = MF(n_components=3, random_state=0).fit(R.astype(np.float32))
    assert_allclose(mf32.transform(R.astype(np.float32)), mf64.transform(R),
                    rtol=1e-3, atol=1e-3)


def test_recommend_pads_past_the_number_of_items():
    X = implicit_counts(n_users=20, n_items=8, density=0.3)
    mf = MF(n_components=2, feedback="implicit", random_state=0).fit(X)
    items, scores = mf.recommend(0, n=12, filter_seen=False)
    assert items.shape == (12,) and np.all(items[8:] == -1)
    assert np.all(np.isneginf(scores[8:])) and sorted(items[:8]) == list(range(8))
    sim, _ = mf.similar_items(0, n=10)
    assert sim.shape == (10,) and np.all(sim[7:] == -1)


def test_objective_is_independent_of_the_thread_split(monkeypatch):
    from sparse_estimators.utils import _parallel

    X = implicit_counts(n_users=300, n_items=80, density=0.2)
    ref = MF(n_components=8, feedback="implicit", max_iter=5, tol=0, random_state=0).fit(X)
    monkeypatch.setattr(_parallel, "MIN_WORK_PER_THREAD", 1)   # force a split
    split = MF(n_components=8, feedback="implicit", max_iter=5, tol=0,
               random_state=0).fit(X)
    assert_array_equal(split.objective_, ref.objective_)
    assert_array_equal(split.user_factors_, ref.user_factors_)


def test_recommend_from_history_matches_the_fitted_user():
    X = implicit_counts(n_users=60, n_items=40, density=0.2)
    mf = MF(n_components=3, feedback="implicit", max_iter=3000, tol=1e-15,
            random_state=0).fit(X)
    items, scores = mf.recommend(history=X[[4, 7]], n=6)
    ref_items, ref_scores = mf.recommend([4, 7], n=6)
    assert_array_equal(items, ref_items)
    assert_allclose(scores, ref_scores, atol=1e-6)
    snapshot = mf.user_factors_.copy()
    new_user = sp.csr_matrix(([1.0, 2.0], ([0, 0], [1, 5])), shape=(1, 40))
    items, _ = mf.recommend(history=new_user, n=5)
    assert items.shape == (1, 5) and not np.isin([1, 5], items).any()
    assert_array_equal(mf.user_factors_, snapshot)               # the model is unchanged
    all_items, _ = mf.recommend(history=new_user, n=40, filter_seen=False)
    assert np.isin([1, 5], all_items).all()
    with pytest.raises(ValueError, match="not both"):
        mf.recommend(0, history=new_user)
    with pytest.raises(ValueError, match="needs user"):
        mf.recommend()
