"""Everyday small fits: the fixed cost that a user meets before the big fit.

    python benchmarks/small_fits.py [--repeat 5] [--out-dir benchmarks/results]

Side by side in one run, on this machine, each tool ``--repeat`` times in turn
(median reported):

- ``small``: ``LogisticRegression`` on a 20,000 x 2 NumPy problem: scikit-learn;
  gdd-dask without a client, beside a running default client (in-process: the input
  is below ``IN_PROCESS_MAX_BYTES``), and with ``client=`` (on the 2-worker cluster).
- ``grid``: ``GridSearchCV`` over 3 values of ``C`` x 3 folds on a 20,000 x 20 NumPy
  problem, with scikit-learn's ``LogisticRegression``, gdd-dask's (in-process, and
  beside a default client) and dask-ml's (if installed).
- ``pass``: the fixed cost of one pass on the cluster: ``value_and_grad`` of a tiny
  persisted Dask problem (1 and 8 chunk groups), milliseconds per pass, against the
  round trip of one trivial task (``client.submit(...).result()``).

Prints JSON lines; writes ``<out-dir>/small_fits.jsonl`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import warnings
from pathlib import Path

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster
from measures import seconds
from report import machine
from sklearn.linear_model import LogisticRegression as SkLogistic
from sklearn.model_selection import GridSearchCV

import gdd_dask

HERE = Path(__file__).resolve().parent


def problem(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ w))).astype(float)
    return X, y


def timed(func, repeat):
    """``(median seconds, every run)`` of ``func()`` run ``repeat`` times."""
    runs = [seconds(func) for _ in range(repeat)]
    return statistics.median(runs), runs


def row(measure, tool, mode, runs):
    median, every = runs
    return {"measure": measure, "tool": tool, "mode": mode, "wall_s": median,
            "runs": [round(r, 4) for r in every]}


def small_rows(cluster, repeat):
    X, y = problem(20_000, 2)
    rows = [row("small", "scikit-learn", "LogisticRegression",
                timed(lambda: SkLogistic().fit(X, y), repeat)),
            row("small", "gdd-dask", "no client",
                timed(lambda: gdd_dask.LogisticRegression().fit(X, y), repeat))]
    with Client(cluster) as default:
        rows.append(row("small", "gdd-dask", "beside a default client (in-process)",
                        timed(lambda: gdd_dask.LogisticRegression().fit(X, y), repeat)))
        rows.append(row("small", "gdd-dask", "client= (the cluster)",
                        timed(lambda: gdd_dask.LogisticRegression(client=default).fit(X, y),
                              repeat)))
    return rows


def grid_rows(cluster, repeat):
    X, y = problem(20_000, 20, seed=1)
    grid = {"C": [0.01, 1.0, 100.0]}

    def search(estimator):
        return lambda: GridSearchCV(estimator, grid, cv=3).fit(X, y)

    rows = [row("grid", "scikit-learn", "LogisticRegression", timed(search(SkLogistic()),
                                                                   repeat)),
            row("grid", "gdd-dask", "no client",
                timed(search(gdd_dask.LogisticRegression()), repeat))]
    with Client(cluster):
        rows.append(row("grid", "gdd-dask", "beside a default client (in-process)",
                        timed(search(gdd_dask.LogisticRegression()), repeat)))
        try:
            from dask_ml.linear_model import LogisticRegression as DaskMLLogistic
        except ImportError:
            print("dask-ml is not installed: its grid row is skipped", file=sys.stderr)
        else:
            rows.append(row("grid", "dask-ml", "LogisticRegression (default client)",
                            timed(search(DaskMLLogistic()), repeat)))
    return rows


def pass_rows(client, repeat, calls=20):
    rows = []
    trip = timed(lambda: [client.submit(int, k, pure=False).result() for k in range(calls)],
                 repeat)
    rows.append(row("pass", "distributed", "one trivial task, submit + result",
                    (trip[0] / calls, [r / calls for r in trip[1]])))
    X, y = problem(4_000, 5, seed=2)
    for chunks in (1, 64):
        Xd = client.persist(da.from_array(X, chunks=(len(X) // chunks, -1)))
        yd = client.persist(da.from_array(y, chunks=len(y) // chunks))
        with gdd_dask.make_objective("logistic", Xd, yd, client=client,
                                     cache="memory") as objective:
            x = np.zeros(objective.n_params)
            objective.value_and_grad(x)  # warm
            groups = len(objective.engine.groups)
            runs = timed(lambda: [objective.value_and_grad(x) for _ in range(calls)], repeat)
        rows.append(row("pass", "gdd-dask", f"value_and_grad, {chunks} chunks in {groups} "
                        f"group(s)", (runs[0] / calls, [r / calls for r in runs[1]])))
    return rows


def markdown(rows, repeat):
    f = lambda v: f"{v:.4f}"  # noqa: E731
    out = ["# Small fits and the fixed cost of a pass (2 cores)", "",
           f"Made by `python benchmarks/small_fits.py --repeat {repeat}` (median of "
           f"{repeat} runs, each tool in turn), nothing else running.", ""]
    titles = {"small": "LogisticRegression, 20,000 x 2 NumPy",
              "grid": "GridSearchCV, 3 C x 3 folds, 20,000 x 20 NumPy",
              "pass": "One pass on the 2-worker cluster (seconds per call)"}
    for measure, title in titles.items():
        picked = [r for r in rows if r["measure"] == measure]
        if not picked:
            continue
        out += [f"## {title}", "", "| tool | mode | median s | runs |", "|---|---|---|---|"]
        out += [f"| {r['tool']} | {r['mode']} | {f(r['wall_s'])} | "
                f"{', '.join(f(v) for v in r['runs'])} |" for r in picked]
        out.append("")
    ratios = []
    for measure in ("small", "grid"):
        base = [r for r in rows if r["measure"] == measure and r["tool"] == "scikit-learn"]
        for r in rows:
            if base and r["measure"] == measure and r["tool"] != "scikit-learn":
                ratios.append(f"- {measure}: {r['tool']} ({r['mode']}) / scikit-learn: "
                              f"{r['wall_s'] / base[0]['wall_s']:.2f}")
    out += ["## Ratios", "", *ratios, "", "## Machine", ""]
    out += [f"- {k}: {v}" for k, v in machine().items()]
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--parts", default="small,grid,pass")
    parser.add_argument("--out-dir", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    parts = set(args.parts.split(","))
    rows = []
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        if "small" in parts:
            rows += small_rows(cluster, args.repeat)
        if "grid" in parts:
            rows += grid_rows(cluster, args.repeat)
        if "pass" in parts:
            with Client(cluster, set_as_default=False) as client:
                rows += pass_rows(client, args.repeat)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with open(args.out_dir / "small_fits.jsonl", "w") as out:
        for r in rows:
            print(json.dumps(r))
            out.write(json.dumps(r) + "\n")
    (args.out_dir / "small_fits.md").write_text(markdown(rows, args.repeat))


if __name__ == "__main__":
    main()
