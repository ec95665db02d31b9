"""What the estimators trained by mini-batch solvers share (``SGD*``, ``MLP*``).

- :func:`learning_rate_schedule`: scikit-learn's ``learning_rate`` names as schedules
  of the step count (one step per mini-batch);
- :func:`split_validation`: the held-out fraction of early stopping, for NumPy input
  (scikit-learn's ``train_test_split``, stratified for classifiers) and for Dask input
  (each chunk's rows drawn by a seed of their own, so the split is lazy and the same on
  every run);
- :class:`EarlyStopping`: a solver callback that scores the validation rows after
  each epoch, keeps the best parameters and stops after ``n_iter_no_change`` epochs
  without an improvement of ``tol``;
- :class:`StochasticMixin`: ``partial_fit``'s bookkeeping -- the update rule's state
  (moments, step count) and the random generator carry over from call to call.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from ..blocks import row_mask, split_rows
from ..data import is_dask
from ..schedules import Plateau, as_schedule, inverse_scaling
from ..solvers import STOCHASTIC
from .inputs import validate_fit_inputs
from .labels import align_codes, apply_class_weight, class_weights, encode_labels

__all__ = ["EarlyStopping", "LabelsMixin", "StochasticMixin", "learning_rate_schedule",
           "split_validation"]

def learning_rate_schedule(kind, *, eta0, power_t=0.5, alpha=None, slope=None, scale=1.0):
    """``"constant"``: ``eta0``; ``"adaptive"``: ``eta0`` times ``scale``, divided by 5
    on each plateau (:class:`~gdd_dask.schedules.Plateau`); ``"invscaling"``:
    ``eta0 / (1 + t)^power_t``;
    ``"optimal"``: ``1 / (alpha (t0 + t))``, ``t`` counting mini-batch steps, with
    Bottou's ``t0 = 1 / (eta_typ alpha)``: ``eta_typ = u / max(1, |slope(-u)|)`` at the
    typical weight ``u = alpha^(-1/4)``, where ``slope(r)`` is the loss's derivative at
    raw prediction ``r`` for a positive label (so a loss that grows fast starts slower)."""
    if kind == "invscaling":
        return inverse_scaling(eta0, power_t)
    if kind == "adaptive":
        return Plateau(eta0, scale=scale)
    if kind == "optimal":
        if not alpha or alpha <= 0:
            raise ValueError("alpha must be > 0 since learning_rate is 'optimal'; "
                             f"got alpha={alpha!r}")
        typical = np.sqrt(1.0 / np.sqrt(alpha))
        rate = typical / max(1.0, abs(float(slope(-typical))) if slope else 1.0)
        t0 = 1.0 / (rate * alpha)
        return lambda step: 1.0 / (alpha * (t0 + step))
    return as_schedule(eta0)


def _take(a, rows):
    return None if a is None else a[rows]


MIN_SIDE_ROWS = 2
"""Rows each side of the early-stopping split needs at least."""


def _check_sides(held, n, fraction):
    if min(held, n - held) < MIN_SIDE_ROWS:
        raise ValueError(
            f"early stopping splits the {n} rows into {n - held} to train on and {held} "
            f"to validate on (validation_fraction={fraction}); each side needs at least "
            f"{MIN_SIDE_ROWS}: give more rows, change validation_fraction, or set "
            "early_stopping=False")


def split_validation(X, y, sample_weight, *, fraction, random_state, stratify):
    """``((X, y, sample_weight) to train on, (X, y, sample_weight) held out)``."""
    rng = check_random_state(random_state)
    if not is_dask(X):
        _check_sides(int(np.ceil(fraction * X.shape[0])), X.shape[0], fraction)
        rows = np.arange(X.shape[0])
        train, held = train_test_split(rows, test_size=fraction, random_state=rng,
                                       stratify=y if stratify and y.ndim == 1 else None)
        train, held = np.sort(train), np.sort(held)
        return ((X[train], y[train], _take(sample_weight, train)),
                (X[held], y[held], _take(sample_weight, held)))
    seeds = rng.randint(2**31, size=len(X.chunks[0]))
    counts = np.array([row_mask(s, n, fraction).sum() for s, n in zip(seeds, X.chunks[0])])
    _check_sides(int(counts.sum()), X.shape[0], fraction)
    sides = []
    for held_out in (False, True):
        rows = tuple(int(c) for c in (counts if held_out else np.array(X.chunks[0]) - counts))
        func = partial(split_rows, seeds, fraction, held_out)
        sides.append(tuple(
            None if a is None else a.map_blocks(func, chunks=(rows, *a.chunks[1:]),
                                                dtype=a.dtype, meta=a._meta)
            for a in (X, y, sample_weight)))
    return tuple(sides)


class EarlyStopping:
    """Callback: ``score(params)`` on held-out rows after each epoch; stop when it has
    not exceeded the best by ``tol`` for ``n_iter_no_change`` epochs (with a
    :class:`~gdd_dask.schedules.Plateau` ``plateau``, divide the learning rate instead
    while it can). ``best_params`` and ``scores`` are what it saw."""

    def __init__(self, score, *, tol, n_iter_no_change, plateau=None):
        self.score, self.tol, self.n_iter_no_change = score, tol, n_iter_no_change
        self.scores, self.best_score, self.best_params = [], -np.inf, None
        self.plateau, self._stale = plateau, 0

    def __call__(self, info):
        score = float(self.score(info.x))
        self.scores.append(score)
        self._stale = self._stale + 1 if score < self.best_score + self.tol else 0
        if score > self.best_score:
            self.best_score, self.best_params = score, np.array(info.x)
        if self._stale >= self.n_iter_no_change:
            if self.plateau is None or not self.plateau.reduce():
                raise StopIteration
            self._stale = 0


class StochasticMixin:
    """``partial_fit``'s state and the options of the mini-batch solvers.

    Subclasses have ``solver``, ``batch_size``, ``n_iter_no_change``,
    ``early_stopping``, ``validation_fraction``, ``random_state``, ``dtype`` and
    ``solver_options``, and define :meth:`_rule_options`. The rule solvers report the
    epochs' running objective (no pass over the data for it), as scikit-learn does.
    """

    def _rule_options(self, loss):
        """The update rule's options for ``self.solver`` (learning rate...) and
        ``loss``."""
        raise NotImplementedError

    def _batch(self, n_samples):
        """``batch_size``; ``"auto"`` is :meth:`_auto_batch`."""
        return self._auto_batch(n_samples) if self.batch_size == "auto" else int(self.batch_size)

    def _auto_batch(self, n_samples):
        return min(200, n_samples)

    def _stochastic_options(self, loss, *, partial, n_samples):
        """Solver options: batch size, stopping, the rule, the carried-over state."""
        if self.early_stopping and self.checkpoint is not None and not partial:
            raise ValueError("checkpoint does not cover early stopping's held-out scores; "
                             "use early_stopping=False with a checkpoint")
        if self.dtype != "float64" and self.solver not in STOCHASTIC:
            raise ValueError(f"dtype={self.dtype!r} needs one of the solvers "
                             f"{sorted(STOCHASTIC)}; got solver={self.solver!r}")
        if self.solver not in STOCHASTIC:
            return dict(self.solver_options or {})
        options = {"batch_size": self._batch(n_samples), "n_iter_no_change": self._patience(),
                   "evaluate": "running", "dtype": self.dtype}
        if self.early_stopping and not partial:  # only the held-out score stops
            options["n_iter_no_change"] = self.max_iter + 1
        options.update(self._rule_options(loss))
        if partial:
            options["random_state"] = self._generator()
            if getattr(self, "_state", None) is not None:
                options["state"] = self._state
        return {**options, **(self.solver_options or {})}

    def _patience(self):
        """Epochs without improvement that stop a fit: scikit-learn's SGD stops at
        ``n_iter_no_change`` of them (its MLP, one later)."""
        return self.n_iter_no_change

    def _early_stopping(self, X, y, sample_weight, options, score, *, incremental):
        """``((X, y, sample_weight) to train on, stopper or None)``: with
        ``early_stopping`` (not in ``partial_fit``) a held-out fraction of the rows,
        scored by ``score(*held_out, params)`` after each epoch."""
        if not self.early_stopping or incremental:
            return (X, y, sample_weight), None
        train, held = split_validation(
            X, y, sample_weight, fraction=self.validation_fraction,
            random_state=self.random_state, stratify=isinstance(self, ClassifierMixin))
        plateau = options.get("learning_rate")
        tol = -np.inf if self.tol is None else self.tol  # None: no stopping test
        return train, EarlyStopping(partial(score, *held), tol=tol,
                                    n_iter_no_change=self._patience(),
                                    plateau=plateau if isinstance(plateau, Plateau) else None)

    def _generator(self):
        """The random generator ``partial_fit`` calls share (seeded from
        ``random_state`` on the first call)."""
        if getattr(self, "_rng", None) is None:
            self._rng = np.random.default_rng(check_random_state(self.random_state)
                                              .randint(2**31))
        return self._rng

    def _keep_state(self, result):
        """After a fit or partial fit: the rule state and the count of steps."""
        self._state = getattr(result, "state", None)
        self._lr_scale = getattr(result, "learning_rate_scale", None)
        count = getattr(self._state, "count", None)
        self.t_ = int(count) if count is not None else getattr(self, "t_", 0)

    def _reset_stochastic(self):
        self._state, self._rng, self._lr_scale = None, None, None


class LabelsMixin:
    """The classes of ``fit`` and ``partial_fit``: found in y by ``fit``, given by
    ``partial_fit``'s first call and kept by the later ones."""

    _min_classes = 2  # classes y must hold (scikit-learn's MLP takes one: it overrides)

    def _labelled_inputs(self, X, y, sample_weight, *, classes, incremental):
        """``fit``'s and ``partial_fit``'s inputs validated (X's features checked
        against the first call's on later ``partial_fit`` calls), with y as codes."""
        self._validate_params()
        first = not (incremental and hasattr(self, "classes_"))
        X, y, sample_weight = validate_fit_inputs(self, X, y, sample_weight, y_numeric=False,
                                                  reset=first)
        codes, sample_weight = self._encode(y, sample_weight, classes=classes,
                                            incremental=incremental)
        return X, codes, sample_weight

    def _encode(self, y, sample_weight, *, classes, incremental):
        """``(codes, sample_weight)`` aligned, class weights applied; sets ``classes_``."""
        first = not (incremental and hasattr(self, "classes_"))
        if incremental and getattr(self, "class_weight", None) == "balanced":
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit (each call "
                "sees one batch). Compute the weights once, with sklearn.utils."
                "compute_class_weight('balanced', classes=classes, y=y) on a large enough "
                "sample of y, and pass them as class_weight={class: weight}")
        if incremental and first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        if incremental and not first and classes is not None \
                and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"classes={classes!r} differs from the classes of the first "
                             f"call to partial_fit, {self.classes_.tolist()}")
        known = None
        if incremental:
            known = np.unique(np.asarray(classes)) if first else self.classes_
        found, codes = encode_labels(y, client=self.client, classes=known)
        if len(found) < self._min_classes:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in y, "
                f"but y contains only one class: {found[0]!r}")
        if self.warm_start and not incremental and hasattr(self, "classes_") \
                and not np.array_equal(found, self.classes_):
            raise ValueError("warm_start can only be used where y has the same classes "
                             "as in the previous call to fit")
        codes, sample_weight = align_codes(codes, sample_weight)
        weights = class_weights(getattr(self, "class_weight", None), found, codes,
                                sample_weight, client=self.client)
        self.classes_ = found
        return codes, apply_class_weight(weights, codes, sample_weight)
