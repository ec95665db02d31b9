"""The work done on one row chunk: the task body of every pass.

``chunk_sums`` evaluates a loss on one chunk in the chunk's own array namespace
(NumPy, CuPy, array-api-strict) and hands back small NumPy float64 sums, so only the
parameters travel to a chunk and only the sums travel back. When a sum is not finite
it looks for the cause in the data and names the array, the row and the chunk.
"""

from __future__ import annotations

import dask
import numpy as np
from array_api_compat import (
    array_namespace,
    device,
    is_array_api_obj,
    is_array_api_strict_namespace,
    is_numpy_namespace,
)

from .losses.base import chunk_device, is_scipy_sparse, is_sparse, namespace
from .reduction import add_sums, tree_reduce
from .runtime import meter
from .scaling import block_moment, merge_column_moments

__all__ = ["Inline", "aligned", "as_float64", "chunk_check", "chunk_line_sums",
           "chunk_sums", "chunk_sums_many", "dense_row_blocks", "host", "load_group",
           "loaded", "row_blocks", "row_slice", "run_chain", "run_group", "take_rows",
           "to_numpy"]


class Inline:
    """A chunk read inside the task that uses it: its own small graph (e.g. one Zarr
    read), run synchronously there, so the chunk is dropped when the task ends."""

    __slots__ = ("graph", "key")

    def __init__(self, graph, key):
        self.graph, self.key = graph, key

    def load(self):
        return dask.get(self.graph, self.key)


def loaded(ref):
    """A chunk's value: read here if :class:`Inline`, else as it is."""
    return ref.load() if isinstance(ref, Inline) else ref


def load_group(chunks):
    """A group's ``(X, y, sample_weight)`` chunks to keep in memory: each loaded and
    aligned."""
    return [tuple(aligned(loaded(a)) for a in chunk) for chunk in chunks]


def _flatten(parts):
    """A group's chunks from its parts (cached chunks, then streamed ones)."""
    return [chunk for part in parts for chunk in part]


def host(a):
    """A small array of any namespace (or a number) as NumPy, its dtype kept."""
    if isinstance(a, (np.ndarray, float, int, np.number)):
        return np.asarray(a)
    if hasattr(a, "get"):  # CuPy
        return a.get()
    return np.from_dlpack(a)


def to_numpy(a):
    """A small result array (any namespace) as NumPy float64."""
    return np.asarray(host(a), dtype=np.float64)


def aligned(a):
    """A NumPy chunk at an aligned address (copied only when it is not); others as is.

    Arrays that arrive over the network can sit at unaligned addresses, where NumPy
    skips BLAS for a slower loop that sums in another order: aligning keeps results
    bit-identical wherever a chunk lives, and fast.
    """
    if isinstance(a, np.ndarray):
        return np.require(a, requirements="A")
    xp = array_namespace(a) if is_array_api_obj(a) else None
    if xp is not None and is_array_api_strict_namespace(xp):  # it wraps a NumPy buffer
        view = np.from_dlpack(a)
        return a if view.flags.aligned else xp.asarray(np.require(view, requirements="A"))
    return a


def as_float64(a, xp=None):
    """``a`` as an aligned float64 array of its own namespace (``None`` stays; a sparse
    chunk stays sparse)."""
    if a is None:
        return None
    if isinstance(a, np.ndarray):
        return np.require(a, dtype=np.float64, requirements="A")
    if is_sparse(a):
        return a if a.dtype == np.float64 else a.astype(np.float64)
    xp = xp or array_namespace(a)
    return a if a.dtype == xp.float64 else xp.astype(a, xp.float64)


def _first_bad_row(bad, xp):
    rows = xp.nonzero(bad)[0]
    return int(to_numpy(rows[0])) if rows.shape[0] else None


def _rows(bad, xp):
    """A per-row mark from a per-value one (a matrix target: any of the row)."""
    return xp.any(bad, axis=1) if bad.ndim == 2 else bad


