"""The in-process engine: the same passes as :class:`gdd_dask.engine.Engine`, no Dask.

It walks the row chunks of in-memory arrays in a loop and combines their sums with the
same fixed tree (``gdd_dask.reduction``), so for equal chunking both engines give the
same numbers. Used for small in-memory data and as the reference in tests.
"""

from __future__ import annotations

from functools import partial

import dask

from .chunk import row_slice
from .data import row_offsets
from .reduction import add_kept_sums, add_sums, tree_levels, tree_reduce

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

    def _chunk(self, i, with_X=True):
        """``(X_i, y_i, sample_weight_i)`` of chunk ``i`` (without X unless
        ``with_X``)."""
        rows = slice(self.offsets[i], self.offsets[i] + self.row_chunks[i])
        X, y, sw = self._data.X, self._data.y, self._data.sample_weight
        return ((row_slice(X, rows),) if with_X else ()) + (y[rows],
                                                             None if sw is None else sw[rows])

    def chain(self, prefix, func, carry, plan):
        """``carry = func(offset_i, i, *chunk_i, carry, arg_i)`` along ``plan``; the same
        contract as :meth:`gdd_dask.engine.Engine.chain`."""
        return self.chains(prefix, func, [carry], [plan])[0]

    def chains(self, prefix, func, carries, plans):
        """:meth:`chain` along each plan in turn; as :meth:`gdd_dask.engine.Engine.chains`."""
        if self._data is None:
            raise RuntimeError("this engine is closed")
        finals = []
        for carry, plan in zip(carries, plans):
            for i, arg in plan:
                carry = func(self.offsets[i], i, *self._chunk(i), carry, arg)
            finals.append(carry)
        return finals

    def lanes(self, prefix, func, *shared, cached=False):
        """One lane holding every chunk: the same contract as
        :meth:`gdd_dask.engine.Engine.lanes`."""
        if self._data is None:
            raise RuntimeError("this engine is closed")
        indices = list(range(self.n_chunks))
        group = (0, list(self.offsets), indices, [[self._chunk(i) for i in indices]])
        return func(*shared, [0] * self.n_chunks, 0, 1, None, [group])

    def run(self, prefix, func, *broadcast, with_X=True, per_chunk=(), keep=False,
            sums_bytes=None, combine=add_sums):
        """``tree_reduce([func(offset, i, *chunk_i, *per_chunk_i, *broadcast)])``; the
        same contract as :meth:`gdd_dask.engine.Engine.run`."""
        if self._data is None:
            raise RuntimeError("this engine is closed")
        parts = [func(start, i, *self._chunk(i, with_X), *(h[i] for h in per_chunk), *broadcast)
                 for i, start in enumerate(self.offsets)]
        first = partial(add_kept_sums, combine=combine) if keep else None
        total = tree_reduce(parts, self.split_every, combine, first=first)
        if not keep:
            return total
        return total, parts if keep == "output" else [part[1] for part in parts]
