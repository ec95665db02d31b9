"""The engine on a real LocalCluster: determinism, pass and task counts, chunking."""

from __future__ import annotations

import time
from collections import Counter

import dask
import dask.array as da
import numpy as np
import pytest
from conftest import make_cluster
from dask.utils import key_split
from distributed import Client, futures_of, get_task_stream
from references import breast_cancer_logistic, diabetes_poisson, wine_multinomial

from gdd_dask import engine, make_objective, minimize
from gdd_dask.reduction import add_sums, tree_levels, tree_reduce


@pytest.fixture(scope="module")
def logistic():
    return breast_cancer_logistic()


def chunked(problem, rows):
    return da.from_array(problem.X, chunks=(rows, -1)), da.from_array(problem.y, chunks=rows)


def fit(problem, X, y, **kwargs):
    kwargs = {"alpha": problem.alpha, "tol": 1e-8, "solver": "lbfgs", **kwargs}
    return minimize(problem.loss, X, y, **kwargs)


def test_bit_identical_on_one_and_three_workers_and_reruns(logistic):
    X, y = chunked(logistic, 37)  # 16 chunks: a two-level tree with split_every=4
    runs = []
    for n_workers, n_runs in ((1, 1), (3, 2)):
        with make_cluster(n_workers) as cluster, Client(cluster, set_as_default=False) as c:
            runs += [fit(logistic, X, y, client=c, split_every=4) for _ in range(n_runs)]
    for run in runs[1:]:
        assert np.array_equal(run.x, runs[0].x)
        assert run.fun == runs[0].fun and run.history == runs[0].history


def test_lbfgs_passes_equal_evaluations_and_grad_tasks(logistic, client):
    X, y = chunked(logistic, 100)  # 6 chunks
    with get_task_stream(client=client) as stream:
        result = fit(logistic, X, y, client=client, solver="lbfgs")
    counts = Counter(key_split(task["key"]) for task in stream.data)
    assert result.n_passes == result.nfev
    assert counts["gdd-grad"] == result.nfev * X.numblocks[0]
    # small parameters travel in the tasks, and small sums are folded here: no
    # gdd-params keys, and one reduce node, the check pass's
    assert counts["gdd-params"] == 0 and counts["gdd-reduce"] == 1
    assert counts["gdd-check"] == X.numblocks[0]


def test_big_parameters_and_sums_stay_on_the_workers(logistic, client, monkeypatch):
    """Above INLINE_PARAMS_BYTES the parameters enter a pass once, as a key; above
    CLIENT_TREE_BYTES the tree above the groups runs as tasks: the same bits."""
    X, y = chunked(logistic, 100)  # 6 chunks
    small = fit(logistic, X, y, client=client, solver="lbfgs")
    monkeypatch.setattr(engine, "INLINE_PARAMS_BYTES", 0)
    monkeypatch.setattr(engine, "CLIENT_TREE_BYTES", 0)
    with get_task_stream(client=client) as stream:
        result = fit(logistic, X, y, client=client, solver="lbfgs")
    counts = Counter(key_split(task["key"]) for task in stream.data)
    assert counts["gdd-params"] == result.n_passes  # parameters enter each pass once
    # 6 chunks <= split_every: one reduce node per pass, and one for the check pass
    assert counts["gdd-reduce"] == result.n_passes + 1
    assert np.array_equal(result.x, small.x) and result.fun == small.fun
    assert result.history == small.history


def test_newton_uses_hessian_tasks(logistic, client):
    X, y = chunked(logistic, 100)
    with get_task_stream(client=client) as stream:
        result = fit(logistic, X, y, client=client, solver="newton")
    counts = Counter(key_split(task["key"]) for task in stream.data)
    assert counts["gdd-hess"] == (result.nit + 1) * X.numblocks[0]
    assert counts["gdd-loss"] + counts["gdd-hess"] == result.n_passes * X.numblocks[0]


def test_reduction_tree_shape():
    assert [len(level) for level in tree_levels(500, 8)] == [63, 8, 1]
    assert [len(level) for level in tree_levels(1, 8)] == [1]
    parts = [(np.float64(i), np.arange(3.0) * i) for i in range(20)]
    total = tree_reduce(parts, 3, add_sums)
    assert total[0] == sum(range(20))
    np.testing.assert_array_equal(total[1], np.arange(3.0) * sum(range(20)))
    with pytest.raises(ValueError, match="split_every"):
        tree_levels(4, 1)


