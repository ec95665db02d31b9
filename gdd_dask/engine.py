"""The Dask engine: one task per group of row chunks, a fixed tree of reduce tasks.

This is the only module that imports ``dask.distributed``. A pass is one small,
self-contained graph::

    gdd-params-<t>                        the parameters, sent once to each worker
    (<prefix>-<t>, g)  for each group g   the group's chunk sums, folded by its subtree
    (gdd-reduce-<t>, level, j)            groups of ``split_every`` group results

(Small parameters travel inside each group task instead of under a key, and small
sums are fetched and folded above the groups on the client by the same tree: each
saves a round trip through the scheduler per pass.)

A group is ``split_every**k`` consecutive chunks (:func:`group_span`: as many as still
leave two tasks per worker), so its task computes exactly a subtree of the fixed
reduction tree over chunk indices: results are bit-identical whatever the number of
workers, the grouping or the caching policy, and a thousand chunks cost a few dozen
tasks per pass.

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
import operator
import queue
import time
import uuid
import weakref
from functools import partial

import dask
import distributed
import numpy as np
from dask.core import flatten
from dask.optimization import cull

from .chunk import Inline, load_group, run_chain, run_group
from .data import itemsize, row_offsets
from .lanes import LANE_TIMEOUT, abandon
from .reduction import add_kept_sums, add_sums, tree_levels, tree_reduce

__all__ = ["Engine", "check_cache", "compute", "group_span", "live_workers", "resolve_client",
           "CACHE_POLICIES"]

CACHE_POLICIES = ("auto", "memory", "none")
HEADROOM = 0.75
"""Share of the room below Dask's spill threshold that cached chunks may take: the rest
is for what a fit's tasks hold while they run (chunks being read, temporaries, kept
margins, Dask's own buffers). At 0.85 a 300 MB worker streaming a 1.8 GB store touched
its spill threshold."""
IN_PLACE_MIN_CHUNK_BYTES = 64 * 2**20
"""Chunks the caller persisted are used where they are (one task per chunk) when they
are at least this big; smaller ones are regrouped once, when there is room: a task
costs the scheduler a millisecond or two whatever its size (about the time to read
8 MB), while moving a chunk costs about as much as ten passes over it."""
STREAMED_TASK_BYTES = 32 * 2**20
"""Bytes of X a task that streams its chunks reads, at least (when there are chunks
enough): see :func:`group_span`."""
STREAMING_CHUNKS_PER_WORKER = 6
"""Streamed chunks' worth of memory reserved per worker for a streaming task's working
set: the chunk in flight, its float64 blocks, and what the reader and the allocator
hold on to (seen near 80 MB above a 300 MB worker's idle size while streaming 4 MB
chunks, in tests/test_out_of_core.py)."""


def check_cache(cache):
    """Raise ``ValueError`` unless ``cache`` is one of :data:`CACHE_POLICIES`."""
    if cache not in CACHE_POLICIES:
        raise ValueError(f"cache must be one of {CACHE_POLICIES}; got {cache!r}")


def in_task():
    """True inside a task running on a Dask worker."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


def resolve_client(client=None):
    """The caller's client, else the default client, else ``None`` (local scheduler).

    Inside a task on a worker (a fit under ``client.submit``, joblib's Dask backend,
    dask-ml's ``Incremental``) there is no default client: the worker's own would
    take tasks from the thread that waits for them, and a worker whose threads all
    wait hangs. Such a fit runs in the task's own thread (:func:`local_get`)."""
    if client is not None:
        from distributed import Client

        if not isinstance(client, Client):
            raise TypeError(f"client must be a distributed.Client; got {type(client).__name__}")
        if client.status in ("closing", "closed"):
            raise ValueError(f"client is {client.status}: pass a running distributed.Client "
                             "(or none, for the default client or the local scheduler)")
        return client
    if in_task():
        return None
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


def local_get():
    """The scheduler of a fit without a client: Dask's active one (threads by
    default), or, inside a task on a worker, the synchronous one in the task's thread."""
    if in_task():
        return dask.get
    return dask.base.get_scheduler() or dask.threaded.get


