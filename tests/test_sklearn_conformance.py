"""Behaviours scikit-learn's users lean on, each checked against scikit-learn's own on
the same input: overridden settings warn, ``C=np.inf``, ``max_iter=0``, ``partial_fit``
from weights set by hand, and the limits of ``partial_fit`` and early stopping."""

from __future__ import annotations

import warnings

import dask.array as da
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import linear_model as sk
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import gdd_dask
from gdd_dask import LogisticRegression, MLPClassifier, SGDClassifier, minimize


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_l1_ratio_is_ignored_unless_elasticnet(cancer):
    X, y = cancer
    plain = LogisticRegression(penalty="l1", C=0.5, solver="proximal", tol=1e-8).fit(X, y)
    with pytest.warns(UserWarning, match="l1_ratio parameter is only used when penalty is "
                                         "'elasticnet'"):
        mixed = LogisticRegression(penalty="l1", C=0.5, l1_ratio=0.5, solver="proximal",
                                   tol=1e-8).fit(X, y)
    assert_array_equal(mixed.coef_, plain.coef_)
    with pytest.warns(UserWarning, match="l1_ratio parameter is only used"):
        sk.LogisticRegression(penalty="l1", l1_ratio=0.5, solver="saga", max_iter=5).fit(X, y)


def test_penalty_none_warns_that_it_ignores_C(cancer):
    X, y = cancer
    with pytest.warns(UserWarning, match="Setting penalty=None will ignore the C"):
        LogisticRegression(penalty=None, C=10.0, max_iter=5).fit(X[:, :3], y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        LogisticRegression(penalty=None, max_iter=50).fit(X[:, :3], y)


def test_C_inf_is_no_penalty(cancer):
    X, y = cancer
    X = X[:, :5]  # separable on all 30 columns: no finite unpenalized optimum
    inf = LogisticRegression(C=np.inf, tol=1e-10, max_iter=500).fit(X, y)
    none = LogisticRegression(penalty=None, tol=1e-10, max_iter=500).fit(X, y)
    reference = sk.LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    assert_array_equal(inf.coef_, none.coef_)
    assert_allclose(inf.coef_, reference.coef_, rtol=1e-5)


@pytest.mark.parametrize("solver", ["lbfgs", "newton", "gd", "sgd"])
def test_max_iter_zero_returns_the_start(cancer, solver):
    X, y = cancer
    x0 = np.linspace(-0.1, 0.1, X.shape[1] + 1)
    result = minimize("logistic", X, y, solver=solver, max_iter=0, x0=x0)
    assert_array_equal(result.x, x0)
    assert result.nit == 0 and result.status == 1 and not result.success
    assert result.fun == minimize("logistic", X, y, solver=solver, max_iter=0, x0=x0).fun


def test_estimator_with_max_iter_zero_keeps_zero_coefficients(cancer):
    X, y = cancer
    with pytest.warns(ConvergenceWarning):
        model = LogisticRegression(max_iter=0).fit(X, y)
    assert not model.coef_.any() and not model.intercept_.any()
    assert_array_equal(model.n_iter_, [0])


def _hand_set(model, seed, n_features, hidden=5):
    rng = np.random.default_rng(seed)
    model.coefs_ = [rng.normal(0, 0.3, (n_features, hidden)), rng.normal(0, 0.3, (hidden, 1))]
    model.intercepts_ = [np.zeros(hidden), np.zeros(1)]
    return model


def test_mlp_partial_fit_starts_from_weights_set_by_hand(cancer):
    X, y = cancer
    options = {"hidden_layer_sizes": (5,), "random_state": 0}
    one, same, other = (_hand_set(MLPClassifier(**options), seed, X.shape[1]).partial_fit(
        X, y, classes=[0, 1]) for seed in (1, 1, 2))
    drawn = MLPClassifier(**options).partial_fit(X, y, classes=[0, 1])
    for a, b in zip(one.coefs_, same.coefs_):
        assert_array_equal(a, b)
    assert not np.array_equal(one.coefs_[0], other.coefs_[0])
    assert not np.array_equal(one.coefs_[0], drawn.coefs_[0])
    assert np.isfinite(one.loss_)


def test_partial_fit_refuses_balanced_class_weights(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="class_weight 'balanced' is not supported for "
                                         "partial_fit"):
        SGDClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="class_weight 'balanced' is not supported"):
        sk.SGDClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    weights = {0: 2.0, 1: 0.5}
    assert SGDClassifier(class_weight=weights, random_state=0).partial_fit(
        X, y, classes=[0, 1]).score(X, y) > 0.8


