"""Newton's method (IRLS for GLMs) with the tree-reduced dense Hessian.

Each iteration solves ``H d = -grad`` on the client (Cholesky; the pseudo-inverse when
``H`` is singular) and tries the full step with one pass that returns
``(f, grad, Hessian)`` at the trial point: when it is accepted, as it usually is, an
iteration costs one pass over X. When it is not, the shorter steps are scored from the
margins kept on the workers (no pass) and one more pass evaluates the accepted point.
For up to ``max_params`` parameters (the Hessian is ``n_params^2`` floats per chunk).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from .base import Trace, backtrack, grad_norm, resume, save, small_change

__all__ = ["newton"]


def newton_direction(H, g, rcond=1e-10):
    """``d = -H^+ g``: Cholesky when ``H`` is safely positive definite, else the
    pseudo-inverse over eigenvalues above ``rcond * max eigenvalue``.

    A singular direction (e.g. shifting all multinomial intercepts together) gets no
    step, so the solution stays the minimum-norm one instead of drifting along it.
    """
    try:
        factor = linalg.cho_factor(H)
        if np.min(np.diag(factor[0])) ** 2 > rcond * np.max(np.diag(H)):
            return -linalg.cho_solve(factor, g)
    except linalg.LinAlgError:
        pass
    w, V = linalg.eigh(H)
    keep = w > rcond * max(w.max(), 0.0)
    d = -V[:, keep] @ ((V[:, keep].T @ g) / w[keep])
    return d if float(g @ d) < 0 else -g


def newton(objective, x0, *, tol=1e-4, max_iter=100, callback=None, max_params=2000,
           checkpoint=None):
    """Minimize with damped Newton steps; see the module docstring. ``checkpoint``
    saves and resumes the iterate (Newton keeps no other memory)."""
    if objective.n_params > max_params:
        raise ValueError(
            f"newton forms a dense {objective.n_params}x{objective.n_params} Hessian, over "
            f"max_params={max_params}; use solver='lbfgs' or raise max_params"
        )
    trace = Trace(objective, callback)
    value_grad_hessian = trace.counted(objective.value_grad_hessian)
    objective.keep_margins()  # free backtracking steps
    saved, x, (f, g, H) = resume(checkpoint, value_grad_hessian, x0, trace)
    status, nit = 1, 0 if saved is None else saved["nit"]
    while nit < max_iter:
        if grad_norm(g) <= tol:
            status = 0
            break
        found = backtrack(value_grad_hessian, x, f, g, newton_direction(H, g), 1.0,
                          line_values=objective.line_values)
        if found is None:
            status = 2
            break
        nit += 1
        f_old, x, (f, g, H) = f, found[1], found[2]
        if trace.record(nit, x, f, g):
            status = 3
            break
        save(checkpoint, nit, trace, x=x, f=f, g=g)
        if small_change(f_old, f) and grad_norm(g) <= 10 * tol:
            status = 0
            break
    else:
        status = 0 if grad_norm(g) <= tol else 1
    return trace.result(x, f, g, nit, status)
