"""``LogisticRegression``: binary or multinomial, chosen from the labels.

With :math:`K` classes in ``y`` (any label type), two classes fit the binary logistic
loss (one output, ``coef_`` of shape ``(1, n_features)``), more fit the multinomial
(softmax) loss with :math:`K` outputs. scikit-learn's objective

.. math:: C \\sum_i s_i\\, l_i + \\tfrac{1}{2} \\lVert W \\rVert^2

has the minimizer of the core's mean loss plus :math:`\\frac{\\alpha}{2} \\lVert W
\\rVert^2` with :math:`\\alpha = 1 / (C \\sum_i s_i)`, where the weights :math:`s_i`
include the class weights. The multinomial model is invariant to adding a constant
to every class's intercept (and, without penalty, to every class's coefficients);
like scikit-learn it is reported in the symmetric form, centred over the classes.
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions

from ..losses import LogisticLoss, MultinomialLoss
from .base import LinearModel
from .classifier import LinearClassifierMixin
from .inputs import (
    float_dtype,
    validate_fit_inputs,
)
from .labels import align_codes, apply_class_weight, class_weights, encode_labels
from .metrics import LazyScoreMixin

__all__ = ["LogisticRegression", "split_params"]


def split_params(params, n_features, fit_intercept, n_outputs):
    """``(coef (n_outputs, n_features), intercept (n_outputs,))`` of fitted parameters;
    several outputs (the multinomial model) in the symmetric form, each column summing
    to zero over the classes."""
    params = np.asarray(params).reshape(-1, n_outputs)
    coef = params[:n_features].T.copy()
    intercept = params[-1].copy() if fit_intercept else np.zeros(n_outputs)
    if n_outputs > 1:
        coef -= coef.mean(axis=0)
        intercept -= intercept.mean()
    return coef, intercept


class LogisticRegression(LinearClassifierMixin, LazyScoreMixin, ClassifierMixin, LinearModel):
    """Logistic regression (binary or multinomial), as scikit-learn's with ``lbfgs``.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet", None}, default="l2"
        Penalty on the coefficients (never on the intercepts), or none (then ``C`` is
        not used). ``"l1"`` and ``"elasticnet"`` need a solver for non-smooth
        objectives: ``"proximal"`` or ``"auto"``.
    C : float, default=1.0
        Inverse regularization strength, as in scikit-learn: the objective is
        :math:`C \\sum_i s_i l_i + P(W)` with :math:`P = \\frac{1}{2} \\lVert W
        \\rVert^2`, :math:`\\lVert W \\rVert_1`, or :math:`r \\lVert W \\rVert_1 +
        \\frac{1 - r}{2} \\lVert W \\rVert^2` (``r = l1_ratio``).
    l1_ratio : float in [0, 1], default=None
        The L1 share of the penalty: when given it sets the mix whatever ``penalty``
        says (as in scikit-learn >= 1.8: 0 is L2, 1 is L1); required for
        ``penalty="elasticnet"``.
    fit_intercept : bool, default=True
    class_weight : dict, "balanced" or None, default=None
        Multiplies ``sample_weight`` by each row's class weight;
        ``"balanced"`` is :math:`\\sum_i s_i / (K \\sum_{i \\in k} s_i)`.
    solver : str or callable, default="lbfgs"
        Any registered solver (``gdd_dask.SOLVERS``), ``"auto"`` (Newton for narrow
        problems, else L-BFGS: see ``gdd_dask.solvers.auto_solver``) or a solver function.
    tol : float, default=1e-4
        Stop when ``max_i |grad_i| <= tol``, as scikit-learn's ``tol`` for L-BFGS.
    max_iter : int, default=100
        Most iterations; hitting it raises a ``ConvergenceWarning``.
    warm_start, random_state
        As in :class:`~gdd_dask.estimators.LinearRegression`.
    {engine parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The sorted distinct labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,)
        Solver iterations (an array, as in scikit-learn).
    loss_curve_, n_passes_, n_features_in_, feature_names_in_
        As in :class:`~gdd_dask.estimators.LinearRegression`.
    """

    _parameter_constraints: dict = {
        **LinearModel._parameter_constraints,
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "C": [Interval(Real, 0, None, closed="right")],  # np.inf: no penalty
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, *, penalty="l2", C=1.0, l1_ratio=None, fit_intercept=True,
                 class_weight=None, solver="lbfgs", tol=1e-4, max_iter=100, warm_start=False,
                 client=None, split_every=8, cache="auto", verbose=0, random_state=None,
                 checkpoint=None, checkpoint_every=1):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        super().__init__(solver=solver, tol=tol, max_iter=max_iter, warm_start=warm_start,
                         client=client, split_every=split_every, cache=cache, verbose=verbose,
                         random_state=random_state, checkpoint=checkpoint,
                         checkpoint_every=checkpoint_every)

    def _penalty(self, weight_sum):
        """With the default ``penalty="l2"``, ``l1_ratio`` alone chooses the mix, as in
        scikit-learn >= 1.8 (``0``: L2, ``1``: L1); ``"elasticnet"`` takes it; ``"l1"``
        and ``None`` ignore it (:meth:`_check_penalty` warns). ``C=np.inf`` is no
        penalty."""
        if self.penalty is None or self.C == np.inf:
            return None, 0.0
        alpha = 1.0 / (float(self.C) * weight_sum)
        if self.l1_ratio is not None and self.penalty in ("l2", "elasticnet"):
            return "elasticnet", alpha, float(self.l1_ratio)
        return self.penalty, alpha, None

    def _check_penalty(self):
        """scikit-learn's warnings for settings that another one overrides."""
        if self.penalty in ("l1", None) and self.l1_ratio is not None \
                and 0 < self.l1_ratio < 1:
            warnings.warn("l1_ratio parameter is only used when penalty is 'elasticnet'. "
                          f"Got (penalty={self.penalty})", UserWarning, stacklevel=3)
        if self.penalty is None and self.C != 1.0:
            warnings.warn("Setting penalty=None will ignore the C and l1_ratio parameters",
                          UserWarning, stacklevel=3)
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be specified when penalty is elasticnet.")

    def fit(self, X, y, sample_weight=None):
        """Fit the model on labels of any type; see the class docstring.

        {fit parameters}
        """
        self._validate_params()
        self._check_solver()
        self._check_penalty()
        X, y, sample_weight = validate_fit_inputs(self, X, y, sample_weight, y_numeric=False)
        classes, codes = encode_labels(y, client=self.client)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in y, "
                f"but y contains only one class: {classes[:1].tolist()[0]!r}"
            )
        codes, sample_weight = align_codes(codes, sample_weight)
        weights = class_weights(self.class_weight, classes, codes, sample_weight,
                                client=self.client)
        sample_weight = apply_class_weight(weights, codes, sample_weight)
        same_classes = np.array_equal(getattr(self, "classes_", None), classes)
        binary = len(classes) == 2
        loss = "logistic" if binary else MultinomialLoss(len(classes))
        n_outputs = 1 if binary else len(classes)
        params = self._fit_linear(X, codes, sample_weight, loss=loss, n_outputs=n_outputs,
                                  warm_start=self.warm_start and same_classes)
        coef, intercept = split_params(params, self.n_features_in_, self.fit_intercept,
                                       n_outputs)
        dtype = float_dtype(X)  # float32 X: float32 coefficients and scores
        self.classes_, self.coef_, self.intercept_ = \
            classes, coef.astype(dtype), intercept.astype(dtype)
        self.n_iter_ = np.array([self.n_iter_], dtype=np.int32)
        return self

    # -- prediction (LinearClassifierMixin) ------------------------------------------
    def _loss(self):
        """The fitted loss, whose probabilities :meth:`predict_proba` gives."""
        n_outputs = self.coef_.shape[0]
        return LogisticLoss() if n_outputs == 1 else MultinomialLoss(n_outputs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
