"""Mini-batch stochastic solvers: an update rule (``gdd_dask.rules``) over mini-batches.

An epoch visits every row once: each chunk's rows are shuffled and cut into batches of
``batch_size`` rows, and the batches of all chunks are taken in a random order. A step
is one task on the worker that holds the batch's chunk, returning the unbiased estimate

    g_B = n / (b W) sum_{i in B} s_i grad l_i + grad penalty

(``b`` rows of ``n``, ``W = sum_i s_i``), and the rule's step on the client
``w <- w + update(g_B)``; with an L1 part in the penalty (``g_B`` holds only the
smooth part's gradient) each step is followed by the cumulative L1 shrinkage of
Tsuruoka et al. (:func:`_apply`), with the rule's step size. After each epoch one
full pass evaluates the objective (the history, and the stopping test of
scikit-learn's SGD: stop when it has not improved on the best by ``tol`` for
``n_iter_no_change`` epochs). ``max_iter`` counts epochs. The same ``random_state``
gives the same batches, hence the same result. When the objective becomes inf or NaN
(too large a learning rate) the fit stops with status 4 and the parameters of the
last finite epoch.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..checks import check_number
from ..rules import AdagradState, AdamState, SGDState, get_rule
from .base import Trace, resume, save

__all__ = ["asynchronous", "epoch_batches", "stochastic"]


def as_generator(random_state):
    """A NumPy Generator from ``None``, a seed, a Generator or a ``RandomState``."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31))
    return np.random.default_rng(random_state)


def epoch_batches(row_chunks, batch_size, rng):
    """``[(chunk, local rows)]`` of one epoch: every row once, in random batches."""
    batches = []
    for index, n in enumerate(row_chunks):
        order = rng.permutation(n)
        batches += [(index, np.sort(order[s:s + batch_size])) for s in range(0, n, batch_size)]
    return [batches[k] for k in rng.permutation(len(batches))]


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


def _apply(objective, rule, g_batch, state, x):
    """One step of ``rule``; with an L1 part in the penalty, then the cumulative L1
    shrinkage (:class:`L1State`): a parameter ``z`` after the step becomes
    ``max(0, z - (total + applied))`` if positive, ``min(0, z + (total - applied))``
    if negative -- the L1 penalty's proximal step, made up for the steps in which noise
    kept the parameter away from zero, so that SGD gives exact zeros."""
    if objective.penalty.smooth:
        step, state = rule.update(g_batch, state, x)
        return x + step, state
    step, inner = rule.update(g_batch, state.rule, x)
    z = x + step
    total = state.total + rule.scale(inner) * objective.penalty.l1_weights
    x = np.where(z > 0, np.maximum(0.0, z - (total + state.applied)),
                 np.where(z < 0, np.minimum(0.0, z + (total - state.applied)), z))
    return x, L1State(inner, total, state.applied + (x - z))


def _sync_epoch(objective, x, state, rule, batches):
    """One epoch of synchronous steps: each gradient at the current parameters."""
    for index, rows in batches:
        _, g_batch = objective.batch_value_and_grad(x, index, rows)
        x, state = _apply(objective, rule, g_batch, state, x)
    return x, state


def _async_epoch(objective, x, state, rule, batches, in_flight):
    """One epoch of Downpour steps: up to ``in_flight`` batches computed at once, each
    on the parameters it was sent; the client applies each gradient as it arrives and
    sends the current parameters with the next batch."""
    pending, sent = iter(batches), {}
    done = objective.engine.completed()

    def send(x):
        for index, rows in pending:
            handle = objective.submit_batch(x, index, rows)
            sent[handle] = (x, len(rows))
            done.add(handle)
            return

    for _ in range(in_flight):
        send(x)
    for handle, sums in done:
        x_sent, n_rows = sent.pop(handle)
        _, g_batch = objective.batch_result(sums, x_sent, n_rows)
        x, state = _apply(objective, rule, g_batch, state, x)
        send(x)
    return x, state


