"""Many models per pass: K fits that share every read of X.

A regularization path or a cross-validation is K independent fits of one loss on one
dataset, differing in penalty and in row weights (:mod:`gdd_dask.folds`). Reading X
dominates a pass, so the K fits here share their passes: each fit is the ordinary
solver (L-BFGS, Newton, proximal, coordinate descent, QR) over its own
:class:`~gdd_dask.objective.Objective`, run in a thread of its own; its objective's
engine is a :class:`ModelEngine`, which hands each pass it asks for to
:class:`SharedPasses` and waits. When every fit still running has asked,
:class:`SharedPasses` runs *one* pass over the real engine that answers them all
(:func:`chunk_many`): each chunk task computes every model's sums, with that model's
weights, and the fixed tree reduces the stacked sums.

- **Each model is its single fit, bit for bit.** A model's sums are computed by the
  very code of a single fit (:func:`~gdd_dask.chunk.chunk_sums_many`: the same row
  blocks, the same calls, the same fold), its state and stopping test are its
  solver's own, so model ``k`` equals the fit of ``sample_weight = s * train_k`` alone.
- **A pass serves every model still running**; a finished one drops out, so a path
  costs as many passes as its slowest model (plus the shared check pass).
- **Equal requests are computed once**: the check pass of the models of one fold, the
  Gram pass of a lasso path at ``w = 0``, the first gradient of every ``C``.
- Kept margins (free backtracking steps) are off for shared fits: K models' margins
  would hold K vectors of every row.

The work per pass is K models' arithmetic on each block while the block is in the
cache: X is read once from memory or disk, not K times.
"""

from __future__ import annotations

import copy
import pickle
import threading
from functools import partial

import numpy as np

from .chunk import chunk_sums
from .chunk_many import chunk_many, combine_many, sums_spec
from .objective import Objective
from .reduction import add_sums
from .runtime import without_spans

__all__ = ["ModelEngine", "SharedPasses"]

PREFIXES = {"gdd-check", "gdd-loss", "gdd-grad", "gdd-hess", "gdd-hessp", "gdd-qr",
            "gdd-score"}


REMEMBERED = {"gdd-check", "gdd-qr"}
"""Passes whose answers :class:`SharedPasses` keeps for later requests (small: the
check sums and the moments of least squares; also the Hessian passes at ``w = 0``,
the Gram matrices)."""
MAX_SUMS_BYTES = 256 * 2**20
"""The most bytes of sums one task of a shared pass may return."""


class _Cancelled(RuntimeError):
    """A shared fit stopped because another one failed."""


class _Request:
    """One model's pass: what :meth:`ModelEngine.run` was asked."""

    __slots__ = ("broadcast", "combine", "done", "error", "func", "prefix", "sums_bytes",
                 "value", "weighting", "with_X")

    def __init__(self, weighting, prefix, func, broadcast, with_X, combine, sums_bytes):
        self.weighting, self.prefix, self.func = weighting, prefix, func
        self.broadcast, self.with_X, self.combine = broadcast, with_X, combine
        self.sums_bytes = sums_bytes
        self.done, self.error, self.value = False, None, None

    def key(self):
        """Equal keys: equal passes (the same function, values and weights)."""
        return _Key(self)


class _Key:
    """A request's identity: its function and weights pickled (small), its values
    (parameter vectors) compared as they are -- pickling them would copy K parameter
    vectors every pass."""

    __slots__ = ("_hash", "head", "values")

    def __init__(self, request):
        values = [np.asarray(v) for v in request.broadcast]
        self.head = pickle.dumps((request.prefix, request.func, request.with_X,
                                  request.combine, request.weighting.key,
                                  [(v.shape, v.dtype.str) for v in values]), protocol=5)
        self.values, self._hash = values, hash(self.head)

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return self.head == other.head and all(
            np.array_equal(a, b) for a, b in zip(self.values, other.values))


