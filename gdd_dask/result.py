"""The record every solver returns, in the style of ``scipy.optimize.OptimizeResult``."""

from __future__ import annotations

import numpy as np
from scipy.optimize import OptimizeResult as _ScipyResult

__all__ = ["OptimizeResult", "STATUS"]

STATUS = {
    0: "converged",
    1: "max_iter reached before convergence",
    2: "line search could not decrease the objective",
    3: "stopped early: callback raised StopIteration",
    4: "diverged: the objective became inf or NaN; the last finite iterate is returned",
    5: "stalled at working precision: the objective no longer changes in floating point "
       "while max|grad| > tol",
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
        Evaluations of the objective at a point, each one pass over X (value and
        gradient, with the Hessian for Newton, or the QR moment), the start included:
        the same count for every solver. Line-search trials scored from kept margins
        cost no pass and are not counted; mini-batch epochs are counted in ``n_passes``
        only.
    n_passes : int
        Passes over X, all kinds together: ``nfev`` plus the mini-batch epochs.
    success : bool
        True when ``status == 0``.
    status : int
        0 converged, 1 max_iter reached, 2 line search failed, 3 stopped by callback,
        4 diverged, 5 stalled at working precision with ``max|grad| > tol``.
    message : str
        The status in words.
    history : list of float
        Objective after each iteration (``history[-1] == fun`` when ``nit > 0``).
    """

    def _repr_html_(self):
        """A table for Jupyter: the outcome, the cost and a sketch of the history."""
        from html import escape

        grad = float(np.max(np.abs(self.jac))) if self.jac.size else 0.0
        rows = [("solver", self.get("solver", "")), ("status", f"{self.status}: {self.message}"),
                ("objective", f"{self.fun:.10g}"), ("max |gradient|", f"{grad:.3g}"),
                ("iterations", self.nit), ("passes over X", self.n_passes),
                ("evaluations", self.get("nfev", "")),
                ("parameters", f"{self.x.size} {_preview(self.x)}")]
        if "elapsed" in self:
            rows.append(("wall time", f"{self.elapsed:.3f} s"))
        if self.get("history"):
            rows.append(("history", _sparkline(self.history)))
        body = "".join(f"<tr><th style='text-align:left'>{escape(str(k))}</th>"
                       f"<td style='text-align:left'>{escape(str(v))}</td></tr>"
                       for k, v in rows)
        return f"<table><caption>OptimizeResult</caption>{body}</table>"


def _preview(x, n=4):
    shown = ", ".join(f"{v:.4g}" for v in x[:n])
    return f"[{shown}{', ...' if x.size > n else ''}]"


def _sparkline(values, width=40):
    """The objective's descent in block characters (log-scaled gap to the last value)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size > width:
        values = values[np.linspace(0, values.size - 1, width).astype(int)]
    gap = np.log10(np.maximum(values - values.min(), 1e-16))
    span = gap.max() - gap.min()
    levels = np.zeros_like(gap) if span == 0 else (gap - gap.min()) / span
    return "".join("▁▂▃▄▅▆▇█"[int(round(level * 7))] for level in levels)
