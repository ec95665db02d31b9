"""Solvers: pure update loops over the objective interface (no Dask here).

``SOLVERS`` maps names to solver functions ``solver(objective, x0, *, tol, max_iter,
callback, **options) -> OptimizeResult``; :func:`register_solver` adds one.
"""

from __future__ import annotations

from .gd import gd
from .lbfgs import lbfgs
from .newton import newton

__all__ = ["SOLVERS", "auto_solver", "gd", "get_solver", "lbfgs", "newton", "register_solver"]

SOLVERS = {"gd": gd, "lbfgs": lbfgs, "newton": newton}
NEWTON_MAX_PARAMS = {"quadratic": 1000, "streaming": 64, "memory": 32}
"""Up to how many parameters ``"auto"`` picks Newton. A quadratic loss (least squares)
converges in one Newton step. Otherwise a Newton pass does ``O(n p^2)`` work against
``O(n p)`` for a gradient: measured on 2 cores, it hides behind reading a streamed
chunk only for narrow data, and in memory it pays off for fewer parameters still
(``benchmarks/core.py``, ``benchmarks/out_of_core.py``)."""


def auto_solver(objective):
    """``"newton"`` for narrow problems (see :data:`NEWTON_MAX_PARAMS`), else
    ``"lbfgs"``."""
    engine = objective.engine
    if getattr(objective.loss, "quadratic", False):
        kind = "quadratic"
    else:
        kind = "streaming" if engine.n_cached < engine.n_chunks else "memory"
    return "newton" if objective.n_params <= NEWTON_MAX_PARAMS[kind] else "lbfgs"


def register_solver(name, solver):
    """Make ``solver`` available to :func:`gdd_dask.minimize` as ``solver=name``."""
    if not isinstance(name, str) or not callable(solver):
        raise TypeError("register_solver(name, solver) takes a str and a callable")
    SOLVERS[name] = solver


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
    return SOLVERS[solver]
