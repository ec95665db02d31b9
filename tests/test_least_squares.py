"""Least squares by TSQR (solver "qr"): exact on ill-conditioned data, in one pass.

References: NIST StRD's certified Longley coefficients, scikit-learn's LinearRegression
and Ridge on load_diabetes, scipy.linalg.lstsq (minimum-norm solutions).
"""

from __future__ import annotations

import warnings
from collections import Counter

import dask.array as da
import numpy as np
import pytest
import sklearn.linear_model as sk
from conftest import make_cluster
from dask.utils import key_split
from distributed import Client, get_task_stream
from scipy import linalg
from sklearn.datasets import load_diabetes
from statsmodels.datasets import longley

import gdd_dask
from gdd_dask import engine, minimize
from gdd_dask.datasets import open_zarr, write_zarr
from gdd_dask.losses import SquaredLoss

# https://www.itl.nist.gov/div898/strd/lls/data/Longley.shtml (x1..x6, then b0)
LONGLEY_CERTIFIED = np.array([
    15.0618722713733, -0.358191792925910e-01, -2.02022980381683, -1.03322686717359,
    -0.511041056535807e-01, 1829.15146461355, -3482258.63459582])


@pytest.fixture(scope="module")
def longley_data():
    data = longley.load()
    return np.asarray(data.exog, dtype=float), np.asarray(data.endog, dtype=float)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X, y, np.random.default_rng(0).uniform(0, 2, y.size)


def correct_digits(estimate, certified):
    """NIST's log relative error, the worst over the coefficients (17 when exact)."""
    error = np.abs(estimate - certified) / np.abs(certified)
    return float(np.min(-np.log10(np.maximum(error, 1e-17))))


@pytest.mark.parametrize("kind", ["numpy", "dask", "zarr"])
def test_longley_to_twelve_digits_everywhere(longley_data, kind, client, tmp_path):
    X, y = longley_data
    if kind == "dask":
        X, y = da.from_array(X, chunks=(5, -1)), da.from_array(y, chunks=5)
    elif kind == "zarr":
        write_zarr(tmp_path / "longley.zarr", X, y, chunk_rows=5)
        X, y = open_zarr(tmp_path / "longley.zarr")
    on = {"client": client} if kind != "numpy" else {}
    result = minimize("squared", X, y, cache="none" if kind == "zarr" else "auto", **on)
    assert result.solver == "qr" and result.status == 0 and result.n_passes == 1
    assert correct_digits(result.x, LONGLEY_CERTIFIED) >= 12
    model = gdd_dask.LinearRegression(**on).fit(X, y)
    assert model.solver_ == "qr"
    assert correct_digits(np.r_[model.coef_, model.intercept_], LONGLEY_CERTIFIED) >= 12


@pytest.mark.parametrize("weighted", [False, True])
def test_diabetes_matches_sklearn_to_1e10(diabetes, weighted, client):
    X, y, sw = diabetes
    sw = sw if weighted else None
    for ours, ref in [(gdd_dask.LinearRegression(), sk.LinearRegression()),
                      (gdd_dask.Ridge(alpha=0.3), sk.Ridge(alpha=0.3)),
                      (gdd_dask.Ridge(alpha=2.0, fit_intercept=False),
                       sk.Ridge(alpha=2.0, fit_intercept=False))]:
        ref.fit(X, y, sample_weight=sw)
        for data in [(X, y), (da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100))]:
            weights = sw if sw is None or isinstance(data[0], np.ndarray) \
                else da.from_array(sw, chunks=100)
            model = ours.set_params(client=client).fit(*data, sample_weight=weights)
            scale = np.max(np.abs(ref.coef_))
            assert np.max(np.abs(model.coef_ - ref.coef_)) <= 1e-10 * scale
            assert abs(model.intercept_ - ref.intercept_) <= 1e-10 * max(1, abs(ref.intercept_))


