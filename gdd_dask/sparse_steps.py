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

The carry's sum of the step gradients, ``sum_t (c X^T G_t + lambda w_t)``, and
averaged SGD's sum of the parameters after its steps are kept too: between two
changes of ``v_j``, ``sum_t w_tj`` is ``v_j`` times the sum of the ``a_t`` of those
steps (:class:`_Scaled`).

The steps are the dense steps' up to rounding (the products ``a v``). They are taken
where :func:`sparse_penalty` says so: plain SGD (averaged, with the L1 shrinkage, or both),
a penalty that is none, L2, L1 or both with one weight of each on every coefficient,
a linear model's loss, steps in the original coordinates; other steps run dense
(:mod:`gdd_dask.steps`). With an L1 part, :mod:`gdd_dask.sparse_shrink` takes the
steps: the shrinkage of Tsuruoka et al. is owed to a column while no batch touches it
and taken when one does.

This module runs on the workers: it imports NumPy, the chunk math and the rules'
states only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .chunk import take_rows
from .losses.base import LinearModelLoss
from .rules import ChainState

__all__ = ["FOLD", "Parameters", "SparsePenalty", "chunk_sparse_steps", "sparse_penalty"]

FOLD = 1e3
"""``a`` is folded into ``v`` once the sum of ``a`` over the steps since the last fold
exceeds ``FOLD a`` (with an L1 part, :mod:`gdd_dask.sparse_shrink`: once ``a`` falls
below ``1 / FOLD``): the kept sums then lose at most about ``FOLD`` rounding errors
(``v = w / a`` grows as ``a`` shrinks), and a shrink to 0 starts afresh. With ``a``
near 1 that is once in about a thousand steps."""


class SparsePenalty(NamedTuple):
    """The weights of a penalty that sparse steps take: ``l2`` (``lambda``) and ``l1``
    (the cumulative L1 shrinkage's), one of each on every coefficient."""

    l2: float
    l1: float


def sparse_penalty(loss, rule, penalty, *, fit_intercept, scaling):
    """The :class:`SparsePenalty` when steps of ``rule`` on ``loss`` and ``penalty`` may
    be taken on a sparse batch's columns alone, else ``None``: ``rule`` is plain SGD,
    averaged, with the L1 shrinkage or both (``rule.plain``), ``loss`` a
    :class:`~gdd_dask.losses.base.LinearModelLoss`, no column ``scaling``, and the
    penalty's L2 and L1 weights each one number on every coefficient and 0 on the
    intercepts."""
    if rule.plain is None or scaling is not None or not isinstance(loss, LinearModelLoss) \
            or getattr(penalty, "positive", False):
        return None
    if getattr(penalty, "l2_weights", None) is None:  # no penalty
        return SparsePenalty(0.0, 0.0)
    n_coef = penalty.mask.size - (loss.n_outputs if fit_intercept else 0)
    l2, l1 = (_uniform(w, n_coef) for w in (penalty.l2_weights, penalty.l1_weights))
    if l2 is None or l1 is None or bool(l1) != (rule.shrinks is not None):
        return None
    return SparsePenalty(l2, l1)


def _uniform(weights, n_coef):
    """The one weight of the first ``n_coef`` entries, the rest 0; else ``None``."""
    value = float(weights[0]) if n_coef else 0.0
    return value if np.all(weights[:n_coef] == value) and not np.any(weights[n_coef:]) \
        else None


class Parameters:
    """A chunk's parameters while steps run on its batches' columns: the coefficients
    ``v`` (``(p,)``, or ``(p, K)`` for ``K`` outputs), the intercepts ``b`` and the sum
    of the step gradients so far, ``sums``, in the parameter layout."""

    def __init__(self, x, n_features, n_outputs, fit_intercept):
        params = np.array(x, dtype=np.float64)
        if n_outputs > 1:
            params = params.reshape(-1, n_outputs)
        split = n_features * (n_outputs if params.ndim == 1 else 1)
        self.v, self.b, self.fit_intercept = params[:split], params[split:], fit_intercept
        self.sums = np.zeros_like(params)
        self.averaged, self.n_averaged = None, 0  # averaged SGD's sum, once it begins

    def _average_intercepts(self):
        """Count an averaged step and add the intercepts after it to the averaged sum
        (begun at 0 by the first)."""
        if self.averaged is None:
            self.averaged = np.zeros_like(self.sums)
        self.averaged[len(self.v):] += self.b
        self.n_averaged += 1

    def _intercept_step(self, eta, scale, columns, grad):
        """The batch's gradient sum ``grad`` (compact layout) times ``scale``: the
        intercepts stepped and their gradients summed; the coefficients' rows."""
        grad = grad * scale
        if self.v.ndim > 1:
            grad = grad.reshape(-1, self.v.shape[1])
        if self.fit_intercept:
            self.sums[len(self.v):] += grad[len(columns):]
            self.b -= eta * grad[len(columns):]
        return grad[:len(columns)]


