"""What the estimators accept, and how they tell in-memory from lazy input.

*In-memory* input (NumPy, pandas, lists, SciPy sparse matrices, which become CSR) is
validated by scikit-learn's own ``validate_data``, so error messages, dtype rules and
feature-name handling are scikit-learn's. *Lazy* input -- Dask arrays (of NumPy or
SciPy sparse chunks), Dask DataFrames and Series, Zarr arrays -- becomes a Dask array
without reading the data: its shape and dtype are checked, the feature names of a Dask
DataFrame are taken from its metadata, and only the partition lengths of a DataFrame
are computed (when they are needed, e.g. for ``fit``).
"""

from __future__ import annotations

from functools import partial

import numpy as np
from sklearn.utils.validation import validate_data

from ..blocks import cast_output
from ..data import as_scipy_sparse, dtype_kind, frame_as_float, is_dask, known_chunks
from ..losses.base import chunk_device, is_scipy_sparse, namespace
from ..runtime import compute, resolve_client

__all__ = [
    "as_dask",
    "evaluate",
    "float_dtype",
    "is_lazy",
    "is_zarr",
    "map_rows",
    "rows_like",
    "validate_X",
    "validate_fit_inputs",
    "validate_score_inputs",
]

FLOAT_DTYPES = (np.float64, np.float32)


def float_dtype(X):
    """The dtype a fit on X gives its coefficients, as scikit-learn's linear models do:
    float32 for float32 X, float64 otherwise (the sums accumulate in float64 either
    way)."""
    return np.dtype(np.float32) if getattr(X, "dtype", None) == np.float32 \
        else np.dtype(np.float64)


def is_zarr(a):
    """True for a Zarr array (read lazily through Dask)."""
    return type(a).__module__.split(".")[0] == "zarr" and hasattr(a, "shape")


def is_lazy(a):
    """True for input the estimators keep lazy: Dask collections and Zarr arrays."""
    return a is not None and (is_dask(a) or is_zarr(a))


def as_dask(a, name, *, lengths=True, client=None):
    """A Dask array for lazy input; in-memory input is returned unchanged.

    Dask DataFrames and Series become arrays; Series of strings become object arrays.
    With ``lengths``, unknown row chunk sizes (DataFrame partitions, boolean masks) are
    computed (with ``client``, else the default client or the local scheduler);
    otherwise they may stay unknown (enough for lazy predictions).
    """
    import dask.array as da

    if is_zarr(a):
        return da.from_zarr(a)
    if not is_dask(a):
        return a
    a = as_scipy_sparse(a, name)
    if not isinstance(a, da.Array):
        if not hasattr(a, "to_dask_array"):
            raise TypeError(
                f"{name} must be a Dask Array, DataFrame or Series; got {type(a).__name__}"
            )
        if a.ndim == 1 and not isinstance(a.dtype, np.dtype):
            a = a.astype(object)  # pandas extension dtypes (strings, categoricals)
        a = (frame_as_float(a, name) if a.ndim == 2 else a).to_dask_array()
    # on the client itself, not through Dask's configuration (which all threads share)
    return known_chunks(a, client=client)[0] if lengths else a


def _dataframe_meta(X):
    """A Dask DataFrame's empty pandas metadata (which carries the feature names)."""
    if is_dask(X) and hasattr(X, "columns"):
        from dask.dataframe.utils import make_meta

        return make_meta(X)
    return None


def validate_X(estimator, X, *, reset, lengths=True):
    """Check X; set (``reset``) or compare ``n_features_in_`` and ``feature_names_in_``.

    Returns a NumPy array (in-memory X) or a Dask array (lazy X) with one column chunk.
    """
    if not is_lazy(X):
        return validate_data(estimator, as_scipy_sparse(X, "X"), accept_sparse="csr",
                             dtype=FLOAT_DTYPES, reset=reset)
    meta = _dataframe_meta(X)
    X = as_dask(X, "X", lengths=lengths, client=_client(estimator))
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D (n_samples, n_features); got a {X.ndim}-D array of shape "
            f"{X.shape}. Reshape it with X.reshape(-1, 1) for one feature."
        )
    if dtype_kind(X) not in "biuf":
        raise TypeError(f"X must hold real numbers; got dtype {X.dtype}")
    validate_data(estimator, X if meta is None else meta, skip_check_array=True, reset=reset)
    return X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X


def _client(estimator):
    """The estimator's ``client`` parameter (``None``: default client or local)."""
    return resolve_client(getattr(estimator, "client", None))


def _check_1d(y, name):
    if y.ndim == 2 and y.shape[1] == 1:
        return y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D with one value per row of X; got shape {y.shape}")
    return y


