"""One fit of one tool -- gdd-dask, scikit-learn or dask-ml -- as a :class:`Fit`.

Every fit is scored with the common objective (``score(params)``, see
:mod:`problems`), so the gaps of all tools are comparable. Each tool is a
:class:`Tool` whose ``fit()`` runs it once; the runner calls it once per repeat.

The regularization of the peers, mapped onto the common objective (``n`` rows):

- scikit-learn ``LogisticRegression(C)``: ``C sum_i l_i + ||w||^2 / 2``, the common
  objective times ``C n``; ``SGDClassifier(alpha=a)``: mean loss plus ``a ||w||^2 / 2``,
  so ``a = 1 / (C n)``; ``Ridge(alpha=a)``: ``sum_i r_i^2 + a ||w||^2``.
- dask-ml ``LogisticRegression(C)`` (dask-glm): ``sum_i l_i + (1/C) ||b||^2 / 2`` with
  ``b`` the coefficients *and the intercept* (a column of ones is appended to X), the
  same scale as scikit-learn's but with the intercept penalized. With the default
  ``normalize=True`` the penalty applies to the coefficients of the standardized
  columns, ``w_j std_j``, and of the centered intercept. Its ``newton`` and
  ``gradient_descent`` ignore the penalty (they minimize the plain sum of losses).
  ``LinearRegression(C)``: ``sum_i r_i^2 + (1/C) ||b||^2 / 2``, so ``C = 1 / (2 a)``
  matches ``Ridge(alpha=a)``.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from problems import RIDGE_ALPHA, C

import gdd_dask

TOL = 1e-6
"""Gradient tolerance of gdd-dask and scikit-learn (``max|g_i|`` of the mean loss)."""
MAX_ITER = 1000


@dataclass
class Fit:
    """One run: wall seconds, the common objective at its end, iterations, passes over
    the data, and its path ``[(seconds, objective), ...]`` where known."""

    wall: float
    fun: float
    nit: int | None = None
    passes: int | None = None
    trajectory: list = field(default_factory=list)
    note: str = ""


@dataclass
class Tool:
    """A tool, its solver and settings; ``fit()`` runs it once. ``once``: run on the
    first repeat only (the slow peers of the full suite)."""

    tool: str
    solver: str
    config: str
    fit: Callable[[], Fit]
    once: bool = False

    @property
    def key(self):
        return self.tool, self.solver, self.config


def params_of(model):
    """A fitted linear model's ``coef`` then ``intercept``, as one flat vector."""
    return np.r_[np.ravel(np.asarray(model.coef_)), np.ravel(np.asarray(model.intercept_))]


def timed_fit(model, X, y, score):
    """Fit a scikit-learn style model; a :class:`Fit` scored by ``score``."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of a capped max_iter
        model.fit(X, y)
    wall = time.perf_counter() - start
    nit = getattr(model, "n_iter_", None)
    nit = None if nit is None else int(np.max(nit))
    fun = score(params_of(model))
    return Fit(wall, fun, nit=nit, passes=getattr(model, "n_passes_", None),
               trajectory=[(wall, fun)])


def gdd_minimize(problem, X, y, score, *, client, solver):
    """``gdd_dask.minimize`` to :data:`TOL`, its path recorded by the callback."""
    points = []
    start = time.perf_counter()

    def record(info):
        points.append((time.perf_counter() - start, info.fun))

    result = gdd_dask.minimize(problem.loss, X, y, solver=solver, alpha=problem.alpha,
                               tol=TOL, max_iter=MAX_ITER, client=client, callback=record)
    wall = time.perf_counter() - start
    return Fit(wall, score(result.x), nit=result.nit, passes=result.n_passes,
               trajectory=points, note=f"solver={result.solver}")


def gdd_estimator(problem, client):
    """gdd-dask's scikit-learn style estimator of the problem, to :data:`TOL`."""
    if problem.name == "logistic":
        return gdd_dask.LogisticRegression(C=C, tol=TOL, max_iter=MAX_ITER, client=client)
    return gdd_dask.Ridge(alpha=RIDGE_ALPHA, tol=TOL, max_iter=MAX_ITER, client=client)


def sklearn_model(problem, solver, max_iter=MAX_ITER):
    """scikit-learn's estimator of the problem: ``solver`` of ``LogisticRegression``,
    ``"sgd"`` (``SGDClassifier(loss="log_loss")``, ``max_iter`` epochs) or of ``Ridge``."""
    from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier

    if problem.name != "logistic":
        return Ridge(alpha=RIDGE_ALPHA, solver=solver, tol=TOL, max_iter=max_iter)
    if solver == "sgd":
        return SGDClassifier(loss="log_loss", alpha=problem.alpha, tol=None,
                             max_iter=max_iter, random_state=0)
    return LogisticRegression(C=C, solver=solver, tol=TOL, max_iter=max_iter)


def dask_ml_model(problem, solver, *, normalize=True, max_iter=None):
    """dask-ml's estimator of the problem, regularized as the common objective."""
    from dask_ml.linear_model import LinearRegression, LogisticRegression

    kwargs = {"solver": solver}
    if not normalize:
        kwargs["solver_kwargs"] = {"normalize": False}
    if max_iter is not None:
        kwargs["max_iter"] = max_iter
    if problem.name == "logistic":
        return LogisticRegression(C=C, **kwargs)
    return LinearRegression(C=1 / (2 * RIDGE_ALPHA), **kwargs)


def dask_ml_fit(model, X, y, score, client):
    """Fit a dask-ml model on ``client`` (dask-ml uses the current client)."""
    with client.as_current():
        return timed_fit(model, X, y, score)


class IterationSearch:
    """A scikit-learn solver's time to a gap: the fewest ``max_iter`` that reach it.

    The first call fits ``max_iter = 1, 2, 4, ...`` (up to ``cap``, or until the solver
    stops by its own tolerance), then bisects between the last two: its trajectory is
    those fits in ``max_iter`` order, each a separate run. Later calls time the fit at
    the ``max_iter`` found (or the last one tried when none reached the gap).
    """

    def __init__(self, fit_at, reached, cap):
        self.fit_at, self.reached, self.cap = fit_at, reached, cap
        self.max_iter = None

    def __call__(self):
        if self.max_iter is None:
            fits = self._search()
            fit = fits[self.max_iter]
            fit.trajectory = [fits[m].trajectory[0] for m in sorted(fits)]
        else:
            fit = self.fit_at(self.max_iter)
        fit.note = f"max_iter={self.max_iter}"
        return fit

    def _search(self):
        fits, low, high = {}, 0, 1
        while True:
            fits[high] = fit = self.fit_at(high)
            stopped = fit.nit is not None and fit.nit < high  # converged by its tol
            if self.reached(fit) or stopped or 2 * high > self.cap:
                break
            low, high = high, 2 * high
        if not self.reached(fits[high]):
            self.max_iter = high
            return fits
        while high - low > 1:
            middle = (low + high) // 2
            fits[middle] = self.fit_at(middle)
            low, high = (middle, high) if not self.reached(fits[middle]) else (low, middle)
        self.max_iter = high
        return fits
