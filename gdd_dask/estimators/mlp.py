"""``MLPClassifier`` and ``MLPRegressor``: neural networks over the distributed objective.

The network is :class:`gdd_dask.losses.mlp.MLPLoss`: its forward and backward pass run
inside each chunk task, on NumPy or CuPy chunks alike, and its parameters are one flat
vector to every solver. The objective is scikit-learn's,

.. math:: \\frac{\\sum_i s_i l_i}{\\sum_i s_i} + \\frac{\\alpha}{2 \\sum_i s_i}
          \\sum_l \\lVert W_l \\rVert^2

(the core's L2 penalty with ``alpha / sum_i s_i``, biases not penalized), so ``alpha``
means what it means there. The weights start from scikit-learn's Glorot-uniform draw,
in its order, so the same ``random_state`` gives the same starting network.

``solver`` is ``"adam"`` or ``"sgd"`` (mini-batches of ``batch_size`` rows, one task
each, ``max_iter`` epochs), ``"lbfgs"`` (full-batch, ``max_iter`` iterations),
``"async"`` (Downpour SGD) or ``"local"`` (local SGD: a copy of the network per
worker trained by Adam from ``learning_rate_init`` times the number of copies, copies
and Adam's moments averaged each epoch), or any other first-order solver of
``gdd_dask.SOLVERS``; ``solver_options`` passes what the solver takes beyond these
parameters (``max_staleness``, ``local_steps``, ``n_models``, ``rule``...).
"""

from __future__ import annotations

from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..blocks import network_labels, network_log_output, network_output
from ..losses import LogisticLoss, MultinomialLoss, PoissonLoss, SquaredLoss
from ..losses.mlp import ACTIVATIONS, MLPLoss
from ..solvers import STOCHASTIC
from ..steps import DTYPES
from .base import LinearModel
from .inputs import map_rows, validate_fit_inputs
from .metrics import LazyScoreMixin, accuracy, r2
from .stochastic import (
    LabelsMixin,
    StochasticMixin,
    learning_rate_schedule,
)

__all__ = ["MLPClassifier", "MLPRegressor"]

FIRST_ORDER = {"adam", "sgd", "adagrad", "async", "local", "lbfgs", "gd"}


def _is_matrix(y):
    """True for a target of several columns (multi-output, multilabel)."""
    shape = getattr(y, "shape", None)
    shape = np.asarray(y).shape if shape is None else shape
    return len(shape) == 2 and shape[1] != 1


def _mini_batch(estimator):
    """``partial_fit`` exists for the mini-batch solvers only."""
    if estimator.solver not in STOCHASTIC:
        raise AttributeError(f"partial_fit is only available for the mini-batch solvers "
                             f"{sorted(STOCHASTIC)}; solver={estimator.solver!r}")
    return True


