"""Solvers: pure update loops over the objective interface (no Dask here).

``SOLVERS`` maps names to solver functions ``solver(objective, x0, *, tol, max_iter,
callback, **options) -> OptimizeResult``; :func:`register_solver` adds one with its
traits (:mod:`gdd_dask.solvers.registry`), which ``"auto"``, the checks and the
checkpoints read.
"""

from __future__ import annotations

from functools import partial

from ..rules import RULES, STATE_TYPES
from .cd import CD_MAX_PARAMS, coordinate_descent
from .gd import gd
from .lbfgs import lbfgs
from .local import local_sgd
from .newton import newton
from .proximal import proximal
from .qr import QR_MAX_PARAMS, least_squares_qr
from .registry import (
    PRECONDITIONED,
    REGISTRY,
    SMOOTH_ONLY,
    SOLVERS,
    STOCHASTIC,
    SolverSpec,
    register_solver,
    state_types,
)
from .stochastic import asynchronous, stochastic

__all__ = ["PRECONDITIONED", "REGISTRY", "SMOOTH_ONLY", "SOLVERS", "STOCHASTIC", "SolverSpec",
           "asynchronous", "auto_solver", "coordinate_descent", "gd",
           "get_solver", "lbfgs", "least_squares_qr", "local_sgd", "newton", "proximal",
           "register_solver", "state_types", "stochastic"]


def _named(solver, name, doc=None):
    """``solver`` under another ``__name__`` (what results report)."""

    def named(objective, x0, **options):
        return solver(objective, x0, **options)

    named.__name__, named.__doc__ = name, doc or solver.__doc__
    named.__wrapped__ = solver  # inspect.signature sees the solver's options
    return named


STEPPED = {"stochastic": True, "preconditioned": True, "state_types": STATE_TYPES}
register_solver("gd", gd, smooth_only=True, preconditioned=True)
register_solver("lbfgs", lbfgs, smooth_only=True, preconditioned=True)
register_solver("newton", newton, smooth_only=True, needs_hessian=True)
register_solver("proximal", proximal, bounds=True, preconditioned=True)
register_solver("cd", _named(coordinate_descent, "cd"), bounds=True, quadratic_only=True)
register_solver("qr", _named(least_squares_qr, "qr"), smooth_only=True, quadratic_only=True)
for _rule in RULES:  # a rule of gdd_dask.rules is a solver of its name
    register_solver(_rule, _named(partial(stochastic, rule=_rule), _rule, f"Mini-batch "
                                  f"{_rule}: :func:`gdd_dask.solvers.stochastic.stochastic`."),
                    **STEPPED)
register_solver("async", _named(asynchronous, "async"), **STEPPED)
register_solver("local", _named(local_sgd, "local"), smooth_only=True, **STEPPED)

NEWTON_MAX_PARAMS = {"streaming": 64, "memory": 32}
"""Up to how many parameters ``"auto"`` picks Newton. A Newton pass does ``O(n p^2)``
work against ``O(n p)`` for a gradient: measured on 2 cores, it hides behind reading a
streamed chunk only for narrow data, and in memory it pays off for fewer parameters
still (``benchmarks/core.py``, ``benchmarks/out_of_core.py``)."""


def auto_solver(objective):
    """For least squares: ``"qr"`` (one pass, exact) with an L2 penalty or none, and
    ``"cd"`` (coordinate descent on the Gram matrix, one pass) with an L1 part, up to
    :data:`~gdd_dask.solvers.qr.QR_MAX_PARAMS` and :data:`~gdd_dask.solvers.cd.
    CD_MAX_PARAMS` parameters. Otherwise ``"proximal"`` for a penalty with an L1 part,
    ``"newton"`` for narrow problems (see :data:`NEWTON_MAX_PARAMS`) whose loss has a
    Hessian, else ``"lbfgs"``."""
    quadratic = getattr(objective.loss, "quadratic", False)
    if not objective.penalty.smooth:
        return "cd" if quadratic and objective.n_params <= CD_MAX_PARAMS else "proximal"
    if quadratic and objective.n_params <= QR_MAX_PARAMS:
        return "qr"
    kind = "streaming" if objective.streams else "memory"
    narrow = objective.n_params <= NEWTON_MAX_PARAMS[kind]
    return "newton" if narrow and has_hessian(objective.loss) else "lbfgs"


def has_hessian(loss):
    """Whether ``loss`` gives Hessian sums (its ``has_hessian``, else whether it has a
    ``hessian_sum`` at all: an MLP has none)."""
    return bool(getattr(loss, "has_hessian", callable(getattr(loss, "hessian_sum", None))))


def get_solver(solver, objective=None):
    """The solver function for a registered name, ``"auto"`` (needs the objective:
    :func:`auto_solver`), or a callable (returned as is)."""
    if callable(solver):
        return solver
    if solver == "auto":
        return None if objective is None else SOLVERS[auto_solver(objective)]
    if solver not in SOLVERS:
        raise ValueError(
            f"unknown solver {solver!r}; choose 'auto' or one of {sorted(SOLVERS)}")
    if objective is not None:
        _check_fits(solver, REGISTRY[solver], objective)
    return SOLVERS[solver]


def _check_fits(name, spec, objective):
    """Refuse, by name, a solver whose traits the objective's loss or penalty needs
    and it lacks."""
    penalty, loss = objective.penalty, objective.loss
    if getattr(penalty, "positive", False) and not spec.bounds:
        able = sorted(n for n, s in REGISTRY.items() if s.bounds)
        raise ValueError(f"positive=True needs solver {', '.join(map(repr, able))} or 'auto'; "
                         f"got solver={name!r}")
    if spec.smooth_only and not penalty.smooth:
        raise ValueError(
            f"solver {name!r} needs a smooth objective, but {penalty!r} has an "
            "L1 part; use solver='proximal' (or 'auto')")
    if spec.needs_hessian and not has_hessian(loss):
        raise ValueError(f"solver {name!r} needs the loss's Hessian, which {loss!r} does "
                         "not give; use solver='lbfgs' (or 'auto')")
