"""CuPy chunks for real (marked ``gpu``; skipped without CuPy and a GPU).

The data stays on the GPU: only the parameters go to each chunk task and only the
partial sums come back. The parameters the solvers return are NumPy; predictions of
CuPy input are CuPy-backed Dask arrays. GPU arithmetic (other kernels, other summation
orders) agrees with NumPy's to rounding, not to the bit.
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.preprocessing import StandardScaler

import gdd_dask
from gdd_dask import minimize
from gdd_dask.datasets import make_classification, open_zarr
from gdd_dask.datasets.text import make_hashed_text

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def cupy():
    cupy = pytest.importorskip("cupy")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no GPU")
    except cupy.cuda.runtime.CUDARuntimeError as exc:
        pytest.skip(f"no usable GPU: {exc}")
    return cupy


@pytest.fixture(autouse=True)
def threads():
    with dask.config.set(scheduler="threads"):  # one process: one GPU context
        yield


def gpu(a, cupy):
    return a.map_blocks(cupy.asarray, meta=cupy.empty((0,) * a.ndim, dtype=a.dtype))


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return da.from_array(X, chunks=(100, -1)), da.from_array(y.astype(float), chunks=100)


@pytest.mark.parametrize("solver, penalty", [("lbfgs", "l2"), ("newton", "l2"), ("gd", "l2"),
                                             ("proximal", "l1"), ("sgd", "l2"),
                                             ("local", "l2")])
def test_solvers_on_cupy_chunks_agree_with_numpy(cupy, cancer, solver, penalty):
    X, y = cancer
    kw = dict(alpha=1e-2, penalty=penalty, solver=solver, max_iter=20,
              options={"random_state": 0} if solver in ("sgd", "local") else None)
    on_cpu, on_gpu = minimize("logistic", X, y, **kw), minimize("logistic", gpu(X, cupy),
                                                                gpu(y, cupy), **kw)
    assert isinstance(on_gpu.x, np.ndarray)
    np.testing.assert_allclose(on_gpu.x, on_cpu.x, rtol=1e-7, atol=1e-9)


def test_estimators_keep_x_on_the_gpu_and_predict_cupy(cupy, cancer):
    X, y = cancer
    model = gdd_dask.LogisticRegression().fit(gpu(X, cupy), gpu(y, cupy))
    reference = gdd_dask.LogisticRegression().fit(X, y)
    assert isinstance(model.coef_, np.ndarray)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-6, atol=1e-8)
    proba = model.predict_proba(gpu(X, cupy))
    assert isinstance(proba._meta, cupy.ndarray)
    assert isinstance(proba.compute(), cupy.ndarray)
    assert isinstance(model.predict(gpu(X, cupy)).compute(), cupy.ndarray)
    assert model.score(gpu(X, cupy), gpu(y, cupy)) == pytest.approx(reference.score(X, y))


def test_mlp_on_cupy_chunks(cupy):
    X, y = load_digits(return_X_y=True)
    X, y = da.from_array(X / 16.0, chunks=(450, -1)), da.from_array(y, chunks=450)
    kw = dict(hidden_layer_sizes=(32,), solver="lbfgs", max_iter=20, random_state=0)
    on_gpu = gdd_dask.MLPClassifier(**kw).fit(gpu(X, cupy), gpu(y, cupy))
    on_cpu = gdd_dask.MLPClassifier(**kw).fit(X, y)
    for a, b in zip(on_gpu.coefs_, on_cpu.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_out_of_core_streams_zarr_chunks_to_the_gpu(cupy, tmp_path):
    """cache='none': each task reads its chunk from the store and moves it to the GPU."""
    path = tmp_path / "store.zarr"
    make_classification(path, n_samples=40_000, n_features=10, chunk_rows=5_000, seed=0)
    X, y = open_zarr(path)
    streamed = minimize("logistic", gpu(X, cupy), gpu(y, cupy), cache="none", alpha=1e-3)
    in_memory = minimize("logistic", X, y, alpha=1e-3)
    np.testing.assert_allclose(streamed.x, in_memory.x, rtol=1e-7, atol=1e-9)


# -- sparse chunks on the GPU (cupyx.scipy.sparse CSR) -------------------------------
def gpu_csr(X, cupy):
    """A Dask array of SciPy CSR chunks as one of CuPy CSR chunks (each moved once)."""
    import cupyx.scipy.sparse as csp

    return X.map_blocks(csp.csr_matrix, meta=csp.csr_matrix((0, 0), dtype=X.dtype))


@pytest.fixture(scope="module")
def sparse_cancer():
    """The cancer rows standardized and thinned to about half zeros, as CSR chunks."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0))
    return da.from_array(X, chunks=(100, -1), asarray=False), da.from_array(y.astype(float),
                                                                            chunks=100)


