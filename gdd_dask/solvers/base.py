"""What the solvers share: iteration bookkeeping, stopping tests, a line search.

A solver is a function ``solver(objective, x0, *, tol, max_iter, callback, **options)``
returning an :class:`~gdd_dask.result.OptimizeResult`; it talks only to the objective's
``value``/``value_and_grad``/``value_grad_hessian``/``hessp`` and its ``n_passes``.
"""

from __future__ import annotations

import time
import uuid

import numpy as np

from ..result import STATUS, OptimizeResult

__all__ = ["Trace", "backtrack", "grad_norm", "resume", "save", "small_change"]

FTOL = 64 * np.finfo(float).eps
STALL_ITERATIONS = 3
"""Consecutive iterations without a change of the objective (:func:`small_change`)
after which a solver counts as stalled at working precision."""
EVENT_TOPIC = "gdd"
"""The ``Client.log_event`` topic of the per-iteration records (``fit``, ``iteration``,
``fun``, ``grad_norm``, ``n_passes``, ``elapsed``)."""


def grad_norm(g):
    """``max_i |g_i|``, the norm ``tol`` is compared with."""
    return float(np.max(np.abs(g))) if g.size else 0.0


def small_change(f_old, f_new, ftol=FTOL):
    """``|f_old - f_new| <= ftol * max(|f_old|, |f_new|, 1)``: no progress left."""
    return abs(f_old - f_new) <= ftol * max(abs(f_old), abs(f_new), 1.0)


def backtrack(evaluate, x, f_ref, g, d, step, *, line_values=None, c1=1e-4, shrink=0.5,
              max_trials=40):
    """Armijo backtracking: the first ``t = step * shrink**k`` with
    ``f(x + t d) <= f_ref + c1 t g.d`` (``f_ref`` is ``f(x)``, or the max of recent
    values for a non-monotone search).

    ``evaluate(x)`` returns ``f`` or ``(f, ...)`` and costs a pass. The first trial is
    evaluated; when it fails and ``line_values(x, x_trial, fractions)`` (the objective's
    kept-margin line evaluation) is given, the shorter steps are scored without reading
    X and only the accepted point is evaluated: at most two passes per search. Returns
    ``(t, x_new, evaluate(x_new))`` or ``None``.
    """
    slope = float(g @ d)
    if not slope < 0:
        return None
    slack = 8 * np.finfo(float).eps * abs(f_ref)

    def accepts(f, t):
        return np.isfinite(f) and f <= f_ref + c1 * t * slope + slack

    steps = step * shrink ** np.arange(max_trials)
    x_first = x + steps[0] * d
    out = evaluate(x_first)
    if accepts(out[0] if isinstance(out, tuple) else out, steps[0]):
        return steps[0], x_first, out
    values = line_values(x, x_first, steps[1:] / steps[0]) if line_values else None
    for k, t in enumerate(steps[1:]):
        if values is not None and not accepts(values[k], t):
            continue
        x_new = x + t * d
        out = evaluate(x_new)
        if accepts(out[0] if isinstance(out, tuple) else out, t):
            return t, x_new, out
    return None


class Trace:
    """Records each iteration, calls the user's callback, builds the result."""

    def __init__(self, objective, callback=None):
        self.objective, self.callback = objective, callback
        self.fit_id = uuid.uuid4().hex
        self.history = []
        self.silent = False  # replaying saved iterations: no callback
        self.nfev = 0
        self._start = time.perf_counter()

    def counted(self, method):
        """``method`` (an objective evaluation) counted in ``nfev``."""

        def call(*args):
            self.nfev += 1
            return method(*args)

        return call

    def stationarity(self, x, grad):
        """``max|objective.optimality(x, grad)|``: what ``tol`` is compared with."""
        return grad_norm(self.objective.optimality(x, grad))

    def record(self, nit, x, fun, grad):
        """Log iteration ``nit`` (``grad`` of the smooth part at the solver's ``x``);
        True when the callback asked to stop."""
        self.history.append(float(fun))
        if self.silent:
            return False
        elapsed = time.perf_counter() - self._start
        if not self.objective.publishes and self.callback is None:
            return False
        jac = self.objective.optimality(x, grad)
        if self.objective.publishes:  # for anyone subscribed to the "gdd" topic
            self.objective.log_event(EVENT_TOPIC, {
                "fit": self.fit_id, "iteration": int(nit), "fun": float(fun),
                "grad_norm": grad_norm(jac), "n_passes": int(self.objective.n_passes),
                "elapsed": elapsed})
        if self.callback is None:
            return False
        info = OptimizeResult(
            x=np.array(self.objective.to_original(x)), fun=float(fun), jac=np.array(jac),
            nit=nit, grad_norm=grad_norm(jac), n_passes=self.objective.n_passes,
            elapsed=elapsed,
        )
        try:
            self.callback(info)
        except StopIteration:
            return True
        return False

    def result(self, x, fun, grad, nit, status):
        """The result at the solver's ``x``, in the model's coordinates: ``x`` mapped
        back, ``jac`` the objective's ``optimality`` (the gradient, for a smooth
        objective)."""
        jac = self.objective.optimality(x, grad)
        return OptimizeResult(
            x=np.asarray(self.objective.to_original(x)), fun=float(fun),
            jac=np.asarray(jac), nit=int(nit),
            nfev=self.nfev, n_passes=self.objective.n_passes, success=status == 0,
            status=status, message=STATUS[status], history=list(self.history),
            elapsed=time.perf_counter() - self._start,
        )