@pytest.mark.parametrize("rows", [569, 100], ids=["one-chunk", "ragged"])
def test_chunkings_agree(logistic, client, rows):
    """One chunk, and a ragged last chunk (569 = 5 x 100 + 69)."""
    reference = fit(logistic, logistic.X, logistic.y, solver="newton")
    X, y = chunked(logistic, rows)
    result = fit(logistic, X, y, client=client, solver="newton")
    assert result.success
    np.testing.assert_allclose(result.x, reference.x, rtol=1e-7, atol=1e-9)


def test_five_hundred_tiny_chunks_in_groups(client):
    """One row per chunk: 500 leaves in groups of 64 chunks a task (a two-level subtree
    each), bit-identical to the in-process tree of 500 leaves."""
    problem = wine_multinomial()
    X, y = np.repeat(problem.X, 3, axis=0)[:500], np.repeat(problem.y, 3)[:500]
    Xd, yd = da.from_array(X, chunks=(1, -1)), da.from_array(y, chunks=1)
    with get_task_stream(client=client) as stream:
        result = minimize("multinomial", Xd, yd, alpha=1e-3, client=client, max_iter=3)
    local = minimize("multinomial", X, y, alpha=1e-3, chunk_rows=1, max_iter=3)
    assert result.nit == local.nit == 3
    assert np.array_equal(result.x, local.x) and result.fun == local.fun
    counts = Counter(key_split(task["key"]) for task in stream.data)
    assert counts["gdd-grad"] == result.nfev * 8  # ceil(500 / 64) groups, not 500 tasks
    assert counts["gdd-data"] == 8  # one cached key per group


