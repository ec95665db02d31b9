"""Progress of a fit: a tqdm bar (a widget in Jupyter, text in a terminal), or plain
lines in a log.

:class:`ProgressBar` is a solver callback: one step per iteration (or epoch), showing
the objective, ``max|grad|``, the passes over the data and the time. Given the
objective (:meth:`ProgressBar.watch`), it also shows a second bar within each long
pass: the chunk tasks of the pass as they finish, which is what a streamed pass over
a large store is made of. Where the output is neither a terminal nor a notebook (a
file, a pipe, a CI log) a bar's redraws would be escape codes and carriage returns:
there it prints one plain line every :data:`LOG_INTERVAL` seconds and at the end.
"""

from __future__ import annotations

import sys
import time

__all__ = ["LOG_INTERVAL", "ProgressBar"]

LOG_INTERVAL = 5.0
"""Seconds between the plain lines of a fit logged to a file or a pipe."""


def redraw_interval(file):
    """Seconds between redraws: 0.1 on a terminal (or a notebook), 2 in a log or pipe."""
    isatty = getattr(file, "isatty", None)
    return 0.1 if file is None or isatty is not None and isatty() else 2.0


def _is_terminal(file):
    isatty = getattr(file, "isatty", None)
    return bool(isatty is not None and isatty())


def _in_notebook():
    """True inside a Jupyter kernel, where tqdm draws a widget."""
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython is not None else None
    except Exception:  # noqa: BLE001 - any failure means: not a notebook
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


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
        out = file if file is not None else sys.stderr
        self._lines = None if _is_terminal(out) or _in_notebook() and file is None else \
            _Lines(out, label, total, "iteration" if unit == "it" else unit)
        if enabled and self._lines is None:
            self.bar = self._new(desc=label, total=total, unit=unit)
        self._enabled = enabled

    def _new(self, **options):
        from tqdm.auto import tqdm

        file = self._file if self._file is not None else sys.stderr
        return tqdm(file=file, dynamic_ncols=True, mininterval=redraw_interval(file), **options)

    def __call__(self, info):
        if self._lines is not None and self._enabled:
            self._lines.update(info)
            return
        if self.bar is None:
            return
        self.bar.set_postfix_str(
            f"loss={info.fun:.6g}, |grad|={info.grad_norm:.2e}, passes={info.n_passes}",
            refresh=False)
        self.bar.update(info.nit - self.bar.n)

    def watch(self, objective, *, min_tasks=8):
        """Show the tasks of each pass of ``objective`` that has at least
        ``min_tasks`` of them (long passes) as they finish."""
        if self.bar is not None:  # (a log gets no lines within the passes)
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
        """Leave the bar's last state on screen (in a log: its last line)."""
        for bar in (self._pass_bar, self.bar):
            if bar is not None:
                bar.close()
        self.bar = self._pass_bar = None
        if self._lines is not None and self._enabled:
            self._lines.close()
        self._enabled = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Lines:
    """A fit's progress as plain lines: the first iteration, then one line every
    :data:`LOG_INTERVAL` seconds, and the last on :meth:`close`."""

    def __init__(self, file, label, total, unit):
        self.file, self.label, self.total, self.unit = file, label, total, unit
        self.start = time.monotonic()
        self.last_printed, self.pending = None, None

    def update(self, info):
        self.pending = info
        now = time.monotonic()
        if self.last_printed is None or now - self.last_printed >= LOG_INTERVAL:
            self._print(info, now)

    def _print(self, info, now):
        of = f"/{self.total}" if self.total else ""
        print(f"{self.label}: {self.unit} {info.nit}{of}, loss={info.fun:.6g}, "
              f"|grad|={info.grad_norm:.2e}, passes={info.n_passes}, "
              f"{now - self.start:.1f} s", file=self.file, flush=True)
        self.last_printed, self.pending = now, None

    def close(self):
        if self.pending is not None:
            self._print(self.pending, time.monotonic())
