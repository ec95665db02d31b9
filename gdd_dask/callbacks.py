"""Watching a fit: a live loss curve while it runs, and the history afterwards.

:class:`LivePlot` is a solver callback that draws the objective against iterations and
against wall time, redrawn in place in a Jupyter notebook (or written to an image file
elsewhere); :func:`plot_history` draws the history of a finished fit, from a result
record or a fitted estimator. Both need matplotlib (the ``notebook`` extra).
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["LivePlot", "plot_history"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'gdd-dask[notebook]'") from None
    return plt


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _draw(axes, series, log, reference):
    """One line per ``(label, iterations, seconds, objective)`` on the two axes (the
    objective less ``reference``, when given)."""
    ylabel = "objective" if reference is None else "objective - optimum"
    for ax, xlabel in zip(axes, ("iteration", "wall time (s)")):
        ax.clear()
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
    for label, iterations, seconds, values in series:
        values = np.asarray(values) - (reference or 0.0)
        axes[0].plot(iterations, values, marker=".", label=label)
        axes[1].plot(seconds, values, marker=".", label=label)
    if any(label for label, *_ in series):
        axes[0].legend(fontsize="small")


class LivePlot:
    """``callback``: the objective against iterations and wall time, while it runs.

    Parameters
    ----------
    label : str, optional
        The curve's name in the legend.
    every : float
        Seconds between redraws at least, and twice the last redraw's time when that
        is longer: redrawing takes at most about a third of the fit's time (a redraw
        in Jupyter costs about half a second). The last iteration is drawn by
        :meth:`close`.
    log : bool
        A log scale for the objective (its minimum must be positive).
    reference : float, optional
        Draw the gap ``objective - reference`` (e.g. the optimum) instead.
    path : str, optional
        Also write the figure to this image file at each redraw.
    figsize : tuple
        The figure's size in inches.

    In Jupyter the figure is shown once and updated in place. The same object can
    follow several fits (:meth:`new_curve`), to compare solvers on one plot.
    """

    def __init__(self, *, label=None, every=0.5, log=False, reference=None, path=None,
                 figsize=(10, 3.5)):
        plt = _pyplot()
        self.figure, self.axes = plt.subplots(1, 2, figsize=figsize)
        plt.close(self.figure)  # drawn by display/savefig only, never twice
        self.every, self.log, self.path = float(every), bool(log), path
        self.reference = None if reference is None else float(reference)
        self.series, self._handle = [], None
        self._drawn, self._cost = -float("inf"), 0.0  # when the last redraw ended, its time
        self.new_curve(label)

    def new_curve(self, label=None):
        """Start another curve (another fit) on the same axes."""
        self.series.append((label, [], [], []))
        self._start = None
        return self

    def __call__(self, info):
        now = time.perf_counter()
        if self._start is None:
            self._start = now - info.get("elapsed", 0.0)
        _, iterations, seconds, values = self.series[-1]
        iterations.append(int(info.nit))
        seconds.append(now - self._start)
        values.append(float(info.fun))
        if now - self._drawn >= max(self.every, 2 * self._cost):
            self.draw()

    def draw(self):
        """Redraw now (in place in Jupyter; to ``path`` when given)."""
        start = time.perf_counter()
        self._show()
        self._drawn = time.perf_counter()
        self._cost = self._drawn - start

    def _show(self):
        _draw(self.axes, self.series, self.log, self.reference)
        self.figure.tight_layout()
        if self.path is not None:
            self.figure.savefig(self.path, dpi=100)
        if _in_notebook():
            from IPython.display import display

            if self._handle is None:
                self._handle = display(self.figure, display_id=True)
            else:
                self._handle.update(self.figure)

    def close(self):
        """Draw the last state."""
        self.draw()


def plot_history(*fits, labels=None, ax=None, log=True):
    """The objective after each iteration of finished fits, on one plot.

    Parameters
    ----------
    *fits : OptimizeResult or fitted estimator
        Results of :func:`gdd_dask.minimize` (``history``) or estimators
        (``loss_curve_``).
    labels : list of str, optional
        Legend entries (default: the result's ``solver``, or the estimator's class).
    ax : matplotlib Axes, optional
    log : bool
        A log scale for the objective.

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        ax = _pyplot().subplots(figsize=(6, 4))[1]
    for k, fit in enumerate(fits):
        history = np.asarray(fit["history"] if isinstance(fit, dict) else fit.loss_curve_)
        label = labels[k] if labels is not None else (
            fit.get("solver") if isinstance(fit, dict) else type(fit).__name__)
        ax.plot(np.arange(1, len(history) + 1), history, marker=".", label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("objective")
    if log:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return ax