def test_bit_identical_across_worker_counts_and_trees(diabetes, client, monkeypatch):
    X, y, sw = diabetes
    Xd, yd, swd = (da.from_array(a, chunks=(23,) + a.shape[1:]) for a in (X, y, sw))
    kwargs = {"sample_weight": swd, "alpha": 1e-3, "split_every": 3, "solver": "qr"}
    runs = [minimize("squared", X, y, **{**kwargs, "sample_weight": sw}, chunk_rows=23)]
    runs.append(minimize("squared", Xd, yd, client=client, **kwargs))
    with make_cluster(1) as cluster, Client(cluster, set_as_default=False) as one:
        runs.append(minimize("squared", Xd, yd, client=one, **kwargs))
    monkeypatch.setattr(engine, "CLIENT_TREE_BYTES", 0)  # the upper tree as tasks
    with get_task_stream(client=client) as stream:
        runs.append(minimize("squared", Xd, yd, client=client, **kwargs))
    counts = Counter(key_split(task["key"]) for task in stream.data)
    assert counts["gdd-qr"] > 1 and counts["gdd-reduce"] > 2  # a tree of merges
    for run in runs[1:]:
        assert np.array_equal(run.x, runs[0].x) and run.fun == runs[0].fun


def test_rank_deficient_gives_the_minimum_norm_solution_with_a_warning(diabetes):
    X, y, _ = diabetes
    X = np.column_stack([X, X[:, 0], 2 * X[:, 1] - X[:, 2]])
    with pytest.warns(UserWarning, match="rank deficient: rank 10 of 12 columns"):
        model = gdd_dask.LinearRegression().fit(X, y)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    expected = linalg.lstsq(Xc, yc)[0]
    assert np.allclose(model.coef_, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())
    ref = sk.LinearRegression().fit(X, y)
    assert np.allclose(model.coef_, ref.coef_, rtol=1e-9, atol=1e-9 * np.abs(expected).max())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gdd_dask.Ridge(alpha=1.0).fit(X, y)  # the ridge rows make it full rank


def test_no_intercept_and_several_outputs_equal_lstsq():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4)) * [1, 1e3, 1e-3, 10]
    Y = X @ rng.normal(size=(4, 3)) + rng.normal(size=(300, 3))
    result = minimize(SquaredLoss(n_outputs=3), X, Y, fit_intercept=False, chunk_rows=70)
    expected = linalg.lstsq(X, Y)[0]
    assert result.solver == "qr"
    assert np.allclose(result.x.reshape(4, 3), expected, rtol=1e-10, atol=0)
    # the objective and gradient reported are those of the data at the solution
    f, g = gdd_dask.make_objective(SquaredLoss(n_outputs=3), X, Y, fit_intercept=False) \
        .value_and_grad(result.x)
    assert np.isclose(result.fun, f, rtol=1e-12) and np.allclose(result.jac, g, atol=1e-9)


def test_ridge_per_output_equals_separate_fits():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 3))
    Y = X @ rng.normal(size=(3, 2)) + 1.0
    both = minimize(SquaredLoss(n_outputs=2), X, Y, alpha=0.5)
    for k in range(2):
        one = minimize("squared", X, Y[:, k], alpha=0.5)
        assert np.allclose(both.x.reshape(4, 2)[:, k], one.x, rtol=1e-12, atol=1e-14)
    ref = sk.Ridge(alpha=0.5 * 200).fit(X, Y)
    assert np.allclose(both.x.reshape(4, 2)[:3].T, ref.coef_, rtol=1e-10)


def test_qr_refuses_other_losses_and_l1_and_names_bad_rows():
    X = np.random.default_rng(5).normal(size=(50, 2))
    with pytest.raises(ValueError, match="solver 'qr' needs the squared loss"):
        minimize("logistic", X, (X[:, 0] > 0).astype(float), solver="qr")
    with pytest.raises(ValueError, match="needs a smooth objective"):
        minimize("squared", X, X[:, 0], solver="qr", penalty="l1", alpha=0.1)
    X[17, 1] = np.nan
    with pytest.raises(ValueError, match=r"X has a non-finite value .* at row 17"):
        minimize("squared", X, X[:, 0], solver="qr", chunk_rows=10)
