"""A learning rate so large the objective overflows: the fit stops, says so, and
returns the last finite parameters -- never NaN coefficients."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning

from gdd_dask import MLPRegressor, SGDRegressor, minimize


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X * 100.0, y


@pytest.mark.parametrize("loss, solver", [("squared", "gd"), ("squared", "sgd"),
                                          ("squared", "local"), ("poisson", "adam")])
def test_minimize_stops_with_status_4(diabetes, loss, solver):
    """Adam's steps are about ``learning_rate`` per coordinate whatever the gradient,
    so it overflows the Poisson loss (``exp``) rather than the squared one."""
    X, y = diabetes
    options = {"learning_rate": 10.0} if solver == "gd" else {"learning_rate": 10.0,
                                                              "random_state": 0}
    result = minimize(loss, X, y, solver=solver, max_iter=200, options=options)
    assert result.status == 4 and "diverged" in result.message
    assert np.all(np.isfinite(result.x)) and np.isfinite(result.fun)
    assert all(np.isfinite(result.history))


@pytest.mark.parametrize("make", [
    lambda: SGDRegressor(learning_rate="constant", eta0=10.0, random_state=0),
    lambda: MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=10.0,
                         random_state=0),
], ids=["SGDRegressor", "MLPRegressor"])
def test_estimators_warn_and_keep_finite_coefficients(diabetes, make):
    X, y = diabetes
    with pytest.warns(ConvergenceWarning, match="diverged"):
        model = make().fit(X, y)
    coefs = [model.coef_] if hasattr(model, "coef_") else model.coefs_ + model.intercepts_
    assert all(np.all(np.isfinite(c)) for c in coefs)
    assert np.all(np.isfinite(model.predict(X)))
