"""Many models per pass: paths and cross-validation in shared passes.

Each model of a path or a cross-validation must be its single fit (``sample_weight =
s * train_mask``) bit for bit; the chosen hyperparameters and refit coefficients must
be scikit-learn's CV estimator's given the same folds and grid; and the passes of the
whole fit are bounded by its slowest model's.
"""

from __future__ import annotations

import warnings

import dask.array as da
import numpy as np
import pytest
import scipy.sparse
import sklearn.linear_model as sk
from distributed import get_task_stream
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler

import gdd_dask as gd
from gdd_dask import many
from gdd_dask.folds import RowFolds, SplitFolds, make_folds


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X[:300]), y[:300]


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


def _mask(n, rows):
    mask = np.zeros(n)
    mask[rows] = 1.0
    return mask


def _quiet_sklearn(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X, y)


def test_row_folds_are_a_function_of_the_row_index_and_balanced():
    folds = RowFolds(5, seed=7)
    whole = folds.test_fold(0, 1003)
    pieces = np.concatenate([folds.test_fold(0, 10), folds.test_fold(10, 333),
                             folds.test_fold(343, 660)])
    assert np.array_equal(whole, pieces)  # any chunking gives the same folds
    assert set(np.bincount(whole)) <= {200, 201}
    assert not np.array_equal(whole, RowFolds(5, seed=8).test_fold(0, 1003))
    train, test = folds.splits(1003)[2]
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(1003))


def test_bad_cv_is_refused_by_name():
    with pytest.raises(ValueError, match="int >= 2 folds"):
        make_folds(1, n_samples=10)
    with pytest.raises(ValueError, match="cv must be an int, a scikit-learn splitter"):
        make_folds("five", n_samples=10)
    with pytest.raises(ValueError, match=r"split 0: test indices must be integers in \[0, 10\)"):
        SplitFolds([(np.arange(5), np.arange(5, 11))], 10)
    with pytest.raises(ValueError, match="split 1 has no train rows"):
        SplitFolds([(np.arange(5), np.arange(5, 10)), ([], np.arange(5))], 10)


def test_logistic_cv_models_are_their_single_fits_and_sklearns(cancer):
    X, y = cancer
    options = {"tol": 1e-8, "max_iter": 300}
    cv = gd.LogisticRegressionCV(Cs=4, cv=3, random_state=1, warm_path=False,
                                 **options).fit(X, y)
    splits = RowFolds(3, seed=1).splits(len(y))
    passes = []
    for j, (train, _) in enumerate(splits):
        for c, C in enumerate(cv.Cs_):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                single = gd.LogisticRegression(C=C, **options).fit(
                    X, y, sample_weight=_mask(len(y), train))
            passes.append(single.n_passes_)
            path = cv.coefs_paths_[j, 0, c, 0]
            assert np.array_equal(path[:-1], single.coef_[0]) and path[-1] == single.intercept_[0]
            assert cv.n_iter_[j, 0, c] == single.n_iter_[0]
    for C in cv.Cs_:  # the models of all rows, one of which is the refit
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            refit = gd.LogisticRegression(C=C, **options).fit(X, y)
        passes.append(refit.n_passes_)
        if C == cv.C_:
            assert np.array_equal(refit.coef_, cv.coef_)
            assert np.array_equal(refit.intercept_, cv.intercept_)
    # every pass serves every model still running: the slowest model's passes, the
    # shared check and the last held-out scores
    assert cv.n_passes_ <= max(passes) + 2
    ref = _quiet_sklearn(sk.LogisticRegressionCV(
        Cs=4, cv=splits, tol=1e-10, max_iter=10_000, l1_ratios=(0.0,), scoring="accuracy",
        use_legacy_attributes=False), X, y)
    assert cv.C_ == ref.C_
    np.testing.assert_allclose(cv.scores_, ref.scores_, atol=1e-12)
    np.testing.assert_allclose(cv.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_allclose(cv.intercept_, ref.intercept_, atol=1e-4)
    assert cv.predict(X).shape == (len(y),) and cv.score(X, y) > 0.95


def test_a_warm_path_is_the_warm_started_single_fits(cancer):
    X, y = cancer
    Cs = [10.0, 0.01, 1.0]  # run from the largest penalty: 0.01, 1, 10
    cv = gd.LogisticRegressionCV(Cs=Cs, cv=3, tol=1e-8).fit(X, y)
    train, _ = RowFolds(3).splits(len(y))[1]
    single = gd.LogisticRegression(tol=1e-8, warm_start=True)
    for C in sorted(Cs):
        single.set_params(C=C).fit(X, y, sample_weight=_mask(len(y), train))
        path = cv.coefs_paths_[1, 0, Cs.index(C), 0]
        assert np.array_equal(path[:-1], single.coef_[0]) and path[-1] == single.intercept_[0]
    ref = _quiet_sklearn(sk.LogisticRegressionCV(
        Cs=Cs, cv=RowFolds(3).splits(len(y)), tol=1e-10, max_iter=10_000, l1_ratios=(0.0,),
        scoring="accuracy", use_legacy_attributes=False), X, y)
    assert cv.C_ == ref.C_
    np.testing.assert_allclose(cv.coef_, ref.coef_, atol=1e-4)


def test_multinomial_cv_with_a_splitter_and_log_loss_is_sklearns():
    X, y = load_iris(return_X_y=True)
    splitter = StratifiedKFold(3, shuffle=True, random_state=0)
    ours = gd.LogisticRegressionCV(Cs=[0.1, 1.0, 10.0], cv=splitter, scoring="neg_log_loss",
                                   tol=1e-8, max_iter=500).fit(X, y)
    ref = _quiet_sklearn(sk.LogisticRegressionCV(
        Cs=[0.1, 1.0, 10.0], cv=splitter, scoring="neg_log_loss", tol=1e-10, max_iter=10_000,
        l1_ratios=(0.0,), use_legacy_attributes=False), X, y)
    assert ours.C_ == ref.C_ and ours.coefs_paths_.shape == ref.coefs_paths_.shape
    np.testing.assert_allclose(ours.scores_, ref.scores_, rtol=1e-5)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)