def validate_fit_inputs(estimator, X, y, sample_weight, *, y_numeric, reset=True,
                        multi_output=False):
    """Validate ``fit``'s inputs; the in-memory case entirely by scikit-learn. With
    ``reset=False`` (``partial_fit`` after the first call) X must have the features
    seen before; with ``multi_output`` y may be a matrix of several columns (one
    column is a vector).

    Returns ``(X, y, sample_weight)``: each NumPy or Dask as it came (Zarr and Dask
    DataFrames become Dask arrays); row counts and values are checked by the core.
    """
    if y is None:
        raise ValueError(
            f"This {type(estimator).__name__} estimator requires y to be passed, "
            "but the target y is None."
        )
    client = _client(estimator)
    if not is_lazy(X) and not is_lazy(y):
        X, y = validate_data(estimator, as_scipy_sparse(X, "X"), y, accept_sparse="csr",
                             dtype=FLOAT_DTYPES, y_numeric=y_numeric,
                             reset=reset, multi_output=multi_output)
        y = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
    else:
        X = validate_X(estimator, X, reset=reset)
        y = as_dask(y, "y", client=client) if is_lazy(y) else np.asarray(y)
        y = _check_target(y) if multi_output else _check_1d(y, "y")
    return X, y, _sample_weight(sample_weight, X.shape[0], client)


def _check_target(y):
    """A vector, or a matrix of several columns (in one column chunk)."""
    if y.ndim != 2 or y.shape[1] == 1:
        return _check_1d(y, "y")
    return y.rechunk({1: -1}) if is_dask(y) and len(y.chunks[1]) > 1 else y


def _sample_weight(sample_weight, n_samples, client):
    """``None``, a lazy 1-D array, or a float64 NumPy array (a scalar is broadcast)."""
    if sample_weight is None:
        return None
    if is_lazy(sample_weight):
        sample_weight = as_dask(sample_weight, "sample_weight", client=client)
        return _check_1d(sample_weight, "sample_weight")
    if hasattr(sample_weight, "to_numpy"):
        sample_weight = sample_weight.to_numpy()
    try:
        sw = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"sample_weight must be an array of real numbers: {exc}") from None
    if sw.ndim == 0:
        return np.full(n_samples, float(sw))
    return _check_1d(sw, "sample_weight")


def rows_like(a, row_chunks, name, *, client=None):
    """``a`` (1-D, any input kind; y may be a matrix) as a Dask array with the given row
    chunks."""
    import dask.array as da

    a = as_dask(a, name, client=client) if is_lazy(a) else da.from_array(np.asarray(a), chunks=-1)
    a = _check_target(a) if name == "y" else _check_1d(a, name)
    if a.shape[0] != sum(row_chunks):
        raise ValueError(f"X has {sum(row_chunks)} rows but {name} has {a.shape[0]}")
    return a if a.chunks[0] == tuple(row_chunks) else a.rechunk({0: row_chunks})


def validate_score_inputs(estimator, X, y, sample_weight):
    """``score``'s inputs, aligned: Dask X gives y and sample_weight as Dask arrays with
    X's row chunks; in-memory X gives NumPy (lazy y or weights are computed)."""
    X, client = validate_X(estimator, X, reset=False), _client(estimator)
    if is_dask(X):
        return X, *(None if a is None else rows_like(a, X.chunks[0], name, client=client)
                    for a, name in ((y, "y"), (sample_weight, "sample_weight")))
    out = []
    for a, name in ((y, "y"), (sample_weight, "sample_weight")):
        if is_lazy(a):
            a = compute(as_dask(a, name, client=client), client=client)[0]
        if a is not None:
            a = np.asarray(a.to_numpy() if hasattr(a, "to_numpy") else a)
            a = _check_target(a) if name == "y" else _check_1d(a, name)
            if a.shape[0] != X.shape[0]:
                raise ValueError(f"X has {X.shape[0]} rows but {name} has {a.shape[0]}")
        out.append(a)
    return X, *out


def evaluate(client, *sums):
    """Scalars as Python floats, computing them together when they are lazy."""
    if any(is_dask(s) for s in sums):
        sums = compute(*sums, client=client)
    return tuple(float(s) for s in sums)


def map_rows(func, X, *, dtype, n_columns=None, token="gdd-predict"):
    """``func`` applied to each row block of X: NumPy in, NumPy out; Dask in, lazy Dask
    out (1-D, or 2-D with ``n_columns`` columns) whose keys start with ``token`` and
    whose chunks are of X's namespace (CuPy chunks give CuPy predictions) unless
    ``dtype`` is not numeric (labels such as strings stay NumPy). A float ``dtype`` is
    that of the result: ``func``'s output is cast to it."""
    if np.dtype(dtype).kind == "f":
        func = partial(cast_output, func, np.dtype(dtype))
    if not is_dask(X):
        return func(X)
    meta = _meta(X, dtype, 1 if n_columns is None else 2)
    if n_columns is None:
        return X.map_blocks(func, drop_axis=1, dtype=meta.dtype, meta=meta, token=token)
    return X.map_blocks(func, chunks=(X.chunks[0], (n_columns,)), dtype=meta.dtype, meta=meta,
                        token=token)


def _meta(X, dtype, ndim):
    """An empty array of ``ndim`` dimensions and ``dtype`` in X's chunks' namespace."""
    empty = np.empty((0,) * ndim, dtype=dtype)
    if isinstance(X._meta, np.ndarray) or is_scipy_sparse(X._meta) \
            or np.dtype(dtype).kind not in "biuf":
        return empty
    return namespace(X._meta).asarray(empty, device=chunk_device(X._meta))

