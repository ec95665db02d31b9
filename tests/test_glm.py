"""Gamma and Tweedie regression against scikit-learn's, and the losses' deviances."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn import linear_model as sk
from sklearn.metrics import mean_tweedie_deviance

import gdd_dask
from gdd_dask.losses import GammaLoss, PoissonLoss, SquaredLoss, TweedieLoss

TIGHT = {"tol": 1e-8, "max_iter": 10_000}


@pytest.fixture(scope="module")
def data():
    """A log-linear mean; Gamma targets, and compound Poisson-Gamma ones with zeros."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 5))
    mu = np.exp(X @ np.array([0.3, -0.2, 0.1, 0.0, 0.5]) + 0.5)
    positive = rng.gamma(2.0, mu / 2.0)
    with_zeros = rng.poisson(mu) * rng.gamma(3.0, 1 / 3.0, 500)
    return X, positive, with_zeros, rng.uniform(0.5, 2.0, 500)


CASES = [("GammaRegressor", {}, "positive"),
         ("TweedieRegressor", {"power": 1.5}, "with_zeros"),
         ("TweedieRegressor", {"power": 0.0}, "positive"),
         ("TweedieRegressor", {"power": 0.0, "link": "log"}, "positive"),
         ("TweedieRegressor", {"power": 3.0}, "positive"),
         ("TweedieRegressor", {"power": -1.0, "link": "log"}, "positive")]


@pytest.mark.parametrize("name, params, target", CASES)
def test_matches_scikit_learn(data, name, params, target):
    """Coefficients, intercept and D^2 equal scikit-learn's (to 1e-6 and better), with
    and without sample weights."""
    X, positive, with_zeros, weights = data
    y = positive if target == "positive" else with_zeros
    for sample_weight in (None, weights):
        ref = getattr(sk, name)(alpha=0.1, **params, tol=1e-12, max_iter=10_000)
        ref.fit(X, y, sample_weight=sample_weight)
        ours = getattr(gdd_dask, name)(alpha=0.1, **params, **TIGHT)
        ours.fit(X, y, sample_weight=sample_weight)
        assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
        assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-6, abs=1e-8)
        assert ours.score(X, y, sample_weight) == pytest.approx(
            ref.score(X, y, sample_weight), rel=1e-8, abs=1e-10)


def test_lazy_gamma_on_the_cluster(data, client):
    X, y, _, _ = data
    Xd, yd = da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)
    local = gdd_dask.GammaRegressor(alpha=0.1).fit(X, y)
    lazy = gdd_dask.GammaRegressor(alpha=0.1, client=client).fit(Xd, yd)
    assert_allclose(lazy.coef_, local.coef_, rtol=1e-12)
    assert isinstance(lazy.predict(Xd), da.Array)
    assert lazy.score(Xd, yd) == pytest.approx(local.score(X, y), rel=1e-12)


def test_targets_out_of_range_are_refused(data):
    X, _, with_zeros, _ = data
    with pytest.raises(ValueError, match=r"y must be positive for the gamma loss; y\[\d+\]"):
        gdd_dask.GammaRegressor().fit(X, with_zeros)
    with pytest.raises(ValueError, match="non-negative for the Tweedie loss of power 1.5"):
        gdd_dask.TweedieRegressor(power=1.5).fit(X, with_zeros - 1.0)
    with pytest.raises(ValueError, match="power"):
        gdd_dask.TweedieRegressor(power=0.5).fit(X, with_zeros)
    with pytest.raises(ValueError, match="link='identity' is the normal distribution's"):
        gdd_dask.TweedieRegressor(power=1.5, link="identity").fit(X, with_zeros)


@pytest.mark.parametrize("loss, power", [(TweedieLoss(1.5), 1.5), (TweedieLoss(3.0), 3.0),
                                         (TweedieLoss(-1.0), -1.0), (GammaLoss(), 2.0),
                                         (PoissonLoss(), 1.0)])
def test_deviance_is_half_scikit_learns_and_the_loss_up_to_a_constant(data, loss, power):
    """``deviance`` is half scikit-learn's unit deviance; ``loss`` differs from it by a
    term free of the raw prediction (so they share gradients)."""
    X, positive, with_zeros, _ = data
    y = positive if power >= 2 or power < 1 else with_zeros
    raw = np.linspace(-1.0, 2.0, y.size)
    ours = loss.deviance(y, raw, np)
    assert np.mean(ours) * 2 == pytest.approx(
        mean_tweedie_deviance(y, np.exp(raw), power=power), rel=1e-10)
    assert_allclose(loss.deviance(y, raw + 0.3, np) - ours,
                    loss.loss(y, raw + 0.3, np) - loss.loss(y, raw, np), atol=1e-10)
    assert_allclose(SquaredLoss().deviance(y, raw, np), 0.5 * (y - raw) ** 2)
