"""Reference problems from datasets shipped with scikit-learn, and their optima.

Each problem gives the data, the ``minimize`` arguments, and scikit-learn's solution as
our flat parameter vector (intercepts last), so the objective can be compared at both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.linear_model import LinearRegression, LogisticRegression, PoissonRegressor, Ridge
from sklearn.preprocessing import StandardScaler


@dataclass
class Problem:
    name: str
    loss: str
    X: np.ndarray
    y: np.ndarray
    alpha: float
    reference: np.ndarray
    kwargs: dict = field(default_factory=dict)


def _params(coef, intercept):
    coef = np.atleast_2d(coef)  # (K, d) as scikit-learn stores it
    return np.concatenate([coef.T.ravel(), np.ravel(intercept)])


def diabetes_ols():
    X, y = load_diabetes(return_X_y=True)
    ref = LinearRegression().fit(X, y)
    return Problem("diabetes-ols", "squared", X, y, 0.0, _params(ref.coef_, ref.intercept_))


def diabetes_ridge():
    X, y = load_diabetes(return_X_y=True)
    ref = Ridge(alpha=0.1).fit(X, y)
    # ||y - Xw||^2 + a||w||^2  ==  2 n * (mean of (r^2 / 2) + (a / n) / 2 ||w||^2)
    return Problem("diabetes-ridge", "squared", X, y, 0.1 / len(y),
                   _params(ref.coef_, ref.intercept_))


def breast_cancer_logistic(C=1.0):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(X, y)
    # C sum l_i + ||w||^2 / 2  ==  C n * (mean l_i + 1 / (C n) ||w||^2 / 2)
    return Problem("breast-cancer-logistic", "logistic", X, y.astype(float), 1 / (C * len(y)),
                   _params(ref.coef_, ref.intercept_))


def wine_multinomial(C=1.0):
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(X, y)
    return Problem("wine-multinomial", "multinomial", X, y.astype(float), 1 / (C * len(y)),
                   _params(ref.coef_, ref.intercept_))


def diabetes_poisson():
    """Counts drawn from a log-linear model of the diabetes features."""
    X, _ = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rng = np.random.default_rng(0)
    y = rng.poisson(np.exp(0.5 + X @ rng.normal(scale=0.2, size=X.shape[1]))).astype(float)
    ref = PoissonRegressor(alpha=0.01, tol=1e-12, max_iter=100_000).fit(X, y)
    return Problem("diabetes-poisson", "poisson", X, y, 0.01, _params(ref.coef_, ref.intercept_))


PROBLEMS = [diabetes_ols, diabetes_ridge, breast_cancer_logistic, wine_multinomial,
            diabetes_poisson]


def center_intercepts(params, problem):
    """Multinomial intercepts are defined up to a constant: subtract their mean."""
    if problem.loss != "multinomial":
        return params
    k = len(np.unique(problem.y))
    out = params.copy()
    out[-k:] -= out[-k:].mean()
    return out
