"""Docstring parts every estimator shares, written once.

A line holding only a marker of :data:`PARTS` (``{engine parameters}``, ``{fit
parameters}``, ``{linear attributes}``...) is replaced by that part, indented as the
marker is: every estimator's ``help`` then shows the parameters of the engine and of
``fit`` in full, the same words everywhere.
"""

from __future__ import annotations

__all__ = ["PARTS", "fill_doc"]

ENGINE_PARAMETERS = """\
client : distributed.Client, optional
    Cluster to fit on (default: the default client; with none, Dask input runs on
    the local scheduler and in-memory input in-process).
split_every : int, default=8
    Fan-in of the reduction tree.
cache : {"auto", "memory", "none"}, default="auto"
    Keep the chunks of X on the workers, stream them from their source each pass,
    or decide by size.
verbose : int, default=0
    0: quiet; 1: a progress bar (a widget in Jupyter, with a second bar within
    long passes); 2 and more: one printed line per iteration.
checkpoint : str or path, default=None
    A file for the solver's whole state, saved atomically every
    ``checkpoint_every`` iterations; the same fit run again (after the process was
    killed, say) resumes from it to the same result, and a checkpoint of other data
    or settings is refused (``gdd_dask.checkpoint``).
checkpoint_every : int, default=1
    Iterations (epochs for the mini-batch solvers) between checkpoints."""

FIT_DATA = """\
X : array-like, Dask array or DataFrame, or Zarr array of shape (n_samples, n_features)
y : array-like, Dask array or Series, or Zarr array of shape (n_samples,)
sample_weight : array-like or Dask array of shape (n_samples,), optional
    Non-negative weights; an integer weight equals repeating the row."""

FIT_PARAMETERS = f"""\
Parameters
----------
{FIT_DATA}

Returns
-------
self"""

LINEAR_ATTRIBUTES = """\
Attributes
----------
coef_, intercept_, n_iter_, loss_curve_, n_passes_, n_features_in_, feature_names_in_
    As in :class:`~gdd_dask.estimators.LinearRegression`."""

PARTS = {"{engine parameters}": ENGINE_PARAMETERS, "{fit data}": FIT_DATA,
         "{fit parameters}": FIT_PARAMETERS, "{linear attributes}": LINEAR_ATTRIBUTES}


def fill_doc(obj):
    """``obj`` (a class or function) with each marker line of its docstring replaced by
    its part of :data:`PARTS`, at the marker's indentation."""
    lines = []
    for line in (obj.__doc__ or "").splitlines():
        part = PARTS.get(line.strip())
        if part is None:
            lines.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        lines += [indent + text if text else text for text in part.splitlines()]
    obj.__doc__ = "\n".join(lines)
    return obj