class _BaseMLP(StochasticMixin, LinearModel):
    """Shared parameters, fitting and prediction of the two networks."""

    _parameter_constraints: dict = {
        **{k: v for k, v in LinearModel._parameter_constraints.items()
           if k not in ("fit_intercept", "solver")},
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions(FIRST_ORDER)],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"),
                             Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "solver_options": [dict, None],
        "dtype": [StrOptions(set(DTYPES))],
    }
    fit_intercept = True  # every layer has biases

    def __init__(self, *, hidden_layer_sizes=(100,), activation="relu", solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, random_state=None,
                 tol=1e-4, verbose=0, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10,
                 solver_options=None, dtype="float64", client=None, split_every=8,
                 cache="auto", checkpoint=None, checkpoint_every=1, max_fun=15000):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.max_fun = max_fun
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.solver_options = solver_options
        self.dtype = dtype
        self.client = client
        self.split_every = split_every
        self.cache = cache
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every

    # -- the objective ------------------------------------------------------------
    def _penalty(self, weight_sum):
        return "l2", float(self.alpha) / weight_sum

    def _hidden(self):
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes))
        if sizes.ndim != 1 or not np.issubdtype(sizes.dtype, np.integer) or np.any(sizes < 1):
            raise ValueError("hidden_layer_sizes must be positive integers; got "
                             f"{self.hidden_layer_sizes!r}")
        return tuple(int(s) for s in sizes)

    def _rule_options(self, loss):
        """scikit-learn's: ``learning_rate`` schedules the steps of the ``"sgd"`` rule
        (its asynchronous form too) only; the others step from ``learning_rate_init``.
        ``"local"`` steps by Adam (``solver_options={"rule": ...}`` for another)."""
        if self.solver == "local":
            rule = (self.solver_options or {}).get("rule", "adam")
        else:
            rule = "sgd" if self.solver == "async" else self.solver
        extra = {"rule": rule} if self.solver == "local" else {}
        if rule == "sgd":
            eta = learning_rate_schedule(self.learning_rate, eta0=self.learning_rate_init,
                                         power_t=self.power_t,
                                         scale=getattr(self, "_lr_scale", None) or 1.0)
            return {**extra, "learning_rate": eta, "momentum": self.momentum,
                    "nesterov": self.nesterovs_momentum}
        eta = float(self.learning_rate_init)
        if rule == "adam":
            return {**extra, "learning_rate": eta, "b1": self.beta_1, "b2": self.beta_2,
                    "eps": self.epsilon}
        return {**extra, "learning_rate": eta}  # adagrad

    def _stochastic_options(self, loss, *, partial, n_samples):
        options = super()._stochastic_options(loss, partial=partial, n_samples=n_samples)
        return {"max_fun": self.max_fun, **options} if self.solver == "lbfgs" else options

    def _patience(self):
        """scikit-learn's MLP stops once *more* than ``n_iter_no_change`` epochs in a
        row have not improved by ``tol``."""
        return self.n_iter_no_change + 1

    def _glorot(self, loss, n_features):
        """scikit-learn's start: ``U(-b, b)``, ``b = sqrt(f / (fan_in + fan_out))``
        (``f = 2`` for the logistic activation, else 6), weights then biases per layer."""
        rng = check_random_state(self.random_state)
        factor = 2.0 if self.activation == "logistic" else 6.0
        units = loss.layer_units(n_features)
        weights, biases = [], []
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            weights.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
            biases.append(rng.uniform(-bound, bound, fan_out))
        return loss.pack(weights, biases, np)

    def _start(self, loss, *, incremental):
        """The parameters to start from: the fitted ones (warm start, ``partial_fit``)
        when they fit the network, else a fresh draw."""
        keep = incremental or self.warm_start
        if keep and hasattr(self, "coefs_") and self._fitted_units() \
                == loss.layer_units(self.n_features_in_):
            return self._params(), False
        return self._glorot(loss, self.n_features_in_), True

    def _fitted_units(self):
        """The layer sizes of ``coefs_`` and ``intercepts_`` (fitted, or set by hand),
        or ``None`` where they do not make a network."""
        shapes = [np.shape(c) for c in self.coefs_]
        if not shapes or any(len(sh) != 2 for sh in shapes) \
                or len(getattr(self, "intercepts_", ())) != len(shapes) \
                or any(a[1] != b[0] for a, b in zip(shapes[:-1], shapes[1:])):
            return None
        return [shapes[0][0], *(sh[1] for sh in shapes)]

    def _fit_network(self, X, y, sample_weight, loss, *, incremental=False):
        """Train ``loss``'s network on validated data and store the fitted attributes."""
        x0, fresh = self._start(loss, incremental=incremental)
        if fresh or not incremental:
            self._reset_stochastic()
        options = self._stochastic_options(loss, partial=incremental, n_samples=X.shape[0])
        (X, y, sample_weight), stopper = self._early_stopping(
            X, y, sample_weight, options, partial(self._held_out_score, loss),
            incremental=incremental)
        result = self._solve(loss, X, y, sample_weight, x0=x0, fit_intercept=True,
                             callback=stopper, options=options, incremental=incremental)
        self._keep_state(result)
        params = result.x
        self.validation_scores_ = self.best_validation_score_ = None
        if stopper is not None:
            self.validation_scores_ = stopper.scores
            self.best_validation_score_ = stopper.best_score
            params = params if stopper.best_params is None else stopper.best_params
        self._loss_ = loss
        self.coefs_, self.intercepts_ = (
            [np.array(a) for a in part]
            for part in loss.unpack(params, self.n_features_in_, fit_intercept=True, xp=np))
        self.n_layers_ = len(self.coefs_) + 1
        self.n_outputs_ = loss.n_outputs
        self.loss_ = float(result.fun)
        # scikit-learn's: with early stopping the held-out score decides, no best loss
        self.best_loss_ = None if stopper is not None else \
            float(min(result.history, default=result.fun))
        return self

    def _held_out_score(self, loss, X, y, sample_weight, params):
        """:meth:`score` of the network ``params`` on held-out rows."""
        raise NotImplementedError

    def _params(self):
        """The flat parameters of ``coefs_`` and ``intercepts_`` (weights, then biases:
        the layout of :meth:`~gdd_dask.losses.mlp.MLPLoss.pack`)."""
        check_is_fitted(self)
        return np.concatenate([np.ravel(np.asarray(a, dtype=np.float64))
                               for a in [*self.coefs_, *self.intercepts_]])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


