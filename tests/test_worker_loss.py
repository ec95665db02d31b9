"""A worker killed (SIGKILL) during a fit, or gone before it: the fit completes, and to
the same bits as an undisturbed fit -- lost chunks are read again from the Zarr store,
lost partial sums computed again, and the fixed reduction tree adds them in the same
order."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest
from distributed import Client, LocalCluster

from gdd_dask import LogisticRegression, minimize
from gdd_dask.datasets import make_classification, open_zarr


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("loss") / "logistic.zarr"
    make_classification(path, n_samples=60_000, n_features=20, chunk_rows=2_500, seed=3)
    return path


@pytest.fixture
def cluster_client():
    """Three worker processes (each under a nanny, which restarts a killed one)."""
    with LocalCluster(n_workers=3, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", memory_limit="1GiB") as cluster, \
            Client(cluster, set_as_default=False) as client:
        yield client


def _pids(client):
    return client.run(os.getpid)


def _kill_one(client):
    """SIGKILL the worker process holding the most data; return its address."""
    held = client.run(lambda dask_worker: len(dask_worker.data))
    address = max(held, key=held.get)
    os.kill(_pids(client)[address], signal.SIGKILL)
    return address


def _fit(client, store, cache, callback=None):
    X, y = open_zarr(store)
    return minimize("logistic", X, y, alpha=1e-3, solver="lbfgs", tol=1e-10, max_iter=30,
                    client=client, cache=cache, callback=callback)


def _kill_during_a_pass(client, killed, prefix="gdd-grad", nit=3):
    """From iteration ``nit`` on: watch the scheduler until a worker is running a
    ``prefix`` task, and SIGKILL that worker while it does."""

    def watch():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for address, keys in client.processing().items():
                if any(prefix in str(key) for key in keys):
                    os.kill(_pids(client)[address], signal.SIGKILL)
                    killed.append(address)
                    return
            time.sleep(0.001)

    def callback(info):
        if info.nit == nit and not killed:
            threading.Thread(target=watch, daemon=True).start()

    return callback


@pytest.mark.parametrize("cache", ["memory", "none"])
@pytest.mark.parametrize("when", ["between passes", "during a pass"])
def test_killed_worker_mid_fit_gives_the_same_bits(cluster_client, store, cache, when):
    undisturbed = _fit(cluster_client, store, cache)
    killed = []

    def kill_at_third_iteration(info):
        if info.nit == 3 and not killed:
            killed.append(_kill_one(cluster_client))

    callback = kill_at_third_iteration if when == "between passes" else \
        _kill_during_a_pass(cluster_client, killed)
    disturbed = _fit(cluster_client, store, cache, callback=callback)
    assert killed, "no worker was killed"
    np.testing.assert_array_equal(disturbed.x, undisturbed.x)
    assert disturbed.fun == undisturbed.fun and disturbed.nit == undisturbed.nit


def test_killed_worker_during_a_data_parallel_epoch_gives_the_same_bits(cluster_client,
                                                                        store):
    """A lane's worker SIGKILLed while the lanes step: the epoch runs again on the
    workers left, its chunks read again from the store, to the same bits."""
    X, y = open_zarr(store)

    def fit(callback=None):
        return minimize("logistic", X, y, solver="sgd", max_iter=3, tol=0, client=cluster_client,
                        cache="memory", callback=callback,
                        options={"batch_size": 5000, "random_state": 0, "learning_rate": 0.1,
                                 "data_parallel": True, "n_iter_no_change": 100})

    undisturbed, killed = fit(), []
    disturbed = fit(_kill_during_a_pass(cluster_client, killed, "gdd-parallel", nit=1))
    assert killed, "no worker was killed"
    np.testing.assert_array_equal(disturbed.x, undisturbed.x)
    assert disturbed.history == undisturbed.history


def test_worker_gone_before_the_fit(cluster_client, store):
    undisturbed = LogisticRegression(C=1.0, tol=1e-8, client=cluster_client)
    X, y = open_zarr(store)
    undisturbed.fit(X, y)
    _kill_one(cluster_client)
    time.sleep(0.2)  # the scheduler may or may not have noticed yet: both must work
    again = LogisticRegression(C=1.0, tol=1e-8, client=cluster_client).fit(X, y)
    np.testing.assert_array_equal(again.coef_, undisturbed.coef_)
    np.testing.assert_array_equal(again.intercept_, undisturbed.intercept_)


@pytest.mark.parametrize("verbose", [0, 1], ids=["quiet", "progress bar"])
def test_paused_workers_stop_the_fit_with_an_error(monkeypatch, verbose):
    """Workers whose memory stays above Dask's pause threshold run no task: the fit
    says so instead of waiting forever, with a progress bar too (it reports each task
    of a pass as it finishes, and used to wait for them before any paused check)."""
    import dask
    import dask.array as da

    from gdd_dask.engine import executor

    monkeypatch.setattr(executor, "PAUSED_TIMEOUT", 3.0)
    monkeypatch.setattr(executor, "WATCH_INTERVAL", 0.5)
    with dask.config.set({"distributed.worker.memory.pause": 0.01,  # paused from the start
                          "distributed.worker.memory.spill": False,
                          "distributed.worker.memory.target": False}), \
            LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address="127.0.0.1:0", memory_limit="1GiB") as cluster, \
            Client(cluster, set_as_default=False) as client:
        deadline = time.monotonic() + 30
        while not all(w["status"] == "paused"
                      for w in client.scheduler_info()["workers"].values()):
            assert time.monotonic() < deadline, "the worker never paused"
            time.sleep(0.2)
        X = da.ones((1000, 3), chunks=(250, 3))
        y = (da.arange(1000, chunks=250) % 2).astype(float)
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="paused"):
            if verbose:  # a pass watched task by task, as a progress bar watches it
                _watched_pass(X, y, client)
            else:
                minimize("logistic", X, y, client=client)
        assert time.monotonic() - started < 30


def _watched_pass(X, y, client):
    from functools import partial

    from gdd_dask.chunk import chunk_check
    from gdd_dask.data import as_data
    from gdd_dask.engine import Engine
    from gdd_dask.losses import LogisticLoss

    engine = Engine(as_data(X, y, client=client), client=client, cache="none")
    engine.on_task_done, engine.watch_min_tasks = (lambda done, total: None), 1
    try:
        engine.run("gdd-check", partial(chunk_check, LogisticLoss()), with_X=False)
    finally:
        engine.close()


@pytest.mark.parametrize("rank", [0, 1], ids=["hub", "lane"])
def test_a_lane_waiting_for_a_lost_one_quits_when_the_epoch_is_given_up(client, rank):
    """A lane whose peer died before it connected would wait LANE_TIMEOUT (300 s),
    holding its worker's only thread while the epoch's next try waits for that
    worker: once the engine gives up on the epoch, the lane quits within seconds."""
    from gdd_dask.lanes import abandon

    def wait_for_the_others(rank, name):
        from gdd_dask.lanes import connect_lanes

        return connect_lanes(rank, 2, name)

    name = f"gdd-lanes-test-{rank}"
    future = client.submit(wait_for_the_others, rank, name, pure=False)
    time.sleep(1.5)
    assert not future.done()
    given_up = time.monotonic()
    abandon(name, client)
    with pytest.raises(ConnectionError, match="given up"):
        future.result(timeout=30)
    assert time.monotonic() - given_up < 10
