"""The engine's planner: how chunks are grouped into tasks and which are cached where.

Pure functions of sizes and of the workers' room (no cluster needed, so they are tested
on their own): :func:`group_span` and :func:`plan_groups` decide the groups,
:func:`plan_cache` the cached chunks of each group and their worker.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CACHE_POLICIES", "check_cache", "group_span", "plan_cache", "plan_groups"]

CACHE_POLICIES = ("auto", "memory", "none")
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


def plan_groups(row_chunks, row_bytes, *, split_every, n_workers, persisted, cache,
                room_bytes):
    """``(groups, in_place)``: the groups of consecutive chunk indices (ranges), and
    whether the caller's persisted chunks are used where they are (one group each).

    Small persisted chunks are regrouped (a task per chunk costs more than moving them
    once) when the workers have room for the half of them that moves; data that does
    not fit in ``room_bytes`` (or ``cache="none"``) is streamed, in groups of
    :func:`group_span`'s streamed span."""
    n_chunks, x_bytes = len(row_chunks), sum(row_chunks) * row_bytes
    in_place = persisted and not (max(row_chunks) * row_bytes < IN_PLACE_MIN_CHUNK_BYTES
                                  and room_bytes >= x_bytes / 2)
    streamed = not persisted and (cache == "none" or cache == "auto" and x_bytes > room_bytes)
    span = 1 if in_place else group_span(n_chunks, split_every, n_workers, streamed=streamed,
                                         chunk_bytes=max(row_chunks) * row_bytes)
    return [range(g, min(g + span, n_chunks)) for g in range(0, n_chunks, span)], in_place


def plan_cache(groups, row_chunks, row_bytes, *, cache, kept_bytes_per_row, room):
    """``[(group, leading chunks to cache, worker)]``: group by group, on the worker
    with the fewest cached bytes among those with room for the group's first chunk,
    as many leading chunks as fit in its room. ``"memory"`` caches every chunk;
    ``"auto"`` what fits in ``room`` (``{worker: bytes}``,
    :func:`~gdd_dask.engine.executor.memory_budget`) after reserving room for the kept
    margins and for the chunks being streamed, until no worker has room for a group's
    first chunk; ``"none"`` nothing. ``row_bytes`` are X's bytes per row."""
    if cache == "none" or not room:  # no workers (yet): stream, and let the passes wait
        return []
    row_bytes = row_bytes + 16  # y, sample_weight
    reserved = (kept_bytes_per_row * sum(row_chunks) / len(room)
                + STREAMING_CHUNKS_PER_WORKER * max(row_chunks) * row_bytes)
    room = {w: r - reserved for w, r in room.items()}
    plan, load = [], dict.fromkeys(room, 0.0)
    for g, group in enumerate(groups):
        sizes = np.cumsum([row_chunks[i] * row_bytes for i in group])
        fit = [w for w in room if room[w] >= sizes[0]] or list(room)
        worker = min(fit, key=load.get)
        m = len(group) if cache == "memory" else int(np.sum(sizes <= room[worker]))
        if m == 0:
            break
        plan.append((g, m, worker))
        room[worker] -= sizes[m - 1]
        load[worker] += sizes[m - 1]
    return plan
