"""Shared fixtures: a real loopback LocalCluster with worker processes."""

from __future__ import annotations

import pytest
from distributed import Client, LocalCluster


def make_cluster(n_workers):
    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                        host="127.0.0.1", dashboard_address="127.0.0.1:0", memory_limit="2GiB",
                        worker_dashboard_address=None)


@pytest.fixture(scope="session")
def cluster():
    """Two worker processes on 127.0.0.1, shared by the whole test session."""
    with make_cluster(2) as cluster:
        yield cluster


@pytest.fixture
def client(cluster):
    """A client of the session cluster, closed after the test (not the default client)."""
    with Client(cluster, set_as_default=False) as client:
        yield client