class ModelEngine:
    """One model's engine: its passes go through :class:`SharedPasses`, weighted by
    its :class:`~gdd_dask.folds.Weighting`; the rest is the shared engine's."""

    client = None  # the shared fit publishes nothing of its own

    def __init__(self, shared, weighting):
        self.shared, self.weighting = shared, weighting
        engine = shared.engine
        self.row_chunks, self.offsets = engine.row_chunks, engine.offsets
        self.split_every, self.n_cached = engine.split_every, engine.n_cached
        self.n_workers = getattr(engine, "n_workers", 1)

    @property
    def n_chunks(self):
        return len(self.row_chunks)

    @property
    def data_token(self):
        return self.shared.engine.data_token

    def run(self, prefix, func, *broadcast, with_X=True, per_chunk=(), keep=False,
            sums_bytes=None, combine=add_sums):
        """The engine's ``run`` for this model, answered by the next shared pass."""
        if per_chunk or keep:
            raise ValueError("shared passes keep no outputs on the workers")
        return self.shared.request(_Request(self.weighting, prefix, func, broadcast,
                                            with_X, combine, sums_bytes))

    def chains(self, *args, **kwargs):
        raise ValueError("the mini-batch solvers step through the chunks themselves; "
                         "they cannot share passes with other models")

    lanes = chains

    def close(self):
        """Nothing: the shared engine belongs to :class:`SharedPasses`' owner."""


