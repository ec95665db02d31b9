"""The losses of scikit-learn's ``SGDClassifier`` and ``SGDRegressor``, as linear losses.

Classification losses take labels ``y in {0, 1}`` and score the margin
``z = (2 y - 1) r``:

- ``hinge``: ``max(0, 1 - z)`` (a linear SVM); ``perceptron``: ``max(0, -z)``;
- ``squared_hinge``: ``max(0, 1 - z)^2``;
- ``modified_huber``: ``max(0, 1 - z)^2`` for ``z >= -1``, else ``-4 z``.

Regression losses score the residual ``u = r - y``:

- ``huber``: ``u^2 / 2`` for ``|u| <= epsilon``, else ``epsilon (|u| - epsilon / 2)``;
- ``epsilon_insensitive``: ``max(0, |u| - epsilon)`` (linear SVR);
- ``squared_epsilon_insensitive``: ``max(0, |u| - epsilon)^2``.

The kinked losses are not differentiable everywhere; ``gradient`` is the subgradient
scikit-learn uses, which is what the stochastic solvers need. :class:`OneVsRestLoss`
turns a binary loss into ``K`` independent outputs, one per class (scikit-learn's
one-versus-all for more than two classes).
"""

from __future__ import annotations

from .base import LinearModelLoss
from .glm import LogisticLoss, SquaredLoss
from .multinomial import softmax
from .registry import CLASSIFICATION_LOSSES, REGRESSION_LOSSES, register_loss

__all__ = ["CLASSIFICATION_LOSSES", "REGRESSION_LOSSES", "OneVsRestLoss", "ResidualMarginLoss",
           "margin_loss"]


class _MarginLoss(LinearModelLoss):
    """A loss of ``z = (2 y - 1) r``: subclasses define ``value(z)`` and ``slope(z)``."""

    target_rule = "y must be 0 or 1 for a binary classification loss"

    def invalid_target(self, y, xp):
        return (y != 0) & (y != 1)

    def loss(self, y, raw, xp):
        return self.value((2.0 * y - 1.0) * raw, xp)

    def gradient(self, y, raw, xp):
        sign = 2.0 * y - 1.0
        return sign * self.slope(sign * raw, xp)


class HingeLoss(_MarginLoss):
    """``max(0, threshold - z)``: hinge (threshold 1) or perceptron (threshold 0)."""

    name = "hinge"

    def __init__(self, threshold=1.0):
        self.threshold = float(threshold)

    def value(self, z, xp):
        return xp.maximum(self.threshold - z, 0.0)

    def slope(self, z, xp):
        return -xp.astype(z <= self.threshold, z.dtype)

    def __repr__(self):
        return f"HingeLoss(threshold={self.threshold})"


class SquaredHingeLoss(_MarginLoss):
    """``max(0, 1 - z)^2``."""

    name = "squared_hinge"

    def value(self, z, xp):
        return xp.maximum(1.0 - z, 0.0) ** 2

    def slope(self, z, xp):
        return -2.0 * xp.maximum(1.0 - z, 0.0)


class ModifiedHuberLoss(_MarginLoss):
    """``max(0, 1 - z)^2`` for ``z >= -1``, ``-4 z`` below: smooth, and linear for
    badly misclassified rows."""

    name = "modified_huber"

    def value(self, z, xp):
        return xp.where(z >= -1.0, xp.maximum(1.0 - z, 0.0) ** 2, -4.0 * z)

    def slope(self, z, xp):
        return xp.where(z >= -1.0, -2.0 * xp.maximum(1.0 - z, 0.0), -4.0 + 0.0 * z)

    def positive_proba(self, raw, xp):
        """scikit-learn's ``P(y = 1) = (clip(r, -1, 1) + 1) / 2``."""
        return (xp.clip(raw, min=-1.0, max=1.0) + 1.0) / 2.0

    def predict_proba(self, raw, xp):
        """``[1 - p, p]`` of :meth:`positive_proba`."""
        p = self.positive_proba(raw, xp)
        return xp.stack([1.0 - p, p], axis=1)


class ResidualMarginLoss(_MarginLoss):
    """A regression loss of ``r - y_pm`` for the labels ``y_pm = 2 y - 1`` in
    ``{-1, 1}``, as scikit-learn's ``SGDClassifier`` takes ``"squared_error"``,
    ``"huber"`` and the epsilon-insensitive losses: as ``|y_pm| = 1`` and these losses
    are even, that is ``residual(z - 1)`` of the margin ``z = y_pm r``."""

    def __init__(self, residual):
        self.residual = residual
        self.name = residual.name

    def value(self, z, xp):
        return self.residual.loss(1.0, z, xp)

    def slope(self, z, xp):
        return self.residual.gradient(1.0, z, xp)

    def __repr__(self):
        return f"ResidualMarginLoss({self.residual!r})"


class _ResidualLoss(LinearModelLoss):
    """A loss of ``u = r - y`` with a width ``epsilon``."""

    def __init__(self, epsilon=0.1):
        self.epsilon = float(epsilon)

    def loss(self, y, raw, xp):
        return self.value(raw - y, xp)

    def gradient(self, y, raw, xp):
        return self.slope(raw - y, xp)

    def __repr__(self):
        return f"{type(self).__name__}(epsilon={self.epsilon})"


