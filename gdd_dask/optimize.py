"""``minimize``: the scipy-style entry point for any loss over chunked data."""

from __future__ import annotations

import inspect
import os
from contextlib import contextmanager

import numpy as np

from .checkpoint import Checkpoint, fingerprint
from .checks import check_number
from .objective import make_objective
from .preconditioning import Preconditioned, preconditions
from .result import STATUS, OptimizeResult
from .runtime import span
from .solvers import get_solver
from .solvers.base import grad_norm

__all__ = ["fit_span", "minimize", "solve"]


def minimize(loss, X, y, *, solver="auto", sample_weight=None, alpha=0.0, penalty="l2",
             l1_ratio=None, fit_intercept=True, tol=1e-4, max_iter=100, x0=None, client=None,
             split_every=8, cache="auto", chunk_rows=None, callback=None, options=None,
             checkpoint=None, checkpoint_every=1, precondition=True):
    """Minimize a loss over row-chunked data by distributed gradient methods.

    The objective is the mean weighted loss plus penalty,

    .. math:: f(w) = \\frac{\\sum_i s_i\\, l(y_i, x_i; w)}{\\sum_i s_i}
              + \\alpha P(w_{\\text{pen}}),

    with ``P`` half the squared L2 norm (``"l2"``), the L1 norm (``"l1"``) or
    ``r |w|_1 + (1 - r)/2 |w|^2`` (``"elasticnet"``, ``r = l1_ratio``); intercepts are
    never penalized. Each evaluation is one pass over ``X``: one
    task per row chunk on the Dask workers and a fixed-order tree reduction (fan-in
    ``split_every``) of the partial sums; the solver's update runs on the client.

    Parameters
    ----------
    loss : {"squared", "logistic", "multinomial", "poisson"} or Loss
        The loss, by name or as an object implementing :class:`gdd_dask.losses.Loss`.
        ``"multinomial"`` takes labels ``0 .. K-1`` and learns ``K`` outputs.
    X : array-like or dask array, shape (n_samples, n_features)
    y : array-like or dask array, shape (n_samples,)
    solver : str or callable
        A name from ``gdd_dask.solvers.SOLVERS`` (``"lbfgs"``, ``"newton"``, ``"gd"``,
        ``"proximal"``) or ``"auto"``: proximal gradient for L1 and elastic-net
        penalties, Newton for narrow problems (up to 32 parameters in memory, 64 when
        chunks stream from their source or the loss is quadratic), else L-BFGS.
    sample_weight : array-like, optional
        Non-negative weights ``s_i`` (default 1).
    alpha, penalty, l1_ratio : float, {"l2", "l1", "elasticnet", None}, float
        Penalty strength and kind; ``l1_ratio`` in ``[0, 1]`` for ``"elasticnet"``.
    fit_intercept : bool
        Learn intercepts (the last ``n_outputs`` parameters).
    tol, max_iter : float or None, int
        Stop when ``max|grad_i| <= tol`` (the stochastic solvers: when ``n_iter_no_change``
        epochs gained less than ``tol``), or after ``max_iter`` iterations; ``tol=None``
        runs ``max_iter`` iterations.
    x0 : array, optional
        Starting parameters (default zeros).
    client : distributed.Client, optional
        The cluster to run on (default: the current default client). With neither,
        Dask input runs on Dask's local scheduler and in-memory input in-process.
    split_every : int
        Fan-in of the reduction tree (>= 2).
    cache : {"auto", "memory", "none"}
        Persist X on the workers, stream it from its source, or decide by size.
    chunk_rows : int, optional
        Rows per chunk for in-memory input (default: about 64 MiB of X per chunk).
    callback : callable, optional
        ``callback(intermediate_result)`` after each iteration; raise
        ``StopIteration`` in it to stop.
    options : dict, optional
        Solver-specific options, e.g. ``{"learning_rate": 0.1}`` for ``"gd"``.
    checkpoint : str or path, optional
        A file that holds the solver's whole state, saved atomically every
        ``checkpoint_every`` iterations (epochs); the same call run again resumes from
        it, to the same result (``gdd_dask.checkpoint``). A checkpoint of other data or
        settings is refused with a ``ValueError``. The file stays after the fit.
    checkpoint_every : int
        Iterations between saves (default 1).
    precondition : bool
        Run the first-order and mini-batch solvers (``"lbfgs"``, ``"gd"``,
        ``"proximal"``, ``"sgd"``, ``"adam"``, ``"adagrad"``, ``"async"``) of a linear
        model on centred, unit-scale columns, mapped back: unscaled data converges as
        fast as standardized data, at no extra pass (``gdd_dask.preconditioning``).
        ``tol``, the result and the callbacks stay in the model's coordinates; a
        mini-batch result's ``state`` carries the map on to a continued run.

    Returns
    -------
    OptimizeResult
        ``x, fun, jac, nit, nfev, n_passes, success, status, message, history`` and
        ``solver``, the name of the solver that ran.
    """
    _check_solve_args(solver, tol, max_iter, callback)
    check_number(split_every, "split_every", low=2, integer=True)
    if chunk_rows is not None:
        check_number(chunk_rows, "chunk_rows", low=1, integer=True)
    label = loss if isinstance(loss, str) else type(loss).__name__
    with fit_span(f"minimize {label}"), \
            make_objective(loss, X, y, sample_weight, fit_intercept=fit_intercept,
                           penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, client=client,
                           split_every=split_every, cache=cache,
                           chunk_rows=chunk_rows) as objective:
        return solve(objective, solver=solver, x0=x0, tol=tol, max_iter=max_iter,
                     callback=callback, options=options, checkpoint=checkpoint,
                     checkpoint_every=checkpoint_every, precondition=precondition)


