"""Coordinate descent on the Gram matrix: the lasso and the elastic net in one pass.

For the squared loss the objective is a quadratic plus the penalty,

.. math:: f(w) = f_0 + g_0^T w + \\tfrac12 w^T H w + \\alpha r \\lVert w \\rVert_1
          + \\tfrac{\\alpha (1 - r)}{2} \\lVert w \\rVert^2,

and ``H`` (``X1^T S X1 / W`` with ``X1 = [X, 1]``), ``g_0`` and ``f_0`` are the sums of
one Hessian pass at ``w = 0`` (the tree-reduced ``gdd-hess`` pass Newton uses). The
intercept is eliminated by centring (``b = y_bar - x_bar^T w``), which leaves

.. math:: \\tfrac12 w^T G w - q^T w + \\tfrac12 c + \\text{penalty},\\qquad
          G = H_{xx} - \\bar x \\bar x^T,\\ q = -g_{0,x} - \\bar x \\bar y

on the client, ``p x p``. That problem is handed to scikit-learn's coordinate descent
(its Cython loop, through the public ``ElasticNet``) as a least-squares problem with
the same Gram matrix: ``p + 1`` rows ``A`` with ``A^T A = G``, ``A^T z = q`` and
``|z|^2 = c`` (from ``G``'s eigendecomposition), so the minimizer is scikit-learn's own
on the full data -- what its ``precompute=True`` path computes -- after one pass over X
instead of one per iteration. For narrow data: ``p`` up to :data:`CD_MAX_PARAMS`
(the Hessian pass holds ``p^2`` floats per chunk).
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

from .base import Trace

__all__ = ["CD_MAX_PARAMS", "coordinate_descent"]

_WARNINGS = threading.Lock()
"""Held while scikit-learn's warnings are caught: ``catch_warnings`` swaps global
state, and shared fits (:mod:`gdd_dask.many`) run solvers in several threads."""
CD_MAX_PARAMS = 2048
"""The most parameters ``solver="auto"`` solves by coordinate descent on the Gram."""


def coordinate_descent(objective, x0, *, tol=1e-6, max_iter=1000, callback=None,
                       checkpoint=None):
    """The penalized least-squares minimizer by coordinate descent on the Gram matrix
    (module docstring): two passes over X in all (the check and the Gram). ``tol`` is
    scikit-learn's (``ElasticNet(tol=)``: the duality gap relative to ``|y - y_bar|^2``);
    ``max_iter`` its sweeps over the coordinates. ``x0`` warm-starts the sweeps. A
    ``checkpoint`` has nothing to keep: run again, the one pass gives the same bits."""
    if not getattr(objective.loss, "quadratic", False):
        raise ValueError(f"solver 'cd' needs the squared loss; got {objective.loss!r}")
    penalty, trace = objective.penalty, Trace(objective, callback)
    if np.ndim(getattr(penalty, "alpha", 0.0)) != 0:
        raise ValueError("solver 'cd' takes one penalty strength (alpha) for every "
                         f"coefficient; got {penalty!r}")
    zero = np.zeros(objective.n_params)
    f0, g0, H = trace.counted(objective.value_grad_hessian)(zero)
    H = H - np.diag(penalty.hessian_diag(zero))  # the loss's alone
    mask = objective.loss.penalty_mask(objective.n_features,
                                       fit_intercept=objective.fit_intercept)
    G, q, c, x_bar, y_bar = _centred(H, g0, f0, mask)
    alpha, l1_ratio = float(getattr(penalty, "alpha", 0.0)), float(getattr(penalty,
                                                                            "l1_ratio", 0.0))
    w, n_iter, converged = _elastic_net(G, q, c, alpha, l1_ratio, tol, max_iter, x0[mask],
                                        positive=getattr(penalty, "positive", False))
    x = np.zeros(objective.n_params)
    x[mask] = w
    x[~mask] = y_bar - x_bar @ w
    fun = f0 + g0 @ x + 0.5 * x @ H @ x + penalty.value(x)
    grad = g0 + H @ x + penalty.grad(x)
    trace.record(n_iter, x, fun, grad)
    status = 0 if converged else 1
    return trace.result(x, fun, grad, n_iter, status)


def _centred(H, g0, f0, mask):
    """``(G, q, c, x_bar, y_bar)`` of the quadratic with the unpenalized (intercept)
    coordinates ``b`` eliminated (``x_b = y_bar - x_bar w`` minimizes it for any
    ``w``): ``G = H_ww - H_wb H_bb^-1 H_bw``, ``q = -g_w + H_wb H_bb^-1 g_b``,
    ``c = 2 f_0 - g_b^T H_bb^-1 g_b``, ``x_bar = H_bb^-1 H_bw``, ``y_bar = -H_bb^-1
    g_b``; one intercept per output of a matrix target. Without one, the quadratic
    itself."""
    if mask.all():
        return H, -g0, 2.0 * f0, np.zeros((0, H.shape[0])), np.zeros(0)
    b = ~mask
    H_bb = H[np.ix_(b, b)]
    x_bar = np.linalg.solve(H_bb, H[np.ix_(b, mask)])
    y_bar = -np.linalg.solve(H_bb, g0[b])
    G = H[np.ix_(mask, mask)] - H[np.ix_(mask, b)] @ x_bar
    q = -g0[mask] - x_bar.T @ (H_bb @ y_bar)
    c = 2.0 * f0 - y_bar @ H_bb @ y_bar
    return G, q, c, x_bar, y_bar


def _elastic_net(G, q, c, alpha, l1_ratio, tol, max_iter, w0, *, positive=False):
    """``argmin 1/2 w^T G w - q^T w + alpha (r |w|_1 + (1 - r)/2 |w|^2)`` (over ``w >=
    0`` with ``positive``) by
    scikit-learn's coordinate descent on rows ``A, z`` with the same Gram (module
    docstring): ``(w, sweeps, converged)``."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import ElasticNet

    eigenvalues, V = np.linalg.eigh((G + G.T) / 2)
    keep = eigenvalues > np.finfo(float).eps * max(eigenvalues.max(), 0.0) * len(G)
    root = np.sqrt(eigenvalues[keep])
    A = np.vstack([root[:, None] * V[:, keep].T, np.zeros((1, len(G)))])
    z_top = (V[:, keep].T @ q) / root
    z = np.append(z_top, np.sqrt(max(c - float(z_top @ z_top), 0.0)))
    rows = A.shape[0]
    model = ElasticNet(alpha=alpha / rows, l1_ratio=l1_ratio, fit_intercept=False,
                       tol=tol, max_iter=max_iter, warm_start=True, selection="cyclic",
                       positive=positive)
    model.coef_ = np.array(w0, dtype=np.float64)
    with _WARNINGS, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(A, z)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return np.asarray(model.coef_, dtype=np.float64), int(model.n_iter_), converged
