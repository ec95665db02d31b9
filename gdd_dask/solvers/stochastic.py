"""Mini-batch stochastic solvers: an update rule (``gdd_dask.rules``) over mini-batches.

An epoch visits every row once. Three ways to run it:

- **in chunk order** (default): the chunks in a random order, each chunk's rows
  shuffled and cut into batches of ``batch_size``; the steps of a chunk run inside the
  task that holds it, which hands parameters and rule state to the task of the next
  chunk (:mod:`gdd_dask.steps`, :func:`~gdd_dask.solvers.epochs.sequential_epoch`).
  The client submits one chain of tasks per epoch and waits once.
- **data parallel** (``data_parallel=True``): each step's batch of ``batch_size`` rows
  is spread over every chunk (chunk ``c`` gives about ``batch_size n_c / n`` rows), the
  workers compute their chunks' partial sums at the same time, and the sums are
  reduced through the fixed tree and applied once, on every worker alike
  (:mod:`gdd_dask.lanes`): PyTorch DistributedDataParallel's step.
- **asynchronous** (``max_staleness=s``, the ``"async"`` solver): each worker runs the
  batches of its own chunks and trades gradients for parameters with a parameter
  server, every gradient applied at most ``s`` updates after the parameters it was
  computed on (:mod:`gdd_dask.lanes`); ``s = 0`` is the chunk-order run, bit for bit.

A step is ``w <- w + update(g_B)`` with the unbiased estimate
``g_B = n / (b W) sum_{i in B} s_i grad l_i + grad penalty`` (``b`` rows of ``n``,
``W = sum_i s_i``); with an L1 part in the penalty each step is followed by the
cumulative L1 shrinkage of Tsuruoka et al. (:func:`gdd_dask.rules.l1_shrinkage`).

After each epoch the objective is ``evaluate``-d: ``"pass"`` (default) runs one full
pass for the exact objective and gradient; ``"running"`` takes the epoch's own
running objective -- the weighted mean loss of its rows, each at the parameters of its
step, plus the penalty -- and the mean step gradient, as scikit-learn's MLP and SGD
report their loss, for no pass at all. Either feeds the history and scikit-learn's
stopping test: stop when it has not improved on the best by ``tol`` for
``n_iter_no_change`` epochs. ``max_iter`` counts epochs. The same ``random_state``
gives the same batches, hence the same result on any number of workers. When the
objective becomes inf or NaN (too large a learning rate) the fit stops with status 4
and the parameters of the last finite epoch.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..checks import check_number
from ..rules import get_rule, run_rule
from ..schedules import Plateau
from ..steps import Carry, epoch_plan
from .base import Trace, resume, save
from .epochs import async_epoch, make_stepper, parallel_epoch, sequential_epoch
from .registry import state_types

__all__ = ["EVALUATE", "as_generator", "asynchronous", "prepare", "run_epochs", "stochastic"]

EVALUATE = ("pass", "running")


def as_generator(random_state):
    """A NumPy Generator from ``None``, a seed, a Generator or a ``RandomState``."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31))
    return np.random.default_rng(random_state)


class Epoch(NamedTuple):
    """What an epoch (or a round) returns: the new parameters and rule state, and its
    running objective, mean step gradient and first-step estimate (``None`` when it
    has none)."""

    x: np.ndarray
    state: Any
    f: float | None = None
    g: np.ndarray | None = None
    first: float | None = None


