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
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.preprocessing import StandardScaler

import gdd_dask
from gdd_dask import minimize
from gdd_dask.datasets import make_classification, open_zarr

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
