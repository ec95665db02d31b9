"""Plain SGD steps on a sparse chunk in the time of its batches' stored values.

A dense step of plain SGD with an L2 penalty ``lambda`` on the coefficients,

    w <- w - eta (c X_B^T G_B + lambda w),   b <- b - eta c sum_i G_Bi

(``c = n / (b W)``, the unbiased scale; ``G_B`` the batch's weighted ``dl/draw``),
touches every one of the ``p`` coefficients, although a batch of hashed text stores
values in a few thousand columns of 2**20. As in scikit-learn's (and Bottou's) SGD,
the coefficients are kept as ``w = a v`` while a chunk's steps run:

    a <- a max(0, 1 - eta lambda),   v_J <- v_J - eta c (X_B^T G_B)_J / a

with ``J`` the columns the batch has values in. The batch is evaluated on its
compact matrix ``X_B[:, J]`` at ``a v_J`` by the loss's own ``grad_sum``, so a step
costs ``O(nnz_B + |J|)``, and ``O(p)`` work is left to the start and the end of a
chunk and to the rare folds of ``a`` back into ``v`` (:data:`FOLD`).

The carry's sum of the step gradients, ``sum_t (c X^T G_t + lambda w_t)``, is kept
too: between two changes of ``v_j``, ``sum_t w_tj`` is ``v_j`` times the sum of the
``a_t`` of those steps, added when ``v_j`` next changes and at the end.

The steps are the dense steps' up to rounding (the products ``a v``). They are taken
where :func:`takes_sparse_steps` says so: plain SGD, a penalty that is none or one
L2 weight on every coefficient, a linear model's loss, steps in the original
coordinates; other steps run dense (:mod:`gdd_dask.steps`).

This module runs on the workers: it imports NumPy and the chunk math only.
"""

from __future__ import annotations

import numpy as np

from .chunk import take_rows
from .losses.base import LinearModelLoss

__all__ = ["FOLD", "chunk_sparse_steps", "sparse_l2"]

FOLD = 1e3
"""``a`` is folded into ``v`` once the sum of ``a`` over the steps since the last fold
exceeds ``FOLD a``: the kept sum of the step gradients then loses at most about
``FOLD`` rounding errors (``v = w / a`` grows as ``a`` shrinks), and a shrink to 0
starts afresh. With ``a`` near 1 that is once in about a thousand steps."""


def sparse_l2(loss, rule, penalty, *, fit_intercept, scaling):
    """The L2 weight ``lambda`` (0 without a penalty) when steps of ``rule`` on
    ``loss`` and ``penalty`` may be taken on a sparse batch's columns alone, else
    ``None``: ``rule`` is plain SGD (``rule.plain``), ``loss`` a
    :class:`~gdd_dask.losses.base.LinearModelLoss`, no column ``scaling``, and the
    penalty smooth with one L2 weight on every coefficient and none on the
    intercepts."""
    if rule.plain is None or scaling is not None or not isinstance(loss, LinearModelLoss) \
            or not penalty.smooth:
        return None
    weights = getattr(penalty, "l2_weights", None)
    if weights is None:  # no penalty
        return 0.0
    lam, n_coef = penalty.l2_max, weights.size - (loss.n_outputs if fit_intercept else 0)
    uniform = np.all(weights[:n_coef] == lam) and not np.any(weights[n_coef:])
    return lam if uniform else None


