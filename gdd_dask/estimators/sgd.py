"""``SGDClassifier`` and ``SGDRegressor``: linear models trained by mini-batch SGD.

scikit-learn's objective

.. math:: \\frac{1}{n} \\sum_i s_i\\, l(y_i, x_i w + b) + \\alpha R(w),
          \\qquad R = \\tfrac{1}{2} \\lVert w \\rVert^2

has the minimizer of the core's weighted mean loss plus ``alpha n / sum_i s_i`` times
``R`` (``n`` rows, weights ``s_i`` with the class weights), which is what is minimized.
The losses are scikit-learn's (``gdd_dask.losses.margin``); more than two classes are
one-versus-rest, one output per class, trained together.

Where scikit-learn steps once per row in one process, a step here is one mini-batch
of ``batch_size`` rows of one chunk, computed by a task on the worker holding the
chunk; an epoch visits every row once. ``learning_rate`` counts those steps:
``"optimal"`` is ``1 / (alpha (t0 + t))``, ``"invscaling"`` ``eta0 / (1 + t)^power_t``,
``"constant"`` ``eta0``. ``solver`` may also be ``"adam"``, ``"adagrad"``, ``"async"``
(Downpour) or ``"local"`` (local SGD), with ``solver_options`` for their own options.
``partial_fit`` runs one epoch over what it is given -- one chunk, or a whole Dask
array -- continuing the update rule's state.
"""

from __future__ import annotations

from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval, StrOptions

from ..blocks import linear_labels, linear_raw
from ..losses import CLASSIFICATION_LOSSES, REGRESSION_LOSSES, margin_loss
from ..preconditioning import Standardized
from ..rules import AveragedState, find_state
from ..solvers import STOCHASTIC
from ..steps import DTYPES
from .base import LinearModel
from .classifier import LinearClassifierMixin
from .inputs import float_dtype, map_rows, validate_fit_inputs
from .metrics import LazyScoreMixin, accuracy, r2
from .stochastic import (
    LabelsMixin,
    StochasticMixin,
    learning_rate_schedule,
)

__all__ = ["SGDClassifier", "SGDRegressor"]


def _has_proba(estimator):
    """Probabilities exist for ``log_loss`` and ``modified_huber`` only."""
    if estimator.loss not in ("log_loss", "modified_huber"):
        raise AttributeError(f"probability estimates are not available for "
                             f"loss={estimator.loss!r}")
    return True


