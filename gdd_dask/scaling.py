"""Column moments of X and the standardizing change of variables built on them.

A *column moment* of rows ``x_i`` with weights ``s_i`` is ``(W, m, M)``: the weight
``W = sum_i s_i``, the weighted column means ``m = sum_i s_i x_i / W`` and the centred
sums of squares ``M_j = sum_i s_i (x_ij - m_j)^2``. Parts merge exactly (Chan, Golub &
LeVeque's pairwise update): with ``W = sum_k W_k`` and ``m = sum_k W_k m_k / W``,

.. math:: M = \\sum_k M_k + \\sum_k W_k (m_k - m)^2,

which never subtracts two large sums of squares (a column of years keeps its spread).
A chunk's moment is that of its row blocks merged left to right, and the engine's fixed
tree merges the chunks': the same bits on any number of workers.

:class:`ColumnScaling` is the linear map ``x = T v`` from standardized parameters ``v``
(the coefficients of the columns ``(x_j - c_j) / d_j``) to the model's own ``x = (W,
b)``:

.. math:: W_{jk} = V_{jk} / d_j, \\qquad b_k = u_k - \\sum_j c_j W_{jk},

so ``X W + b = ((X - c) / d) V + u`` -- evaluated on the unscaled chunks, with no copy
of X. Here ``c = m`` with an intercept (``0`` without) and ``d_j = sqrt(M_j / W + (m_j
- c_j)^2 + lambda)``: the root mean square of the shifted column, with the L2 weight
``lambda`` added so that a strongly penalized tiny column is not over-stretched (the
diagonal of the least-squares Hessian, i.e. Jacobi's preconditioner). A column with
``d_j = 0`` is left unscaled, and columns already well scaled (root mean squares
within :data:`WELL_SCALED` of 1 and of each other) are all left as they are: ``T`` is
then the identity and changes no bit.

This module runs on the workers (the moments): it imports NumPy only.
"""

from __future__ import annotations

import numpy as np

from .losses.base import chunk_device, is_sparse
from .reduction import add_sums

WELL_SCALED = 10.0
"""How far column scales may spread before :class:`ColumnScaling` standardizes them."""

__all__ = ["WELL_SCALED", "ColumnScaling", "add_with_moments", "block_moment",
           "merge_column_moments"]


def block_moment(X, sample_weight, xp):
    """The column moment ``(W, m, M)`` of one float64 block (module docstring), as
    NumPy."""
    from .chunk import to_numpy

    n = X.shape[0]
    W = float(n) if sample_weight is None else float(to_numpy(xp.sum(sample_weight)))
    if not W > 0:
        zeros = np.zeros(X.shape[1])
        return np.float64(0.0), zeros, zeros.copy()
    if is_sparse(X):  # sum s (x - m)^2 = sum s x^2 - W m^2: X is not centred
        s = xp.ones(n, dtype=X.dtype, device=chunk_device(X)) if sample_weight is None \
            else sample_weight
        mean = (X.T @ s) / W
        X.sum_duplicates()  # in place, a no-op on canonical CSR: squares of the sums
        M = xp.maximum(X.power(2).T @ s - W * mean**2, 0.0)  # 5x multiply(X)'s speed

        return np.float64(W), to_numpy(mean), to_numpy(M)

    mean = (xp.sum(X, axis=0) if sample_weight is None else sample_weight @ X) / W
    squares = (X - mean) ** 2
    M = xp.sum(squares, axis=0) if sample_weight is None else sample_weight @ squares
    return np.float64(W), to_numpy(mean), to_numpy(M)


def merge_column_moments(parts):
    """The column moment of the union of the rows of ``parts`` (module docstring)."""
    parts = list(parts)
    weights = np.array([float(w) for w, _, _ in parts])
    total = float(np.sum(weights))
    means = np.stack([m for _, m, _ in parts])
    mean = weights @ means / total if total > 0 else np.zeros_like(means[0])
    M = np.sum(np.stack([M for _, _, M in parts]), axis=0) + weights @ (means - mean) ** 2
    return np.float64(total), mean, M


def add_with_moments(parts):
    """Sums whose last entry is a column moment: the others added in order (as
    :func:`~gdd_dask.reduction.add_sums`), the moments merged."""
    parts = list(parts)
    head = add_sums([part[:-1] for part in parts])
    return (*head, merge_column_moments([part[-1] for part in parts]))


