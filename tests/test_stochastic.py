"""Mini-batch solvers and their update rules: convergence, reproducibility, the cluster."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from gdd_dask import LogisticRegression, make_objective, minimize, solve
from gdd_dask.rules import AdamState, SGDState, adagrad, adam, get_rule, sgd
from gdd_dask.schedules import constant, cosine, inverse_scaling
from gdd_dask.steps import batch_rows, epoch_plan

ALPHA = 1e-2  # strongly convex: L2 on every coefficient


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y.astype(float)


@pytest.fixture(scope="module")
def optimum(cancer):
    X, y = cancer
    return minimize("logistic", X, y, alpha=ALPHA, solver="newton", tol=1e-12).fun


def test_rules_take_the_documented_steps():
    g = np.array([1.0, -2.0])
    step, state = sgd(0.1).update(g, sgd(0.1).init(g), g)
    np.testing.assert_allclose(step, -0.1 * g)
    rule = sgd(0.1, momentum=0.5)
    state = rule.init(g)
    _, state = rule.update(g, state)
    step, state = rule.update(g, state)
    np.testing.assert_allclose(step, -0.1 * 1.5 * g)  # v = 0.5 g + g
    step, _ = sgd(0.1, momentum=0.5, nesterov=True).update(g, SGDState(0, g))
    np.testing.assert_allclose(step, -0.1 * (g + 0.5 * 1.5 * g))
    step, state = adam(0.01).update(g, adam(0.01).init(g))
    np.testing.assert_allclose(step, -0.01 * np.sign(g), rtol=1e-6)  # bias-corrected
    assert isinstance(state, AdamState) and state.count == 1
    step, _ = adagrad(0.1, eps=0.0).update(g, adagrad(0.1).init(g))
    np.testing.assert_allclose(step, -0.1 * np.sign(g))


def test_state_is_immutable_and_schedules_decay():
    rule = adam(0.01)
    state = rule.init(np.zeros(3))
    with pytest.raises(AttributeError):
        state.count = 5
    assert constant(0.5)(100) == 0.5
    assert inverse_scaling(1.0, 0.5)(3) == pytest.approx(0.5)
    assert cosine(1.0, 10)(0) == 1.0 and cosine(1.0, 10)(5) == pytest.approx(0.5)
    assert cosine(1.0, 10, 0.1)(20) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="unknown update rule"):
        get_rule("rmsprop")
    with pytest.raises(ValueError, match="learning_rate"):
        sgd(-1.0)


def test_an_epoch_visits_every_row_once():
    rng = np.random.default_rng(0)
    plan = epoch_plan(3, rng)
    assert sorted(i for i, _ in plan) == [0, 1, 2]
    sizes = (10, 7, 3)
    batches = [(i, rows) for i, seed in plan for rows in batch_rows(sizes[i], 4, seed)]
    seen = sorted((i, int(r)) for i, rows in batches for r in rows)
    assert seen == [(i, r) for i, n in enumerate(sizes) for r in range(n)]
    assert len(batches) == 3 + 2 + 1 and max(len(rows) for _, rows in batches) == 4
    assert plan != epoch_plan(3, rng)  # the next epoch: another order or other seeds


@pytest.mark.parametrize("solver, options", [
    ("sgd", {"learning_rate": inverse_scaling(0.5, 0.5), "momentum": 0.9}),
    ("adam", {"learning_rate": inverse_scaling(0.05, 0.5)}),
    ("adagrad", {"learning_rate": 0.1}),  # chunk-order epochs: a smaller constant step
])
def test_each_rule_reaches_the_optimum(cancer, optimum, solver, options):
    X, y = cancer
    result = minimize("logistic", X, y, alpha=ALPHA, solver=solver, max_iter=60, tol=0,
                      chunk_rows=100, options={"batch_size": 32, "random_state": 0,
                                               "n_iter_no_change": 1000, **options})
    assert result.solver == solver and result.nit == 60 and result.n_passes == 2 * 60 + 1
    assert result.fun - optimum < 1e-3
    assert len(result.history) == 60


def test_same_random_state_same_result(cancer):
    X, y = cancer
    kwargs = {"alpha": ALPHA, "solver": "adam", "max_iter": 3, "chunk_rows": 100}
    runs = [minimize("logistic", X, y, options={"random_state": seed}, **kwargs)
            for seed in (7, 7, 8)]
    assert np.array_equal(runs[0].x, runs[1].x)
    assert not np.array_equal(runs[0].x, runs[2].x)


def test_mini_batches_on_the_cluster_equal_in_process(cancer, client):
    X, y = cancer
    Xd, yd = da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)
    kwargs = {"alpha": ALPHA, "solver": "sgd", "max_iter": 2, "tol": 0,
              "options": {"batch_size": 50, "random_state": 3, "learning_rate": 0.1}}
    local = minimize("logistic", X, y, chunk_rows=100, **kwargs)
    remote = minimize("logistic", Xd, yd, client=client, **kwargs)
    assert np.array_equal(local.x, remote.x) and local.fun == remote.fun


def test_a_diverging_learning_rate_stops_with_the_last_finite_parameters(cancer):
    X, y = cancer
    with make_objective("squared", X, y * 1e3, chunk_rows=100) as objective:
        result = solve(objective, solver="sgd", max_iter=50,
                       options={"learning_rate": 1e3, "batch_size": 10, "random_state": 0})
    assert result.status == 4 and "diverged" in result.message
    assert np.all(np.isfinite(result.x))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # tol is tight
def test_estimators_take_stochastic_solvers(cancer):
    X, y = cancer
    kwargs = {"solver": "adam", "max_iter": 300, "tol": 1e-6, "random_state": 0}
    model = LogisticRegression(**kwargs).fit(X, y)
    again = LogisticRegression(**kwargs).fit(X, y)
    np.testing.assert_array_equal(model.coef_, again.coef_)
    assert model.n_iter_[0] > 10 and model.score(X, y) > 0.97


def test_bad_batch_size_is_named(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="batch_size"):
        minimize("logistic", X, y, solver="sgd", options={"batch_size": 0})


def test_async_with_one_task_in_flight_is_sync_sgd(cancer, client):
    X, y = cancer
    Xd, yd = da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)
    options = {"batch_size": 50, "random_state": 1, "learning_rate": 0.1, "momentum": 0.5}
    runs = [minimize("logistic", Xd, yd, alpha=ALPHA, client=client, solver=solver,
                     max_iter=2, options={**options, **extra})
            for solver, extra in (("sgd", {}), ("async", {"max_staleness": 0}))]
    assert runs[1].solver == "async"
    assert np.array_equal(runs[0].x, runs[1].x) and runs[0].fun == runs[1].fun


def test_async_with_stale_gradients_still_converges(cancer, optimum, client):
    X, y = cancer
    Xd, yd = da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)
    result = minimize("logistic", Xd, yd, alpha=ALPHA, client=client, solver="async",
                      max_iter=15, tol=0,
                      options={"batch_size": 32, "random_state": 0, "max_staleness": 3,
                               "learning_rate": inverse_scaling(0.5, 0.5),
                               "n_iter_no_change": 1000})
    assert result.nit == 15 and result.fun - optimum < 1e-2


def test_local_sgd_averages_models_and_converges(cancer, optimum, client):
    """Rounds of local steps and averaging: near the optimum, deterministic by
    random_state, and the same on the cluster as in-process; an epoch reads every row
    once, the step count that of one model's batches."""
    X, y = cancer
    Xd, yd = da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)
    options = {"n_models": 3, "local_steps": 2, "batch_size": 20, "learning_rate": 0.05,
               "random_state": 0, "n_iter_no_change": 1000}
    kwargs = {"alpha": ALPHA, "solver": "local", "tol": 0, "options": options}
    result = minimize("logistic", X, y, chunk_rows=100, max_iter=40, **kwargs)
    assert result.solver == "local" and result.nit == 40
    assert result.fun - optimum < 1e-3
    assert 40 * 9 <= result.state.count <= 40 * 10  # 2 chunks a model, 9 or 10 batches
    local = minimize("logistic", X, y, chunk_rows=100, max_iter=3, **kwargs)
    remote = minimize("logistic", Xd, yd, client=client, max_iter=3, **kwargs)
    assert np.array_equal(local.x, remote.x) and local.fun == remote.fun