@pytest.mark.parametrize("loss, kw", [
    ("logistic", {"solver": "lbfgs"}),
    ("logistic", {"solver": "newton"}),  # the Hessian: sparse products on the GPU
    ("logistic", {"solver": "proximal", "penalty": "l1"}),
    ("squared", {}),  # auto: QR of the densified row blocks
    ("poisson", {}),
    ("logistic", {"solver": "sgd", "max_iter": 3, "tol": 0, "options": {"random_state": 0}}),
], ids=["lbfgs", "newton", "proximal-l1", "squared-qr", "poisson", "sgd"])
def test_cupy_sparse_chunks_follow_the_scipy_path(cupy, sparse_cancer, loss, kw):
    X, y = sparse_cancer
    target = {"squared": 2 * y + 1, "poisson": 3 * y}.get(loss, y)
    kw = {"alpha": 1e-2, "tol": 1e-10, **kw}
    on_cpu = minimize(loss, X, target, **kw)
    on_gpu = minimize(loss, gpu_csr(X, cupy), gpu(target, cupy), **kw)
    assert isinstance(on_gpu.x, np.ndarray) and on_gpu.solver == on_cpu.solver
    np.testing.assert_allclose(on_gpu.x, on_cpu.x, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("make", [
    lambda: gdd_dask.LogisticRegression(C=10.0),
    lambda: gdd_dask.Ridge(alpha=1.0),
    lambda: gdd_dask.Lasso(alpha=0.01),
    lambda: gdd_dask.SGDClassifier(loss="log_loss", max_iter=3, tol=None, random_state=0),
    lambda: gdd_dask.MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30,
                                   random_state=0),
], ids=["logistic", "ridge", "lasso", "sgd", "mlp"])
def test_estimators_fit_and_predict_cupy_sparse_chunks(cupy, sparse_cancer, make):
    X, y = sparse_cancer
    on_gpu, on_cpu = make().fit(gpu_csr(X, cupy), gpu(y, cupy)), make().fit(X, y)
    predicted = on_gpu.predict(gpu_csr(X, cupy))
    assert isinstance(predicted._meta, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(predicted.compute()), on_cpu.predict(X).compute(),
                               rtol=1e-6, atol=1e-6)
    assert on_gpu.score(gpu_csr(X, cupy), gpu(y, cupy)) == pytest.approx(on_cpu.score(X, y),
                                                                         abs=1e-6)


def test_a_sparse_store_streams_to_the_gpu(cupy, tmp_path):
    """cache='none' on a hashed-text store: each task reads its CSR chunk and moves it."""
    path = tmp_path / "text.zarr"
    make_hashed_text(path, n_samples=8_000, n_features=2**16, nnz_per_row=20,
                     chunk_rows=2_000, seed=3)
    X, y = open_zarr(path)
    streamed = minimize("logistic", gpu_csr(X, cupy), gpu(y, cupy), cache="none", alpha=1e-3)
    in_memory = minimize("logistic", X, y, alpha=1e-3)
    np.testing.assert_allclose(streamed.x, in_memory.x, rtol=1e-7, atol=1e-9)


def test_a_non_finite_stored_value_on_the_gpu_is_named_by_row(cupy, sparse_cancer):
    X, y = sparse_cancer
    bad = X.compute().tolil()
    bad[321, 4] = np.nan
    bad = da.from_array(bad.tocsr(), chunks=(100, -1), asarray=False)
    with pytest.raises(ValueError, match=r"X has a non-finite value .* at row 321 \(chunk 3\)"):
        minimize("logistic", gpu_csr(bad, cupy), gpu(y, cupy), alpha=1e-2)
