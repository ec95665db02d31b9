"""Time to accuracy of the stochastic and the full-batch solvers, side by side.

On one synthetic logistic problem (``gdd_dask.datasets.make_classification``, L2
penalty ``alpha = 1/n``) on a 2-worker loopback LocalCluster with the data cached in
memory, each solver runs ``--repeat`` times, alternating: sync SGD (momentum),
Adam, asynchronous SGD, local SGD, L-BFGS and Newton. For each: the median wall time
to a relative objective gap of ``1e-2``, ``1e-3`` and ``1e-4`` (from the callback; set-up
included), epochs or iterations, passes, and the final gap.

    python benchmarks/stochastic.py [--rows 200000] [--features 20] [--repeat 3]

Prints one JSON object per line, then a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from distributed import Client, LocalCluster

import gdd_dask
from gdd_dask.datasets import make_classification, open_zarr
from gdd_dask.schedules import inverse_scaling

GAPS = (1e-2, 1e-3, 1e-4)


def solvers():
    """``{label: (solver, max_iter, options)}``."""
    common = {"batch_size": 512, "random_state": 0, "n_iter_no_change": 1000}
    return {
        "sgd (momentum 0.9)": ("sgd", 10, {**common, "momentum": 0.9,
                                           "learning_rate": inverse_scaling(0.05, 0.5)}),
        "adam": ("adam", 10, {**common, "learning_rate": inverse_scaling(0.05, 0.5)}),
        "async sgd (max_staleness 1)": ("async", 10, {**common, "momentum": 0.9,
                                                      "max_staleness": 1,
                                                      "learning_rate": inverse_scaling(0.05,
                                                                                       0.5)}),
        "local sgd (a model a worker, averaged every 20 steps)": ("local", 10, {
            **common, "local_steps": 20, "momentum": 0.9,
            "learning_rate": inverse_scaling(0.05, 0.5)}),
        "lbfgs": ("lbfgs", 100, {}),
        "newton": ("newton", 100, {}),
    }


def run(X, y, client, solver, max_iter, options, alpha):
    """``(result, [(seconds, objective)])`` of one fit."""
    start, path = time.perf_counter(), []

    def record(info):
        path.append((time.perf_counter() - start, info.fun))

    result = gdd_dask.minimize("logistic", X, y, solver=solver, alpha=alpha, tol=1e-10,
                               max_iter=max_iter, client=client, cache="memory",
                               callback=record, options=options)
    return result, path


def first_within(path, f_star, gap):
    return next((t for t, f in path if (f - f_star) / abs(f_star) <= gap), None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--chunk-rows", type=int, default=25_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, \
            LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                         dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        path = Path(folder) / "logistic.zarr"
        make_classification(path, n_samples=args.rows, n_features=args.features,
                            chunk_rows=args.chunk_rows, seed=3)
        X, y = open_zarr(path)
        alpha = 1.0 / args.rows
        f_star = gdd_dask.minimize("logistic", X, y, solver="newton", alpha=alpha, tol=1e-12,
                                   client=client, cache="memory").fun
        table = solvers()
        runs = {label: [] for label in table}
        for r in range(args.repeat):
            labels = list(table)[r % len(table):] + list(table)[:r % len(table)]
            for label in labels:
                runs[label].append(run(X, y, client, *table[label], alpha))
        rows = []
        for label, fits in runs.items():
            result = fits[0][0]
            row = {"solver": label, "iterations": int(result.nit),
                   "passes": int(result.n_passes),
                   "final_gap": (result.fun - f_star) / abs(f_star)}
            for gap in GAPS:
                times = [first_within(p, f_star, gap) for _, p in fits]
                row[f"s_to_{gap:g}"] = (None if None in times
                                        else round(statistics.median(times), 3))
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(f"\n{args.rows:,} x {args.features} logistic, 2 workers, data in memory; "
          f"median of {args.repeat}\n")
    print("| solver | s to 1e-2 | s to 1e-3 | s to 1e-4 | epochs / iterations | passes "
          "| final gap |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        cells = [("-" if r[f"s_to_{g:g}"] is None else f"{r[f's_to_{g:g}']:.2f}") for g in GAPS]
        print(f"| {r['solver']} | {' | '.join(cells)} | {r['iterations']} | {r['passes']} "
              f"| {r['final_gap']:.1e} |")


if __name__ == "__main__":
    main()
