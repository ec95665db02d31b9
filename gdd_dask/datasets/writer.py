"""``write_zarr``: store existing arrays (NumPy, SciPy sparse, Dask, or a stream of row
blocks) as a dataset, chunk by chunk."""

from __future__ import annotations

import numpy as np

from ..data import is_dask
from .blocks import block_bounds
from .codecs import DEFAULT_CODEC
from .sparse import is_sparse_input, write_sparse
from .store import (
    check_chunk_rows,
    create_store,
    default_chunk_rows,
    removed_on_error,
    write_chunks,
)

__all__ = ["write_zarr"]


def _as_array(a, name):
    """Dask arrays stay lazy; anything else becomes NumPy. Numbers only."""
    if not is_dask(a):
        a = np.asarray(a)
    if np.dtype(a.dtype).kind not in "biuf":
        raise TypeError(f"{name} must hold numbers; got dtype {a.dtype}")
    return a


def _check(X, y):
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one value per row of X); got shape {y.shape}")
    if any(np.isnan(n) for n in (*X.shape, *y.shape)):
        raise ValueError("X and y must have known shapes; call compute_chunk_sizes() first")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must have at least one row and one column; got shape {X.shape}")


def write_zarr(path, X, y=None, *, chunk_rows=None, codec=DEFAULT_CODEC, attributes=None,
               overwrite=False):
    """Write ``X`` (2-D) and ``y`` (1-D) to a new Zarr v3 store, one row chunk at a time.

    NumPy input is written slice by slice from memory. Dask input is rechunked to
    ``chunk_rows`` rows and stored by ``dask.array.store`` on the active scheduler (the
    default client, if any): each task computes and writes whole chunks, so the arrays
    are never gathered. Dtypes are kept.

    A sparse X -- a SciPy sparse matrix, a Dask array of SciPy sparse chunks, or an
    iterable of ``(X_block, y_block)`` row blocks (with ``y=None``) whose X blocks are
    sparse -- is stored in the CSR layout of :mod:`gdd_dask.csr_store`, in order, holding
    one row chunk at a time; ``chunk_rows`` then defaults to about 4 million stored values
    per chunk (from the first block's density for a stream).

    Parameters
    ----------
    path : str or path
        The store to create; an existing one is replaced only with ``overwrite=True``.
    X, y : array-like or dask arrays
    chunk_rows : int, optional
        Rows per chunk (default: about 16 MiB of X per chunk).
    codec : str
        A name from :data:`gdd_dask.datasets.CODECS`.
    attributes : dict, optional
        JSON attributes stored with the data (under ``attrs["gdd_dask"]``).
    overwrite : bool
    """
    if is_sparse_input(X, y):
        return write_sparse(path, X, y, chunk_rows=chunk_rows, codec=codec,
                            attributes=attributes, overwrite=overwrite)
    if y is None:
        raise TypeError("y is required (None is taken only with a stream of (X, y) blocks)")
    X, y = _as_array(X, "X"), _as_array(y, "y")
    _check(X, y)
    n_samples, n_features = (int(n) for n in X.shape)
    if chunk_rows is None:
        chunk_rows = default_chunk_rows(n_features, np.dtype(X.dtype).itemsize)
    chunk_rows = check_chunk_rows(chunk_rows)
    meta = {"writer": "write_zarr", **(attributes or {})}
    zX, zy = create_store(path, n_samples=n_samples, n_features=n_features,
                          chunk_rows=chunk_rows, dtype_X=X.dtype, dtype_y=y.dtype,
                          codec=codec, attributes=meta, overwrite=overwrite)
    with removed_on_error(path):
        if is_dask(X) or is_dask(y):
            _store_dask(X, y, zX, zy, chunk_rows)
        else:
            bounds = block_bounds(n_samples, chunk_rows)
            write_chunks(zX, zy, ((X[a:b], y[a:b]) for a, b in bounds))


def _store_dask(X, y, zX, zy, chunk_rows):
    """Rechunk to the store's chunks and let each task write its own chunk."""
    import dask.array as da

    X = da.asarray(X).rechunk((chunk_rows, -1))
    y = da.asarray(y).rechunk((chunk_rows,))
    da.store([X, y], [zX, zy], lock=False)
