"""Row blocks: fixed generation blocks, their random streams, and re-cutting a stream.

A synthetic dataset is generated in *generation blocks* of ``block_rows`` consecutive
rows, block ``b`` holding rows ``[b * block_rows, (b + 1) * block_rows)``. Block ``b``
draws from its own stream, ``SeedSequence(seed, spawn_key=(1, b))`` (the coefficients
draw from ``spawn_key=(0,)``), so every row depends only on ``(seed, block_rows, row)``
and never on the store's chunk size, on the order of the work or on the number of
threads. The blocks are then re-cut into the store's chunks as a stream (:func:`rebatch`)
with a bounded number in memory at a time.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["GENERATION_VALUES", "block_bounds", "block_rng", "default_block_rows",
           "ordered_map", "rebatch"]

GENERATION_VALUES = 2**17
"""Values of X per generation block by default (1 MiB of float64)."""


def default_block_rows(n_features):
    """Rows per generation block: ``max(1, GENERATION_VALUES // n_features)``."""
    return max(1, GENERATION_VALUES // n_features)


def block_bounds(n_rows, block_rows):
    """``[(start, stop), ...]`` of consecutive blocks of ``block_rows`` rows (last shorter)."""
    return [(start, min(start + block_rows, n_rows)) for start in range(0, n_rows, block_rows)]


def block_rng(seed, block):
    """The random generator of generation block ``block`` (``-1``: the coefficients).

    ``PCG64(SeedSequence(seed, spawn_key=(1, block)))``, or ``spawn_key=(0,)`` for the
    coefficients: independent streams (O'Neill 2014; NumPy's ``SeedSequence``) that can
    be built for any block directly, without drawing the ones before it.
    """
    key = (0,) if block < 0 else (1, block)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def ordered_map(func, items, *, workers=2, window=None):
    """``map(func, items)`` on a pool of ``workers`` threads, in order, lazily.

    At most ``window`` (default ``workers``) results are pending at a time, so a long
    stream never piles up in memory. NumPy's random fills, BLAS, compression and file writes release
    the GIL, so the threads overlap.
    """
    if workers <= 1:
        yield from map(func, items)
        return
    window = window or workers
    with ThreadPoolExecutor(workers, thread_name_prefix="gdd-datasets") as pool:
        pending = deque()
        try:
            for item in items:
                pending.append(pool.submit(func, item))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def rebatch(blocks, sizes):
    """Re-cut a stream of row blocks into consecutive batches of ``sizes`` rows.

    ``blocks`` yields tuples of arrays that share their first (row) axis, e.g.
    ``(X_b, y_b)``; the result yields one such tuple per size, holding in memory only the
    batch being assembled and the block being cut.
    """
    blocks = iter(blocks)
    head, used = None, 0
    for size in sizes:
        parts, need = [], size
        while need:
            if head is None or used == len(head[0]):
                head, used = next(blocks), 0
            take = min(need, len(head[0]) - used)
            parts.append(tuple(a[used:used + take] for a in head))
            used, need = used + take, need - take
        if len(parts) == 1:
            yield parts[0]
        else:
            yield tuple(np.concatenate(arrays) for arrays in zip(*parts))
