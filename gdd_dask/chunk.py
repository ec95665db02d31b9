"""The work done on one row chunk: the task body of every pass.

``chunk_sums`` evaluates a loss on one chunk in the chunk's own array namespace
(NumPy, CuPy, array-api-strict) and hands back small NumPy float64 sums, so only the
parameters travel to a chunk and only the sums travel back. When a sum is not finite
it looks for the cause in the data and names the array, the row and the chunk.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace, device

__all__ = ["KINDS", "aligned", "as_float64", "chunk_sums", "chunk_check", "to_numpy"]

KINDS = ("value", "grad", "hess", "hessp")


def to_numpy(a):
    """A small result array (any namespace) as NumPy float64."""
    if hasattr(a, "get") and not isinstance(a, np.ndarray):  # CuPy
        a = a.get()
    elif not isinstance(a, (np.ndarray, float, int, np.number)):
        a = np.from_dlpack(a)
    return np.asarray(a, dtype=np.float64)


def aligned(a):
    """A NumPy chunk at an aligned address (copied only when it is not); others as is.

    Arrays that arrive over the network can sit at unaligned addresses, where NumPy
    skips BLAS for a slower loop that sums in another order: aligning keeps results
    bit-identical wherever a chunk lives, and fast.
    """
    return np.require(a, requirements="A") if isinstance(a, np.ndarray) else a


def as_float64(a, xp=None):
    """``a`` as an aligned float64 array of its own namespace (``None`` stays)."""
    if a is None:
        return None
    if isinstance(a, np.ndarray):
        return np.require(a, dtype=np.float64, requirements="A")
    xp = xp or array_namespace(a)
    return a if a.dtype == xp.float64 else xp.astype(a, xp.float64)


def _first_bad_row(bad, xp):
    rows = xp.nonzero(bad)[0]
    return int(to_numpy(rows[0])) if rows.shape[0] else None


def _raise_nonfinite(X, y, sample_weight, offset, index, xp):
    """Raise ``ValueError`` at the first non-finite value of X, y or sample_weight."""
    checks = [("X", ~xp.all(xp.isfinite(X), axis=1)), ("y", ~xp.isfinite(y))]
    if sample_weight is not None:
        checks.append(("sample_weight", ~xp.isfinite(sample_weight)))
    for name, bad in checks:
        row = _first_bad_row(bad, xp)
        if row is not None:
            raise ValueError(
                f"{name} has a non-finite value (NaN or inf) at row {offset + row} "
                f"(chunk {index})"
            )


def chunk_sums(kind, loss, fit_intercept, offset, index, X, y, sample_weight, params,
               vector=None):
    """Sums over one chunk (rows ``offset ..``, chunk number ``index``) for a pass.

    - ``"value"``: ``(sum s_i l_i,)``
    - ``"grad"``: ``(sum s_i l_i, sum s_i dl_i)``
    - ``"hess"``: ``(sum s_i l_i, sum s_i dl_i, sum s_i d2l_i)``
    - ``"hessp"``: ``(sum s_i d2l_i @ vector,)``
    """
    xp = array_namespace(X)
    X, y, sample_weight = (as_float64(a, xp) for a in (X, y, sample_weight))
    dev = device(X)
    p = xp.asarray(params, device=dev)
    opts = {"fit_intercept": fit_intercept}
    if kind == "hessp":
        sums = (loss.hessp_sum(X, y, sample_weight, p, xp.asarray(vector, device=dev), **opts),)
    else:
        method = {"value": loss.value_sum, "grad": loss.grad_sum, "hess": loss.hessian_sum}[kind]
        out = method(X, y, sample_weight, p, **opts)
        sums = out if isinstance(out, tuple) else (out,)
    sums = tuple(to_numpy(s) for s in sums)
    if not all(np.all(np.isfinite(s)) for s in sums):
        _raise_nonfinite(X, y, sample_weight, offset, index, xp)
    return sums


def chunk_check(loss, offset, index, y, sample_weight):
    """Validate one chunk's target and weights; return ``(rows, sum s_i, sum s_i y_i)``."""
    xp = array_namespace(y)
    y, sample_weight = as_float64(y, xp), as_float64(sample_weight, xp)
    rules = [("y", ~xp.isfinite(y), "y must be finite"),
             ("y", loss.invalid_target(y, xp), getattr(loss, "target_rule", "invalid y"))]
    if sample_weight is not None:
        rules += [("sample_weight", ~xp.isfinite(sample_weight), "sample_weight must be finite"),
                  ("sample_weight", sample_weight < 0, "sample_weight must be >= 0")]
    for name, bad, rule in rules:
        row = _first_bad_row(bad, xp)
        if row is not None:
            value = to_numpy((y if name == "y" else sample_weight)[row])
            raise ValueError(f"{rule}; {name}[{offset + row}] = {float(value)!r} (chunk {index})")
    if sample_weight is None:
        return to_numpy(y.shape[0]), to_numpy(y.shape[0]), to_numpy(xp.sum(y))
    return to_numpy(y.shape[0]), to_numpy(xp.sum(sample_weight)), to_numpy(
        xp.sum(sample_weight * y))
