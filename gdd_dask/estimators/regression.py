"""Regressors: ``LinearRegression``, ``Ridge``, ``Lasso``, ``ElasticNet`` and the GLMs
``PoissonRegressor``, ``GammaRegressor``, ``TweedieRegressor``.

Each minimizes the core objective (mean weighted loss plus ``alpha/2 ||w||^2``, the
intercept never penalized) with ``alpha`` chosen so that the estimator's own
hyperparameters mean exactly what they mean in scikit-learn:

- ``LinearRegression``: scikit-learn minimizes
  :math:`\\sum_i s_i (y_i - x_i w - b)^2`; core ``alpha = 0``.
- ``Ridge(alpha)``: :math:`\\sum_i s_i (y_i - x_i w - b)^2 + \\alpha \\lVert w \\rVert^2`;
  core ``alpha / sum_i s_i``.
- ``PoissonRegressor(alpha)``: :math:`\\frac{1}{2 \\sum_i s_i} \\sum_i s_i\\,
  d(y_i, e^{x_i w + b}) + \\frac{\\alpha}{2} \\lVert w \\rVert^2`; core ``alpha``.

(:math:`d` is the Poisson unit deviance; the squared objectives are the core's times
:math:`2 \\sum_i s_i`, so they share their minimizer.) A matrix ``y`` fits the squared
losses' targets side by side (``SquaredLoss(n_targets)``: one pass serves them all),
with one ``alpha`` per target in ``Ridge`` where given.
"""

from __future__ import annotations

from functools import partial
from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..blocks import linear_raw, mean_prediction
from ..losses import SquaredLoss, TweedieLoss, get_loss
from .base import LinearModel
from .inputs import (
    float_dtype,
    map_rows,
    validate_fit_inputs,
    validate_score_inputs,
)
from .metrics import LazyScoreMixin, d2

__all__ = ["ElasticNet", "GammaRegressor", "Lasso", "LinearRegression", "PoissonRegressor",
           "Ridge", "TweedieRegressor"]


def _ndim(y):
    """Dimensions of a target as given (an array, a Dask or pandas object, a list)."""
    ndim = getattr(y, "ndim", None)
    return np.asarray(y).ndim if ndim is None else ndim


