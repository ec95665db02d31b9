"""The Dask engine: one task per row chunk, a fixed tree of reduce tasks, one compute.

This is the only module that imports ``dask.distributed``. A pass is one small graph::

    gdd-params-<t>                       the parameters, sent once to each worker
    (gdd-grad-<t>, i)   for each chunk i   chunk sums (``gdd.chunk.chunk_sums``)
    (gdd-reduce-<t>, level, j)           groups of ``split_every`` chunk indices

computed with the caller's client, the default client, or -- with neither -- Dask's
active local scheduler. The tree is fixed by chunk index (``gdd_dask.reduction``), so
results are bit-identical whatever the number of workers.
"""

from __future__ import annotations

import uuid

import dask
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph

from .chunk import aligned
from .data import row_offsets
from .reduction import add_sums, tree_levels

__all__ = ["Engine", "check_cache", "compute", "resolve_client", "CACHE_POLICIES"]

CACHE_POLICIES = ("auto", "memory", "none")
MEMORY_FRACTION = 0.5


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


def _memory_budget(client):
    """Bytes of X the workers may keep: a fraction of their summed memory limits."""
    if client is None:
        import psutil

        return MEMORY_FRACTION * psutil.virtual_memory().total
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    return MEMORY_FRACTION * sum(w.get("memory_limit") or 0 for w in workers)


class Engine:
    """Runs map-reduce passes over the row chunks of ``(X, y, sample_weight)``.

    ``cache`` decides whether the chunks are persisted on the workers (``"memory"``),
    read from their source by every pass (``"none"``), or persisted when X fits in
    half of the workers' memory (``"auto"``).
    """

    def __init__(self, data, *, client=None, split_every=8, cache="auto"):
        check_cache(cache)
        tree_levels(1, split_every)  # validates split_every
        self.client = resolve_client(client)
        self.split_every = split_every
        self.row_chunks = data.row_chunks
        self.offsets = row_offsets(data.row_chunks)
        self._weighted = data.sample_weight is not None
        arrays = [data.X, data.y] + ([data.sample_weight] if self._weighted else [])
        self.persisted = cache == "memory" or (
            cache == "auto" and data.X.nbytes <= _memory_budget(self.client)
        )
        if self.persisted:
            arrays = [a.map_blocks(aligned, dtype=a.dtype, name=f"gdd-data-{a.name}")
                      for a in arrays]
            arrays = list(self.client.persist(arrays) if self.client else dask.persist(*arrays))
        self._arrays = arrays

    @property
    def n_chunks(self):
        return len(self.row_chunks)

    def close(self):
        """Release the persisted chunks (their futures) held for this engine."""
        self._arrays = None

    def compute(self, collection):
        """Compute any Dask collection with this engine's scheduler."""
        if self.client is not None:
            return self.client.compute(collection, sync=True)
        return dask.compute(collection)[0]

    def run(self, prefix, func, *broadcast, with_X=True):
        """Compute ``tree_reduce([func(offset, i, *chunk_i, *broadcast) for i])``.

        ``chunk_i`` is ``(X_i, y_i, sample_weight_i)`` (or ``(y_i, sample_weight_i)``
        without X); each ``broadcast`` value becomes one graph key shared by all tasks.
        """
        if self._arrays is None:
            raise RuntimeError("this engine is closed")
        token = uuid.uuid4().hex
        arrays = self._arrays if with_X else self._arrays[1:]
        layer, shared = {}, []
        for j, value in enumerate(broadcast):
            key = f"gdd-params-{token}" if j == 0 else f"gdd-params-{token}-{j}"
            layer[key] = value
            shared.append(key)
        name = f"{prefix}-{token}"
        keys = []
        for i, offset in enumerate(self.offsets):
            chunk = [(a.name, i, 0) if a.ndim == 2 else (a.name, i) for a in arrays]
            if not self._weighted:
                chunk.append(None)
            layer[(name, i)] = (func, offset, i, *chunk, *shared)
            keys.append((name, i))
        final = self._reduce_layer(layer, keys, f"gdd-reduce-{token}")
        graph = HighLevelGraph.from_collections(name, layer, dependencies=arrays)
        return self.compute(Delayed(final, graph, layer=name))

    def _reduce_layer(self, layer, keys, name):
        for level, groups in enumerate(tree_levels(len(keys), self.split_every)):
            keys_next = []
            for j, group in enumerate(groups):
                key = (name, level, j)
                layer[key] = (add_sums, [keys[i] for i in group])
                keys_next.append(key)
            keys = keys_next
        return keys[0]
