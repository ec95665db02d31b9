"""Single-output GLM losses: squared error, binary logistic, Poisson (log link).

Each is written pointwise in the raw prediction ``r = x.w + b``, on any array
namespace ``xp``; :class:`~gdd_dask.losses.base.LinearModelLoss` turns them into chunk
sums. The constants match scikit-learn's half losses, so objectives agree with it.
"""

from __future__ import annotations

from .base import LinearModelLoss

__all__ = ["SquaredLoss", "LogisticLoss", "PoissonLoss", "sigmoid"]


def sigmoid(raw, xp):
    """``1 / (1 + exp(-r))`` without overflow, via ``e = exp(-|r|)``."""
    e = xp.exp(-xp.abs(raw))
    return xp.where(raw >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


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


class LogisticLoss(LinearModelLoss):
    """Binary cross-entropy for ``y in {0, 1}`` and ``p = sigmoid(r)``.

    ``l = log(1 + exp(r)) - y r``; ``dl/dr = p - y``; ``d2l/dr2 = p (1 - p)``.
    """

    name = "logistic"
    target_rule = "y must be 0 or 1 for the logistic loss"

    def invalid_target(self, y, xp):
        return (y != 0) & (y != 1)

    def loss(self, y, raw, xp):
        return xp.log1p(xp.exp(-xp.abs(raw))) + xp.maximum(raw, 0.0) - y * raw

    def gradient(self, y, raw, xp):
        return sigmoid(raw, xp) - y

    def loss_gradient(self, y, raw, xp):
        e = xp.exp(-xp.abs(raw))
        loss = xp.log1p(e) + xp.maximum(raw, 0.0) - y * raw
        p = xp.where(raw >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return loss, p - y

    def hessian(self, y, raw, xp):
        p = sigmoid(raw, xp)
        return p * (1.0 - p)

    def inverse_link(self, raw, xp):
        return sigmoid(raw, xp)


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