def test_cached_groups_run_where_their_chunks_live(client):
    """Each pass task runs on the worker holding its group's cached chunks (no chunk
    moves between workers), and the groups are spread over both workers."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 5))
    y = (X[:, 0] + rng.normal(size=4000) > 0).astype(float)
    Xd, yd = da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)  # 40 chunks
    with make_objective("logistic", Xd, yd, client=client, cache="memory") as objective:
        homes = objective.engine._homes
        assert len(objective.engine.groups) == 5 and len(set(homes.values())) == 2
        with get_task_stream(client=client) as stream:
            for _ in range(3):
                objective.value_and_grad(np.zeros(6))
    tasks = [t for t in stream.data if key_split(t["key"]) == "gdd-grad"]
    assert len(tasks) == 15
    assert all(t["worker"] == homes[t["key"][1]] for t in tasks)


@pytest.mark.parametrize("in_place", [True, False], ids=["big-chunks", "small-chunks"])
def test_persisted_input(logistic, client, monkeypatch, in_place):
    """Big chunks the caller persisted are used where they are: one task per chunk, on
    its worker (aligned there, which copies only unaligned chunks). Small ones are
    regrouped once (a task per chunk would cost more). Both give the numbers of the
    lazy input."""
    monkeypatch.setattr(engine.plan, "IN_PLACE_MIN_CHUNK_BYTES", 1 if in_place else 2**40)
    X, y = chunked(logistic, 20)  # 29 chunks
    Xp, yp = client.persist([X, y])
    with get_task_stream(client=client) as stream:
        result = fit(logistic, Xp, yp, client=client)
    reference = fit(logistic, X, y, client=client)
    assert np.array_equal(result.x, reference.x) and result.fun == reference.fun
    counts = Counter(key_split(task["key"]) for task in stream.data)
    n_tasks = X.numblocks[0] if in_place else 4  # groups of 8 chunks
    assert counts["gdd-data"] == n_tasks
    assert counts["gdd-grad"] == result.nfev * n_tasks


def test_chunks_still_computing_are_used_where_they_land(client, monkeypatch):
    """Input persisted a moment before (as a fit persists a slice of persisted data)
    has no holder yet: the engine waits for it, so each chunk is cached on the worker
    that computed it instead of one picked without it (an X chunk moved)."""
    monkeypatch.setattr(engine.plan, "IN_PLACE_MIN_CHUNK_BYTES", 1)
    rng = np.random.default_rng(1)
    X = da.from_array(rng.normal(size=(4000, 5)), chunks=(500, -1))
    y = da.from_array((rng.random(4000) > 0.5).astype(float), chunks=500)
    Xp, yp = client.persist([(X * 2.0)[:3500], y[:3500]])  # still running below
    with get_task_stream(client=client) as stream, \
            make_objective("logistic", Xp, yp, client=client, cache="memory") as objective:
        homes = objective.engine._homes
        holders = client.who_has(futures_of(Xp))
    assert len(homes) == Xp.numblocks[0] == 7
    assert [homes[g] for g in range(7)] == [holders[f.key][0] for f in futures_of(Xp)]
    moved = [t for t in stream.data if key_split(t["key"]) == "gdd-data"
             and any(s["action"] == "transfer" and s.get("total_nbytes", 0) > 10_000
                     for s in t["startstops"])]
    assert not moved


def test_numpy_input_with_a_client_is_chunked_on_the_cluster(logistic, client):
    with get_task_stream(client=client) as stream:
        result = fit(logistic, logistic.X, logistic.y, client=client, chunk_rows=200)
    reference = fit(logistic, logistic.X, logistic.y, chunk_rows=200)
    counts = Counter(key_split(task["key"]) for task in stream.data)
    assert counts["gdd-grad"] == 3 * result.nfev
    np.testing.assert_allclose(result.x, reference.x, rtol=1e-7)


def test_default_client_is_used(logistic, cluster):
    X, y = chunked(logistic, 200)
    with Client(cluster) as default, get_task_stream(client=default) as stream:
        result = fit(logistic, X, y)
    assert sum(key_split(t["key"]) == "gdd-grad" for t in stream.data) == 3 * result.nfev


def test_without_client_dask_input_uses_the_local_scheduler(logistic):
    X, y = chunked(logistic, 200)
    with dask.config.set(scheduler="sync"):
        result = fit(logistic, X, y, solver="lbfgs")
    reference = fit(logistic, logistic.X, logistic.y, chunk_rows=200)
    assert result.fun == pytest.approx(reference.fun, rel=1e-12)


@pytest.mark.parametrize("cache", ["memory", "none"])
def test_no_keys_left_on_the_cluster(logistic, client, cache):
    X, y = chunked(logistic, 100)
    fit(logistic, X, y, client=client, cache=cache)
    deadline = time.monotonic() + 10  # releases reach the scheduler asynchronously
    while (left := client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))):
        assert time.monotonic() < deadline, f"{left} keys still on the scheduler"
        time.sleep(0.05)


def test_cache_policies_give_identical_results(logistic, client):
    X, y = chunked(logistic, 100)
    runs = [fit(logistic, X, y, client=client, cache=cache, solver="newton")
            for cache in ("auto", "memory", "none")]
    for run in runs[1:]:
        assert np.array_equal(run.x, runs[0].x)


def test_objective_interface(logistic, client):
    """value, value_and_grad, hessian and hessp agree with each other (one pass each)."""
    X, y = chunked(logistic, 100)
    w = np.random.default_rng(0).normal(scale=0.1, size=X.shape[1] + 1)
    v = np.random.default_rng(1).normal(size=w.size)
    with make_objective("logistic", X, y, alpha=0.01, client=client) as objective:
        f = objective.value(w)
        f2, g = objective.value_and_grad(w)
        H = objective.hessian(w)
        Hv = objective.hessp(w, v)
        assert objective.n_passes == 4
    assert f == f2
    np.testing.assert_allclose(Hv, H @ v, rtol=1e-10)
    with pytest.raises(RuntimeError, match="closed"):
        objective.value(w)


@pytest.mark.parametrize("on_cluster", [False, True], ids=["in-process", "cluster"])
def test_line_values_come_from_kept_margins_without_a_pass(logistic, client, on_cluster):
    X, y = chunked(logistic, 100) if on_cluster else (logistic.X, logistic.y)
    rng = np.random.default_rng(0)
    a, b = rng.normal(scale=0.3, size=(2, logistic.X.shape[1] + 1))
    with make_objective("logistic", X, y, alpha=0.01, client=client if on_cluster else None,
                        chunk_rows=100) as objective:
        assert objective.line_values(a, b, [0.5]) is None  # nothing kept yet
        objective.keep_margins()
        fa, fb = objective.value(a), objective.value(b)
        passes = objective.n_passes
        values = objective.line_values(a, b, [0.0, 0.25, 1.0])
        assert objective.n_passes == passes  # X was not read
        f_quarter = objective.value(a + 0.25 * (b - a))
    np.testing.assert_allclose(values, [fa, f_quarter, fb], rtol=1e-12)


def test_backtracking_reads_x_at_most_twice_per_search(client):
    """Poisson from zero overshoots: rejected full steps are scored from margins."""
    problem = diabetes_poisson()
    problem.y[:5] *= 40  # a few large counts make the first Newton steps too long
    X, y = chunked(problem, 100)
    with get_task_stream(client=client) as stream:
        result = fit(problem, X, y, client=client, solver="newton")
    counts = Counter(key_split(task["key"]) for task in stream.data)
    assert result.success and counts["gdd-line"] > 0
    n_chunks = X.numblocks[0]
    assert counts["gdd-hess"] == result.n_passes * n_chunks  # every pass is a Newton pass
    assert result.nit + 1 < result.n_passes <= 2 * result.nit + 1
    assert counts["gdd-line"] == (result.n_passes - result.nit - 1) * n_chunks


def test_auto_solver_prefers_newton_for_narrow_or_streamed_data(logistic, client):
    """Newton up to 32 parameters in memory, 64 streamed; L-BFGS beyond."""
    X, y = chunked(logistic, 100)  # 31 parameters
    assert fit(logistic, X, y, client=client, solver="auto").solver == "newton"
    wide = np.hstack([logistic.X] * 2)  # 61 parameters
    in_memory = fit(logistic, wide, logistic.y, solver="auto", max_iter=2)
    streamed = fit(logistic, da.from_array(wide, chunks=(100, -1)), logistic.y, client=client,
                   cache="none", solver="auto", max_iter=2)
    assert (in_memory.solver, streamed.solver) == ("lbfgs", "newton")


def test_lanes_wait_for_a_worker_of_a_cluster_that_has_none():
    """Between a cluster's workers leaving and new ones joining the scheduler lists
    none: the lanes' placement waits for one (it divided by the count of none, a
    ZeroDivisionError), and says so when none comes."""
    import threading

    with make_cluster(0) as cluster, Client(cluster, set_as_default=False) as client:
        with pytest.raises(TimeoutError, match="the cluster has no workers, and none joined"):
            engine.live_workers(client, timeout=0.5)
        threading.Timer(0.5, cluster.scale, args=(1,)).start()
        assert len(engine.live_workers(client, timeout=60)) == 1


def test_the_planner_needs_no_cluster():
    """The planner is pure: groups are whole subtrees of the fixed tree, two tasks per
    worker at least; ``auto`` caches leading chunks of each group on the least-loaded
    worker with room, after the reservations, and streams the rest."""
    from gdd_dask.engine.plan import plan_cache, plan_groups

    rows = (100,) * 40
    groups, in_place = plan_groups(rows, 80, split_every=4, n_workers=2, persisted=False,
                                   cache="auto", room_bytes=1e9)
    assert not in_place and [len(g) for g in groups] == [4] * 10  # 10 tasks >= 2 x 2
    assert [g.start for g in groups] == list(range(0, 40, 4))
    chunk = 100 * (80 + 16)  # X, y and sample_weight of a chunk
    reserved = 6 * chunk + 16 * 4000 / 2  # streamed chunks' working set, kept margins
    room = {"a": reserved + 10 * chunk, "b": reserved + 5.5 * chunk}
    plan = plan_cache(groups, rows, 80, cache="auto", kept_bytes_per_row=16, room=room)
    assert plan[:3] == [(0, 4, "a"), (1, 4, "b"), (2, 4, "a")]
    assert sum(m for _, m, _ in plan) == 15  # 10 chunks fit on a, 5 on b
    assert plan_cache(groups, rows, 80, cache="none", kept_bytes_per_row=16, room=room) == []
    everything = plan_cache(groups, rows, 80, cache="memory", kept_bytes_per_row=16, room=room)
    assert sum(m for _, m, _ in everything) == 40
    persisted_small, in_place = plan_groups(rows, 80, split_every=4, n_workers=2,
                                            persisted=True, cache="auto", room_bytes=1e9)
    assert not in_place and len(persisted_small) == 10  # regrouped: they are small
    assert plan_groups(rows, 80, split_every=4, n_workers=2, persisted=True, cache="auto",
                       room_bytes=0)[1]  # no room to move them: used where they are
