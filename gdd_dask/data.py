"""Input validation: turn what the user passed into row-chunked arrays or fail clearly.

X is 2-D with real values and chunked along rows only; y and sample_weight are 1-D with
the same row chunks. In-memory inputs (NumPy, pandas, lists) stay NumPy unless a cluster
is to be used; Zarr arrays become lazy Dask arrays; Dask inputs stay Dask, with unknown
chunk sizes resolved and the columns in one chunk.
"""

from __future__ import annotations

import uuid
from typing import NamedTuple

import numpy as np
from array_api_compat import array_namespace

from .losses.base import is_scipy_sparse, is_sparse
from .runtime import compute

__all__ = ["Data", "as_data", "auto_chunk_rows", "dtype_kind", "is_dask", "itemsize",
           "known_chunks", "row_bytes", "row_offsets"]

TARGET_CHUNK_BYTES = 64 * 2**20


class Data(NamedTuple):
    """Validated inputs: ``X`` (2-D), ``y`` (1-D), ``sample_weight`` (1-D or None)."""

    X: object
    y: object
    sample_weight: object
    row_chunks: tuple

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def is_dask(self):
        return is_dask(self.X)

    @property
    def nbytes(self):
        """Bytes of X, y and sample_weight (of a sparse X: its stored values and indices)."""
        return sum(_nbytes(a) for a in (self.X, self.y, self.sample_weight) if a is not None)


def row_bytes(X, *, client=None):
    """Bytes of X per row in memory: ``n_features * itemsize`` for a dense X; for a
    sparse X its stored values with their column indices and row pointers, those of
    the first chunk for a Dask array of sparse chunks (that chunk is read to tell)."""
    if is_dask(X) and is_sparse(X._meta):
        import dask

        X = X.blocks[0]
        return compute(dask.delayed(_nbytes)(X), client=client)[0] / max(1, X.shape[0])
    return _nbytes(X) / max(1, X.shape[0])


def _nbytes(a):
    if is_sparse(a):
        return a.data.nbytes + a.indices.nbytes + a.indptr.nbytes
    return a.size * itemsize(a.dtype)


def is_dask(a):
    """True for a Dask Array or DataFrame/Series."""
    return hasattr(a, "dask") and hasattr(a, "__dask_graph__")