class HuberLoss(_ResidualLoss):
    """``u^2 / 2`` for ``|u| <= epsilon``, else ``epsilon (|u| - epsilon / 2)``."""

    name = "huber"

    def value(self, u, xp):
        a, e = xp.abs(u), self.epsilon
        return xp.where(a <= e, 0.5 * u * u, e * (a - 0.5 * e))

    def slope(self, u, xp):
        return xp.minimum(xp.maximum(u, -self.epsilon), self.epsilon)


class EpsilonInsensitiveLoss(_ResidualLoss):
    """``max(0, |u| - epsilon)^power``, ``power`` 1 or 2."""

    name = "epsilon_insensitive"

    def __init__(self, epsilon=0.1, power=1):
        super().__init__(epsilon)
        self.power = int(power)

    def value(self, u, xp):
        return xp.maximum(xp.abs(u) - self.epsilon, 0.0) ** self.power

    def slope(self, u, xp):
        excess = xp.maximum(xp.abs(u) - self.epsilon, 0.0)
        scale = 2.0 * excess if self.power == 2 else xp.astype(excess > 0, u.dtype)
        return xp.sign(u) * scale


class OneVsRestLoss(LinearModelLoss):
    """``K`` outputs, output ``k`` the binary ``loss`` of ``[y == k]``: labels
    ``0 .. K-1``, the sum of the ``K`` binary losses per row."""

    name = "one_vs_rest"

    def __init__(self, binary, n_classes):
        self.binary, self.n_outputs = binary, int(n_classes)
        self.target_rule = f"y must hold integer class labels 0..{self.n_outputs - 1}"

    def invalid_target(self, y, xp):
        return (y < 0) | (y >= self.n_outputs) | (y != xp.round(y))

    def _indicators(self, y, raw, xp):
        classes = xp.arange(self.n_outputs, dtype=raw.dtype)
        return xp.astype(xp.reshape(y, (-1, 1)) == classes, raw.dtype)

    def loss(self, y, raw, xp):
        return self.binary.loss(self._indicators(y, raw, xp), raw, xp)

    def gradient(self, y, raw, xp):
        return self.binary.gradient(self._indicators(y, raw, xp), raw, xp)

    def loss_gradient(self, y, raw, xp):
        return self.binary.loss_gradient(self._indicators(y, raw, xp), raw, xp)

    def predict_proba(self, raw, xp):
        """Each output's ``P(y = k)`` of the binary loss, normalized to sum to 1 (uniform
        where they are all 0), as scikit-learn's one-versus-all."""
        p = self.binary.positive_proba(raw, xp)
        total = xp.sum(p, axis=1, keepdims=True)
        uniform = xp.ones_like(p) / p.shape[1]
        return xp.where(total > 0, p / xp.where(total > 0, total, 1.0), uniform)

    def predict_log_proba(self, raw, xp):
        """The log of :meth:`predict_proba` from the outputs' log-probabilities
        (``log p_k - log sum_j p_j``), for a binary loss that has them."""
        logs = self.binary.positive_log_proba(raw, xp)
        return logs - xp.reshape(softmax(logs, xp)[1], (-1, 1))

    def __repr__(self):
        return f"OneVsRestLoss({self.binary!r}, n_classes={self.n_outputs})"


for _name, _make in (("hinge", lambda epsilon=0.1: HingeLoss(1.0)),
                     ("log_loss", lambda epsilon=0.1: LogisticLoss()),
                     ("modified_huber", lambda epsilon=0.1: ModifiedHuberLoss()),
                     ("squared_hinge", lambda epsilon=0.1: SquaredHingeLoss()),
                     ("perceptron", lambda epsilon=0.1: HingeLoss(0.0))):
    register_loss(_name, _make, uses=("sgd_classifier",))
for _name, _make in (("squared_error", lambda epsilon=0.1: SquaredLoss()),
                     ("huber", HuberLoss),
                     ("epsilon_insensitive", lambda epsilon=0.1: EpsilonInsensitiveLoss(epsilon)),
                     ("squared_epsilon_insensitive",
                      lambda epsilon=0.1: EpsilonInsensitiveLoss(epsilon, 2))):
    # scikit-learn's classifier takes them too, on the labels -1, 1 (margin_loss)
    register_loss(_name, _make, uses=("sgd_regressor", "sgd_classifier"))


def margin_loss(name, *, epsilon=0.1, n_classes=None):
    """The loss of scikit-learn's SGD name ``name`` (a regression loss without
    ``n_classes``); for a classifier (``n_classes``) a regression loss scores the labels
    -1, 1 (:class:`ResidualMarginLoss`), and more than two classes are one-versus-rest."""
    if name not in CLASSIFICATION_LOSSES:
        raise ValueError(f"unknown SGD loss {name!r}; choose one of "
                         f"{sorted(CLASSIFICATION_LOSSES)}")
    loss = CLASSIFICATION_LOSSES[name](epsilon)
    if n_classes is not None and name in REGRESSION_LOSSES:
        loss = ResidualMarginLoss(loss)
    return loss if n_classes is None or n_classes <= 2 else OneVsRestLoss(loss, n_classes)
