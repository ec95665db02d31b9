"""The measurements, each returning result rows (dicts, one JSON line each).

- ``pass``: one gradient pass of gdd-dask on persisted data against plain NumPy;
- ``overhead``: the scheduler's cost per chunk (many small chunks, cluster vs in-process);
- ``optimum`` / ``store``: time of every tool to reach a relative gap of
  :data:`TARGET_GAP`, from persisted arrays or straight from the Zarr store;
- ``out_of_core``: a streamed pass against reading the store (``out_of_core.py``).

Tools run side by side: each repeat runs every tool once, in an order rotated by one
per repeat, and each figure is the median over the repeats.
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from problems import gap
from scipy.special import expit

import gdd_dask

TARGET_GAP = 1e-6


@dataclass
class Context:
    """What every measurement of one problem needs."""

    suite: object
    problem: object
    client: object
    X: np.ndarray
    y: np.ndarray
    score: object

    def row(self, measure, tool, solver, config, runs, **extra):
        """A result row: the median of ``runs`` (seconds; ``None`` when a run has none)."""
        done = [r for r in runs if r is not None]
        wall = statistics.median(done) if done and len(done) == len(runs) else None
        return {"suite": self.suite.name, "problem": self.problem.label, "measure": measure,
                "tool": tool, "solver": solver, "config": config,
                "wall_s": _round(wall), "runs": [_round(r) for r in runs], **extra}


def _round(value, digits=5):
    return None if value is None else float(f"{value:.{digits}g}")


def alternate(keys, repeat, run, once=()):
    """``{key: [run(key), ...]}``: ``repeat`` rounds over all keys, the order rotated by
    one each round; keys in ``once`` run in the first round only."""
    keys = list(keys)
    runs = {key: [] for key in keys}
    for r in range(repeat):
        shift = r % len(keys)
        for key in keys[shift:] + keys[:shift]:
            if r == 0 or key not in once:
                runs[key].append(run(key))
    return runs


@contextmanager
def two_workers(X, y, n_chunks=16):
    """``(client, X, y)``: a 2-worker loopback cluster (one thread each) holding ``X``
    and ``y`` persisted in ``n_chunks`` row chunks."""
    import dask.array as da
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        chunk = max(1, len(y) // n_chunks)
        yield (client, client.persist(da.from_array(X, chunks=(chunk, -1))),
               client.persist(da.from_array(y, chunks=chunk)))


def seconds(func):
    """Wall seconds of ``func()``."""
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def time_side_by_side(funcs, repeat):
    """Median-ready run times of each function of ``funcs`` (after one warm-up call)."""
    for func in funcs.values():
        func()
    return alternate(funcs, repeat, lambda key: seconds(funcs[key]))


def probe_point(problem, seed=0):
    """A fixed parameter vector away from zero: coefficients and an intercept."""
    rng = np.random.default_rng(seed)
    return rng.normal(scale=problem.features ** -0.5, size=problem.features + 1)


def pass_rows(ctx, Xd, yd):
    """gdd-dask's ``value_and_grad`` on the persisted arrays (and in-process), against
    NumPy's ``X.T @ (expit(X @ w) - y)`` and ``X @ w`` (one read of X)."""
    X, y, problem = ctx.X, ctx.y, ctx.problem
    params = probe_point(problem)
    w, b = params[:-1], params[-1]
    with gdd_dask.make_objective(problem.loss, Xd, yd, alpha=problem.alpha,
                                 client=ctx.client, cache="memory") as cluster, \
            gdd_dask.make_objective(problem.loss, X, y, alpha=problem.alpha) as local:
        funcs = {
            ("numpy", "X.T @ (expit(X @ w + b) - y)"): lambda: X.T @ (expit(X @ w + b) - y),
            ("numpy", "X @ w (one read of X)"): lambda: X @ w,
            ("gdd-dask", "value_and_grad, 2 workers, persisted"):
                lambda: cluster.value_and_grad(params),
            ("gdd-dask", "value_and_grad, in-process"): lambda: local.value_and_grad(params),
        }
        runs = time_side_by_side(funcs, ctx.suite.pass_repeat)
    base_key = next(iter(funcs))
    base = statistics.median(runs[base_key])
    return [ctx.row("pass", tool, "-", config, times,
                    ratio=_round(statistics.median(times) / base), ratio_to="numpy gradient",
                    gb_per_s=_round(X.nbytes / 1e9 / statistics.median(times)))
            for (tool, config), times in runs.items()]


