"""The multilayer perceptron: its gradient, and the estimators against scikit-learn."""

from __future__ import annotations

import warnings

import array_api_strict as xps
import dask.array as da
import numpy as np
import pytest
from sklearn.datasets import (
    load_digits,
    make_classification,
    make_friedman1,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler

from gdd_dask import MLPClassifier, MLPRegressor
from gdd_dask.chunk import chunk_sums
from gdd_dask.losses import LogisticLoss, MultinomialLoss, PoissonLoss, SquaredLoss
from gdd_dask.losses.mlp import ACTIVATIONS, MLPLoss

OUTPUTS = {"squared": (SquaredLoss(), lambda rng, n: rng.normal(size=n)),
           "multi-output": (SquaredLoss(3), lambda rng, n: rng.normal(size=(n, 3))),
           "multilabel": (LogisticLoss(2), lambda rng, n: rng.integers(0, 2, (n, 2)) * 1.0),
           "logistic": (LogisticLoss(), lambda rng, n: rng.integers(0, 2, n).astype(float)),
           "multinomial": (MultinomialLoss(3), lambda rng, n: rng.integers(0, 3, n).astype(float)),
           "poisson": (PoissonLoss(), lambda rng, n: rng.poisson(1.0, n).astype(float))}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, random_state=0)


def _quiet(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit()


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_gradient_matches_finite_differences(activation, output):
    """Central differences along random directions, with sample weights."""
    rng = np.random.default_rng(0)
    loss = MLPLoss((5, 4), activation, OUTPUTS[output][0])
    X, y = rng.normal(size=(40, 3)), OUTPUTS[output][1](rng, 40)
    s = rng.uniform(0.5, 2.0, 40)
    w = 0.5 * rng.normal(size=loss.n_params(3, fit_intercept=True))
    _, grad = loss.grad_sum(X, y, s, w, fit_intercept=True)
    for _ in range(3):
        d, eps = rng.normal(size=w.shape), 1e-6
        f = [loss.value_sum(X, y, s, w + t * eps * d, fit_intercept=True) for t in (1, -1)]
        assert (f[0] - f[1]) / (2 * eps) == pytest.approx(grad @ d, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_array_api_strict_equals_numpy(fit_intercept):
    """The forward and backward pass use the array namespace only."""
    rng = np.random.default_rng(1)
    loss = MLPLoss((6,), "tanh", MultinomialLoss(3))
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, 30).astype(float)
    w = rng.normal(size=loss.n_params(4, fit_intercept=fit_intercept))
    ours = chunk_sums("grad", loss, fit_intercept, 0, 0, X, y, None, w)
    strict = chunk_sums("grad", loss, fit_intercept, 0, 0, xps.asarray(X), xps.asarray(y),
                        None, w)
    for a, b in zip(ours, strict):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_lbfgs_network_equals_scikit_learn(digits):
    """Same start (scikit-learn's Glorot draw), same objective, same L-BFGS: the same
    network to rounding."""
    X, _, y, _ = digits
    kw = dict(hidden_layer_sizes=(16,), activation="tanh", solver="lbfgs", max_iter=25,
              random_state=0, alpha=1e-3)
    ref = _quiet(lambda: SkMLPClassifier(**kw).fit(X, y))
    ours = _quiet(lambda: MLPClassifier(**kw).fit(X, y))
    for a, b in zip(ref.coefs_ + ref.intercepts_, ours.coefs_ + ours.intercepts_):
        np.testing.assert_allclose(b, a, atol=1e-8)
    assert ours.n_iter_ == ref.n_iter_


def test_adam_on_digits_is_within_one_point_of_scikit_learn(digits):
    X, X_test, y, y_test = digits
    kw = dict(hidden_layer_sizes=(32,), max_iter=40, random_state=0)
    ref = _quiet(lambda: SkMLPClassifier(**kw).fit(X, y)).score(X_test, y_test)
    ours = _quiet(lambda: MLPClassifier(**kw).fit(X, y))
    assert ours.score(X_test, y_test) >= ref - 0.01
    assert ours.n_iter_ == 40 and ours.loss_curve_.shape == (40,)
    proba = ours.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(ours.classes_[proba.argmax(axis=1)], ours.predict(X_test))


def test_regressor_is_within_a_point_of_scikit_learn():
    """Friedman's nonlinear regression problem: test R^2 within 0.01 of scikit-learn's."""
    X, y = make_friedman1(n_samples=1500, noise=0.5, random_state=0)
    y = (y - y.mean()) / y.std()
    X, X_test, y, y_test = train_test_split(X, y, random_state=0)
    kw = dict(hidden_layer_sizes=(32,), max_iter=100, random_state=0, learning_rate_init=0.01)
    ref = _quiet(lambda: SkMLPRegressor(**kw).fit(X, y)).score(X_test, y_test)
    ours = _quiet(lambda: MLPRegressor(**kw).fit(X, y)).score(X_test, y_test)
    assert ours >= ref - 0.01 and ours > 0.9


def test_poisson_output_predicts_means():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0]))
    model = _quiet(lambda: MLPRegressor(loss="poisson", hidden_layer_sizes=(4,),
                                        solver="lbfgs", random_state=0).fit(X, y))
    assert np.all(model.predict(X) > 0)
    assert np.corrcoef(model.predict(X), np.exp(0.5 * X[:, 0]))[0, 1] > 0.9


