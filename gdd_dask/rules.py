"""Stochastic update rules in the style of optax: pure functions of immutable state.

A rule (a gradient transformation) is a pair ``(init, update)``::

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

Rules compose (:func:`chain`), each applied to the step the one before made, with
:func:`add_decayed_weights` and :func:`clip_by_global_norm` as building blocks. A run
steps by :func:`run_rule`: the rule, then -- where the penalty has an L1 part -- the
cumulative L1 shrinkage (:func:`l1_shrinkage`, which reads the step size ``scale``
the rule reports: proximal SGD), then -- for averaged SGD -- the running mean of the
parameters (:func:`averaged`). A new rule is one function returning a :class:`Rule`
(``RULES[name] = function`` makes it known by name). Steps run inside the tasks that
hold the data (``gdd_dask.steps``), so this module imports nothing heavier than NumPy.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from .checks import check_number
from .penalties import clamp_l2_shrink
from .schedules import as_schedule

__all__ = ["AdagradState", "AdamState", "AveragedState", "ChainState", "EmptyState", "L1State",
           "RULES", "Rule", "SGDState", "adagrad", "adam", "add_decayed_weights", "apply_step",
           "averaged", "chain", "clip_by_global_norm", "find_state", "get_rule",
           "l1_shrinkage", "mean_state", "run_rule", "sgd", "shrink_owed"]


class Rule(NamedTuple):
    """An update rule: ``init(params) -> state``, ``update(grad, state, params) ->
    (step, state)``; ``scale(state)`` (optional) is the step size, a number or one per
    parameter, of the update that produced ``state``: ``step = -scale * direction``,
    which a proximal step ``prox_{scale h}`` needs. ``decay(state)`` (optional) is the
    factor ``c`` of the next step's own gradient in that step, ``step = -c g + ...``:
    an L2 term ``lambda w`` of ``g`` shrinks ``w`` by ``1 - c lambda``, which
    :func:`apply_step` keeps at 0 or above, as scikit-learn's SGD does
    (:func:`~gdd_dask.penalties.clamp_l2_shrink`). Rules whose steps are bounded
    anyway (Adam, Adagrad: about ``eta`` per parameter) need none. ``takes_scale``: the
    update takes ``scale=``, the step size of the rules before it in a :func:`chain`.
    ``plain`` (optional) is the learning rate ``eta(count)`` of a rule whose step is
    ``-eta(count) grad`` and whose state changes by its count alone (plain SGD, also
    chained with :func:`averaged`): such steps may be taken on a sparse batch's columns
    only (:mod:`gdd_dask.sparse_steps`). ``averages`` is :func:`averaged`'s ``start``,
    ``shrinks`` :func:`l1_shrinkage`'s weights (a chain of plain SGD with either or
    both, in that order, keeps ``plain``)."""

    init: Callable
    update: Callable
    scale: Callable | None = None
    decay: Callable | None = None
    takes_scale: bool = False
    plain: Callable | None = None
    averages: int | None = None
    shrinks: Any = None


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
        if mu == 0.0:  # no velocity: the count is the whole state
            return -eta(state.count) * grad, state._replace(count=state.count + 1)
        velocity = mu * state.velocity + grad
        direction = grad + mu * velocity if nesterov else velocity
        return -eta(state.count) * direction, SGDState(state.count + 1, velocity)

    def scale(state):
        return eta(state.count - 1)

    def decay(state):  # Nesterov's direction holds the new gradient 1 + mu times
        return eta(state.count) * ((1.0 + mu) if nesterov else 1.0)

    return Rule(init, update, scale, decay, plain=eta if mu == 0.0 else None)


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
"""The rules by name; each is also a solver of the same name (``gdd_dask.solvers``)."""


def get_rule(rule, **options):
    """A :class:`Rule` from a rule, or from a name in ``RULES`` with its options."""
    if isinstance(rule, Rule):
        return rule
    if rule not in RULES:
        raise ValueError(f"unknown update rule {rule!r}; choose one of {sorted(RULES)}")
    return RULES[rule](**options)


# -- composing rules, the optax way -------------------------------------------------
class ChainState(NamedTuple):
    """The state of ``chain(head_rule, *tail_rules)``: the head's state and the rest's
    (nested, so that every state is a NamedTuple a checkpoint can hold)."""

    head: Any
    tail: Any

    @property
    def count(self):
        """The step count of the first rule in the chain that keeps one (a property:
        ``tuple.count`` would hide it from :meth:`__getattr__`)."""
        for part in (self.head, self.tail):
            count = getattr(part, "count", None)
            if count is not None and not callable(count):
                return count
        return None

    def __getattr__(self, name):
        """A field of the first part that has it (``state.count``: the step count of
        the first rule that keeps one; ``state.mean`` of an averaged run)."""
        if name.startswith("__"):
            raise AttributeError(name)
        for part in (self.head, self.tail):
            if hasattr(part, name):
                return getattr(part, name)
        raise AttributeError(f"no part of this chain's state has {name!r}")


class EmptyState(NamedTuple):
    """The state of a rule that keeps none."""


def chain(*rules):
    """The rules applied in turn, each to the step the one before made (optax's
    ``chain``): ``chain(clip_by_global_norm(1.0), adam(1e-3))``. A rule whose ``update``
    takes ``scale`` (:func:`l1_shrinkage`) gets the step size of the rules before it.
    The chain's ``scale`` and ``decay`` are the products of its rules' (``None`` when
    one lacks it)."""
    if not rules:
        raise ValueError("chain() needs at least one rule")
    if len(rules) == 1:
        return rules[0]
    head, tail = rules[0], chain(*rules[1:])

    def init(params):
        return ChainState(head.init(params), tail.init(params))

    def update(grad, state, params=None, scale=1.0):
        step, first = head.update(grad, state.head, params, **_scale_of(head, scale))
        if head.scale is not None:
            scale = scale * head.scale(first)
        step, rest = tail.update(step, state.tail, params, **_scale_of(tail, scale))
        return step, ChainState(first, rest)

    def combined(name):
        parts = (getattr(head, name), getattr(tail, name))
        if any(part is None for part in parts):
            return None
        return lambda state: parts[0](state.head) * parts[1](state.tail)

    # plain SGD with the L1 shrinkage, averaging or both (in that order) is still plain
    plain = head.plain if tail.averages is not None or tail.shrinks is not None else None
    if plain is not None:
        averages, shrinks = tail.averages, tail.shrinks
    elif head.shrinks is not None and tail.averages is not None and tail.shrinks is None:
        averages, shrinks = tail.averages, head.shrinks  # the shrinkage, then averaging
    else:
        averages = shrinks = None
    return Rule(init, update, combined("scale"), combined("decay"), takes_scale=True,
                plain=plain, averages=averages, shrinks=shrinks)


def _scale_of(rule, scale):
    return {"scale": scale} if rule.takes_scale else {}


def _unit(state):
    return 1.0


def add_decayed_weights(weight_decay, mask=None):
    """``g + lambda w`` (on the parameters of ``mask``, all by default): an L2 term added
    to the step's input, e.g. ``chain(add_decayed_weights(1e-4), sgd(0.1))``."""
    weight = _check(weight_decay, "weight_decay", 0.0)

    def update(grad, state, params=None):
        decay = weight * params if mask is None else np.where(mask, weight * params, 0.0)
        return grad + decay, state

    return Rule(lambda params: EmptyState(), update, _unit, _unit)


