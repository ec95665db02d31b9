"""Penalties, applied once on the client to the reduced sums (never per chunk).

A penalty acts on the parameters selected by the loss's ``penalty_mask`` (never on
intercepts). Smooth penalties give ``value``, ``grad`` and ``hessian_diag``, which the
objective adds to the data term. ``prox(params, step)`` is the proximal operator
``argmin_z penalty(z) + ||z - params||^2 / (2 step)``, the hook for proximal solvers
(L1 and elastic net are non-smooth and live there).
"""

from __future__ import annotations

import numpy as np

__all__ = ["L2Penalty", "NoPenalty", "make_penalty"]


class NoPenalty:
    """``P(w) = 0``."""

    alpha = 0.0

    def value(self, params):
        return 0.0

    def grad(self, params):
        return np.zeros_like(params)

    def hessian_diag(self, params):
        return np.zeros_like(params)

    def prox(self, params, step):
        return params

    def __repr__(self):
        return "NoPenalty()"


class L2Penalty:
    """``P(w) = alpha/2 * ||w[mask]||^2``; ``prox = w / (1 + step alpha)`` on the mask."""

    def __init__(self, alpha, mask):
        self.alpha = float(alpha)
        self.mask = np.asarray(mask, dtype=bool)
        self._scale = self.alpha * self.mask

    def value(self, params):
        w = params[self.mask]
        return 0.5 * self.alpha * float(w @ w)

    def grad(self, params):
        return self._scale * params

    def hessian_diag(self, params):
        return self._scale.astype(float)

    def prox(self, params, step):
        return params / (1.0 + step * self._scale)

    def __repr__(self):
        return f"L2Penalty(alpha={self.alpha})"


def make_penalty(penalty, alpha, mask):
    """Build the penalty named ``penalty`` (``"l2"`` or ``None``) with strength alpha."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.number)):
        raise TypeError(f"alpha must be a real number, got {type(alpha).__name__}")
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
    if penalty not in (None, "l2"):
        raise ValueError(f"unknown penalty {penalty!r}; choose 'l2' or None")
    if penalty is None or alpha == 0:
        return NoPenalty()
    return L2Penalty(alpha, mask)
