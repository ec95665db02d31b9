"""Mini-batch steps inside the tasks that hold the data.

An epoch is a *plan*: the chunks in a random order, each with a seed that shuffles its
rows. The task that holds a chunk takes the parameters and the update rule's state
(a :class:`Carry`), runs every mini-batch of the chunk in turn -- its rows shuffled by
the seed and cut into batches of ``batch_size`` -- and hands the carry on to the task
of the next chunk of the plan, on whichever worker holds it. A step is

    g_B = n / (b W) sum_{i in B} s_i grad l_i(w) + grad P(w),   w, state <- rule(g_B)

(``b`` rows of ``n``, ``W = sum_i s_i``: an unbiased estimate of the gradient), then
the cumulative L1 shrinkage where the penalty has an L1 part
(:func:`gdd_dask.rules.apply_step`). Everything a step depends on is in the plan and
the carry, so an epoch gives the same bits on any number of workers and on every
rerun.

The forward and backward passes run in :attr:`Stepper.dtype` (float32 halves the
memory traffic and doubles the SIMD width, as PyTorch does by default); parameters,
the rule's state and every sum stay float64.

This module runs on the workers: it imports the chunk math only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from contextlib import contextmanager

import numpy as np

from .chunk import aligned, take_rows, to_numpy
from .losses.base import chunk_device, is_scipy_sparse, is_sparse, namespace
from .rules import apply_step
from .sparse_steps import chunk_sparse_steps, sparse_penalty

__all__ = ["Carry", "DTYPES", "Stepper", "chunk_steps", "epoch_plan"]

DTYPES = ("float64", "float32")


def epoch_plan(n_chunks, rng, shuffle=True):
    """``[(chunk, seed)]`` of one epoch: every chunk once, in a random order, each with
    the seed that shuffles its rows; without ``shuffle``, the chunks and their rows in
    order (seed ``None``)."""
    if not shuffle:
        return [(i, None) for i in range(n_chunks)]
    order = rng.permutation(n_chunks)
    seeds = rng.integers(2**63, size=n_chunks)
    return [(int(i), int(seeds[i])) for i in order]


def batch_rows(n, batch_size, seed):
    """The batches of a chunk of ``n`` rows: its rows shuffled by ``seed`` (in order for
    ``None``), cut into runs of ``batch_size``, each sorted (rows read in memory
    order)."""
    order = np.arange(n) if seed is None else np.random.default_rng(seed).permutation(n)
    return [np.sort(order[s:s + batch_size]) for s in range(0, n, batch_size)]


class Carry:
    """What one step task hands to the next: the parameters ``x``, the rule's
    ``state``, and the epoch so far -- ``loss_sum`` (``sum s_i l_i`` of every row seen,
    at the parameters of its step), ``grad_sum`` (the sum of the step gradients),
    ``n_steps`` and ``first`` (the first step's estimate of the objective)."""

    __slots__ = ("x", "state", "loss_sum", "grad_sum", "n_steps", "first")

    def __init__(self, x, state, loss_sum=0.0, grad_sum=None, n_steps=0, first=None):
        self.x, self.state, self.loss_sum = x, state, loss_sum
        self.grad_sum, self.n_steps, self.first = grad_sum, n_steps, first

    def __getstate__(self):
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, values):
        for name, value in zip(self.__slots__, values):
            setattr(self, name, value)

    def add(self, x, state, value, grad, estimate):
        """The carry after one more step."""
        grad_sum = grad if self.grad_sum is None else self.grad_sum + grad
        first = estimate if self.first is None else self.first
        return Carry(x, state, self.loss_sum + value, grad_sum, self.n_steps + 1, first)


