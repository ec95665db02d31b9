"""Zarr v3 stores of ``(X, y)``: create one, fill it chunk by chunk, open it lazily.

A store is a Zarr group holding a 2-D array ``X`` of shape ``(n_samples, n_features)``
chunked along rows only, ``(chunk_rows, n_features)``, and a 1-D array ``y`` of shape
``(n_samples,)`` chunked ``(chunk_rows,)``, so that row chunk ``i`` of both is one file
each and one task of a pass. What made the store (generator, parameters, true
coefficients) is in the group's attributes, under ``"gdd_dask"``.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..csr_store import csr_chunk_rows, is_csr_group, lazy_csr
from .blocks import block_bounds, ordered_map
from .codecs import DEFAULT_CODEC, compressors

__all__ = ["CHUNK_BYTES", "check_chunk_rows", "create_store", "default_chunk_rows",
           "open_zarr", "prepare_path", "read_attributes", "removed_on_error", "write_chunks"]

CHUNK_BYTES = 16 * 2**20
"""Bytes of X per chunk when ``chunk_rows`` is not given (16 MiB)."""

ATTRIBUTE_KEY = "gdd_dask"


def default_chunk_rows(n_features, itemsize=8):
    """Rows per chunk so that a chunk of X holds about :data:`CHUNK_BYTES`."""
    return max(1, CHUNK_BYTES // (n_features * itemsize))


def check_chunk_rows(chunk_rows):
    """``chunk_rows`` as an int, or a ``ValueError`` unless it is an integer >= 1."""
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) \
            or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be an integer >= 1; got {chunk_rows!r}")
    return int(chunk_rows)


def _is_store(path):
    return (path / "zarr.json").is_file() or (path / ".zgroup").is_file() \
        or (path / ".zarray").is_file()


def prepare_path(path, overwrite):
    """Refuse to replace anything but a Zarr store, and only with ``overwrite``."""
    path = Path(os.fspath(path))
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise ValueError(f"{path} already exists; choose another path or overwrite it "
                             "(overwrite=True, --overwrite)")
        if not path.is_dir() or not _is_store(path):
            raise ValueError(f"{path} exists and is not a Zarr store; refusing to replace it")
    return path


def create_store(path, *, n_samples, n_features, chunk_rows, dtype_X="float64",
                 dtype_y="float64", codec=DEFAULT_CODEC, attributes=None, overwrite=False):
    """Create the group and its empty ``X`` and ``y`` arrays; return ``(X, y)`` arrays.

    ``attributes`` (JSON) go to the group's ``attrs["gdd_dask"]`` with the codec and
    chunking.
    """
    import zarr

    path = prepare_path(path, overwrite)
    codecs = compressors(codec)
    meta = {"codec": codec, "chunk_rows": int(chunk_rows), **(attributes or {})}
    group = zarr.open_group(path, mode="w", zarr_format=3, attributes={ATTRIBUTE_KEY: meta})
    X = group.create_array("X", shape=(n_samples, n_features), chunks=(chunk_rows, n_features),
                           dtype=dtype_X, compressors=codecs, dimension_names=("row", "feature"))
    y = group.create_array("y", shape=(n_samples,), chunks=(chunk_rows,), dtype=dtype_y,
                           compressors=codecs, dimension_names=("row",))
    return X, y


@contextmanager
def removed_on_error(path):
    """Delete the store at ``path`` if the block fails (or is interrupted), so that a
    half-written store -- whose missing chunks would read as zeros -- never remains."""
    try:
        yield
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise


def write_chunks(X, y, batches, *, callback=None, workers=2):
    """Write a stream of ``(X_i, y_i)`` row chunks, in order, into arrays ``X`` and ``y``.

    Chunk ``i`` covers rows ``[i * chunk_rows, (i + 1) * chunk_rows)``; each write is a
    whole Zarr chunk, so the threads never touch the same file. ``callback(stop)`` is
    called in order after the rows up to ``stop`` are written.
    """
    bounds = block_bounds(X.shape[0], X.chunks[0])

    def write(item):
        (start, stop), (X_i, y_i) = item
        X[start:stop] = X_i
        y[start:stop] = y_i
        return stop

    for stop in ordered_map(write, zip(bounds, batches), workers=workers):
        if callback is not None:
            callback(stop)


def _open_group(path):
    import zarr

    path = Path(os.fspath(path))
    if not path.exists():
        raise ValueError(f"no Zarr store at {path}")
    try:
        node = zarr.open(path, mode="r")
    except zarr.errors.NodeNotFoundError:
        raise ValueError(f"{path} is not a Zarr store (no Zarr metadata there)") from None
    except (ValueError, OSError) as exc:  # unreadable or malformed metadata
        raise ValueError(f"{path} is not a readable Zarr store: {exc}") from None
    if not isinstance(node, zarr.Group):
        raise ValueError(f"{path} is a single Zarr array, not a group holding X and y")
    return node


def _get_member(group, name, path):
    """The group's member ``name`` (``None`` if absent), or a ``ValueError`` naming it
    when Zarr cannot read its metadata."""
    try:
        return group.get(name)
    except (ValueError, TypeError, KeyError, OSError) as exc:  # e.g. a pickle object codec
        raise ValueError(f"the array {name!r} of the store {path} cannot be read: {exc}") \
            from None


def _get_array(group, name, path):
    import zarr

    member = _get_member(group, name, path)
    if not isinstance(member, zarr.Array):
        arrays = sorted(n for n, _ in group.arrays())
        raise ValueError(f"the store {path} has no array {name!r}; its arrays are {arrays}")
    return member


def open_zarr(path, *, x_name="X", y_name="y"):
    """Open a store as lazy Dask arrays ``(X, y)`` chunked along rows like the store.

    ``X`` gets the store's row chunks and all its columns in one chunk; ``y`` the same
    row chunks. A sparse X (the CSR layout of :mod:`gdd_dask.csr_store`) opens as a Dask
    array of SciPy CSR chunks, each read by one task. ``y_name=None`` opens only ``X``
    and returns ``(X, None)``. Raises a ``ValueError`` naming the problem when the
    store is missing, is not a group, lacks an array or has one Zarr cannot read (such
    as one with a pickle codec: nothing is unpickled), or when X is not 2-D, y not 1-D,
    or their lengths differ, and a ``TypeError`` when X does not hold real numbers.
    """
    import dask.array as da

    group = _open_group(path)
    if is_csr_group(_get_member(group, x_name, path)):
        X = _open_csr(path, group, x_name)
        zy = None if y_name is None else _get_y(group, y_name, path, X.shape[0], x_name)
        return X, None if zy is None else da.from_zarr(zy, chunks=(X.chunks[0],))
    zX = _get_array(group, x_name, path)
    if zX.ndim != 2:
        raise ValueError(f"{x_name} in {path} must be 2-D (rows, features); "
                         f"got shape {zX.shape}")
    if np.dtype(zX.dtype).kind not in "biuf":
        raise TypeError(f"{x_name} in {path} must hold real numbers; got dtype {zX.dtype}")
    X = da.from_zarr(zX, chunks=(zX.chunks[0], zX.shape[1]))
    if y_name is None:
        return X, None
    zy = _get_y(group, y_name, path, zX.shape[0], x_name)
    return X, da.from_zarr(zy, chunks=(X.chunks[0],))


def _get_y(group, y_name, path, n_samples, x_name):
    """The store's 1-D target array, checked against X's ``n_samples``."""
    zy = _get_array(group, y_name, path)
    if zy.ndim != 1:
        raise ValueError(f"{y_name} in {path} must be 1-D (one value per row); "
                         f"got shape {zy.shape}")
    if zy.shape[0] != n_samples:
        raise ValueError(f"the arrays of {path} disagree: {x_name} has {n_samples} rows "
                         f"but {y_name} has {zy.shape[0]}")
    return zy


def _open_csr(path, group, x_name):
    """A sparse X (:mod:`gdd_dask.csr_store`) as a Dask array of CSR row chunks, chunked
    as written (or by :func:`~gdd_dask.csr_store.csr_chunk_rows` for a store made
    elsewhere)."""
    node = group[x_name]
    n_samples = int(node.attrs["shape"][0])
    rows = group.attrs.get(ATTRIBUTE_KEY, {}).get("chunk_rows") \
        or csr_chunk_rows(n_samples, node["data"].shape[0])
    return lazy_csr(path, node, chunk_rows=int(rows), name=x_name)


def read_attributes(path):
    """What made the store: its ``attrs["gdd_dask"]`` (empty for other stores)."""
    return dict(_open_group(path).attrs.get(ATTRIBUTE_KEY, {}))
