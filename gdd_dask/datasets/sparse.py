"""Sparse datasets: write a sparse X (and its y) to a store in the CSR layout, in order.

The layout is :mod:`gdd_dask.csr_store`'s. Whatever the source -- a SciPy sparse
matrix, a Dask array of SciPy sparse chunks, or a stream of ``(X_block, y_block)`` row
blocks -- it is cut into row chunks of ``chunk_rows`` rows and appended one chunk at a
time, so memory holds a chunk or two, never the matrix (a Dask array is computed a
chunk at a time, two ahead, on the active scheduler).
"""

from __future__ import annotations

from itertools import chain, islice

import numpy as np

from ..csr_store import CsrWriter, csr_chunk_rows
from ..data import is_dask, known_chunks
from ..losses.base import is_scipy_sparse
from .blocks import block_bounds, ordered_map
from .codecs import DEFAULT_CODEC, compressors
from .store import ATTRIBUTE_KEY, check_chunk_rows, prepare_path, removed_on_error

__all__ = ["is_sparse_input", "write_sparse"]


def _is_stream(X, y):
    """A stream of row blocks: an iterable that is not an array, with no separate y."""
    return y is None and hasattr(X, "__iter__") and not hasattr(X, "shape")


def is_sparse_input(X, y):
    """True for a SciPy sparse X, a Dask array of SciPy sparse chunks, or a stream of
    blocks (whose first block says whether it is sparse: a dense stream is refused)."""
    return is_scipy_sparse(X._meta if is_dask(X) else X) or _is_stream(X, y)


def _sources(X, y):
    """``(first rows per chunk, stream of (X_block, y_block))`` of any sparse source."""
    if _is_stream(X, y):
        return None, iter(X)
    if y is None:
        raise TypeError("y is required (None is taken only with a stream of (X, y) blocks)")
    if is_dask(X):
        return None if np.isnan(X.chunks[0][0]) else X.chunks[0][0], _dask_blocks(X, y)
    X = X.tocsr()
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must be 1-D with one value per row of X ({X.shape[0]}); got "
                         f"shape {y.shape}")
    return None, ((X[a:b], y[a:b]) for a, b in block_bounds(X.shape[0], 2**16))


def _dask_blocks(X, y):
    """The row blocks of a Dask X and its y (row-aligned first), computed in order, two
    ahead, on the active scheduler."""
    import dask.array as da

    from ..runtime import compute

    if not (is_dask(y) and y.numblocks[0] == X.numblocks[0]):  # else partition-aligned
        X, y = known_chunks(X, y)
        y = y.rechunk({0: X.chunks[0]}) if is_dask(y) else \
            da.from_array(np.asarray(y), chunks=(X.chunks[0],))
    return ordered_map(lambda i: compute(X.blocks[i], y.blocks[i]), range(X.numblocks[0]),
                       workers=2)


def _checked(blocks):
    """Each block checked: sparse X of the first block's columns, 1-D y of its rows (a
    ``ValueError`` or ``TypeError`` naming the block)."""
    n_features = None
    for i, block in enumerate(blocks):
        if not (isinstance(block, (tuple, list)) and len(block) == 2):
            raise TypeError(f"block {i} of the stream is not an (X_block, y_block) pair")
        X_b, y_b = block
        if not is_scipy_sparse(X_b):
            raise TypeError(f"block {i}: X must be SciPy sparse; got {type(X_b).__name__} "
                            "(write dense data as arrays)")
        n_features = X_b.shape[1] if n_features is None else n_features
        if X_b.shape[1] != n_features:
            raise ValueError(f"block {i}: X has {X_b.shape[1]} columns; the first block had "
                             f"{n_features}")
        y_b = np.asarray(y_b)
        if y_b.ndim != 1 or y_b.shape[0] != X_b.shape[0]:
            raise ValueError(f"block {i}: y must be 1-D with one value per row of X "
                             f"({X_b.shape[0]}); got shape {y_b.shape}")
        if np.dtype(X_b.dtype).kind not in "biuf" or y_b.dtype.kind not in "biuf":
            raise TypeError(f"block {i}: X and y must hold numbers; got {X_b.dtype}, "
                            f"{y_b.dtype}")
        yield X_b, y_b


def _rechunked(blocks, rows):
    """The stream cut into chunks of ``rows`` rows (the last shorter)."""
    from scipy import sparse

    parts, have = [], 0
    for X_b, y_b in blocks:
        parts.append((X_b.tocsr(), y_b))
        have += X_b.shape[0]
        while have >= rows:
            X_c = sparse.vstack([p[0] for p in parts], format="csr")
            y_c = np.concatenate([p[1] for p in parts])
            yield X_c[:rows], y_c[:rows]
            parts, have = [(X_c[rows:], y_c[rows:])], have - rows
    if have:
        yield (sparse.vstack([p[0] for p in parts], format="csr"),
               np.concatenate([p[1] for p in parts]))


def write_sparse(path, X, y, *, chunk_rows=None, codec=DEFAULT_CODEC, attributes=None,
                 overwrite=False):
    """Write a sparse source (see :func:`~gdd_dask.datasets.write_zarr`) to a new store;
    return its attributes."""
    import zarr

    default_rows, blocks = _sources(X, y)
    blocks = _checked(blocks)
    first = list(islice(blocks, 1))
    if not first:
        raise ValueError("the stream of blocks is empty: X must have at least one row")
    X_0, y_0 = first[0]
    if chunk_rows is None:
        chunk_rows = default_rows or csr_chunk_rows(X_0.shape[0] * 1000, X_0.nnz * 1000)
    chunk_rows = check_chunk_rows(chunk_rows)
    path = prepare_path(path, overwrite)
    codecs = compressors(codec)
    dtype = X_0.dtype if np.dtype(X_0.dtype).kind == "f" else np.float64
    meta = {"writer": "write_zarr", "format": "csr", "codec": codec,
            "chunk_rows": chunk_rows, **(attributes or {})}
    group = zarr.open_group(path, mode="w", zarr_format=3, attributes={ATTRIBUTE_KEY: meta})
    with removed_on_error(path):
        writer = CsrWriter(group, n_features=X_0.shape[1], dtype=dtype, compressors=codecs)
        zy = group.create_array("y", shape=(0,), chunks=(chunk_rows,), dtype=y_0.dtype,
                                compressors=codecs, dimension_names=("row",))
        for X_c, y_c in _rechunked(chain(first, blocks), chunk_rows):
            start = writer.n_rows
            writer.append(X_c)
            zy.resize((start + len(y_c),))
            zy[start:] = y_c
        n_samples, nnz = writer.close()
        if n_samples == 0 or X_0.shape[1] == 0:
            raise ValueError(f"X must have at least one row and one column; got shape "
                             f"({n_samples}, {X_0.shape[1]})")
        meta = {**meta, "n_samples": n_samples, "n_features": int(X_0.shape[1]), "nnz": nnz}
        group.attrs[ATTRIBUTE_KEY] = meta
    return meta