class Stepper:
    """How to take a step: the loss, the penalty, the update rule, the batch size, the
    data's size and weight (for the unbiased scale) and the dtype of the forward and
    backward passes. Sent to the tasks of an epoch; see the module docstring."""

    def __init__(self, loss, rule, penalty, *, fit_intercept, batch_size, n_samples,
                 weight_sum, dtype="float64", scaling=None):
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}; got {dtype!r}")
        self.loss, self.rule, self.penalty = loss, rule, penalty
        self.fit_intercept, self.batch_size = fit_intercept, int(batch_size)
        self.n_samples, self.weight_sum, self.dtype = n_samples, weight_sum, dtype
        self.scaling = scaling
        self.sparse_penalty = sparse_penalty(loss, rule, penalty,
                                             fit_intercept=fit_intercept, scaling=scaling)

    def batch_sums(self, x, X, y, sample_weight):
        """``(sum_B s_i l_i, sum_B s_i grad l_i)`` of one batch at ``x``, as a float
        and a NumPy float64 vector, computed in :attr:`dtype`. With a :attr:`scaling`
        (:class:`~gdd_dask.scaling.ColumnScaling`) ``x`` is in standardized
        coordinates: the batch is evaluated at ``T x`` and its gradient is ``T^T g``."""
        if self.scaling is None:
            return self._batch_sums(x, X, y, sample_weight)
        value, grad = self._batch_sums(self.scaling.to_original(x), X, y, sample_weight)
        return value, self.scaling.grad_to_scaled(grad)

    def _batch_sums(self, x, X, y, sample_weight):
        if isinstance(X, np.ndarray) or is_scipy_sparse(X):  # no namespace wrappers
            X, y, sample_weight = (None if a is None else _as_dtype(a, self.dtype, np)
                                   for a in (X, y, sample_weight))
            value, grad = self.loss.grad_sum(X, y, sample_weight,
                                             np.asarray(x, dtype=self.dtype),
                                             fit_intercept=self.fit_intercept)
            return float(value), np.asarray(grad, dtype=np.float64)
        xp = namespace(X)
        dtype = getattr(xp, self.dtype)
        X, y, sample_weight = (None if a is None else _as_dtype(a, dtype, xp)
                               for a in (X, y, sample_weight))
        p = xp.asarray(np.asarray(x, dtype=self.dtype), device=chunk_device(X))
        value, grad = self.loss.grad_sum(X, y, sample_weight, p,
                                         fit_intercept=self.fit_intercept)
        return float(to_numpy(value)), to_numpy(grad)

    def gradient(self, x, grad_sum, n_rows):
        """The unbiased gradient estimate of a batch of ``n_rows`` rows from its sum."""
        return grad_sum * (self.n_samples / (n_rows * self.weight_sum)) + self.penalty.grad(x)

    def step(self, carry, X, y, sample_weight):
        """``carry`` after one step on the batch ``(X, y, sample_weight)``."""
        value, grad_sum = self.batch_sums(carry.x, X, y, sample_weight)
        return self.apply(carry, value, grad_sum, X.shape[0])

    def apply(self, carry, value, grad_sum, n_rows, *, x_used=None):
        """``carry`` after the step of a batch of ``n_rows`` rows whose sums at
        ``x_used`` (default: the carry's parameters; older ones for an asynchronous
        step) are ``value`` and ``grad_sum``."""
        x_used = carry.x if x_used is None else x_used
        g = self.gradient(x_used, grad_sum, n_rows)
        estimate = None if carry.first is not None else \
            value * (self.n_samples / (n_rows * self.weight_sum)) + self.penalty.value(x_used)
        x, state = apply_step(self.rule, self.penalty, g, carry.state, carry.x)
        return carry.add(x, state, value, g, estimate)

    def objective(self, carry):
        """The epoch's running objective: the weighted mean loss of its rows, each at
        the parameters of its step, plus the penalty at the end (scikit-learn's
        ``loss_curve_``); and the mean step gradient."""
        f = carry.loss_sum / self.weight_sum + self.penalty.value(carry.x)
        return f, carry.grad_sum / max(1, carry.n_steps)


def _as_dtype(a, dtype, xp):
    """``a`` in ``dtype``: aligned NumPy, sparse, or of namespace ``xp``."""
    if isinstance(a, np.ndarray):
        return np.require(a, dtype=dtype, requirements="A")
    if is_sparse(a):
        return a if a.dtype == dtype else a.astype(dtype)

    return a if a.dtype == dtype else xp.astype(a, dtype)


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
GLIBC_DEFAULT_THRESHOLD = 128 * 1024
_heap_lock, _heap_users = threading.Lock(), [0]


def _glibc():
    """glibc's ``mallopt`` and ``malloc_trim``, or ``None`` elsewhere."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _glibc()


@contextmanager
def steady_heap():
    """Keep freed memory for reuse while a step loop runs, then give it back.

    A Dask worker sets ``MALLOC_TRIM_THRESHOLD_`` (64 KiB) so that glibc returns freed
    memory to the system at once; that also fixes glibc's mmap threshold at 128 KiB,
    so every temporary array of a step above it (a batch's hidden activations) is a
    fresh ``mmap`` whose pages fault in anew: measured, an MLP epoch took twice as
    long on a worker as in a plain process. Inside this block small and mid-sized
    arrays come from (and go back to) the heap; on leaving it the thresholds are set
    back and the heap is trimmed. A no-op without glibc."""
    if _LIBC is None:
        yield
        return
    with _heap_lock:
        _heap_users[0] += 1
        if _heap_users[0] == 1:
            _LIBC.mallopt(M_TRIM_THRESHOLD, 2**30)
            _LIBC.mallopt(M_MMAP_THRESHOLD, 2**25)
    try:
        yield
    finally:
        with _heap_lock:
            _heap_users[0] -= 1
            if _heap_users[0] == 0:
                trim = os.environ.get("MALLOC_TRIM_THRESHOLD_", "")
                _LIBC.mallopt(M_TRIM_THRESHOLD,
                              int(trim) if trim.isdigit() else GLIBC_DEFAULT_THRESHOLD)
                _LIBC.mallopt(M_MMAP_THRESHOLD, GLIBC_DEFAULT_THRESHOLD)
                _LIBC.malloc_trim(0)


def chunk_steps(stepper, offset, index, X, y, sample_weight, carry, seed):
    """Every mini-batch of one chunk in turn (:func:`batch_rows` of ``seed``), from
    ``carry``; returns the carry after the last. ``seed`` may be ``(seed, start,
    stop)``: batches ``start`` to ``stop`` only (a round of local SGD). Overflow on the
    way is left to the epoch's objective to report (a diverging run stops there). Plain
    SGD on a SciPy sparse chunk steps on each batch's columns only
    (:mod:`gdd_dask.sparse_steps`)."""
    X = aligned(X)
    seed, start, stop = seed if isinstance(seed, tuple) else (seed, 0, None)
    batches = batch_rows(X.shape[0], stepper.batch_size, seed)[start:stop]
    with steady_heap(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if stepper.sparse_penalty is not None and is_scipy_sparse(X):
            return chunk_sparse_steps(stepper, X, y, sample_weight, carry, batches)
        for rows in batches:
            carry = stepper.step(carry, *(None if a is None else take_rows(a, rows)
                                          for a in (X, y, sample_weight)))
    return carry
