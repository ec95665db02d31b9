"""The demo: a synthetic logistic problem fitted on a loopback LocalCluster."""

from __future__ import annotations

import time

import numpy as np

__all__ = ["make_logistic", "run_demo"]


def _logistic_block(block, coef, intercept, seed, block_id=None):
    """Labels ``y ~ Bernoulli(sigmoid(X @ coef + intercept))`` for one row block."""
    rng = np.random.default_rng([seed, block_id[0]])
    p = 1.0 / (1.0 + np.exp(-(block @ coef + intercept)))
    return (rng.random(block.shape[0]) < p).astype(np.float64)


def make_logistic(n_samples, n_features, *, chunk_rows=50_000, random_state=0):
    """A lazy ``(X, y, coef)`` logistic problem, generated chunk by chunk on the workers.

    ``X ~ N(0, 1)``; ``coef ~ N(0, 1) / sqrt(n_features)``; intercept 0.5.
    """
    import dask.array as da

    rng = np.random.default_rng(random_state)
    coef = rng.standard_normal(n_features) / np.sqrt(n_features)
    X = da.random.default_rng(random_state).standard_normal(
        (n_samples, n_features), chunks=(chunk_rows, n_features)
    )
    y = X.map_blocks(_logistic_block, coef, 0.5, random_state, drop_axis=1, dtype=np.float64,
                     name="gdd-make-labels")
    return X, y, coef


def run_demo(*, n_samples=300_000, n_features=20, n_workers=2, solver="lbfgs",
             chunk_rows=25_000, print_=print):
    """Start a LocalCluster on 127.0.0.1, fit, print what happened, shut down."""
    from distributed import Client, LocalCluster

    import gdd_dask

    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as client:
        print_(f"dashboard: {client.dashboard_link}")
        X, y, _ = make_logistic(n_samples, n_features, chunk_rows=chunk_rows)
        X, y = client.persist([X, y])
        print_(f"data: {n_samples:,} x {n_features} float64 in {X.numblocks[0]} chunks, "
               f"{n_workers} workers")
        alpha = 1.0 / n_samples
        start = time.perf_counter()
        result = gdd_dask.minimize("logistic", X, y, solver=solver, alpha=alpha, tol=1e-6,
                                   client=client)
        wall = time.perf_counter() - start
        coef = result.x
        accuracy = float(client.compute(((X @ coef[:-1] + coef[-1] > 0) == y).mean(),
                                        sync=True))
        print_(f"solver: {solver}  status: {result.message}")
        print_(f"iterations: {result.nit}  passes over the data: {result.n_passes}")
        print_(f"final loss: {result.fun:.6f}  accuracy: {accuracy:.4f}  wall time: {wall:.2f} s")
        return result, accuracy, wall
