"""Local SGD (model averaging): each worker trains its own copy, and the copies are averaged.

The chunks are split into ``n_models`` runs of consecutive chunks (default: one per
worker; one in-process), each the data of one *model*. An epoch shuffles each chunk's
rows (a seed per chunk) and cuts them into batches of ``batch_size``, as the other
stochastic solvers do, and visits each model's chunks in a random order; it runs in
*rounds*. In a round every model starts from the parameters ``x`` and the update rule's
state (Adam's moments, momentum, the step count) and steps through its next
``local_steps`` batches by a chain of tasks, each on the worker that holds its chunk
(:func:`gdd_dask.solvers.epochs.local_epochs`): the models run at the same time.
The client's new parameters and state are the averages weighted by the rows ``m_k``
each model stepped on,

    x <- sum_k m_k x_k / sum_k m_k,      state <- sum_k m_k state_k / sum_k m_k,

the start of the next round. ``local_steps=None`` (default) averages once an epoch; a
smaller value more often, one client round trip a round. An epoch reads every row
once. ``max_iter`` counts epochs; the objective, the stopping test, ``evaluate``,
``state``, ``shuffle`` and ``checkpoint`` are those of
:func:`~gdd_dask.solvers.stochastic.stochastic`.

An average of ``K`` models, each trained on ``1/K`` of the rows, moves about as far as
one of them: the rule's learning rate is multiplied by ``learning_rate_scale``
(default ``K = n_models``: the linear scaling rule of Goyal et al. 2017), so that an
epoch makes about the progress of an epoch of sequential steps. Averaging the rule's
state with the parameters carries an adaptive rule's moments and the place in a
learning-rate schedule from round to round. The same ``random_state`` and
``n_models`` give the same bits on any cluster.

This is the design note's parameter averaging, with the averaged model and state sent
back each round (Stich 2019, "Local SGD converges fast and communicates little").
"""

from __future__ import annotations

import inspect
from functools import partial

import numpy as np

from ..checks import check_number
from ..rules import RULES, AveragedState, Rule, find_state, mean_state
from ..schedules import scaled
from ..steps import Carry
from .epochs import local_epochs
from .stochastic import Epoch, as_generator, prepare, run_epochs

__all__ = ["local_sgd"]

_NOT_AVERAGED = ("averaged SGD (average) runs one sequence of steps; solver 'local' "
                 "averages its models already")


def local_sgd(objective, x0, *, tol=1e-4, max_iter=100, callback=None, rule="sgd",
              n_models=None, local_steps=None, batch_size=200, learning_rate_scale=None,
              random_state=None, n_iter_no_change=5, dtype="float64", evaluate="pass",
              state=None, checkpoint=None, shuffle=True, average=None, **rule_options):
    """Minimize by rounds of local steps of ``rule`` and averaging; see the module
    docstring."""
    if average is not None:
        raise ValueError(_NOT_AVERAGED)
    n_chunks = objective.n_chunks
    if n_models is None:
        n_models = min(n_chunks, max(1, objective.n_workers))
    n_models = int(check_number(n_models, "n_models", low=1, high=n_chunks + 1, integer=True))
    if local_steps is not None:
        local_steps = int(check_number(local_steps, "local_steps", low=1, integer=True))
    if not objective.penalty.smooth:
        raise ValueError(f"the stochastic solvers need a smooth penalty; got {objective.penalty!r}")
    factor = n_models if learning_rate_scale is None else \
        float(check_number(learning_rate_scale, "learning_rate_scale", low=0, inclusive=False))
    rule, stepper, plateau = prepare(objective, rule, _scaled_rate(rule, rule_options, factor),
                                     batch_size=batch_size, dtype=dtype, evaluate=evaluate)
    rng = as_generator(random_state)
    if state is None:
        state = rule.init(np.asarray(x0, dtype=np.float64))
    if find_state(state, AveragedState) is not None:
        raise ValueError(_NOT_AVERAGED)
    models = [range(k * n_chunks // n_models, (k + 1) * n_chunks // n_models)
              for k in range(n_models)]
    rows = objective.row_chunks
    advance = partial(_epoch, objective, stepper, rng if shuffle else None, models, rows,
                      local_steps)
    return run_epochs(objective, x0, advance, state, tol=tol, max_iter=max_iter,
                      callback=callback, n_iter_no_change=n_iter_no_change, rng=rng,
                      checkpoint=checkpoint, evaluate=evaluate, plateau=plateau)


def _rounds(chunks, rows, batch_size, local_steps, rng):
    """One model's epoch: its chunks in a random order, each with the seed that
    shuffles its rows (in order, seeds ``None``, without ``rng``), cut into rounds of
    ``local_steps`` batches (one round without it); ``[(plan, rows stepped on)]``, a
    plan ``[(chunk, (seed, start, stop))]``."""
    order = list(chunks) if rng is None else rng.permutation(list(chunks))
    seeds = [None] * len(order) if rng is None else rng.integers(2**63, size=len(order))
    sizes = [[min(batch_size, rows[i] - b) for b in range(0, rows[i], batch_size)]
             for i in order]
    total = sum(len(s) for s in sizes)
    per_round = total if local_steps is None else local_steps
    rounds = []
    for first in range(0, total, per_round):
        plan, stepped, begin = [], 0, 0
        for i, seed, batches in zip(order, seeds, sizes):
            start, stop = max(first - begin, 0), min(first + per_round - begin, len(batches))
            if start < stop:
                plan.append((int(i), (None if seed is None else int(seed), start, stop)))
                stepped += sum(batches[start:stop])
            begin += len(batches)
        rounds.append((plan, stepped))
    return rounds


def _epoch(objective, stepper, rng, models, rows, local_steps, x, state):
    """One epoch of every model, round by round, each round's models averaged by the
    rows they stepped on; its :class:`Epoch`, whose running objective adds up every
    row's loss at the parameters of its step."""
    rounds = [_rounds(chunks, rows, stepper.batch_size, local_steps, rng) for chunks in models]
    loss_sum, grad_sum, n_steps, first = 0.0, 0.0, 0, None
    for r in range(max(len(m) for m in rounds)):
        taking = [m[r] for m in rounds if r < len(m)]
        finals = local_epochs(objective, stepper, [Carry(x, state)] * len(taking),
                              [plan for plan, _ in taking])
        weights = [stepped for _, stepped in taking]  # the rows each model stepped on
        x = mean_state([c.x for c in finals], weights)
        state = mean_state([c.state for c in finals], weights)
        loss_sum += sum(c.loss_sum for c in finals)
        grad_sum = grad_sum + sum(c.grad_sum for c in finals)
        n_steps += sum(c.n_steps for c in finals)
        if first is None:
            first = mean_state([c.first for c in finals], weights)
    return Epoch(x, state, *stepper.objective(Carry(x, state, loss_sum, grad_sum, n_steps)),
                 first)


def _scaled_rate(rule, rule_options, factor):
    """``rule_options`` with the learning rate (given, or the named rule's default)
    times ``factor``; a :class:`~gdd_dask.rules.Rule` object keeps its own."""
    if factor == 1 or isinstance(rule, Rule) or rule not in RULES:
        return rule_options
    default = inspect.signature(RULES[rule]).parameters["learning_rate"].default
    return {**rule_options,
            "learning_rate": scaled(rule_options.get("learning_rate", default), factor)}