@pytest.mark.parametrize("solver", ["adam", "async", "local", "lbfgs"])
def test_on_the_cluster(client, digits, solver):
    """Chunked Dask input on the 2-worker cluster: every solver trains the network;
    ``partial_fit`` exists for the mini-batch solvers only."""
    X, X_test, y, y_test = digits
    options = {"async": {"learning_rate_init": 0.02}}
    model = MLPClassifier(hidden_layer_sizes=(32,), solver=solver, max_iter=30, random_state=0,
                          client=client, **options.get(solver, {}))
    _quiet(lambda: model.fit(da.from_array(X, chunks=300), da.from_array(y, chunks=300)))
    assert model.score(X_test, y_test) > 0.85
    assert hasattr(model, "partial_fit") == (solver != "lbfgs")


def test_local_sgd_learns_as_adam_does_with_its_defaults(client):
    """``solver="local"`` with the estimator's defaults (local Adam, averaged moments,
    the learning rate scaled by the 8 chunks) is within a point of sequential Adam's
    held-out accuracy after the same 3 epochs."""
    X, y = make_classification(n_samples=12_000, n_features=20, n_informative=12,
                               random_state=0)
    Xd, yd = da.from_array(X[:10_000], chunks=(1250, -1)), da.from_array(y[:10_000], chunks=1250)
    scores = {}
    for solver in ("adam", "local"):
        model = MLPClassifier(hidden_layer_sizes=(32,), solver=solver, max_iter=3,
                              random_state=0, client=client)
        _quiet(lambda: model.fit(Xd, yd))
        scores[solver] = model.score(X[10_000:], y[10_000:])
    assert scores["adam"] > 0.85
    assert scores["local"] >= scores["adam"] - 0.01


def test_partial_fit_over_chunks_matches_fit(digits):
    """Epochs of ``partial_fit``, one chunk per call, reach the accuracy of ``fit``."""
    X, X_test, y, y_test = digits
    kw = dict(hidden_layer_sizes=(32,), random_state=0)
    fitted = _quiet(lambda: MLPClassifier(max_iter=20, **kw).fit(X, y))
    model = MLPClassifier(**kw)
    Xd, yd = da.from_array(X, chunks=450), da.from_array(y, chunks=450)
    for _ in range(20):
        for Xc, yc in zip(Xd.blocks, yd.blocks):
            model.partial_fit(Xc.compute(), yc.compute(), classes=np.arange(10))
    assert model.n_iter_ == 20 * Xd.numblocks[0] and model.t_ > 0
    assert model.score(X_test, y_test) >= fitted.score(X_test, y_test) - 0.02
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPClassifier().partial_fit(X, y)


