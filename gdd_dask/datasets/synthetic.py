"""The generative models of the synthetic problems, one generation block at a time.

Every problem draws ``X ~ N(0, 1)`` (float64, iid) and the raw prediction
:math:`r = X W + b` from true coefficients :math:`W_{jk} \\sim N(0, 1/d)` (so that each
:math:`r_k` has unit variance whatever the number of features :math:`d`), then

- ``regression``:     :math:`y = r + \\sigma \\varepsilon`, :math:`\\varepsilon \\sim N(0, 1)`;
- ``classification``: :math:`y \\sim \\text{Bernoulli}(\\text{sigmoid}(r))` for two
  classes, :math:`y \\sim \\text{Categorical}(\\text{softmax}(r))` for :math:`K > 2`
  (labels :math:`0 .. K-1`);
- ``poisson``:        :math:`y \\sim \\text{Poisson}(e^{r})`;
- ``gamma``:          :math:`y \\sim \\text{Gamma}` of shape 2 and mean :math:`e^{r}`.

The GLM kinds (:data:`GLM_KINDS`) draw their targets by their loss's ``sample``.

``y`` is float64 in every case (integer-valued for the counts and labels), as the core
losses take it. These are the models of scikit-learn's ``LinearRegression``,
``LogisticRegression``, ``PoissonRegressor`` and ``GammaRegressor``, so fits recover
``W`` and ``b``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import expit, softmax

from ..losses import GLM_LOSSES, get_loss
from .blocks import block_rng

__all__ = ["GLM_KINDS", "KINDS", "SPARSE_KINDS", "Problem", "make_problem"]

GLM_KINDS = GLM_LOSSES
"""The kinds named after their loss (``gdd_dask.losses``), whose ``sample`` draws y."""
SPARSE_KINDS = ("hashed_text",)
"""The kinds with a sparse X (:mod:`~gdd_dask.datasets.text`)."""
KINDS = ("regression", "classification", *GLM_KINDS, *SPARSE_KINDS)

MODELS = {"regression": "linear", "hashed_text": "logistic",
          **{kind: kind for kind in GLM_KINDS}}
"""The ``gdd-dask fit --model`` that matches each kind (classification: by classes)."""


class Problem(NamedTuple):
    """A synthetic problem: its kind, true parameters and how to draw a block of rows."""

    kind: str
    n_features: int
    n_classes: int
    coef: np.ndarray  # (n_outputs, n_features), as scikit-learn's coef_
    intercept: np.ndarray  # (n_outputs,)
    noise: float
    seed: int

    @property
    def model(self):
        """The model (``gdd-dask fit --model``) that this problem is made for."""
        if self.kind == "classification":
            return "logistic" if self.n_classes == 2 else "multinomial"
        return MODELS[self.kind]

    def draw(self, block, n_rows):
        """Rows of generation block ``block``: ``(X, y)`` with ``n_rows`` rows."""
        rng = block_rng(self.seed, block)
        X = rng.standard_normal((n_rows, self.n_features))
        raw = X @ self.coef.T + self.intercept
        return X, _TARGETS[self.kind](self, rng, raw)

    def attributes(self):
        """The true parameters and the model, JSON-ready."""
        out = {"kind": self.kind, "model": self.model, "n_features": self.n_features,
               "seed": self.seed, "coef": self.coef.tolist(),
               "intercept": self.intercept.tolist(), "description": _description(self.model)}
        if self.kind == "classification":
            out["n_classes"] = self.n_classes
        if self.kind == "regression":
            out["noise"] = self.noise
        return out


def _regression(problem, rng, raw):
    return raw[:, 0] + problem.noise * rng.standard_normal(raw.shape[0])


def _classification(problem, rng, raw):
    u = rng.random(raw.shape[0])
    if problem.n_classes == 2:
        return (u < expit(raw[:, 0])).astype(np.float64)
    cumulative = np.cumsum(softmax(raw, axis=1), axis=1)  # inverse-CDF draw of the class
    labels = (cumulative < u[:, None]).sum(axis=1)
    return np.minimum(labels, problem.n_classes - 1).astype(np.float64)


def _glm(problem, rng, raw):
    return get_loss(problem.kind).sample(raw[:, 0], rng)


_TARGETS = {"regression": _regression, "classification": _classification,
            **{kind: _glm for kind in GLM_KINDS}}

_DESCRIPTION = {
    "linear": "y = X @ coef.T + intercept + noise * N(0, 1), X ~ N(0, 1)",
    "logistic": "y ~ Bernoulli(sigmoid(X @ coef.T + intercept)), X ~ N(0, 1)",
    "multinomial": "y ~ Categorical(softmax(X @ coef.T + intercept)), X ~ N(0, 1)",
}


def _description(model):
    """What the store holds; a GLM's from its loss's ``distribution``."""
    if model in _DESCRIPTION:
        return _DESCRIPTION[model]
    raw = "X @ coef.T + intercept"
    return f"y ~ {get_loss(model).distribution.format(raw=raw)}, X ~ N(0, 1)"


def make_problem(kind, *, n_features, n_classes=2, intercept=0.5, noise=1.0, seed=0):
    """A :class:`Problem` whose coefficients are drawn from ``seed`` (see the module note).

    ``intercept`` is a number or one value per output; for more than two classes a
    number is the same for every class.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    n_outputs = n_classes if kind == "classification" and n_classes > 2 else 1
    coef = block_rng(seed, -1).standard_normal((n_outputs, n_features)) / np.sqrt(n_features)
    b = np.asarray(intercept, dtype=np.float64)
    if b.ndim > 1 or b.size not in (1, n_outputs) or not np.all(np.isfinite(b)):
        raise ValueError(f"intercept must be a finite number or {n_outputs} finite numbers; "
                         f"got {intercept!r}")
    return Problem(kind, n_features, n_classes if kind == "classification" else 0, coef,
                   np.broadcast_to(b, (n_outputs,)).copy(), float(noise), seed)
