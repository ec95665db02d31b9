"""Sparse X (SciPy CSR, in memory or as the chunks of a Dask array) through ``minimize``
and the estimators: the dense fit's optimum and scikit-learn's on the same CSR matrix,
the same bits in-process and on the cluster, lazy predictions."""

from __future__ import annotations

import warnings

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model
import sklearn.neural_network
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import gdd_dask
from gdd_dask import minimize


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return np.where(np.abs(X) > 0.7, X, 0.0), y.astype(float)  # about half zeros


@pytest.mark.parametrize("loss, kw", [
    ("logistic", {"solver": "lbfgs"}),
    ("logistic", {"solver": "newton"}),
    ("logistic", {"solver": "proximal", "penalty": "l1"}),
    ("squared", {}),  # auto: one QR pass, the blocks densified one at a time
    ("poisson", {}),
    ("logistic", {"solver": "sgd", "max_iter": 3, "tol": 0, "options": {"random_state": 0}}),
], ids=["lbfgs", "newton", "proximal-l1", "squared-qr", "poisson", "sgd"])
def test_sparse_x_reaches_the_dense_optimum(cancer, loss, kw):
    X, y = cancer
    target = {"squared": 2 * X[:, 0] + y, "poisson": 3 * y}.get(loss, y)
    kw = {"alpha": 1e-2, "tol": 1e-10, "chunk_rows": 100, **kw}
    dense = minimize(loss, X, target, **kw)
    ours = minimize(loss, sp.csr_matrix(X), target, **kw)
    assert ours.solver == dense.solver and ours.n_passes == dense.n_passes
    np.testing.assert_allclose(ours.x, dense.x, rtol=0, atol=1e-9)


def test_sparse_chunks_on_the_cluster_give_the_in_process_bits(cancer, client):
    X, y = cancer
    csr = sp.csr_matrix(X)
    chunks = da.from_array(csr, chunks=(100, -1), asarray=False)
    on_cluster = minimize("logistic", chunks, da.from_array(y, chunks=100), alpha=1e-2,
                          tol=1e-10, client=client)
    in_process = minimize("logistic", csr, y, alpha=1e-2, tol=1e-10, chunk_rows=100)
    np.testing.assert_array_equal(on_cluster.x, in_process.x)
    assert on_cluster.fun == in_process.fun


def test_what_sparse_input_is_not_taken_yet(cancer):
    X, y = cancer
    with pytest.raises(TypeError, match=r"y is a scipy\.csr_matrix"):
        minimize("squared", X, sp.csr_matrix(y[:, None]))
    bad = sp.csr_matrix(X)
    bad.data[5] = np.nan
    row = int(np.searchsorted(bad.indptr, 5, side="right") - 1)
    with pytest.raises(ValueError, match=rf"X has a non-finite value .* at row {row} "):
        minimize("logistic", bad, y, chunk_rows=100)


# -- the estimators ------------------------------------------------------------------
def _target(name, X, y):
    """Labels for the classifiers, counts for Poisson, a linear target otherwise."""
    if "Classifier" in name or name == "LogisticRegression":
        return y
    return 3 * y if name == "PoissonRegressor" else 2 * X[:, 0] + y


# (estimator, its parameters, scikit-learn's on the same CSR matrix, coefficient atol);
# scikit-learn's mini-batch SGD draws differently: its held-out accuracy is the reference
ESTIMATORS = [
    ("LogisticRegression", {"tol": 1e-10}, {"tol": 1e-12, "max_iter": 10_000}, 1e-6),
    ("Ridge", {}, {"solver": "sparse_cg", "tol": 1e-14, "max_iter": 10_000}, 1e-8),
    ("Lasso", {"alpha": 0.01, "tol": 1e-12}, {"alpha": 0.01, "tol": 1e-12}, 1e-8),
    ("ElasticNet", {"alpha": 0.01, "tol": 1e-12}, {"alpha": 0.01, "tol": 1e-12}, 1e-8),
    ("PoissonRegressor", {"tol": 1e-10}, {"tol": 1e-12, "max_iter": 10_000}, 1e-6),
    ("MLPClassifier", {"solver": "lbfgs", "hidden_layer_sizes": (8,), "max_iter": 25,
                       "random_state": 0}, None, 1e-8),
    ("MLPRegressor", {"solver": "lbfgs", "hidden_layer_sizes": (8,), "max_iter": 25,
                      "random_state": 0}, None, 1e-8),
    ("SGDClassifier", {"random_state": 0}, None, None),
    ("SGDRegressor", {"random_state": 0}, None, None),
]


