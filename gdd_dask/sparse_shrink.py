"""Plain SGD with an L1 penalty (and an L2 one, or none) on a sparse batch's columns.

A dense step of the elastic net shrinks every coefficient, then takes its share
``delta = eta l1`` of the cumulative L1 penalty (:func:`~gdd_dask.rules.l1_shrinkage`):

    z = s w - eta g,   s = max(0, 1 - eta lambda),   w <- shrink_owed(z, tau, applied)

A coefficient no batch touches moves by ``w <- max(0, s w - delta)`` (for ``w > 0``;
the mirror image below 0) until it reaches 0, where it stays while what it is owed
grows. With ``w = a v`` (``a`` the product of the shrinks) that is ``v <- v -
delta / a``: ``v`` falls by the growth of ``D = sum delta_t / a_t``. So a column is
brought up to date only when a batch touches it (and at the end), from the step it was
last touched at and the chunk's history of ``a``, ``D`` and the cumulative penalty
``tau``: the step it reached 0 at is found by a binary search of ``D``, and what it
was owed from there on follows. The sum of the step gradients (``lambda w_t`` of every
step) comes from the running sums of ``a`` and ``a D`` over the history, and averaged
SGD's sum of the parameters from the same sums over its averaged steps.

These are the dense steps' numbers up to rounding. ``a`` is folded back into ``v``
(and the history begun anew) once it falls below ``1 / FOLD``
(:data:`~gdd_dask.sparse_steps.FOLD`: ``v = w / a`` and ``D`` grow at most a
thousandfold, and with them the rounding of the differences taken from them), and a
shrink to 0 is taken as the dense step takes it.

This module runs on the workers: it imports NumPy, the rules' shrink and the sparse
steps' parameters only.
"""

from __future__ import annotations

import numpy as np

from .rules import L1State, shrink_owed
from .sparse_steps import FOLD, Parameters

__all__ = ["Shrinking"]


