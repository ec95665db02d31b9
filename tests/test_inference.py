"""gdd_dask.inference against statsmodels' OLS, Logit, MNLogit and GLM(Poisson) on the
data sets statsmodels ships (longley, spector, anes96, randhie)."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.datasets import anes96, longley, randhie, spector

import gdd_dask
from gdd_dask.datasets import open_zarr, write_zarr

TIGHT = {"tol": 1e-10, "max_iter": 1000, "solver": "newton"}


def load(dataset):
    data = dataset.load()
    return np.asarray(data.exog, dtype=float), np.asarray(data.endog, dtype=float)


def cases():
    return {
        "OLS": (longley, lambda: gdd_dask.LinearRegression(),
                lambda X, y: sm.OLS(y, X).fit()),
        "Logit": (spector, lambda: gdd_dask.LogisticRegression(penalty=None, **TIGHT),
                  lambda X, y: sm.Logit(y, X).fit(disp=0, tol=1e-12)),
        "MNLogit": (anes96, lambda: gdd_dask.LogisticRegression(penalty=None, **TIGHT),
                    lambda X, y: sm.MNLogit(y, X).fit(disp=0, method="newton", tol=1e-12)),
        "Poisson": (randhie, lambda: gdd_dask.PoissonRegressor(alpha=0, **TIGHT),
                    lambda X, y: sm.GLM(y, X, family=sm.families.Poisson()).fit(tol=1e-13)),
    }


def assert_matches(ours, ref):
    for name in ("params", "bse"):
        theirs = np.asarray(getattr(ref, name))
        assert np.max(np.abs(getattr(ours, name) - theirs) / np.abs(theirs)) < 1e-6, name
    assert ours.llf == pytest.approx(ref.llf, rel=1e-9)
    assert ours.aic == pytest.approx(ref.aic, rel=1e-9)
    assert ours.df_resid == pytest.approx(ref.df_resid)
    assert np.allclose(ours.pvalues, np.asarray(ref.pvalues), rtol=1e-5, atol=1e-12)
    assert np.allclose(ours.conf_int().reshape(-1, 2), np.asarray(ref.conf_int()).reshape(-1, 2)
                       if ours.params.ndim == 1 else _mn_conf_int(ref), rtol=1e-6)
    assert np.allclose(ours.cov_params(), np.asarray(ref.cov_params()), rtol=1e-5,
                       atol=1e-7 * np.abs(np.asarray(ref.cov_params())).max())


def _mn_conf_int(ref):
    """MNLogit's intervals (rows by class, then parameter) in our layout."""
    bounds = np.asarray(ref.conf_int()).reshape(ref.params.shape[1], ref.params.shape[0], 2)
    return bounds.transpose(1, 0, 2).reshape(-1, 2)


@pytest.mark.parametrize("name", list(cases()))
def test_matches_statsmodels_on_its_data(name):
    dataset, make, reference = cases()[name]
    X, y = load(dataset)
    model = make().fit(X, y)
    ours = gdd_dask.inference(model, X, y)
    ref = reference(sm.add_constant(X, prepend=False), y)
    assert_matches(ours, ref)
    text = ours.summary()
    assert "const" in text and "std err" in text and "<table>" in ours._repr_html_()


def test_on_the_cluster_and_streamed_from_zarr(client, tmp_path):
    for name in ("Logit", "Poisson"):
        dataset, make, reference = cases()[name]
        X, y = load(dataset)
        Xd, yd = da.from_array(X, chunks=(X.shape[0] // 3 + 1, -1)), \
            da.from_array(y, chunks=X.shape[0] // 3 + 1)
        model = make().set_params(client=client).fit(Xd, yd)
        assert_matches(gdd_dask.inference(model, Xd, yd),
                       reference(sm.add_constant(X, prepend=False), y))
    X, y = load(longley)
    write_zarr(tmp_path / "l.zarr", X, y, chunk_rows=5)
    Xz, yz = open_zarr(tmp_path / "l.zarr")
    model = gdd_dask.LinearRegression(client=client, cache="none").fit(Xz, yz)
    assert_matches(gdd_dask.inference(model, Xz, yz),
                   sm.OLS(y, sm.add_constant(X, prepend=False)).fit())


def test_integer_weights_equal_repeated_rows():
    X, y = load(spector)
    counts = np.arange(len(y)) % 3 + 1
    weighted = gdd_dask.LogisticRegression(penalty=None, **TIGHT).fit(X, y, sample_weight=counts)
    repeated = gdd_dask.LogisticRegression(penalty=None, **TIGHT).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts))
    a = gdd_dask.inference(weighted, X, y, sample_weight=counts)
    b = gdd_dask.inference(repeated, np.repeat(X, counts, axis=0), np.repeat(y, counts))
    assert a.nobs == b.nobs == counts.sum()
    assert np.allclose(a.bse, b.bse, rtol=1e-8) and a.llf == pytest.approx(b.llf, rel=1e-10)


def test_refuses_what_it_cannot_describe():
    X, y = load(spector)
    with pytest.raises(TypeError, match="inference takes LinearRegression"):
        gdd_dask.inference(gdd_dask.SGDClassifier(max_iter=2).fit(X, y), X, y)
    model = gdd_dask.LogisticRegression(penalty="l1", C=1.0, solver="auto").fit(X, y)
    with pytest.raises(ValueError, match="unpenalized or L2"):
        gdd_dask.inference(model, X, y)
    model = gdd_dask.LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        gdd_dask.inference(model, X[:, :2], y)


@pytest.mark.parametrize("name", ["OLS", "Logit", "Poisson"])
def test_hc0_sandwich_matches_statsmodels(name):
    dataset, make, _ = cases()[name]
    X, y = load(dataset)
    X1 = sm.add_constant(X, prepend=False)
    ref = {"OLS": lambda: sm.OLS(y, X1).fit(cov_type="HC0"),
           "Logit": lambda: sm.Logit(y, X1).fit(disp=0, tol=1e-12, cov_type="HC0"),
           "Poisson": lambda: sm.GLM(y, X1, family=sm.families.Poisson()).fit(
               tol=1e-13, cov_type="HC0")}[name]()
    ours = gdd_dask.inference(make().fit(X, y), X, y, cov_type="HC0")
    assert ours.cov_type == "HC0"
    theirs = np.asarray(ref.bse)
    assert np.max(np.abs(ours.bse - theirs) / theirs) < 1e-6


def test_refuses_class_weights_and_an_l1_mix():
    X, y = load(spector)
    with pytest.raises(ValueError, match="class_weight"):
        gdd_dask.inference(gdd_dask.LogisticRegression(class_weight="balanced").fit(X, y), X, y)
    mixed = gdd_dask.LogisticRegression(l1_ratio=0.5, solver="auto").fit(X, y)
    with pytest.raises(ValueError, match="unpenalized or L2"):
        gdd_dask.inference(mixed, X, y)
    pure_l2 = gdd_dask.LogisticRegression(l1_ratio=0.0, **TIGHT).fit(X, y)  # elasticnet, r=0
    assert np.all(np.isfinite(gdd_dask.inference(pure_l2, X, y).bse))