def clip_by_global_norm(max_norm):
    """The step's input scaled down to an L2 norm of at most ``max_norm``."""
    limit = _check(max_norm, "max_norm", 0.0)

    def update(grad, state, params=None):
        norm = float(np.sqrt(np.sum(grad * grad)))
        return (grad if norm <= limit else grad * (limit / norm)), state

    return Rule(lambda params: EmptyState(), update)


class L1State(NamedTuple):
    """The cumulative L1 penalty of Tsuruoka, Tsujii & Ananiadou (2009): ``total`` is
    the shrinkage ``sum_k t_k lambda`` each parameter could have had so far,
    ``applied`` the shrinkage it got."""

    total: np.ndarray
    applied: np.ndarray


def shrink_owed(z, total, applied):
    """``(x, applied)``: ``z`` shrunk by what it is owed of the cumulative L1 penalty
    ``total`` after ``applied`` (:class:`L1State`), and what it got in all."""
    x = np.where(z > 0, np.maximum(0.0, z - (total + applied)),
                 np.where(z < 0, np.minimum(0.0, z + (total - applied)), z))
    return x, applied + (x - z)


def l1_shrinkage(l1_weights):
    """The L1 penalty's proximal step after the step of the rules before it in a chain
    (proximal SGD), made up for the steps in which noise kept a parameter away from
    zero (:class:`L1State`): a parameter ``z`` after the step becomes ``max(0, z -
    (total + applied))`` if positive, ``min(0, z + (total - applied))`` if negative,
    so that SGD gives exact zeros. ``total`` grows by the step size ``scale`` of the
    rules before it times ``l1_weights`` at every step."""
    weights = np.asarray(l1_weights, dtype=np.float64)

    def init(params):
        zeros = np.zeros(np.shape(params))
        return L1State(zeros, zeros)

    def update(step, state, params, scale=1.0):
        z = params + step
        total = state.total + scale * weights
        x, applied = shrink_owed(z, total, state.applied)
        return x - params, L1State(total, applied)

    return Rule(init, update, _unit, _unit, takes_scale=True, shrinks=weights)


