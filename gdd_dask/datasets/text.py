"""A sparse synthetic problem like hashed text: ``make_hashed_text``.

Each row is a "document" of ``nnz_per_row`` tokens drawn from a power law over the
``n_features`` hashed columns (Zipf's law of word frequencies, :math:`p_j \\propto
(j + 10)^{-1.1}` by frequency rank, the ranks scattered over the columns by a fixed
permutation as hashing scatters words). A row holds ``log(1 + count)`` of each column
it drew, scaled to unit L2 norm (what ``TfidfVectorizer(sublinear_tf=True,
use_idf=False)`` gives), so about ``nnz_per_row`` stored values, fewer where frequent
columns repeat. Labels are logistic, :math:`y \\sim \\text{Bernoulli}(\\text{sigmoid}(x
\\cdot w + b))`, from a sparse true model: 10% of the columns carry a weight
:math:`N(0, 40)` (so that :math:`x \\cdot w` has a standard deviation of about 2).

Rows are drawn per generation block from their own streams, as the dense problems'
(:mod:`~gdd_dask.datasets.blocks`), and written by the CSR writer; the true weights are
the store's ``coef`` array (too many for the attributes).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.special import expit

from .blocks import block_rng, ordered_map
from .codecs import DEFAULT_CODEC, compressors
from .sparse import write_sparse

__all__ = ["TOKENS_VALUES", "draw_hashed_text", "make_hashed_text"]

TOKENS_VALUES = 2**17
"""Tokens per generation block by default."""
ZIPF_EXPONENT, ZIPF_OFFSET = 1.1, 10.0
ACTIVE_FRACTION, WEIGHT_VARIANCE = 0.1, 40.0


class HashedText:
    """The problem's true model and its token distribution, drawn from ``seed``."""

    def __init__(self, n_features, nnz_per_row, intercept, seed):
        self.n_features, self.nnz_per_row = n_features, nnz_per_row
        self.intercept, self.seed = float(intercept), seed
        rng = block_rng(seed, -1)
        active = rng.random(n_features) < ACTIVE_FRACTION
        self.coef = np.where(active, rng.standard_normal(n_features), 0.0) \
            * np.sqrt(WEIGHT_VARIANCE)
        weights = (np.arange(n_features) + ZIPF_OFFSET) ** -ZIPF_EXPONENT
        self.cdf = np.cumsum(weights) / weights.sum()
        self.columns = rng.permutation(n_features)  # frequency rank -> column

    def draw(self, block, n_rows):
        """``(X, y)`` of generation block ``block``: CSR rows and their labels."""
        rng = block_rng(self.seed, block)
        ranks = np.searchsorted(self.cdf, rng.random((n_rows, self.nnz_per_row)))
        columns = self.columns[np.minimum(ranks, self.n_features - 1)]
        rows = np.repeat(np.arange(n_rows), self.nnz_per_row)
        counts = sparse.csr_matrix((np.ones(rows.size), (rows, columns.ravel())),
                                   shape=(n_rows, self.n_features))  # duplicates summed
        counts.data = np.log1p(counts.data)
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        X = sparse.csr_matrix(sparse.diags(1.0 / norms) @ counts)
        y = (rng.random(n_rows) < expit(X @ self.coef + self.intercept)).astype(np.float64)
        return X, y


def draw_hashed_text(n_samples, *, n_features=2**20, nnz_per_row=50, intercept=0.0,
                     seed=0, block_rows=None):
    """The rows of :func:`make_hashed_text` in memory: ``(X CSR, y, coef)``."""
    problem = HashedText(n_features, nnz_per_row, intercept, seed)
    blocks = list(_blocks(problem, n_samples, block_rows, workers=1))
    X = sparse.vstack([b[0] for b in blocks], format="csr")
    return X, np.concatenate([b[1] for b in blocks]), problem.coef


def _blocks(problem, n_samples, block_rows, *, workers):
    block_rows = block_rows or max(1, TOKENS_VALUES // problem.nnz_per_row)

    def draw(block):
        X, y = problem.draw(block, block_rows)
        rows = min(block_rows, n_samples - block * block_rows)
        return X[:rows], y[:rows]

    return ordered_map(draw, range(-(-n_samples // block_rows)), workers=workers)


def make_hashed_text(path, *, n_samples, n_features=2**20, nnz_per_row=50, intercept=0.0,
                     chunk_rows=None, seed=0, block_rows=None, codec=DEFAULT_CODEC,
                     overwrite=False, attributes=None, callback=None, workers=2):
    """Write the hashed-text problem (module note) to a new sparse store at ``path``;
    return its attributes. ``block_rows`` (default ``2**17 // nnz_per_row``) is part of
    the seed; ``callback(rows_written)`` follows the progress."""
    compressors(codec)
    problem = HashedText(n_features, nnz_per_row, intercept, seed)
    meta = {"kind": "hashed_text", "model": "logistic", "n_features": n_features,
            "nnz_per_row": nnz_per_row, "seed": seed, "intercept": [problem.intercept],
            "block_rows": block_rows or max(1, TOKENS_VALUES // nnz_per_row),
            "description": "y ~ Bernoulli(sigmoid(X @ coef + intercept)), X: l2-normalized "
                           "log(1 + counts) of power-law tokens (hashed text)",
            "generator": "gdd_dask.datasets.make_hashed_text", **(attributes or {})}
    blocks = _blocks(problem, n_samples, block_rows, workers=workers)
    written = write_sparse(path, _counted(blocks, callback), None, chunk_rows=chunk_rows,
                           codec=codec, attributes=meta, overwrite=overwrite)
    import zarr

    group = zarr.open_group(path, mode="r+")
    group.create_array("coef", data=problem.coef[None, :], compressors=compressors(codec))
    return written


def _counted(blocks, callback):
    rows = 0
    for block in blocks:
        yield block
        rows += block[0].shape[0]
        if callback is not None:
            callback(rows)