def _nonfinite_rows(X, xp):
    """A per-row mark of the rows of X holding a non-finite value (of a sparse X: of its
    stored values, found in their own namespace)."""
    if is_sparse(X):
        X, sxp = X.tocsr(), namespace(X)
        bad = sxp.zeros(X.shape[0], dtype=sxp.bool, device=chunk_device(X))
        values = sxp.nonzero(~sxp.isfinite(X.data))[0]
        bad[sxp.searchsorted(X.indptr, values, side="right") - 1] = True
        return bad
    return ~xp.all(xp.isfinite(X), axis=1)


def raise_nonfinite(X, y, sample_weight, offset, index, xp):
    """Raise ``ValueError`` at the first non-finite value of X, y or sample_weight."""
    checks = [("X", _nonfinite_rows(X, xp)), ("y", _rows(~xp.isfinite(y), xp))]
    if sample_weight is not None:
        checks.append(("sample_weight", ~xp.isfinite(sample_weight)))
    for name, bad in checks:
        row = _first_bad_row(bad, xp)
        if row is not None:
            raise ValueError(
                f"{name} has a non-finite value (NaN or inf) at row {offset + row} "
                f"(chunk {index})"
            )


BLOCK_BYTES = 2**21
"""Bytes of float64 rows a CPU chunk is evaluated in at a time (about an L2 cache)."""
MIN_BLOCK_ROWS = 256


def row_blocks(X, xp):
    """Row slices a chunk is evaluated in: blocks of about :data:`BLOCK_BYTES` on the CPU,
    so ``X_b @ w`` and ``X_b.T @ g_b`` read each block of X from memory once (the second
    read hits the cache); the whole chunk elsewhere (a GPU wants big kernels) and for a
    sparse chunk, whose products stream its stored values once anyway while each
    block's gradient ``X_b.T @ g_b`` would be a dense vector of every feature."""
    n = X.shape[0]
    if is_sparse(X) or not (is_numpy_namespace(xp) or is_array_api_strict_namespace(xp)):
        return [slice(0, n)]
    return dense_row_blocks(n, X.shape[1])


