"""Penalties, applied once on the client to the reduced sums (never per chunk).

A penalty acts on the parameters selected by the loss's ``penalty_mask`` (never on
intercepts) and splits into a smooth part and a non-smooth part:

- ``value(w)``: the whole penalty, part of the objective's value;
- ``grad(w)``, ``hessian_diag(w)``: of the smooth part, added to the data term's;
- ``nonsmooth_value(w)`` and ``prox(w, t)``: the non-smooth part ``h`` and its
  proximal operator ``argmin_z h(z) + ||z - w||^2 / (2 t)``, for the proximal solver.

``"l2"``: ``alpha/2 ||w||^2`` (smooth). ``"l1"``: ``alpha ||w||_1``. ``"elasticnet"``:
``alpha (r ||w||_1 + (1 - r)/2 ||w||^2)`` with ``r = l1_ratio``, scikit-learn's
parametrization.
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = ["ElasticNetPenalty", "L2Penalty", "NoPenalty", "PENALTIES", "clamp_l2_shrink",
           "make_penalty", "rescaled", "soft_threshold"]

PENALTIES = ("l2", "l1", "elasticnet", None)


def soft_threshold(w, threshold):
    """``sign(w) max(|w| - threshold, 0)``: the proximal operator of ``threshold |w|``."""
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)


class NoPenalty:
    """``P(w) = 0``."""

    alpha = 0.0
    smooth = True

    def value(self, params):
        return 0.0

    def grad(self, params):
        return np.zeros_like(params)

    def hessian_diag(self, params):
        return np.zeros_like(params)

    def nonsmooth_value(self, params):
        return 0.0

    def prox(self, params, step):
        return params

    def __repr__(self):
        return "NoPenalty()"


class ElasticNetPenalty(NoPenalty):
    """``P(w) = alpha (r ||w||_1 + (1 - r)/2 ||w||^2)`` on the mask; ``r = 0`` is L2
    (smooth), ``r = 1`` is L1. The prox is soft-thresholding by ``step alpha r``.
    With ``positive`` the masked parameters are also held at ``w >= 0`` (the
    indicator of the constraint joins the non-smooth part; its prox clips at 0)."""

    def __init__(self, alpha, mask, l1_ratio, positive=False):
        alpha = np.asarray(alpha, dtype=np.float64)  # a number, or one per parameter
        self.alpha = float(alpha) if alpha.ndim == 0 else alpha
        self.l1_ratio = float(l1_ratio)
        self.mask = np.asarray(mask, dtype=bool)
        self.positive = bool(positive)
        self.smooth = self.l1_ratio == 0 and not self.positive
        self._l1 = self.alpha * self.l1_ratio * self.mask
        self._l2 = self.alpha * (1.0 - self.l1_ratio) * self.mask

    def value(self, params):
        return 0.5 * float(self._l2 @ params**2) + self.nonsmooth_value(params)

    def grad(self, params):
        return self._l2 * params

    def hessian_diag(self, params):
        return self._l2.astype(float)

    def nonsmooth_value(self, params):
        return float(self._l1 @ np.abs(params))

    def prox(self, params, step):
        z = soft_threshold(params, step * self._l1)
        return np.where(self.mask, np.maximum(z, 0.0), z) if self.positive else z

    @property
    def l1_weights(self):
        """``alpha r`` on the penalized parameters, 0 elsewhere: the L1 part's weights."""
        return self._l1

    @property
    def l2_weights(self):
        """``alpha (1 - r)`` on the penalized parameters, 0 elsewhere: the L2 part's."""
        return self._l2

    @property
    def l2_max(self):
        """The largest of :attr:`l2_weights` (0 without any)."""
        if not hasattr(self, "_l2_max"):
            self._l2_max = float(np.max(self._l2, initial=0.0))
        return self._l2_max

    def __repr__(self):
        positive = ", positive=True" if self.positive else ""
        if self.l1_ratio == 0:
            return f"L2Penalty(alpha={self.alpha}{positive})"
        if self.l1_ratio == 1:
            return f"L1Penalty(alpha={self.alpha}{positive})"
        return f"ElasticNetPenalty(alpha={self.alpha}, l1_ratio={self.l1_ratio}{positive})"


def rescaled(penalty, factor):
    """``penalty`` of ``x = factor * v`` (elementwise) as a penalty on ``v``: the same
    kind, with L1 weights times ``factor`` and L2 weights times ``factor**2``."""
    if not isinstance(penalty, ElasticNetPenalty):
        return penalty
    out = copy.copy(penalty)
    out._l1, out._l2 = penalty._l1 * factor, penalty._l2 * factor**2
    return out


def L2Penalty(alpha, mask):
    """``P(w) = alpha/2 ||w[mask]||^2``."""
    return ElasticNetPenalty(alpha, mask, 0.0)


def make_penalty(penalty, alpha, mask, l1_ratio=None, *, positive=False):
    """The penalty named ``penalty`` (one of :data:`PENALTIES`) with strength
    ``alpha`` -- a number, or an array of one per parameter (``mask``'s shape) -- and
    ``l1_ratio`` in ``[0, 1]`` for ``"elasticnet"``; ``positive`` constrains the
    penalized parameters to ``w >= 0`` (with no penalty too)."""
    if isinstance(alpha, np.ndarray) and alpha.ndim == 1 and alpha.shape == np.shape(mask) \
            and alpha.dtype.kind in "iuf":  # one strength per parameter
        if not np.all(np.isfinite(alpha)) or np.any(alpha < 0):
            raise ValueError("alpha must hold finite numbers >= 0")
    elif isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.number)):
        raise TypeError(f"alpha must be a real number, got {type(alpha).__name__}")
    elif not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
    if penalty not in PENALTIES:
        raise ValueError(f"unknown penalty {penalty!r}; choose one of {PENALTIES}")
    if penalty == "elasticnet":
        if isinstance(l1_ratio, bool) or not isinstance(l1_ratio, (int, float, np.number)) \
                or not 0 <= l1_ratio <= 1:
            raise ValueError(
                f"l1_ratio must be a number in [0, 1] for penalty='elasticnet'; "
                f"got {l1_ratio!r}")
    penalized = np.asarray(alpha)[np.asarray(mask, dtype=bool)] if np.ndim(alpha) else alpha
    if penalty is None or np.all(penalized == 0):
        return ElasticNetPenalty(0.0, mask, 0.0, positive=True) if positive else NoPenalty()
    ratio = {"l2": 0.0, "l1": 1.0}.get(penalty, l1_ratio)
    return ElasticNetPenalty(alpha, mask, ratio, positive=positive)



def clamp_l2_shrink(penalty, factor, params, grad):
    """``grad``, a step's gradient that holds the L2 term ``lambda params``, with that
    term limited to ``params / factor`` where ``factor`` is the step's multiplier of
    its gradient (``eta`` for SGD): the shrink ``1 - factor lambda`` of the step is
    then kept at 0 or above, as scikit-learn's SGD keeps it (``max(0, 1 - eta
    alpha)``; below 0 it would flip the parameters and grow them at every step, and
    with momentum the velocity would carry that on). ``grad`` itself wherever
    ``factor lambda <= 1``: the usual steps are untouched."""
    weights = getattr(penalty, "l2_weights", None)
    if weights is None or not factor > 0 or penalty.l2_max <= 1.0 / factor:
        return grad  # no parameter over: one comparison, not a pass over the weights
    over = weights - 1.0 / factor
    if not np.any(over > 0):
        return grad
    return grad - np.maximum(over, 0.0) * params
