"""Log-link GLM losses of the Tweedie family: Gamma and Tweedie (any power).

Each is scikit-learn's half deviance in the raw prediction ``r = log mu`` with the
terms that do not depend on ``r`` dropped (``HalfGammaLoss``, ``HalfTweedieLoss``), so
the objectives, hence the minimizers, are scikit-learn's. Each loss also carries what
the estimators need of it: ``link`` (the raw prediction of a mean) and ``deviance``
(the half unit deviance, zero at ``mu = y``), from which
:func:`gdd_dask.estimators.metrics.d2` is the fraction of deviance explained.
"""

from __future__ import annotations

import math

import numpy as np

from .base import LinearModelLoss
from .glm import PoissonLoss, log_link
from .registry import register_loss

__all__ = ["GammaLoss", "TweedieLoss"]


class GammaLoss(LinearModelLoss):
    """Half Gamma deviance with log link, ``y > 0``:
    ``l = r + y exp(-r)``; ``dl/dr = 1 - y exp(-r)``; ``d2l/dr2 = y exp(-r)``."""

    name = "gamma"
    target_rule = "y must be positive for the gamma loss"

    def invalid_target(self, y, xp):
        return y <= 0

    def loss(self, y, raw, xp):
        return raw + y * xp.exp(-raw)

    def gradient(self, y, raw, xp):
        return 1.0 - y * xp.exp(-raw)

    def hessian(self, y, raw, xp):
        return y * xp.exp(-raw)

    def inverse_link(self, raw, xp):
        return xp.exp(raw)

    def link(self, mean):
        return log_link(mean)

    distribution = "Gamma(shape 2, mean exp({raw}))"
    """What :meth:`sample` draws, of the raw prediction ``{raw}``."""

    def sample(self, raw, rng, shape=2.0):
        """Synthetic targets at raw predictions ``raw`` (NumPy): Gamma of ``shape`` and
        mean ``exp(r)``."""
        return rng.gamma(shape, np.exp(raw) / shape)

    def deviance(self, y, raw, xp):
        """``log(mu / y) + y / mu - 1``."""
        return raw - xp.log(y) + y * xp.exp(-raw) - 1.0


class TweedieLoss(LinearModelLoss):
    """Half Tweedie deviance of power ``p`` with log link (``p = 0`` normal, ``1``
    Poisson, ``(1, 2)`` compound Poisson-Gamma, ``2`` Gamma, ``3`` inverse Gaussian):

    ``l = exp((2 - p) r) / (2 - p) - y exp((1 - p) r) / (1 - p)``, with the limits
    ``exp(r) - y r`` at ``p = 1`` and ``r + y exp(-r)`` at ``p = 2``;
    ``dl/dr = exp((2 - p) r) - y exp((1 - p) r)``. Powers in ``(0, 1)`` have no
    distribution and are refused; ``y >= 0`` for ``1 <= p < 2``, ``y > 0`` from 2."""

    name = "tweedie"

    def __init__(self, power=1.5, n_outputs=1):
        super().__init__(n_outputs)
        power = float(power)
        if 0 < power < 1 or not math.isfinite(power):
            raise ValueError(f"power must be <= 0 or >= 1 for the Tweedie loss; got {power!r}")
        self.power = power
        # the limits p = 1 and 2 are the Poisson and Gamma losses themselves
        self._limit = PoissonLoss() if power == 1 else GammaLoss() if power == 2 else None
        self.target_rule = (f"y must be {'positive' if power >= 2 else 'non-negative'} for "
                            f"the Tweedie loss of power {power:g}") if power >= 1 else ""

    def invalid_target(self, y, xp):
        if self.power >= 2:
            return y <= 0
        return y < 0 if self.power >= 1 else xp.zeros(y.shape, dtype=xp.bool)

    def loss(self, y, raw, xp):
        p = self.power
        if self._limit is not None:
            return self._limit.loss(y, raw, xp)
        return xp.exp((2 - p) * raw) / (2 - p) - y * xp.exp((1 - p) * raw) / (1 - p)

    def gradient(self, y, raw, xp):
        p = self.power
        return xp.exp((2 - p) * raw) - y * xp.exp((1 - p) * raw)

    def hessian(self, y, raw, xp):
        p = self.power
        return (2 - p) * xp.exp((2 - p) * raw) - (1 - p) * y * xp.exp((1 - p) * raw)

    def inverse_link(self, raw, xp):
        return xp.exp(raw)

    def link(self, mean):
        return log_link(mean)

    def deviance(self, y, raw, xp):
        """Half the unit deviance, ``d(y, mu) / 2``, zero at ``mu = y``."""
        p, mu = self.power, xp.exp(raw)
        if self._limit is not None:
            return self._limit.deviance(y, raw, xp)
        if p == 0:
            return 0.5 * (y - mu) ** 2
        positive = xp.where(y > 0, y, 1.0)
        top = xp.where(y > 0, positive ** (2 - p), 0.0)  # max(y, 0)^(2 - p), scikit-learn's
        return (top / ((1 - p) * (2 - p)) - y * mu ** (1 - p) / (1 - p)
                + mu ** (2 - p) / (2 - p))

    def __repr__(self):
        outputs = f", n_outputs={self.n_outputs}" if self.n_outputs > 1 else ""
        return f"TweedieLoss(power={self.power:g}{outputs})"


register_loss("gamma", GammaLoss)
register_loss("tweedie", TweedieLoss)
