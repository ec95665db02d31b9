"""The Dask engine: one task per group of row chunks, a fixed tree of reduce tasks.

The package has three parts: a pure *planner* (:mod:`~gdd_dask.engine.plan`: the
groups, the cache plan), a *graph builder* (:mod:`~gdd_dask.engine.graph`: the graphs
of a pass, a chain, an epoch of lanes) and an *executor*
(:mod:`~gdd_dask.engine.executor`: submission, waiting, the paused-worker watch,
progress). :class:`Engine` puts them together over one dataset. A pass is one small,
self-contained graph::

    gdd-params-<t>                        the parameters, sent once to each worker
    (<prefix>-<t>, g)  for each group g   the group's chunk sums, folded by its subtree
    (gdd-reduce-<t>, level, j)            groups of ``split_every`` group results

(Small parameters travel inside each group task instead of under a key, and small
sums are fetched and folded above the groups on the client by the same tree: each
saves a round trip through the scheduler per pass.)

A group is ``split_every**k`` consecutive chunks (:func:`~gdd_dask.engine.plan.group_span`:
as many as still leave two tasks per worker), so its task computes exactly a subtree of
the fixed reduction tree over chunk indices: results are bit-identical whatever the
number of workers, the grouping or the caching policy, and a thousand chunks cost a few
dozen tasks per pass.

Each chunk comes as a *reference*: a chunk persisted on the workers (one future per
group), or -- when streamed -- a :class:`~gdd_dask.chunk.Inline` recipe that reads the
chunk from its source (Zarr) inside the task, so a streamed chunk never outlives its
use. ``cache`` chooses per group: ``"memory"`` persists all, ``"none"`` streams all,
``"auto"`` persists the leading groups that fit in the workers' memory budget and
streams the rest. Passes may *keep* their per-chunk outputs (the margins ``X @ w`` of
linear losses) on the workers for later passes that need no X.

Graphs run on the caller's client, the default client, or -- with neither -- Dask's
active local scheduler.
"""

from __future__ import annotations

import contextlib
import uuid

import dask
from dask.core import flatten
from dask.optimization import cull

from ..chunk import Inline, load_group
from ..data import row_bytes, row_offsets
from ..lanes import abandon
from ..reduction import add_sums, tree_levels, tree_reduce
from ..runtime import is_future, resolve_client
from .executor import Executor, live_workers, memory_budget
from .graph import Layout, chain_graph, collect, lanes_graph, pass_graph, reduced_pass
from .plan import CACHE_POLICIES, check_cache, plan_cache, plan_groups

__all__ = ["CACHE_POLICIES", "Engine", "check_cache", "live_workers"]

INLINE_PARAMS_BYTES = 16 * 2**10
"""Parameters up to this size travel inside each task of a pass (a ``gdd-params`` key,
sent once to each worker, costs one more task and a fetch before the pass starts)."""
CLIENT_TREE_BYTES = 2**20
"""A pass whose group sums together hold at most this many bytes folds the tree above
the groups on the client (see :meth:`Engine.run`)."""
LANE_ATTEMPTS = 2
"""Tries of a lanes epoch whose lane was lost (its worker died): the first, and one on
the workers left (a data-parallel epoch gives the same bits again)."""
LANE_GRACE = 2.0
"""Seconds the other lanes of a failed epoch have to report an error of their own."""


class _LaneLost(Exception):
    """A lane of an epoch went away without an error of its own."""


def _chunk_refs(array, client):
    """One reference per row chunk of ``array``: a future when the array already lives
    on the cluster, else an :class:`Inline` recipe of the chunk's own subgraph."""
    graph = dict(array.__dask_graph__())
    if client is not None and any(is_future(v) for v in graph.values()):
        array = client.persist(array)
        graph = dict(array.__dask_graph__())
    keys = list(flatten(array.__dask_keys__()))
    return [graph[k] if is_future(graph[k]) else Inline(cull(graph, [k])[0], k) for k in keys]


