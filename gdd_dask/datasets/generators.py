"""Generators that write synthetic problems straight to a Zarr v3 store.

``make_regression``, ``make_classification`` (two or more classes) and ``make_poisson``
draw the true coefficients from ``seed``, then draw the rows generation block by
generation block (:mod:`~gdd_dask.datasets.blocks`) on a few threads and write them chunk
by chunk: memory holds a few blocks and chunks, never the whole array. The bytes depend
only on ``(seed, block_rows)`` and the parameters -- not on ``chunk_rows``, ``codec`` or
the number of threads. The true ``coef`` (``(n_outputs, n_features)``, as scikit-learn's
``coef_``), ``intercept`` and every parameter are stored in ``attrs["gdd_dask"]``; the
models are in :mod:`~gdd_dask.datasets.synthetic`.
"""

from __future__ import annotations

import numbers

from .blocks import block_bounds, default_block_rows, ordered_map, rebatch
from .codecs import DEFAULT_CODEC
from .store import create_store, default_chunk_rows, removed_on_error, write_chunks
from .synthetic import SPARSE_KINDS, make_problem

__all__ = ["make_classification", "make_poisson", "make_regression", "make_synthetic"]


def _check_int(value, name, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}; got {value}")
    return int(value)


def _check_real(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0 \
            or value == float("inf"):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return float(value)


def _version():
    import gdd_dask

    return gdd_dask.__version__


def make_synthetic(path, kind, *, n_samples, n_features, n_classes=2, noise=1.0,
                   intercept=0.5, chunk_rows=None, seed=0, block_rows=None,
                   codec=DEFAULT_CODEC, overwrite=False, attributes=None, callback=None,
                   workers=2, nnz_per_row=50):
    """Write a synthetic ``kind`` problem (``"regression"``, ``"classification"``, a GLM
    kind, or the sparse ``"hashed_text"``) to a new store at ``path``; return its
    attributes.

    ``block_rows`` (default ``max(1, 2**17 // n_features)``) is part of the seed:
    changing it changes the data. ``attributes`` are stored beside the generation
    parameters; ``callback(rows_written)`` follows the progress; ``workers`` threads
    generate and write. ``nnz_per_row`` is the tokens per row of ``"hashed_text"``
    (:func:`~gdd_dask.datasets.text.make_hashed_text`).
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    n_features = _check_int(n_features, "n_features", 1)
    n_classes = _check_int(n_classes, "n_classes", 2)
    seed = _check_int(seed, "seed", 0)
    workers = _check_int(workers, "workers", 1)
    if kind in SPARSE_KINDS:
        from .text import make_hashed_text

        return make_hashed_text(
            path, n_samples=n_samples, n_features=n_features, seed=seed, codec=codec,
            nnz_per_row=_check_int(nnz_per_row, "nnz_per_row", 1), intercept=intercept,
            chunk_rows=None if chunk_rows is None else _check_int(chunk_rows, "chunk_rows", 1),
            block_rows=block_rows, overwrite=overwrite, callback=callback, workers=workers,
            attributes={"gdd_dask_version": _version(), **(attributes or {})})
    block_rows = default_block_rows(n_features) if block_rows is None \
        else _check_int(block_rows, "block_rows", 1)
    chunk_rows = default_chunk_rows(n_features) if chunk_rows is None \
        else _check_int(chunk_rows, "chunk_rows", 1)
    problem = make_problem(kind, n_features=n_features, n_classes=n_classes,
                           intercept=intercept, noise=_check_real(noise, "noise"), seed=seed)
    meta = {**problem.attributes(), "n_samples": n_samples, "block_rows": block_rows,
            "generator": f"gdd_dask.datasets.make_{kind}", "gdd_dask_version": _version(),
            **(attributes or {})}
    X, y = create_store(path, n_samples=n_samples, n_features=n_features,
                        chunk_rows=min(chunk_rows, n_samples), codec=codec,
                        attributes=meta, overwrite=overwrite)
    with removed_on_error(path):
        _fill(X, y, problem, block_rows, callback=callback, workers=workers)
    return {**meta, "codec": codec, "chunk_rows": X.chunks[0]}


def _fill(X, y, problem, block_rows, *, callback, workers):
    """Draw the generation blocks in order on ``workers`` threads and write them,
    re-cut into the store's chunks."""
    n_samples = X.shape[0]

    def draw(block):  # always a whole block, so a row never depends on n_samples
        X_b, y_b = problem.draw(block, block_rows)
        rows = min(block_rows, n_samples - block * block_rows)
        return X_b[:rows], y_b[:rows]

    blocks = ordered_map(draw, range(-(-n_samples // block_rows)), workers=workers)
    sizes = (stop - start for start, stop in block_bounds(n_samples, X.chunks[0]))
    write_chunks(X, y, rebatch(blocks, sizes), callback=callback, workers=workers)


def make_regression(path, *, n_samples, n_features, noise=1.0, intercept=0.5,
                    chunk_rows=None, seed=0, block_rows=None, codec=DEFAULT_CODEC,
                    overwrite=False, callback=None):
    """Linear regression data, :math:`y = X w + b + \\sigma \\varepsilon`, to a Zarr store.

    ``X ~ N(0, 1)``, ``w ~ N(0, 1/n_features)``, ``b = intercept``, ``sigma = noise``.
    Returns the stored attributes (true ``coef`` and ``intercept`` included).
    See :func:`make_synthetic` for the shared options.
    """
    return make_synthetic(path, "regression", n_samples=n_samples, n_features=n_features,
                          noise=noise, intercept=intercept, chunk_rows=chunk_rows, seed=seed,
                          block_rows=block_rows, codec=codec, overwrite=overwrite,
                          callback=callback)


def make_classification(path, *, n_samples, n_features, n_classes=2, intercept=None,
                        chunk_rows=None, seed=0, block_rows=None, codec=DEFAULT_CODEC,
                        overwrite=False, callback=None):
    """Logistic (two classes) or softmax (more) classification data to a Zarr store.

    Labels ``0 .. n_classes-1`` (float64) drawn from ``sigmoid(X w + b)`` or
    ``softmax(X W + b)``; ``intercept`` defaults to 0.5 for two classes and 0 for more
    (a number or one per class). Returns the stored attributes.
    """
    if intercept is None:
        intercept = 0.5 if n_classes == 2 else 0.0
    return make_synthetic(path, "classification", n_samples=n_samples, n_features=n_features,
                          n_classes=n_classes, intercept=intercept, chunk_rows=chunk_rows,
                          seed=seed, block_rows=block_rows, codec=codec, overwrite=overwrite,
                          callback=callback)


def make_poisson(path, *, n_samples, n_features, intercept=0.5, chunk_rows=None, seed=0,
                 block_rows=None, codec=DEFAULT_CODEC, overwrite=False, callback=None):
    """Poisson regression data, :math:`y \\sim \\text{Poisson}(e^{X w + b})`, to a Zarr
    store. Returns the stored attributes."""
    return make_synthetic(path, "poisson", n_samples=n_samples, n_features=n_features,
                          intercept=intercept, chunk_rows=chunk_rows, seed=seed,
                          block_rows=block_rows, codec=codec, overwrite=overwrite,
                          callback=callback)
