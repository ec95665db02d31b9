"""The objective: a loss over row-chunked data, plus a penalty, seen by the solvers.

.. math::

    f(w) = \\frac{1}{\\sum_i s_i} \\sum_i s_i \\, l(y_i, x_i; w) + \\alpha P(w)

Every method is exactly one pass over X: one task per chunk and a fixed reduction tree,
run by an engine -- :class:`~gdd_dask.engine.Engine` (Dask) or
:class:`~gdd_dask.inprocess.InProcessEngine` (a plain loop, same tree). The solvers talk
only to this interface: ``value``, ``value_and_grad``, ``value_grad_hessian``,
``hessian``, ``hessp``, ``line_values``, ``moment`` (least squares), ``n_params``,
the counter ``n_passes`` (``count_pass`` for the solvers' own epochs), the data's
``row_chunks``/``n_chunks``, ``n_workers``, ``streams`` and ``log_event``; the
mini-batch solvers also to ``chains`` and ``lanes`` (tasks that step through the
chunks where they live), from which :mod:`gdd_dask.solvers.epochs` builds their epochs.

For linear losses every pass also keeps the per-chunk margins ``X @ w`` of its point on
the workers (the last :data:`KEPT_POINTS` points): ``line_values`` then evaluates the
objective anywhere on the line between two kept points without reading X, which makes
the backtracking steps of a line search free.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import partial

import numpy as np

from .chunk import chunk_check, chunk_line_sums, chunk_sums
from .data import as_data
from .engine import Engine, check_cache
from .inprocess import InProcessEngine
from .losses import get_loss
from .penalties import make_penalty
from .reduction import add_sums
from .runtime import compute, resolve_client
from .scaling import add_with_moments
from .tsqr import chunk_moment, merge_moments

__all__ = ["Objective", "make_engine", "make_objective", "models_bytes"]

TASK_PREFIX = {"value": "gdd-loss", "grad": "gdd-grad", "hess": "gdd-hess", "hessp": "gdd-hessp"}
KEPT_POINTS = 2
IN_PROCESS_MAX_BYTES = 64 * 2**20
"""In-memory input up to this size runs in-process even when a default client exists."""
"""Points whose margins stay on the workers (a line search needs its start and a trial)."""


class Objective:
    """Mean weighted loss plus penalty over the chunks an engine walks.

    Use as a context manager (or call :meth:`close`) to release persisted chunks.
    """

    def __init__(self, loss, engine, *, n_features, fit_intercept=True, penalty="l2", alpha=0.0,
                 l1_ratio=None):
        self.loss, self.engine, self.fit_intercept = loss, engine, bool(fit_intercept)
        self.n_features = n_features
        self.n_params = loss.n_params(n_features, fit_intercept=self.fit_intercept)
        self.set_penalty(penalty, alpha, l1_ratio)
        self.n_passes = 0
        self.supports_margins = all(callable(getattr(loss, m, None))
                                    for m in ("raw_prediction", "value_from_raw"))
        self.keeps_margins = False
        self._kept = OrderedDict()  # params bytes -> per-chunk margin handles
        n_rows, weight, weighted_y = engine.run("gdd-check", partial(chunk_check, loss),
                                                with_X=False)
        self.n_samples, self.weight_sum = int(n_rows), float(weight)
        if not self.weight_sum > 0:
            raise ValueError("sample_weight sums to zero; at least one row must have weight > 0")
        mean = np.asarray(weighted_y, dtype=np.float64) / self.weight_sum  # sum s_i y_i / sum s_i
        self.target_mean = float(mean) if mean.ndim == 0 else mean  # per column of a matrix y

    def keep_margins(self, enabled=True):
        """Keep each pass's margins on the workers from now on (for :meth:`line_values`;
        solvers that search along lines turn it on). No-op for losses without margins."""
        self.keeps_margins = bool(enabled) and self.supports_margins
        if not self.keeps_margins:
            self._kept.clear()

    def set_penalty(self, penalty="l2", alpha=0.0, l1_ratio=None, *, positive=False):
        """Replace the penalty, e.g. once ``weight_sum`` is known (``alpha = 1/(C W)``);
        ``positive`` holds the coefficients at ``w >= 0``."""
        mask = self.loss.penalty_mask(self.n_features, fit_intercept=self.fit_intercept)
        self.penalty = make_penalty(penalty, alpha, mask, l1_ratio, positive=positive)

    # -- what the solvers read of the data and the cluster -----------------------
    @property
    def row_chunks(self):
        """The rows of each chunk, in order."""
        return tuple(self.engine.row_chunks)

    @property
    def n_chunks(self):
        return self.engine.n_chunks

    @property
    def n_workers(self):
        """The workers the passes run on (1 in-process)."""
        return int(getattr(self.engine, "n_workers", 1))

    @property
    def streams(self):
        """Whether some chunks are read from their source in every pass (not cached)."""
        return self.engine.n_cached < self.engine.n_chunks

    @property
    def publishes(self):
        """Whether :meth:`log_event` reaches a cluster's event log."""
        return getattr(self.engine, "client", None) is not None

    def log_event(self, topic, message):
        """``message`` on the cluster's event log under ``topic`` (``Client.log_event``,
        for anyone subscribed); nothing without a cluster."""
        if self.publishes:
            self.engine.client.log_event(topic, message)

    def count_pass(self):
        """Count one read of every row done by the solver's own tasks (an epoch)."""
        self.n_passes += 1

    # -- passes -------------------------------------------------------------------
    def _sums(self, kind, params, *vector, moments=False):
        params = self.check_params(params)
        keep = self.keeps_margins and kind != "hessp"
        func = partial(chunk_sums, kind, self.loss, self.fit_intercept, keep=keep,
                       moments=moments)
        # a chunk's Hessian is big: keep only its margins; other sums are small
        keep = keep and ("margins" if kind == "hess" else "output")
        p = self.n_params  # the sums: loss, gradient (or H @ v), the Hessian's p x p
        sums_bytes = 8 * (p * p + p + 2) if kind == "hess" else models_bytes(1, p)
        sums_bytes += 8 * (2 * self.n_features + 1) if moments else 0
        sums = self.engine.run(TASK_PREFIX[kind], func, params, *vector, keep=keep,
                               sums_bytes=sums_bytes,
                               combine=add_with_moments if moments else add_sums)
        self.n_passes += 1
        if keep:
            sums, handles = sums
            self._kept.pop(params.tobytes(), None)
            self._kept[params.tobytes()] = handles
            while len(self._kept) > KEPT_POINTS:
                self._kept.popitem(last=False)
        return params, sums

    def check_params(self, params, name="params"):
        params = np.asarray(params, dtype=np.float64)
        if params.shape != (self.n_params,):
            raise ValueError(f"{name} must have shape ({self.n_params},); got {params.shape}")
        return params

    def value(self, params):
        """``f(w)``: one pass."""
        params, (loss_sum,) = self._sums("value", params)
        return float(loss_sum) / self.weight_sum + self.penalty.value(params)

    def value_and_grad(self, params):
        """``(f(w), grad f(w))``: one pass. With a non-smooth penalty ``f`` includes all
        of it and the gradient is that of the smooth part (see ``gdd_dask.penalties``)."""
        params, (loss_sum, grad) = self._sums("grad", params)
        f = float(loss_sum) / self.weight_sum + self.penalty.value(params)
        return f, grad / self.weight_sum + self.penalty.grad(params)

    def value_grad_moment(self, params):
        """``(f(w), grad f(w), (W, m, M))``: :meth:`value_and_grad` and the weighted
        column moment of X (:mod:`gdd_dask.scaling`) in the same pass."""
        params, (loss_sum, grad, moment) = self._sums("grad", params, moments=True)
        f = float(loss_sum) / self.weight_sum + self.penalty.value(params)
        return f, grad / self.weight_sum + self.penalty.grad(params), moment

    def to_original(self, params):
        """The parameters in the model's own coordinates: ``params`` itself here (a
        :class:`~gdd_dask.preconditioning.Preconditioned` view maps them back)."""
        return params

    def solver_tol(self, tol):
        """``tol`` on the solver's own gradient that implies ``tol`` on the model's:
        ``tol`` itself here (see :mod:`gdd_dask.preconditioning`)."""
        return tol

    def optimality(self, params, grad):
        """``x - prox_1(x - g)`` for the gradient ``g`` of the smooth part: zero exactly
        at a minimizer, ``g`` itself for a smooth penalty. Its largest entry is what
        ``tol`` is compared with, and it is the result's ``jac``."""
        if self.penalty.smooth:
            return grad
        return params - self.penalty.prox(params - grad, 1.0)

    def value_grad_hessian(self, params):
        """``(f, grad f, hess f)``, the Hessian dense ``(n_params, n_params)``: one pass."""
        params, (loss_sum, grad, hess) = self._sums("hess", params)
        f = float(loss_sum) / self.weight_sum + self.penalty.value(params)
        H = hess / self.weight_sum
        H[np.diag_indices_from(H)] += self.penalty.hessian_diag(params)
        return f, grad / self.weight_sum + self.penalty.grad(params), H

    def chains(self, prefix, func, carries, plans):
        """``carry = func(offset_i, i, *chunk_i, carry, arg_i)`` along each plan of
        ``plans`` (``[(chunk, arg)]``) from its carry of ``carries``, inside the tasks
        that hold the chunks, the chains at the same time; the final carries (the
        engine's ``chains``). The solver counts the passes its chains make."""
        return self.engine.chains(prefix, func, carries, plans)

    def lanes(self, prefix, lane, *shared, cached=False):
        """``lane(*shared, ...)`` on one task per worker at once (the engine's
        ``lanes``, :mod:`gdd_dask.lanes`); the hub's value. ``cached`` refuses data that
        is not all in the workers' memory."""
        return self.engine.lanes(prefix, lane, *shared, cached=cached)

    @property
    def split_every(self):
        """The fan-in of the fixed reduction tree."""
        return self.engine.split_every

    def moment(self):
        """``(W, m, R)``: the weight, weighted mean and R factor of the rows ``[x_i,
        y_i]``, centred when the model has an intercept (:mod:`gdd_dask.tsqr`), merged
        by the fixed tree: one pass, the same bits on any number of workers."""
        k = self.n_features + getattr(self.loss, "y_columns", 1)
        moment = self.engine.run("gdd-qr", partial(chunk_moment, self.fit_intercept),
                                 combine=merge_moments, sums_bytes=8 * (k * k + k + 1))
        self.n_passes += 1
        return moment

    def hessian(self, params):
        """``hess f(w)``: one pass."""
        return self.value_grad_hessian(params)[2]

    def hessp(self, params, vector):
        """``hess f(w) @ v`` without forming the Hessian: one pass."""
        vector = self.check_params(vector, "vector")
        params, (hv,) = self._sums("hessp", params, vector)
        return hv / self.weight_sum + self.penalty.hessian_diag(params) * vector

    def line_values(self, start, end, steps):
        """``[f(start + t (end - start)) for t in steps]`` from the kept margins of
        ``start`` and ``end`` (no pass over X); ``None`` when they are not kept."""
        start, end = self.check_params(start), self.check_params(end)
        kept = [self._kept.get(p.tobytes()) for p in (start, end)]
        if any(k is None for k in kept):
            return None
        steps = np.asarray(steps, dtype=np.float64)
        (sums,) = self.engine.run("gdd-line", partial(chunk_line_sums, self.loss), steps,
                                  with_X=False, per_chunk=kept)
        return [float(s) / self.weight_sum + self.penalty.value(start + t * (end - start))
                for s, t in zip(sums, steps)]

    # -- lifetime -----------------------------------------------------------------
    def close(self):
        self._kept.clear()
        self.engine.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return (f"Objective({self.loss!r}, {type(self.engine).__name__}, "
                f"n_samples={self.n_samples}, n_params={self.n_params}, {self.penalty!r})")