@pytest.mark.parametrize("lazy", [False, True], ids=["numpy", "dask"])
def test_early_stopping_refuses_a_split_too_small(lazy):
    X = np.arange(6.0).reshape(3, 2)
    y = np.array([0, 1, 0])
    if lazy:
        X, y = da.from_array(X, chunks=(3, 2)), da.from_array(y, chunks=3)
    with pytest.raises(ValueError, match="each side needs at least 2"):
        gdd_dask.SGDClassifier(early_stopping=True, validation_fraction=0.3).fit(X, y)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_l2_shrink_is_clamped_as_in_scikit_learn(cancer, momentum):
    """eta * alpha = 1e4: the explicit shrink 1 - eta alpha would flip and grow the
    coefficients every step (|coef| 3e131 before); clamped at 0 as scikit-learn's, each
    step leaves only its own gradient step, and the coefficients stay small."""
    X, y = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = SGDClassifier(alpha=1e5, learning_rate="constant", eta0=0.1, max_iter=5,
                             random_state=0, solver_options={"momentum": momentum}
                             if momentum else None).fit(X, y)
        theirs = sk.SGDClassifier(alpha=1e5, learning_rate="constant", eta0=0.1,
                                  max_iter=5, random_state=0).fit(X, y)
    assert np.all(np.isfinite(ours.coef_))
    assert np.abs(ours.coef_).max() < 10 * np.abs(theirs.coef_).max() + 0.1


def test_usual_sgd_steps_are_untouched_by_the_clamp():
    from gdd_dask.penalties import L2Penalty, clamp_l2_shrink

    params, grad = np.array([1.0, -2.0, 3.0]), np.array([0.6, -1.2, 0.1])
    penalty = L2Penalty(0.5, np.array([True, True, False]))
    assert clamp_l2_shrink(penalty, 1.0, params, grad) is grad  # 1 * 0.5 <= 1
    clamped = clamp_l2_shrink(penalty, 4.0, params, grad)  # L2 term limited to w / 4
    assert_allclose(clamped, grad - np.array([0.25, 0.25, 0.0]) * params)
    assert_allclose(params - 4.0 * clamped, -4.0 * (grad - 0.5 * params * [1, 1, 0])
                    + params * [0, 0, 1])  # the shrink max(0, 1 - 4 * 0.5) = 0


FLOAT32_PAIRS = ["LinearRegression", "Ridge", "Lasso", "ElasticNet", "LogisticRegression",
                 "PoissonRegressor", "SGDClassifier", "SGDRegressor"]