def stochastic(objective, x0, *, tol=1e-4, max_iter=100, callback=None, rule="sgd",
               batch_size=200, random_state=None, n_iter_no_change=5, max_staleness=None,
               data_parallel=False, dtype="float64", evaluate="pass", state=None,
               checkpoint=None, shuffle=True, average=None, **rule_options):
    """Minimize by mini-batch steps of ``rule``; see the module docstring.

    ``state`` (default ``rule.init(x0)``) continues from the rule state of an earlier
    run, which the result returns as ``state`` (``partial_fit``: its moments and step
    count, hence its place in the learning-rate schedule). ``dtype`` (``"float64"`` or
    ``"float32"``) is that of the forward and backward passes. ``checkpoint`` saves and
    resumes everything an epoch depends on, the random generator included
    (asynchronous steps resume, but arrive in another order than they would have).
    ``shuffle=False`` visits the chunks and their rows in order every epoch.
    ``average=k`` keeps the mean of the parameters after every step past step ``k``
    in the state (:class:`~gdd_dask.rules.AveragedState`: averaged SGD)."""
    if max_staleness is not None:
        check_number(max_staleness, "max_staleness", low=0, integer=True)
        if data_parallel:
            raise ValueError("max_staleness (asynchronous steps) and data_parallel "
                             "(synchronous steps across workers) exclude each other")
    if data_parallel and not shuffle:
        raise ValueError("data_parallel steps take a random part of every chunk; "
                         "shuffle=False needs steps in chunk order")
    rule, stepper, plateau = prepare(objective, rule, rule_options, batch_size=batch_size,
                                     dtype=dtype, evaluate=evaluate, average=average)
    rng = as_generator(random_state)

    def advance(x, state):
        carry = Carry(x, state)
        if data_parallel:
            carry = parallel_epoch(objective, stepper, carry, rng)
        elif max_staleness is not None:
            plan = epoch_plan(objective.n_chunks, rng, shuffle)
            carry = async_epoch(objective, stepper, carry, plan, max_staleness)
        else:
            carry = sequential_epoch(objective, stepper, carry,
                                     epoch_plan(objective.n_chunks, rng, shuffle))
        return Epoch(carry.x, carry.state, *stepper.objective(carry), carry.first)

    if state is None:
        state = rule.init(np.asarray(x0, dtype=np.float64))
    return run_epochs(objective, x0, advance, state, tol=tol, max_iter=max_iter,
                      callback=callback, n_iter_no_change=n_iter_no_change, rng=rng,
                      checkpoint=checkpoint, evaluate=evaluate, plateau=plateau)


def prepare(objective, rule, rule_options, *, batch_size, dtype, evaluate, average=None):
    """``(rule, stepper, plateau)`` of a mini-batch run, its options checked: the rule
    the run steps by (:func:`~gdd_dask.rules.run_rule`: with the L1 shrinkage of the
    objective's penalty, averaging from step ``average``); ``plateau`` is the
    :class:`~gdd_dask.schedules.Plateau` learning rate, or ``None``."""
    check_number(batch_size, "batch_size", low=1, integer=True)
    if evaluate not in EVALUATE:
        raise ValueError(f"evaluate must be one of {EVALUATE}; got {evaluate!r}")
    plateau = rule_options.get("learning_rate")
    plateau = plateau if isinstance(plateau, Plateau) else None
    rule = get_rule(rule, **rule_options)
    if not objective.penalty.smooth and rule.scale is None:
        raise ValueError(f"an L1 penalty needs a rule that reports its step size (scale); "
                         f"got {objective.penalty!r}")
    rule = run_rule(rule, objective.penalty, average=average)
    return rule, make_stepper(objective, rule, batch_size=batch_size, dtype=dtype), plateau


class Start(NamedTuple):
    """Where a run began (what a diverged run returns to); ``f`` and ``g`` may be
    ``None`` (a running-objective run without a checkpoint takes no pass at ``x``)."""

    x: np.ndarray
    f: Any
    g: Any
    state: Any


def checkpoint_states():
    """The NamedTuples a stochastic checkpoint holds: every registered solver's state
    types (:func:`~gdd_dask.solvers.registry.state_types`) and :class:`Start`."""
    return (*state_types(), Start)


GROWTH = 100.0
"""How far above its start every epoch's objective must be for a stalled run to count
as diverged (a too-large step that overflows slowly never gets back)."""


def _start(checkpoint, value_and_grad, x0, trace, state, exact):
    """``(saved state or None, Start)``. With ``exact`` (objective by passes) the start
    is evaluated (at the saved point on resuming, which must give the saved bits);
    otherwise only with a checkpoint, at ``x0``, whose saved values a resumed run must
    reproduce."""
    if exact:
        saved, x, (f, g) = resume(checkpoint, value_and_grad, x0, trace, checkpoint_states())
        return saved, Start(x, f, g, state)
    saved = checkpoint.load(checkpoint_states()) if checkpoint is not None else None
    x0 = np.asarray(x0, dtype=float)
    f = g = None
    if checkpoint is not None:  # the point where a resumed run checks its data
        f, g = value_and_grad(x0)
    if saved is not None:
        checkpoint.verify((saved["start"].f, saved["start"].g), (f, g))
        trace.history = [float(v) for v in saved["history"]]
    return saved, Start(x0, f, g, state)


