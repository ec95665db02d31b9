"""A fitted linear model as a JSON file: everything needed to predict, no pickle.

The file holds the model kind, ``coef`` of shape ``(n_outputs, n_features)`` (as
scikit-learn's ``coef_``), ``intercept`` ``(n_outputs,)``, the class labels of a
classifier, and what the fit did (solver, penalty, iterations, passes, loss, time,
store). Predictions are lazy and chunk by chunk: the raw prediction
:math:`r = X W^T + b` of each row block, then

- ``linear``, ``ridge``: :math:`\\hat y = r`;
- ``poisson``, ``gamma``: the loss's mean, :math:`\\hat y = e^{r}`;
- ``logistic``: label ``classes[r > 0]``, :math:`P(y = 1) = \\text{sigmoid}(r)`;
- ``multinomial``: label ``classes[argmax_k r_k]``, probabilities ``softmax(r)``.

Predictions, probabilities and scores are those of the matching gdd_dask estimator
(:meth:`FittedModel.estimator`: ``LinearRegression``, ``Ridge``,
``LogisticRegression``, the GLM regressor of the loss), whose block functions import
only the chunk math, so the workers that run them stay small.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..losses import GLM_LOSSES

__all__ = ["FORMAT", "GLMS", "MODELS", "FittedModel", "load_model"]

FORMAT = "gdd-dask-linear-model"
VERSION = 1

GLMS = GLM_LOSSES
"""The kinds whose prediction is the loss's mean and whose score its D^2."""
MODELS = {"linear": "squared", "ridge": "squared", "logistic": "logistic",
          "multinomial": "multinomial", **{model: model for model in GLMS}}
"""Model kind -> loss of :func:`gdd_dask.minimize`."""

CLASSIFIERS = ("logistic", "multinomial")


def estimator_class(model):
    """The gdd_dask estimator of a ``model`` kind: a GLM's is the regressor of its loss
    (``PoissonRegressor`` for ``poisson``...), found among the GLM regressors."""
    from .. import estimators
    from ..estimators.regression import glm_regressors

    glms = glm_regressors()
    if model in glms:
        return glms[model]
    return {"linear": estimators.LinearRegression, "ridge": estimators.Ridge,
            "logistic": estimators.LogisticRegression,
            "multinomial": estimators.LogisticRegression}[model]


class FittedModel(NamedTuple):
    """A linear model: ``model`` kind, ``coef`` (K, d), ``intercept`` (K,), ``classes``."""

    model: str
    coef: np.ndarray
    intercept: np.ndarray
    classes: list | None
    info: dict

    @property
    def n_features(self):
        return self.coef.shape[1]

    @classmethod
    def from_params(cls, model, params, n_features, info):
        """From the flat parameters of :func:`gdd_dask.minimize` (intercepts last)."""
        W = np.asarray(params, dtype=np.float64).reshape(n_features + 1, -1)
        classes = None
        if model == "logistic":
            classes = [0.0, 1.0]
        elif model == "multinomial":
            classes = [float(k) for k in range(W.shape[1])]
        return cls(model, W[:n_features].T.copy(), W[n_features].copy(), classes, info)

    def estimator(self, client=None):
        """This model as a fitted gdd_dask estimator (:func:`estimator_class`): its
        predictions, probabilities and score are the model's."""
        fitted = estimator_class(self.model)(client=client)
        if self.model in CLASSIFIERS:
            fitted.coef_, fitted.intercept_ = self.coef.copy(), self.intercept.copy()
            fitted.classes_ = np.asarray(self.classes, dtype=np.float64)
        else:
            fitted.coef_, fitted.intercept_ = self.coef[0].copy(), float(self.intercept[0])
        fitted.n_features_in_ = self.n_features
        return fitted

    def predict(self, X, *, proba=False):
        """Lazy predictions of a Dask array ``X`` by :meth:`estimator`: 1-D, or ``(n,
        K)`` probabilities."""
        if proba and self.model not in CLASSIFIERS:
            raise ValueError(f"probabilities need a classifier; this model is {self.model!r}")
        if X.shape[1] != self.n_features:
            raise ValueError(f"the model has {self.n_features} features but X has "
                             f"{X.shape[1]} columns")
        fitted = self.estimator()
        return fitted.predict_proba(X) if proba else fitted.predict(X)

    def to_json(self):
        return {"format": FORMAT, "version": VERSION, "model": self.model,
                "loss": MODELS[self.model], "n_features": self.n_features,
                "coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
                "classes": self.classes, "fit": self.info}

    def save(self, path):
        Path(os.fspath(path)).write_text(json.dumps(self.to_json(), indent=1) + "\n")


def _numbers(value, name, path):
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{path}: the model's {name} must be a list of numbers") from None
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{path}: the model's {name} must be finite")
    return a


def load_model(path):
    """Read and check a model file written by :meth:`FittedModel.save`."""
    path = Path(os.fspath(path))
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"no model file at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a model file: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a gdd-dask model file (no \"format\": \"{FORMAT}\")")
    if data.get("version") != VERSION:
        raise ValueError(f"{path} has model format version {data.get('version')!r}; "
                         f"this gdd-dask reads version {VERSION}")
    model = data.get("model")
    if model not in MODELS:
        raise ValueError(f"{path}: unknown model {model!r}; expected one of {sorted(MODELS)}")
    coef = _numbers(data.get("coef"), "coef", path)
    n_outputs = 1
    if model == "multinomial" and coef.ndim == 2:
        n_outputs = max(2, coef.shape[0])  # one row per class, at least two
    if coef.ndim != 2 or coef.shape[0] != n_outputs or coef.shape[1] < 1:
        raise ValueError(f"{path}: a {model} model's coef must be {n_outputs} row(s) of "
                         f"n_features numbers; got shape {coef.shape}")
    intercept = _numbers(data.get("intercept"), "intercept", path)
    if intercept.shape != (n_outputs,):
        raise ValueError(f"{path}: the model's intercept must have {n_outputs} value(s); "
                         f"got shape {intercept.shape}")
    classes = data.get("classes")
    if model in CLASSIFIERS:
        n = 2 if model == "logistic" else n_outputs
        if not isinstance(classes, list) or len(classes) != n or \
                not all(isinstance(c, (int, float)) and math.isfinite(c) for c in classes):
            raise ValueError(f"{path}: a {model} model needs {n} numeric classes")
    return FittedModel(model, coef, intercept, classes, dict(data.get("fit") or {}))
