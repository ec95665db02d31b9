"""What every estimator shares: parameters, the fit loop over the core, prediction.

An estimator is a thin shell over :func:`gdd_dask.make_objective` and
:func:`gdd_dask.solve`. It validates its parameters and data, builds the objective

.. math:: f(w) = \\frac{\\sum_i s_i\\, l(y_i, x_i \\cdot w + b)}{\\sum_i s_i}
          + \\frac{\\alpha}{2} \\lVert w \\rVert^2,

chooses ``alpha`` from the total weight :math:`\\sum_i s_i` so that its own
regularization strength means what it means in scikit-learn (:meth:`_penalty`), runs
the solver, and stores ``coef_``, ``intercept_``, ``n_iter_``, ``loss_curve_`` and
``n_passes_``. Parameters are laid out as the core lays them out: a
``(n_features + fit_intercept, n_outputs)`` matrix, intercepts in the last row.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import os
import sys
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..engine import CACHE_POLICIES
from ..objective import make_objective
from ..optimize import fit_span, solve
from ..progress import ProgressBar
from ..solvers import SOLVERS, STOCHASTIC, get_solver
from .docs import fill_doc
from .inputs import validate_X

__all__ = ["LinearModel", "not_converged", "outside_level"]


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def outside_level():
    """The ``stacklevel`` of the first frame outside gdd_dask (a warning's caller)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def _chain(*callbacks):
    """One callback calling each given one in turn (``None``: no callback)."""
    callbacks = [c for c in callbacks if c is not None]
    if len(callbacks) <= 1:
        return callbacks[0] if callbacks else None

    def chained(info):
        for callback in callbacks:
            callback(info)

    return chained


def not_converged(result, tol, *, incremental=False):
    """Whether a fit's result calls for a ``ConvergenceWarning``: it failed, stalled, or
    ran out of iterations while it had a stopping test (``tol`` not ``None``)."""
    stopping = tol is not None  # tol=None (SGD): max_iter epochs, as asked
    return result.status in (2, 4, 5) or (result.status == 1 and stopping and not incremental)


class LinearModel(BaseEstimator):
    """Base of the estimators: shared parameters, fitting and bookkeeping.

    Subclasses define :meth:`_penalty` and store the fitted parameters.
    """

    _parameter_constraints: dict = {
        "fit_intercept": ["boolean"],
        "solver": [str, callable],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "client": "no_validation",  # checked by the engine (a distributed.Client)
        "split_every": [Interval(Integral, 2, None, closed="left")],
        "cache": [StrOptions(set(CACHE_POLICIES))],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "checkpoint": [str, os.PathLike, None],
        "checkpoint_every": [Interval(Integral, 1, None, closed="left")],
    }

    def __init_subclass__(cls, **kwargs):
        """Each estimator's docstrings get their shared parts (:mod:`.docs`)."""
        super().__init_subclass__(**kwargs)
        fill_doc(cls)
        for name in ("fit", "partial_fit"):
            method = cls.__dict__.get(name)
            if method is not None and method.__doc__:
                fill_doc(method)

    def __init__(self, *, solver, tol, max_iter, warm_start, client, split_every, cache,
                 verbose, random_state, checkpoint, checkpoint_every):
        """Store the parameters every estimator has, as given (scikit-learn's way):
        subclasses store their own and pass these on by keyword."""
        self.solver, self.tol, self.max_iter = solver, tol, max_iter
        self.warm_start, self.random_state = warm_start, random_state
        self.client, self.split_every, self.cache = client, split_every, cache
        self.verbose = verbose
        self.checkpoint, self.checkpoint_every = checkpoint, checkpoint_every

    def _penalty(self, weight_sum):
        """``(penalty, alpha)`` of the core objective, given ``sum_i s_i``."""
        raise NotImplementedError

    def __getstate__(self):
        """The pickled state, without the ``client``: a connection belongs to its
        process (joblib's process workers, a saved model, a Dask task unpickle the
        estimator elsewhere), so an unpickled estimator has ``client=None`` and uses
        the default client of where it lands, if any."""
        state = super().__getstate__()
        return {**state, "client": None} if state.get("client") is not None else state

    # -- solver -------------------------------------------------------------------
    def _check_solver(self):
        """Fail fast on an unknown solver name (before touching the data)."""
        solver = self.solver
        if callable(solver) or solver == "auto" or solver in SOLVERS:
            return
        raise ValueError(
            f"The 'solver' parameter of {type(self).__name__} must be 'auto', a "
            f"registered solver {sorted(SOLVERS)} or a callable; got {solver!r}"
        )

    def _solver_options(self, solver):
        """``random_state`` for the solvers that take one (stochastic solvers)."""
        try:
            accepted = inspect.signature(solver).parameters
        except (TypeError, ValueError):
            return {}
        takes_any = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
        return {"random_state": self.random_state} if takes_any or "random_state" in accepted \
            else {}

    def _progress(self, objective, solver, max_iter):
        """The progress callback of ``verbose``: 0 none, 1 a progress bar (a widget in
        Jupyter; with a second bar within long passes), 2 and more one printed line
        per iteration (for logs)."""
        name = f"{type(self).__name__} {getattr(solver, '__name__', 'solver')}"
        if not self.verbose:
            return None
        if self.verbose == 1:
            unit = "epoch" if getattr(solver, "__name__", "") in STOCHASTIC else "it"
            return ProgressBar(label=name, total=max_iter, unit=unit).watch(objective)

        def report(info):
            print(f"{name}: iteration {info.nit}, objective {info.fun:.10g}, "
                  f"max|grad| {info.grad_norm:.3g}, {info.n_passes} passes", flush=True)

        return report

    # -- fitting ------------------------------------------------------------------
    def _fit_linear(self, X, y, sample_weight, *, loss, n_outputs, warm_start=None):
        """Minimize the objective of validated data; return the parameter matrix
        ``(n_features + fit_intercept, n_outputs)``.

        ``warm_start`` (default: the parameter) starts from the previous fit.
        """
        self._check_solver()
        n_params = (self.n_features_in_ + int(self.fit_intercept)) * n_outputs
        warm_start = self.warm_start if warm_start is None else warm_start
        x0 = self._warm_start_params(n_params) if warm_start else None
        result = self._solve(loss, X, y, sample_weight, x0=x0, fit_intercept=self.fit_intercept)
        return result.x.reshape(-1, n_outputs)

    def _solve(self, loss, X, y, sample_weight, *, x0, fit_intercept, callback=None,
               options=None, incremental=False, objective=None):
        """Build the objective (penalty from :meth:`_penalty_of`), run the solver from
        ``x0`` (``None``: :meth:`_initial_params`), record the result and return it.

        ``callback`` runs after :meth:`_progress`'s; ``options`` add to
        :meth:`_solver_options`. ``incremental`` (``partial_fit``) runs one epoch and
        adds to the record instead of replacing it. A given ``objective`` (one model of
        shared passes, :mod:`gdd_dask.many`) is used instead of ``X, y,
        sample_weight``, and left open.
        """
        max_iter = 1 if incremental else self.max_iter
        shared = objective is not None
        if shared:
            scope = contextlib.nullcontext(objective)
        else:
            scope = make_objective(loss, X, y, sample_weight, fit_intercept=fit_intercept,
                                   penalty=None, client=self.client,
                                   split_every=self.split_every, cache=self.cache)
        with scope as objective, fit_span(type(self).__name__):
            objective.set_penalty(*self._penalty_of(objective),
                                  positive=bool(getattr(self, "positive", False)))
            if x0 is None:
                x0 = self._initial_params(objective, objective.n_params)
            solver = get_solver(self.solver, objective)  # "auto": by size and caching
            progress = self._progress(objective, solver, max_iter)
            try:
                result = solve(objective, solver=solver, x0=x0, tol=self.tol,
                               max_iter=max_iter, callback=_chain(progress, callback),
                               options={**self._solver_options(solver), **(options or {})},
                               checkpoint=None if incremental else self.checkpoint,
                               checkpoint_every=self.checkpoint_every)
            finally:
                if isinstance(progress, ProgressBar):
                    progress.close()
        self._record(result, incremental=incremental, warn=not shared)
        return result

    def _penalty_of(self, objective):
        """``(penalty, alpha[, l1_ratio])`` of the core objective: :meth:`_penalty` of
        the total weight."""
        return self._penalty(objective.weight_sum)

    def _initial_params(self, objective, n_params):
        """Starting parameters of a cold start (``None``: zeros)."""
        return None

    def _warm_start_params(self, n_params):
        """The previous fit's parameters, when there are some of ``n_params``."""
        if not hasattr(self, "coef_"):
            return None
        rows = [np.atleast_2d(self.coef_).T]
        if self.fit_intercept:
            rows.append(np.atleast_1d(self.intercept_)[None, :])
        params = np.vstack(rows).ravel()
        return params if params.shape == (n_params,) else None

    def _record(self, result, *, incremental=False, warn=True):
        """Store ``solver_`` (the solver that ran: what ``"auto"`` chose), ``n_iter_``,
        ``loss_curve_``, ``n_passes_`` (added to the previous ones when
        ``incremental``); warn when a fit did not converge (unless ``warn`` is false:
        shared fits warn once for all their models)."""
        name = type(self).__name__
        self.solver_ = result["solver"]
        curve = np.asarray(result.history, dtype=np.float64)
        if incremental and hasattr(self, "loss_curve_"):
            self.n_iter_ += int(result.nit)
            self.loss_curve_ = np.concatenate([self.loss_curve_, curve])
            self.n_passes_ += int(result.n_passes)
        else:
            self.n_iter_, self.loss_curve_ = int(result.nit), curve
            self.n_passes_ = int(result.n_passes)
        if self.verbose > 1:
            print(f"{name}: {result.message} after {result.nit} iterations "
                  f"({result.n_passes} passes over X)", flush=True)
        if warn and not_converged(result, self.tol, incremental=incremental):
            grad = float(np.max(np.abs(result.jac))) if result.jac.size else 0.0
            warnings.warn(
                f"{name} did not converge: {result.message} after {result.nit} "
                f"iterations (max|grad| = {grad:.3g}, tol = {self.tol}). Increase "
                "max_iter or scale the features (e.g. with StandardScaler).",
                ConvergenceWarning,
                stacklevel=outside_level(),  # the caller of fit
            )

    # -- prediction ---------------------------------------------------------------
    def _parts(self):
        """The fitted ``(coef, intercept)`` in ``linear_raw``'s layout: one output is
        1-D."""
        check_is_fitted(self)
        coef = np.atleast_2d(self.coef_)
        if coef.shape[0] == 1:
            return coef[0], np.atleast_1d(self.intercept_)[0]
        return coef.T, self.intercept_

    def _validated(self, X):
        """``X`` checked against the fitted model (features, names, dtype)."""
        check_is_fitted(self)
        return validate_X(self, X, reset=False, lengths=False)

    # -- scikit-learn protocol ----------------------------------------------------
    def __sklearn_clone__(self):
        """Clone as scikit-learn does, but share ``client`` instead of deep-copying it
        (a Client cannot be copied)."""
        if self.client is None:
            return super().__sklearn_clone__()
        shallow = copy.copy(self)
        shallow.client = None
        new = BaseEstimator.__sklearn_clone__(shallow)
        new.client = self.client
        return new

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = False
        return tags
