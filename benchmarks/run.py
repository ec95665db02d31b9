"""gdd-dask against scikit-learn, dask-ml and plain NumPy, side by side in one run.

    python benchmarks/run.py --suite quick          # 200,000 x 50, a few minutes
    python benchmarks/run.py --suite full           # 2,000,000 x 100 (1.6 GB), ~20+ min
    python benchmarks/run.py --suite smoke          # a few thousand rows (the test)
    python benchmarks/run.py --suite minibatch      # mini-batch training: benchmarks/minibatch.py

For a logistic and a regression problem written to Zarr by ``gdd_dask.datasets`` (in
``--data-dir``, reused when the store's attributes match), on a loopback LocalCluster of
two one-thread workers:

- ``pass``: a gdd-dask gradient pass on the persisted data against NumPy's
  ``X.T @ (expit(X @ w) - y)`` and ``X @ w``;
- ``overhead``: a pass over chunks of 2,000 rows on the cluster and in-process;
- ``optimum``: the time of every tool to a relative objective gap of 1e-6 (gdd-dask's
  solvers and estimator, scikit-learn's solvers, dask-ml's solvers), data in memory;
- ``store``: gdd-dask (``cache="auto"``) and dask-ml fitted straight from the store;
- ``out_of_core`` (full suite): a streamed pass against reading the store.

Writes ``<out-dir>/<suite>.jsonl`` (one result per line), ``<suite>.md`` (tables and
targets) and ``<suite>.png`` (objective gap against wall time); with
``--write-results`` (default for the full suite) also ``benchmarks/RESULTS.md``.
dask-ml and matplotlib are optional (``pip install -e ".[bench]"``): without them
their part is skipped with a note.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster
from measures import (
    TARGET_GAP,
    Context,
    optimum_rows,
    out_of_core_rows,
    overhead_rows,
    pass_rows,
)
from problems import ensure_store, gap, persist, read_numpy, reference_objective
from report import document, load_average, machine, sections, targets
from suites import SUITES, dask_ml_tools, gdd_tools, sklearn_tools
from tools import sklearn_model, timed_fit

from gdd_dask.datasets import open_zarr

HERE = Path(__file__).resolve().parent
BASE = {"logistic": ("scikit-learn", "lbfgs"), "regression": ("scikit-learn", "auto")}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=sorted([*SUITES, "minibatch"]), default="quick")
    parser.add_argument("--repeat", type=int, help="runs of each tool (default: the suite's)")
    parser.add_argument("--data-dir", default=str(HERE.parent / "datasets"),
                        help="where the Zarr stores go (default: the repository's datasets/, "
                             "whose *.zarr are git-ignored)")
    parser.add_argument("--out-dir", default=str(HERE / "results"))
    parser.add_argument("--write-results", action=argparse.BooleanOptionalAction,
                        help="rewrite benchmarks/RESULTS.md (default: for the full suite)")
    parser.add_argument("--results-file", default=str(HERE / "RESULTS.md"),
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def available(module):
    """Whether ``module`` imports; print a note when it does not."""
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        print(f"note: {module} is not installed; its part is skipped "
              "(pip install -e '.[bench]')", file=sys.stderr)
        return False


def progress(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def reference_row(ctx):
    """scikit-learn to a tight tolerance (lbfgs at 1e-10, or Ridge's Cholesky): the
    starting ``f*``, and its row."""
    problem = ctx.problem
    if problem.name == "logistic":
        model = sklearn_model(problem, "lbfgs", max_iter=10_000).set_params(tol=1e-10)
    else:
        model = sklearn_model(problem, "cholesky")
    fit = timed_fit(model, ctx.X, ctx.y, ctx.score)
    config = "tol=1e-10" if problem.name == "logistic" else "exact"
    return fit.fun, ctx.row("reference", "scikit-learn", model.solver, config, [fit.wall],
                            fit_s=round(fit.wall, 4), nit=fit.nit, gap=0.0,
                            f_star=fit.fun, note="f* candidate")


def in_memory_rows(ctx, path, f_ref, dask_ml):
    """pass, overhead (logistic) and optimum, on the data persisted on the workers."""
    problem, client = ctx.problem, ctx.client
    Xd, yd = persist(client, path)
    rows = []
    if problem.name == "logistic":
        progress(f"{problem.label}: pass")
        rows += pass_rows(ctx, Xd, yd)
        progress(f"{problem.label}: overhead")
        rows += overhead_rows(ctx, Xd, yd)
    progress(f"{problem.label}: optimum")
    tools = gdd_tools(problem, Xd, yd, ctx.score, client, "persisted")
    tools += sklearn_tools(ctx.suite, problem, ctx.X, ctx.y, ctx.score, reached(f_ref))
    if dask_ml:
        tools += dask_ml_tools(ctx.suite, problem, Xd, yd, ctx.score, client, "persisted")
    rows += optimum_rows(ctx, "optimum", tools, f_ref, BASE[problem.name])
    return rows


def store_rows(ctx, path, f_ref, dask_ml):
    """gdd-dask (``cache="auto"``) from ``open_zarr`` and dask-ml from ``da.from_zarr``,
    nothing persisted beforehand: the store is read inside the fits."""
    problem, client = ctx.problem, ctx.client
    progress(f"{problem.label}: store")
    X, y = open_zarr(path)
    tools = gdd_tools(problem, X, y, ctx.score, client, "Zarr, cache=auto",
                      solvers=("auto", "lbfgs"), estimator=False)
    if dask_ml:
        Xz, yz = (da.from_zarr(str(path), component=name) for name in ("X", "y"))
        tools += [t for t in dask_ml_tools(ctx.suite, problem, Xz, yz, ctx.score, client,
                                           "da.from_zarr")
                  if t.solver in ("lbfgs", "newton") and "normalize" not in t.config]
    base = ("gdd-dask", "auto")
    return optimum_rows(ctx, "store", tools, f_ref, base)


def reached(f_ref):
    """Whether a scikit-learn fit got within the target gap of ``f_ref``."""
    return lambda fit: gap(fit.fun, f_ref) <= TARGET_GAP


def problem_rows(suite, problem, client, data_dir, dask_ml):
    """Every measurement of one problem."""
    progress(f"{problem.label}: data")
    path = ensure_store(problem, data_dir)
    X, y = read_numpy(path)
    with reference_objective(problem, X, y) as objective:
        ctx = Context(suite, problem, client, X, y, objective.value)
        f_ref, row = reference_row(ctx)
        rows = [row]
        rows += in_memory_rows(ctx, path, f_ref, dask_ml)
        if problem.name == "logistic":
            rows += store_rows(ctx, path, f_ref, dask_ml)
            if suite.out_of_core:
                progress(f"{problem.label}: out of core")
                rows += out_of_core_rows(ctx, path)
    return rows


def warm_up(suite, client, dask_ml):
    """One untimed fit of each kind of tool on tiny data, so that imports and first
    calls (here and on the workers) are not timed."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2_000, 5))
    labels = {"logistic": (X[:, 0] > 0).astype(float), "regression": X @ np.ones(5)}
    for problem in suite.problems():
        problem = replace(problem, rows=len(X), features=X.shape[1])
        y = labels[problem.name]
        Xd, yd = client.persist([da.from_array(X, chunks=(500, -1)), da.from_array(y, 500)])
        tools = gdd_tools(problem, Xd, yd, lambda params: 0.0, client, "", solvers=("auto",))
        tools += sklearn_tools(suite, problem, X, y, lambda params: 0.0, lambda fit: True)[:1]
        if dask_ml:
            tools += dask_ml_tools(suite, problem, Xd, yd, lambda params: 0.0, client, "")[:1]
        for tool in tools:
            tool.fit()


def run_suite(suite, data_dir, dask_ml):
    """All problems of a suite on one LocalCluster; the rows."""
    rows = []
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None, memory_limit=suite.worker_memory) as cluster, \
            Client(cluster, set_as_default=False) as client:
        progress("warm-up")
        warm_up(suite, client, dask_ml)
        for problem in suite.problems():
            new = problem_rows(suite, problem, client, data_dir, dask_ml)
            for row in new:
                print(json.dumps({k: v for k, v in row.items() if k != "trajectory"}),
                      flush=True)
            rows += new
    return rows