def overhead_rows(ctx, Xd, yd):
    """A pass over chunks of ``overhead_chunk_rows`` rows on the cluster and in-process
    (the same chunk function in a loop): ``(cluster - in-process) / n_chunks``."""
    rows_per_chunk, problem, client = ctx.suite.overhead_chunk_rows, ctx.problem, ctx.client
    Xc, yc = client.persist([Xd.rechunk((rows_per_chunk, -1)), yd.rechunk(rows_per_chunk)])
    params = probe_point(problem)
    n_chunks = Xc.numblocks[0]
    with gdd_dask.make_objective(problem.loss, Xc, yc, alpha=problem.alpha, client=client,
                                 cache="memory") as cluster, \
            gdd_dask.make_objective(problem.loss, ctx.X, ctx.y, alpha=problem.alpha,
                                    chunk_rows=rows_per_chunk) as local:
        funcs = {f"2 workers, {n_chunks} chunks of {rows_per_chunk} rows":
                 lambda: cluster.value_and_grad(params),
                 f"in-process loop, the same {n_chunks} chunks":
                 lambda: local.value_and_grad(params)}
        runs = time_side_by_side(funcs, ctx.suite.pass_repeat)
    del Xc, yc
    cluster_s, local_s = (statistics.median(times) for times in runs.values())
    per_chunk_ms = (cluster_s - local_s) / n_chunks * 1e3
    rows = [ctx.row("overhead", "gdd-dask", "-", config, times, n_chunks=n_chunks)
            for config, times in runs.items()]
    rows[0].update(overhead_ms_per_chunk=_round(per_chunk_ms, 3),
                   ratio=_round(cluster_s / local_s), ratio_to="in-process loop")
    return rows


def clipped_gap(fun, f_star):
    """The gap, at least 0 (a run may end a rounding error below ``f*``); ``None`` for
    no finite objective."""
    value = gap(fun, f_star)
    return None if value is None else max(value, 0.0)


def time_to_gap(trajectory, f_star):
    """Seconds of the first point of ``[(seconds, objective)]`` within the target gap."""
    for t, fun in trajectory:
        value = gap(fun, f_star)
        if value is not None and value <= TARGET_GAP:
            return t
    return None


def optimum_rows(ctx, measure, tools, f_ref, base):
    """Run ``tools`` side by side; one row each with its median time to the target gap
    (``wall_s``; ``None`` when it did not get there), its fit time, final gap and path.

    ``f*`` is the best objective any run reached (``f_ref`` included); ``ratio`` is
    ``wall_s`` over that of the tool whose ``(tool, solver)`` is ``base``.
    """
    by_key = {tool.key: tool for tool in tools}
    once = {tool.key for tool in tools if tool.once}
    fits = alternate(by_key, ctx.suite.repeat, lambda key: by_key[key].fit(), once=once)
    f_star = min([f_ref] + [fun for runs in fits.values() for f in runs
                            for fun in [f.fun] + [p[1] for p in f.trajectory]
                            if np.isfinite(fun)])
    rows = [_optimum_row(ctx, measure, by_key[key], runs, f_star) for key, runs in fits.items()]
    base_s = next((r["wall_s"] for r in rows if (r["tool"], r["solver"]) == base), None)
    for r in rows:
        r["ratio"] = _round(r["wall_s"] / base_s) if r["wall_s"] and base_s else None
        r["ratio_to"] = " ".join(base)
    return rows


def representative(runs):
    """The run to show (iterations, final gap, path): the median wall time among the
    runs with the longest path (a scikit-learn search records its path once)."""
    longest = max(len(f.trajectory) for f in runs)
    full = sorted((f for f in runs if len(f.trajectory) == longest), key=lambda f: f.wall)
    return full[(len(full) - 1) // 2]


def _optimum_row(ctx, measure, tool, runs, f_star):
    shown = representative(runs)
    return ctx.row(
        measure, tool.tool, tool.solver, tool.config,
        [time_to_gap(f.trajectory, f_star) for f in runs],
        fit_s=_round(statistics.median(f.wall for f in runs)), nit=shown.nit,
        passes=shown.passes, gap=_round(clipped_gap(shown.fun, f_star), 3),
        f_star=f_star, note=shown.note,
        trajectory=[[_round(t, 4), _round(clipped_gap(fun, f_star), 3)]
                    for t, fun in shown.trajectory if np.isfinite(fun)])


def out_of_core_rows(ctx, path, limit="500MB", repeat=3):
    """``out_of_core.py``'s measurement: a gradient pass streamed from the store
    (``cache="none"``) on two workers of ``limit`` memory each, against reading and
    decoding the store's X."""
    from out_of_core import pass_vs_read

    times = pass_vs_read(path, ctx.problem.alpha, repeat, limit)
    read_s = statistics.median(times["read_s"])
    gb = ctx.X.nbytes / 1e9
    configs = {"read_s": ("zarr", "read + decode X, 2 threads in process"),
               "read_cluster_s": ("dask", f"read + decode X on 2 workers of {limit}"),
               "pass_s": ("gdd-dask", f"value_and_grad streamed, cache='none', 2 workers "
                                      f"of {limit}")}
    rows = [ctx.row("out_of_core", tool, "-", config, times[key],
                    gb_per_s=_round(gb / statistics.median(times[key])),
                    ratio=_round(statistics.median(times[key]) / read_s),
                    ratio_to="zarr read")
            for key, (tool, config) in configs.items()]
    rows[-1]["store_over_memory_limit"] = _round(times["store_over_memory_limit"], 3)
    return rows