class Shrinking(Parameters):
    """A chunk's steps with an L1 weight ``l1`` and an L2 weight ``lam`` (0 or more):
    the coefficients ``a v``, the L1 state (``applied`` per parameter, the cumulative
    penalty in the history) and the sum of the step gradients.

    ``since[j]`` is the step column ``j``'s ``v`` is up to date at; its ``w`` after each
    step before that is in the sums already. The history (index ``r``, 0 at its start)
    holds ``A[r]`` (``a`` after step ``r``), ``D[r]``, ``T[r]`` (the cumulative penalty
    ``tau``) and the running sums ``CA[r] = sum_{q < r} A[q]`` and ``CAD[r] = sum_{q <
    r} A[q] D[q]``; without an L2 weight only ``A = 1`` and ``T`` are kept."""

    def __init__(self, x, n_features, n_outputs, fit_intercept, penalty, shrinkage, n_steps,
                 *, averages=False):
        super().__init__(x, n_features, n_outputs, fit_intercept)
        self.lam, self.l1 = penalty
        self.history = bool(self.lam) or averages  # else only A = 1 and T are kept
        self.applied = np.array(shrinkage.applied, dtype=np.float64).reshape(self.sums.shape)
        self.since = np.zeros(n_features, dtype=np.intp)
        size = n_steps + 2
        self.A, self.D, self.T = np.ones(size), np.zeros(size), np.zeros(size)
        self.CA, self.CAD = np.zeros(size + 1), np.zeros(size + 1)
        self.CAm, self.CADm = np.zeros(size + 1), np.zeros(size + 1)  # averaged steps'
        self._begin(float(shrinkage.total[0]) if self.v.size else 0.0)

    def _begin(self, tau):
        """A new history at ``a = 1`` (every column up to date, its ``w`` now in the
        averaged sum where this step is averaged)."""
        self.r, self.T[0], self.since[:] = 0, tau, 0
        self.CA[1], self.CAD[1], self.CAm[1], self.CADm[1] = 1.0, 0.0, 0.0, 0.0

    def _rows(self, x):
        """A number per row of ``v``, as a column where ``v`` is a matrix."""
        return x if self.v.ndim == 1 else x[:, None]

    def _catch_up(self, rows):
        """Bring ``v`` and ``applied`` of ``rows`` up to step ``r``, and add ``lambda``
        times their ``w`` after steps ``since`` to ``r - 1`` to the sums."""
        r, A, D, T = self.r, self.A, self.D, self.T
        if not self.history:  # a = 1 throughout: what was owed is taken at once
            self.v[rows], self.applied[rows] = shrink_owed(self.v[rows], T[r],
                                                           self.applied[rows])
            return
        t0, v0, held = self.since[rows], self.v[rows], self.applied[rows]
        sign, size = np.sign(v0), np.abs(v0)
        base = self._rows(D[t0])
        zero = np.searchsorted(D[:r + 1], base + size)  # the step w reached 0 at
        alive = zero > r
        v = np.where(alive, sign * np.maximum(0.0, size - (D[r] - base)), 0.0)
        at = np.minimum(zero, r)
        reached = -sign * (T[at] - A[at] * (D[at] - base - size))
        current = self._rows(t0 == r) | (size == 0)
        self.applied[rows] = np.where(current, held, np.where(alive, -sign * T[r], reached))
        if self.lam:
            end = np.minimum(r - 1, zero - 1) + 1
            start = self._rows(t0)
            total = sign * ((size + base) * (self.CA[end] - self.CA[start])
                            - (self.CAD[end] - self.CAD[start]))
            self.sums[rows] += self.lam * np.where(end > start, total, 0.0)
        if self.averaged is not None:  # the w after the averaged steps since + 1 to r
            end, start = np.minimum(r, zero - 1) + 1, self._rows(t0 + 1)
            total = sign * ((size + base) * (self.CAm[end] - self.CAm[start])
                            - (self.CADm[end] - self.CADm[start]))
            self.averaged[rows] += np.where(end > start, total, 0.0)
        self.v[rows], self.since[rows] = v, r

    def batch_params(self, columns):
        """The flat parameters of a batch's compact matrix, its columns brought up to
        date: ``a v_J``, then ``b``."""
        self._catch_up(columns)
        return np.concatenate([(self.A[self.r] * self.v[columns]).ravel(), self.b.ravel()])

    def step(self, eta, scale, columns, grad, *, average=False):
        """One step of the batch's gradient sum ``grad`` (compact layout); the batch's
        columns are up to date (:meth:`batch_params`)."""
        coef, n = self._intercept_step(eta, scale, columns, grad), len(self.v)
        shrink, r = max(0.0, 1.0 - eta * self.lam), self.r
        a = self.A[r] * shrink
        tau = self.T[r] + eta * self.l1
        if average:
            self._average_intercepts()
        if a < 1.0 / FOLD:  # every column up to date, this step dense, a new history
            self._fold()
            self.sums[:n] += self.lam * self.v
            self.sums[columns] += coef
            z = shrink * self.v
            z[columns] -= eta * coef
            self.v, self.applied[:n] = shrink_owed(z, tau, self.applied[:n])
            if average:
                self.averaged[:n] += self.v
            self._begin(tau)
            return
        self.A[r + 1], self.T[r + 1], self.r = a, tau, r + 1
        v = self.v[columns]
        if not self.history:  # a = 1, no history but the penalty's
            self.sums[columns] += coef
            self.v[columns], self.applied[columns] = shrink_owed(v - eta * coef, tau,
                                                                 self.applied[columns])
            return
        self.sums[columns] += coef + self.lam * self.A[r] * v
        self.D[r + 1] = self.D[r] + eta * self.l1 / a
        self.CA[r + 2] = self.CA[r + 1] + a
        self.CAD[r + 2] = self.CAD[r + 1] + a * self.D[r + 1]
        m = a if average else 0.0
        self.CAm[r + 2] = self.CAm[r + 1] + m
        self.CADm[r + 2] = self.CADm[r + 1] + m * self.D[r + 1]
        x, self.applied[columns] = shrink_owed(a * v - eta * coef, tau, self.applied[columns])
        self.v[columns], self.since[columns] = x / a, r + 1
        if average:
            self.averaged[columns] += x

    def _fold(self):
        """Every column up to date, ``v`` in ``w``'s units."""
        self._catch_up(np.arange(len(self.since)))
        self.v = self.v * self.A[self.r]

    def penalty_value(self):
        """``lambda / 2 ||w||^2 + l1 ||w||_1`` (at the start of an epoch, when every
        column is up to date)."""
        w = self.A[self.r] * self.v
        return 0.5 * self.lam * float(np.vdot(w, w)) + self.l1 * float(np.sum(np.abs(w)))

    def shrinkage(self, total):
        """The :class:`~gdd_dask.rules.L1State` after the steps, from the state's
        ``total`` (0 on the intercepts)."""
        total = np.array(total, dtype=np.float64)
        total[:self.v.size] = self.T[self.r]
        return L1State(total, self.applied.ravel())

    def result(self):
        """``(x, sum of the step gradients, sum of the averaged steps' parameters or
        None)``, flat, in the parameter layout, every column brought up to date (the
        ``w`` after the last step is no step's)."""
        self._catch_up(np.arange(len(self.since)))
        w = self.A[self.r] * self.v
        x = np.concatenate([w, self.b]) if self.fit_intercept else w
        averaged = None if self.averaged is None else self.averaged.ravel()
        return x.ravel(), self.sums.ravel(), averaged
