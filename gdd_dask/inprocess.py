"""The in-process engine: the same passes as :class:`gdd_dask.engine.Engine`, no Dask.

It walks the row chunks of in-memory arrays in a loop and combines their sums with the
same fixed tree (``gdd_dask.reduction``), so for equal chunking both engines give the
same numbers. Used for small in-memory data and as the reference in tests.
"""

from __future__ import annotations

import dask
import numpy as np

from .data import row_offsets
from .reduction import add_kept_sums, tree_levels, tree_reduce

__all__ = ["InProcessEngine"]


class InProcessEngine:
    """Map-reduce passes over the row chunks of in-memory ``(X, y, sample_weight)``."""

    client = None

    def __init__(self, data, *, split_every=8):
        tree_levels(1, split_every)  # validates split_every
        self.split_every = split_every
        self.row_chunks = data.row_chunks
        self.offsets = row_offsets(data.row_chunks)
        self._data = data

    @property
    def data_token(self):
        """A digest of the data (its bytes: NumPy input is hashed)."""
        return dask.base.tokenize(self._data.X, self._data.y, self._data.sample_weight)

    @property
    def n_chunks(self):
        return len(self.row_chunks)

    @property
    def n_cached(self):
        """Every chunk is in memory."""
        return self.n_chunks

    def close(self):
        self._data = None

    def submit_rows(self, prefix, func, index, rows, *broadcast):
        """``func`` on rows ``rows`` of chunk ``index``, done now: a handle for
        :meth:`completed`, as :meth:`gdd_dask.engine.Engine.submit_rows`."""
        from .engine import _Done

        if self._data is None:
            raise RuntimeError("this engine is closed")
        start = self.offsets[index]
        rows = start + np.asarray(rows)
        data = [None if a is None else a[rows] for a in
                (self._data.X, self._data.y, self._data.sample_weight)]
        return _Done(func(start, index, *data, *broadcast))

    def completed(self):
        """Handles in the order they were added (they are all finished)."""
        from .engine import _Completed

        return _Completed()

    def run(self, prefix, func, *broadcast, with_X=True, per_chunk=(), keep=False):
        """``tree_reduce([func(offset, i, *chunk_i, *per_chunk_i, *broadcast)])``; the
        same contract as :meth:`gdd_dask.engine.Engine.run`."""
        if self._data is None:
            raise RuntimeError("this engine is closed")
        X, y, sw = self._data.X, self._data.y, self._data.sample_weight
        parts = []
        for i, (start, rows) in enumerate(zip(self.offsets, self.row_chunks)):
            rows_i = slice(start, start + rows)
            chunk = (X[rows_i],) if with_X else ()
            chunk += (y[rows_i], None if sw is None else sw[rows_i])
            parts.append(func(start, i, *chunk, *(h[i] for h in per_chunk), *broadcast))
        total = tree_reduce(parts, self.split_every, first=add_kept_sums if keep else None)
        if not keep:
            return total
        return total, parts if keep == "output" else [part[1] for part in parts]