class Engine:
    """Runs map-reduce passes over the row chunks of ``(X, y, sample_weight)``.

    Chunks are handled in *groups* of :func:`~gdd_dask.engine.plan.group_span`
    consecutive chunks, one task per group and pass (:func:`~gdd_dask.chunk.run_group`):
    with a thousand small chunks a pass is a few dozen tasks, not a thousand, and each
    cached group lives on one worker. Chunks the caller already persisted are used in
    place, one task per chunk on the worker that holds it, when they are big
    (regrouping them would first move about half of them); smaller ones are regrouped
    once when the workers have room. ``sums_bytes`` is the size of one task's sums in
    the largest pass to come (many models' in a shared pass, :mod:`gdd_dask.many`):
    each of a worker's threads keeps ``split_every + 1`` times that out of the room for
    cached chunks; :attr:`task_limit` is the most one task may hold.
    """

    def __init__(self, data, *, client=None, split_every=8, cache="auto",
                 kept_bytes_per_row=16, sums_bytes=0):
        check_cache(cache)
        tree_levels(1, split_every)  # validates split_every
        self.client = resolve_client(client)
        self.executor = Executor(self.client)
        self.split_every = split_every
        self.row_chunks = data.row_chunks
        self.offsets = row_offsets(data.row_chunks)
        self.data_token = dask.base.tokenize(data.X, data.y, data.sample_weight)
        self.watch_min_tasks = 8
        # one look at the workers for all the planning; a node of the tree holds its
        # inputs' sums and its own
        budget = memory_budget(self.client, task_bytes=(split_every + 1) * sums_bytes)
        room, self.task_limit = budget.room, budget.task_limit
        self.n_workers = len(room) if self.client else dask.system.CPU_COUNT
        arrays = [data.X, data.y, data.sample_weight]
        refs = [None if a is None else _chunk_refs(a, self.client) for a in arrays]
        x_row_bytes = row_bytes(data.X, client=self.client)  # sparse: of its stored values
        persisted = all(is_future(ref) for ref in refs[0])  # by the caller
        self.groups, in_place = plan_groups(
            self.row_chunks, x_row_bytes, split_every=split_every, n_workers=self.n_workers,
            persisted=persisted, cache=cache, room_bytes=sum(room.values()))
        chunks = [tuple(None if r is None else r[i] for r in refs) for i in range(self.n_chunks)]
        self._units = [[[chunks[i] for i in group]] for group in self.groups]
        self._homes = {}  # group -> the worker holding its chunks
        if in_place:  # aligned where they are (a copy only for unaligned chunks)
            plan = [(g, 1, worker) for g, worker in enumerate(self._holders())]
        else:
            plan = plan_cache(self.groups, self.row_chunks, x_row_bytes,
                              cache="memory" if persisted else cache,
                              kept_bytes_per_row=kept_bytes_per_row, room=room)
        self._cache_groups(plan)
        self.n_cached = sum(m for _, m, _ in plan)

    @property
    def n_chunks(self):
        return len(self.row_chunks)

    @property
    def on_task_done(self):
        """``on_task_done(done, total)``, called within each pass as its tasks finish
        (progress bars), or ``None``."""
        return self.executor.on_task_done

    @on_task_done.setter
    def on_task_done(self, callback):
        self.executor.on_task_done = callback

    def _layout(self):
        if self._units is None:
            raise RuntimeError("this engine is closed")
        return Layout(self.groups, self.offsets, self._units, self.split_every)

    def _watch(self, keys):
        return keys if len(keys) >= self.watch_min_tasks else ()

    def _holders(self):
        """For each group, the worker that holds most of its rows when its chunks are
        futures, else ``None``."""
        futures = {ref.key: ref for unit in self._units for chunk in unit[0]
                   for ref in chunk[:1] if is_future(ref)}
        self.executor.settle(list(futures.values()))  # a chunk being computed has no holder
        who_has = self.executor.who_has(list(futures.values()))
        holders = []
        for group, unit in zip(self.groups, self._units):
            rows = {}
            for i, chunk in zip(group, unit[0]):
                for worker in who_has.get(getattr(chunk[0], "key", None), ())[:1]:
                    rows[worker] = rows.get(worker, 0) + self.row_chunks[i]
            holders.append(max(rows, key=rows.get) if rows else None)
        return holders

    def _cache_groups(self, plan):
        """Persist (and align) the chunks of ``plan``: one key per group for its cached
        chunks, on the planned worker; the group's other chunks stay streamed. A group's
        data is then ``[cached, streamed]``."""
        token = uuid.uuid4().hex
        graph = {(f"gdd-data-{token}", g): (load_group, self._units[g][0][:m])
                 for g, m, _ in plan}
        if not graph:
            return
        homes = {(f"gdd-data-{token}", g): w for g, _, w in plan if w is not None}
        futures = self.executor.execute(graph, list(graph), keep_all=True, homes=homes)[1]
        for (g, m, worker), future in zip(plan, futures):
            self._units[g] = [future, self._units[g][0][m:]]
            if worker is not None:
                self._homes[g] = worker

    def close(self):
        """Release every future this engine made (persisted chunks, kept outputs, failed
        passes), even those still referenced elsewhere, e.g. by an error's traceback."""
        self._units = None
        self.executor.release_all()

    def run(self, prefix, func, *broadcast, with_X=True, per_chunk=(), keep=False,
            sums_bytes=None, combine=add_sums):
        """``tree_reduce([func(offset, i, *chunk_i, *kept_i, *broadcast)])``.

        ``chunk_i`` is ``(X_i, y_i, sample_weight_i)`` (without ``X_i`` unless
        ``with_X``); ``per_chunk`` are the handles returned by earlier ``keep`` passes,
        whose outputs for chunk ``i`` are ``kept_i``; each ``broadcast`` value becomes
        one graph key shared by all tasks. With ``keep``, ``func`` returns ``(sums,
        kept)`` and the result is ``(reduced sums, handles)``: with ``keep="output"``
        each group's whole output stays on its worker (when the sums are small);
        otherwise only the ``kept`` parts do, picked out by one small ``gdd-margins``
        task per group.

        ``sums_bytes`` (the size of one group's sums, where the caller knows it): when
        all the groups' sums together hold at most :data:`CLIENT_TREE_BYTES`, a pass
        without ``keep`` fetches them and folds the tree above the groups here, with the
        same :func:`~gdd_dask.reduction.tree_reduce`: the same bits, and one hop less
        through the scheduler per level (each about a round trip of Dask's).

        ``combine`` folds a group of sums at every node of the tree (default
        :func:`~gdd_dask.reduction.add_sums`; e.g. :func:`~gdd_dask.tsqr.merge_moments`).
        """
        layout, token = self._layout(), uuid.uuid4().hex
        inline = sum(getattr(v, "nbytes", 0) for v in broadcast) <= INLINE_PARAMS_BYTES
        graph, keys = pass_graph(layout, f"{prefix}-{token}", token, func, broadcast,
                                 inline=inline, with_X=with_X, per_chunk=per_chunk,
                                 keep=keep, combine=combine)
        homes = {keys[g]: worker for g, worker in self._homes.items()}
        watch = self._watch(keys)
        if not keep and self.client is not None and sums_bytes is not None \
                and sums_bytes * len(keys) <= CLIENT_TREE_BYTES:
            return tree_reduce(self.executor.gather(graph, keys, homes, watch),
                               self.split_every, combine)
        wanted = reduced_pass(graph, keys, token, self.split_every, keep=keep, combine=combine)
        value, handles = self.executor.execute(graph, wanted, homes=homes, watch=watch)
        return (value, handles) if keep else value

    def chain(self, prefix, func, carry, plan):
        """``carry = func(offset_i, i, *chunk_i, carry, arg_i)`` for each ``(i, arg_i)``
        of ``plan`` in turn; the final carry.

        One task per run of consecutive chunks of ``plan`` that share a group (so a
        plan in chunk order is one task per group), each on the worker that holds its
        chunks and depending on the task before it: the carry goes from worker to
        worker, never through the client, and the client submits the whole chain at
        once. Streamed chunks are read inside their task, once.
        """
        return self.chains(prefix, func, [carry], [plan])[0]

    def chains(self, prefix, func, carries, plans):
        """:meth:`chain` from each of ``carries`` along its plan of ``plans``, all in one
        graph (the chains run at the same time, each where its chunks are); the list of
        final carries."""
        name = f"{prefix}-{uuid.uuid4().hex}"
        graph, lasts, homes = chain_graph(self._layout(), name, func, carries, plans,
                                          self._homes)
        watch = self._watch(list(graph))
        if len(lasts) == 1:
            return [self.executor.execute(graph, lasts, homes=homes, watch=watch)[0]]
        graph[(name, "all")] = (collect, *lasts)
        return list(self.executor.execute(graph, [(name, "all")], homes=homes,
                                          watch=watch)[0])

    def lanes(self, prefix, func, *shared, cached=False):
        """``func(*shared, lane_of, rank, n_lanes, name, groups)`` on one task per lane
        at once, each on its own worker, where ``groups`` are ``[(group, offsets,
        indices, parts)]`` of the groups the lane holds, ``lane_of[i]`` the lane of chunk
        ``i`` and ``name`` the lanes' rendezvous (:mod:`gdd_dask.lanes`); the value of
        lane 0 (the hub).

        A lane is a worker that holds cached groups (where they are now); streamed
        groups are dealt out to the live workers in turn. Without a cluster there is
        one lane. ``cached`` refuses data that is not all in the workers' memory. When a
        lane's worker dies during the epoch, the epoch runs once more on the workers
        left (:data:`LANE_ATTEMPTS`); a lane's own error is raised, not the broken
        links its peers then see.
        """
        self._layout()  # refuses a closed engine
        if cached and self.n_cached < self.n_chunks:
            raise ValueError(
                f"data-parallel steps read every chunk at every step, but only "
                f"{self.n_cached} of the {self.n_chunks} chunks fit in the workers' memory; "
                "use cache='memory' with more memory, or steps in chunk order "
                "(data_parallel=False)")
        for attempt in range(LANE_ATTEMPTS):
            try:
                return self._run_lanes(prefix, func, shared)
            except _LaneLost as lost:
                if attempt == LANE_ATTEMPTS - 1:
                    raise RuntimeError(f"the epoch's lanes failed {LANE_ATTEMPTS} times: "
                                       f"{lost}") from None

    def _run_lanes(self, prefix, func, shared):
        """One try of :meth:`lanes`: ``_LaneLost`` when a lane's worker went away (or
        its link broke) without an error of the lane's own."""
        workers, order = self._lane_workers(), []
        for worker in workers:
            if worker not in order:
                order.append(worker)
        lane_groups = [[g for g, w in enumerate(workers) if w == lane] for lane in order]
        token = uuid.uuid4().hex
        graph = lanes_graph(self._layout(), f"{prefix}-{token}", f"gdd-lanes-{token}", func,
                            shared, lane_groups, self.n_chunks)
        keys = list(graph)
        if self.client is None:
            return self.executor.execute(graph, keys[:1])[0]
        futures = self.executor.submit(graph, keys, dict(zip(keys, order)), strict=True)
        hub, others = futures[0], futures[1:]

        def check():  # a lane pinned to a worker that is gone would never run
            live = set(self.client.scheduler_info(n_workers=-1)["workers"])
            if not set(order) <= live:
                raise _LaneLost("a worker of the epoch's lanes left the cluster")

        finished = False
        try:
            self.executor.wait([hub], check=check)
            if hub.status != "error":
                result, finished = hub.result(), True
                return result
            if others:  # a moment for the other lanes to report an error of their own
                self.executor.wait(others, timeout=LANE_GRACE)
            own = [f.exception() for f in others if f.status == "error"]
            own = [e for e in own if not isinstance(e, ConnectionError)]
            if own:
                raise own[0]
            error = hub.exception()
            if isinstance(error, ConnectionError):
                raise _LaneLost(str(error)) from None
            raise error
        finally:
            if not finished:  # lanes still waiting for a lost one must let go
                with contextlib.suppress(Exception):  # (a closing client tells no one)
                    abandon(f"gdd-lanes-{token}", self.client)
            for future in futures:
                future.release()

    def _lane_workers(self):
        """The worker of each group's lane: the live worker that holds its cached chunks,
        else (streamed) the live workers in turn; ``[None] * groups`` without a
        cluster."""
        if self.client is None:
            return [None] * len(self.groups)
        live = live_workers(self.client)
        firsts = {}
        for g, unit in enumerate(self._units):
            head = unit[0] if is_future(unit[0]) else next(
                (chunk[0] for chunk in unit[0] if is_future(chunk[0])), None)
            if head is not None:
                firsts[g] = head
        who_has = self.executor.who_has(list(firsts.values()))
        workers, turn = [], 0
        for g in range(len(self.groups)):
            holders = [w for w in who_has.get(getattr(firsts.get(g), "key", None), ())
                       if w in live]
            if not holders:
                holders, turn = [live[turn % len(live)]], turn + 1
            workers.append(holders[0])
        return workers
