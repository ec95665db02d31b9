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

from .base import Trace, descend

__all__ = ["proximal"]


def proximal(objective, x0, *, tol=1e-4, max_iter=100, callback=None, sigma=1e-4,
             memory=10, max_trials=40, checkpoint=None):
    """Minimize ``f + h`` by proximal gradient steps; see the module docstring.
    ``checkpoint`` saves and resumes the iterate, its step and the recent values."""
    penalty = objective.penalty
    trace = Trace(objective, callback)
    evaluate = trace.counted(objective.value_and_grad)  # F: its value has all of h

    def propose(x, F, g, step, recent):
        for _ in range(max_trials):
            x_new = penalty.prox(x - step * g, step)
            d = x_new - x
            F_new, g_new = evaluate(x_new)
            if np.isfinite(F_new) and F_new <= max(recent) - sigma / (2 * step) * float(d @ d):
                break
            step *= 0.5
        else:
            return 2
        sr = float(d @ (g_new - g))
        return x_new, F_new, g_new, float(d @ d) / sr if sr > 0 else 2 * step

    return descend(trace, evaluate, x0, propose, tol=tol, max_iter=max_iter, memory=memory,
                   checkpoint=checkpoint)
