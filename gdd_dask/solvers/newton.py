"""Newton's method (IRLS for GLMs) with the tree-reduced dense Hessian.

Each iteration solves ``H d = -grad`` on the client and tries the full step with one
pass that returns ``(f, grad, Hessian)`` at the trial point: when it is accepted, as it
usually is, an iteration costs one pass over X. When it is not, the shorter steps are
scored from the margins kept on the workers (no pass) and one more pass evaluates the
accepted point. For up to ``max_params`` parameters (the Hessian is ``n_params^2``
floats per chunk).

The step comes from the Cholesky factorization of the diagonally scaled Hessian
``D H D`` (``D = diag(H)^(-1/2)``): scaling removes what unscaled columns add to the
condition number (a column in the tens of thousands next to one of ones), and
Cholesky keeps every direction, however flat, as long as ``D H D`` is positive
definite to working precision. Only where it is not (a truly singular direction, e.g.
shifting all multinomial intercepts together) does the step fall back to the
pseudo-inverse over the eigenvalues above :data:`SINGULAR_RCOND` times the largest,
which takes no step along the singular directions and keeps the solution the
minimum-norm one.

Newton stops when ``max|grad_i| <= tol`` (status 0). Near the optimum the objective
stops changing in floating point long before the gradient does, so that alone is no
reason to stop; when the objective no longer changes *and* the gradient no longer
shrinks by half per step for :data:`STALL_ITERATIONS` steps, the iterate is at the
limit of working precision and Newton stops with status 5, the gradient reported as
it is.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from .base import STALL_ITERATIONS, Trace, backtrack, grad_norm, resume, save, small_change

__all__ = ["newton", "newton_direction"]

SINGULAR_RCOND = 1e3 * np.finfo(np.float64).eps
"""Pivots (Cholesky) and eigenvalues (the fallback) of the scaled Hessian below this
times its largest diagonal entry or eigenvalue count as singular."""


def newton_direction(H, g):
    """``d = -H^+ g`` (module docstring): Cholesky of ``D H D``, else the
    pseudo-inverse over its eigenvalues above ``SINGULAR_RCOND`` times the largest."""
    diag = np.diag(H).copy()
    scale = np.where(diag > 0, 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0)), 1.0)
    Hs, gs = H * scale[:, None] * scale[None, :], g * scale
    top = float(np.max(np.abs(np.diag(Hs)))) if Hs.size else 0.0
    try:
        factor = linalg.cho_factor(Hs)
        if np.min(np.diag(factor[0])) ** 2 > SINGULAR_RCOND * top:
            return -scale * linalg.cho_solve(factor, gs)
    except linalg.LinAlgError:
        pass
    w, V = linalg.eigh(Hs)
    keep = w > SINGULAR_RCOND * max(w.max(), 0.0)
    d = -scale * (V[:, keep] @ ((V[:, keep].T @ gs) / w[keep]))
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
    status, nit, stalled = 1, 0 if saved is None else saved["nit"], 0
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
        f_old, g_old, x, (f, g, H) = f, g, found[1], found[2]
        if trace.record(nit, x, f, g):
            status = 3
            break
        save(checkpoint, nit, trace, x=x, f=f, g=g)
        stalled = stalled + 1 if small_change(f_old, f) \
            and grad_norm(g) > 0.5 * grad_norm(g_old) else 0
        if stalled >= STALL_ITERATIONS and grad_norm(g) > tol:
            status = 5
            break
    else:
        status = 0 if grad_norm(g) <= tol else 1
    return trace.result(x, f, g, nit, status)
