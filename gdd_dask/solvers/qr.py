"""Least squares (and ridge) from the tall-skinny QR of the data: one pass, exact.

One ``gdd-qr`` pass gives the moment ``(W, m, R)`` of the rows ``[x_i, y_i]``
(:mod:`gdd_dask.tsqr`: ``R^T R`` is their weighted, centred scatter matrix, never
formed). With ``R = [[R_11, Z], [0, R_22]]`` (``p`` feature columns, then the ``K``
target columns) the objective of coefficients ``w`` (``p x K``, the intercepts
``b = m_y - m_x w`` eliminated) is

.. math:: f(w) = \\frac{1}{2W} \\lVert R B \\rVert_F^2 + \\frac{1}{2} \\sum_j
          \\alpha_j \\lVert w_j \\rVert^2, \\qquad B = \\begin{bmatrix} w \\\\ -I
          \\end{bmatrix},

so its minimizer solves ``R_11 w = Z`` -- after appending the rows ``sqrt(W alpha_j)
e_j`` to ``[R_11, Z]`` and re-factoring, for ridge -- by back substitution. The
condition number is the data's, not its square as in the normal equations
``X^T X w = X^T y``. When ``R_11`` is rank deficient (singular values below ``eps
max(n, p)`` times the largest, as NumPy's ``lstsq`` decides) the minimum-norm
solution is returned, as ``scipy.linalg.lstsq`` and scikit-learn give, with a
warning.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

from ..tsqr import r_factor
from .base import Trace

__all__ = ["QR_MAX_PARAMS", "least_squares_qr", "residuals", "with_ridge"]

QR_MAX_PARAMS = 2048
"""The most parameters ``solver="auto"`` solves by QR (each task's ``R`` holds
``(p + K)^2`` floats; past this, L-BFGS's passes are cheaper)."""


def least_squares_qr(objective, x0, *, tol=1e-6, max_iter=1, callback=None, checkpoint=None):
    """The least-squares (or ridge) minimizer from one QR pass (module docstring).
    ``x0``, ``tol`` and ``max_iter`` have nothing to do: the solution is direct. A
    ``checkpoint`` has nothing to keep: run again, the pass gives the same bits."""
    loss, penalty = objective.loss, objective.penalty
    if not getattr(loss, "quadratic", False):
        raise ValueError(f"solver 'qr' needs the squared loss; got {loss!r}")
    trace = Trace(objective, callback)
    trace.nfev += 1
    weight, mean, R = objective.moment()
    p, K = objective.n_features, getattr(loss, "n_outputs", 1)
    strengths = penalty.hessian_diag(np.zeros(objective.n_params)).reshape(-1, K)[:p]
    w = _coefficients(R, p, weight * strengths, objective.n_samples)
    x = np.vstack([w, mean[p:] - mean[:p] @ w]) if objective.fit_intercept else w
    x = x.ravel()
    residual = residuals(R, w)
    fun = 0.5 * float(np.sum(residual**2)) / weight + penalty.value(x)
    grad = np.zeros_like(x).reshape(-1, K)
    grad[:p] = (R[:, :p].T @ residual) / weight
    grad = grad.ravel() + penalty.grad(x)
    trace.record(1, x, fun, grad)
    return trace.result(x, fun, grad, 1, 0)


def _coefficients(R, p, ridge, n_samples):
    """``w`` (``p x K``) minimizing ``|R B|^2 + sum_j ridge_j |w_j|^2``: one output's
    ridge at a time where they differ, all at once where they agree."""
    if not np.all(ridge == ridge[:, :1]):
        return np.column_stack([_coefficients(R[:, list(range(p)) + [p + k]], p,
                                              ridge[:, k:k + 1], n_samples)
                                for k in range(ridge.shape[1])])
    R11, Z = with_ridge(R, p, ridge[:, 0])
    singular = linalg.svdvals(R11)
    cutoff = np.finfo(np.float64).eps * max(n_samples, p) * (singular[0] if p else 0.0)
    rank = int(np.sum(singular > cutoff))
    if rank == p:
        return linalg.solve_triangular(R11, Z)
    warnings.warn(
        f"X is rank deficient: rank {rank} of {p} columns (after centring, with the "
        "sample weights); the minimum-norm coefficients are returned", UserWarning,
        stacklevel=3)
    return linalg.lstsq(R11, Z, cond=cutoff / singular[0] if singular[0] > 0 else None)[0]


def with_ridge(R, p, ridge):
    """``(R_11, Z)`` of the moment's ``R`` (``p`` feature columns first) after appending
    the rows ``[sqrt(ridge_j) e_j, 0]`` and re-factoring; as they are without a ridge."""
    R11, Z = R[:p, :p], R[:p, p:]
    if not np.any(ridge > 0):
        return R11, Z
    rows = np.hstack([np.diag(np.sqrt(ridge)), np.zeros_like(Z)])
    T = r_factor(np.vstack([np.hstack([R11, Z]), rows]))
    return T[:p, :p], T[:p, p:]


def residuals(R, w):
    """``R [w; -I]`` for coefficients ``w`` (``p x K``): the centred residuals ``Xc w -
    Yc`` seen through ``Q``, so its squared Frobenius norm is the residual sum of
    squares."""
    return R @ np.vstack([w, -np.eye(w.shape[1])])
