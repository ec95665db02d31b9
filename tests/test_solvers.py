"""Every solver x loss reaches scikit-learn's optimum, in-process and on a cluster."""

from __future__ import annotations

from typing import NamedTuple

import dask.array as da
import numpy as np
import pytest
from references import PROBLEMS, center_intercepts
from sklearn.datasets import load_diabetes

import gdd_dask
from gdd_dask import make_objective, minimize
from gdd_dask.result import OptimizeResult

SOLVERS = ["lbfgs", "newton", "gd"]
TIGHT = {"tol": 1e-10, "max_iter": 20_000}
REACHED = (0, 5)  # converged, or stalled at working precision (tol 1e-10 may be below it)


@pytest.fixture(scope="module", params=PROBLEMS, ids=lambda p: p.__name__)
def problem(request):
    return request.param()


def assert_reaches_reference(result, problem):
    with make_objective(problem.loss, problem.X, problem.y, alpha=problem.alpha) as objective:
        f_ref = objective.value(problem.reference)
    assert result.fun <= f_ref + 1e-6 * abs(f_ref)
    assert result.fun == pytest.approx(f_ref, rel=1e-6)
    x, ref = center_intercepts(result.x, problem), center_intercepts(problem.reference, problem)
    np.testing.assert_allclose(x, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


@pytest.mark.parametrize("solver", SOLVERS)
def test_in_process_reaches_scikit_learn(problem, solver):
    result = minimize(problem.loss, problem.X, problem.y, solver=solver, alpha=problem.alpha,
                      **TIGHT)
    assert result.status in REACHED, result.message
    assert_reaches_reference(result, problem)
    assert len(result.history) == result.nit
    assert result.history[-1] == result.fun


@pytest.mark.parametrize("solver", SOLVERS)
def test_cluster_reaches_scikit_learn_and_agrees_in_process(problem, solver, client):
    if solver == "gd" and problem.name.startswith("diabetes"):
        pytest.skip("hundreds of passes; gd on these runs in-process above")
    X = da.from_array(problem.X, chunks=(100, -1))
    y = da.from_array(problem.y, chunks=100)
    result = minimize(problem.loss, X, y, solver=solver, alpha=problem.alpha, client=client,
                      **TIGHT)
    assert result.status in REACHED, result.message
    assert_reaches_reference(result, problem)
    local = minimize(problem.loss, problem.X, problem.y, solver=solver, alpha=problem.alpha,
                     chunk_rows=100, **TIGHT)
    # same algorithm, same chunks and tree; only BLAS threading differs (round-off)
    assert result.fun == pytest.approx(local.fun, rel=1e-10)
    np.testing.assert_allclose(result.x, local.x, atol=1e-5 * np.abs(local.x).max())


def test_design_note_example(client):
    """The design note's linear regression: 1,000 rows of y = 2x + 1 + U(0, 1) noise, 10
    chunks, fixed-step distributed gradient descent (its steps 1-7)."""
    rng = np.random.default_rng(0)
    X = rng.random((1000, 1))
    y = 2 * X[:, 0] + 1 + rng.random(1000)
    Xd, yd = da.from_array(X, chunks=(100, 1)), da.from_array(y, chunks=100)
    result = minimize("squared", Xd, yd, solver="gd", options={"learning_rate": 1.5},
                      tol=1e-8, max_iter=1000, client=client)
    exact = np.linalg.lstsq(np.c_[X, np.ones(1000)], y, rcond=None)[0]
    assert result.success
    np.testing.assert_allclose(result.x, exact, atol=1e-6)
    assert result.x[0] == pytest.approx(2.0, abs=0.1)
    assert result.x[1] == pytest.approx(1.5, abs=0.1)
    assert result.n_passes == result.nit + 1  # one pass per step, plus the first gradient


@pytest.mark.parametrize("solver", SOLVERS)
def test_callback_sees_each_iteration_and_can_stop(solver):
    problem = PROBLEMS[2]()
    seen = []

    def callback(intermediate):
        assert isinstance(intermediate, OptimizeResult)
        seen.append(intermediate.fun)
        if intermediate.nit == 3:
            raise StopIteration

    result = minimize(problem.loss, problem.X, problem.y, solver=solver, alpha=problem.alpha,
                      tol=1e-12, callback=callback)
    assert result.status == 3 and not result.success
    assert result.nit == 3 and seen == result.history


def test_max_iter_reached_is_reported():
    problem = PROBLEMS[2]()
    result = minimize(problem.loss, problem.X, problem.y, alpha=problem.alpha, max_iter=2,
                      tol=1e-12)
    assert result.status == 1 and not result.success and result.nit == 2
    assert "max_iter" in result.message


def test_warm_start_from_optimum_needs_no_iteration():
    problem = PROBLEMS[2]()
    first = minimize(problem.loss, problem.X, problem.y, alpha=problem.alpha, tol=1e-8)
    again = minimize(problem.loss, problem.X, problem.y, alpha=problem.alpha, tol=1e-6,
                     x0=first.x)
    assert again.nit == 0 and again.success and again.n_passes == 1


def test_custom_solver_can_be_registered():
    def one_newton_step(objective, x0, *, tol, max_iter, callback):
        f, g, H = objective.value_grad_hessian(x0)
        x = x0 - np.linalg.solve(H, g)
        f, g = objective.value_and_grad(x)
        return OptimizeResult(x=x, fun=f, jac=g, nit=1, success=True, status=0)

    gdd_dask.register_solver("one-newton-step", one_newton_step)
    try:
        problem = PROBLEMS[1]()
        result = minimize("squared", problem.X, problem.y, alpha=problem.alpha,
                          solver="one-newton-step")
        np.testing.assert_allclose(result.x, problem.reference, rtol=1e-6)
    finally:
        del gdd_dask.SOLVERS["one-newton-step"]


class ClippedState(NamedTuple):
    """The state of a user's update rule (one the package does not know)."""

    count: int
    last: np.ndarray


def _clipped_sgd(learning_rate=0.05):
    """SGD with each step clipped to [-0.1, 0.1]: a user's rule with its own state."""
    from gdd_dask.rules import Rule

    def init(params):
        return ClippedState(0, np.zeros_like(params))

    def update(grad, state, params=None):
        step = np.clip(-learning_rate * grad, -0.1, 0.1)
        return step, ClippedState(state.count + 1, step)

    return Rule(init, update)


def test_a_registered_solver_is_known_everywhere(tmp_path):
    """One register_solver call: the live name sets, the trait checks and the
    checkpoint decoder know the solver and its state type (a checkpoint of a state
    type no registry knew raised KeyError on load)."""
    from functools import partial

    from gdd_dask.solvers import SMOOTH_ONLY, STOCHASTIC, stochastic

    gdd_dask.register_solver("clipped-sgd", partial(stochastic, rule=_clipped_sgd()),
                             stochastic=True, smooth_only=True, state_types=(ClippedState,))
    try:
        assert "clipped-sgd" in STOCHASTIC and "clipped-sgd" in SMOOTH_ONLY
        assert "clipped-sgd" in sorted(STOCHASTIC) and "lbfgs" not in STOCHASTIC
        X, y = load_diabetes(return_X_y=True)
        X = (X - X.mean(0)) / X.std(0)
        kwargs = dict(solver="clipped-sgd", alpha=1e-2, chunk_rows=100, tol=0,
                      options={"batch_size": 50, "random_state": 0},
                      checkpoint=tmp_path / "clipped.ckpt")
        first = minimize("squared", X, y / y.std(), max_iter=2, **kwargs)
        resumed = minimize("squared", X, y / y.std(), max_iter=4, **kwargs)
        whole = minimize("squared", X, y / y.std(), max_iter=4,
                         **{**kwargs, "checkpoint": tmp_path / "whole.ckpt"})
        assert isinstance(first.state, ClippedState) and resumed.nit == 4
        np.testing.assert_array_equal(resumed.x, whole.x)
        with pytest.raises(ValueError, match="needs a smooth objective"):
            minimize("squared", X, y, penalty="l1", alpha=0.1, solver="clipped-sgd")
    finally:
        del gdd_dask.SOLVERS["clipped-sgd"]
    assert "clipped-sgd" not in STOCHASTIC


def test_newton_is_refused_for_a_loss_without_a_hessian():
    from gdd_dask.losses import SquaredLoss
    from gdd_dask.losses.mlp import MLPLoss

    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(ValueError, match="solver 'newton' needs the loss's Hessian"):
        minimize(MLPLoss((3,), "relu", SquaredLoss()), X[:50], y[:50], solver="newton")


def test_auto_takes_newton_only_for_losses_with_a_hessian():
    """An MLP and a user loss with only ``loss``/``gradient`` (as the docs say to
    write one) have no Hessian: "auto" takes L-BFGS for them, not Newton."""
    from gdd_dask.losses import LinearModelLoss, SquaredLoss
    from gdd_dask.losses.mlp import MLPLoss

    class Cubic(LinearModelLoss):
        name = "cubic"

        def loss(self, y, raw, xp):
            return xp.abs(raw - y) ** 3 / 3

        def gradient(self, y, raw, xp):
            return (raw - y) * xp.abs(raw - y)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = X @ [1.0, -2.0, 0.5]
    mlp = MLPLoss((4,), "tanh", SquaredLoss())  # 21 parameters: narrow
    start = rng.normal(size=mlp.n_params(3, fit_intercept=True)) * 0.1
    for loss, x0 in [(Cubic(), None), (mlp, start)]:
        assert minimize(loss, X, y, max_iter=5, x0=x0).solver == "lbfgs"


@pytest.mark.parametrize("solver", sorted(gdd_dask.solvers.SOLVERS))
def test_every_solver_counts_evaluations_and_passes_alike(solver):
    """``nfev``: evaluations at a point, the start included; ``n_passes``: those plus
    the mini-batch epochs -- one rule for every registered solver."""
    X, y = load_diabetes(return_X_y=True)
    loss, penalty = ("squared", "l1") if solver == "cd" else ("squared", "l2")
    options = {"random_state": 0} if solver in gdd_dask.solvers.STOCHASTIC else {}
    if solver in gdd_dask.solvers.STOCHASTIC:
        options["learning_rate"] = 1e-3 if solver in ("sgd", "async", "local") else 0.01
    r = minimize(loss, X / X.std(0), y / y.std(), solver=solver, penalty=penalty,
                 alpha=0.01, tol=0.0, max_iter=3, options=options)
    epochs = r.nit if solver in gdd_dask.solvers.STOCHASTIC else 0
    assert r.nfev >= 1 and r.n_passes == r.nfev + epochs
    if solver in gdd_dask.solvers.STOCHASTIC or solver == "newton":
        assert r.nfev == r.nit + 1  # the start, then one evaluation per iteration
    elif solver in ("qr", "cd"):
        assert r.nfev == 1  # direct: one pass
    else:
        assert r.nfev >= r.nit + 1  # line searches may evaluate more than one point