def test_one_local_round_on_whole_chunks_is_a_gradient_step(cancer):
    """With a model a chunk, one batch a chunk (its rows all) and no learning-rate
    scaling, the weighted average of the local models is one full-batch gradient
    step; the default scaling multiplies it by the number of models."""
    X, y = cancer
    w = np.full(X.shape[1] + 1, 0.01)
    options = {"n_models": 6, "batch_size": 100, "learning_rate": 0.1,
               "learning_rate_scale": 1}
    kwargs = {"x0": w, "alpha": ALPHA, "solver": "local", "chunk_rows": 100, "max_iter": 1,
              "tol": 0, "precondition": False}  # steps in the model's own coordinates
    result = minimize("logistic", X, y, options=options, **kwargs)
    with make_objective("logistic", X, y, alpha=ALPHA, chunk_rows=100) as objective:
        _, g = objective.value_and_grad(w)
    np.testing.assert_allclose(result.x, w - 0.1 * g, rtol=1e-12, atol=1e-14)
    scaled = minimize("logistic", X, y, options={**options, "learning_rate_scale": None},
                      **kwargs)
    np.testing.assert_allclose(scaled.x, w - 0.6 * g, rtol=1e-12, atol=1e-14)  # 6 chunks


def test_local_adam_averages_the_moments(cancer):
    """Local Adam carries the averaged moments from round to round: one round a chunk
    of one batch each is one Adam step along the full gradient, with the full
    gradient's first moment and, averaged over the chunks, at least its square as the
    second."""
    X, y = cancer
    w = np.full(X.shape[1] + 1, 0.01)
    options = {"rule": "adam", "n_models": 6, "batch_size": 100, "learning_rate": 0.01,
               "learning_rate_scale": 1}
    result = minimize("logistic", X, y, x0=w, alpha=ALPHA, solver="local", chunk_rows=100,
                      max_iter=1, tol=0, options=options, precondition=False)
    with make_objective("logistic", X, y, alpha=ALPHA, chunk_rows=100) as objective:
        _, g = objective.value_and_grad(w)
    assert isinstance(result.state, AdamState) and result.state.count == 1
    np.testing.assert_allclose(result.state.mu, 0.1 * g, rtol=1e-12, atol=1e-15)
    assert np.all(result.state.nu >= 0.001 * g**2 * (1 - 1e-12))
    assert np.any(result.state.nu > 0.0011 * g**2)  # the chunks' squares, not the mean's


