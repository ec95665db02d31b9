"""One registry of losses by name, read by every layer that takes a loss by name.

:func:`gdd_dask.minimize` and :func:`~gdd_dask.losses.get_loss` (:data:`LOSSES`), the
SGD estimators' scikit-learn names (:data:`CLASSIFICATION_LOSSES`,
:data:`REGRESSION_LOSSES`, through :func:`~gdd_dask.losses.margin.margin_loss`), and
the GLM estimators, synthetic datasets and CLI models (:data:`GLM_LOSSES`: the losses
that draw their own targets) are live views of :data:`REGISTRY`. A new loss is one
:func:`register_loss` call next to its class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Callable, NamedTuple

__all__ = ["CLASSIFICATION_LOSSES", "GLM_LOSSES", "LOSSES", "REGISTRY", "REGRESSION_LOSSES",
           "LossSpec", "register_loss"]

USES = ("minimize", "sgd_classifier", "sgd_regressor")


class LossSpec(NamedTuple):
    """A registered loss: ``make(**options)`` builds it (a loss class, or a function of
    the options its estimator passes, e.g. SGD's ``epsilon``); ``uses`` are the places
    that take it by this name (:data:`USES`)."""

    make: Callable
    uses: frozenset


REGISTRY: dict[str, LossSpec] = {}


class _Makers(Mapping):
    """``{name: make}`` of the registered losses of one use: a live, read-only view."""

    def __init__(self, use, trait=None):
        self.use, self.trait = use, trait

    def _names(self):
        return [name for name, spec in REGISTRY.items() if self.use in spec.uses
                and (self.trait is None or hasattr(spec.make, self.trait))]

    def __getitem__(self, name):
        if name not in self._names():
            raise KeyError(name)
        return REGISTRY[name].make

    def __iter__(self):
        return iter(self._names())

    def __len__(self):
        return len(self._names())

    def __repr__(self):
        return repr(dict(self.items()))


LOSSES = _Makers("minimize")
"""The names :func:`gdd_dask.minimize` and the estimators take, ``{name: loss class}``."""
GLM_LOSSES = _Makers("minimize", trait="sample")
"""The log-link GLM losses that draw their own synthetic targets (``sample``): the
synthetic kinds and the CLI's GLM models of the same names."""
CLASSIFICATION_LOSSES = _Makers("sgd_classifier")
"""``SGDClassifier``'s losses by scikit-learn's names, ``{name: make(epsilon)}``."""
REGRESSION_LOSSES = _Makers("sgd_regressor")
"""``SGDRegressor``'s losses by scikit-learn's names, ``{name: make(epsilon)}``."""


def register_loss(name, make, *, uses=("minimize",)):
    """Make the loss that ``make(**options)`` builds available by ``name`` wherever
    ``uses`` (of :data:`USES`) take a loss by name."""
    if not isinstance(name, str) or not callable(make):
        raise TypeError("register_loss(name, make) takes a str and a callable")
    unknown = set(uses) - set(USES)
    if unknown:
        raise ValueError(f"unknown uses {sorted(unknown)}; choose among {USES}")
    REGISTRY[name] = LossSpec(make, frozenset(uses))
