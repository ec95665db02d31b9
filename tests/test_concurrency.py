"""Fits submitted at once to one cluster: each gives exactly what it gives alone.

Eight fits of different data, losses, solvers, chunkings and caching policies (three of
them of masked rows, whose chunk sizes must first be computed) run from eight client
threads at the same time; GridSearchCV runs four fits at a time. The fixed reduction
tree makes a fit's numbers independent of what else the cluster does, so the results
must be bit-identical to the sequential runs; every pass has its own token, so the
scheduler must see exactly the tasks of the sequential runs added up (no key shared
between fits); and every future is released afterwards.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import dask
import dask.array as da
import joblib
import numpy as np
import pytest
from dask.utils import key_split
from distributed import get_task_stream
from sklearn.model_selection import GridSearchCV

import gdd_dask
from gdd_dask.datasets import open_zarr, write_zarr


def problem(seed, kind, rows=1200, features=4, chunk_rows=150, masked=False):
    """A Dask ``(X, y)`` of ``kind`` (logistic, squared, poisson, classes3) from ``seed``;
    ``masked``: the rows where the first feature is above -1, whose chunk sizes are
    unknown until computed."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, features))
    raw = X @ rng.normal(size=features) + 0.3
    y = {"logistic": lambda: (raw + rng.logistic(size=rows) > 0).astype(float),
         "squared": lambda: raw + rng.normal(size=rows),
         "poisson": lambda: rng.poisson(np.exp(0.5 * raw)).astype(float),
         "classes3": lambda: np.digitize(raw + rng.normal(size=rows), [-0.5, 0.5]).astype(float),
         }[kind]()
    X, y = da.from_array(X, chunks=(chunk_rows, -1)), da.from_array(y, chunks=chunk_rows)
    return (X[X[:, 0] > -1], y[X[:, 0] > -1]) if masked else (X, y)


def run_minimize(client, seed, loss, masked=False, **kwargs):
    X, y = problem(seed, loss, masked=masked)
    result = gdd_dask.minimize(loss, X, y, client=client, alpha=1e-3, **kwargs)
    return result.x, result.history


def run_estimator(client, seed, kind, estimator, **params):
    X, y = problem(seed, kind, chunk_rows=100)
    model = estimator(client=client, **params).fit(X, y)
    return np.append(np.ravel(model.coef_), model.intercept_), model.loss_curve_


def run_store(client, path, **kwargs):
    X, y = open_zarr(path)
    result = gdd_dask.minimize("squared", X, y, client=client, **kwargs)
    return result.x, result.history


def the_fits(store):
    """Eight fits, each ``fit(client) -> (parameters, objective history)``."""
    return {
        "logistic-lbfgs-masked": partial(run_minimize, seed=0, loss="logistic", solver="lbfgs",
                                         masked=True),
        "logistic-newton-streamed": partial(run_minimize, seed=1, loss="logistic",
                                            solver="newton", cache="none"),
        "squared-gd-split2-masked": partial(run_minimize, seed=2, loss="squared", solver="gd",
                                            split_every=2, max_iter=30, masked=True),
        "poisson-lbfgs-masked": partial(run_minimize, seed=3, loss="poisson", solver="lbfgs",
                                        masked=True),
        "logistic-sgd": partial(run_minimize, seed=4, loss="logistic", solver="sgd",
                                max_iter=2, options={"batch_size": 300, "random_state": 0}),
        "LogisticRegression-3-classes": partial(run_estimator, seed=5, kind="classes3",
                                                estimator=gdd_dask.LogisticRegression,
                                                tol=1e-3),
        "Ridge-memory": partial(run_estimator, seed=6, kind="squared", estimator=gdd_dask.Ridge,
                                solver="lbfgs", cache="memory"),
        "zarr-store-streamed": partial(run_store, path=store, solver="lbfgs", cache="none"),
    }


def scheduler_tasks(client):
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def assert_tasks_return_to(client, start, seconds=10):
    """Releases reach the scheduler asynchronously: poll, for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while (now := scheduler_tasks(client)) != start:
        assert time.monotonic() < deadline, f"{now} tasks on the scheduler, {start} before"
        time.sleep(0.05)


def distinct_keys(stream):
    """How many distinct keys of each of the engine's prefixes (``gdd-grad``...) the
    workers computed. (Dask's own keys, e.g. of the chunk-size computations, are named
    by content, and the same data may share them by design.)"""
    keys = {task["key"] for task in stream.data}
    return Counter(key_split(key) for key in keys if key_split(key).startswith("gdd-"))


@pytest.fixture
def store(tmp_path):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((1000, 3))
    path = tmp_path / "shared.zarr"
    write_zarr(path, X, X @ [1.0, -2.0, 0.5] + rng.normal(size=1000), chunk_rows=125)
    return path


def test_eight_fits_at_once_equal_their_runs_alone(client, store):
    fits = the_fits(store)
    start = scheduler_tasks(client)
    alone, expected_keys = {}, Counter()
    for name, fit in fits.items():
        with get_task_stream(client=client) as stream:
            alone[name] = fit(client)
        expected_keys += distinct_keys(stream)
    with get_task_stream(client=client) as stream, ThreadPoolExecutor(len(fits)) as pool:
        submitted = {name: pool.submit(fit, client) for name, fit in fits.items()}
        together = {name: future.result() for name, future in submitted.items()}
    for name in fits:
        np.testing.assert_array_equal(together[name][0], alone[name][0], err_msg=name)
        np.testing.assert_array_equal(together[name][1], alone[name][1], err_msg=name)
    # a key shared by two fits would be computed once: fewer distinct keys than alone
    # (except gdd-data: how many groups cache="auto" keeps depends on the memory free
    # when a fit plans, which concurrent fits share)
    together_keys = distinct_keys(stream)
    del together_keys["gdd-data"], expected_keys["gdd-data"]
    assert together_keys == expected_keys
    passes = ("gdd-loss", "gdd-grad", "gdd-hess", "gdd-hessp", "gdd-line")
    assert sum(expected_keys[p] for p in passes) >= 5 * len(fits)  # a token per pass
    # unknown chunk sizes were computed on the client, not through Dask's global
    # configuration (which concurrent threads would leave pointing at the client)
    assert dask.config.get("scheduler", None) is None
    assert_tasks_return_to(client, start)


def test_grid_search_four_jobs_equals_one_job(client):
    """GridSearchCV(n_jobs=4) over an estimator holding a Client: joblib's default
    process backend (loky) cannot pickle a Client, so the four jobs run as threads of
    this process, all submitting to the one cluster."""
    X, y = (a.compute() for a in problem(8, "logistic", rows=600))
    search = partial(GridSearchCV, gdd_dask.LogisticRegression(client=client, tol=1e-8),
                     {"C": [0.01, 1.0, 100.0]}, cv=2)
    start = scheduler_tasks(client)
    one = search(n_jobs=1).fit(X, y)
    with joblib.parallel_backend("threading"):
        four = search(n_jobs=4).fit(X, y)
    assert four.best_params_ == one.best_params_
    assert four.best_score_ == one.best_score_
    np.testing.assert_array_equal(four.cv_results_["mean_test_score"],
                                  one.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(four.best_estimator_.coef_, one.best_estimator_.coef_)
    assert_tasks_return_to(client, start)