def _check_solve_args(solver, tol, max_iter, callback, objective=None):
    solver_fn = get_solver(solver, objective)
    if tol is not None:
        check_number(tol, "tol", low=0)
    check_number(max_iter, "max_iter", low=0, integer=True)
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    return solver_fn


def solve(objective, *, solver="auto", x0=None, tol=1e-4, max_iter=100, callback=None,
          options=None, checkpoint=None, checkpoint_every=1, precondition=True):
    """Run a solver on an existing :class:`~gdd_dask.objective.Objective`.

    The lower-level half of :func:`minimize`, for callers (the estimators) that build
    the objective themselves, e.g. to set the penalty from ``objective.weight_sum``.
    """
    solver_fn = _check_solve_args(solver, tol, max_iter, callback, objective)
    tol = -np.inf if tol is None else tol  # no stopping test: max_iter iterations
    name = getattr(solver_fn, "__name__", repr(solver_fn))
    x0 = np.zeros(objective.n_params) if x0 is None else objective.check_params(x0, "x0")
    if not np.all(np.isfinite(x0)):
        bad = int(np.flatnonzero(~np.isfinite(x0))[0])
        raise ValueError(f"x0 must be finite; x0[{bad}] = {float(x0[bad])!r}")
    if max_iter == 0:  # scikit-learn's meaning: the starting point, unchanged
        return _start_only(objective, x0, tol, name)
    options = dict(options or {})
    applies, standardized = preconditions(objective, name, options)
    if standardized is not None:
        if not precondition:
            raise ValueError("state was made on standardized columns "
                             "(gdd_dask.preconditioning); it needs precondition=True")
        options["state"] = standardized.state
    precondition = bool(precondition) and applies
    if checkpoint is not None:
        options["checkpoint"] = _checkpoint(objective, solver_fn, name, checkpoint,
                                            checkpoint_every, tol=tol, x0=x0, options=options,
                                            precondition=precondition)
    with fit_span(name, child=True):
        view = Preconditioned(objective, x0, standardized) if precondition else objective
        start = view.x0 if precondition else x0
        result = solver_fn(view, start, tol=tol, max_iter=max_iter, callback=callback,
                           **options)
    if precondition and "state" in result:
        result.state = view.standardized(result.state)
    result["solver"] = name
    return result


def _start_only(objective, x0, tol, name):
    """The result of no iteration: ``x0`` as given, its objective and gradient (one
    pass), status 0 only where ``x0`` already meets the stopping test."""
    f, g = objective.value_and_grad(x0)
    status = 0 if grad_norm(g) <= tol else 1
    return OptimizeResult(x=x0.copy(), fun=float(f), jac=np.asarray(g), nit=0, nfev=1,
                          n_passes=objective.n_passes, success=status == 0, status=status,
                          message=STATUS[status], history=[float(f)], elapsed=0.0,
                          solver=name)


@contextmanager
def fit_span(label, *, child=False):
    """``distributed.span("gdd-fit", label)`` (``span(label)`` inside it, with
    ``child``): the fit's tasks grouped on the dashboard, e.g. ``("gdd-fit",
    "LogisticRegression", "lbfgs")``. Without a cluster it only annotates graphs."""
    with span(label) if child else span("gdd-fit", label):
        yield


def _checkpoint(objective, solver_fn, name, path, every, **settings):
    """The :class:`~gdd_dask.checkpoint.Checkpoint` of this fit, for a solver that
    takes one."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"checkpoint must be a file path; got {type(path).__name__}")
    accepted = inspect.signature(solver_fn).parameters
    if "checkpoint" not in accepted and not any(p.kind is p.VAR_KEYWORD
                                                for p in accepted.values()):
        raise ValueError(f"solver {name!r} cannot save checkpoints")
    return Checkpoint(path, every=every, solver=name,
                      fingerprint=fingerprint(objective, solver=name, **settings))
