"""The mini-batch solvers' epochs, built from what the objective offers.

An epoch is tasks that step through the chunks where they live
(:mod:`gdd_dask.steps`): a chain of step tasks along a plan, lanes of data-parallel or
asynchronous steps (:mod:`gdd_dask.lanes`), or local SGD's chains side by side. The
objective runs them (:meth:`~gdd_dask.objective.Objective.chains`,
:meth:`~gdd_dask.objective.Objective.lanes`); what a step computes is decided here.
Each epoch reads every row of its plan once: the solver counts it as a pass.
"""

from __future__ import annotations

from functools import partial

from ..lanes import async_lane, parallel_lane
from ..steps import Stepper, chunk_steps

__all__ = ["async_epoch", "local_epochs", "make_stepper", "parallel_epoch", "sequential_epoch"]


def make_stepper(objective, rule, *, batch_size, dtype="float64"):
    """The :class:`~gdd_dask.steps.Stepper` of mini-batch steps of ``rule`` on
    ``objective``: its loss, penalty, size and weight, and, for a
    :class:`~gdd_dask.preconditioning.Preconditioned` view, its column scaling (steps
    in standardized coordinates)."""
    return Stepper(objective.loss, rule, objective.penalty,
                   fit_intercept=objective.fit_intercept, batch_size=batch_size,
                   n_samples=objective.n_samples, weight_sum=objective.weight_sum,
                   dtype=dtype, scaling=getattr(objective, "scaling", None))


def sequential_epoch(objective, stepper, carry, plan):
    """Every batch of the chunks of ``plan`` (``[(chunk, seed)]``,
    :func:`~gdd_dask.steps.epoch_plan`) in turn, from ``carry``, inside the tasks that
    hold them; the final :class:`~gdd_dask.steps.Carry`."""
    return objective.chains("gdd-sgd", partial(chunk_steps, stepper), [carry], [plan])[0]


def parallel_epoch(objective, stepper, carry, rng):
    """Data-parallel steps (:func:`~gdd_dask.lanes.parallel_lane`): each of ``ceil(n /
    batch_size)`` steps takes a part of every chunk, its chunks' sums reduced through
    the fixed tree across the workers; the final carry. Needs every chunk cached."""
    seeds = [int(s) for s in rng.integers(2**63, size=objective.n_chunks)]
    return objective.lanes("gdd-parallel", parallel_lane, stepper, objective.split_every,
                           list(objective.row_chunks), seeds, carry, cached=True)


def async_epoch(objective, stepper, carry, plan, max_staleness):
    """Asynchronous steps (:func:`~gdd_dask.lanes.async_lane`) along ``plan``, gradients
    at most ``max_staleness`` updates old; the final carry."""
    return objective.lanes("gdd-async", async_lane, stepper, int(max_staleness), plan,
                           list(objective.row_chunks), carry)


def local_epochs(objective, stepper, carries, plans):
    """``stepper`` from each of ``carries`` along its plan of ``plans`` (``[(chunk, seed
    or (seed, start, stop))]``: every batch of the chunk, or batches ``start`` to
    ``stop``), the chains at the same time; the final carries (local SGD's models)."""
    return objective.chains("gdd-local", partial(chunk_steps, stepper), carries, plans)