class _BaseSGD(StochasticMixin, LinearModel):
    """Shared parameters and fitting of the two SGD estimators."""

    _parameter_constraints: dict = {
        **{k: v for k, v in LinearModel._parameter_constraints.items() if k != "solver"},
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "shuffle": ["boolean"],
        "average": [Interval(Integral, 0, None, closed="left"), "boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions(set(STOCHASTIC))],
        "learning_rate": [StrOptions({"constant", "optimal", "invscaling", "adaptive"})],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "solver_options": [dict, None],
        "dtype": [StrOptions(set(DTYPES))],
    }

    def __init__(self, *, loss, penalty, alpha, l1_ratio, fit_intercept, max_iter, tol,
                 epsilon, random_state, learning_rate, eta0, power_t, early_stopping,
                 validation_fraction, n_iter_no_change, warm_start, solver, batch_size,
                 solver_options, dtype, client, split_every, cache, verbose, checkpoint,
                 checkpoint_every, shuffle, average):
        """Store the shared parameters as given (scikit-learn's estimators do)."""
        for name, value in locals().items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    def _penalty_of(self, objective):
        """scikit-learn's ``alpha`` scales the plain mean loss: ``alpha n / sum s_i``;
        ``"elasticnet"`` mixes by ``l1_ratio``."""
        if self.penalty is None:
            return None, 0.0
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
        alpha = float(self.alpha) * objective.n_samples / objective.weight_sum
        return self.penalty, alpha, float(self.l1_ratio) if self.penalty == "elasticnet" \
            else None

    def _stochastic_options(self, loss, *, partial, n_samples):
        options = super()._stochastic_options(loss, partial=partial, n_samples=n_samples)
        if not self.shuffle:
            options["shuffle"] = False
        if self.average and options.get("state") is None:  # from the first averaged step
            rows = 0 if self.average is True else int(self.average)
            options["average"] = rows // options["batch_size"]
        return options

    def _auto_batch(self, n_samples):
        return min(200, max(1, n_samples // 16))

    def _rule_options(self, loss):
        alpha = float(self.alpha) if self.penalty is not None else 0.0
        binary = getattr(loss, "binary", loss)

        def slope(raw):  # dl/dr of a positive label
            return binary.gradient(np.ones(1), np.full(1, raw), np)[0]

        eta = learning_rate_schedule(self.learning_rate, eta0=self.eta0,
                                     power_t=self.power_t, alpha=alpha, slope=slope,
                                     scale=getattr(self, "_lr_scale", None) or 1.0)
        return {"learning_rate": eta}

    def _train(self, X, y, sample_weight, loss, *, incremental, init=(None, None)):
        """Fit the linear parameters of ``loss`` (from ``init``, ``fit``'s ``(coef_init,
        intercept_init)``, where given); store ``coef_`` and ``intercept_``."""
        n_outputs = loss.n_outputs
        n_params = (self.n_features_in_ + int(self.fit_intercept)) * n_outputs
        fresh = not (incremental or self.warm_start) or not hasattr(self, "coef_")
        x0 = None if fresh else self._warm_start_params(n_params)
        if any(a is not None for a in init):
            x0 = _given_params(*init, self.n_features_in_, n_outputs, self.fit_intercept)
        if x0 is None or not incremental:
            self._reset_stochastic()
        options = self._stochastic_options(loss, partial=incremental, n_samples=X.shape[0])
        (X, y, sample_weight), stopper = self._early_stopping(
            X, y, sample_weight, options, partial(self._held_out_score, n_outputs),
            incremental=incremental)
        result = self._solve(loss, X, y, sample_weight, x0=x0,
                             fit_intercept=self.fit_intercept, callback=stopper,
                             options=options, incremental=incremental)
        self._keep_state(result)
        params = result.x if not self.average else _averaged(result.state, n_outputs,
                                                             self.fit_intercept)
        if stopper is not None:
            self.validation_scores_ = stopper.scores
            self.best_validation_score_ = stopper.best_score
            params = params if stopper.best_params is None else stopper.best_params
        params = params.reshape(-1, n_outputs)
        # float32 X: float32 coef_, float64 intercept_ and scores, as scikit-learn's SGD
        self.coef_ = params[: self.n_features_in_].T.astype(float_dtype(X))
        self.intercept_ = params[-1].copy() if self.fit_intercept else np.zeros(n_outputs)
        return self

    def _held_out_score(self, n_outputs, X, y, sample_weight, params):
        raise NotImplementedError

    def _split(self, params, n_outputs):
        """``(coef, intercept)`` of flat parameters, in ``linear_raw``'s layout."""
        params = np.asarray(params).reshape(-1, n_outputs)
        coef = params[: self.n_features_in_]
        intercept = params[-1] if self.fit_intercept else np.zeros(n_outputs)
        return (coef[:, 0], intercept[0]) if n_outputs == 1 else (coef, intercept)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


def _averaged(state, n_outputs, fit_intercept):
    """The averaged parameters of an :class:`~gdd_dask.rules.AveragedState`, in the
    model's coordinates (mapped back from standardized columns where the run stepped
    in them)."""
    if isinstance(state, Standardized):
        return state.to_original(find_state(state.state, AveragedState).mean,
                                 n_outputs=n_outputs, fit_intercept=fit_intercept)
    return find_state(state, AveragedState).mean


def _given_params(coef_init, intercept_init, n_features, n_outputs, fit_intercept):
    """The flat starting parameters of ``fit(coef_init=, intercept_init=)``: each as
    scikit-learn takes it (``(n_features,)`` or ``(n_outputs, n_features)``; a number
    or ``(n_outputs,)``), zeros where not given."""
    coef = np.zeros((n_outputs, n_features))
    if coef_init is not None:
        given = np.asarray(coef_init, dtype=np.float64)
        if given.size != coef.size or given.ndim > 2 or given.shape[-1] != n_features:
            expected = coef.shape if n_outputs > 1 else (n_features,)
            raise ValueError(f"Provided coef_init does not match dataset: shape "
                             f"{given.shape}, expected {expected}")
        coef = given.reshape(coef.shape)
    rows = [coef.T]
    if fit_intercept:
        intercept = np.zeros(n_outputs)
        if intercept_init is not None:
            given = np.asarray(intercept_init, dtype=np.float64)
            if given.size != n_outputs or given.ndim > 1:
                raise ValueError(f"Provided intercept_init does not match dataset: shape "
                                 f"{given.shape}, expected ({n_outputs},)")
            intercept = given.reshape(n_outputs)
        rows.append(intercept[None, :])
    return np.vstack(rows).ravel()


class SGDRegressor(LazyScoreMixin, RegressorMixin, _BaseSGD):
    """A linear regressor trained by mini-batch SGD, as
    :class:`sklearn.linear_model.SGDRegressor` (module docstring).

    Parameters
    ----------
    loss : {"squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"}
    penalty : {"l2", "l1", "elasticnet", None}, default="l2"
        ``alpha R(w)`` with ``R = ||w||^2 / 2``, ``||w||_1`` or
        ``l1_ratio ||w||_1 + (1 - l1_ratio) ||w||^2 / 2``; an L1 part is applied by its
        proximal map after each step (proximal SGD), which sets coefficients exactly
        to zero (not with ``solver="local"``).
    alpha : float, default=1e-4
    l1_ratio : float in [0, 1] or None, default=0.15
        ``None`` only where ``penalty`` is not ``"elasticnet"``.
    fit_intercept : bool, default=True
    max_iter : int, default=1000
        Most epochs.
    tol : float or None, default=1e-3
        Stop when the epoch's loss has not improved on the best by ``tol`` for
        ``n_iter_no_change`` epochs (with ``early_stopping``, the held-out :math:`R^2`);
        ``None`` runs ``max_iter`` epochs.
        The epoch's loss is the mean loss of its rows, each at the parameters of its
        step, plus the penalty, as scikit-learn's: no extra pass over the data.
    epsilon : float, default=0.1
        Width of the Huber and epsilon-insensitive losses.
    learning_rate : {"invscaling", "optimal", "constant", "adaptive"}, default="invscaling"
        ``"adaptive"``: ``eta0``, divided by 5 each time the stopping test fires,
        until it is down to 1e-6 (scikit-learn's).
    eta0, power_t : float
        ``eta0 / (1 + t)^power_t`` (defaults 0.01 and 0.25, as scikit-learn).
    early_stopping, validation_fraction, n_iter_no_change
        Hold out a fraction of the rows, stop on their score, keep the best model.
    solver : {"sgd", "adam", "adagrad", "async", "local"}, default="sgd"
    batch_size : int or "auto", default="auto"
        Rows per step (a batch never spans two chunks); ``"auto"`` is
        ``min(200, max(1, n_samples // 16))``, so that small data still gets 16 steps
        an epoch.
    solver_options : dict, optional
        More options for the solver (``momentum``, ``max_staleness``, ``local_steps``,
        ``data_parallel``...).
    dtype : {"float64", "float32"}, default="float64"
        Precision of the steps' arithmetic on the data (the parameters and sums stay
        float64).
    shuffle : bool, default=True
        Visit the chunks and their rows in a new random order each epoch; ``False``
        steps through them in order (not with ``data_parallel``).
    average : bool or int, default=False
        Averaged SGD, as scikit-learn's: ``coef_`` and ``intercept_`` are the mean of
        the parameters after every step (``True``), or after every step once
        ``average`` rows have been seen; the steps themselves, the epoch's loss and
        early stopping's held-out score follow the plain iterates. Not with
        ``solver="local"``.
    random_state, warm_start
        As in :class:`~gdd_dask.estimators.LinearRegression`.
    {engine parameters}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : ndarray of shape (1,)
    n_iter_, t_, loss_curve_, n_passes_
        Epochs, update steps, the objective after each epoch, passes over X.
    """

    _parameter_constraints: dict = {
        **_BaseSGD._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
    }

    def __init__(self, *, loss="squared_error", penalty="l2", alpha=0.0001, l1_ratio=0.15,
                 fit_intercept=True,
                 max_iter=1000, tol=1e-3, epsilon=0.1, random_state=None,
                 learning_rate="invscaling", eta0=0.01, power_t=0.25, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=5, warm_start=False, solver="sgd",
                 batch_size="auto", solver_options=None, dtype="float64", client=None,
                 split_every=8, cache="auto", verbose=0, checkpoint=None,
                 checkpoint_every=1, shuffle=True, average=False):
        super().__init__(
            loss=loss, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
            fit_intercept=fit_intercept, max_iter=max_iter, tol=tol, epsilon=epsilon,
            random_state=random_state, learning_rate=learning_rate, eta0=eta0,
            power_t=power_t, early_stopping=early_stopping,
            validation_fraction=validation_fraction, n_iter_no_change=n_iter_no_change,
            warm_start=warm_start, solver=solver, batch_size=batch_size,
            solver_options=solver_options, dtype=dtype, client=client,
            split_every=split_every, cache=cache, verbose=verbose, checkpoint=checkpoint,
            checkpoint_every=checkpoint_every, shuffle=shuffle, average=average)

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit by epochs of mini-batch steps (from ``coef_init`` and ``intercept_init``,
        zeros where not given, or the last fit with ``warm_start``).

        Parameters
        ----------
        X : array-like, Dask array or DataFrame, or Zarr array of shape (n_samples, n_features)
        y : array-like, Dask array or Series, or Zarr array of shape (n_samples,)
        coef_init : array-like of shape (n_features,), optional
        intercept_init : float or array-like of shape (1,), optional
        sample_weight : array-like or Dask array of shape (n_samples,), optional

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=False,
                         init=(coef_init, intercept_init))

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)`` -- a chunk, or a whole Dask array -- from the
        current model, continuing the update rule's state.
        As in scikit-learn, ``early_stopping`` does not apply here (each call is one
        epoch of what it is given)."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _fit(self, X, y, sample_weight, *, incremental, init=(None, None)):
        self._validate_params()
        first = not (incremental and hasattr(self, "coef_"))
        X, y, sample_weight = validate_fit_inputs(self, X, y, sample_weight, y_numeric=True,
                                                  reset=first)
        self._train(X, y, sample_weight, margin_loss(self.loss, epsilon=self.epsilon),
                    incremental=incremental, init=init)
        self.coef_, self.intercept_ = self.coef_[0], self.intercept_
        return self

    def _held_out_score(self, n_outputs, X, y, sample_weight, params):
        coef, intercept = self._split(params, n_outputs)
        prediction = map_rows(partial(linear_raw, coef=coef, intercept=intercept), X,
                              dtype=np.float64)
        return r2(y, prediction, sample_weight, client=self.client)

    def predict(self, X):
        """``X @ coef_ + intercept_``: NumPy for in-memory X, lazy Dask for Dask X."""
        X = self._validated(X)
        coef, intercept = self._parts()
        return map_rows(partial(linear_raw, coef=coef, intercept=intercept), X,
                        dtype=np.float64)

class SGDClassifier(LinearClassifierMixin, LazyScoreMixin, ClassifierMixin, LabelsMixin,
                    _BaseSGD):
    """A linear classifier trained by mini-batch SGD, as
    :class:`sklearn.linear_model.SGDClassifier` (module docstring).

    Parameters
    ----------
    loss : {"hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron", \
"squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"}
        ``"log_loss"`` is logistic regression, ``"hinge"`` a linear SVM; the regression
        losses score ``r - y`` for the labels ``y`` in ``{-1, 1}``, as scikit-learn's;
        ``predict_proba`` exists for ``"log_loss"`` and ``"modified_huber"``.
    class_weight : dict, "balanced" or None, default=None
        Multiplies each row's weight by its class's weight.
    learning_rate : {"optimal", "invscaling", "constant"}, default="optimal"
    eta0, power_t : float
        Defaults 0.01 and 0.5.
    penalty, alpha, l1_ratio, fit_intercept, max_iter, tol, epsilon, early_stopping,
    validation_fraction, n_iter_no_change, solver, batch_size, solver_options,
    shuffle, average, random_state, warm_start
        As in :class:`SGDRegressor`; early stopping scores the held-out accuracy.
    {engine parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_, t_, loss_curve_, n_passes_
        As in :class:`SGDRegressor`.
    """

    _parameter_constraints: dict = {
        **_BaseSGD._parameter_constraints,
        "loss": [StrOptions(set(CLASSIFICATION_LOSSES))],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, *, loss="hinge", penalty="l2", alpha=0.0001, l1_ratio=0.15,
                 fit_intercept=True,
                 max_iter=1000, tol=1e-3, epsilon=0.1, random_state=None,
                 learning_rate="optimal", eta0=0.01, power_t=0.5, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=5, class_weight=None,
                 warm_start=False, solver="sgd", batch_size="auto", solver_options=None,
                 dtype="float64", client=None, split_every=8, cache="auto", verbose=0,
                 checkpoint=None, checkpoint_every=1, shuffle=True, average=False):
        super().__init__(
            loss=loss, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
            fit_intercept=fit_intercept, max_iter=max_iter, tol=tol, epsilon=epsilon,
            random_state=random_state, learning_rate=learning_rate, eta0=eta0,
            power_t=power_t, early_stopping=early_stopping,
            validation_fraction=validation_fraction, n_iter_no_change=n_iter_no_change,
            warm_start=warm_start, solver=solver, batch_size=batch_size,
            solver_options=solver_options, dtype=dtype, client=client,
            split_every=split_every, cache=cache, verbose=verbose, checkpoint=checkpoint,
            checkpoint_every=checkpoint_every, shuffle=shuffle, average=average)
        self.class_weight = class_weight

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit on labels of any type; see :meth:`SGDRegressor.fit` (``coef_init`` of shape
        ``(n_classes, n_features)`` and ``intercept_init`` of ``(n_classes,)`` for more
        than two classes)."""
        return self._fit(X, y, sample_weight, classes=None, incremental=False,
                         init=(coef_init, intercept_init))

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``(X, y)`` from the current model. ``classes`` (every label
        the calls will see) is required on the first call.
        As in scikit-learn, ``early_stopping`` does not apply here (each call is one
        epoch of what it is given), and ``class_weight="balanced"`` is refused: a
        batch's class counts are not the data's."""
        return self._fit(X, y, sample_weight, classes=classes, incremental=True)

    def _fit(self, X, y, sample_weight, *, classes, incremental, init=(None, None)):
        X, codes, sample_weight = self._labelled_inputs(X, y, sample_weight, classes=classes,
                                                        incremental=incremental)
        return self._train(X, codes, sample_weight, self._loss(), incremental=incremental,
                           init=init)

    def _held_out_score(self, n_outputs, X, y, sample_weight, params):
        labels = np.arange(len(self.classes_))
        func = partial(linear_labels, *self._split(params, n_outputs), labels)
        return accuracy(y, map_rows(func, X, dtype=np.int64), sample_weight,
                        client=self.client)

    def _loss(self):
        """The loss fitted (one-versus-rest for more than two classes), whose
        probabilities :meth:`predict_proba` gives."""
        return margin_loss(self.loss, epsilon=self.epsilon, n_classes=len(self.classes_))

    def _score_dtype(self):
        """Scores and probabilities are float64 (float32 X gives float32 ``coef_``), as
        scikit-learn's SGD."""
        return np.dtype(np.float64)

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities (``log_loss`` and ``modified_huber`` only), columns in
        the order of ``classes_``."""
        return super().predict_proba(X)

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        """``log(predict_proba(X))``; for ``log_loss`` computed from the raw scores
        (finite where a probability rounds to 0)."""
        if self.loss != "log_loss":
            with np.errstate(divide="ignore"):
                return np.log(self.predict_proba(X))
        return super().predict_log_proba(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