def make_objective(loss, X, y, sample_weight=None, *, fit_intercept=True, penalty="l2",
                   alpha=0.0, l1_ratio=None, client=None, split_every=8, cache="auto",
                   chunk_rows=None):
    """Validate the data, pick the engine (:func:`make_engine`) and build the
    :class:`Objective`."""
    if not isinstance(fit_intercept, (bool, np.bool_)):
        raise TypeError(f"fit_intercept must be True or False; got {fit_intercept!r}")
    loss, engine, n_features = make_engine(loss, X, y, sample_weight, client=client,
                                           split_every=split_every, cache=cache,
                                           chunk_rows=chunk_rows)
    try:
        return Objective(loss, engine, n_features=n_features, fit_intercept=fit_intercept,
                         penalty=penalty, alpha=alpha, l1_ratio=l1_ratio)
    except BaseException:
        engine.close()
        raise


def models_bytes(n_models, n_params, *, square=False):
    """Bytes of the sums of ``n_models`` models of ``n_params`` parameters in one task:
    their losses and gradients, or (``square``) their Gram or moment matrices."""
    return 8 * n_models * ((n_params + 2) ** 2 if square else n_params + 2)


def make_engine(loss, X, y, sample_weight=None, *, client=None, split_every=8, cache="auto",
                chunk_rows=None, sums_bytes=None):
    """Validate the data and pick its engine: ``(loss, engine, n_features)``, the loss
    by name made (``"multinomial"`` with the classes ``y`` holds). The engine keeps
    room in each task for ``sums_bytes`` of sums (default: one model's gradient; many
    models' in a shared pass, :mod:`gdd_dask.many`).

    Dask input runs on Dask (the client's cluster, else the local scheduler). In-memory
    input runs in-process, unless ``client`` is given, or a default client exists and
    the input holds more than :data:`IN_PROCESS_MAX_BYTES`: then it is shipped to the
    cluster in chunks. (Shipping a small problem costs more than solving it.)
    """
    check_cache(cache)
    given, client = client is not None, resolve_client(client)
    by_labels = isinstance(loss, str) and loss == "multinomial"  # K from the labels
    loss = loss if by_labels else get_loss(loss)
    y_columns = 1 if by_labels else getattr(loss, "y_columns", 1)
    data = as_data(X, y, sample_weight, chunk_rows=chunk_rows, client=client,
                   y_columns=y_columns)
    if not data.is_dask and client is not None \
            and (given or data.nbytes > IN_PROCESS_MAX_BYTES):
        data = as_data(data.X, data.y, data.sample_weight, dask=True, chunk_rows=chunk_rows,
                       client=client, y_columns=y_columns)
    if by_labels:
        top = compute(data.y.max(), client=client)[0] if data.is_dask else np.max(data.y)
        loss = get_loss(loss, n_classes=_n_classes(float(top)))
    if data.is_dask:
        kept = KEPT_POINTS * 8 * getattr(loss, "n_outputs", 1)
        if sums_bytes is None:
            sums_bytes = models_bytes(1, loss.n_params(data.n_features, fit_intercept=True))
        engine = Engine(data, client=client, split_every=split_every, cache=cache,
                        kept_bytes_per_row=kept, sums_bytes=sums_bytes)
    else:
        engine = InProcessEngine(data, split_every=split_every)
    return loss, engine, data.n_features


def _n_classes(top):
    """``max(y) + 1`` for integer labels ``0 .. K-1``."""
    if not np.isfinite(top) or top != int(top) or top < 1:
        raise ValueError(
            f"the multinomial loss needs integer class labels 0..K-1 with K >= 2; max(y) = {top}"
        )
    return int(top) + 1
