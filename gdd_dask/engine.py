"""The Dask engine: one task per row chunk, a fixed tree of reduce tasks, one compute.

This is the only module that imports ``dask.distributed``. A pass is one small,
self-contained graph::

    gdd-params-<t>                       the parameters, sent once to each worker
    (<prefix>-<t>, i)  for each chunk i  chunk sums (``gdd_dask.chunk``)
    (gdd-reduce-<t>, level, j)           groups of ``split_every`` chunk indices

Each chunk task gets its data as a *reference*: a future of a chunk persisted on the
workers, or -- when streamed -- a :class:`~gdd_dask.chunk.Inline` recipe that reads the
chunk from its source (Zarr) inside the task, so a streamed chunk never outlives the
task that uses it. ``cache`` chooses per chunk: ``"memory"`` persists all, ``"none"``
streams all, ``"auto"`` persists the leading chunks that fit in the workers' memory
budget and streams the rest. Passes may *keep* their per-chunk outputs (the margins
``X @ w`` of linear losses) on the workers for later passes that need no X.

Graphs run on the caller's client, the default client, or -- with neither -- Dask's
active local scheduler. The tree is fixed by chunk index (``gdd_dask.reduction``), so
results are bit-identical whatever the number of workers or the caching policy.
"""

from __future__ import annotations

import operator
import uuid

import dask
import numpy as np
from dask.core import flatten
from dask.optimization import cull

from .chunk import Inline, load_chunk
from .data import row_offsets
from .reduction import add_kept_sums, add_sums, tree_levels

__all__ = ["Engine", "check_cache", "compute", "resolve_client", "CACHE_POLICIES"]

CACHE_POLICIES = ("auto", "memory", "none")
HEADROOM = 0.85
"""Share of the room below Dask's spill threshold that cached chunks may take."""
STREAMING_CHUNKS_PER_WORKER = 3
"""Streamed chunks a worker may hold at once (in flight plus temporaries), reserved."""


def check_cache(cache):
    """Raise ``ValueError`` unless ``cache`` is one of :data:`CACHE_POLICIES`."""
    if cache not in CACHE_POLICIES:
        raise ValueError(f"cache must be one of {CACHE_POLICIES}; got {cache!r}")


def resolve_client(client=None):
    """The caller's client, else the default client, else ``None`` (local scheduler)."""
    if client is not None:
        from distributed import Client

        if not isinstance(client, Client):
            raise TypeError(f"client must be a distributed.Client; got {type(client).__name__}")
        return client
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


def compute(*collections, client=None):
    """Compute Dask collections together with ``client``, the default client, or the
    local scheduler (the engine's choice); returns a tuple of results."""
    client = resolve_client(client)
    if client is not None:
        return tuple(client.compute(list(collections), sync=True))
    return dask.compute(*collections)


def memory_budget(client):
    """Bytes the workers can give to cached chunks without spilling: per worker,
    ``HEADROOM * spill * memory_limit - memory in use``, where ``spill`` is Dask's
    spill threshold (``distributed.worker.memory.spill``, 0.7 by default). For the
    local scheduler, half of the machine's available memory."""
    if client is None:
        import psutil

        return 0.5 * psutil.virtual_memory().available
    spill = dask.config.get("distributed.worker.memory.spill") or 1.0
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    return sum(
        max(0.0, HEADROOM * spill * (w.get("memory_limit") or 0) - w["metrics"]["memory"])
        for w in workers
    )


def _chunk_refs(array, client):
    """One reference per row chunk of ``array``: a future when the array already lives
    on the cluster, else an :class:`Inline` recipe of the chunk's own subgraph."""
    graph = dict(array.__dask_graph__())
    if client is not None and any(_is_future(v) for v in graph.values()):
        array = client.persist(array)
        graph = dict(array.__dask_graph__())
    keys = list(flatten(array.__dask_keys__()))
    return [graph[k] if _is_future(graph[k]) else Inline(cull(graph, [k])[0], k) for k in keys]


def _is_future(value):
    from distributed import Future

    return isinstance(value, Future)