def resume(checkpoint, evaluate, x0, trace, types=()):
    """Start or resume a solver: ``(saved state or None, x, evaluate(x))``.

    Without a saved state ``x`` is ``x0``; with one, ``x`` is the saved point, the
    history is restored, and the fresh evaluation must give the saved ``f`` and ``g``
    bit for bit (else the checkpoint is of other data).
    """
    state = checkpoint.load(types) if checkpoint is not None else None
    x = np.asarray(x0 if state is None else state["x"], dtype=float)
    out = evaluate(x)
    if state is not None:
        checkpoint.verify((state["f"], state["g"]), out[:2])
        trace.history = [float(v) for v in state["history"]]
    return state, x, out


def descend(trace, evaluate, x0, propose, *, tol, max_iter, memory, checkpoint,
            stalls=True):
    """The loop of the non-monotone descents (``gd``, ``proximal``); their result.

    From ``x0`` (or where ``checkpoint`` left off) each iteration asks ``propose(x, f,
    g, step, recent)`` for the next point, ``(x, f, g, step)``, or a status that ends
    the run (2: no step accepted, 4: not finite). It keeps the last ``memory``
    objective values (``recent``, for non-monotone acceptance), records the history,
    saves checkpoints, and stops at ``max|optimality| <= tol`` (0), on the callback's
    request (3), after :data:`STALL_ITERATIONS` iterations of no progress (with
    ``stalls``) near ``tol`` (0 within it, 5 within ``10 tol``), or at ``max_iter``
    (1). A fresh start steps ``1 / max(max|g|, 1)``."""
    saved, x, (f, g) = resume(checkpoint, evaluate, x0, trace)
    if saved is None:
        recent, step, nit, stalled = [f], 1.0 / max(grad_norm(g), 1.0), 0, 0
    else:
        recent, step = list(saved["recent"]), saved["step"]
        nit, stalled = saved["nit"], saved["stalled"]
    while nit < max_iter:
        if trace.stationarity(x, g) <= tol:
            status = 0
            break
        proposed = propose(x, f, g, step, recent)
        if isinstance(proposed, int):
            status = proposed
            break
        x_new, f_new, g_new, step = proposed
        nit += 1
        f_old, x, f, g = f, x_new, f_new, g_new
        recent = (recent + [f])[-memory:]
        if trace.record(nit, x, f, g):
            status = 3
            break
        stalled = stalled + 1 if stalls and small_change(f_old, f) else 0
        save(checkpoint, nit, trace, x=x, f=f, g=g, step=step, recent=recent,
             stalled=stalled)
        if stalled >= STALL_ITERATIONS and trace.stationarity(x, g) <= 10 * tol:
            status = 0 if trace.stationarity(x, g) <= tol else 5  # the objective stalled
            break
    else:
        status = 0 if trace.stationarity(x, g) <= tol else 1
    return trace.result(x, f, g, nit, status)


def save(checkpoint, nit, trace, **state):
    """Save ``state`` (with the history) when a checkpoint is due at iteration ``nit``."""
    if checkpoint is not None and checkpoint.due(nit):
        checkpoint.save({**state, "nit": nit, "history": list(trace.history)})