def test_rules_compose_and_l1_is_one_more_rule(cancer, tmp_path):
    """``chain`` applies rules in turn (optax's way); a run with an L1 part steps by the
    rule and then the L1 shrinkage, which reads the step size the rule reports."""
    from gdd_dask.rules import (
        ChainState,
        L1State,
        add_decayed_weights,
        chain,
        clip_by_global_norm,
        run_rule,
    )

    g = np.array([3.0, -4.0])  # norm 5
    clipped = chain(clip_by_global_norm(1.0), sgd(0.1))
    step, state = clipped.update(g, clipped.init(g), g)
    np.testing.assert_allclose(step, -0.1 * g / 5, rtol=1e-15)
    assert isinstance(state, ChainState) and state.count == 1
    decayed = chain(add_decayed_weights(0.5), sgd(0.1))
    step, _ = decayed.update(g, decayed.init(g), np.ones(2))
    np.testing.assert_allclose(step, -0.1 * (g + 0.5), rtol=1e-15)
    rule = adam(0.01)
    assert chain(rule) is rule
    X, y = cancer
    with make_objective("logistic", X, y, penalty="l1", alpha=ALPHA) as objective:
        run = run_rule(rule, objective.penalty)
        assert isinstance(run.init(np.zeros(objective.n_params)).tail, L1State)
    kw = dict(penalty="l1", alpha=0.02, solver="sgd", max_iter=5, tol=0, chunk_rows=100,
              precondition=False, options={"rule": decayed, "random_state": 0})
    composed = minimize("logistic", X, y, **kw)
    assert composed.state.count > 0 and np.sum(composed.x == 0) > 0  # exact zeros

    def stop(info):
        if info.nit == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # the chain's state checkpoints and resumes
        minimize("logistic", X, y, checkpoint=tmp_path / "fit.ckpt", callback=stop, **kw)
    resumed = minimize("logistic", X, y, checkpoint=tmp_path / "fit.ckpt", **kw)
    np.testing.assert_array_equal(resumed.x, composed.x)
