"""Sparse X (SciPy CSR, in memory or as the chunks of a Dask array) through ``minimize``:
the dense fit's optimum, the same bits in-process and on the cluster."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

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
