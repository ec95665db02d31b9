"""Where a fit runs: in-process, on a client's cluster, or inside a task on a worker.

Small in-memory input runs in-process even when a default client exists (shipping it
costs more than solving it); an explicit ``client=`` or input above
``IN_PROCESS_MAX_BYTES`` uses the cluster. A fit inside a task (``client.submit``,
joblib's Dask backend) runs in the task's own thread: the session cluster's workers
have one thread each, so a fit that waited for tasks of its own would hang them. An
estimator pickles without its client.
"""

from __future__ import annotations

import pickle

import joblib
import numpy as np
import pytest
from dask.utils import key_split
from distributed import Client, get_task_stream
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

import gdd_dask
from gdd_dask import objective

pytestmark = pytest.mark.timeout(120)  # a deadlock fails the test instead of the suite


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _tasks(stream):
    return [key_split(t["key"]) for t in stream.data]


def test_small_numpy_input_runs_in_process_beside_a_default_client(cluster, cancer):
    X, y = cancer
    alone = gdd_dask.LogisticRegression().fit(X, y)
    with Client(cluster) as default:  # the default client while it is open
        with get_task_stream(client=default) as stream:
            beside = gdd_dask.LogisticRegression().fit(X, y)
        assert not _tasks(stream), "a 136 kB fit was shipped to the default client"
        with get_task_stream(client=default) as stream:
            given = gdd_dask.LogisticRegression(client=default).fit(X, y)
        assert "gdd-grad" in _tasks(stream), "an explicit client= must use the cluster"
    np.testing.assert_array_equal(beside.coef_, alone.coef_)
    np.testing.assert_allclose(given.coef_, alone.coef_, rtol=1e-6)


def test_numpy_input_above_the_limit_goes_to_the_default_client(cluster, cancer,
                                                                  monkeypatch):
    X, y = cancer
    monkeypatch.setattr(objective, "IN_PROCESS_MAX_BYTES", X.nbytes // 2)
    with Client(cluster) as default, get_task_stream(client=default) as stream:
        result = gdd_dask.minimize("logistic", X, y, alpha=1e-2)
    assert result.success and "gdd-hess" in _tasks(stream)  # newton, on the cluster


def test_fits_inside_tasks_on_one_thread_workers_return(client, cancer):
    """Four fits submitted as tasks to two 1-thread workers, two of NumPy data and two
    of Dask arrays made inside the task: each returns what it returns in this process
    (in-process; the Dask ones on the synchronous scheduler, the same tree)."""
    X, y = cancer

    def fit(X, y, lazy):
        import dask.array as da

        import gdd_dask

        if lazy:
            X, y = da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)
        return gdd_dask.LogisticRegression().fit(X, y).coef_

    futures = [client.submit(fit, X, y, lazy, pure=False) for lazy in (False, True) * 2]
    coefs = client.gather(futures)
    np.testing.assert_array_equal(coefs[0], fit(X, y, False))
    np.testing.assert_array_equal(coefs[1], fit(X, y, True))
    np.testing.assert_array_equal(coefs[2], coefs[0])
    np.testing.assert_array_equal(coefs[3], coefs[1])


def test_grid_search_on_joblibs_dask_backend(cluster, cancer):
    """Each of the 9 fits runs in a task on a worker, in-process: the search returns
    the scores of the same search run here."""
    X, y = cancer
    grid = {"C": [0.01, 0.1, 1.0]}
    here = GridSearchCV(gdd_dask.LogisticRegression(tol=1e-8), grid, cv=3).fit(X, y)
    with Client(cluster) as default, joblib.parallel_backend("dask"):
        with get_task_stream(client=default) as stream:
            there = GridSearchCV(gdd_dask.LogisticRegression(tol=1e-8), grid, cv=3,
                                 n_jobs=-1).fit(X, y)
        assert _tasks(stream), "the search did not run on the cluster"
        assert "gdd-grad" not in _tasks(stream)
    np.testing.assert_array_equal(there.cv_results_["mean_test_score"],
                                  here.cv_results_["mean_test_score"])
    assert there.best_params_ == here.best_params_


def test_an_estimator_pickles_without_its_client(client, cancer):
    X, y = cancer
    model = gdd_dask.LogisticRegression(client=client).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    assert again.client is None and model.client is client
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    assert again.get_params()["C"] == model.get_params()["C"]


def test_grid_search_in_two_processes_with_a_client(client, cancer):
    """joblib's process backend pickles the estimator (and its client, before): each
    process fits in-process, and the search equals the one-job search on the cluster."""
    X, y = cancer
    def search(n_jobs):
        return GridSearchCV(gdd_dask.LogisticRegression(client=client, tol=1e-10),
                            {"C": [0.1, 10.0]}, cv=2, n_jobs=n_jobs).fit(X, y)

    two, one = search(2), search(1)
    np.testing.assert_allclose(two.cv_results_["mean_test_score"],
                               one.cv_results_["mean_test_score"], rtol=0, atol=1e-12)
    assert two.best_params_ == one.best_params_