def test_sparse_x_gives_the_dense_cross_validation(cancer):
    X, y = cancer
    X = np.where(np.abs(X) < 0.5, 0.0, X)
    options = {"Cs": [0.1, 1.0], "cv": 3, "tol": 1e-9, "max_iter": 500}
    dense = gd.LogisticRegressionCV(**options).fit(X, y)
    sparse = gd.LogisticRegressionCV(**options).fit(scipy.sparse.csr_matrix(X), y)
    assert sparse.C_ == dense.C_
    np.testing.assert_array_equal(sparse.scores_, dense.scores_)
    np.testing.assert_allclose(sparse.coefs_paths_, dense.coefs_paths_, atol=1e-6)


def test_elastic_net_grid_and_refit_false(cancer):
    X, y = cancer
    cv = gd.LogisticRegressionCV(Cs=[0.05, 0.5], l1_ratios=[0.3, 1.0], solver="proximal",
                                 cv=[(np.arange(100, 300), np.arange(100)),
                                     (np.arange(200), np.arange(200, 300))],
                                 tol=1e-7, max_iter=1000, refit=False).fit(X, y)
    assert cv.coefs_paths_.shape == (2, 2, 2, 1, X.shape[1] + 1)
    best = [np.unravel_index(np.argmax(cv.scores_[j].T), (2, 2)) for j in range(2)]
    mean = np.mean([cv.coefs_paths_[j, r, c, 0] for j, (c, r) in enumerate(best)], axis=0)
    np.testing.assert_array_equal(cv.coef_[0], mean[:-1])
    assert cv.C_ == np.mean([cv.Cs_[c] for c, _ in best])
    train = np.arange(100, 300)
    single = gd.LogisticRegression(C=0.05, l1_ratio=1.0, solver="proximal", tol=1e-7,
                                   max_iter=1000).fit(X[train], y[train])
    np.testing.assert_allclose(cv.coefs_paths_[0, 1, 0, 0, :-1], single.coef_[0], atol=1e-6)
    assert np.any(cv.coefs_paths_[:, 1, 0, 0, :-1] == 0.0)  # the L1 part zeroes some


def test_ridge_cv_is_grid_search_over_ridge(diabetes):
    X, y = diabetes
    alphas = np.logspace(-4, 1, 6)
    ours = gd.RidgeCV(alphas=alphas, cv=4).fit(X, y)
    splits = RowFolds(4).splits(len(y))
    ref = GridSearchCV(sk.Ridge(), {"alpha": alphas}, cv=splits).fit(X, y)
    assert ours.alpha_ == ref.best_params_["alpha"]
    assert ours.best_score_ == pytest.approx(ref.best_score_, abs=1e-10)
    np.testing.assert_allclose(ours.coef_, ref.best_estimator_.coef_, rtol=1e-8)
    assert ours.n_passes_ == 3  # check, every fold's moment, the scores
    np.testing.assert_allclose(ours.predict(X), ref.best_estimator_.predict(X), rtol=1e-8)
    mse = gd.RidgeCV(alphas=alphas, cv=KFold(4), scoring="neg_mean_squared_error").fit(X, y)
    ref = GridSearchCV(sk.Ridge(), {"alpha": alphas}, cv=KFold(4),
                       scoring="neg_mean_squared_error").fit(X, y)
    assert mse.alpha_ == ref.best_params_["alpha"]


@pytest.mark.parametrize("ratios", [None, [0.3, 1.0]])
def test_lasso_and_elastic_net_cv_are_sklearns(diabetes, ratios):
    X, y = diabetes
    splits = RowFolds(5).splits(len(y))
    if ratios is None:
        ours = gd.LassoCV(alphas=25, tol=1e-10).fit(X, y)
        ref = sk.LassoCV(alphas=25, cv=splits, tol=1e-10, max_iter=100_000).fit(X, y)
    else:
        ours = gd.ElasticNetCV(l1_ratio=ratios, alphas=15, tol=1e-10).fit(X, y)
        ref = sk.ElasticNetCV(l1_ratio=ratios, alphas=15, cv=splits, tol=1e-10,
                              max_iter=100_000).fit(X, y)
        assert ours.l1_ratio_ == ref.l1_ratio_
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)
    # the check, every fold's and all rows' Gram matrix (one pass), the scores
    assert ours.n_passes_ == 3
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), abs=1e-6)