def compute(*collections, client=None):
    """Compute Dask collections together with ``client``, the default client, or the
    local scheduler (the engine's choice); returns a tuple of results."""
    client = resolve_client(client)
    if client is not None:
        return tuple(client.compute(list(collections), sync=True))
    return dask.compute(*collections, scheduler=local_get())


def memory_budget(client):
    """Bytes each worker can give to cached chunks without spilling, ``{address:
    bytes}``: ``HEADROOM * spill * memory_limit - memory in use``, where ``spill`` is
    Dask's spill threshold (``distributed.worker.memory.spill``, 0.7 by default). For
    the local scheduler, ``{None: half of the machine's available memory}``."""
    if client is None:
        import psutil

        return {None: 0.5 * psutil.virtual_memory().available}
    spill = dask.config.get("distributed.worker.memory.spill") or 1.0
    workers = client.scheduler_info(n_workers=-1)["workers"]
    return {address: max(0.0, HEADROOM * spill * (w.get("memory_limit") or 0)
                         - w["metrics"]["memory"])
            for address, w in workers.items()}


def _chunk_refs(array, client):
    """One reference per row chunk of ``array``: a future when the array already lives
    on the cluster, else an :class:`Inline` recipe of the chunk's own subgraph."""
    graph = dict(array.__dask_graph__())
    if client is not None and any(_is_future(v) for v in graph.values()):
        array = client.persist(array)
        graph = dict(array.__dask_graph__())
    keys = list(flatten(array.__dask_keys__()))
    return [graph[k] if _is_future(graph[k]) else Inline(cull(graph, [k])[0], k) for k in keys]


INLINE_PARAMS_BYTES = 16 * 2**10
"""Parameters up to this size travel inside each task of a pass (a ``gdd-params`` key,
sent once to each worker, costs one more task and a fetch before the pass starts)."""
CLIENT_TREE_BYTES = 2**20
"""A pass whose group sums together hold at most this many bytes folds the tree above
the groups on the client (see :meth:`Engine.run`)."""
HOLDER_WAIT = 60.0
"""Seconds the in-place plan waits for persisted chunks still being computed."""


def _settle(client, futures, timeout=HOLDER_WAIT):
    """Wait (at most ``timeout``) for ``futures`` to finish, failed or not, so that the
    workers holding them are known: a chunk placed before it exists would be moved to
    a worker chosen without it (measured: 80 MB chunks crossing between the workers,
    a third of a 2,000,000-row SGD fit)."""
    try:
        for _ in distributed.as_completed(futures, loop=client.loop, timeout=timeout):
            pass
    except distributed.TimeoutError:
        pass


PAUSED_TIMEOUT = 120.0
"""Seconds a pass waits while every worker is paused before it gives up with an error."""
WATCH_INTERVAL = 2.0
"""Seconds between looks at the workers' status while a pass waits."""


def _with_homes(graph, homes, strict=False):
    """``graph`` as a HighLevelGraph whose tasks in ``homes`` (``{key: worker}``) are
    loosely restricted to their worker: the one that holds their cached chunks. (Left
    to itself the scheduler may treat a pass's tasks as root tasks and place them
    without regard to where their data lives.) With ``strict``, only there."""
    from dask.highlevelgraph import HighLevelGraph, MaterializedLayer

    homed = MaterializedLayer(
        {key: graph[key] for key in homes},
        annotations={"workers": lambda key: [homes[key]], "allow_other_workers": not strict})
    rest = MaterializedLayer({k: v for k, v in graph.items() if k not in homes})
    return HighLevelGraph({"homed": homed, "rest": rest}, {"homed": set(), "rest": {"homed"}})


LANE_ATTEMPTS = 2
"""Tries of a lanes epoch whose lane was lost (its worker died): the first, and one on
the workers left (a data-parallel epoch gives the same bits again)."""
LANE_GRACE = 2.0
"""Seconds the other lanes of a failed epoch have to report an error of their own."""


class _LaneLost(Exception):
    """A lane of an epoch went away without an error of its own."""


def _is_future(value):
    from distributed import Future

    return isinstance(value, Future)


