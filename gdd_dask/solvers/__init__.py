"""Solvers: pure update loops over the objective interface (no Dask here).

``SOLVERS`` maps names to solver functions ``solver(objective, x0, *, tol, max_iter,
callback, **options) -> OptimizeResult``; :func:`register_solver` adds one.
"""

from __future__ import annotations

from functools import partial

from .cd import CD_MAX_PARAMS, coordinate_descent
from .gd import gd
from .lbfgs import lbfgs
from .local import local_sgd
from .newton import newton
from .proximal import proximal
from .qr import QR_MAX_PARAMS, least_squares_qr
from .stochastic import asynchronous, stochastic

__all__ = ["SOLVERS", "STOCHASTIC", "asynchronous", "auto_solver", "coordinate_descent", "gd",
           "get_solver", "lbfgs", "least_squares_qr", "local_sgd", "newton", "proximal",
           "register_solver", "stochastic"]


def _named(solver, name, doc=None):
    """``solver`` under another ``__name__`` (what results report)."""

    def named(objective, x0, **options):
        return solver(objective, x0, **options)

    named.__name__, named.__doc__ = name, doc or solver.__doc__
    named.__wrapped__ = solver  # inspect.signature sees the solver's options
    return named


SOLVERS = {"gd": gd, "lbfgs": lbfgs, "newton": newton, "proximal": proximal,
           "cd": _named(coordinate_descent, "cd"), "qr": _named(least_squares_qr, "qr"),
           **{rule: _named(partial(stochastic, rule=rule), rule,
                           f"Mini-batch {rule}: :func:`gdd_dask.solvers.stochastic.stochastic`.")
              for rule in ("sgd", "adam", "adagrad")},
           "async": _named(asynchronous, "async"), "local": _named(local_sgd, "local")}
STOCHASTIC = {"sgd", "adam", "adagrad", "async", "local"}
"""Solvers over mini-batches: they approach the optimum, at the noise of their steps."""
SMOOTH_ONLY = {"gd", "lbfgs", "newton", "local", "qr"}
"""Solvers that need the whole objective smooth (no L1 part)."""
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
    engine = objective.engine
    kind = "streaming" if engine.n_cached < engine.n_chunks else "memory"
    narrow = objective.n_params <= NEWTON_MAX_PARAMS[kind]
    return "newton" if narrow and has_hessian(objective.loss) else "lbfgs"


def has_hessian(loss):
    """Whether ``loss`` gives Hessian sums (its ``has_hessian``, else whether it has a
    ``hessian_sum`` at all: an MLP has none)."""
    return bool(getattr(loss, "has_hessian", callable(getattr(loss, "hessian_sum", None))))


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
    penalty = None if objective is None else objective.penalty
    if getattr(penalty, "positive", False) and solver not in ("proximal", "cd"):
        raise ValueError(f"positive=True needs solver 'proximal', 'cd' or 'auto'; got "
                         f"solver={solver!r}")
    if solver in SMOOTH_ONLY and penalty is not None and not penalty.smooth:
        raise ValueError(
            f"solver {solver!r} needs a smooth objective, but {penalty!r} has an "
            "L1 part; use solver='proximal' (or 'auto')")
    return SOLVERS[solver]