class _Regressor(LazyScoreMixin, RegressorMixin, LinearModel):
    """A single-output GLM regressor: fit, predict, score on in-memory or lazy data."""

    _loss = "squared"
    _column_coef = False  # a column y gives coef_ of shape (1, n_features)

    def fit(self, X, y, sample_weight=None):
        """Fit the model by minimizing the regularized mean loss over the row chunks.

        Parameters
        ----------
        X : array-like, Dask array or DataFrame, or Zarr array of shape (n_samples, n_features)
        y : array-like, Dask array or Series, or Zarr array of shape (n_samples,) or \
(n_samples, n_targets)
            A matrix of targets (squared losses): one independent model per column,
            ``coef_`` of shape ``(n_targets, n_features)``, as in scikit-learn.
        sample_weight : array-like or Dask array of shape (n_samples,), optional
            Non-negative weights; an integer weight equals repeating the row.

        Returns
        -------
        self
        """
        self._validate_params()
        self._check_solver()
        matrix = self._loss == "squared" and _ndim(y) == 2
        X, y, sample_weight = validate_fit_inputs(self, X, y, sample_weight, y_numeric=True,
                                                  multi_output=matrix)
        n_targets = y.shape[1] if y.ndim == 2 else 1
        loss = SquaredLoss(n_targets) if matrix else self._glm_loss()
        params = self._fit_linear(X, y, sample_weight, loss=loss, n_outputs=n_targets)
        dtype = float_dtype(X)  # float32 X: float32 coef_ and predictions
        coef, intercept = params[: self.n_features_in_].T.astype(dtype), params[-1].astype(dtype)
        # scikit-learn's shapes: a column y keeps a 2-D coef_ in LinearRegression only
        self.coef_ = coef if matrix and (n_targets > 1 or self._column_coef) else coef[0]
        if not self.fit_intercept:
            self.intercept_ = 0.0
        else:
            self.intercept_ = intercept if matrix else intercept[0]
        return self

    def _initial_params(self, objective, n_params):
        """Zeros, and the intercepts of the constant model, ``link(sum s_i y_i / sum
        s_i)``, as scikit-learn's GLMs start (the means come from the objective's check
        pass)."""
        if not self.fit_intercept:
            return None
        means = np.atleast_1d(objective.target_mean)
        x0 = np.zeros(n_params)
        x0[-means.size:] = [self._glm_loss().link(mean) for mean in means]
        return x0

    def _glm_loss(self):
        """The loss of one target (its link, inverse link and deviance)."""
        return get_loss(self._loss)

    def _raw(self, X):
        """``X @ coef_.T + intercept_`` of validated X (NumPy, or lazy Dask)."""
        func = partial(linear_raw, coef=self.coef_.T, intercept=self.intercept_)
        return map_rows(func, X, dtype=self.coef_.dtype, token="gdd-decision",
                        n_columns=self._n_columns())

    def _mean(self, X):
        """The predicted mean, ``inverse_link(X @ coef_.T + intercept_)``."""
        func = partial(mean_prediction, self._glm_loss(), self.coef_.T, self.intercept_)
        return map_rows(func, X, dtype=self.coef_.dtype, n_columns=self._n_columns())

    def _n_columns(self):
        """Columns of a prediction: ``None`` (a vector) for one target."""
        return None if self.coef_.ndim == 1 else self.coef_.shape[0]

    def predict(self, X):
        """Predicted mean response: NumPy for in-memory X, a lazy Dask array for Dask or
        Zarr X."""
        return self._mean(self._validated(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = self._loss == "squared"
        return tags


class LinearRegression(_Regressor):
    """Ordinary least squares, fitted by distributed gradient methods.

    Minimizes :math:`\\frac{1}{2 \\sum_i s_i} \\sum_i s_i (y_i - x_i w - b)^2`, the
    same minimizer as :class:`sklearn.linear_model.LinearRegression`.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Learn the intercept ``b``.
    solver : str or callable, default="auto"
        ``"auto"`` (Newton for narrow problems -- for least squares one Newton step
        solves the normal equations -- else L-BFGS), or any registered solver
        (``gdd_dask.SOLVERS``), or a solver function.
    tol : float, default=1e-6
        Stop when ``max_i |grad_i| <= tol`` (gradient of the mean loss).
    max_iter : int, default=1000
        Most solver iterations; hitting it raises a ``ConvergenceWarning``.
    warm_start : bool, default=False
        Start from the previous fit's coefficients.
    {engine parameters}
    random_state : int, RandomState or None, default=None
        Passed to solvers that take one (stochastic solvers); the full-batch solvers
        are deterministic.
    positive : bool, default=False
        Constrain the coefficients to be ``>= 0`` (not the intercept), as in
        scikit-learn: solved by coordinate descent on the Gram matrix (``"auto"`` for
        up to 2,048 parameters, ``"cd"``) or projected proximal gradient steps
        (``"proximal"``).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        One row per column of a matrix ``y``.
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int
        Solver iterations.
    loss_curve_ : ndarray of shape (n_iter_,)
        Objective after each iteration.
    n_passes_ : int
        Passes over X (each evaluation of the objective is one).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only for input with string column names (pandas or Dask DataFrames).
    """

    _parameter_constraints: dict = {**_Regressor._parameter_constraints,
                                    "positive": ["boolean"]}

    def __init__(self, *, fit_intercept=True, solver="auto", tol=1e-6, max_iter=1000,
                 warm_start=False, client=None, split_every=8, cache="auto", verbose=0,
                 random_state=None, checkpoint=None,
                 checkpoint_every=1, positive=False):
        self.fit_intercept = fit_intercept
        self.positive = positive
        super().__init__(solver=solver, tol=tol, max_iter=max_iter, warm_start=warm_start,
                         client=client, split_every=split_every, cache=cache, verbose=verbose,
                         random_state=random_state, checkpoint=checkpoint,
                         checkpoint_every=checkpoint_every)

    _column_coef = True

    def _penalty(self, weight_sum):
        return None, 0.0


class Ridge(_Regressor):
    """Least squares with an L2 penalty, as :class:`sklearn.linear_model.Ridge`.

    Minimizes :math:`\\sum_i s_i (y_i - x_i w - b)^2 + \\alpha \\lVert w \\rVert^2`
    (the core objective with ``alpha / sum_i s_i``); the intercept is not penalized.

    Parameters
    ----------
    alpha : float or ndarray of shape (n_targets,), default=1.0
        Regularization strength, as in scikit-learn; an array gives each target of a
        matrix ``y`` its own.
    fit_intercept, solver, tol, max_iter, warm_start, random_state, positive
        As in :class:`LinearRegression`.
    {engine parameters}

    {linear attributes}
    """

    _parameter_constraints: dict = {
        **_Regressor._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left"), np.ndarray],
        "positive": ["boolean"],
    }

    def __init__(self, alpha=1.0, *, fit_intercept=True, solver="auto", tol=1e-6,
                 max_iter=1000, warm_start=False, client=None, split_every=8, cache="auto",
                 verbose=0, random_state=None, checkpoint=None,
                 checkpoint_every=1, positive=False):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.positive = positive
        super().__init__(solver=solver, tol=tol, max_iter=max_iter, warm_start=warm_start,
                         client=client, split_every=split_every, cache=cache, verbose=verbose,
                         random_state=random_state, checkpoint=checkpoint,
                         checkpoint_every=checkpoint_every)

    def _penalty(self, weight_sum):
        return "l2", float(self.alpha) / weight_sum

    def _penalty_of(self, objective):
        """With an array ``alpha``, one strength per target: on every coefficient of
        target ``k`` (parameter ``j K + k``), ``alpha_k / sum_i s_i``."""
        alpha = np.asarray(self.alpha, dtype=np.float64)
        if alpha.ndim == 0:
            return super()._penalty_of(objective)
        n_targets = objective.loss.n_outputs
        if alpha.ndim != 1 or alpha.size not in (1, n_targets) or np.any(alpha < 0) \
                or not np.all(np.isfinite(alpha)):
            raise ValueError(f"alpha must be a number or an array of one non-negative "
                             f"number per target ({n_targets}); got shape {alpha.shape}")
        rows = objective.n_params // n_targets
        return "l2", np.tile(np.broadcast_to(alpha, n_targets), rows) / objective.weight_sum


class ElasticNet(_Regressor):
    """Least squares with L1 and L2 penalties, as :class:`sklearn.linear_model.ElasticNet`.

    Minimizes :math:`\\frac{1}{2 \\sum_i s_i} \\sum_i s_i (y_i - x_i w - b)^2
    + \\alpha r \\lVert w \\rVert_1 + \\frac{\\alpha (1 - r)}{2} \\lVert w \\rVert^2`
    with ``r = l1_ratio``; the intercept is not penalized. ``solver="auto"`` solves
    narrow problems (up to 2,048 parameters) by coordinate descent on the Gram matrix of
    one pass (``gdd_dask.solvers.cd``: scikit-learn's own coordinate descent and
    coefficients), wider ones by proximal gradient steps. Coefficients are exactly zero
    where the L1 part puts them.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the penalty, as in scikit-learn.
    l1_ratio : float in [0, 1], default=0.5
        The L1 share of the penalty (1: the lasso, 0: ridge).
    tol : float, default=1e-6
        Stop when the proximal gradient step ``max_i |w_i - prox(w - grad)_i|`` is at
        most ``tol`` (``"cd"``: scikit-learn's duality-gap test, as its ``tol``).
    fit_intercept, solver, max_iter, warm_start, random_state, positive
        As in :class:`LinearRegression`; the solver must handle the L1 part
        (``"auto"``, ``"cd"`` or ``"proximal"``) unless ``l1_ratio`` is 0.
    {engine parameters}

    {linear attributes}
    """

    _parameter_constraints: dict = {
        **_Regressor._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "positive": ["boolean"],
    }

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, solver="auto",
                 tol=1e-6, max_iter=1000, warm_start=False, client=None, split_every=8,
                 cache="auto", verbose=0, random_state=None, checkpoint=None,
                 checkpoint_every=1, positive=False):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.positive = positive
        super().__init__(solver=solver, tol=tol, max_iter=max_iter, warm_start=warm_start,
                         client=client, split_every=split_every, cache=cache, verbose=verbose,
                         random_state=random_state, checkpoint=checkpoint,
                         checkpoint_every=checkpoint_every)

    def _penalty(self, weight_sum):
        return "elasticnet", float(self.alpha), float(self.l1_ratio)


class Lasso(ElasticNet):
    """Least squares with an L1 penalty, as :class:`sklearn.linear_model.Lasso`.

    Minimizes :math:`\\frac{1}{2 \\sum_i s_i} \\sum_i s_i (y_i - x_i w - b)^2
    + \\alpha \\lVert w \\rVert_1`: :class:`ElasticNet` with ``l1_ratio=1``.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the L1 penalty, as in scikit-learn.
    fit_intercept, solver, tol, max_iter, warm_start, random_state, positive
        As in :class:`ElasticNet`.
    {engine parameters}

    {linear attributes}
    """

    _parameter_constraints: dict = {
        k: v for k, v in ElasticNet._parameter_constraints.items() if k != "l1_ratio"}

    def __init__(self, alpha=1.0, *, fit_intercept=True, solver="auto", tol=1e-6,
                 max_iter=1000, warm_start=False, client=None, split_every=8, cache="auto",
                 verbose=0, random_state=None, checkpoint=None,
                 checkpoint_every=1, positive=False):
        super().__init__(alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept,
                         solver=solver, tol=tol, max_iter=max_iter, warm_start=warm_start,
                         client=client, split_every=split_every, cache=cache,
                         verbose=verbose, random_state=random_state, checkpoint=checkpoint,
                         checkpoint_every=checkpoint_every, positive=positive)

    def _penalty(self, weight_sum):
        return "l1", float(self.alpha)


class _GLMRegressor(_Regressor):
    """A GLM regressor as scikit-learn's: ``1/(2 sum_i s_i) sum_i s_i d(y_i, mu_i) +
    alpha/2 ||w||^2`` (core ``alpha``), L-BFGS by default, ``score`` the fraction of
    deviance explained, :math:`D^2` (:func:`~gdd_dask.estimators.metrics.d2`)."""

    _parameter_constraints: dict = {
        **_Regressor._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, *, alpha=1.0, fit_intercept=True, solver="lbfgs", tol=1e-4,
                 max_iter=100, warm_start=False, client=None, split_every=8, cache="auto",
                 verbose=0, random_state=None, checkpoint=None, checkpoint_every=1):
        self.alpha, self.fit_intercept = alpha, fit_intercept
        super().__init__(solver=solver, tol=tol, max_iter=max_iter, warm_start=warm_start,
                         client=client, split_every=split_every, cache=cache, verbose=verbose,
                         random_state=random_state, checkpoint=checkpoint,
                         checkpoint_every=checkpoint_every)

    def _penalty(self, weight_sum):
        return "l2", float(self.alpha)

    def score(self, X, y, sample_weight=None):
        """:math:`D^2`, the fraction of deviance explained (a Python float)."""
        check_is_fitted(self)
        X, y, sample_weight = validate_score_inputs(self, X, y, sample_weight)
        return d2(self._glm_loss(), y.astype(np.float64), self._raw(X), sample_weight,
                  client=self.client)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        return tags


class PoissonRegressor(_GLMRegressor):
    """Poisson regression (log link), as :class:`sklearn.linear_model.PoissonRegressor`.

    Minimizes :math:`\\frac{1}{2 \\sum_i s_i} \\sum_i s_i d(y_i, \\mu_i)
    + \\frac{\\alpha}{2} \\lVert w \\rVert^2` with :math:`\\mu_i = e^{x_i w + b}` and
    the unit deviance :math:`d(y, \\mu) = 2 (y \\log(y / \\mu) - y + \\mu)`. ``y``
    must be non-negative. ``score`` is :math:`D^2`, the fraction of deviance explained.

    Parameters
    ----------
    alpha : float, default=1.0
        L2 regularization strength, as in scikit-learn.
    solver : str or callable, default="lbfgs"
        Any registered solver, ``"auto"`` (Newton for narrow problems, else L-BFGS) or a
        solver function.
    tol : float, default=1e-4
        Stop when ``max_i |grad_i| <= tol``, as scikit-learn's ``tol`` for L-BFGS.
    max_iter : int, default=100
    fit_intercept, warm_start, random_state
        As in :class:`LinearRegression`.
    {engine parameters}

    {linear attributes}
    """

    _loss = "poisson"


class GammaRegressor(_GLMRegressor):
    """Gamma regression (log link), as :class:`sklearn.linear_model.GammaRegressor`.

    Minimizes :math:`\\frac{1}{2 \\sum_i s_i} \\sum_i s_i d(y_i, \\mu_i)
    + \\frac{\\alpha}{2} \\lVert w \\rVert^2` with :math:`\\mu_i = e^{x_i w + b}` and
    the unit deviance :math:`d(y, \\mu) = 2 (\\log(\\mu / y) + y / \\mu - 1)`. ``y``
    must be positive. ``score`` is :math:`D^2`.

    Parameters
    ----------
    alpha, solver, tol, max_iter, fit_intercept, warm_start, random_state
        As in :class:`PoissonRegressor`.
    {engine parameters}

    {linear attributes}
    """

    _loss = "gamma"


class TweedieRegressor(_GLMRegressor):
    """Tweedie regression, as :class:`sklearn.linear_model.TweedieRegressor`.

    Minimizes the mean half Tweedie deviance of power ``power`` plus
    :math:`\\frac{\\alpha}{2} \\lVert w \\rVert^2` (:class:`~gdd_dask.losses.TweedieLoss`):
    ``power=0`` normal, 1 Poisson, in ``(1, 2)`` compound Poisson-Gamma, 2 Gamma, 3
    inverse Gaussian. ``score`` is :math:`D^2`.

    Parameters
    ----------
    power : float, default=0.0
        The Tweedie power: ``<= 0`` or ``>= 1``; ``y >= 0`` from 1, ``y > 0`` from 2.
    link : {"auto", "identity", "log"}, default="auto"
        ``"auto"``: identity for ``power <= 0``, else log. The identity link is the
        normal distribution's (``power=0``: least squares) only.
    alpha, solver, tol, max_iter, fit_intercept, warm_start, random_state
        As in :class:`PoissonRegressor`.
    {engine parameters}

    {linear attributes}
    """

    _loss = "tweedie"  # of the power and link: _glm_loss
    _parameter_constraints: dict = {
        **_GLMRegressor._parameter_constraints,
        "power": [Interval(Real, None, 0, closed="right"), Interval(Real, 1, None,
                                                                     closed="left")],
        "link": [StrOptions({"auto", "identity", "log"})],
    }

    def __init__(self, *, power=0.0, alpha=1.0, fit_intercept=True, link="auto",
                 solver="lbfgs", tol=1e-4, max_iter=100, warm_start=False, client=None,
                 split_every=8, cache="auto", verbose=0, random_state=None, checkpoint=None,
                 checkpoint_every=1):
        super().__init__(alpha=alpha, fit_intercept=fit_intercept, solver=solver, tol=tol,
                         max_iter=max_iter, warm_start=warm_start, client=client,
                         split_every=split_every, cache=cache, verbose=verbose,
                         random_state=random_state, checkpoint=checkpoint,
                         checkpoint_every=checkpoint_every)
        self.power = power
        self.link = link

    def _glm_loss(self):
        power = float(self.power)
        link = ("identity" if power <= 0 else "log") if self.link == "auto" else self.link
        if link == "identity":
            if power != 0:
                raise ValueError(f"link='identity' is the normal distribution's "
                                 f"(power=0) only here; got power={power!r}: use link='log'")
            return SquaredLoss()
        return TweedieLoss(power)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = float(self.power) >= 1
        return tags


def glm_regressors():
    """``{loss name: estimator class}`` of the GLM regressors (each names its loss):
    what the CLI's model files predict with."""
    return {cls._loss: cls for cls in _GLMRegressor.__subclasses__()}
