"""Progress of a fit: a tqdm bar (a widget in Jupyter, text in a terminal).

:class:`ProgressBar` is a solver callback: one step per iteration (or epoch), showing
the objective, ``max|grad|``, the passes over the data and the time. Given the
objective (:meth:`ProgressBar.watch`), it also shows a second bar within each long
pass: the chunk tasks of the pass as they finish, which is what a streamed pass over
a large store is made of.
"""

from __future__ import annotations

import sys

__all__ = ["ProgressBar"]


def _interval(file):
    """Seconds between redraws: 0.1 on a terminal (or a notebook), 2 in a log or pipe."""
    isatty = getattr(file, "isatty", None)
    return 0.1 if file is None or isatty is not None and isatty() else 2.0


class ProgressBar:
    """``callback`` for :func:`gdd_dask.minimize` and the estimators.

    Parameters
    ----------
    label : str
        What the bar says it is fitting.
    total : int, optional
        ``max_iter``, for a bar that shows how far the budget went.
    unit : str
        ``"it"`` (iterations) or ``"epoch"``.
    file : file, optional
        Where the text bar goes (default: stderr; ignored by the Jupyter widget).
    enabled : bool
        ``False`` makes every method a no-op.
    """

    def __init__(self, *, label="fit", total=None, unit="it", file=None, enabled=True):
        self.bar = self._pass_bar = None
        self._file = file
        if enabled:
            self.bar = self._new(desc=label, total=total, unit=unit)

    def _new(self, **options):
        from tqdm.auto import tqdm

        file = self._file if self._file is not None else sys.stderr
        return tqdm(file=file, dynamic_ncols=True, mininterval=_interval(file), **options)

    def __call__(self, info):
        if self.bar is None:
            return
        self.bar.set_postfix_str(
            f"loss={info.fun:.6g}, |grad|={info.grad_norm:.2e}, passes={info.n_passes}",
            refresh=False)
        self.bar.update(info.nit - self.bar.n)

    def watch(self, objective, *, min_tasks=8):
        """Show the tasks of each pass of ``objective`` that has at least
        ``min_tasks`` of them (long passes) as they finish."""
        if self.bar is not None:
            objective.engine.on_task_done = self._task_done
            objective.engine.watch_min_tasks = min_tasks
        return self

    def _task_done(self, done, total):
        """One more chunk task of the current pass finished (``done`` of ``total``)."""
        if self._pass_bar is None or done == 1:
            if self._pass_bar is not None:
                self._pass_bar.close()
            self._pass_bar = self._new(desc="pass", total=total, unit="task", leave=False)
        self._pass_bar.update(done - self._pass_bar.n)
        if done == total:
            self._pass_bar.close()
            self._pass_bar = None

    def close(self):
        """Leave the bar's last state on screen."""
        for bar in (self._pass_bar, self.bar):
            if bar is not None:
                bar.close()
        self.bar = self._pass_bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