def group_span(n_chunks, split_every, n_workers, *, streamed=False, chunk_bytes=0,
               tasks_per_worker=2):
    """Chunks per task: a power ``split_every**k``, so that a group of consecutive
    chunks is a whole subtree of the reduction tree and its task folds exactly what the
    tree would.

    Cached data: the largest span that still leaves ``tasks_per_worker`` tasks per
    worker (each task costs the scheduler a millisecond or two). Streamed data: the
    smallest span whose task reads :data:`STREAMED_TASK_BYTES` (reads amortize the
    task's cost, and small tasks balance the workers as they go), within the same
    limit."""
    span = 1
    while -(-n_chunks // (span * split_every)) >= tasks_per_worker * max(1, n_workers):
        if streamed and span * chunk_bytes >= STREAMED_TASK_BYTES:
            break
        span *= split_every
    return span


class Engine:
    """Runs map-reduce passes over the row chunks of ``(X, y, sample_weight)``.

    Chunks are handled in *groups* of :func:`group_span` consecutive chunks, one task per
    group and pass (:func:`~gdd_dask.chunk.run_group`): with a thousand small chunks a
    pass is a few dozen tasks, not a thousand, and each cached group lives on one worker.
    Chunks the caller already persisted are used in place, one task per chunk on the
    worker that holds it, when they are big (regrouping them would first move about
    half of them); smaller ones are regrouped once when the workers have room.
    """

    def __init__(self, data, *, client=None, split_every=8, cache="auto",
                 kept_bytes_per_row=16):
        check_cache(cache)
        tree_levels(1, split_every)  # validates split_every
        self.client = resolve_client(client)
        self._futures = weakref.WeakSet()  # every future made here, for close()
        self.split_every = split_every
        self.row_chunks = data.row_chunks
        self.offsets = row_offsets(data.row_chunks)
        self.data_token = dask.base.tokenize(data.X, data.y, data.sample_weight)
        self.on_task_done = None  # on_task_done(done, total) within each pass (progress)
        self.watch_min_tasks = 8
        room = memory_budget(self.client)  # one look at the workers for all the planning
        self.n_workers = len(room) if self.client else dask.system.CPU_COUNT
        arrays = [data.X, data.y, data.sample_weight]
        refs = [None if a is None else _chunk_refs(a, self.client) for a in arrays]
        row_bytes = data.X.shape[1] * itemsize(data.X.dtype)
        x_bytes, room_bytes = data.n_samples * row_bytes, sum(room.values())
        persisted = all(_is_future(ref) for ref in refs[0])  # by the caller
        # small persisted chunks are regrouped (a task per chunk costs more than moving
        # them once) when the workers have room for the half of them that moves
        in_place = persisted and not (max(self.row_chunks) * row_bytes
                                      < IN_PLACE_MIN_CHUNK_BYTES and room_bytes >= x_bytes / 2)
        streamed = not persisted and (cache == "none" or cache == "auto" and x_bytes > room_bytes)
        span = 1 if in_place else group_span(self.n_chunks, split_every, self.n_workers,
                                             streamed=streamed,
                                             chunk_bytes=max(self.row_chunks) * row_bytes)
        self.groups = [range(g, min(g + span, self.n_chunks))
                       for g in range(0, self.n_chunks, span)]
        chunks = [tuple(None if r is None else r[i] for r in refs) for i in range(self.n_chunks)]
        self._units = [[[chunks[i] for i in group]] for group in self.groups]
        self._homes = {}  # group -> the worker holding its chunks
        if in_place:  # aligned where they are (a copy only for unaligned chunks)
            plan = [(g, 1, worker) for g, worker in enumerate(self._holders())]
        else:
            plan = self._cache_plan(data, "memory" if persisted else cache, kept_bytes_per_row,
                                    room)
        self._cache_groups(plan)
        self.n_cached = sum(m for _, m, _ in plan)

    @property
    def n_chunks(self):
        return len(self.row_chunks)

    def _cache_plan(self, data, cache, kept_bytes_per_row, room):
        """``[(group, leading chunks to cache, worker)]``: group by group, on the worker
        with the fewest cached bytes among those with room for the group's first chunk,
        as many leading chunks as fit in its room. ``"memory"`` caches every chunk;
        ``"auto"`` what fits in :func:`memory_budget` after reserving room for the kept
        margins and for the chunks being streamed, until no worker has room for a
        group's first chunk; ``"none"`` nothing. ``room`` is :func:`memory_budget`."""
        if cache == "none":
            return []
        row_bytes = data.X.shape[1] * itemsize(data.X.dtype) + 16  # y, sample_weight
        if not room:  # no workers (yet): stream, and let the passes wait for them
            return []
        reserved = (kept_bytes_per_row * data.n_samples / len(room)
                    + STREAMING_CHUNKS_PER_WORKER * max(self.row_chunks) * row_bytes)
        room = {w: r - reserved for w, r in room.items()}
        plan, load = [], dict.fromkeys(room, 0.0)
        for g, group in enumerate(self.groups):
            sizes = np.cumsum([self.row_chunks[i] * row_bytes for i in group])
            fit = [w for w in room if room[w] >= sizes[0]] or list(room)
            worker = min(fit, key=load.get)
            m = len(group) if cache == "memory" else int(np.sum(sizes <= room[worker]))
            if m == 0:
                break
            plan.append((g, m, worker))
            room[worker] -= sizes[m - 1]
            load[worker] += sizes[m - 1]
        return plan

    def _holders(self):
        """For each group, the worker that holds most of its rows when its chunks are
        futures, else ``None``."""
        futures = {ref.key: ref for unit in self._units for chunk in unit[0]
                   for ref in chunk[:1] if _is_future(ref)}
        _settle(self.client, list(futures.values()))  # a chunk being computed has no holder
        who_has = self.client.who_has(list(futures.values())) if futures else {}
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
        futures = self._execute(graph, list(graph), keep_all=True, homes=homes)[1]
        for (g, m, worker), future in zip(plan, futures):
            self._units[g] = [future, self._units[g][0][m:]]
            if worker is not None:
                self._homes[g] = worker

    def close(self):
        """Release every future this engine made (persisted chunks, kept outputs, failed
        passes), even those still referenced elsewhere, e.g. by an error's traceback."""
        self._units = None
        for future in list(self._futures):
            future.release()

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
        if self._units is None:
            raise RuntimeError("this engine is closed")
        token = uuid.uuid4().hex
        graph, shared = {}, []
        inline = sum(getattr(v, "nbytes", 0) for v in broadcast) <= INLINE_PARAMS_BYTES
        for j, value in enumerate(broadcast):
            if inline:  # in each task: no task of their own to wait for and fetch
                shared.append(value)
                continue
            key = f"gdd-params-{token}" if j == 0 else f"gdd-params-{token}-{j}"
            graph[key] = value
            shared.append(key)
        name = f"{prefix}-{token}"
        keys = []
        for g, group in enumerate(self.groups):
            offsets = [self.offsets[i] for i in group]
            graph[(name, g)] = (run_group, func, combine, self.split_every, keep, with_X,
                                offsets, list(group), self._units[g],
                                [h[g] for h in per_chunk], *shared)
            keys.append((name, g))
        homes = {keys[g]: worker for g, worker in self._homes.items()}
        watch = keys if len(keys) >= self.watch_min_tasks else ()
        if not keep and self.client is not None and sums_bytes is not None \
                and sums_bytes * len(keys) <= CLIENT_TREE_BYTES:
            return tree_reduce(self._gather(graph, keys, homes, watch), self.split_every,
                               combine)
        first = partial(add_kept_sums, combine=combine) if keep else combine
        final = self._reduce_layer(graph, keys, f"gdd-reduce-{token}", first, combine)
        if not keep:
            return self._execute(graph, [final], homes=homes, watch=watch)[0]
        if keep == "output":  # small sums: keep each group's whole output, no extra task
            return self._execute(graph, [final, *keys], homes=homes, watch=watch)
        kept = [(f"gdd-margins-{token}", g) for g in range(len(keys))]
        for key, group_key in zip(kept, keys):
            graph[key] = (operator.getitem, group_key, 1)  # the group's output itself goes
        return self._execute(graph, [final, *kept], homes=homes, watch=watch)

    def _gather(self, graph, keys, homes, watch):
        """The values of ``keys`` (small), fetched together; their futures let go."""
        futures = self._execute(graph, keys, keep_all=True, homes=homes, watch=watch)[1]
        try:
            return self.client.gather(futures)
        finally:
            for future in futures:
                future.release()

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
        if self._units is None:
            raise RuntimeError("this engine is closed")
        span = len(self.groups[0])  # every group but the last has the same span
        name, graph, homes, lasts = f"{prefix}-{uuid.uuid4().hex}", {}, {}, []
        for c, (previous, plan) in enumerate(zip(carries, plans)):
            runs = []
            for i, arg in plan:
                if not runs or runs[-1][0] != i // span:
                    runs.append((i // span, []))
                runs[-1][1].append((self.offsets[i], i, i - runs[-1][0] * span, arg))
            for k, (g, steps) in enumerate(runs):
                key = (name, c, k)
                graph[key] = (run_chain, func, previous, steps, self._units[g])
                if g in self._homes:
                    homes[key] = self._homes[g]
                previous = key
            lasts.append(previous)
        watch = list(graph) if len(graph) >= self.watch_min_tasks else ()
        if len(lasts) == 1:
            return [self._execute(graph, lasts, homes=homes, watch=watch)[0]]
        graph[(name, "all")] = (_collect, *lasts)
        return list(self._execute(graph, [(name, "all")], homes=homes, watch=watch)[0])

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
        if self._units is None:
            raise RuntimeError("this engine is closed")
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
        lane_of = [0] * self.n_chunks
        for rank, groups in enumerate(lane_groups):
            for g in groups:
                for i in self.groups[g]:
                    lane_of[i] = rank
        token = uuid.uuid4().hex
        name, graph = f"{prefix}-{token}", {}
        for rank, groups in enumerate(lane_groups):
            described = [(g, [self.offsets[i] for i in self.groups[g]], list(self.groups[g]),
                          self._units[g]) for g in groups]
            graph[(name, rank)] = (func, *shared, lane_of, rank, len(order),
                                   f"gdd-lanes-{token}", described)
        keys = list(graph)
        if self.client is None:
            return self._execute(graph, keys[:1])[0]
        futures = self._submit(graph, keys, dict(zip(keys, order)), strict=True)
        hub, others = futures[0], futures[1:]

        def check():  # a lane pinned to a worker that is gone would never run
            live = set(self.client.scheduler_info(n_workers=-1)["workers"])
            if not set(order) <= live:
                raise _LaneLost("a worker of the epoch's lanes left the cluster")

        finished = False
        try:
            self._wait([hub], check=check)
            if hub.status != "error":
                result, finished = hub.result(), True
                return result
            if others:  # a moment for the other lanes to report an error of their own
                from distributed import wait

                try:
                    wait(others, timeout=LANE_GRACE)
                except TimeoutError:
                    pass
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
            head = unit[0] if _is_future(unit[0]) else next(
                (chunk[0] for chunk in unit[0] if _is_future(chunk[0])), None)
            if head is not None:
                firsts[g] = head
        who_has = self.client.who_has(list(firsts.values())) if firsts else {}
        workers, turn = [], 0
        for g in range(len(self.groups)):
            holders = [w for w in who_has.get(getattr(firsts.get(g), "key", None), ())
                       if w in live]
            if not holders:
                holders, turn = [live[turn % len(live)]], turn + 1
            workers.append(holders[0])
        return workers

    def _execute(self, graph, keys, keep_all=False, homes=None, watch=()):
        """Run ``graph``; ``(value of keys[0], handles of keys[1:])`` (with
        ``keep_all``: ``(None, handles of all keys)``), the tasks of ``homes``
        (``{key: worker}``) preferably on their worker.

        With a client the handles are futures (the data stays on the workers);
        otherwise the values themselves. With :attr:`on_task_done` set, the tasks of
        ``watch`` are reported as they finish: ``on_task_done(done, total)``.
        """
        if self.client is not None:
            extra = [k for k in watch if k not in keys] if self.on_task_done else []
            futures = self._submit(graph, [*keys, *extra], homes)
            futures, extra = futures[:len(keys)], futures[len(keys):]
            watched = extra + [f for f in futures if f.key in set(watch)] \
                if self.on_task_done and watch else []
            try:
                self._wait(futures if keep_all else futures[:1], report=watched)
                if keep_all:  # raise any error now, leaving the data where it is
                    for future in futures:
                        if future.status == "error":
                            future.result()
                    return None, futures
                return futures[0].result(), futures[1:]
            except BaseException:  # the error's traceback holds the futures: let go now
                for future in futures:
                    future.release()
                raise
        get = local_get()
        values = get(graph, keys)
        return (None, list(values)) if keep_all else (values[0], list(values[1:]))

    def _wait(self, futures, check=None, report=()):
        """Wait for ``futures`` and ``report`` to finish (or fail), calling
        ``on_task_done(done, total)`` as each of ``report`` does; raise ``RuntimeError``
        when every worker stays paused for :data:`PAUSED_TIMEOUT` seconds meanwhile
        (their memory above Dask's pause threshold: no task would ever run, and a fit
        would wait forever). ``check()``, called every :data:`WATCH_INTERVAL` meanwhile,
        may raise too. Errors are left to the caller, which reads the results.

        The futures say when they finish by callbacks (no round trip to the scheduler
        per future, nor Dask's default client)."""
        pending = {id(f): f for f in [*futures, *report]}
        reported = {id(f) for f in report}
        finished = queue.SimpleQueue()
        for future in pending.values():
            future.add_done_callback(finished.put)  # called in a thread of its own
        paused_since, done = None, 0
        while pending:
            try:
                future = finished.get(timeout=WATCH_INTERVAL)
            except queue.Empty:
                if check is not None:
                    check()
                paused_since = self._paused_since(paused_since)
                continue
            pending.pop(id(future), None)
            if id(future) in reported:
                done += 1
                self.on_task_done(done, len(reported))

    def _paused_since(self, since):
        """When every worker has been paused since (``None``: they are not all paused);
        raise ``RuntimeError`` once that is :data:`PAUSED_TIMEOUT` seconds ago."""
        if not self._all_paused():
            return None
        since = since or time.monotonic()
        if time.monotonic() - since >= PAUSED_TIMEOUT:
            raise RuntimeError(
                f"every worker has been paused for {PAUSED_TIMEOUT:.0f} s: their memory is "
                "above Dask's pause threshold (distributed.worker.memory.pause), so no task "
                "runs. Give the workers more memory (memory_limit), use smaller chunks, or "
                "cache='none'")
        return since

    def _all_paused(self):
        statuses = [w.get("status") for w in self.client.scheduler_info()["workers"].values()]
        return bool(statuses) and all(status == "paused" for status in statuses)

    def _submit(self, graph, keys, homes=None, strict=False):
        """Futures of ``keys`` of ``graph`` on the client, the tasks of ``homes``
        (``{key: worker}``) loosely (``strict``: only) restricted to their worker;
        :meth:`close` releases them."""
        futures = self.client.get(_with_homes(graph, homes, strict) if homes else graph, keys,
                                  sync=False)
        self._futures.update(futures)
        return futures

    def _reduce_layer(self, graph, keys, name, first, combine=add_sums):
        for level, groups in enumerate(tree_levels(len(keys), self.split_every)):
            step = first if level == 0 else combine
            keys = [self._add(graph, (name, level, j), step, [keys[i] for i in group])
                    for j, group in enumerate(groups)]
        return keys[0]

    @staticmethod
    def _add(graph, key, combine, children):
        graph[key] = (combine, children)
        return key


def live_workers(client, timeout=LANE_TIMEOUT):
    """The scheduler's workers, sorted; when it has none (a cluster starting or
    restarting its workers), the first that joins within ``timeout`` seconds, else a
    ``TimeoutError`` saying so."""
    live = sorted(client.scheduler_info(n_workers=-1)["workers"])
    if live:
        return live
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise TimeoutError(f"the cluster has no workers, and none joined within {timeout} s; "
                           "an epoch of lanes needs at least one") from None
    return sorted(client.scheduler_info(n_workers=-1)["workers"])


def _collect(*carries):
    """The task that hands the final carries of :meth:`Engine.chains` to the client."""
    return carries