def test_lasso_path_models_are_their_single_fits(diabetes):
    X, y = diabetes
    options = {"tol": 1e-12, "max_iter": 100_000}
    alphas, coefs, intercepts, n_iters = gd.lasso_path(X, y, alphas=8, **options)
    assert coefs.shape == (X.shape[1], 8) and np.all(np.diff(alphas) < 0)
    single = gd.Lasso(warm_start=True, **options)  # the path: each from the one before
    for k in range(8):
        single.set_params(alpha=alphas[k]).fit(X, y)
        assert np.array_equal(single.coef_, coefs[:, k]) and single.intercept_ == intercepts[k]
        assert single.n_iter_ == n_iters[k]
    ref_alphas, ref_coefs, _ = sk.lasso_path(X - X.mean(0), y - y.mean(), alphas=8, **options)
    np.testing.assert_allclose(alphas, ref_alphas, rtol=1e-12)
    np.testing.assert_allclose(coefs, ref_coefs, rtol=1e-6, atol=1e-6)


def test_on_the_cluster_streamed_from_zarr_is_the_single_fit_and_passes_counted(
        client, cancer, tmp_path):
    X, y = cancer
    da.from_array(X, chunks=(100, -1)).to_zarr(str(tmp_path / "X.zarr"))
    da.from_array(y.astype(np.float64), chunks=100).to_zarr(str(tmp_path / "y.zarr"))
    Xz, yz = da.from_zarr(str(tmp_path / "X.zarr")), da.from_zarr(str(tmp_path / "y.zarr"))
    options = {"Cs": [0.1, 1.0], "cv": 2, "tol": 1e-5, "warm_path": False, "client": client}
    with get_task_stream(client) as stream:
        streamed = gd.LogisticRegressionCV(cache="none", **options).fit(Xz, yz)
    names = {t["key"][0] if isinstance(t["key"], tuple) else t["key"]
             for t in stream.data}
    passes = {n for n in names if n.startswith("gdd-") and not n.startswith(
        ("gdd-data", "gdd-params", "gdd-reduce"))}
    assert len(passes) == streamed.n_passes_
    single = gd.LogisticRegression(C=streamed.C_, tol=1e-5, client=client,
                                   cache="memory").fit(Xz, yz)  # streamed or cached: same bits
    assert np.array_equal(single.coef_, streamed.coef_)


def test_a_failing_model_stops_the_shared_fit_with_its_error(cancer):
    X, y = cancer
    X = X.copy()
    X[123, 4] = np.nan
    lazy = da.from_array(X, chunks=(100, -1))  # validated in the chunk tasks
    with pytest.raises(ValueError, match=r"X has a non-finite value .* at row 123 \(chunk 1\)"):
        gd.LogisticRegressionCV(Cs=3, cv=3).fit(lazy, y)


def test_too_many_models_for_one_pass_are_refused(monkeypatch, diabetes):
    X, y = diabetes
    monkeypatch.setattr(many, "MAX_SUMS_BYTES", 1_000)
    with pytest.raises(ValueError, match="models in one pass would return .* fewer models"):
        gd.RidgeCV(alphas=[1.0, 2.0], cv=5, solver="lbfgs").fit(X, y)


def test_a_shared_pass_keeps_room_for_its_sums_and_refuses_what_a_worker_cannot_hold(
        client):
    """The engine keeps ``split_every + 1`` times a task's sums per thread out of the
    room for cached chunks (a node of the tree holds its inputs' and its own); a shared
    pass whose tree would hold more than half a worker's memory per thread is refused
    before it runs."""
    from gdd_dask.engine.executor import memory_budget

    free, kept = memory_budget(client), memory_budget(client, task_bytes=100 * 2**20)
    assert free.task_limit == kept.task_limit == 2**30  # 2 GiB workers, 1 thread each
    for worker, room in kept.room.items():  # measured a moment apart: within 10 MB
        assert abs(free.room[worker] - 100 * 2**20 - room) < 10 * 2**20
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 1000))
    y = X[:, 0] + rng.standard_normal(200)
    grams = gd.LassoCV(cv=5, split_every=32, client=client)  # 6 Gram matrices of 7.7 MiB
    with pytest.raises(ValueError, match=r"6 models in one pass would hold 1515 MiB of sums "
                       r"in a task of the reduction tree \(33 x 45\.9 MiB\), more than half "
                       r"a worker's memory per thread \(1024 MiB\); .* a smaller split_every"):
        grams.fit(da.from_array(X, chunks=(50, -1)), da.from_array(y, chunks=50))
