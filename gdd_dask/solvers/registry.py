"""One registry of solvers, each with what it needs and what it can do.

``solver="auto"``, the estimators' parameter checks, the preconditioned view, the
CLI's ``--solver`` help and the checkpoint decoder all read :data:`REGISTRY`, so a new
solver is one :func:`register_solver` call. The name sets (:data:`STOCHASTIC`,
:data:`SMOOTH_ONLY`, :data:`PRECONDITIONED`) are live views of it: a solver registered
later is in them at once.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Set
from typing import Callable, NamedTuple

__all__ = ["PRECONDITIONED", "REGISTRY", "SMOOTH_ONLY", "STOCHASTIC", "SOLVERS",
           "SolverSpec", "register_solver", "state_types"]


class SolverSpec(NamedTuple):
    """A registered solver: ``func(objective, x0, *, tol, max_iter, callback,
    **options) -> OptimizeResult`` and its traits.

    ``needs_hessian``: it calls the objective's Hessian (a loss without one is refused);
    ``smooth_only``: it cannot take a penalty with a non-smooth part (L1, ``positive``);
    ``bounds``: it can hold coefficients at ``w >= 0`` (``positive=True``);
    ``quadratic_only``: it solves the squared loss only; ``stochastic``: it runs
    mini-batch epochs (``max_iter`` counts epochs; it takes ``random_state``);
    ``preconditioned``: it runs on standardized columns for linear models
    (:mod:`gdd_dask.preconditioning`); ``state_types``: the NamedTuples of its state
    that a checkpoint holds."""

    func: Callable
    needs_hessian: bool = False
    smooth_only: bool = False
    bounds: bool = False
    quadratic_only: bool = False
    stochastic: bool = False
    preconditioned: bool = False
    state_types: tuple = ()


REGISTRY: dict[str, SolverSpec] = {}


class _Names(Set):
    """The names of the registered solvers with a trait: a live, read-only set."""

    def __init__(self, trait):
        self.trait = trait

    def __contains__(self, name):
        spec = REGISTRY.get(name) if isinstance(name, str) else None
        return spec is not None and bool(getattr(spec, self.trait))

    def __iter__(self):
        return iter([name for name in REGISTRY if name in self])

    def __len__(self):
        return sum(1 for _ in self)

    @classmethod
    def _from_iterable(cls, iterable):
        return frozenset(iterable)

    def __repr__(self):
        return f"{{{', '.join(map(repr, sorted(self)))}}}"


class _Functions(MutableMapping):
    """``{name: solver function}``, a view of :data:`REGISTRY` (``SOLVERS[name] =
    func`` registers a solver without traits)."""

    def __getitem__(self, name):
        return REGISTRY[name].func

    def __setitem__(self, name, func):
        register_solver(name, func)

    def __delitem__(self, name):
        del REGISTRY[name]

    def __iter__(self):
        return iter(list(REGISTRY))

    def __len__(self):
        return len(REGISTRY)

    def __repr__(self):
        return repr(dict(self.items()))


SOLVERS = _Functions()
STOCHASTIC = _Names("stochastic")
"""Solvers over mini-batches: they approach the optimum, at the noise of their steps."""
SMOOTH_ONLY = _Names("smooth_only")
"""Solvers that need the whole objective smooth (no L1 part, no bounds)."""
PRECONDITIONED = _Names("preconditioned")
"""The solvers that run on standardized columns: the first-order full-batch ones and
the mini-batch ones, whose steps a :class:`~gdd_dask.steps.Stepper` takes (Newton
scales its Hessian itself; ``"qr"`` and ``"cd"`` are direct)."""


def register_solver(name, solver, *, needs_hessian=False, smooth_only=False, bounds=False,
                    quadratic_only=False, stochastic=False, preconditioned=False,
                    state_types=()):
    """Make ``solver`` available as ``solver=name`` to :func:`gdd_dask.minimize`, the
    estimators and the CLI, with its traits (:class:`SolverSpec`)."""
    if not isinstance(name, str) or not callable(solver):
        raise TypeError("register_solver(name, solver) takes a str and a callable")
    REGISTRY[name] = SolverSpec(solver, bool(needs_hessian), bool(smooth_only), bool(bounds),
                                bool(quadratic_only), bool(stochastic), bool(preconditioned),
                                tuple(state_types))


def state_types():
    """Every registered solver's checkpointed state types, once each."""
    seen = []
    for spec in REGISTRY.values():
        seen += [t for t in spec.state_types if t not in seen]
    return tuple(seen)
