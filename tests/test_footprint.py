"""What fitting costs a worker: the modules its tasks import and its memory.

Tasks run the chunk math only (``gdd_dask.chunk``, ``gdd_dask.losses``,
``gdd_dask.blocks``...): a worker that imported scikit-learn for an estimator's label
coding or predictions carried about 130 MB more and, at the demo's own memory limit,
paused and never returned. A fresh cluster of two 250 MiB workers
serves this module, so that no other test has imported anything on them first.
"""

from __future__ import annotations

import importlib

import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster

import gdd_dask

WORKER_LIMIT = "250MiB"
# SciPy's LAPACK (scipy.linalg, about 6 MiB) factors least squares' blocks; the rest of
# SciPy stays out
HEAVY = ("sklearn", "scipy.sparse", "scipy.optimize", "scipy.special", "scipy.stats",
         "pandas", "gdd_dask.estimators", "gdd_dask.solvers", "gdd_dask.engine",
         "gdd_dask.objective", "gdd_dask.optimize", "gdd_dask.cli")
RSS_GROWTH = 48 * 2**20  # scikit-learn and SciPy alone are about 130 MB

CLASSIFIERS = ["LogisticRegression", "SGDClassifier", "MLPClassifier", "LogisticRegressionCV"]
REGRESSORS = ["LinearRegression", "Ridge", "Lasso", "ElasticNet", "PoissonRegressor",
              "GammaRegressor", "SGDRegressor", "MLPRegressor", "LassoCV"]
SMALL = {"SGD": {"max_iter": 2}, "MLP": {"max_iter": 2}, "LogisticRegressionCV":
         {"Cs": 2, "cv": 2}, "LassoCV": {"alphas": 3, "cv": 2}}


def _worker_state():
    """``{worker: (imported module names, RSS bytes)}`` (shipped by value)."""
    def state():
        import sys

        import psutil

        return sorted(sys.modules), psutil.Process().memory_info().rss

    return state


@pytest.fixture(scope="module")
def small_client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, memory_limit=WORKER_LIMIT) as cluster, \
            Client(cluster, set_as_default=False) as client:
        client.wait_for_workers(2)
        yield client


@pytest.fixture(scope="module")
def start(small_client):
    """Each worker's modules and RSS once it has imported ``dask.array`` (which brings
    SciPy with it: Dask's own cost, paid by any array task)."""
    small_client.run(importlib.import_module, "dask.array")
    return small_client.run(_worker_state())


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30_000, 20))
    w = rng.standard_normal(20) / 4
    labels = np.where(X @ w + 0.5 * rng.standard_normal(30_000) > 0, "yes", "no")
    return (da.from_array(X, chunks=(7_500, 20)), da.from_array(labels, chunks=7_500),
            da.from_array(X @ w, chunks=7_500), da.from_array(np.exp(X @ w / 2), chunks=7_500))


def _check_workers(client, start, what):
    for address, (modules, rss) in client.run(_worker_state()).items():
        before, rss_before = start[address]
        heavy = sorted(m for m in set(modules) - set(before)
                       if any(m == h or m.startswith(h + ".") for h in HEAVY))
        assert not heavy, f"{what} made worker {address} import {heavy[:8]}"
        assert rss - rss_before < RSS_GROWTH, \
            f"{what}: worker {address} grew {(rss - rss_before) / 2**20:.0f} MiB"


@pytest.mark.timeout(90)  # a paused worker would hang the fit: fail, do not wait
@pytest.mark.parametrize("name", CLASSIFIERS + REGRESSORS)
def test_tasks_import_the_chunk_math_only(name, small_client, start, data):
    """fit, predict, score (and predict_proba) of every estimator on Dask input, on
    2 x 250 MiB workers: the fit returns, and no worker imports scikit-learn, SciPy or
    the client-side layers."""
    X, labels, mean, counts = data
    y = {"PoissonRegressor": counts, "GammaRegressor": counts + 1.0}.get(
        name, labels if name in CLASSIFIERS else mean)
    options = next((v for k, v in SMALL.items() if name.startswith(k)), {})
    model = getattr(gdd_dask, name)(client=small_client, **options).fit(X, y)
    prediction = model.predict(X).compute()
    assert prediction.shape == (30_000,)
    assert np.isfinite(model.score(X, y))
    if hasattr(model, "predict_proba"):
        assert np.allclose(model.predict_proba(X).compute().sum(axis=1), 1.0)
    _check_workers(small_client, start, f"{name} fit, predict and score")
    assert all(s == "running" for s in small_client.run(
        lambda dask_worker: dask_worker.status.name).values())
