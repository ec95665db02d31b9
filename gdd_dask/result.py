"""The record every solver returns, in the style of ``scipy.optimize.OptimizeResult``."""

from __future__ import annotations

from scipy.optimize import OptimizeResult as _ScipyResult

__all__ = ["OptimizeResult", "STATUS"]

STATUS = {
    0: "converged",
    1: "max_iter reached before convergence",
    2: "line search could not decrease the objective",
    3: "stopped early: callback raised StopIteration",
    4: "diverged: the objective became inf or NaN; the last finite iterate is returned",
}


class OptimizeResult(_ScipyResult):
    """Result of :func:`gdd_dask.minimize` and of every solver.

    Attributes
    ----------
    x : ndarray
        Parameters; for linear models ``(n_features + fit_intercept, n_outputs)``
        flattened, intercepts last.
    fun : float
        Objective at ``x``.
    jac : ndarray
        Gradient at ``x``.
    nit : int
        Iterations done.
    nfev : int
        Objective evaluations (each one pass over X).
    n_passes : int
        Passes over X, all kinds together (value, gradient, Hessian).
    success : bool
        True when ``status == 0``.
    status : int
        0 converged, 1 max_iter reached, 2 line search failed, 3 stopped by callback.
    message : str
        The status in words.
    history : list of float
        Objective after each iteration (``history[-1] == fun`` when ``nit > 0``).
    """
