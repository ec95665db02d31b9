"""Sparse X on disk: the CSR layout of a Zarr store, written in order, read by row chunk.

A sparse ``X`` is a Zarr group in AnnData's ``csr_matrix`` encoding (attributes
``encoding-type``, ``encoding-version`` and ``shape``), so ``anndata`` and any Zarr v3
reader open it as one CSR matrix:

- ``data``    ``(nnz,)`` float values, row after row;
- ``indices`` ``(nnz,)`` int32 column of each value;
- ``indptr``  ``(n_samples + 1,)`` int64: row ``i``'s values are
  ``data[indptr[i]:indptr[i + 1]]``.

Row chunk ``[a, b)`` (a task of a pass) reads ``indptr[a:b + 1]`` and the one run of
values between its ends: three contiguous reads, no index of chunks to keep. The value
arrays are stored in Zarr chunks of :data:`VALUE_CHUNK` values (2 MiB of float64), small
against a row chunk's values, so the partly used Zarr chunks at the two ends of a run
add a few percent to a read. The writer appends whole Zarr chunks only (the last one at
the end), so nothing is read back while writing.

This module is what the workers' read tasks import: Zarr and SciPy only, on first use.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["ENCODING", "VALUE_CHUNK", "CsrWriter", "csr_chunk_rows", "is_csr_group",
           "lazy_csr", "read_rows"]

ENCODING = {"encoding-type": "csr_matrix", "encoding-version": "0.1.0"}
VALUE_CHUNK = 2**18
"""Values per Zarr chunk of ``data`` and ``indices``."""
CHUNK_VALUES = 2**22
"""Stored values per row chunk when the store does not say (48 MiB with their columns)."""


def is_csr_group(node):
    """True for a Zarr group holding a CSR matrix in this layout."""
    import zarr

    return isinstance(node, zarr.Group) and node.attrs.get("encoding-type") == "csr_matrix"


class CsrWriter:
    """Appends CSR row blocks to a new ``X`` group of ``parent`` (see the module note).

    ``append(block)`` takes SciPy sparse blocks of ``n_features`` columns (their rows
    checked by the caller, :func:`gdd_dask.datasets.write_zarr`); ``close()`` writes
    what is buffered and the final shape. Only whole Zarr chunks are written before
    ``close``.
    """

    def __init__(self, parent, *, n_features, dtype, compressors, name="X"):
        self.group = parent.create_group(name, attributes={**ENCODING, "shape": [0, n_features]})
        self.n_features, self.dtype = int(n_features), np.dtype(dtype)

        def array(name, dtype):
            return _Appended(self.group.create_array(
                name, shape=(0,), chunks=(VALUE_CHUNK,), dtype=dtype, compressors=compressors))

        self.data, self.indices = array("data", self.dtype), array("indices", np.int32)
        self.indptr = array("indptr", np.int64)
        self.indptr.add(np.zeros(1, np.int64))
        self.nnz = self.n_rows = 0

    def append(self, block):
        """Add the rows of one sparse block (canonical CSR: sorted, no duplicates)."""
        block = block.tocsr()
        block.sum_duplicates()
        block.sort_indices()
        self.data.add(np.asarray(block.data, dtype=self.dtype))
        self.indices.add(block.indices.astype(np.int32, copy=False))
        self.indptr.add(self.nnz + block.indptr[1:].astype(np.int64))
        self.nnz += block.nnz
        self.n_rows += block.shape[0]
        if self.data.buffered >= VALUE_CHUNK:
            for part in (self.data, self.indices, self.indptr):
                part.flush(final=False)

    def close(self):
        """Write the rest and the shape; return ``(n_rows, nnz)``."""
        for part in (self.data, self.indices, self.indptr):
            part.flush(final=True)
        self.group.attrs["shape"] = [self.n_rows, self.n_features]
        return self.n_rows, self.nnz


class _Appended:
    """A 1-D Zarr array grown at its end, in whole Zarr chunks until the last write."""

    def __init__(self, array):
        self.array, self.parts, self.buffered = array, [], 0

    def add(self, values):
        self.parts.append(values)
        self.buffered += len(values)

    def flush(self, *, final):
        """Write the buffered values (only the whole chunks' worth unless ``final``)."""
        values = np.concatenate(self.parts) if self.parts else np.zeros(0, self.array.dtype)
        whole = len(values) if final else len(values) // VALUE_CHUNK * VALUE_CHUNK
        if whole:
            start = self.array.shape[0]
            self.array.resize((start + whole,))
            self.array[start:] = values[:whole]
        self.parts, self.buffered = [values[whole:]], len(values) - whole


def _open_x(path, name):
    import zarr

    return zarr.open_group(os.fspath(path), mode="r")[name]


def read_rows(path, name, start, stop, n_features):
    """Rows ``[start, stop)`` of the CSR matrix ``name`` of the store at ``path``, as a
    SciPy ``csr_matrix`` (the task of one row chunk)."""
    from scipy import sparse

    group = _open_x(path, name)
    pointers = group["indptr"][start:stop + 1]
    low, high = int(pointers[0]), int(pointers[-1])
    data, indices = group["data"][low:high], group["indices"][low:high]
    return sparse.csr_matrix((data, indices, pointers - low), shape=(stop - start, n_features))


def csr_chunk_rows(n_samples, nnz):
    """Rows per row chunk holding about :data:`CHUNK_VALUES` stored values."""
    return max(1, min(n_samples, int(CHUNK_VALUES * n_samples // max(1, nnz))))


def lazy_csr(path, group, *, chunk_rows, name="X"):
    """The CSR matrix of ``group`` (at ``path``) as a lazy Dask array of SciPy CSR row
    chunks of ``chunk_rows`` rows, one read task each."""
    import dask
    import dask.array as da
    from scipy import sparse

    n_samples, n_features = (int(n) for n in group.attrs["shape"])
    dtype = group["data"].dtype
    token = dask.base.tokenize(os.fspath(path), name, n_samples, n_features, chunk_rows,
                               group["data"].shape, os.stat(path).st_mtime_ns)
    key = f"gdd-read-csr-{token}"
    starts = range(0, n_samples, chunk_rows)
    graph = {(key, i, 0): (read_rows, os.fspath(path), name, a, min(a + chunk_rows, n_samples),
                           n_features)
             for i, a in enumerate(starts)}
    rows = tuple(min(chunk_rows, n_samples - a) for a in starts)
    meta = sparse.csr_matrix((0, 0), dtype=dtype)
    return da.Array(graph, key, chunks=(rows, (n_features,)), meta=meta)