class Engine:
    """Runs map-reduce passes over the row chunks of ``(X, y, sample_weight)``."""

    def __init__(self, data, *, client=None, split_every=8, cache="auto",
                 kept_bytes_per_row=16):
        check_cache(cache)
        tree_levels(1, split_every)  # validates split_every
        self.client = resolve_client(client)
        self.split_every = split_every
        self.row_chunks = data.row_chunks
        self.offsets = row_offsets(data.row_chunks)
        arrays = [data.X, data.y, data.sample_weight]
        refs = [None if a is None else _chunk_refs(a, self.client) for a in arrays]
        self._chunks = [tuple(None if r is None else r[i] for r in refs)
                        for i in range(self.n_chunks)]
        self.n_cached = self._n_cached(data, cache, kept_bytes_per_row)
        self._cache_chunks(self.n_cached)

    @property
    def n_chunks(self):
        return len(self.row_chunks)

    def _n_cached(self, data, cache, kept_bytes_per_row):
        """How many leading chunks to keep in memory under ``cache``: for ``"auto"``,
        those that fit in :func:`memory_budget` after reserving room for the kept
        margins and for the chunks being streamed."""
        if cache != "auto":
            return self.n_chunks if cache == "memory" else 0
        n_workers = len(self.client.scheduler_info(n_workers=-1)["workers"]) if self.client else 1
        row_bytes = data.X.shape[1] * data.X.dtype.itemsize + 16  # y, sample_weight
        budget = memory_budget(self.client) - kept_bytes_per_row * data.n_samples - (
            n_workers * STREAMING_CHUNKS_PER_WORKER * max(self.row_chunks) * row_bytes)
        fits = np.cumsum(np.asarray(self.row_chunks) * row_bytes) <= budget
        return int(np.argmin(fits)) if not fits.all() else self.n_chunks

    def _cache_chunks(self, n):
        """Persist (and align) the first ``n`` chunks on the workers."""
        if n == 0:
            return
        token = uuid.uuid4().hex
        graph = {}
        for i in range(n):
            for j, ref in enumerate(self._chunks[i]):
                if ref is not None:
                    graph[(f"gdd-data-{token}", i, j)] = (load_chunk, ref)
        keys = list(graph)
        values = iter(self._execute(graph, keys, keep_all=True)[1])
        for i in range(n):
            self._chunks[i] = tuple(None if ref is None else next(values)
                                    for ref in self._chunks[i])

    def close(self):
        """Release the persisted chunks (their futures) held for this engine."""
        self._chunks = None

    def run(self, prefix, func, *broadcast, with_X=True, per_chunk=(), keep=False):
        """``tree_reduce([func(offset, i, *chunk_i, *per_chunk_i, *broadcast)])``.

        ``chunk_i`` is ``(X_i, y_i, sample_weight_i)`` (without ``X_i`` unless
        ``with_X``); ``per_chunk`` are lists with one entry per chunk (outputs kept by
        earlier passes); each ``broadcast`` value becomes one graph key shared by all
        tasks. With ``keep``, ``func`` returns ``(sums, kept)`` and the result is
        ``(reduced sums, [handle of each chunk])``: with ``keep="output"`` the chunk's
        whole output stays on its worker (when the sums are small); otherwise only
        ``kept`` does, picked out by one small ``gdd-margins`` task per chunk.
        """
        if self._chunks is None:
            raise RuntimeError("this engine is closed")
        token = uuid.uuid4().hex
        graph, shared = {}, []
        for j, value in enumerate(broadcast):
            key = f"gdd-params-{token}" if j == 0 else f"gdd-params-{token}-{j}"
            graph[key] = value
            shared.append(key)
        name = f"{prefix}-{token}"
        keys = []
        for i, offset in enumerate(self.offsets):
            data = self._chunks[i] if with_X else self._chunks[i][1:]
            extra = [handle[i] for handle in per_chunk]
            graph[(name, i)] = (Inline.call, func, offset, i, *data, *extra, *shared)
            keys.append((name, i))
        final = self._reduce_layer(graph, keys, f"gdd-reduce-{token}",
                                   add_kept_sums if keep else add_sums)
        if not keep:
            return self._execute(graph, [final])[0]
        if keep == "output":  # small sums: keep each chunk's whole output, no extra task
            return self._execute(graph, [final, *keys])
        kept = [(f"gdd-margins-{token}", i) for i in range(self.n_chunks)]
        for key, chunk_key in zip(kept, keys):
            graph[key] = (operator.getitem, chunk_key, 1)  # the chunk's output itself goes
        return self._execute(graph, [final, *kept])

    def _execute(self, graph, keys, keep_all=False):
        """Run ``graph``; ``(value of keys[0], handles of keys[1:])``.

        With a client the handles are futures (the data stays on the workers);
        otherwise the values themselves.
        """
        if self.client is not None:
            futures = self.client.get(graph, keys, sync=False)
            if keep_all:
                self.client.gather(futures)  # raise any error now
                return None, futures
            return futures[0].result(), futures[1:]
        get = dask.base.get_scheduler() or dask.threaded.get
        values = get(graph, keys)
        return (None, list(values)) if keep_all else (values[0], list(values[1:]))

    def _reduce_layer(self, graph, keys, name, first):
        for level, groups in enumerate(tree_levels(len(keys), self.split_every)):
            combine = first if level == 0 else add_sums
            keys = [self._add(graph, (name, level, j), combine, [keys[i] for i in group])
                    for j, group in enumerate(groups)]
        return keys[0]

    @staticmethod
    def _add(graph, key, combine, children):
        graph[key] = (combine, children)
        return key