@pytest.mark.parametrize("name", FLOAT32_PAIRS)
@pytest.mark.parametrize("lazy", [False, True])
def test_float32_input_keeps_the_dtypes_scikit_learn_keeps(cancer, name, lazy):
    X, y = cancer
    X32 = X[:200].astype(np.float32)
    y = y[:200]
    ours = getattr(gdd_dask, name)().fit(X32, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = getattr(sk, name)().fit(X32, y)
    assert ours.coef_.dtype == ref.coef_.dtype
    assert np.asarray(ours.intercept_).dtype == np.asarray(ref.intercept_).dtype
    Xp = da.from_array(X32, chunks=(50, -1)) if lazy else X32
    for method in ("predict", "decision_function", "predict_proba", "predict_log_proba"):
        if hasattr(ref, method) and hasattr(ours, method):
            out = getattr(ours, method)(Xp)
            assert np.asarray(out).dtype == getattr(ref, method)(X32).dtype, method


@pytest.fixture(scope="module")
def targets():
    from sklearn.datasets import make_regression

    return make_regression(n_samples=300, n_features=6, n_targets=3, noise=5.0,
                           random_state=0)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("name, params", [("LinearRegression", {}), ("Ridge", {"alpha": 3.0}),
                                          ("Lasso", {"alpha": 1.0}),
                                          ("ElasticNet", {"alpha": 1.0})])
def test_a_matrix_of_targets_fits_one_model_per_column(targets, name, params, fit_intercept):
    """Multi-target least squares: coef_ (n_targets, n_features), intercept_
    (n_targets,), 2-D predictions and the mean R^2, all as scikit-learn's."""
    X, Y = targets
    tight = {} if name == "LinearRegression" else {"tol": 1e-12}
    ref = getattr(sk, name)(fit_intercept=fit_intercept, **tight, **params).fit(X, Y)
    model = getattr(gdd_dask, name)(fit_intercept=fit_intercept, tol=1e-10, **params).fit(X, Y)
    assert model.coef_.shape == ref.coef_.shape == (3, 6)
    assert np.shape(model.intercept_) == np.shape(ref.intercept_)
    assert_allclose(model.coef_, ref.coef_, rtol=1e-8, atol=1e-8)
    assert_allclose(model.intercept_, ref.intercept_, rtol=1e-8, atol=1e-8)
    assert model.predict(X).shape == (300, 3)
    assert model.score(X, Y) == pytest.approx(ref.score(X, Y), rel=1e-10)


@pytest.mark.parametrize("name", ["LinearRegression", "Ridge", "Lasso"])
def test_a_column_of_targets_keeps_scikit_learns_shapes(targets, name):
    """A one-column y: LinearRegression keeps coef_ (1, p), the penalized ones give
    coef_ (p,); intercept_ is (1,) in all, as in scikit-learn."""
    X, Y = targets
    column = Y[:, :1]
    ref, model = getattr(sk, name)().fit(X, column), getattr(gdd_dask, name)().fit(X, column)
    assert model.coef_.shape == ref.coef_.shape
    assert np.shape(model.intercept_) == np.shape(ref.intercept_) == (1,)
    assert model.predict(X).shape == ref.predict(X).shape


def test_ridge_takes_one_alpha_per_target(targets):
    X, Y = targets
    alpha = np.array([0.1, 10.0, 1000.0])
    ref = sk.Ridge(alpha=alpha).fit(X, Y)
    for solver in ("auto", "newton"):
        model = gdd_dask.Ridge(alpha=alpha, solver=solver).fit(X, Y)
        assert_allclose(model.coef_, ref.coef_, rtol=1e-10, atol=1e-10)
        assert_allclose(model.intercept_, ref.intercept_, rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match=r"one non-negative number per target \(3\)"):
        gdd_dask.Ridge(alpha=np.array([1.0, 2.0])).fit(X, Y)


def test_a_lazy_matrix_of_targets_on_the_cluster(targets, client):
    X, Y = targets
    Xd, Yd = da.from_array(X, chunks=(100, -1)), da.from_array(Y, chunks=(100, -1))
    local = gdd_dask.Ridge(alpha=3.0).fit(X, Y)
    lazy = gdd_dask.Ridge(alpha=3.0, client=client).fit(Xd, Yd)
    assert_allclose(lazy.coef_, local.coef_, rtol=1e-12)
    prediction = lazy.predict(Xd)
    assert isinstance(prediction, da.Array) and prediction.compute().shape == (300, 3)
    assert lazy.score(Xd, Yd) == pytest.approx(local.score(X, Y), rel=1e-12)


@pytest.mark.parametrize("name, params", [("LinearRegression", {}), ("Ridge", {"alpha": 10.0}),
                                          ("Lasso", {"alpha": 0.1}),
                                          ("ElasticNet", {"alpha": 0.1})])
def test_positive_coefficients_as_scikit_learn(name, params):
    """``positive=True``: scikit-learn's constrained minimizer, by coordinate descent
    ("auto") and by projected proximal steps, for one target and for two."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 8))
    y = X @ np.array([1.5, -2, 0.5, -0.3, 0, 3, -1, 0.2]) + 0.5 + rng.normal(size=400)
    tight = {"LinearRegression": {}, "Ridge": {"solver": "lbfgs", "tol": 1e-12}}.get(
        name, {"tol": 1e-12})
    for target in (y, np.c_[y, 1 - y]):
        ref = getattr(sk, name)(positive=True, **params, **tight).fit(X, target)
        for solver in ("auto", "proximal"):
            model = getattr(gdd_dask, name)(positive=True, solver=solver, tol=1e-10,
                                            max_iter=5000, **params)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X, target)
            assert model.coef_.min() >= 0 and (model.coef_ == 0).any()
            assert_allclose(model.coef_, ref.coef_, atol=1e-7)
            assert_allclose(model.intercept_, ref.intercept_, atol=1e-7)
    with pytest.raises(ValueError, match="positive=True needs solver 'cd', 'proximal' or 'auto'"):
        getattr(gdd_dask, name)(positive=True, solver="lbfgs", **params).fit(X, y)


def test_sgd_takes_tol_none_l1_ratio_none_and_no_shuffle(cancer):
    """``tol=None`` runs ``max_iter`` epochs without a warning; ``l1_ratio=None`` is
    refused only with the elastic net; ``shuffle=False`` steps through the rows in
    order, the same bits without a ``random_state``."""
    X, y = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert SGDClassifier(tol=None, max_iter=7, random_state=0).fit(X, y).n_iter_ == 7
        SGDClassifier(l1_ratio=None, max_iter=5, random_state=0, tol=None).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio must be set when penalty is 'elasticnet'"):
        SGDClassifier(penalty="elasticnet", l1_ratio=None).fit(X, y)
    runs = [SGDClassifier(shuffle=False, max_iter=3, tol=None).fit(X, y).coef_ for _ in "ab"]
    assert_array_equal(*runs)
    shuffled = SGDClassifier(max_iter=3, tol=None, random_state=0).fit(X, y).coef_
    assert not np.array_equal(runs[0], shuffled)


def test_sgd_fit_starts_from_coef_init_and_intercept_init(cancer):
    from sklearn.datasets import load_iris

    X, y = cancer
    start = np.linspace(-1, 1, X.shape[1])
    still = dict(loss="log_loss", learning_rate="constant", eta0=1e-12, max_iter=1, tol=None,
                 random_state=0)
    model = SGDClassifier(**still).fit(X, y, coef_init=start, intercept_init=0.5)
    assert_allclose(model.coef_[0], start, atol=1e-9)
    assert_allclose(model.intercept_, [0.5], atol=1e-9)
    Xi, yi = load_iris(return_X_y=True)
    model = SGDClassifier(**still).fit(Xi, yi, coef_init=np.ones((3, 4)),
                                       intercept_init=[1.0, 2.0, 3.0])
    assert_allclose(model.coef_, np.ones((3, 4)), atol=1e-9)
    assert_allclose(model.intercept_, [1.0, 2.0, 3.0], atol=1e-9)
    with pytest.raises(ValueError, match=r"coef_init does not match dataset.*expected \(30,\)"):
        SGDClassifier().fit(X, y, coef_init=np.zeros(3))
    with pytest.raises(ValueError, match="intercept_init does not match dataset"):
        SGDClassifier().fit(Xi, yi, intercept_init=[1.0, 2.0])


@pytest.mark.parametrize("loss", ["squared_error", "huber", "epsilon_insensitive",
                                  "squared_epsilon_insensitive"])
def test_sgd_classifier_takes_the_regression_losses(cancer, loss):
    """scikit-learn's classifier takes the regression losses on labels -1, 1: so
    does this one, with the same accuracy to a point or two."""
    X, y = cancer
    options = dict(loss=loss, learning_rate="constant", eta0=0.001, max_iter=50,
                   random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = SGDClassifier(**options).fit(X, y)
        ref = sk.SGDClassifier(**options).fit(X, y)
    assert ours.score(X, y) >= ref.score(X, y) - 0.03
    assert not hasattr(ours, "predict_proba")


def test_residual_losses_on_the_margin_equal_them_on_signed_labels():
    from gdd_dask.losses.margin import REGRESSION_LOSSES, margin_loss

    rng = np.random.default_rng(0)
    y, raw = rng.integers(0, 2, 50).astype(float), rng.normal(scale=2.0, size=50)
    for name in REGRESSION_LOSSES:
        residual, margin = margin_loss(name, epsilon=0.3), margin_loss(name, epsilon=0.3,
                                                                        n_classes=2)
        signed = 2 * y - 1
        assert_allclose(margin.loss(y, raw, np), residual.loss(signed, raw, np), atol=1e-12)
        assert_allclose(margin.gradient(y, raw, np), residual.gradient(signed, raw, np),
                        atol=1e-12)


@pytest.fixture(scope="module")
def iris():
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True)


def test_mlp_single_class_as_scikit_learn(iris):
    """One class in y: scikit-learn's MLP fits it (one logistic output); so does this
    one, from the same starting network, to probabilities within 0.01 of its own
    (the batches differ)."""
    from sklearn.neural_network import MLPClassifier as SkMLP

    X, _ = iris
    y = np.array(["a"] * len(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(max_iter=20, random_state=0).fit(X, y)
        ref = SkMLP(max_iter=20, random_state=0).fit(X, y)
    assert_array_equal(ours.classes_, ref.classes_)
    assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.predict_proba(X).shape == ref.predict_proba(X).shape == (len(X), 2)
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=0.01)


def test_mlp_max_fun_inf_patience_and_best_loss_conventions(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        capped = MLPClassifier(solver="lbfgs", max_iter=200, max_fun=5, random_state=0)
        assert capped.fit(X, y).n_passes_ <= 6  # the check pass and 5 evaluations
        patient = MLPClassifier(max_iter=15, n_iter_no_change=np.inf, tol=10.0,
                                random_state=0).fit(X, y)
        assert patient.n_iter_ == 15  # no epoch gains 10, none stops the fit
        stopped = MLPClassifier(max_iter=15, early_stopping=True, random_state=0).fit(X, y)
        plain = MLPClassifier(max_iter=15, random_state=0).fit(X, y)
    assert stopped.best_loss_ is None and len(stopped.validation_scores_) == stopped.n_iter_
    assert plain.best_loss_ == min(plain.loss_curve_) and plain.validation_scores_ is None


def test_averaged_state_keeps_the_mean_of_the_iterates():
    from gdd_dask.penalties import NoPenalty
    from gdd_dask.rules import apply_step, run_rule, sgd

    rule, x = run_rule(sgd(0.5), NoPenalty(), average=1), np.array([1.0, -1.0])
    state = rule.init(x)  # averaging from the second step on
    iterates = []
    for g in ([1.0, 0.0], [0.0, 2.0], [-1.0, 1.0], [2.0, 2.0]):
        x, state = apply_step(rule, NoPenalty(), np.array(g), state, x)
        iterates.append(x)
    assert state.count == 4 and state.n == 3
    assert_allclose(state.mean, np.mean(iterates[1:], axis=0), rtol=1e-15)


def test_sgd_average_as_scikit_learn():
    """``average``: the mean of the iterates once ``average`` rows were seen, near the
    least-squares optimum where scikit-learn's is; ``solver="local"`` refuses it."""
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=2000, n_features=10, noise=10, random_state=0)
    optimum = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0][:-1]
    options = dict(learning_rate="constant", max_iter=5, tol=None, random_state=0,
                   penalty=None)
    ours = gdd_dask.SGDRegressor(eta0=0.05, batch_size=10, average=1000, **options).fit(X, y)
    plain = gdd_dask.SGDRegressor(eta0=0.05, batch_size=10, **options).fit(X, y)
    ref = sk.SGDRegressor(eta0=0.005, average=1000, **options).fit(X, y)
    error = np.abs(ours.coef_ - optimum).max()
    assert error < 0.1 and error < np.abs(plain.coef_ - optimum).max() / 5
    assert np.abs(ref.coef_ - optimum).max() < 0.1
    with pytest.raises(ValueError, match="'local' averages its models already"):
        gdd_dask.SGDRegressor(average=True, solver="local").fit(X, y)
