"""First-order solvers on standardized columns, invisible to the user.

Gradient methods converge at a rate set by the conditioning of the problem, and real
columns come in units that differ by many orders of magnitude (years, money, counts,
shares): the columns' scales alone can make the Hessian's condition number 1e14. A
:class:`Preconditioned` view of an :class:`~gdd_dask.objective.Objective` hands the
solver the same problem in the coordinates ``v`` of centred, unit-scale columns,
``x = T v`` (:class:`~gdd_dask.scaling.ColumnScaling`), and maps everything the user
sees back:

- every evaluation is still one pass over the unscaled chunks, at ``x = T v`` (``X W +
  b`` is the same linear prediction), its gradient ``T^T grad f(x)``: no copy of X;
- the first pass, at ``x0``, also reads the column moments of X (one walk, reduced by
  the fixed tree), so preconditioning costs no pass;
- a penalty on the coefficients stays separable in ``v`` (weights rescaled,
  :func:`~gdd_dask.penalties.rescaled`), so the proximal step is still exact;
- kept margins are those of ``T v``, so line searches stay free;
- the stopping test, the callbacks' and the result's ``x`` and ``jac`` are in the
  model's own coordinates: ``max|grad f(x)|`` (or the proximal step) against ``tol``,
  as documented, however the columns are scaled.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .losses.base import LinearModelLoss
from .penalties import rescaled
from .scaling import ColumnScaling
from .solvers import PRECONDITIONED, STOCHASTIC

__all__ = ["PRECONDITIONED", "Preconditioned", "Standardized", "preconditions"]


class Standardized(NamedTuple):
    """A mini-batch rule's ``state`` in standardized coordinates, with the map it was
    made in (``shift``, ``scale``): what a preconditioned stochastic run returns, so
    that a run continued from it (``partial_fit``) steps in the same coordinates."""

    state: Any
    shift: np.ndarray
    scale: np.ndarray

    @property
    def count(self):
        return getattr(self.state, "count", None)

    def to_original(self, v, *, n_outputs, fit_intercept):
        """Parameters ``v`` of this map's coordinates in the model's, ``x = T v``."""
        return ColumnScaling(self.shift, self.scale, n_outputs=n_outputs,
                             fit_intercept=fit_intercept).to_original(v)


def preconditions(objective, solver_name, options):
    """``(precondition, scaling)``: whether ``solver_name`` (with ``options``) runs on a
    :class:`Preconditioned` view of ``objective``, and the map to use when it is given
    by a :class:`Standardized` state. A first-order or mini-batch solver of
    :data:`PRECONDITIONED` on a linear model's loss, except a fresh mini-batch run that
    evaluates by its running objective (it takes no pass to read the columns in) or
    one continued from a state made without a map."""
    state = options.get("state")
    if isinstance(state, Standardized):
        return True, state
    linear = isinstance(objective.loss, LinearModelLoss) and objective.n_features > 0
    if solver_name not in PRECONDITIONED or not linear:
        return False, None
    running = options.get("evaluate", "pass") != "pass"
    if solver_name in STOCHASTIC and (state is not None or running):
        return False, None
    return True, None


class Preconditioned:
    """``objective`` in standardized coordinates (module docstring), built by one pass
    at ``x0`` (the model's coordinates) that the solver's first evaluation reuses;
    :attr:`x0` is the start in ``v``."""

    def __init__(self, objective, x0, standardized=None):
        self.inner = objective
        shape = {"n_outputs": objective.loss.n_outputs, "fit_intercept": objective.fit_intercept}
        if standardized is not None:  # the map of an earlier run: no pass here
            self.scaling = ColumnScaling(standardized.shift, standardized.scale, **shape)
            first = None
        else:
            f, g, moment = objective.value_grad_moment(x0)
            l2 = getattr(objective.penalty, "l2_weights", np.zeros(1))
            self.scaling = ColumnScaling.from_moment(
                moment, l2_weight=float(np.max(l2, initial=0.0)), **shape)
            first = (f, self.scaling.grad_to_scaled(g))
        self.penalty = rescaled(objective.penalty, self.scaling.parameter_factor())
        self.x0 = self.scaling.from_original(x0)
        self._first = None if first is None else (self.x0.tobytes(), *first)

    def standardized(self, state):
        """A mini-batch rule's final ``state`` as the result gives it: wrapped with the
        map (:class:`Standardized`) unless the map is the identity."""
        if state is None or self.scaling.is_identity:
            return state
        return Standardized(state, self.scaling.shift, self.scaling.scale)

    # -- what the solvers read, as the objective has it ---------------------------
    loss = property(lambda self: self.inner.loss)
    n_params = property(lambda self: self.inner.n_params)
    n_features = property(lambda self: self.inner.n_features)
    fit_intercept = property(lambda self: self.inner.fit_intercept)

    @property
    def n_passes(self):
        return self.inner.n_passes

    @n_passes.setter
    def n_passes(self, value):
        self.inner.n_passes = value

    row_chunks = property(lambda self: self.inner.row_chunks)
    n_chunks = property(lambda self: self.inner.n_chunks)
    n_workers = property(lambda self: self.inner.n_workers)
    streams = property(lambda self: self.inner.streams)
    publishes = property(lambda self: self.inner.publishes)

    def log_event(self, topic, message):
        self.inner.log_event(topic, message)

    def count_pass(self):
        self.inner.count_pass()

    def check_params(self, params, name="params"):
        return self.inner.check_params(params, name)

    def keep_margins(self, enabled=True):
        self.inner.keep_margins(enabled)

    # -- mini-batch steps in v (the stepper reads penalty and scaling) ------------
    n_samples = property(lambda self: self.inner.n_samples)
    weight_sum = property(lambda self: self.inner.weight_sum)
    split_every = property(lambda self: self.inner.split_every)

    def chains(self, prefix, func, carries, plans):
        return self.inner.chains(prefix, func, carries, plans)

    def lanes(self, prefix, lane, *shared, cached=False):
        return self.inner.lanes(prefix, lane, *shared, cached=cached)

    # -- evaluations in v ---------------------------------------------------------
    def to_original(self, v):
        """``x = T v``."""
        return self.scaling.to_original(v)

    def value(self, v):
        """``f(T v)``: one pass."""
        return self.inner.value(self.to_original(v))

    def value_and_grad(self, v):
        """``(f(T v), T^T grad f(T v))``: one pass (none for the start, read with the
        column moments)."""
        v = self.check_params(v)
        if self._first is not None and v.tobytes() == self._first[0]:
            _, f, g = self._first
            self._first = None
            return f, g
        f, g = self.inner.value_and_grad(self.to_original(v))
        return f, self.scaling.grad_to_scaled(g)

    def line_values(self, start, end, steps):
        """The objective along the line from ``start`` to ``end``: the same line in
        ``x`` (``T`` is linear), from the kept margins."""
        return self.inner.line_values(self.to_original(start), self.to_original(end), steps)

    def solver_tol(self, tol):
        """A ``tol`` on the gradient in ``v`` that implies ``tol`` in the model's
        coordinates (:meth:`~gdd_dask.scaling.ColumnScaling.solver_tol`)."""
        return self.scaling.solver_tol(tol)

    def optimality(self, v, grad):
        """The stopping vector in the model's coordinates:
        ``objective.optimality(T v, T^{-T} grad)``."""
        return self.inner.optimality(self.to_original(v),
                                     self.scaling.grad_to_original(grad))

    def __repr__(self):
        return f"Preconditioned({self.inner!r}, {self.scaling!r})"
