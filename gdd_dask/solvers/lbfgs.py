"""L-BFGS, one pass over X per function-and-gradient evaluation.

The quasi-Newton update and its Wolfe line search are SciPy's L-BFGS-B (Byrd, Lu,
Nocedal & Zhu 1995), run on the client; every evaluation it asks for is one
``value_and_grad`` pass on the workers. Stops when ``max|g_i| <= tol`` or when the
objective's relative change falls below ``64 eps``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize as _scipy_minimize

from .base import FTOL, Trace, grad_norm

__all__ = ["lbfgs"]


def lbfgs(objective, x0, *, tol=1e-4, max_iter=100, callback=None, history_size=10,
          max_fun=None):
    """Minimize with L-BFGS (``history_size`` correction pairs)."""
    trace = Trace(objective, callback)
    evaluate = trace.counted(objective.value_and_grad)
    last = {}

    def fun(x):
        f, g = evaluate(x)
        last.update(x=x.copy(), f=f, g=g)
        return f, g

    state = {"nit": 0, "stopped": False}

    def on_iteration(intermediate_result):
        state["nit"] += 1
        x = intermediate_result.x
        g = last["g"] if np.array_equal(last["x"], x) else evaluate(x)[1]
        if trace.record(state["nit"], x, intermediate_result.fun, g):
            state["stopped"] = True
            raise StopIteration

    options = {"maxiter": max_iter, "gtol": tol, "ftol": FTOL, "maxcor": history_size,
               "maxfun": max_fun if max_fun is not None else max(15000, 2 * max_iter)}
    res = _scipy_minimize(fun, np.asarray(x0, dtype=float), jac=True, method="L-BFGS-B",
                          callback=on_iteration, options=options)
    if state["stopped"]:
        status = 3
    elif res.status == 0:
        status = 0
    elif res.status == 1:
        status = 1
    else:
        status = 0 if grad_norm(res.jac) <= tol else 2
    return trace.result(res.x, res.fun, res.jac, state["nit"], status)
