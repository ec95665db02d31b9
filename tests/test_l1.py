"""L1 and elastic-net penalties: proximal gradient against scikit-learn's solutions."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import sklearn
from packaging.version import Version
from sklearn import linear_model as sk
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import StandardScaler

from gdd_dask import ElasticNet, Lasso, LogisticRegression, minimize
from gdd_dask.penalties import make_penalty, soft_threshold


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def assert_same_solution(ours, ref, atol):
    """Same coefficients, and the same zeros: exact zeros where the reference has
    them, non-zeros where it is clearly away from zero."""
    ours, ref = np.ravel(ours), np.ravel(ref)
    np.testing.assert_allclose(ours, ref, atol=atol)
    np.testing.assert_array_equal(ours == 0, ref == 0)


@pytest.mark.parametrize("alpha", [0.05, 0.5])
def test_lasso_matches_scikit_learn_on_diabetes(diabetes, alpha):
    """By proximal gradient steps (the solver for wide data)."""
    X, y = diabetes
    ref = sk.Lasso(alpha=alpha, tol=1e-12, max_iter=1_000_000).fit(X, y)
    model = Lasso(alpha=alpha, tol=1e-8, max_iter=100_000, solver="proximal").fit(X, y)
    assert_same_solution(model.coef_, ref.coef_, atol=1e-3)
    assert model.intercept_ == pytest.approx(ref.intercept_, abs=1e-3)
    assert 0 < np.sum(model.coef_ == 0) < X.shape[1]  # the L1 penalty selects


def test_elastic_net_matches_scikit_learn_on_diabetes(diabetes):
    X, y = diabetes
    ref = sk.ElasticNet(alpha=0.01, l1_ratio=0.7, tol=1e-12, max_iter=1_000_000).fit(X, y)
    model = ElasticNet(alpha=0.01, l1_ratio=0.7, tol=1e-8, max_iter=100_000).fit(X, y)
    assert_same_solution(model.coef_, ref.coef_, atol=1e-3)
    assert model.score(X, y) == pytest.approx(ref.score(X, y), abs=1e-8)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("model, params", [(Lasso, {"alpha": 0.1}),
                                           (ElasticNet, {"alpha": 0.05, "l1_ratio": 0.3})])
def test_narrow_least_squares_is_one_gram_pass_and_scikit_learns_solution(
        diabetes, client, model, params, weighted):
    """solver="auto" on narrow data: coordinate descent on the Gram matrix of one pass,
    to scikit-learn's own coefficients (its coordinate descent, the same sweeps), in
    process and on the cluster."""
    X, y = diabetes
    sw = np.random.default_rng(0).random(len(y)) if weighted else None
    ref = getattr(sk, model.__name__)(**params, tol=1e-10).fit(X, y, sample_weight=sw)
    local = model(**params, tol=1e-10).fit(X, y, sample_weight=sw)
    Xd, yd = da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)
    swd = None if sw is None else da.from_array(sw, chunks=100)
    remote = model(**params, tol=1e-10, client=client).fit(Xd, yd, sample_weight=swd)
    for fitted in (local, remote):
        assert fitted.solver_ == "cd" and fitted.n_passes_ == 1
        np.testing.assert_allclose(fitted.coef_, ref.coef_, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(fitted.coef_ == 0, ref.coef_ == 0)
        assert fitted.intercept_ == pytest.approx(ref.intercept_, rel=1e-10)
        assert fitted.n_iter_ == ref.n_iter_


def test_coordinate_descent_needs_least_squares_and_narrow_data(diabetes, cancer,
                                                                 monkeypatch):
    from gdd_dask import solvers

    X, y = cancer
    with pytest.raises(ValueError, match="solver 'cd' needs the squared loss"):
        minimize("logistic", X, y, penalty="l1", alpha=0.01, solver="cd")
    monkeypatch.setattr(solvers, "CD_MAX_PARAMS", 5)  # wider than that: proximal steps
    assert Lasso(alpha=0.1).fit(*diabetes).solver_ == "proximal"


def sklearn_penalty(penalty, l1_ratio):
    """scikit-learn >= 1.8 says it with ``l1_ratio`` alone (``penalty`` is deprecated)."""
    if Version(sklearn.__version__) >= Version("1.8"):
        return {"l1_ratio": 1.0 if penalty == "l1" else l1_ratio}
    return {"penalty": penalty, "l1_ratio": l1_ratio}


@pytest.mark.parametrize("penalty, l1_ratio", [("l1", None), ("elasticnet", 0.5)])
def test_sparse_logistic_matches_scikit_learn(cancer, penalty, l1_ratio):
    X, y = cancer
    ref = sk.LogisticRegression(C=0.1, solver="saga", tol=1e-12, max_iter=100_000,
                                **sklearn_penalty(penalty, l1_ratio)).fit(X, y)
    model = LogisticRegression(penalty=penalty, l1_ratio=l1_ratio, C=0.1, solver="auto",
                               tol=1e-9, max_iter=10_000).fit(X, y)
    assert_same_solution(model.coef_, ref.coef_, atol=1e-4)
    assert model.intercept_ == pytest.approx(ref.intercept_, abs=1e-4)
    assert np.sum(model.coef_ == 0) >= 10


@pytest.mark.parametrize("solver", ["proximal", "cd"])
def test_lasso_on_the_cluster_equals_in_process(diabetes, client, solver):
    X, y = diabetes
    Xd, yd = da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)
    options = {"penalty": "l1", "alpha": 0.1, "tol": 1e-8, "max_iter": 10_000,
               "solver": solver}
    local = minimize("squared", X, y, chunk_rows=100, **options)
    remote = minimize("squared", Xd, yd, client=client, **options)
    # tol 1e-8 on y ~ 150 is at working precision: "stalled" (5) is an honest stop
    assert local.solver == remote.solver == solver and local.status in (0, 5)
    assert np.array_equal(local.x, remote.x) and local.fun == remote.fun


def test_proximal_with_a_smooth_penalty_finds_the_lbfgs_optimum(cancer):
    X, y = cancer
    kwargs = {"alpha": 1e-2, "tol": 1e-9, "max_iter": 10_000}
    prox = minimize("logistic", X, y.astype(float), solver="proximal", **kwargs)
    lbfgs = minimize("logistic", X, y.astype(float), solver="lbfgs", **kwargs)
    assert prox.success
    np.testing.assert_allclose(prox.x, lbfgs.x, atol=1e-6)


def test_l1_ratio_alone_sets_the_mix_as_in_recent_scikit_learn(cancer):
    X, y = cancer
    kwargs = {"C": 0.1, "solver": "auto", "tol": 1e-8, "max_iter": 10_000}
    by_ratio = LogisticRegression(l1_ratio=1.0, **kwargs).fit(X, y)
    by_name = LogisticRegression(penalty="l1", **kwargs).fit(X, y)
    np.testing.assert_array_equal(by_ratio.coef_, by_name.coef_)


def test_soft_threshold_and_penalty_values():
    w = np.array([-3.0, -0.5, 0.0, 0.2, 2.0, 1.0])
    np.testing.assert_array_equal(soft_threshold(w, 1.0), [-2.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    mask = np.array([True] * 5 + [False])  # the last one is an intercept
    enet = make_penalty("elasticnet", 2.0, mask, l1_ratio=0.25)
    assert enet.value(w) == pytest.approx(2.0 * (0.25 * 5.7 + 0.75 / 2 * 13.29))
    np.testing.assert_allclose(enet.grad(w), 2.0 * 0.75 * w * mask)
    np.testing.assert_allclose(enet.prox(w, 2.0), soft_threshold(w, 1.0 * mask))
    assert not enet.smooth and make_penalty("l2", 1.0, mask).smooth


@pytest.mark.parametrize("kwargs, match", [
    ({"penalty": "l1", "solver": "lbfgs"}, "proximal"),
    ({"penalty": "l1", "solver": "newton"}, "proximal"),
    ({"penalty": "elasticnet"}, "l1_ratio"),
    ({"penalty": "elasticnet", "l1_ratio": 1.5}, "l1_ratio"),
    ({"penalty": "l3"}, "unknown penalty"),
])
def test_bad_penalty_settings_are_named(cancer, kwargs, match):
    X, y = cancer
    with pytest.raises(ValueError, match=match):
        minimize("logistic", X, y.astype(float), alpha=0.1, **kwargs)


def test_l1_logistic_with_a_smooth_only_solver_is_refused(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="solver 'lbfgs' needs a smooth objective"):
        LogisticRegression(penalty="l1").fit(X, y)  # lbfgs is the default solver