def test_early_stopping_keeps_the_best_held_out_network(digits):
    X, _, y, _ = digits
    model = MLPClassifier(hidden_layer_sizes=(32,), early_stopping=True, n_iter_no_change=3,
                          max_iter=200, random_state=0, learning_rate_init=0.01).fit(X, y)
    assert model.n_iter_ < 200
    assert len(model.validation_scores_) == model.n_iter_
    assert model.best_validation_score_ == max(model.validation_scores_) > 0.9


def test_early_stopping_on_dask_input(client, digits):
    X, _, y, _ = digits
    model = MLPRegressor(hidden_layer_sizes=(8,), early_stopping=True, max_iter=5,
                         random_state=0, client=client)
    _quiet(lambda: model.fit(da.from_array(X, chunks=300), da.from_array(y / 9.0, chunks=300)))
    assert len(model.validation_scores_) == 5


def test_bad_parameters_are_named():
    X, y = np.ones((10, 2)), np.arange(10) % 2
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        MLPClassifier(hidden_layer_sizes=(4, 0)).fit(X, y)
    with pytest.raises(ValueError, match="solver"):
        MLPClassifier(solver="newton").fit(X, y)
    with pytest.raises(ValueError, match="activation"):
        MLPLoss((3,), "softplus", SquaredLoss())


def test_multi_output_regressor_matches_scikit_learn(client):
    """Three targets, one output each: R^2 within a point of scikit-learn's; the same
    model scores NumPy and Dask input alike."""
    X, Y = make_regression(n_samples=2000, n_features=10, n_targets=3, noise=5.0,
                           random_state=0)
    X, Y = StandardScaler().fit_transform(X), Y / Y.std(axis=0)
    kw = {"hidden_layer_sizes": (32,), "max_iter": 40, "random_state": 0}
    theirs = _quiet(lambda: SkMLPRegressor(**kw).fit(X[:1500], Y[:1500]))
    ours = _quiet(lambda: MLPRegressor(**kw).fit(X[:1500], Y[:1500]))
    assert ours.n_outputs_ == 3 and ours.predict(X[:4]).shape == (4, 3)
    assert ours.score(X[1500:], Y[1500:]) >= theirs.score(X[1500:], Y[1500:]) - 0.01
    Xd, Yd = da.from_array(X[1500:], chunks=200), da.from_array(Y[1500:], chunks=(200, 3))
    assert ours.score(Xd, Yd) == pytest.approx(ours.score(X[1500:], Y[1500:]), rel=1e-12)
    remote = _quiet(lambda: MLPRegressor(client=client, **kw).fit(
        da.from_array(X[:1500], chunks=500), da.from_array(Y[:1500], chunks=(500, 3))))
    assert remote.predict(Xd).shape == (500, 3) and remote.score(Xd, Yd) > 0.9


def test_multilabel_classifier_matches_scikit_learn(client):
    """A 0/1 column per label: one logistic output each, the indicator matrix from
    ``predict``, subset accuracy within two points of scikit-learn's."""
    X, Y = make_multilabel_classification(n_samples=2000, n_features=20, n_classes=5,
                                          random_state=0)
    X = StandardScaler().fit_transform(X)
    kw = {"hidden_layer_sizes": (32,), "max_iter": 40, "random_state": 0}
    theirs = _quiet(lambda: SkMLPClassifier(**kw).fit(X[:1500], Y[:1500]))
    ours = _quiet(lambda: MLPClassifier(**kw).fit(X[:1500], Y[:1500]))
    assert np.array_equal(ours.classes_, np.arange(5))
    labels = ours.predict(X[1500:])
    assert labels.shape == (500, 5) and set(np.unique(labels)) <= {0, 1}
    assert ours.predict_proba(X[:3]).shape == (3, 5)
    assert ours.score(X[1500:], Y[1500:]) >= theirs.score(X[1500:], Y[1500:]) - 0.02
    Xd, Yd = da.from_array(X[1500:], chunks=200), da.from_array(Y[1500:], chunks=(200, 5))
    assert ours.score(Xd, Yd) == ours.score(X[1500:], Y[1500:])
    with pytest.raises(ValueError, match="0 or 1"):
        MLPClassifier(max_iter=1).fit(X[:100], Y[:100] * 2)