class AveragedState(NamedTuple):
    """The running mean of the parameters after each step once the step count passes
    ``start``: averaged SGD (Polyak & Juditsky 1992; scikit-learn's ``average``).
    ``mean`` is the current parameters until then, ``n`` the steps averaged,
    ``count`` the steps taken."""

    count: int
    mean: np.ndarray
    n: int
    start: int


def averaged(start):
    """Keep the mean of the parameters after every step past step ``start`` in the
    state (:class:`AveragedState`); the steps themselves are unchanged."""
    start = int(start)

    def init(params):
        return AveragedState(0, np.array(params, dtype=np.float64), 0, start)

    def update(step, state, params):
        x, count = params + step, state.count + 1
        if count <= state.start:
            return step, state._replace(count=count, mean=x)
        n = state.n + 1
        return step, AveragedState(count, state.mean + (x - state.mean) / n, n, state.start)

    return Rule(init, update, _unit, _unit, averages=start)


def find_state(state, kind):
    """The part of type ``kind`` of a (chained) rule's ``state``, else ``None``."""
    if isinstance(state, kind):
        return state
    if isinstance(state, ChainState):
        head = find_state(state.head, kind)
        return head if head is not None else find_state(state.tail, kind)
    return None


def run_rule(rule, penalty, *, average=None):
    """The rule a run steps by: ``rule``, then the L1 shrinkage where ``penalty`` has an
    L1 part (:func:`l1_shrinkage`), then the averaging from step ``average`` on where
    given (:func:`averaged`)."""
    parts = [rule]
    if not penalty.smooth:
        parts.append(l1_shrinkage(penalty.l1_weights))
    if average is not None:
        parts.append(averaged(average))
    return chain(*parts)


def mean_state(states, weights):
    """The mean of rule states of one structure weighted by ``weights``: arrays and
    floats averaged, integers (step counts) rounded; NamedTuples field by field."""
    total = float(sum(weights))
    first = states[0]
    if isinstance(first, tuple):
        fields = [mean_state([s[j] for s in states], weights) for j in range(len(first))]
        return type(first)(*fields) if hasattr(first, "_fields") else tuple(fields)
    mean = sum(w * v for w, v in zip(weights, states)) / total
    integer = isinstance(first, (int, np.integer)) and not isinstance(first, bool)
    return round(mean) if integer else mean


def apply_step(rule, penalty, grad, state, params):
    """``(params, state)`` after one step of ``rule`` (a run's rule, :func:`run_rule`)
    along ``grad``, which holds only the smooth part's gradient. With a ``decay``, the
    step's L2 shrink ``1 - c lambda`` is kept at 0 or above first, as scikit-learn's
    SGD keeps it (:func:`~gdd_dask.penalties.clamp_l2_shrink`)."""
    if rule.decay is not None:
        grad = clamp_l2_shrink(penalty, rule.decay(state), params, grad)
    step, state = rule.update(grad, state, params)
    return params + step, state


STATE_TYPES = (SGDState, AdamState, AdagradState, ChainState, EmptyState, L1State,
               AveragedState)
"""The NamedTuples of the rules' states (the composing rules' too), which a checkpoint
may hold."""
