"""The task body of a shared pass (:mod:`gdd_dask.many`): many models' sums of one chunk.

It imports only the chunk math, as every task body does: a worker running shared
passes loads no more than one running single fits.
"""

from __future__ import annotations

from functools import partial

from array_api_compat import array_namespace

from .chunk import chunk_sums, chunk_sums_many

__all__ = ["chunk_many", "combine_many", "sums_spec"]


def sums_spec(func):
    """``(kind, loss, fit_intercept, moments)`` when ``func`` is a
    :func:`~gdd_dask.chunk.chunk_sums` pass without kept outputs, else ``None``."""
    if not isinstance(func, partial) or func.func is not chunk_sums \
            or func.keywords.get("keep"):
        return None
    kind, loss, fit_intercept = func.args
    return kind, loss, fit_intercept, bool(func.keywords.get("moments"))


def _sums_request(func, values):
    """:func:`sums_spec` and the pass's ``(params, vector)``: a request of
    :func:`~gdd_dask.chunk.chunk_sums_many`, or ``None``."""
    spec = sums_spec(func)
    return None if spec is None else (*spec, *(*values, None)[:2])


def chunk_many(entries, with_X, codes_at, offset, index, *args):
    """The task body of a shared pass on one chunk: each entry's output, a tuple.

    ``entries`` are ``(func, weighting, needs_X, values)``, ``values`` a slice of the
    shared values after the chunk ``(X, y, sample_weight)`` (``X`` only ``with_X``).
    Each entry sees the chunk with its own weights (:class:`~gdd_dask.folds.Weighting`);
    the :func:`~gdd_dask.chunk.chunk_sums` entries are computed together in one walk of
    the chunk (:func:`~gdd_dask.chunk.chunk_sums_many`), the others one by one.
    """
    X, (y, sample_weight) = (args[0] if with_X else None), args[int(with_X):int(with_X) + 2]
    shared = args[int(with_X) + 2:]
    codes = None if codes_at is None else shared[codes_at]
    xp = array_namespace(y)
    outputs, together, weights_of, draws = [None] * len(entries), [], {}, {}
    for j, (func, weighting, needs_X, at) in enumerate(entries):
        if weighting.key not in weights_of:  # one weight vector per weighting
            weights_of[weighting.key] = weighting.weights(  # and one fold draw per chunk
                offset, y.shape[0], sample_weight, xp, codes, draws)
        weights = weights_of[weighting.key]
        request = _sums_request(func, shared[at])
        if request is not None:
            together.append((j, request, weights))
        else:
            outputs[j] = func(offset, index, *((X,) if needs_X else ()), y, weights,
                              *shared[at])
    if together:
        sums = chunk_sums_many([r for _, r, _ in together], offset, index, X, y,
                               [w for _, _, w in together])
        for (j, _, _), value in zip(together, sums):
            outputs[j] = value
    return tuple(outputs)


def combine_many(combines, parts):
    """The tree's fold of shared-pass outputs: entry ``j`` by its own ``combines[j]``."""
    return tuple(combine([part[j] for part in parts]) for j, combine in enumerate(combines))
