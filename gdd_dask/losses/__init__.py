"""Per-chunk losses that return sums, on any array namespace.

``LOSSES`` maps the names :func:`gdd_dask.minimize` accepts to loss classes;
:func:`get_loss` resolves a name or passes a :class:`Loss` object through.
"""

from __future__ import annotations

from .base import LinearModelLoss, Loss
from .glm import LogisticLoss, PoissonLoss, SquaredLoss
from .multinomial import MultinomialLoss
from .tweedie import GammaLoss, TweedieLoss

__all__ = [
    "GLM_LOSSES",
    "GammaLoss",
    "LOSSES",
    "Loss",
    "LinearModelLoss",
    "LogisticLoss",
    "MultinomialLoss",
    "PoissonLoss",
    "SquaredLoss",
    "TweedieLoss",
    "get_loss",
]

LOSSES = {
    "squared": SquaredLoss,
    "logistic": LogisticLoss,
    "multinomial": MultinomialLoss,
    "poisson": PoissonLoss,
    "gamma": GammaLoss,
    "tweedie": TweedieLoss,
}

GLM_LOSSES = tuple(name for name, loss in LOSSES.items() if hasattr(loss, "sample"))
"""The log-link GLM losses that draw their own synthetic targets (``sample``): the
synthetic kinds and the CLI's GLM models of the same names."""

_METHODS = ("n_params", "penalty_mask", "invalid_target", "value_sum", "grad_sum")


def get_loss(loss, *, n_classes=None):
    """Return a Loss object for ``loss`` (a name from ``LOSSES`` or a Loss).

    ``n_classes`` is needed for ``"multinomial"`` only.
    """
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)}")
        if loss == "multinomial":
            if n_classes is None:
                raise ValueError("the multinomial loss needs n_classes")
            return MultinomialLoss(n_classes)
        return LOSSES[loss]()
    missing = [m for m in _METHODS if not callable(getattr(loss, m, None))]
    if missing:
        raise TypeError(
            f"loss must be a name or an object with the Loss methods; "
            f"{type(loss).__name__} lacks {missing}"
        )
    return loss