class MLPRegressor(LazyScoreMixin, RegressorMixin, _BaseMLP):
    """A multilayer perceptron regressor, as :class:`sklearn.neural_network.MLPRegressor`.

    Parameters
    ----------
    loss : {"squared_error", "poisson"}, default="squared_error"
        ``(y - r)^2 / 2`` with an identity output, or the half Poisson deviance with
        an exponential output.
    hidden_layer_sizes : tuple of int, default=(100,)
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
    solver : {"adam", "sgd", "lbfgs", "async", "local", "adagrad", "gd"}, default="adam"
    alpha : float, default=1e-4
        L2 strength, as in scikit-learn (module docstring).
    batch_size : int or "auto", default="auto"
        Rows per mini-batch (``"auto"``: 200); a batch never spans two chunks.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        For ``solver="sgd"`` (and ``"async"``): ``learning_rate_init``,
        ``learning_rate_init / (1 + t)^power_t`` at step ``t``, or
        ``learning_rate_init`` divided by 5 each time the stopping test below fires,
        until it is down to 1e-6. The other solvers step from ``learning_rate_init``.
    learning_rate_init, power_t, momentum, nesterovs_momentum, beta_1, beta_2, epsilon
        As in scikit-learn (``sgd``: momentum; ``adam``: the moments' decays).
    max_iter : int, default=200
        Epochs for the mini-batch solvers, iterations for ``"lbfgs"``.
    tol, n_iter_no_change : float, int or np.inf
        As scikit-learn: stop when the epoch's loss (or, with early stopping, the
        held-out score) has failed to improve on the best by ``tol`` for more than
        ``n_iter_no_change`` epochs in a row (``np.inf``: never). The epoch's loss is
        the mean loss of its rows, each at the parameters of its step, plus the
        penalty: no extra pass.
    max_fun : int, default=15000
        Most loss evaluations of ``"lbfgs"`` (each a pass over X), as scikit-learn.
    dtype : {"float64", "float32"}, default="float64"
        Precision of the forward and backward passes of the mini-batch steps
        (``"float32"``: half the memory traffic, as PyTorch trains by default); the
        parameters, the update rule and the sums across chunks stay float64.
    early_stopping, validation_fraction
        Hold out a fraction of the rows and keep the network of the best held-out
        score (:math:`R^2` here, accuracy for the classifier).
    solver_options : dict, optional
        More options for the solver (``max_staleness`` for ``"async"``,
        ``local_steps`` for ``"local"``...).
    random_state : int, RandomState or None
        Seeds the starting weights, the batches and the held-out rows.
    warm_start
        As in :class:`~gdd_dask.estimators.LinearRegression`.
    {engine parameters}

    Attributes
    ----------
    coefs_, intercepts_ : lists of ndarray
        The weight matrices ``(fan_in, fan_out)`` and bias vectors of each layer.
    loss_, best_loss_, loss_curve_ : float, float or None, ndarray
        ``best_loss_`` is ``None`` with early stopping, as in scikit-learn.
        The objective at the end, its lowest value, and its value after each epoch
        (for the mini-batch solvers, the epoch's loss as under ``tol``).
    n_iter_, n_passes_, t_, n_layers_, n_outputs_, n_features_in_
        Epochs (or iterations), passes over X, update steps, layers, outputs, features.
    validation_scores_, best_validation_score_
        With early stopping: the held-out score after each epoch and the best (else
        ``None``).
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(self, *, loss="squared_error", hidden_layer_sizes=(100,), activation="relu",
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, random_state=None,
                 tol=1e-4, verbose=0, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10,
                 solver_options=None, dtype="float64", client=None, split_every=8,
                 cache="auto", checkpoint=None, checkpoint_every=1, max_fun=15000):
        self.loss = loss
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            random_state=random_state, tol=tol, verbose=verbose, warm_start=warm_start,
            momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            solver_options=solver_options, dtype=dtype, client=client,
            split_every=split_every, cache=cache, checkpoint=checkpoint,
            checkpoint_every=checkpoint_every, max_fun=max_fun)

    def _network(self, n_outputs):
        output = (PoissonLoss if self.loss == "poisson" else SquaredLoss)(n_outputs)
        return MLPLoss(self._hidden(), self.activation, output)

    def fit(self, X, y, sample_weight=None):
        """Train the network on ``(X, y)`` from a fresh start (or the last fit's
        weights with ``warm_start``).

        {fit parameters}
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(_mini_batch)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)`` (a chunk, or a whole Dask array) from the current
        weights, continuing the update rule's state. Mini-batch solvers only.
        As in scikit-learn, ``early_stopping`` does not apply here (each call is one
        epoch of what it is given)."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _fit(self, X, y, sample_weight, *, incremental):
        self._validate_params()
        first = not (incremental and hasattr(self, "coefs_"))
        X, y, sample_weight = validate_fit_inputs(self, X, y, sample_weight, y_numeric=True,
                                                  reset=first, multi_output=True)
        n_outputs = y.shape[1] if y.ndim == 2 else 1
        return self._fit_network(X, y, sample_weight, self._network(n_outputs),
                                 incremental=incremental)

    def _prediction(self, loss, params, X):
        return map_rows(partial(network_output, loss, params), X, dtype=np.float64,
                        n_columns=loss.n_outputs if loss.y_columns > 1 else None)

    def _held_out_score(self, loss, X, y, sample_weight, params):
        return r2(y, self._prediction(loss, params, X), sample_weight, client=self.client)

    def predict(self, X):
        """The network's prediction (the mean, for the Poisson loss), one column per
        output of a multi-output fit: NumPy for in-memory X, lazy Dask for Dask or Zarr
        X."""
        X = self._validated(X)
        return self._prediction(self._loss_, self._params(), X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

class MLPClassifier(LazyScoreMixin, ClassifierMixin, LabelsMixin, _BaseMLP):
    """A multilayer perceptron classifier, as :class:`sklearn.neural_network.MLPClassifier`.

    Two classes give one logistic output; more give a softmax over one output per class;
    a matrix of 0/1 labels (multilabel, one column per label) gives one logistic output
    per column, ``classes_ = [0, .., K-1]``, and ``predict`` returns the indicator
    matrix. Parameters and attributes are those of :class:`MLPRegressor` (without
    ``loss``), plus ``classes_``; ``partial_fit`` takes ``classes`` on its first call.
    """

    _min_classes = 1  # one class: one logistic output, every prediction that class

    def _network(self, n_classes):
        output = LogisticLoss() if n_classes <= 2 else MultinomialLoss(n_classes)
        return MLPLoss(self._hidden(), self.activation, output)

    def fit(self, X, y, sample_weight=None):
        """Train the network on labels of any type; see :meth:`MLPRegressor.fit`."""
        return self._fit(X, y, sample_weight, classes=None, incremental=False)

    @available_if(_mini_batch)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``(X, y)`` from the current weights. ``classes`` (every label
        the calls will see) is required on the first call.
        As in scikit-learn, ``early_stopping`` does not apply here (each call is one
        epoch of what it is given)."""
        return self._fit(X, y, sample_weight, classes=classes, incremental=True)

    def _fit(self, X, y, sample_weight, *, classes, incremental):
        if _is_matrix(y):
            return self._fit_multilabel(X, y, sample_weight, incremental=incremental)
        X, codes, sample_weight = self._labelled_inputs(X, y, sample_weight, classes=classes,
                                                        incremental=incremental)
        return self._fit_network(X, codes, sample_weight, self._network(len(self.classes_)),
                                 incremental=incremental)

    def _fit_multilabel(self, X, y, sample_weight, *, incremental):
        """A column of 0/1 labels per output, each its own logistic output."""
        self._validate_params()
        first = not (incremental and hasattr(self, "classes_"))
        X, y, sample_weight = validate_fit_inputs(self, X, y, sample_weight, y_numeric=False,
                                                  reset=first, multi_output=True)
        n_labels = y.shape[1]
        if not first and self._loss_.y_columns != n_labels:
            raise ValueError(f"y has {n_labels} label columns; the first call to "
                             f"partial_fit had {self._loss_.y_columns}")
        self.classes_ = np.arange(n_labels)
        loss = MLPLoss(self._hidden(), self.activation, LogisticLoss(n_labels))
        return self._fit_network(X, y.astype(np.float64), sample_weight, loss,
                                 incremental=incremental)

    def _labels(self, loss, params, classes, X, dtype):
        multilabel = loss.y_columns > 1
        return map_rows(partial(network_labels, loss, params, classes), X,
                        dtype=np.int64 if multilabel else dtype,
                        n_columns=loss.y_columns if multilabel else None)

    def _held_out_score(self, loss, X, y, sample_weight, params):
        labels = self._labels(loss, params, np.arange(len(self.classes_)), X, np.int64)
        return accuracy(y, labels, sample_weight, client=self.client)

    def predict_proba(self, X):
        """Class probabilities, shape (n, n_classes), columns in the order of ``classes_``
        (two columns for a single-class fit, as scikit-learn's)."""
        X = self._validated(X)
        return map_rows(partial(network_output, self._loss_, self._params()), X,
                        dtype=np.float64, n_columns=max(2, len(self.classes_)),
                        token="gdd-proba")

    def predict_log_proba(self, X):
        """``log(predict_proba(X))``, computed from the raw output (log-sigmoids,
        log-softmax): finite where a probability rounds to 0."""
        X = self._validated(X)
        return map_rows(partial(network_log_output, self._loss_, self._params()), X,
                        dtype=np.float64, n_columns=max(2, len(self.classes_)),
                        token="gdd-log-proba")

    def predict(self, X):
        """Predicted labels (from ``classes_``), or the 0/1 indicator matrix of a
        multilabel fit."""
        X = self._validated(X)
        return self._labels(self._loss_, self._params(), self.classes_, X,
                            self.classes_.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        return tags