def write_outputs(args, suite, rows, run, plotted):
    """``<suite>.jsonl``, ``<suite>.md``, ``<suite>.png`` and, if asked, RESULTS.md."""
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / f"{suite.name}.jsonl", "w") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
    image = out / f"{suite.name}.png"
    if plotted:
        from plot import plot

        plot(rows, image)
    found = targets(rows)
    title = f"gdd-dask benchmarks: the {suite.name} suite"
    (out / f"{suite.name}.md").write_text(
        document(title, run, rows, found, image.name if plotted else None))
    write = args.write_results if args.write_results is not None else suite.name == "full"
    if write:
        results = Path(args.results_file)
        relative = _relative(image, results.parent) if plotted else None
        results.write_text(document("gdd-dask benchmarks", run, rows, found, relative))


def _relative(path, start):
    return os.path.relpath(Path(path).resolve(), Path(start).resolve())


def main(argv=None):
    args = parse_args(argv)
    if args.suite == "minibatch":  # its own script: the MLP and SGD peers, PyTorch
        import minibatch

        return minibatch.main(["--size", "full", "--out-dir", args.out_dir,
                               *(["--repeat", str(args.repeat)] if args.repeat else [])])
    suite = SUITES[args.suite]
    if args.repeat:
        suite = replace(suite, repeat=args.repeat)
    dask_ml, plotted = available("dask_ml"), available("matplotlib")
    run = {"command": " ".join(["python benchmarks/run.py", *(argv or sys.argv[1:])]),
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine()}
    start = time.perf_counter()
    rows = run_suite(suite, args.data_dir, dask_ml)
    run["elapsed_s"] = time.perf_counter() - start
    run["machine"]["load average at the end"] = load_average()
    write_outputs(args, suite, rows, run, plotted)
    print("\n" + sections(rows))
    progress(f"done in {run['elapsed_s'] / 60:.1f} min; results in {args.out_dir}")


if __name__ == "__main__":
    main()
