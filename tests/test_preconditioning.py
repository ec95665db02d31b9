"""Preconditioning inside the first-order solvers: unscaled columns converge as fast as
standardized ones, to the same optimum, at no extra pass, with the user's coordinates
everywhere they look."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from statsmodels.datasets import longley

from gdd_dask import Lasso, minimize
from gdd_dask.objective import make_objective
from gdd_dask.preconditioning import Standardized
from gdd_dask.scaling import ColumnScaling

LONGLEY_CERTIFIED = np.array([  # NIST StRD: intercept, then the six slopes
    -3482258.63459582, 15.0618722713733, -0.358191792925910e-1, -2.02022980381683,
    -1.03322686717359, -0.511041056535807e-1, 1829.15146461355])
FIRST_ORDER = ("lbfgs", "gd", "proximal")


def unscaled_logistic(n=4000, d=8, seed=0):
    """Columns of scales 1e-3 .. 1e4 (and a mean far from 0), the same problem as its
    standardized ``Z``."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    y = (rng.random(n) < 1 / (1 + np.exp(-Z @ rng.standard_normal(d)))).astype(float)
    X = Z * np.logspace(-3, 4, d)
    X[:, 0] += 50.0
    return X, y


@pytest.fixture(scope="module")
def problem():
    return unscaled_logistic()


def digits(coef, certified):
    """Correct significant digits of the worst coefficient (log relative error)."""
    return -np.log10(np.max(np.abs(coef - certified) / np.abs(certified)))