def stochastic(objective, x0, *, tol=1e-4, max_iter=100, callback=None, rule="sgd",
               batch_size=200, random_state=None, n_iter_no_change=5, max_staleness=None,
               state=None, checkpoint=None, **rule_options):
    """Minimize by mini-batch steps of ``rule``; see the module docstring. With
    ``max_staleness`` (an integer >= 0) the steps are asynchronous: see
    :func:`asynchronous`.

    ``state`` (default ``rule.init(x0)``) continues from the rule state of an earlier
    run, which the result returns as ``state`` (``partial_fit``: its moments and step
    count, hence its place in the learning-rate schedule). ``checkpoint`` saves and
    resumes everything an epoch depends on, the random generator included
    (asynchronous steps resume, but arrive in another order than they would have)."""
    check_number(batch_size, "batch_size", low=1, integer=True)
    if max_staleness is not None:
        check_number(max_staleness, "max_staleness", low=0, integer=True)
    rule = get_rule(rule, **rule_options)
    if not objective.penalty.smooth and rule.scale is None:
        raise ValueError(f"an L1 penalty needs a rule that reports its step size (scale); "
                         f"got {objective.penalty!r}")
    rng = as_generator(random_state)
    in_flight = None if max_staleness is None else max_staleness + 1

    def advance(x, state):
        batches = epoch_batches(objective.engine.row_chunks, batch_size, rng)
        if in_flight is None:
            return _sync_epoch(objective, x, state, rule, batches)
        return _async_epoch(objective, x, state, rule, batches, in_flight)

    if state is None:
        state = rule.init(np.asarray(x0, dtype=float))
        if not objective.penalty.smooth:
            zeros = np.zeros(objective.n_params)
            state = L1State(state, zeros, zeros)
    return run_epochs(objective, x0, advance, state, tol=tol, max_iter=max_iter,
                      callback=callback, n_iter_no_change=n_iter_no_change, rng=rng,
                      checkpoint=checkpoint)


class Start(NamedTuple):
    """Where a run began (what a diverged run returns to)."""

    x: np.ndarray
    f: float
    g: np.ndarray
    state: Any


STATES = (SGDState, AdamState, AdagradState, L1State, Start)
"""The NamedTuples a stochastic checkpoint holds."""

GROWTH = 100.0
"""How far above its start every epoch's objective must be for a stalled run to count
as diverged (a too-large step that overflows slowly never gets back)."""


def run_epochs(objective, x0, advance, state, *, tol, max_iter, callback, n_iter_no_change,
               rng, checkpoint=None):
    """The loop of the stochastic solvers: ``x, state = advance(x, state)`` (an epoch or
    a round, which reads every row once), then a full pass for the objective; stop when
    it has not improved on the best by ``tol`` for ``n_iter_no_change`` epochs, or at
    the first non-finite objective (status 4, the last finite parameters). A run that
    stops that way with every epoch's objective above ``GROWTH (|f(x0)| + 1)`` diverged
    too (status 4, the starting parameters). The result carries the final ``state``.
    ``checkpoint`` saves and resumes the loop with ``rng``, the generator ``advance``
    draws from."""
    trace = Trace(objective, callback)
    saved, x, (f, g) = resume(checkpoint, objective.value_and_grad, x0, trace, STATES)
    start = (x, f, g, state)
    best, stale, status, nit = np.inf, 0, 1, 0  # the first epoch always counts
    if saved is not None:
        state, start, nit = saved["state"], saved["start"], saved["nit"]
        best, stale = saved["best"], saved["stale"]
        rng.bit_generator.state = saved["rng"]
    while nit < max_iter:
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is status 4
            x_new, state_new = advance(x, state)
            objective.n_passes += 1  # the epoch read every row once
            f_new, g_new = trace.counted(objective.value_and_grad)(x_new)
        if not np.isfinite(f_new):  # too large a learning rate: keep the last finite
            status = 4
            break
        x, f, g, state = x_new, f_new, g_new, state_new
        nit += 1
        if trace.record(nit, x, f, g):
            status = 3
            break
        stale = stale + 1 if f > best - tol else 0
        best = min(best, f)
        save(checkpoint, nit, trace, x=x, f=f, g=g, state=state, start=Start(*start),
             best=best, stale=stale, rng=rng.bit_generator.state)
        if stale >= n_iter_no_change:
            status = 0
            if best > GROWTH * (abs(start[1]) + 1.0):  # blew up and never came back
                status, (x, f, g, state) = 4, start
            break
    result = trace.result(x, f, g, nit, status)
    result.state = state
    return result


def asynchronous(objective, x0, *, max_staleness=None, **options):
    """Asynchronous (Downpour) SGD: :func:`stochastic` with ``max_staleness + 1``
    mini-batches in flight (default: one per worker), each gradient computed on the
    parameters its task was sent and applied when it arrives, so it is at most
    ``max_staleness`` updates old. With ``max_staleness=0`` it is synchronous SGD, bit
    for bit."""
    if max_staleness is None:
        max_staleness = max(0, getattr(objective.engine, "n_workers", 1) - 1)
    return stochastic(objective, x0, max_staleness=max_staleness, **options)
