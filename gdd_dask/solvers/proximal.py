"""Proximal gradient descent for penalties with a non-smooth part (L1, elastic net).

The objective is ``F(w) = f(w) + h(w)``: ``f`` the mean loss plus the smooth part of
the penalty (the objective's gradient), ``h`` the non-smooth part with its proximal
operator ``prox_t``. Each iteration steps

    w+ = prox_t(w - t grad f(w))

with Barzilai--Borwein's ``t = s.s / s.r`` and accepts it when

    F(w+) <= max(F of the last ``memory`` iterates) - sigma / (2 t) ||w+ - w||^2

(SpaRSA: Wright, Nowak & Figueiredo 2009), halving ``t`` otherwise. The evaluation of
an accepted point also gives its gradient, so an accepted step costs one pass. It stops
when the proximal-gradient step ``max_i |w_i - prox_1(w - grad f(w))_i|`` is at most
``tol`` (the gradient's norm when ``h = 0``; ``Objective.optimality``); the result's
``jac`` is that step.
"""

from __future__ import annotations

import numpy as np

from .base import STALL_ITERATIONS, Trace, grad_norm, resume, save, small_change

__all__ = ["proximal"]


def proximal(objective, x0, *, tol=1e-4, max_iter=100, callback=None, sigma=1e-4,
             memory=10, max_trials=40, checkpoint=None):
    """Minimize ``f + h`` by proximal gradient steps; see the module docstring.
    ``checkpoint`` saves and resumes the iterate, its step and the recent values."""
    penalty = objective.penalty
    trace = Trace(objective, callback)
    evaluate = trace.counted(objective.value_and_grad)
    # F includes h: the objective's value is the whole penalty
    saved, x, (F, g) = resume(checkpoint, evaluate, x0, trace)
    recent = [F] if saved is None else list(saved["recent"])
    step = 1.0 / max(grad_norm(g), 1.0) if saved is None else saved["step"]
    status, nit = 1, 0 if saved is None else saved["nit"]
    stalled = 0 if saved is None else saved["stalled"]
    while nit < max_iter:
        if trace.stationarity(x, g) <= tol:
            status = 0
            break
        for _ in range(max_trials):
            x_new = penalty.prox(x - step * g, step)
            d = x_new - x
            F_new, g_new = evaluate(x_new)
            if np.isfinite(F_new) and F_new <= max(recent) - sigma / (2 * step) * float(d @ d):
                break
            step *= 0.5
        else:
            status = 2
            break
        nit += 1
        r = g_new - g
        sr = float(d @ r)
        step = float(d @ d) / sr if sr > 0 else 2 * step
        F_old, x, F, g = F, x_new, F_new, g_new
        recent = (recent + [F])[-memory:]
        if trace.record(nit, x, F, g):
            status = 3
            break
        stalled = stalled + 1 if small_change(F_old, F) else 0
        save(checkpoint, nit, trace, x=x, f=F, g=g, step=step, recent=recent,
             stalled=stalled)
        if stalled >= STALL_ITERATIONS and trace.stationarity(x, g) <= 10 * tol:
            status = 0 if trace.stationarity(x, g) <= tol else 5  # the objective stalled
            break
    else:
        status = 0 if trace.stationarity(x, g) <= tol else 1
    return trace.result(x, F, g, nit, status)
