"""Single-output GLM losses: squared error, binary logistic, Poisson (log link).

Each is written pointwise in the raw prediction ``r = x.w + b``, on any array
namespace ``xp``; :class:`~gdd_dask.losses.base.LinearModelLoss` turns them into chunk
sums. The constants match scikit-learn's half losses, so objectives agree with it.
"""

from __future__ import annotations

import math

import numpy as np

from .base import LinearModelLoss
from .registry import register_loss

__all__ = ["SquaredLoss", "LogisticLoss", "PoissonLoss", "log_link", "log_sigmoid", "sigmoid"]


def log_link(mean):
    """The raw prediction ``log(mean)`` of a log-link GLM's mean (0 for a mean of 0)."""
    return math.log(mean) if mean > 0 else 0.0


def sigmoid(raw, xp):
    """``1 / (1 + exp(-r))`` without overflow, via ``e = exp(-|r|)``."""
    e = xp.exp(-xp.abs(raw))
    return xp.where(raw >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_sigmoid(raw, xp):
    """``log sigmoid(r) = min(r, 0) - log(1 + exp(-|r|))``: no overflow, no ``log(0)``."""
    return xp.minimum(raw, 0.0) - xp.log1p(xp.exp(-xp.abs(raw)))


class SquaredLoss(LinearModelLoss):
    """``l = (r - y)^2 / 2``; ``dl/dr = r - y``; ``d2l/dr2 = 1``."""

    name = "squared"
    quadratic = True  # one Newton step solves it

    def loss(self, y, raw, xp):
        return 0.5 * (raw - y) ** 2

    def gradient(self, y, raw, xp):
        return raw - y

    def hessian(self, y, raw, xp):
        return xp.ones_like(raw)

    def link(self, mean):
        return float(mean)

    def deviance(self, y, raw, xp):
        """Half the squared error, ``(y - r)^2 / 2``."""
        return 0.5 * (y - raw) ** 2


class LogisticLoss(LinearModelLoss):
    """Binary cross-entropy for ``y in {0, 1}`` and ``p = sigmoid(r)``.

    ``l = log(1 + exp(r)) - y r``; ``dl/dr = p - y``; ``d2l/dr2 = p (1 - p)``.
    """

    name = "logistic"
    target_rule = "y must be 0 or 1 for the logistic loss"

    def invalid_target(self, y, xp):
        return (y != 0) & (y != 1)

    def loss(self, y, raw, xp):
        """``(1 - y) r - log sigmoid(r)``, exact at large margins (as
        :meth:`loss_gradient` computes it)."""
        return (1.0 - y) * raw + (xp.log1p(xp.exp(-xp.abs(raw))) - xp.minimum(raw, 0.0))

    def gradient(self, y, raw, xp):
        return sigmoid(raw, xp) - y

    def loss_gradient(self, y, raw, xp):
        e = xp.exp(-xp.abs(raw))
        loss = (1.0 - y) * raw + (xp.log1p(e) - xp.minimum(raw, 0.0))
        p = xp.where(raw >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return loss, p - y

    def hessian(self, y, raw, xp):
        """``p (1 - p) = e / (1 + e)^2`` with ``e = exp(-|r|)``: no cancellation in ``1 -
        p`` for large margins."""
        e = xp.exp(-xp.abs(raw))
        return e / (1.0 + e) ** 2

    def inverse_link(self, raw, xp):
        return sigmoid(raw, xp)

    def positive_proba(self, raw, xp):
        """``P(y = 1) = sigmoid(r)`` of each output."""
        return sigmoid(raw, xp)

    def positive_log_proba(self, raw, xp):
        """``log sigmoid(r)`` of each output, finite where the probability rounds to 0."""
        return log_sigmoid(raw, xp)

    def predict_proba(self, raw, xp):
        """``[sigmoid(-r), sigmoid(r)]`` of one output (both sides exact, no ``1 - p``);
        each output's ``sigmoid(r)`` for several (multilabel)."""
        if raw.ndim == 1:
            return xp.stack([sigmoid(-raw, xp), sigmoid(raw, xp)], axis=1)
        return sigmoid(raw, xp)

    def predict_log_proba(self, raw, xp):
        """The log of :meth:`predict_proba` by log-sigmoids: no ``log(0)``."""
        if raw.ndim == 1:
            return xp.stack([log_sigmoid(-raw, xp), log_sigmoid(raw, xp)], axis=1)
        return log_sigmoid(raw, xp)


class PoissonLoss(LinearModelLoss):
    """Half Poisson deviance with log link, ``mu = exp(r)``, ``y >= 0``.

    ``l = exp(r) - y r``; ``dl/dr = exp(r) - y``; ``d2l/dr2 = exp(r)``.
    """

    name = "poisson"
    target_rule = "y must be non-negative for the poisson loss"

    def invalid_target(self, y, xp):
        return y < 0

    def loss(self, y, raw, xp):
        return xp.exp(raw) - y * raw

    def gradient(self, y, raw, xp):
        return xp.exp(raw) - y

    def loss_gradient(self, y, raw, xp):
        mu = xp.exp(raw)
        return mu - y * raw, mu - y

    def hessian(self, y, raw, xp):
        return xp.exp(raw)

    def inverse_link(self, raw, xp):
        return xp.exp(raw)

    def link(self, mean):
        return log_link(mean)

    distribution = "Poisson(exp({raw}))"
    """What :meth:`sample` draws, of the raw prediction ``{raw}``."""

    def sample(self, raw, rng):
        """Synthetic targets at raw predictions ``raw`` (NumPy): ``Poisson(exp(r))``."""
        return rng.poisson(np.exp(raw)).astype(np.float64)

    def deviance(self, y, raw, xp):
        """Half the unit deviance, ``y log(y / mu) - y + mu``."""
        positive = xp.where(y > 0, y, 1.0)
        return xp.where(y > 0, y * xp.log(positive), 0.0) - y * raw + xp.exp(raw) - y


register_loss("squared", SquaredLoss)
register_loss("logistic", LogisticLoss)
register_loss("poisson", PoissonLoss)
