"""Newton on ill-conditioned problems: exact, or a status that says why not.

Reference: statsmodels' binomial GLM on its star98 data (20 unscaled columns up to 7e4
and an intercept: a positive-definite Hessian of condition number about 1e14).
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning
from statsmodels.datasets import longley, star98

import gdd_dask
from gdd_dask import minimize
from gdd_dask.solvers.newton import newton_direction


@pytest.fixture(scope="module")
def star():
    data = star98.load()
    X, counts = np.asarray(data.exog, dtype=float), np.asarray(data.endog, dtype=float)
    ref = sm.GLM(counts, sm.add_constant(X, prepend=False),
                 family=sm.families.Binomial()).fit(tol=1e-13)
    # successes and failures as two weighted rows each: the same likelihood
    ones = counts[:, 0]
    rows = (np.vstack([X, X]), np.r_[np.ones(len(X)), np.zeros(len(X))],
            np.r_[ones, counts.sum(axis=1) - ones])
    return rows, np.asarray(ref.params)


def test_newton_reaches_statsmodels_binomial_glm_on_star98(star):
    (X, y, weight), params = star
    result = minimize("logistic", X, y, sample_weight=weight, penalty=None, solver="newton",
                      tol=1e-9, max_iter=200)
    assert result.status == 0 and result.nit < 20
    assert np.max(np.abs(result.jac)) <= 1e-9
    assert np.max(np.abs(result.x - params) / np.abs(params)) < 5e-10


def test_newton_direction_keeps_flat_directions_and_skips_singular_ones():
    rng = np.random.default_rng(0)
    Q = linalg.qr(rng.normal(size=(5, 5)))[0]
    scales = np.array([1.0, 1e2, 1e4, 1e-3, 7e4])
    H = (Q * np.array([1, 1e-2, 1e-4, 1e-6, 1e-8])) @ Q.T
    H = H * scales[:, None] * scales[None, :]  # positive definite, condition about 1e21
    g = rng.normal(size=5) * scales
    d = newton_direction(H, g)  # every direction kept (the old cut-off dropped some)
    assert np.allclose((H @ d + g) / scales, 0, atol=1e-6 * np.abs(g / scales).max())
    S = np.ones((3, 3))  # singular: only the direction (1, 1, 1) curves
    d = newton_direction(S, np.array([3.0, 3.0, 3.0]))
    assert np.allclose(d, [-1.0, -1.0, -1.0])  # the minimum-norm step


def test_no_converged_status_above_tol():
    data = longley.load()
    X, y = np.asarray(data.exog, dtype=float), np.asarray(data.endog, dtype=float)
    for solver in ("newton", "lbfgs", "gd"):
        result = minimize("squared", X, y, solver=solver, tol=1e-6, max_iter=300)
        assert result.status != 0 or np.max(np.abs(result.jac)) <= 1e-6, solver
    # Newton on the normal equations of Longley reaches working precision, says so
    result = minimize("squared", X, y, solver="newton", tol=1e-6, max_iter=1000)
    assert result.status == 5 and result.nit < 50 and "working precision" in result.message
    with pytest.warns(ConvergenceWarning, match="stalled at working precision"):
        gdd_dask.LinearRegression(solver="newton", tol=1e-6).fit(X, y)


def test_margins_of_a_thousand_stay_finite_and_exact():
    """Stable sigmoid and log-sigmoid everywhere: the losses' sums, the Hessian
    ``e/(1+e)^2`` and every classifier's ``predict_log_proba``."""
    from gdd_dask.losses import LogisticLoss

    raw = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    loss = LogisticLoss()
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        h = loss.hessian(None, raw, np)
        assert h[1] == pytest.approx(np.exp(-40.0), rel=1e-12) and h[0] == 0.0
        assert loss.loss(np.ones(5), raw, np)[3] == pytest.approx(np.exp(-40.0), rel=1e-12)
    X = np.array([[-1.0], [1.0]] * 10)
    y = np.array([0, 1] * 10)
    far = np.array([[-1000.0], [1000.0], [-50.0]])
    models = [gdd_dask.LogisticRegression(C=1e6).fit(X, y),
              gdd_dask.SGDClassifier(loss="log_loss", random_state=0, max_iter=5).fit(X, y),
              gdd_dask.MLPClassifier(hidden_layer_sizes=(3,), random_state=0,
                                     max_iter=5).fit(X, y)]
    for model in models:
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            log_proba = model.predict_log_proba(far * 1e3)
            proba = model.predict_proba(far * 1e3)
        assert np.all(np.isfinite(log_proba)), type(model).__name__
        assert np.allclose(np.exp(log_proba), proba, rtol=1e-12, atol=0)
