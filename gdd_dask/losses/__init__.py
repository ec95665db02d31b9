"""Per-chunk losses that return sums, on any array namespace.

``LOSSES`` maps the names :func:`gdd_dask.minimize` accepts to loss classes, a view of
the one registry of losses (:mod:`gdd_dask.losses.registry`) that SGD's names and the
GLM lists read too; :func:`get_loss` resolves a name or passes a :class:`Loss` object
through.
"""

from __future__ import annotations

from .base import LinearModelLoss, Loss
from .glm import LogisticLoss, PoissonLoss, SquaredLoss
from .margin import margin_loss
from .multinomial import MultinomialLoss
from .registry import (
    CLASSIFICATION_LOSSES,
    GLM_LOSSES,
    LOSSES,
    REGRESSION_LOSSES,
    register_loss,
)
from .tweedie import GammaLoss, TweedieLoss

__all__ = [
    "CLASSIFICATION_LOSSES",
    "GLM_LOSSES",
    "GammaLoss",
    "LOSSES",
    "Loss",
    "LinearModelLoss",
    "LogisticLoss",
    "MultinomialLoss",
    "PoissonLoss",
    "REGRESSION_LOSSES",
    "SquaredLoss",
    "TweedieLoss",
    "get_loss",
    "margin_loss",
    "register_loss",
]

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
