"""L-BFGS, one pass over X per function-and-gradient evaluation.

The quasi-Newton update and its Wolfe line search are SciPy's L-BFGS-B (Byrd, Lu,
Nocedal & Zhu 1995), run on the client; every evaluation it asks for is one
``value_and_grad`` pass on the workers. Stops when ``max|g_i| <= tol`` in the model's
coordinates (status 0: tested at the start and after each iteration; SciPy's own test
gets a bound in the solver's coordinates that implies it, ``objective.solver_tol``) or
when the objective's relative change falls below ``64 eps`` (status 5 while
``max|g_i| > tol``: stalled at working precision).

L-BFGS-B keeps its memory in SciPy's work arrays, out of reach; its checkpoint is
instead the log of the evaluations it asked for (``f`` and the gradient, ``n_params +
1`` floats each). Resuming evaluates the start for real (the log's first entry must
come out bit for bit), replays SciPy on the rest of the log without passes -- which
rebuilds its memory exactly, as it is deterministic -- and goes on from there.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy.optimize import minimize as _scipy_minimize

from .base import FTOL, Trace

__all__ = ["lbfgs"]


def _digest(x):
    return hashlib.sha256(np.ascontiguousarray(x, dtype=np.float64).tobytes()).hexdigest()


class _Log:
    """The evaluations of a run, served again from a checkpoint where there is one.
    Without a checkpoint nothing is kept: the log is ``n_params + 1`` floats an
    evaluation, which on a wide model (2**20 parameters: 8 MB each) would grow the
    client's memory with every pass."""

    def __init__(self, checkpoint, evaluate):
        self.checkpoint, self.evaluate = checkpoint, evaluate
        saved = checkpoint.load() if checkpoint is not None else None
        self.f = [] if saved is None else [float(v) for v in saved["f_log"]]
        self.g = [] if saved is None else list(saved["g_log"])
        self.x = [] if saved is None else list(saved["x_log"])
        self.history = [] if saved is None else [float(v) for v in saved["history"]]
        self.position = 0

    @property
    def replaying(self):
        return self.position < len(self.f)

    def __call__(self, x):
        """``(f, g)`` at ``x``: from the log while replaying (the first entry checked
        by a real pass), then by a pass, logged."""
        i = self.position
        self.position += 1
        if i < len(self.f) and i > 0:
            if _digest(x) != self.x[i]:
                raise ValueError(f"checkpoint {str(self.checkpoint.path)!r}: the replayed "
                                 "run asked for another point; it was written for other data")
            return self.f[i], np.array(self.g[i])
        f, g = self.evaluate(x)
        if self.checkpoint is None:
            return f, g
        if i == 0 and self.f:
            self.checkpoint.verify((self.f[0], self.g[0]), (f, g))
        elif i >= len(self.f):

            self.f.append(float(f))
            self.g.append(np.array(g))
            self.x.append(_digest(x))
        return f, g

    def save(self, nit, history):
        if self.checkpoint is not None and self.checkpoint.due(nit) and not self.replaying:
            self.checkpoint.save({"f_log": np.array(self.f), "g_log": np.array(self.g),
                                  "x_log": self.x, "nit": nit, "history": list(history)})


def lbfgs(objective, x0, *, tol=1e-4, max_iter=100, callback=None, history_size=10,
          max_fun=None, checkpoint=None):
    """Minimize with L-BFGS (``history_size`` correction pairs); ``checkpoint`` saves
    and resumes through the evaluation log (module docstring)."""
    trace = Trace(objective, callback)
    log = _Log(checkpoint, trace.counted(objective.value_and_grad))
    last = {}

    def fun(x):
        if "x" in last and np.array_equal(last["x"], x):  # the start, asked for again
            return last["f"], last["g"]
        f, g = log(x)
        last.update(x=x.copy(), f=f, g=g)
        return f, g

    x0 = np.asarray(x0, dtype=float)
    f0, g0 = fun(x0)
    if trace.stationarity(x0, g0) <= tol:
        return trace.result(x0, f0, g0, 0, 0)
    state = {"nit": 0, "stopped": False, "converged": False}

    def on_iteration(intermediate_result):
        state["nit"] += 1
        x = intermediate_result.x
        g = last["g"] if np.array_equal(last["x"], x) else log(x)[1]
        trace.silent = state["nit"] <= len(log.history)  # replayed: reported before
        if trace.record(state["nit"], x, intermediate_result.fun, g):
            state["stopped"] = True
            raise StopIteration
        log.save(state["nit"], trace.history)
        if trace.stationarity(x, g) <= tol:  # the documented test, in the model's terms
            state["converged"] = True
            raise StopIteration

    # SciPy's own gradient test sees the solver's coordinates (standardized ones,
    # gdd_dask.preconditioning): a bound there that implies tol in the model's
    options = {"maxiter": max_iter, "gtol": objective.solver_tol(tol), "ftol": FTOL,
               "maxcor": history_size,
               "maxfun": max_fun if max_fun is not None else max(15000, 2 * max_iter)}
    res = _scipy_minimize(fun, x0, jac=True, method="L-BFGS-B", callback=on_iteration,
                          options=options)
    converged = trace.stationarity(res.x, res.jac) <= tol
    if state["converged"]:
        status = 0
    elif state["stopped"]:
        status = 3
    elif res.status == 0:  # SciPy's "relative reduction of f" stop counts as well
        status = 0 if converged else 5
    elif res.status == 1:
        status = 1
    else:
        status = 0 if converged else 2
    return trace.result(res.x, res.fun, res.jac, state["nit"], status)
