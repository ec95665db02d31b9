"""Namespace discipline without a GPU: whole fits on Dask arrays whose chunks are
``array_api_strict`` arrays (a strict stand-in for CuPy: no NumPy functions, no
implicit conversion) give the NumPy chunks' results bit for bit."""

from __future__ import annotations

import array_api_strict as xps
import dask
import dask.array as da
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import StandardScaler

import gdd_dask
from gdd_dask import minimize


def strict(a):
    """The same Dask array with array-api-strict chunks."""
    meta = xps.asarray(np.empty((0,) * a.ndim, dtype=a.dtype))
    return a.map_blocks(xps.asarray, meta=meta)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return da.from_array(X, chunks=(100, -1)), da.from_array(y.astype(float), chunks=100)


SOLVERS = {"lbfgs": ("l2", {}), "newton": ("l2", {}), "gd": ("l2", {}),
           "proximal": ("l1", {}), "sgd": ("l2", {"random_state": 0}),
           "adam": ("l1", {"random_state": 0}), "local": ("l2", {"random_state": 0}),
           "async": ("l2", {"random_state": 0, "max_staleness": 0})}


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_every_solver_on_strict_chunks_equals_numpy(cancer, solver):
    X, y = cancer
    penalty, options = SOLVERS[solver]
    kw = dict(alpha=1e-2, penalty=penalty, solver=solver, options=options, max_iter=10)
    with dask.config.set(scheduler="synchronous"):
        ours, theirs = minimize("logistic", X, y, **kw), minimize("logistic", strict(X),
                                                                 strict(y), **kw)
    np.testing.assert_array_equal(theirs.x, ours.x)
    assert theirs.history == ours.history


def test_strict_chunks_on_the_cluster(cancer, client):
    """The chunks are made, cached and reduced on the workers in their namespace."""
    X, y = cancer
    ours = minimize("logistic", X, y, alpha=1e-2, client=client, tol=1e-10)
    theirs = minimize("logistic", strict(X), strict(y), alpha=1e-2, client=client, tol=1e-10)
    np.testing.assert_array_equal(theirs.x, ours.x)


ESTIMATORS = {
    "LogisticRegression": lambda: gdd_dask.LogisticRegression(),
    "LogisticRegression-balanced": lambda: gdd_dask.LogisticRegression(class_weight="balanced"),
    "SGDClassifier": lambda: gdd_dask.SGDClassifier(loss="log_loss", max_iter=5, random_state=0),
    "MLPClassifier": lambda: gdd_dask.MLPClassifier(hidden_layer_sizes=(8,), max_iter=5,
                                                    random_state=0),
    "Ridge": lambda: gdd_dask.Ridge(),
    "MLPRegressor": lambda: gdd_dask.MLPRegressor(hidden_layer_sizes=(8,), max_iter=5,
                                                  random_state=0),
}


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimators_fit_strict_chunks_to_the_numpy_model(cancer, name):
    if name.startswith(("Ridge", "MLPRegressor")):
        X, y = load_diabetes(return_X_y=True)
        X, y = da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)
    else:
        X, y = cancer
    with dask.config.set(scheduler="synchronous"):
        ours = ESTIMATORS[name]().fit(X, y)
        theirs = ESTIMATORS[name]().fit(strict(X), strict(y))
    for attribute in ("coef_", "intercept_", "coefs_", "intercepts_", "classes_"):
        if hasattr(ours, attribute):
            mine, strict_ones = getattr(ours, attribute), getattr(theirs, attribute)
            pairs = zip(mine, strict_ones) if isinstance(mine, list) else [(mine, strict_ones)]
            for a, b in pairs:
                np.testing.assert_array_equal(b, a)
