"""Progress bars on stderr: the solver's iterations, and rows written by a generator."""

from __future__ import annotations

import sys

__all__ = ["IterationBar", "RowsBar"]


def _interval(file):
    """Seconds between redraws: 0.1 on a terminal, 2 in a log file or pipe."""
    isatty = getattr(file, "isatty", None)
    return 0.1 if isatty is not None and isatty() else 2.0


class IterationBar:
    """``callback`` for :func:`gdd_dask.minimize`: a tqdm bar of iterations with the
    loss, ``max|grad|`` and the passes over the data so far; ``close()`` leaves its
    last state on screen. It shows from the start, as the first passes (validation,
    first evaluations) of a large store take a while."""

    def __init__(self, *, label, enabled=True, file=None):
        self.bar = None
        if enabled:
            from tqdm import tqdm

            file = file or sys.stderr
            self.bar = tqdm(desc=label, unit="it", file=file, dynamic_ncols=True,
                            mininterval=_interval(file))

    def __call__(self, info):
        if self.bar is None:
            return
        self.bar.set_postfix_str(f"loss={info.fun:.6g}, |grad|={info.grad_norm:.2e}, "
                                 f"passes={info.n_passes}", refresh=False)
        self.bar.update(info.nit - self.bar.n)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class RowsBar:
    """``callback(rows_written)`` for the generators: a tqdm bar of rows."""

    def __init__(self, *, total, label, enabled=True, file=None):
        self.bar = None
        if enabled:
            from tqdm import tqdm

            file = file or sys.stderr
            self.bar = tqdm(total=total, desc=label, unit="rows", unit_scale=True, file=file,
                            dynamic_ncols=True, mininterval=_interval(file))

    def __call__(self, rows_written):
        if self.bar is not None:
            self.bar.update(rows_written - self.bar.n)

    def close(self):
        if self.bar is not None:
            self.bar.close()