class _Scaled:
    """The parameters of a chunk's steps, ``(p, K)`` coefficients ``a v`` (``(p,)`` for
    one output) and the intercepts ``b``, with the sum of the step gradients so far,
    ``sums + lambda total v`` (``total``: the sum of ``a`` over the steps since the
    last fold). A step that changes ``v_J`` by ``d`` adds its data gradient ``g_J`` to
    ``sums_J`` and ``-lambda total d`` (which keeps the sum of ``w`` over the past steps
    as it was), so that a step touches two arrays, on the batch's columns."""

    def __init__(self, x, n_features, n_outputs, fit_intercept, lam):
        params = np.array(x, dtype=np.float64)
        if n_outputs > 1:
            params = params.reshape(-1, n_outputs)
        split = n_features * (n_outputs if params.ndim == 1 else 1)
        self.v, self.b = params[:split], params[split:]
        self.fit_intercept, self.a, self.lam, self.total = fit_intercept, 1.0, lam, 0.0
        self.sums = np.zeros_like(params)

    def batch_params(self, columns):
        """The flat parameters of a batch's compact matrix: ``a v_J``, then ``b``."""
        return np.concatenate([(self.a * self.v[columns]).ravel(), self.b.ravel()])

    def step(self, eta, scale, columns, grad):
        """One step of the batch's gradient sum ``grad`` (compact layout) at rate
        ``eta`` and unbiased scale ``scale``."""
        grad = grad * scale
        if self.v.ndim > 1:
            grad = grad.reshape(-1, self.v.shape[1])
        coef, n = grad[:len(columns)], len(self.v)
        if self.fit_intercept:
            self.sums[n:] += grad[len(columns):]
            self.b -= eta * grad[len(columns):]
        if self.lam:
            self.total += self.a
            self.a *= max(0.0, 1.0 - eta * self.lam)
            if self.total > FOLD * self.a:
                self._fold()
        rate = eta / self.a
        self.sums[columns] += (1.0 + self.lam * self.total * rate) * coef
        self.v[columns] -= rate * coef

    def _fold(self):
        """``v <- a v``, ``a <- 1``, the pending ``lambda total v`` moved into ``sums``."""
        n = len(self.v)
        self.sums[:n] += (self.lam * self.total) * self.v
        self.v *= self.a
        self.a, self.total = 1.0, 0.0

    def penalty_value(self):
        """``lambda / 2 ||w||^2``."""
        return 0.5 * self.lam * self.a**2 * float(np.vdot(self.v, self.v)) if self.lam else 0.0

    def result(self):
        """``(x, sum of the step gradients)``, flat, in the parameter layout."""
        self._fold()
        x = np.concatenate([self.v, self.b]) if self.fit_intercept else self.v
        return x.ravel(), self.sums.ravel()


def chunk_sparse_steps(stepper, X, y, sample_weight, carry, batches):
    """The carry after plain SGD steps on the CSR chunk ``X``'s ``batches`` (local row
    numbers, each sorted), taken on each batch's columns only (module docstring).
    The chunk's rows are put in the batches' order once, so that a batch is a run of
    rows."""
    loss, rule, count = stepper.loss, stepper.rule, carry.state.count
    order = np.concatenate(batches) if batches else np.zeros(0, dtype=np.intp)
    X, y, sample_weight = (None if a is None else take_rows(a, order)
                           for a in (X, y, sample_weight))
    scaled = _Scaled(carry.x, X.shape[1], loss.n_outputs, stepper.fit_intercept,
                     stepper.sparse_l2)
    compact = _Compactor(X)
    loss_sum, first, stop = 0.0, carry.first, 0
    for t, rows in enumerate(batches):
        start, stop = stop, stop + len(rows)
        columns, Xb = compact(start, stop)
        value, grad = stepper.batch_sums(
            scaled.batch_params(columns), Xb,
            *(None if a is None else a[start:stop] for a in (y, sample_weight)))
        scale = stepper.n_samples / (len(rows) * stepper.weight_sum)
        if first is None:
            first = value * scale + scaled.penalty_value()
        loss_sum += value
        scaled.step(rule.plain(count + t), scale, columns, grad)
    x, grads = scaled.result()
    state = carry.state._replace(count=count + len(batches))
    grad_sum = grads if carry.grad_sum is None else carry.grad_sum + grads
    return type(carry)(x, state, carry.loss_sum + loss_sum, grad_sum,
                       carry.n_steps + len(batches), first)


class _Compactor:
    """``(J, X[start:stop, J])`` of a CSR chunk: the columns rows ``start`` to ``stop``
    have values in (in order of their last appearance) and those rows on those columns
    alone, in ``O(nnz)``: a scratch map of column to place marks each column's last
    value, and a value's column in the compact matrix is the rank of that last value
    among the last values."""

    def __init__(self, X):
        self.X, self.last = X, np.empty(X.shape[1], dtype=X.indices.dtype)

    def __call__(self, start, stop):
        X = self.X
        low, high = X.indptr[start], X.indptr[stop]
        columns = X.indices[low:high]
        places = np.arange(columns.size, dtype=self.last.dtype)
        self.last[columns] = places  # the last write of a column wins
        last = self.last[columns]
        is_last = last == places
        rank = np.cumsum(is_last, dtype=self.last.dtype) - 1
        compact = type(X)((X.data[low:high], rank[last], X.indptr[start:stop + 1] - low),
                          shape=(stop - start, int(rank[-1]) + 1 if rank.size else 0))
        return columns[is_last], compact