def dense_row_blocks(n, n_features):
    """Row slices of :data:`BLOCK_BYTES` of float64 rows of ``n_features`` (what a
    sparse chunk's densified blocks take)."""
    return _slices(n, BLOCK_BYTES // (8 * max(1, n_features)))


def _slices(n, rows):
    rows = max(MIN_BLOCK_ROWS, rows)
    return [slice(s, min(s + rows, n)) for s in range(0, n, rows)] or [slice(0, 0)]


def _block_sums(kind, loss, X, y, sample_weight, p, v, opts):
    if kind == "hessp":
        return (loss.hessp_sum(X, y, sample_weight, p, v, **opts),)
    method = getattr(loss, f"{'hessian' if kind == 'hess' else kind}_sum")
    out = method(X, y, sample_weight, p, **opts)
    return out if isinstance(out, tuple) else (out,)


def chunk_sums(kind, loss, fit_intercept, offset, index, X, y, sample_weight, params,
               vector=None, *, keep=False, moments=False):
    """Sums over one chunk (rows ``offset ..``, chunk number ``index``) for a pass.

    - ``"value"``: ``(sum s_i l_i,)``
    - ``"grad"``: ``(sum s_i l_i, sum s_i dl_i)``
    - ``"hess"``: ``(sum s_i l_i, sum s_i dl_i, sum s_i d2l_i)``
    - ``"hessp"``: ``(sum s_i d2l_i @ vector,)``

    The chunk is walked in :func:`row_blocks`, each block converted to float64 as it
    is used, and the block sums folded left to right (a fixed order). With ``keep``
    (linear losses) the result is ``(sums, margins)``, the margins ``X @ W + b`` in the
    chunk's namespace, for :func:`chunk_line_sums` to reuse. With ``moments`` the sums
    end with the chunk's column moment of X (:mod:`gdd_dask.scaling`), read in the same
    walk.
    """
    request = (kind, loss, fit_intercept, moments, params, vector)
    return chunk_sums_many([request], offset, index, X, y, [sample_weight], keep=keep)[0]


def chunk_sums_many(requests, offset, index, X, y, weights, *, keep=False):
    """:func:`chunk_sums` of each request ``(kind, loss, fit_intercept, moments, params,
    vector)``, with its own sample weights of ``weights``, in one walk of the chunk:
    each row block is read from memory once and used by every request while it is in
    the cache (many models in one pass, :mod:`gdd_dask.many`). Request ``j``'s sums are
    exactly those of :func:`chunk_sums` alone: the same blocks, the same calls on them,
    the same fold. ``keep`` takes one request."""
    if keep and len(requests) != 1:
        raise ValueError("kept margins are for one request at a time")
    xp = namespace(X)
    X = aligned(X)
    dev = chunk_device(X)
    prepared = [(kind, loss, fit_intercept, moments, xp.asarray(params, device=dev),
                 None if vector is None else xp.asarray(vector, device=dev))
                for kind, loss, fit_intercept, moments, params, vector in requests]
    # each request's block sums folded left to right as they come (add_sums' order:
    # the running total is all a request holds), its column moments kept to merge
    totals, moment_parts, margins = [None] * len(requests), [[] for _ in requests], []
    for rows in row_blocks(X, xp):
        Xb, yb = (as_float64(row_slice(a, rows), xp) for a in (X, y))
        block = {}  # per weight vector: its block, its column moment
        for j, ((kind, loss, fit_intercept, moments, p, v), w) in enumerate(zip(prepared,
                                                                               weights)):
            if ("sb", id(w)) not in block:
                block["sb", id(w)] = None if w is None else as_float64(row_slice(w, rows), xp)
            sb = block["sb", id(w)]
            opts = {"fit_intercept": fit_intercept}
            if keep:
                opts["raw"] = loss.raw_prediction(Xb, p, fit_intercept=fit_intercept)
                margins.append(opts["raw"])
            part = _block_sums(kind, loss, Xb, yb, sb, p, v, opts)
            totals[j] = part if totals[j] is None else add_sums([totals[j], part])
            if moments:
                if ("moment", id(w)) not in block:
                    block["moment", id(w)] = block_moment(Xb, sb, xp)
                moment_parts[j].append(block["moment", id(w)])
    results = []
    for (_, _, _, moments, _, _), w, total, moment in zip(prepared, weights, totals,
                                                          moment_parts):
        sums = tuple(to_numpy(s) for s in total)
        if moments:  # merged as add_with_moments merges them (NumPy already)
            sums = (*sums, merge_column_moments(moment))
        if not all(np.all(np.isfinite(s)) for s in _flat(sums)):
            raise_nonfinite(X, y, w, offset, index, xp)
        results.append(sums)
    if not keep:
        return results
    return [(results[0], margins[0] if len(margins) == 1 else xp.concat(margins, axis=0))]


def row_slice(a, rows):
    """``a[rows, ...]`` for a slice of consecutive rows; of a CSR matrix (SciPy's or
    CuPy's) a view of its stored values (their own slicing copies them: a pass would
    copy the chunk)."""
    if not is_sparse(a):
        return a[rows, ...]
    start, stop, _ = rows.indices(a.shape[0])
    if (start, stop) == (0, a.shape[0]):
        return a
    a = a.tocsr()
    low, high = int(a.indptr[start]), int(a.indptr[stop])
    return type(a)((a.data[low:high], a.indices[low:high], a.indptr[start:stop + 1] - low),
                   shape=(stop - start, a.shape[1]), copy=False)


def _flat(sums):
    """The arrays of a tuple of sums, a column moment's taken apart."""
    return [a for s in sums for a in (s if isinstance(s, tuple) else (s,))]


def run_chain(func, carry, steps, parts):
    """The task of a run of chunks of a chain (``Engine.chain``): ``carry =
    func(offset, index, *chunk, carry, arg)`` for each ``(offset, index, position,
    arg)`` of ``steps``, the chunk at ``position`` of its group (``parts`` as for
    :func:`run_group`), read here when streamed."""
    chunks = _flatten(parts)
    for offset, index, position, arg in steps:
        with meter("gdd-read"):
            data = [loaded(a) for a in chunks[position]]
        with meter("gdd-compute"):
            carry = func(offset, index, *data, carry, arg)
        del data
    return carry


def take_rows(a, rows):
    """``a[rows]`` for NumPy ``rows`` (local row numbers), in ``a``'s namespace and on
    its device."""
    if isinstance(a, np.ndarray) or is_scipy_sparse(a):
        return a[rows]
    if is_sparse(a):  # CuPy's CSR: its rows picked by an index array on its device
        return a[namespace(a).asarray(np.asarray(rows, dtype=np.int64), device=chunk_device(a))]
    xp = array_namespace(a)

    return xp.take(a, xp.asarray(np.asarray(rows, dtype=np.int64), device=device(a)), axis=0)


def run_group(func, combine, split_every, keep, with_X, offsets, indices, parts, kept,
              *shared):
    """The task of a group of consecutive chunks: ``func(offset_i, i, *chunk_i,
    *kept_i, *shared)`` for each chunk, folded by ``combine`` over the fixed tree of the
    group's chunks (:func:`~gdd_dask.reduction.tree_reduce`), which is the subtree the
    engine would otherwise build as tasks: the same numbers, fewer tasks.

    ``parts`` are lists that together hold one ``(X, y, sample_weight)`` per chunk (the
    group's cached chunks, then its streamed ones), each a value or an :class:`Inline`
    read done here, one chunk at a time; ``kept`` holds the group outputs of earlier
    ``keep`` passes. With ``keep`` the result is ``(sums, [kept output of each chunk])``.
    The time spent reading chunks and computing on them is metered apart
    (``gdd-read``, ``gdd-compute``: the dashboard's Fine Performance Metrics).
    """
    chunks = _flatten(parts)
    kept = [k[1] if isinstance(k, tuple) else k for k in kept]
    outs = []
    for j, (offset, index) in enumerate(zip(offsets, indices)):
        with meter("gdd-read"):
            data = [loaded(a) for a in (chunks[j] if with_X else chunks[j][1:])]
        with meter("gdd-compute"):
            outs.append(func(offset, index, *data, *(k[j] for k in kept), *shared))
        del data
    if not keep:
        return tree_reduce(outs, split_every, combine)
    return tree_reduce([o[0] for o in outs], split_every, combine), [o[1] for o in outs]


def chunk_line_sums(loss, offset, index, y, sample_weight, kept_a, kept_b, steps):
    """``(sum_i s_i l(y_i, r_a + t (r_b - r_a)) for t in steps,)`` from the margins
    ``r_a, r_b`` kept by two earlier passes (each the margins or a ``(sums, margins)``
    chunk output): the loss along a line with no read of X."""
    raw_a, raw_b = (k[1] if isinstance(k, tuple) else k for k in (kept_a, kept_b))
    xp = array_namespace(raw_a)
    y, sample_weight = as_float64(y, xp), as_float64(sample_weight, xp)
    delta = raw_b - raw_a
    values = [to_numpy(loss.value_from_raw(y, sample_weight, raw_a + float(t) * delta, xp))
              for t in steps]
    return (np.asarray(values),)


def chunk_check(loss, offset, index, y, sample_weight):
    """Validate one chunk's target and weights; return ``(rows, sum s_i, sum s_i y_i)``
    (the last one per column for a matrix target)."""
    xp = array_namespace(y)
    y, sample_weight = as_float64(y, xp), as_float64(sample_weight, xp)
    rules = [("y", _rows(~xp.isfinite(y), xp), "y must be finite"),
             ("y", _rows(loss.invalid_target(y, xp), xp),
              getattr(loss, "target_rule", "invalid y"))]
    if sample_weight is not None:
        rules += [("sample_weight", ~xp.isfinite(sample_weight), "sample_weight must be finite"),
                  ("sample_weight", sample_weight < 0, "sample_weight must be >= 0")]
    for name, bad, rule in rules:
        row = _first_bad_row(bad, xp)
        if row is not None:
            value = to_numpy((y if name == "y" else sample_weight)[row, ...])
            shown = float(value) if value.ndim == 0 else value.tolist()
            raise ValueError(f"{rule}; {name}[{offset + row}] = {shown!r} (chunk {index})")
    n = to_numpy(y.shape[0])
    if sample_weight is None:
        return n, n, to_numpy(xp.sum(y, axis=0))
    weights = sample_weight[:, None] if y.ndim == 2 else sample_weight
    return n, to_numpy(xp.sum(sample_weight)), to_numpy(xp.sum(weights * y, axis=0))