class ColumnScaling:
    """The map ``x = T v`` of the module docstring, for a linear model of ``n_outputs``
    outputs in the parameter layout of :class:`~gdd_dask.losses.LinearModelLoss`
    (coefficients ``(n_features, n_outputs)`` in C order, then the intercepts)."""

    def __init__(self, shift, scale, *, n_outputs, fit_intercept):
        self.shift = np.asarray(shift, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self.n_outputs, self.fit_intercept = int(n_outputs), bool(fit_intercept)

    @classmethod
    def from_moment(cls, moment, *, n_outputs, fit_intercept, l2_weight=0.0):
        """The scaling of the columns whose moment is ``(W, m, M)`` (module docstring);
        the identity when the columns are already well scaled (:meth:`well_scaled`)."""
        W, mean, M = moment
        l2_weight = float(l2_weight)
        spread = M / W if W > 0 else np.zeros_like(M)
        if cls.well_scaled(np.sqrt(spread + mean**2 + l2_weight)):
            shift, scale = np.zeros_like(mean), np.ones_like(mean)
        else:
            shift = mean if fit_intercept else np.zeros_like(mean)
            scale = np.sqrt(spread + (mean - shift) ** 2 + l2_weight)
            scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        return cls(shift, scale, n_outputs=n_outputs, fit_intercept=fit_intercept)

    @staticmethod
    def well_scaled(rms):
        """Whether columns of root mean squares ``rms`` (L2 weight included) are left as
        they are: all within a factor :data:`WELL_SCALED` of 1 and of each other (the
        diagonal of the Hessian then spans at most ``WELL_SCALED**2``), or zero. On
        such columns the solvers take the very steps they take unpreconditioned (and
        scikit-learn's, on the same data)."""
        rms = rms[np.isfinite(rms) & (rms > 0)]
        values = np.append(rms, 1.0)
        return bool(values.max() <= WELL_SCALED * values.min())

    @property
    def is_identity(self):
        return not np.any(self.shift) and bool(np.all(self.scale == 1.0))

    def solver_tol(self, tol):
        """A bound on the gradient in ``v`` that implies ``max|grad| <= tol`` in the
        model's coordinates: ``tol / ||T^{-T}||_inf`` (rows ``d_j + |c_j|``, and 1)."""
        return tol / max(1.0, float(np.max(self.scale + np.abs(self.shift), initial=1.0)))

    def _split(self, params):
        p, K = self.shift.shape[0], self.n_outputs
        return params[: p * K].reshape(p, K), params[p * K:]

    def _join(self, W, b):
        return np.concatenate([W.ravel(), b]) if self.fit_intercept else W.ravel()

    def to_original(self, v):
        """``x = T v``: ``W = V / d``, ``b = u - c W``."""
        V, u = self._split(np.asarray(v, dtype=np.float64))
        W = V / self.scale[:, None]
        return self._join(W, u - self.shift @ W if self.fit_intercept else u)

    def from_original(self, x):
        """``v = T^{-1} x``: ``V = d W``, ``u = b + c W``."""
        W, b = self._split(np.asarray(x, dtype=np.float64))
        return self._join(W * self.scale[:, None],
                          b + self.shift @ W if self.fit_intercept else b)

    def grad_to_scaled(self, g):
        """``T^T g``, the gradient in ``v`` from the gradient in ``x``:
        ``dV = (dW - c db) / d``, ``du = db``."""
        gW, gb = self._split(np.asarray(g, dtype=np.float64))
        if self.fit_intercept:
            gW = gW - self.shift[:, None] * gb[None, :]
        return self._join(gW / self.scale[:, None], gb)

    def grad_to_original(self, g):
        """``T^{-T} g``, the inverse of :meth:`grad_to_scaled`."""
        gV, gu = self._split(np.asarray(g, dtype=np.float64))
        gW = gV * self.scale[:, None]
        if self.fit_intercept:
            gW = gW + self.shift[:, None] * gu[None, :]
        return self._join(gW, gu)

    def parameter_factor(self):
        """``dx_i / dv_i`` of every coefficient (``1 / d_j``) and intercept (1): the
        factors of a penalty on the coefficients rewritten in ``v``."""
        factor = np.repeat(1.0 / self.scale, self.n_outputs)
        return np.concatenate([factor, np.ones(self.n_outputs)]) if self.fit_intercept \
            else factor

    def __repr__(self):
        return (f"ColumnScaling(n_features={self.shift.shape[0]}, "
                f"n_outputs={self.n_outputs}, fit_intercept={self.fit_intercept})")
