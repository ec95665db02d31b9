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

from .base import STALL_ITERATIONS, Trace, backtrack, grad_norm, resume, save, small_change

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
    saved, x, (f, g) = resume(checkpoint, evaluate, x0, trace)
    recent = [f] if saved is None else list(saved["recent"])
    step = 1.0 / max(grad_norm(g), 1.0) if saved is None else saved["step"]
    status, nit = 1, 0 if saved is None else saved["nit"]
    stalled = 0 if saved is None else saved["stalled"]
    while nit < max_iter:
        if trace.stationarity(x, g) <= tol:
            status = 0
            break
        if learning_rate is not None:
            x_new = x - learning_rate * g
            with np.errstate(over="ignore", invalid="ignore"):
                f_new, g_new = evaluate(x_new)
            if not (np.isfinite(f_new) and np.all(np.isfinite(g_new))):
                status = 4  # too large a learning rate: keep the last finite iterate
                break
        else:
            found = backtrack(evaluate, x, max(recent), g, -g, step,
                              line_values=objective.line_values)
            if found is None:
                status = 2
                break
            _, x_new, (f_new, g_new) = found
            step = _bb_step(x_new - x, g_new - g, fallback=2 * step)
        nit += 1
        f_old, x, f, g = f, x_new, f_new, g_new
        recent = (recent + [f])[-memory:]
        if trace.record(nit, x, f, g):
            status = 3
            break
        stalled = stalled + 1 if learning_rate is None and small_change(f_old, f) else 0
        save(checkpoint, nit, trace, x=x, f=f, g=g, step=step, recent=recent,
             stalled=stalled)
        if stalled >= STALL_ITERATIONS and trace.stationarity(x, g) <= 10 * tol:
            status = 0 if trace.stationarity(x, g) <= tol else 5  # the objective stalled
            break
    else:
        status = 0 if trace.stationarity(x, g) <= tol else 1
    return trace.result(x, f, g, nit, status)
