"""Stochastic update rules in the style of optax: pure functions of immutable state.

A rule is a pair ``(init, update)``::

    state = rule.init(params)
    step, state = rule.update(grad, state, params)
    params = params + step

``state`` is a NamedTuple (the step count and the rule's moments), never changed in
place, so a state can be saved, compared and restored. Learning rates are numbers or
schedules (``gdd_dask.schedules``) of the step count.

- :func:`sgd`: ``v <- mu v + g``; ``step = -eta v`` (``-eta (g + mu v)`` with Nesterov);
  plain SGD for ``mu = 0``;
- :func:`adam`: Kingma & Ba's bias-corrected moments ``m, v``;
  ``step = -eta m_hat / (sqrt(v_hat) + eps)``;
- :func:`adagrad`: ``s <- s + g^2``; ``step = -eta g / (sqrt(s) + eps)``.

Each rule also reports its step size (``scale``), so that a penalty with an L1 part
can be applied by its proximal map after each step (proximal SGD): :func:`apply_step`
is one step of a rule followed, for such a penalty, by the cumulative L1 shrinkage
(:class:`L1State`). Steps run inside the tasks that hold the data
(``gdd_dask.steps``), so this module imports nothing heavier than NumPy.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from .checks import check_number
from .penalties import clamp_l2_shrink
from .schedules import as_schedule

__all__ = ["AdagradState", "AdamState", "AveragedState", "L1State", "RULES", "Rule",
           "SGDState", "adagrad", "adam", "apply_step", "get_rule", "init_state", "sgd"]


class Rule(NamedTuple):
    """An update rule: ``init(params) -> state``, ``update(grad, state, params) ->
    (step, state)``; ``scale(state)`` (optional) is the step size, a number or one per
    parameter, of the update that produced ``state``: ``step = -scale * direction``,
    which a proximal step ``prox_{scale h}`` needs. ``decay(state)`` (optional) is the
    factor ``c`` of the next step's own gradient in that step, ``step = -c g + ...``:
    an L2 term ``lambda w`` of ``g`` shrinks ``w`` by ``1 - c lambda``, which
    :func:`apply_step` keeps at 0 or above, as scikit-learn's SGD does
    (:func:`~gdd_dask.penalties.clamp_l2_shrink`). Rules whose steps are bounded
    anyway (Adam, Adagrad: about ``eta`` per parameter) need none."""

    init: Callable
    update: Callable
    scale: Callable | None = None
    decay: Callable | None = None


class SGDState(NamedTuple):
    count: int
    velocity: np.ndarray


class AdamState(NamedTuple):
    count: int
    mu: np.ndarray
    nu: np.ndarray


class AdagradState(NamedTuple):
    count: int
    sum_of_squares: np.ndarray


def _check(value, name, low, high=None):
    return float(check_number(value, name, low=low, high=high))


def sgd(learning_rate=0.01, momentum=0.0, nesterov=False):
    """Stochastic gradient descent with (heavy-ball or Nesterov) momentum."""
    eta, mu = as_schedule(learning_rate), _check(momentum, "momentum", 0.0, 1.0)

    def init(params):
        return SGDState(0, np.zeros_like(params, dtype=np.float64))

    def update(grad, state, params=None):
        velocity = mu * state.velocity + grad
        direction = grad + mu * velocity if nesterov else velocity
        return -eta(state.count) * direction, SGDState(state.count + 1, velocity)

    def scale(state):
        return eta(state.count - 1)

    def decay(state):  # Nesterov's direction holds the new gradient 1 + mu times
        return eta(state.count) * ((1.0 + mu) if nesterov else 1.0)

    return Rule(init, update, scale, decay)


def adam(learning_rate=0.001, b1=0.9, b2=0.999, eps=1e-8):
    """Adam (Kingma & Ba 2015) with bias correction."""
    eta = as_schedule(learning_rate)
    b1, b2 = _check(b1, "b1", 0.0, 1.0), _check(b2, "b2", 0.0, 1.0)
    eps = _check(eps, "eps", 0.0)

    def init(params):
        zeros = np.zeros_like(params, dtype=np.float64)
        return AdamState(0, zeros, zeros)

    def update(grad, state, params=None):
        count = state.count + 1
        mu = b1 * state.mu + (1 - b1) * grad
        nu = b2 * state.nu + (1 - b2) * grad**2
        mu_hat, nu_hat = mu / (1 - b1**count), nu / (1 - b2**count)
        step = -eta(state.count) * mu_hat / (np.sqrt(nu_hat) + eps)
        return step, AdamState(count, mu, nu)

    def scale(state):
        nu_hat = state.nu / (1 - b2**state.count)
        return eta(state.count - 1) / (np.sqrt(nu_hat) + eps)

    return Rule(init, update, scale)


def adagrad(learning_rate=0.1, eps=1e-7):
    """Adagrad (Duchi, Hazan & Singer 2011)."""
    eta, eps = as_schedule(learning_rate), _check(eps, "eps", 0.0)

    def init(params):
        return AdagradState(0, np.zeros_like(params, dtype=np.float64))

    def update(grad, state, params=None):
        total = state.sum_of_squares + grad**2
        step = -eta(state.count) * grad / (np.sqrt(total) + eps)
        return step, AdagradState(state.count + 1, total)

    def scale(state):
        return eta(state.count - 1) / (np.sqrt(state.sum_of_squares) + eps)

    return Rule(init, update, scale)


RULES = {"sgd": sgd, "adam": adam, "adagrad": adagrad}


def get_rule(rule, **options):
    """A :class:`Rule` from a rule, or from a name in ``RULES`` with its options."""
    if isinstance(rule, Rule):
        return rule
    if rule not in RULES:
        raise ValueError(f"unknown update rule {rule!r}; choose one of {sorted(RULES)}")
    return RULES[rule](**options)


class L1State(NamedTuple):
    """A rule's state plus the cumulative L1 penalty of Tsuruoka, Tsujii & Ananiadou
    (2009): ``total`` is the shrinkage ``sum_k t_k lambda`` each parameter could have
    had so far, ``applied`` the shrinkage it got."""

    rule: Any
    total: np.ndarray
    applied: np.ndarray

    @property
    def count(self):
        return self.rule.count


class AveragedState(NamedTuple):
    """A state plus the running mean of the parameters after each step once the step
    count passes ``start``: averaged SGD (Polyak & Juditsky 1992; scikit-learn's
    ``average``). ``mean`` is the current parameters until then, ``n`` the steps
    averaged."""

    inner: Any
    mean: np.ndarray
    n: int
    start: int

    @property
    def count(self):
        return self.inner.count


def init_state(rule, penalty, params, *, average=None):
    """The state a run starts from: ``rule.init(params)``, inside an
    :class:`L1State` when ``penalty`` has an L1 part, inside an :class:`AveragedState`
    averaging from step ``average`` on where given."""
    params = np.asarray(params, dtype=np.float64)
    state = rule.init(params)
    if not penalty.smooth:
        zeros = np.zeros(np.shape(params))
        state = L1State(state, zeros, zeros)
    return state if average is None else AveragedState(state, params.copy(), 0, int(average))


def apply_step(rule, penalty, grad, state, params):
    """``(params, state)`` after one step of ``rule`` along ``grad``; with an L1 part in
    ``penalty`` (``grad`` holds only the smooth part's gradient), then the cumulative L1
    shrinkage (:class:`L1State`): a parameter ``z`` after the step becomes
    ``max(0, z - (total + applied))`` if positive, ``min(0, z + (total - applied))``
    if negative -- the L1 penalty's proximal step, made up for the steps in which noise
    kept the parameter away from zero, so that SGD gives exact zeros. An
    :class:`AveragedState` adds the step's parameters to its mean."""
    if isinstance(state, AveragedState):
        x, inner = apply_step(rule, penalty, grad, state.inner, params)
        if inner.count <= state.start:
            return x, state._replace(inner=inner, mean=x)
        n = state.n + 1
        return x, state._replace(inner=inner, mean=state.mean + (x - state.mean) / n, n=n)
    inner = state if penalty.smooth else state.rule
    if rule.decay is not None:
        grad = clamp_l2_shrink(penalty, rule.decay(inner), params, grad)
    if penalty.smooth:
        step, state = rule.update(grad, state, params)
        return params + step, state
    step, inner = rule.update(grad, inner, params)
    z = params + step
    total = state.total + rule.scale(inner) * penalty.l1_weights
    x = np.where(z > 0, np.maximum(0.0, z - (total + state.applied)),
                 np.where(z < 0, np.minimum(0.0, z + (total - state.applied)), z))
    return x, L1State(inner, total, state.applied + (x - z))

