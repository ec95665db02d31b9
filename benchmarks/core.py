"""Solvers side by side with scikit-learn, in one run.

For each problem: every gdd-dask solver on a 2-worker loopback LocalCluster (data
persisted) and scikit-learn's ``LogisticRegression`` (lbfgs and newton-cholesky) on the
same data and the same objective, alternating, ``--repeat`` times; the median wall time
of each is reported with iterations and passes over the data. "gdd-dask in-process" is
the same solver on the NumPy arrays without Dask (what ``minimize`` does for in-memory
data when no client is given).

    python benchmarks/core.py [--rows 1000000] [--features 50] [--repeat 3]

Prints one JSON object per line, then a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import gdd_dask
from gdd_dask.datasets import make_classification, open_zarr

SOLVERS = ("lbfgs", "newton", "gd")
TOL = 1e-6


def problems(client, rows, features, chunk_rows, folder):
    """``(name, X, y, Xd, yd)``: NumPy copies for scikit-learn, persisted Dask arrays."""
    X, y = load_breast_cancer(return_X_y=True)
    X, y = StandardScaler().fit_transform(X), y.astype(float)
    Xd, yd = client.persist([da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)])
    yield "breast_cancer", X, y, Xd, yd
    path = Path(folder) / "logistic.zarr"
    make_classification(path, n_samples=rows, n_features=features, chunk_rows=chunk_rows,
                        seed=1)
    Xd, yd = client.persist(list(open_zarr(path)))  # read once by the workers
    yield f"synthetic_{rows}x{features}", *client.compute([Xd, yd], sync=True), Xd, yd


def run_gdd(client, X, y, solver, alpha):
    """``client=None`` with NumPy input runs in-process (no Dask)."""
    start = time.perf_counter()
    result = gdd_dask.minimize("logistic", X, y, solver=solver, alpha=alpha, tol=TOL,
                               max_iter=1000, client=client)
    return time.perf_counter() - start, result.nit, result.n_passes, result.fun


def run_sklearn(X, y, solver, C, objective):
    start = time.perf_counter()
    model = LogisticRegression(C=C, solver=solver, tol=TOL, max_iter=1000).fit(X, y)
    wall = time.perf_counter() - start
    params = np.r_[model.coef_.ravel(), model.intercept_]
    return wall, int(model.n_iter_[0]), None, objective.value(params)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--chunk-rows", type=int, default=125_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder, \
            LocalCluster(n_workers=args.workers, threads_per_worker=1, host="127.0.0.1",
                         dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        for name, X, y, Xd, yd in problems(client, args.rows, args.features, args.chunk_rows,
                                           folder):
            C = 1.0
            alpha = 1.0 / (C * len(y))
            objective = gdd_dask.make_objective("logistic", X, y, alpha=alpha)
            runs = {}
            for _ in range(args.repeat):  # alternate tools within each repeat
                for solver in SOLVERS:
                    runs.setdefault(("gdd-dask", solver), []).append(
                        run_gdd(client, Xd, yd, solver, alpha))
                    runs.setdefault(("gdd-dask in-process", solver), []).append(
                        run_gdd(None, X, y, solver, alpha))
                for solver in ("lbfgs", "newton-cholesky"):
                    runs.setdefault(("scikit-learn", solver), []).append(
                        run_sklearn(X, y, solver, C, objective))
            base = statistics.median(r[0] for r in runs[("scikit-learn", "lbfgs")])
            for (tool, solver), rs in runs.items():
                wall = statistics.median(r[0] for r in rs)
                row = {"problem": name, "tool": tool, "solver": solver, "wall_s": round(wall, 4),
                       "ratio_to_sklearn_lbfgs": round(wall / base, 3), "nit": rs[0][1],
                       "passes": rs[0][2], "objective": rs[0][3], "repeats": len(rs),
                       "n_chunks": int(Xd.numblocks[0])}
                print(json.dumps(row), flush=True)
                rows.append(row)
            objective.close()
            del Xd, yd
    print("\n| problem | tool | solver | iterations | passes | wall s (median) | x sklearn lbfgs "
          "| objective |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['problem']} | {r['tool']} | {r['solver']} | {r['nit']} | "
              f"{r['passes'] if r['passes'] is not None else '-'} | {r['wall_s']:.3f} | "
              f"{r['ratio_to_sklearn_lbfgs']:.2f} | {r['objective']:.10f} |")


if __name__ == "__main__":
    main()