def test_column_moments_are_the_weighted_mean_and_spread(problem):
    X, y = problem
    w = np.random.default_rng(1).random(len(y))
    with make_objective("logistic", X, y, w, chunk_rows=300) as objective:
        f, g, (W, mean, M) = objective.value_grad_moment(np.zeros(objective.n_params))
        assert (f, list(g)) == (lambda r: (r[0], list(r[1])))(
            objective.value_and_grad(np.zeros(objective.n_params)))
    ref = np.average(X, axis=0, weights=w)
    np.testing.assert_allclose(W, w.sum(), rtol=1e-13)
    np.testing.assert_allclose(mean, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(M, w @ (X - ref) ** 2, rtol=1e-11)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_the_map_inverts_and_its_gradient_is_the_adjoint(fit_intercept, n_outputs):
    rng = np.random.default_rng(2)
    T = ColumnScaling(rng.standard_normal(4) * 100, rng.random(4) * 1e3 + 1e-3,
                      n_outputs=n_outputs, fit_intercept=fit_intercept)
    n = (4 + fit_intercept) * n_outputs
    v, g = rng.standard_normal(n), rng.standard_normal(n)
    np.testing.assert_allclose(T.from_original(T.to_original(v)), v, rtol=1e-12)
    np.testing.assert_allclose(T.grad_to_original(T.grad_to_scaled(g)), g, rtol=1e-12)
    # <T^T g, v> = <g, T v>: the chain rule of f(T v)
    np.testing.assert_allclose(T.grad_to_scaled(g) @ v, g @ T.to_original(v), rtol=1e-10)


def test_well_scaled_columns_are_left_alone_bit_for_bit():
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    for solver in FIRST_ORDER:
        penalty = "l1" if solver == "proximal" else "l2"
        kw = dict(solver=solver, alpha=0.01, penalty=penalty, tol=1e-8, max_iter=500)
        on, off = (minimize("logistic", X, y.astype(float), precondition=p, **kw)
                   for p in (True, False))
        np.testing.assert_array_equal(on.x, off.x)
        assert (on.nit, on.nfev, on.n_passes) == (off.nit, off.nfev, off.n_passes)


@pytest.mark.parametrize("solver", FIRST_ORDER)
def test_unscaled_columns_converge_to_the_exact_optimum(problem, solver):
    X, y = problem
    penalty = "l1" if solver == "proximal" else "l2"
    kw = dict(alpha=1e-3, penalty=penalty, max_iter=300)
    exact = minimize("logistic", X, y, solver="newton", **kw, tol=1e-12) \
        if penalty == "l2" else None
    on = minimize("logistic", X, y, solver=solver, tol=1e-7, precondition=True, **kw)
    off = minimize("logistic", X, y, solver=solver, tol=1e-7, precondition=False, **kw)
    assert on.status in (0, 5) and on.nit < 100  # stalled, if at all, at 16 digits
    assert off.status in (1, 5)  # without it: out of iterations, or stuck far off
    assert on.n_passes == on.nfev  # the column moments came with the first pass
    if exact is not None:
        assert exact.status == 0
        np.testing.assert_allclose(on.x, exact.x, rtol=1e-6, atol=1e-9)
    assert np.max(np.abs(on.jac)) < 1e-2 * np.max(np.abs(off.jac))


def test_proximal_lasso_on_unscaled_columns_matches_coordinate_descent():
    X, y = load_breast_cancer(return_X_y=True)
    kw = dict(alpha=0.05, tol=1e-10, max_iter=5000)
    cd = Lasso(solver="cd", **kw).fit(X, y)
    prox = Lasso(solver="proximal", **kw).fit(X, y)
    np.testing.assert_allclose(prox.coef_, cd.coef_, atol=1e-7)
    assert np.array_equal(prox.coef_ == 0, cd.coef_ == 0)


def test_longley_by_lbfgs_gets_digits_only_preconditioned():
    data = longley.load()
    X, y = np.asarray(data.exog, dtype=float), np.asarray(data.endog, dtype=float)
    results = {p: minimize("squared", X, y, solver="lbfgs", tol=1e-8, max_iter=2000,
                           precondition=p) for p in (True, False)}
    coef = {p: np.r_[r.x[-1], r.x[:-1]] for p, r in results.items()}
    assert digits(coef[False], LONGLEY_CERTIFIED) < 1
    assert digits(coef[True], LONGLEY_CERTIFIED) > 5


def test_callbacks_and_results_see_the_model_coordinates(problem):
    X, y = problem
    seen = []
    result = minimize("logistic", X, y, solver="lbfgs", alpha=1e-3, tol=1e-7,
                      callback=lambda info: seen.append(info))
    assert seen[-1].nit == result.nit
    np.testing.assert_array_equal(seen[-1].x, result.x)
    with make_objective("logistic", X, y, alpha=1e-3) as objective:
        f, g = objective.value_and_grad(result.x)
    np.testing.assert_allclose(result.jac, g, rtol=1e-9, atol=1e-15)
    assert result.fun == pytest.approx(f, rel=1e-12)


@pytest.mark.parametrize("solver", FIRST_ORDER)
def test_on_the_cluster_equals_in_process_bit_for_bit(problem, client, solver):
    X, y = problem
    penalty = "l1" if solver == "proximal" else "l2"
    kw = dict(solver=solver, alpha=1e-3, penalty=penalty, tol=1e-7, max_iter=50)
    local = minimize("logistic", X, y, chunk_rows=500, **kw)
    remote = minimize("logistic", da.from_array(X, chunks=(500, -1)),
                      da.from_array(y, chunks=500), client=client, **kw)
    np.testing.assert_array_equal(local.x, remote.x)
    assert (local.nit, local.fun) == (remote.nit, remote.fun)


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("solver", FIRST_ORDER)
def test_a_resumed_preconditioned_fit_equals_the_whole_one(problem, tmp_path, solver):
    X, y = problem
    penalty = "l1" if solver == "proximal" else "l2"
    kw = dict(solver=solver, alpha=1e-3, penalty=penalty, tol=1e-12, max_iter=12,
              chunk_rows=1000)
    whole = minimize("logistic", X, y, **kw)

    def stop(info):
        if info.nit == 5:
            raise Interrupted

    path = tmp_path / "fit.ckpt"
    with pytest.raises(Interrupted):
        minimize("logistic", X, y, checkpoint=path, callback=stop, **kw)
    resumed = minimize("logistic", X, y, checkpoint=path, **kw)
    np.testing.assert_array_equal(resumed.x, whole.x)
    assert resumed.history == whole.history


MINIBATCH = {"sgd": {"learning_rate": 0.05}, "adagrad": {"learning_rate": 0.5},
             "adam": {"learning_rate": 0.01}, "async": {"learning_rate": 0.05, "max_staleness": 0}}


@pytest.fixture(scope="module")
def optimum(problem):
    X, y = problem
    return minimize("logistic", X, y, solver="newton", alpha=1e-3, tol=1e-12).fun


@pytest.mark.parametrize("solver", sorted(MINIBATCH))
def test_mini_batch_steps_on_unscaled_columns_reach_the_optimum(problem, optimum, solver):
    X, y = problem
    kw = dict(solver=solver, alpha=1e-3, tol=1e-6, max_iter=20, chunk_rows=1000,
              options={"random_state": 0, "batch_size": 100, **MINIBATCH[solver]})
    on = minimize("logistic", X, y, precondition=True, **kw)
    off = minimize("logistic", X, y, precondition=False, **kw)
    assert on.fun - optimum < 1e-3 < off.fun - optimum or off.status == 4
    assert isinstance(on.state, Standardized) and not isinstance(off.state, Standardized)
    assert on.n_passes == on.nfev + on.nit  # the moments came with the start's pass


def test_a_continued_mini_batch_run_keeps_the_map(problem, optimum):
    X, y = problem
    kw = dict(solver="sgd", alpha=1e-3, tol=1e-6, chunk_rows=1000)
    options = {"random_state": 0, "batch_size": 100, "learning_rate": 0.05}
    first = minimize("logistic", X, y, max_iter=5, options=options, **kw)
    more = minimize("logistic", X, y, max_iter=5, x0=first.x,
                    options={**options, "state": first.state}, **kw)
    assert isinstance(more.state, Standardized)
    np.testing.assert_array_equal(more.state.scale, first.state.scale)
    assert more.state.count > first.state.count  # the schedule went on
    assert more.fun - optimum < 1e-3
    with pytest.raises(ValueError, match="standardized"):
        minimize("logistic", X, y, max_iter=1, precondition=False,
                 options={**options, "state": first.state}, **kw)


def test_the_running_objective_stays_passless_and_unpreconditioned(problem):
    X, y = problem
    r = minimize("logistic", X, y, solver="sgd", alpha=1e-3, max_iter=3, tol=0,
                 options={"random_state": 0, "learning_rate": 1e-9, "evaluate": "running"})
    assert r.n_passes == 3 and not isinstance(r.state, Standardized)


def test_preconditioned_epochs_are_the_same_bits_on_the_cluster(problem, client):
    X, y = problem
    kw = dict(solver="adam", alpha=1e-3, tol=0, max_iter=3,
              options={"random_state": 0, "batch_size": 250})
    local = minimize("logistic", X, y, chunk_rows=500, **kw)
    remote = minimize("logistic", da.from_array(X, chunks=(500, -1)),
                      da.from_array(y, chunks=500), client=client, **kw)
    np.testing.assert_array_equal(local.x, remote.x)
    assert local.history == remote.history
