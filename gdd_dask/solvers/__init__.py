"""Solvers: pure update loops over the objective interface (no Dask here).

``SOLVERS`` maps names to solver functions ``solver(objective, x0, *, tol, max_iter,
callback, **options) -> OptimizeResult``; :func:`register_solver` adds one.
"""

from __future__ import annotations

from .gd import gd
from .lbfgs import lbfgs
from .newton import newton

__all__ = ["SOLVERS", "gd", "get_solver", "lbfgs", "newton", "register_solver"]

SOLVERS = {"gd": gd, "lbfgs": lbfgs, "newton": newton}


def register_solver(name, solver):
    """Make ``solver`` available to :func:`gdd_dask.minimize` as ``solver=name``."""
    if not isinstance(name, str) or not callable(solver):
        raise TypeError("register_solver(name, solver) takes a str and a callable")
    SOLVERS[name] = solver


def get_solver(solver):
    """The solver function for a registered name (or a callable, returned as is)."""
    if callable(solver):
        return solver
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {sorted(SOLVERS)}")
    return SOLVERS[solver]
