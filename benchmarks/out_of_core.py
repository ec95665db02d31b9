"""Out-of-core: a streamed pass against a plain Zarr read, and time to optimum.

On a logistic problem written to Zarr (default 2,000,000 x 100 float64, 1.6 GB), in one
run:

- ``read_s``: reading and decoding the whole store with Zarr, in this process with two
  threads, and ``read_cluster_s``: the same read as tasks on the workers;
- ``pass_s``: one gdd-dask gradient pass streamed from the store (``cache="none"``) on
  two workers whose memory limits add up to less than the store; the ratios
  ``pass_s / read_s`` and ``pass_s / read_cluster_s``;
- time to reach scikit-learn's optimum within 1e-6 relative, streamed vs in memory
  (``cache="memory"`` on roomy workers), and the peak worker memory while streaming.

    python benchmarks/out_of_core.py [--rows 2000000] [--features 100] [--repeat 3]

Prints one JSON object per line, then a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import zarr
from distributed import Client, LocalCluster
from measures import seconds
from sklearn.linear_model import LogisticRegression

import gdd_dask
from gdd_dask.datasets import make_classification, open_zarr

RTOL = 1e-6


def run_times(func, repeat):
    """Wall seconds of ``repeat`` calls of ``func()``."""
    return [seconds(func) for _ in range(repeat)]


def read_store(path):
    """Read and decode every chunk of X with Zarr, two threads, keeping nothing."""
    array = zarr.open_group(path, mode="r")["X"]
    rows = array.chunks[0]
    starts = range(0, array.shape[0], rows)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda s: array[s:s + rows].shape, starts))


def peak_memory(client, stop, samples):
    def rss(dask_worker):
        import psutil

        return psutil.Process().memory_info().rss

    while not stop.wait(0.1):
        samples.extend(client.run(rss).values())


def time_to_optimum(X, y, client, cache, solver, alpha, f_star):
    """Fit, recording when the objective first came within RTOL of ``f_star``."""
    start, reached = time.perf_counter(), []

    def callback(info):
        if not reached and info.fun <= f_star * (1 + RTOL):
            reached.append((time.perf_counter() - start, info.nit, info.n_passes))

    result = gdd_dask.minimize("logistic", X, y, solver=solver, alpha=alpha, tol=1e-9,
                               max_iter=200, client=client, cache=cache, callback=callback)
    total = time.perf_counter() - start
    seconds, nit, passes = reached[0] if reached else (float("nan"), result.nit,
                                                       result.n_passes)
    return {"to_optimum_s": round(seconds, 3), "total_s": round(total, 3), "nit": nit,
            "passes": passes, "solver": result.solver, "objective": result.fun}


def cluster(limit):
    return LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                        dashboard_address=None, memory_limit=limit)


def write_store(directory, args):
    """The logistic problem of ``args`` (``rows`` x ``features`` in chunks of
    ``chunk_rows``, seed 5) as a Zarr store in ``directory``; its path."""
    path = Path(directory) / "logistic.zarr"
    make_classification(path, n_samples=args.rows, n_features=args.features,
                        chunk_rows=args.chunk_rows, seed=5)
    return path


def print_table(rows):
    """The result rows as a Markdown table: tool, what, seconds, the rest as notes."""
    print("\n| tool | what | seconds | ratio / notes |\n|---|---|---|---|")
    for r in rows:
        seconds = r.get("seconds", r.get("to_optimum_s"))
        notes = {k: v for k, v in r.items() if k not in ("tool", "what", "seconds")}
        print(f"| {r['tool']} | {r['what']} | {seconds} | {json.dumps(notes)} |")


def pass_vs_read(path, alpha, repeat, limit):
    """Seconds, ``repeat`` runs each, of reading the store's X (``read_s``: in this
    process, two threads; ``read_cluster_s``: as tasks on two workers of ``limit`` memory
    each) and of one logistic gradient pass streamed from it on those workers
    (``pass_s``, ``cache="none"``); ``store_over_memory_limit``: X's bytes over the
    workers' memory."""
    X, y = open_zarr(path)
    read_s = run_times(lambda: read_store(path), repeat)
    with cluster(limit) as small, Client(small, set_as_default=False) as c:
        total = sum(w["memory_limit"] for w in c.scheduler_info()["workers"].values())
        read_cluster_s = run_times(
            lambda: c.compute(X.map_blocks(lambda b: b[:1].copy(), chunks=(1, X.shape[1])),
                              sync=True), repeat)
        with gdd_dask.make_objective("logistic", X, y, alpha=alpha, client=c,
                                     cache="none") as objective:
            w = np.zeros(objective.n_params)
            pass_s = run_times(lambda: objective.value_and_grad(w), repeat)
    return {"read_s": read_s, "read_cluster_s": read_cluster_s, "pass_s": pass_s,
            "store_over_memory_limit": X.nbytes / total}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--chunk-rows", type=int, default=25_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--small-limit", default="500MB", help="memory per streaming worker")
    args = parser.parse_args()
    rows = []

    def emit(**row):
        print(json.dumps(row), flush=True)
        rows.append(row)

    with tempfile.TemporaryDirectory() as tmp:
        path = write_store(tmp, args)
        X, y = open_zarr(path)
        gb = X.nbytes / 1e9
        Xn, yn = X.compute(), y.compute()
        start = time.perf_counter()
        C = 1.0
        ref = LogisticRegression(C=C, tol=1e-8, max_iter=1000).fit(Xn, yn)
        sklearn_s = time.perf_counter() - start
        alpha = 1.0 / (C * args.rows)
        with gdd_dask.make_objective("logistic", Xn, yn, alpha=alpha) as objective:
            f_star = objective.value(np.r_[ref.coef_.ravel(), ref.intercept_])
        del Xn, yn
        emit(tool="scikit-learn", what="LogisticRegression(lbfgs) to 1e-8, in memory",
             seconds=round(sklearn_s, 3), nit=int(ref.n_iter_[0]))

        read = {key: statistics.median(value) if isinstance(value, list) else value
                for key, value in pass_vs_read(path, alpha, args.repeat, args.small_limit).items()}
        emit(tool="zarr", what="read + decode X, 2 threads", seconds=round(read["read_s"], 3),
             gb_per_s=round(gb / read["read_s"], 3))
        emit(tool="dask+zarr", what="read + decode X on the workers",
             seconds=round(read["read_cluster_s"], 3),
             gb_per_s=round(gb / read["read_cluster_s"], 3))
        emit(tool="gdd-dask", what="streamed gradient pass (cache=none)",
             seconds=round(read["pass_s"], 3),
             ratio_to_zarr_read=round(read["pass_s"] / read["read_s"], 3),
             ratio_to_cluster_read=round(read["pass_s"] / read["read_cluster_s"], 3),
             store_over_memory_limit=round(read["store_over_memory_limit"], 2))
        with cluster(args.small_limit) as small, Client(small, set_as_default=False) as c:
            limit = sum(w["memory_limit"] for w in c.scheduler_info()["workers"].values())
            for solver in ("auto", "lbfgs"):
                samples, stop = [], threading.Event()
                sampler = threading.Thread(target=peak_memory, args=(c, stop, samples))
                sampler.start()
                fit = time_to_optimum(X, y, c, "none", solver, alpha, f_star)
                stop.set()
                sampler.join()
                emit(tool="gdd-dask", what=f"fit streamed (cache=none), {fit['solver']}",
                     **fit, peak_worker_mb=round(max(samples) / 1e6),
                     worker_limit_mb=round(limit / 2e6))
        with cluster("4GB") as roomy, Client(roomy, set_as_default=False) as c:
            for solver in ("auto", "lbfgs"):
                fit = time_to_optimum(X, y, c, "memory", solver, alpha, f_star)
                emit(tool="gdd-dask", what=f"fit in memory (cache=memory), {fit['solver']}",
                     **fit)

    print_table(rows)


if __name__ == "__main__":
    main()