def _params(model):
    """All fitted parameters as one vector (linear models and networks alike)."""
    parts = (model.coefs_ + model.intercepts_ if hasattr(model, "coefs_")
             else [model.coef_, model.intercept_])
    return np.concatenate([np.ravel(p) for p in parts])


def _sklearn(name):
    """scikit-learn's estimator of that name."""
    module = sklearn.neural_network if name.startswith("MLP") else sklearn.linear_model
    return getattr(module, name)


def _quiet(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit()


@pytest.mark.parametrize("name, params, reference, atol", ESTIMATORS,
                         ids=[e[0] for e in ESTIMATORS])
def test_estimators_fit_csr_as_dense_and_as_scikit_learn(cancer, name, params, reference,
                                                         atol):
    """A CSR fit is the dense fit (where the sums round alike; 1e-8 after the
    solver), and scikit-learn's fit of the same CSR
    matrix (MLPs at its settings, SGD by held-out accuracy); predictions take CSR."""
    X, y = cancer
    csr, target = sp.csr_matrix(X), _target(name, X, y)
    ours = _quiet(lambda: getattr(gdd_dask, name)(**params).fit(csr, target))
    dense = _quiet(lambda: getattr(gdd_dask, name)(**params).fit(X, target))
    np.testing.assert_allclose(_params(ours), _params(dense), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.predict(csr), dense.predict(X), rtol=1e-8, atol=1e-10)
    assert ours.score(csr, target) == pytest.approx(dense.score(X, target), rel=1e-8)
    theirs = _quiet(lambda: _sklearn(name)(**(reference or params)).fit(csr, target))
    if atol is None:  # SGD: train on 400 rows, score the other 169, as scikit-learn does
        train, test = slice(0, 400), slice(400, None)
        ours = _quiet(lambda: getattr(gdd_dask, name)(**params).fit(csr[train], target[train]))
        theirs = _quiet(lambda: _sklearn(name)(**params).fit(csr[train], target[train]))
        assert ours.score(csr[test], target[test]) >= theirs.score(csr[test], target[test]) - 0.05
    else:
        np.testing.assert_allclose(_params(ours), _params(theirs), atol=atol)
    if hasattr(ours, "predict_proba"):
        np.testing.assert_allclose(ours.predict_proba(csr), dense.predict_proba(X), atol=1e-10)


@pytest.mark.parametrize("name, params", [(e[0], e[1]) for e in ESTIMATORS],
                         ids=[e[0] for e in ESTIMATORS])
def test_estimators_fit_dask_csr_chunks_on_the_cluster(cancer, client, name, params):
    """CSR chunks on the cluster fit as the dense chunks do, and predict lazily."""
    X, y = cancer
    target = da.from_array(_target(name, X, y), chunks=200)
    params = {**params, "client": client}
    if "max_iter" not in params or "SGD" in name:  # a few epochs: the cluster is slower
        params = {**params, "max_iter": 5, "tol": None if "SGD" in name else 1e-4}
    sparse_chunks = da.from_array(sp.csr_matrix(X), chunks=(200, -1), asarray=False)
    dense_chunks = da.from_array(X, chunks=(200, -1))
    ours = _quiet(lambda: getattr(gdd_dask, name)(**params).fit(sparse_chunks, target))
    dense = _quiet(lambda: getattr(gdd_dask, name)(**params).fit(dense_chunks, target))
    np.testing.assert_allclose(_params(ours), _params(dense), rtol=1e-8, atol=1e-10)
    prediction = ours.predict(sparse_chunks)
    assert isinstance(prediction, da.Array)
    np.testing.assert_allclose(client.compute(prediction).result(),
                               dense.predict(X), rtol=1e-10, atol=1e-12)