def auto_chunk_rows(n_samples, n_features, itemsize=8, target_bytes=TARGET_CHUNK_BYTES):
    """Rows per chunk so that one chunk of X holds about ``target_bytes``."""
    return max(1, min(n_samples, target_bytes // max(1, n_features * itemsize)))


def row_offsets(row_chunks):
    """First row of each chunk: ``[0, c0, c0 + c1, ...]``."""
    return tuple(int(v) for v in np.concatenate([[0], np.cumsum(row_chunks)[:-1]]))


def frame_as_float(frame, name):
    """A (pandas or Dask) DataFrame of number and boolean columns as float64 columns
    (per partition, lazily); a ``TypeError`` naming the other columns (categorical,
    strings, objects, dates), which need encoding first."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    dtypes = frame.dtypes
    bad = {str(c): str(t) for c, t in dtypes.items()
           if not (is_numeric_dtype(t) or is_bool_dtype(t)) or str(t) == "category"}
    if bad:
        raise TypeError(
            f"{name} has columns that are not numbers: {bad}. Encode them first, e.g. "
            "with dask_ml.preprocessing.Categorizer and DummyEncoder (Dask) or "
            "sklearn.preprocessing.OneHotEncoder")
    if all(str(t) == "float64" for t in dtypes):
        return frame
    return frame.astype("float64")


def _sparse_kind(a):
    """``"scipy.sparse.csr_matrix"``-like name of a sparse array (or chunk), else None."""
    module = type(a).__module__
    if module.startswith(("scipy.sparse", "sparse", "cupyx.scipy.sparse")):
        return f"{module.split('.')[0]}.{type(a).__name__}"
    return None


def pydata_to_csr(block):
    """A pydata ``sparse`` array (``COO``, ``GCXS``) as a SciPy CSR matrix."""
    return block.to_scipy_sparse().tocsr()


def as_scipy_sparse(a, name):
    """``a`` with a pydata ``sparse`` X (in memory, or the chunks of a Dask array) as
    SciPy CSR, chunk by chunk; SciPy's sparse X and a Dask array of CuPy's sparse chunks
    (``cupyx.scipy.sparse``) stay as they are; other sparse input is refused up front,
    with what it is (not deep in a loss): a sparse y or sample_weight, CuPy's sparse
    matrix in memory."""
    kind = _sparse_kind(a._meta if is_dask(a) else a)
    if kind is None or (name == "X" and (kind.startswith("scipy.")
                                         or kind.startswith("cupyx.") and is_dask(a))):
        return a
    what = f"a Dask array of {kind} chunks" if is_dask(a) else f"a {kind}"
    if name != "X":
        raise TypeError(f"{name} is {what}: {name} must be dense (y.toarray().ravel())")
    if kind.startswith("cupyx."):
        raise TypeError(f"X is {what}: a GPU's sparse X goes in row chunks, as a Dask "
                        "array: da.from_array(X, chunks=(rows, -1), asarray=False)")
    if kind.startswith("sparse.") and hasattr(a._meta if is_dask(a) else a, "to_scipy_sparse"):
        if not is_dask(a):
            return pydata_to_csr(a)
        from scipy import sparse

        meta = sparse.csr_matrix((0, 0), dtype=a.dtype)
        return a.map_blocks(pydata_to_csr, dtype=a.dtype, meta=meta)
    raise TypeError(f"X is {what}: sparse X must be SciPy sparse (CSR), pydata sparse "
                    "(COO, GCXS) or chunks of CuPy's CSR; convert it, e.g. with "
                    "X.map_blocks(lambda b: b.tocsr())")


def _to_array(a, name):
    """Dask stays Dask (DataFrames become arrays), Zarr becomes lazy Dask, a SciPy sparse
    X becomes CSR (a Dask array of SciPy sparse chunks stays as it is), else NumPy."""
    if a is None:
        raise TypeError(f"{name} is required; got None")
    a = as_scipy_sparse(a, name)
    if name == "X" and is_sparse(a._meta if is_dask(a) else a):

        return a if is_dask(a) else a.tocsr()
    if is_dask(a):
        if hasattr(a, "to_dask_array"):
            if a.ndim == 2:
                a = frame_as_float(a, name)
            a = a.to_dask_array(lengths=True)
        return a
    if type(a).__module__.startswith("zarr"):
        import dask.array as da

        return da.from_zarr(a)
    if hasattr(a, "to_numpy"):  # pandas
        a = (frame_as_float(a, name) if a.ndim == 2 else a).to_numpy()
    try:
        return np.asarray(a)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like; got {type(a).__name__}: {exc}") from None


def _namespace(a):
    """The array namespace of ``a``'s chunks (of its meta, for a Dask array)."""
    return array_namespace(a._meta if is_dask(a) else a)


def dtype_kind(a):
    """NumPy's kind letter of ``a``'s dtype, also for array-API dtypes that NumPy does
    not know (array-api-strict): ``"b"``, ``"i"``, ``"u"``, ``"f"``, else ``"O"``."""
    try:
        return np.dtype(a.dtype).kind
    except TypeError:
        xp = _namespace(a)
        kinds = (("b", "bool"), ("i", "signed integer"), ("u", "unsigned integer"),
                 ("f", "real floating"))
        return next((kind for kind, name in kinds if xp.isdtype(a.dtype, name)), "O")


def itemsize(dtype):
    """Bytes per element of a NumPy or array-API dtype."""
    try:
        return np.dtype(dtype).itemsize
    except TypeError:  # e.g. array_api_strict.float64: the bits are in the name
        bits = "".join(c for c in str(dtype).rsplit(".", 1)[-1] if c.isdigit())
        return int(bits) // 8 if bits else 1


def _as_float64(block):
    xp = array_namespace(block)
    return xp.astype(block, xp.float64)


def _check_dtype(a, name):
    kind = dtype_kind(a)
    if kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {a.dtype}")
    if kind == "f":
        return a
    try:
        np.dtype(a.dtype)
    except TypeError:  # an array-API namespace of its own: convert in it
        if is_dask(a):
            meta = _as_float64(a._meta)
            return a.map_blocks(_as_float64, dtype=meta.dtype, meta=meta)
        return _as_float64(a)
    return a.astype(np.float64)


def _block_shape(block):
    """A block's shape as an array with one more dimension (for ``map_blocks``)."""
    return np.reshape(np.asarray(block.shape, dtype=np.int64), (1,) * block.ndim + (-1,))


def _unknown(a):
    return is_dask(a) and any(np.isnan(c) for dim in a.chunks for c in dim)


def _block_shapes(a):
    """The lazy shapes of ``a``'s blocks: an array of ``a.ndim + 1`` dimensions."""
    return a.map_blocks(_block_shape, dtype=np.int64, new_axis=a.ndim,
                        name=f"gdd-block-shape-{uuid.uuid4().hex}",  # the graph may differ
                        chunks=tuple((1,) * len(c) for c in a.chunks) + ((a.ndim,),),
                        meta=np.empty((0,) * (a.ndim + 1), dtype=np.int64))


def _with_chunks(a, shapes):
    """``a`` with the chunk sizes read from its computed block shapes."""
    import dask.array as da

    chunks = tuple(tuple(int(n) for n in shapes[tuple(slice(None) if d == i else 0
                                                      for d in range(a.ndim)) + (i,)])
                   for i in range(a.ndim))
    return da.Array(a.dask, a.name, chunks, meta=a)


def known_chunks(*arrays, client=None):
    """``arrays`` with the unknown chunk sizes of their Dask arrays computed, all in one
    pass, on ``client``, the default client or the local scheduler; other values are
    returned as they are. Unlike ``Array.compute_chunk_sizes`` it changes neither the
    arrays nor Dask's configuration (which all threads share), and arrays that share
    work (``X[mask]``, ``y[mask]``) are computed in one graph."""
    todo = [i for i, a in enumerate(arrays) if _unknown(a)]
    if not todo:
        return arrays
    shapes = compute(*(_block_shapes(arrays[i]) for i in todo), client=client)
    out = list(arrays)
    for i, shape in zip(todo, shapes):
        out[i] = _with_chunks(arrays[i], shape)
    return tuple(out)


def _as_target(y, n_samples, columns):
    """``y`` as a vector (``columns == 1``) or a matrix of ``columns`` columns."""
    if columns == 1:
        return _as_1d(y, "y", n_samples)
    if y.ndim != 2 or y.shape[1] != columns:
        raise ValueError(f"y must be 2-D with {columns} columns (one per output) and one row "
                         f"per row of X; got shape {y.shape}")
    if y.shape[0] != n_samples:
        raise ValueError(f"X has {n_samples} rows but y has {y.shape[0]}")
    return y


def _as_1d(a, name, n_samples):
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D with one value per row of X; got shape {a.shape}")
    if a.shape[0] != n_samples:
        raise ValueError(f"X has {n_samples} rows but {name} has {a.shape[0]}")
    return a


def as_data(X, y, sample_weight=None, *, dask=None, chunk_rows=None, client=None,
            y_columns=1):
    """Validate ``(X, y, sample_weight)`` and chunk them alike; ``y`` is a vector, or a
    matrix of ``y_columns`` columns (one per output) when that is more than 1.

    ``dask=True`` turns in-memory input into Dask arrays of ``chunk_rows`` rows
    (automatic by default); ``dask=None`` keeps each input as it came unless any input
    is Dask, in which case all become Dask with X's row chunks. Unknown chunk sizes are
    computed on ``client`` (default: Dask's active scheduler).
    """
    X, y = _to_array(X, "X"), _to_array(y, "y")
    sw = None if sample_weight is None else _to_array(sample_weight, "sample_weight")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}")
    X, y = _check_dtype(X, "X"), _check_dtype(y, "y")
    sw = None if sw is None else _check_dtype(sw, "sample_weight")
    if dask is None:
        dask = any(is_dask(a) for a in (X, y, sw) if a is not None)
    if not dask:
        return _in_memory(X, y, sw, chunk_rows, y_columns)
    return _dask(X, y, sw, chunk_rows, client, y_columns)


def _check_sizes(X):
    if X.shape[0] == 0:
        raise ValueError("X has no rows (0 samples); at least one is required")
    if X.shape[1] == 0:
        raise ValueError("X has no columns (0 features); at least one is required")


def _in_memory(X, y, sw, chunk_rows, y_columns):
    _check_sizes(X)
    y = _as_target(y, X.shape[0], y_columns)
    sw = None if sw is None else _as_1d(sw, "sample_weight", X.shape[0])
    rows = chunk_rows or _auto_rows(X)
    chunks = tuple(min(rows, X.shape[0] - i) for i in range(0, X.shape[0], rows))
    return Data(X, y, sw, chunks)


def _auto_rows(X):
    """:func:`auto_chunk_rows` of X; of a sparse X by its stored values (12 bytes each,
    with their column index)."""
    if is_scipy_sparse(X):
        return auto_chunk_rows(X.shape[0], max(1, -(-3 * X.nnz // (2 * X.shape[0]))))
    return auto_chunk_rows(*X.shape, itemsize(X.dtype))


def _dask(X, y, sw, chunk_rows, client, y_columns):
    import dask.array as da

    if not is_dask(X):
        _check_sizes(X)
        X = da.from_array(X, chunks=(chunk_rows or _auto_rows(X), -1),
                          asarray=not is_scipy_sparse(X))
    X, y, sw = known_chunks(X, y, sw, client=client)
    _check_sizes(X)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    row_chunks = X.chunks[0]
    out = []
    for a, name in ((y, "y"), (sw, "sample_weight")):
        if a is None:
            out.append(None)
            continue
        a = _as_target(a, X.shape[0], y_columns) if name == "y" else _as_1d(a, name, X.shape[0])
        chunks = (row_chunks, *((a.shape[1],) if a.ndim == 2 else ()))
        a = da.from_array(a, chunks=chunks) if not is_dask(a) else a
        out.append(a.rechunk(chunks) if a.chunks != chunks else a)
    return Data(X, out[0], out[1], row_chunks)
