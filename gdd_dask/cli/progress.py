"""A progress bar on stderr of the rows a generator writes (the solver's iterations
have :class:`gdd_dask.progress.ProgressBar`)."""

from __future__ import annotations

import sys

from ..progress import redraw_interval

__all__ = ["RowsBar"]


class RowsBar:
    """``callback(rows_written)`` for the generators: a tqdm bar of rows."""

    def __init__(self, *, total, label, enabled=True, file=None):
        self.bar = None
        if enabled:
            from tqdm import tqdm

            file = file or sys.stderr
            self.bar = tqdm(total=total, desc=label, unit="rows", unit_scale=True, file=file,
                            dynamic_ncols=True, mininterval=redraw_interval(file))

    def __call__(self, rows_written):
        if self.bar is not None:
            self.bar.update(rows_written - self.bar.n)

    def close(self):
        if self.bar is not None:
            self.bar.close()
