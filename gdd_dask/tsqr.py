"""Tall-skinny QR of the weighted, centred data: least squares in one pass.

For a chunk's rows ``a_i = [x_i, y_i]`` (features, then the target's columns) with
weights ``s_i``, a *moment* is ``(W, m, R)``: the weight ``W = sum_i s_i``, the weighted
mean ``m = sum_i s_i a_i / W`` and the ``k x k`` upper-triangular ``R`` of the QR
factorization of the rows ``sqrt(s_i) (a_i - m)``, so that

.. math:: R^T R = \\sum_i s_i (a_i - m)(a_i - m)^T

(the centred scatter matrix, never formed: its condition number is the square of the
data's). Moments merge exactly, as Chan et al.'s pairwise variance update does for a
scalar: for parts ``j`` with ``W = sum_j W_j`` and ``m = sum_j W_j m_j / W``,

.. math:: \\sum_i s_i (a_i - m)(a_i - m)^T = \\sum_j R_j^T R_j
          + \\sum_j W_j (m_j - m)(m_j - m)^T,

so the merged ``R`` is the R factor of the stacked ``R_j`` and the rows
``sqrt(W_j) (m_j - m)``. Without an intercept nothing is centred (``m = 0``, no extra
rows). A chunk is factored in :func:`~gdd_dask.chunk.row_blocks` (each block's moment,
merged left to right), the engine merges the chunks' moments with its fixed tree
(:func:`merge_moments` as the combine), and the result does not depend on where a
chunk was computed. Each ``R`` has a non-negative diagonal, which makes it unique.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import is_array_api_strict_namespace, is_numpy_namespace
from scipy.linalg import lapack

from .chunk import (
    aligned,
    as_float64,
    dense_row_blocks,
    host,
    raise_nonfinite,
    row_blocks,
    to_numpy,
)
from .losses.base import is_scipy_sparse, is_sparse, namespace

__all__ = ["chunk_moment", "merge_moments", "r_factor"]


PANEL = 32
"""Columns per panel of LAPACK's blocked QR (``dgeqrt``; measured fastest on narrow
blocks, about twice a Gram matrix's cost, where ``numpy.linalg.qr`` -- unblocked
``dgeqr2`` below 128 columns -- takes eight times)."""


def r_factor(A, xp=np):
    """The ``k x k`` R of ``A`` (``m x k``; rows of zeros added when ``m < k``), its
    diagonal made non-negative. A NumPy ``A`` must be float64 and is overwritten."""
    m, k = A.shape
    if not is_numpy_namespace(xp):
        R = to_numpy(xp.linalg.qr(A)[1])
    elif m == 0 or k == 0:
        R = np.zeros((0, k))
    else:
        A = np.asfortranarray(A)
        R = np.triu(lapack.dgeqrt(min(PANEL, m, k), A, overwrite_a=1)[0][:k])
    if R.shape[0] < k:
        R = np.vstack([R, np.zeros((k - R.shape[0], k))])
    signs = np.where(np.diag(R) < 0, -1.0, 1.0)
    return R * signs[:, None]


def _block(Xb, yb, sb, center, xp):
    """One block's moment ``(W, m, R)`` (module docstring)."""
    n, p = Xb.shape
    yb = xp.reshape(yb, (n, -1))
    if is_numpy_namespace(xp):  # built in Fortran order, as LAPACK factors it
        A = np.empty((n, p + yb.shape[1]), order="F")
        A[:, :p], A[:, p:] = Xb, yb
    else:
        A = xp.concat([Xb, yb], axis=1)
    weight = float(n) if sb is None else float(to_numpy(xp.sum(sb)))
    mean = xp.zeros(A.shape[1], dtype=xp.float64)
    if center and weight > 0:
        mean = (xp.sum(A, axis=0) if sb is None else sb @ A) / weight
        A -= mean
    if sb is not None:
        A *= xp.sqrt(sb)[:, None]
    return np.float64(weight), to_numpy(mean), r_factor(A, xp)


def merge_moments(parts):
    """The moment ``(W, m, R)`` of the union of the rows of ``parts`` (module
    docstring); ``m`` stays 0 for uncentred moments."""
    parts = list(parts)
    weights = np.array([float(w) for w, _, _ in parts])
    total = float(np.sum(weights))
    means = np.stack([m for _, m, _ in parts])
    mean = (weights @ means) / total if total > 0 else np.zeros_like(means[0])
    rows = [R for _, _, R in parts]
    if np.any(means):
        rows.append(np.sqrt(weights)[:, None] * (means - mean))
    return np.float64(total), mean, r_factor(np.vstack(rows))


def chunk_moment(fit_intercept, offset, index, X, y, sample_weight):
    """The moment of one chunk's rows ``[X, y]`` (centred with ``fit_intercept``),
    its row blocks factored one at a time and merged in order."""
    sparse = is_sparse(X)  # its row blocks densified one at a time for LAPACK
    xp = np if is_scipy_sparse(X) else namespace(X)

    if is_array_api_strict_namespace(xp):  # NumPy buffers: LAPACK's QR, NumPy's bits
        X, y, sample_weight = (None if a is None else host(a) for a in (X, y, sample_weight))
        xp = np
    X = X.tocsr() if sparse else aligned(X)
    parts = []
    for rows in dense_row_blocks(*X.shape) if sparse else row_blocks(X, xp):
        Xb = as_float64(X[rows].toarray() if sparse else X[rows, ...], xp)
        yb, sb = (None if a is None else as_float64(a[rows, ...], xp)
                  for a in (y, sample_weight))
        part = _block(Xb, yb, sb, fit_intercept, xp)
        if not (np.all(np.isfinite(part[1])) and np.all(np.isfinite(part[2]))):
            raise_nonfinite(X, y, sample_weight, offset, index, xp)
        parts.append(part)
    return parts[0] if len(parts) == 1 else merge_moments(parts)