class SharedPasses:
    """Runs fits in threads, each over an objective of :meth:`objective`, and answers
    their passes with one pass over ``engine`` per round (module docstring).

    ``folds`` (:mod:`gdd_dask.folds`) are the weightings' folds; those given as codes
    travel with each pass that needs them.
    """

    def __init__(self, engine, folds=None):
        self.engine, self.folds = engine, folds
        self.n_passes = self.n_models = 0
        self._cond = threading.Condition()
        # one fit computes at a time: their client-side steps are short, and BLAS
        # called from many threads at once (OpenBLAS) runs them 14 times slower
        self._baton = threading.Lock()
        self._waiting, self._running, self._failed = [], 0, False
        self._memo = {}  # request key -> sums, of the REMEMBERED passes
        self._moments = {}  # weighting key -> the column moment of X under it

    def objective(self, loss, weighting, *, n_features, fit_intercept=True):
        """The :class:`~gdd_dask.objective.Objective` of one model (its check pass is a
        shared one: build it inside the model's fit)."""
        objective = Objective(loss, ModelEngine(self, weighting), n_features=n_features,
                              fit_intercept=fit_intercept, penalty=None)
        with self._cond:
            self.n_models += 1
        objective.supports_margins = False
        return objective

    def score(self, weighting, func, *values):
        """``func(offset, index, X, y, weights, *values)`` summed over the chunks, in
        the next shared pass (held-out scores of a fitted model)."""
        return self.request(_Request(weighting, "gdd-score", func, values, True, add_sums,
                                     None))

    # -- the model side -------------------------------------------------------------
    def request(self, request):
        """Wait for the shared pass that answers ``request``; its value. The fit hands
        on the baton while it waits and takes it back before it goes on."""
        with self._cond:
            if self._failed:
                raise _Cancelled("another model of the shared fit failed")
            self._waiting.append(request)
            self._cond.notify_all()
        self._baton.release()
        try:
            with self._cond:
                self._cond.wait_for(lambda: request.done)
        finally:
            self._baton.acquire()
        if request.error is not None:
            raise request.error
        return request.value

    # -- the serving side -------------------------------------------------------------
    def run(self, fits):
        """Call each of ``fits`` (no arguments) in a thread of its own, answering their
        passes until all have returned; their values, in order. The first error (in
        the order of ``fits``) is raised once every fit has stopped."""
        results, errors = [None] * len(fits), [None] * len(fits)

        def body(k):
            try:
                with self._baton, without_spans():
                    results[k] = fits[k]()
            except BaseException as error:  # noqa: BLE001 (raised below, in this thread)
                errors[k] = error
                with self._cond:
                    self._failed = True
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

        threads = [threading.Thread(target=body, args=(k,), daemon=True,
                                    name=f"gdd-model-{k}") for k in range(len(fits))]
        with self._cond:
            self._running = len(threads)
        for thread in threads:
            thread.start()
        try:
            self._serve()
        finally:
            with self._cond:
                self._failed = self._failed or self._running > 0
                for request in self._waiting:
                    request.error, request.done = _Cancelled("the shared fit stopped"), True
                self._waiting = []
                self._cond.notify_all()
            for thread in threads:
                thread.join()
        first = next((e for e in errors if e is not None and not isinstance(e, _Cancelled)),
                     next((e for e in errors if e is not None), None))
        if first is not None:
            raise first
        return results

    def _serve(self):
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._running == 0
                                    or len(self._waiting) == self._running)
                if self._running == 0:
                    return
                batch, self._waiting = self._waiting, []
            try:
                values = self._pass(batch)
                error = None
            except BaseException as exc:  # noqa: BLE001 (every model waiting gets it)
                values, error = [None] * len(batch), exc
            with self._cond:
                for request, value in zip(batch, values):
                    request.value, request.error, request.done = value, error, True
                self._cond.notify_all()
            if error is not None and not isinstance(error, Exception):
                raise error  # KeyboardInterrupt and the like stop the serving too

    def _pass(self, batch):
        """One pass over the engine for ``batch``'s requests (equal ones computed once,
        those of :data:`REMEMBERED` passes answered before not again); each request's
        value."""
        asked = batch
        batch, moments = zip(*(self._without_known_moment(r) for r in asked))
        keys = [request.key() for request in batch]
        unique, firsts = {}, {}
        for request, key in zip(batch, keys):
            if key not in self._memo and key not in unique:
                unique[key], firsts[key] = len(unique), request
        requests = list(firsts.values())
        sums = self._run(requests) if requests else ()
        for request, key in zip(requests, unique):
            if _remembered(request):
                self._memo[key] = sums[unique[key]]
        seen, values = set(), []
        for key, request, moment in zip(keys, batch, moments):
            value = self._memo[key] if key in self._memo else sums[unique[key]]
            # a value shared by equal requests is copied for all but one
            value = copy.deepcopy(value) if key in seen or key in self._memo else value
            seen.add(key)
            if moment is not None:
                value = (*value, copy.deepcopy(moment))
            elif _with_moments(request.func):
                self._moments[request.weighting.key] = copy.deepcopy(value[-1])
            values.append(value)
        return values

    def _without_known_moment(self, request):
        """``(request, None)``, or -- for a pass that also reads the column moments of
        X under weights whose moment an earlier pass read -- the pass without them and
        that moment: it depends on X and the weights alone, and the sums are the same
        bits either way (the moment is merged apart from them)."""
        if not _with_moments(request.func) or request.weighting.key not in self._moments:
            return request, None
        func = partial(chunk_sums, *request.func.args, keep=False, moments=False)
        plain = _Request(request.weighting, request.prefix, func, request.broadcast,
                         request.with_X, add_sums, request.sums_bytes)
        return plain, self._moments[request.weighting.key]

    def _run(self, requests):
        """The stacked sums of ``requests`` from one pass over the engine."""
        total = sum(r.sums_bytes or 0 for r in requests)
        if total > MAX_SUMS_BYTES:
            raise ValueError(
                f"{len(requests)} models in one pass would return {total / 2**20:.0f} MiB "
                f"of sums from every task (more than {MAX_SUMS_BYTES // 2**20} MiB); fit "
                "fewer models at once: a shorter grid, fewer folds or fewer l1_ratios")
        limit, fan_in = getattr(self.engine, "task_limit", None), self.engine.split_every + 1
        if limit is not None and fan_in * total > limit:
            raise ValueError(
                f"{len(requests)} models in one pass would hold {fan_in * total / 2**20:.0f} "
                f"MiB of sums in a task of the reduction tree ({fan_in} x "
                f"{total / 2**20:.1f} MiB), more than half a worker's memory per thread "
                f"({limit / 2**20:.0f} MiB); fit fewer models at once (a shorter grid, "
                "fewer folds or fewer l1_ratios), take a smaller split_every or give the "
                "workers more memory")
        with_X = any(r.with_X for r in requests)
        shared, entries = [], []
        codes_at = None
        if any(r.weighting.split is not None for r in requests) \
                and getattr(self.folds, "codes", None) is not None:
            codes_at, shared = 0, [self.folds.codes]
        for r in requests:
            at = slice(len(shared), len(shared) + len(r.broadcast))
            shared.extend(r.broadcast)
            entries.append((r.func, r.weighting, r.with_X, at))
        prefixes = {r.prefix for r in requests}
        prefix = prefixes.pop() if len(prefixes) == 1 else "gdd-many"
        sizes = [r.sums_bytes for r in requests]
        sums = self.engine.run(
            prefix, partial(chunk_many, tuple(entries), with_X, codes_at), *shared,
            with_X=with_X, sums_bytes=None if None in sizes else sum(sizes),
            combine=partial(combine_many, tuple(r.combine for r in requests)))
        self.n_passes += 1
        return sums


def _with_moments(func):
    """Whether ``func`` is a :func:`~gdd_dask.chunk.chunk_sums` pass that also reads the
    column moments of X."""
    spec = sums_spec(func)
    return spec is not None and spec[3]


def _remembered(request):
    """Whether the answer to ``request`` is kept for later ones: a check, a moment, or
    a Hessian pass at ``w = 0`` (the Gram matrix of least squares)."""
    if request.prefix == "gdd-hess":
        return not any(np.any(value) for value in request.broadcast)
    return request.prefix in REMEMBERED
