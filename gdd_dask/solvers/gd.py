"""Full-batch gradient descent.

With a fixed ``learning_rate`` this is the original algorithm, one pass per
iteration: every chunk task returns its partial gradient, the tree sums them, and the
client steps ``w <- w - learning_rate * grad f(w)``. A step so large that the objective
becomes inf or NaN stops the descent with status 4 and the last finite iterate.

Without one (the default), the step is Barzilai--Borwein's
``t = s.s / s.r`` (``s = w_k - w_{k-1}``, ``r = g_k - g_{k-1}``), safeguarded by a
non-monotone Armijo backtracking search (Grippo, Lampariello & Lucidi 1986; Raydan
1997) against the largest of the last ``memory`` objective values.
"""

from __future__ import annotations

import numpy as np

from .base import Trace, backtrack, descend

__all__ = ["gd"]


def _bb_step(s, r, fallback):
    sr = float(s @ r)
    return float(s @ s) / sr if sr > 0 else fallback


def gd(objective, x0, *, tol=1e-4, max_iter=100, callback=None, learning_rate=None,
       memory=10, checkpoint=None):
    """Minimize by gradient descent; see the module docstring for the steps.
    ``checkpoint`` (a :class:`gdd_dask.checkpoint.Checkpoint`) saves and resumes the
    iterate, its step and the recent objective values."""
    if learning_rate is not None and not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0; got {learning_rate!r}")
    trace = Trace(objective, callback)
    evaluate = trace.counted(objective.value_and_grad)
    objective.keep_margins(learning_rate is None)  # free backtracking steps

    def propose(x, f, g, step, recent):
        if learning_rate is not None:
            x_new = x - learning_rate * g
            with np.errstate(over="ignore", invalid="ignore"):
                f_new, g_new = evaluate(x_new)
            if not (np.isfinite(f_new) and np.all(np.isfinite(g_new))):
                return 4  # too large a learning rate: keep the last finite iterate
            return x_new, f_new, g_new, step
        found = backtrack(evaluate, x, max(recent), g, -g, step,
                          line_values=objective.line_values)
        if found is None:
            return 2
        _, x_new, (f_new, g_new) = found
        return x_new, f_new, g_new, _bb_step(x_new - x, g_new - g, fallback=2 * step)

    return descend(trace, evaluate, x0, propose, tol=tol, max_iter=max_iter, memory=memory,
                   checkpoint=checkpoint, stalls=learning_rate is None)