class _Scaled(Parameters):
    """The parameters of a chunk's steps, ``(p, K)`` coefficients ``a v`` (``(p,)`` for
    one output) and the intercepts ``b``, with what the steps add up to kept lazily:

    - The sum of the step gradients: ``sums + lambda total v`` (``total``: the sum of the
      pre-step ``a`` since the last fold). A step that changes ``v_J`` by ``d`` adds its
      data gradient ``g_J`` to ``sums_J``, and ``-lambda total d``, which keeps the sum
      of the past steps' ``w`` as it was.
    - Averaged SGD's sum of the parameters after each averaged step:
      ``averaged + after v`` (``after``: the sum of the post-step ``a``), kept the same
      way.
    A step touches two arrays (three when averaging), on the batch's columns. (With an
    L1 penalty, :class:`~gdd_dask.sparse_shrink.Shrinking` takes the steps.)"""

    def __init__(self, x, n_features, n_outputs, fit_intercept, penalty):
        super().__init__(x, n_features, n_outputs, fit_intercept)
        self.a, self.total, self.lam, self.after = 1.0, 0.0, penalty.l2, 0.0

    def batch_params(self, columns):
        """The flat parameters of a batch's compact matrix: ``a v_J``, then ``b``."""
        return np.concatenate([(self.a * self.v[columns]).ravel(), self.b.ravel()])

    def step(self, eta, scale, columns, grad, *, average=False):
        """One step of the batch's gradient sum ``grad`` (compact layout) at rate
        ``eta`` and unbiased scale ``scale``; with ``average``, the parameters after it
        join averaged SGD's sum."""
        coef = self._intercept_step(eta, scale, columns, grad)
        if self.lam:
            self.total += self.a
            self.a *= max(0.0, 1.0 - eta * self.lam)
        if max(self.total, self.after) > FOLD * self.a:
            self._fold()
        rate = eta / self.a
        self.sums[columns] += (1.0 + self.lam * self.total * rate) * coef
        if self.averaged is not None:
            self.averaged[columns] += (rate * self.after) * coef
        self.v[columns] -= rate * coef
        if average:
            self._average_intercepts()
            self.after += self.a

    def _fold(self):
        """``v <- a v``, ``a <- 1``, the pending ``lambda total v`` and ``after v`` moved
        into their sums."""
        n = len(self.v)
        self.sums[:n] += (self.lam * self.total) * self.v
        if self.averaged is not None:
            self.averaged[:n] += self.after * self.v
        self.v *= self.a
        self.a, self.total, self.after = 1.0, 0.0, 0.0

    def penalty_value(self):
        """``lambda / 2 ||w||^2``."""
        return 0.5 * self.lam * self.a**2 * float(np.vdot(self.v, self.v)) if self.lam else 0.0

    def result(self):
        """``(x, sum of the step gradients, sum of the averaged steps' parameters or
        None)``, flat, in the parameter layout."""
        self._fold()
        x = np.concatenate([self.v, self.b]) if self.fit_intercept else self.v
        averaged = None if self.averaged is None else self.averaged.ravel()
        return x.ravel(), self.sums.ravel(), averaged


def chunk_sparse_steps(stepper, X, y, sample_weight, carry, batches):
    """The carry after plain SGD steps on the CSR chunk ``X``'s ``batches`` (local row
    numbers, each sorted), taken on each batch's columns only (module docstring).
    The chunk's rows are put in the batches' order once, so that a batch is a run of
    rows."""
    loss, rule = stepper.loss, stepper.rule
    steps, mean, shrinkage = _states(carry.state)
    order = np.concatenate(batches) if batches else np.zeros(0, dtype=np.intp)
    X, y, sample_weight = (None if a is None else take_rows(a, order)
                           for a in (X, y, sample_weight))
    from .sparse_shrink import Shrinking  # it builds on Parameters, below

    sizes = (carry.x, X.shape[1], loss.n_outputs, stepper.fit_intercept,
             stepper.sparse_penalty)
    scaled = _Scaled(*sizes) if shrinkage is None else \
        Shrinking(*sizes, shrinkage, n_steps=len(batches), averages=mean is not None)
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
        scaled.step(rule.plain(steps.count + t), scale, columns, grad,
                    average=mean is not None and mean.count + t + 1 > mean.start)
    x, grads, averaged = scaled.result()
    state = _advanced(carry.state, len(batches), x, averaged, scaled.n_averaged,
                      None if shrinkage is None else scaled.shrinkage(shrinkage.total))
    grad_sum = grads if carry.grad_sum is None else carry.grad_sum + grads
    return type(carry)(x, state, carry.loss_sum + loss_sum, grad_sum,
                       carry.n_steps + len(batches), first)


def _states(state):
    """``(SGD state, averaging state or None, L1 shrinkage state or None)`` of a plain
    rule's state: an ``SGDState``, chained with an ``L1State``, an ``AveragedState``
    or a chain of both."""
    if not isinstance(state, ChainState):
        return state, None, None
    steps, rest = state.head, state.tail
    if isinstance(rest, ChainState):
        return steps, rest.tail, rest.head
    return (steps, rest, None) if hasattr(rest, "mean") else (steps, None, rest)


def _advanced(state, n_steps, x, averaged, n_averaged, shrinkage):
    """``state`` after ``n_steps`` steps ending at ``x``: averaged SGD's mean joined by
    the ``n_averaged`` steps whose parameters sum to ``averaged`` (the mean is ``x``
    itself while no step has been averaged), the L1 state replaced by ``shrinkage``."""
    steps, mean, _ = _states(state)
    steps = steps._replace(count=steps.count + n_steps)
    if mean is not None:
        if n_averaged:
            n = mean.n + n_averaged
            center = (mean.mean * (mean.n / n) if mean.n else 0.0) + averaged / n
            mean = mean._replace(mean=center, n=n, count=mean.count + n_steps)
        else:
            mean = mean._replace(mean=x.copy(), count=mean.count + n_steps)
    if not isinstance(state, ChainState):
        return steps
    if mean is not None and shrinkage is not None:
        return state._replace(head=steps, tail=state.tail._replace(head=shrinkage, tail=mean))
    return state._replace(head=steps, tail=mean if mean is not None else shrinkage)


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