def run_epochs(objective, x0, advance, state, *, tol, max_iter, callback, n_iter_no_change,
               rng, checkpoint=None, evaluate="pass", plateau=None):
    """The loop of the stochastic solvers: ``advance(x, state)`` (an epoch or a round,
    which reads every row once, returning an :class:`Epoch`), then the objective
    (``evaluate``: a full pass, or the epoch's running objective); stop when it has not
    improved on the best by ``tol`` for ``n_iter_no_change`` epochs, or at the first
    non-finite objective (status 4, the last finite parameters). A run that stops that
    way with every epoch's objective above ``GROWTH (|f(x0)| + 1)`` diverged too
    (status 4, the starting parameters). The result carries the final ``state``.
    ``checkpoint`` saves and resumes the loop with ``rng``, the generator ``advance``
    draws from. With a :class:`~gdd_dask.schedules.Plateau` learning rate, a plateau
    divides the rate instead of stopping, until it is too small; the result's
    ``learning_rate_scale`` is the factor reached."""
    trace = Trace(objective, callback)
    value_and_grad = trace.counted(objective.value_and_grad)
    exact = evaluate == "pass"
    saved, start = _start(checkpoint, value_and_grad, x0, trace, state, exact)
    x, f, g = start.x, start.f, start.g
    best, stale, status, nit = np.inf, 0, 1, 0  # the first epoch always counts
    if saved is not None:
        state, start, nit = saved["state"], saved["start"], saved["nit"]
        best, stale = saved["best"], saved["stale"]
        rng.bit_generator.state = saved["rng"]
        if plateau is not None:
            plateau.scale = float(saved["learning_rate_scale"])
        if not exact:
            x, f, g = saved["x"], saved["f"], saved["g"]
    while nit < max_iter:
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is status 4
            epoch = advance(x, state)
            objective.count_pass()  # the epoch read every row once
            f_new, g_new = value_and_grad(epoch.x) if exact else (epoch.f, epoch.g)
        if start.f is None:  # the first step's estimate stands in for f(x0)
            start = start._replace(f=epoch.first)
        if not np.isfinite(f_new):  # too large a learning rate: keep the last finite
            status = 4
            break
        x, f, g, state = epoch.x, f_new, g_new, epoch.state
        nit += 1
        if trace.record(nit, x, f, g):
            status = 3
            break
        stale = stale + 1 if f > best - tol else 0
        best = min(best, f)
        if stale >= n_iter_no_change and plateau is not None and plateau.reduce(state.count):
            stale = 0
        save(checkpoint, nit, trace, x=x, f=f, g=g, state=state, start=start,
             best=best, stale=stale, rng=rng.bit_generator.state,
             learning_rate_scale=1.0 if plateau is None else plateau.scale)
        if stale >= n_iter_no_change:
            status = 0
            if best > GROWTH * (abs(start.f) + 1.0):  # blew up and never came back
                status, (x, f, g, state) = 4, start
            break
    if f is None or g is None:  # no epoch, or back at an unevaluated start
        f, g = value_and_grad(x)
    result = trace.result(x, f, g, nit, status)
    result.state = state
    if plateau is not None:
        result.learning_rate_scale = plateau.scale
    return result


def asynchronous(objective, x0, *, max_staleness=None, **options):
    """Asynchronous (Downpour) SGD: :func:`stochastic` with each worker stepping
    through its own chunks and a parameter server applying every gradient at most
    ``max_staleness`` updates after the parameters it was computed on (default: the
    number of workers less one, so that no worker waits). With ``max_staleness=0`` it
    is synchronous SGD in chunk order, bit for bit."""
    if max_staleness is None:
        max_staleness = max(0, objective.n_workers - 1)
    return stochastic(objective, x0, max_staleness=max_staleness, **options)
