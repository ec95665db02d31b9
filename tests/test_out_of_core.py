"""A Zarr dataset twice as large as the cluster's memory fits, streamed, to the
bit-identical result of an in-memory fit, without the workers spilling or swelling."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from distributed import Client, LocalCluster

from gdd_dask import make_objective, minimize, solve
from gdd_dask.datasets import make_classification, open_zarr

N_ROWS, N_FEATURES, CHUNK_ROWS = 1_500_000, 100, 5_000  # 1.2 GB of X, 300 chunks
WORKER_LIMIT = 300e6  # two workers: 600 MB in all, half of the store
PAUSE_FRACTION = 0.8  # Dask pauses a worker at 80% of memory_limit


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A logistic problem written chunk by chunk (never whole in memory)."""
    path = tmp_path_factory.mktemp("ooc") / "logistic.zarr"
    make_classification(path, n_samples=N_ROWS, n_features=N_FEATURES, chunk_rows=CHUNK_ROWS,
                        seed=1)
    X, _ = open_zarr(path)
    assert X.nbytes >= 2 * 2 * WORKER_LIMIT
    return path


@pytest.fixture(scope="module")
def small_client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", memory_limit=WORKER_LIMIT) as cluster, \
            Client(cluster, set_as_default=False) as client:
        yield client


class MemorySampler:
    """Samples every worker's memory, spilled keys and status while a fit runs."""

    def __init__(self, client, interval=0.1):
        self.client, self.interval, self.samples = client, interval, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        def worker_state(dask_worker):  # local: shipped by value, imports nothing more
            import psutil

            spilled = len(getattr(dask_worker.data, "slow", ()))
            return psutil.Process().memory_info().rss, spilled, dask_worker.status.name

        while not self._stop.wait(self.interval):
            self.samples.extend(self.client.run(worker_state).values())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def fit(path, client, cache):
    X, y = open_zarr(path)
    return minimize("logistic", X, y, solver="newton", alpha=1e-4, tol=1e-8, client=client,
                    cache=cache)


@pytest.fixture(scope="module")
def in_memory(store, client_module):
    """The same store fitted with every chunk persisted on a roomy cluster."""
    return fit(store, client_module, "memory")


@pytest.fixture(scope="module")
def client_module(cluster):
    with Client(cluster, set_as_default=False) as client:
        yield client


@pytest.mark.parametrize("cache", ["auto", "none"])  # auto first: on fresh workers
def test_streamed_fit_is_bit_identical_and_stays_in_memory(store, small_client, in_memory,
                                                            cache):
    X, y = open_zarr(store)
    with MemorySampler(small_client) as sampler, \
            make_objective("logistic", X, y, alpha=1e-4, client=small_client,
                           cache=cache) as objective:  # the fit's own: one check pass
        n_cached, n_chunks = objective.engine.n_cached, objective.engine.n_chunks
        result = solve(objective, solver="newton", tol=1e-8)
    assert n_chunks == N_ROWS // CHUNK_ROWS
    assert n_cached == 0 if cache == "none" else 0 < n_cached < n_chunks / 2
    assert result.success and result.n_passes == result.nit + 1
    assert np.array_equal(result.x, in_memory.x) and result.fun == in_memory.fun
    assert len(sampler.samples) > 10
    peak = max(rss for rss, _, _ in sampler.samples)
    spills = [s for s in sampler.samples if s[1]]
    assert not spills, f"a worker spilled to disk: {spills[:3]}; peak {peak / 1e6:.0f} MB"
    assert all(status == "running" for _, _, status in sampler.samples), "a worker paused"
    assert peak < PAUSE_FRACTION * WORKER_LIMIT, f"peak worker memory {peak / 1e6:.0f} MB"
