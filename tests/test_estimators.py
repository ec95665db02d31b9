"""The scikit-learn estimators: same hyperparameters give scikit-learn's model, on NumPy,
Dask (local scheduler and a real LocalCluster), Dask DataFrames and Zarr input."""

from __future__ import annotations

import pickle
import warnings
from functools import cache

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import zarr
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import linear_model as sk
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight

from gdd_dask import SOLVERS, minimize, register_solver
from gdd_dask.data import is_dask
from gdd_dask.estimators import (
    Lasso,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
)
from gdd_dask.estimators.labels import class_weights, encode_labels
from gdd_dask.solvers import STOCHASTIC, lbfgs

TIGHT = {"tol": 1e-10, "max_iter": 1000}


# -- data -------------------------------------------------------------------------
@cache
def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@cache
def wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@cache
def diabetes():
    return load_diabetes(return_X_y=True)


@cache
def poisson_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    y = rng.poisson(np.exp(X @ np.array([0.3, -0.2, 0.1, 0.0, 0.5]) + 0.5)).astype(float)
    return X, y


@cache
def imbalanced():
    return make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3,
                               weights=[0.7, 0.2, 0.1], random_state=0)


def as_kind(kind, *arrays, n_chunks=4):
    """The arrays as given ("numpy") or as Dask arrays of ``n_chunks`` row chunks."""
    if kind == "numpy":
        return arrays
    rows = -(-len(arrays[0]) // n_chunks)
    return tuple(da.from_array(a, chunks=(rows,) + (-1,) * (a.ndim - 1)) for a in arrays)


def assert_same_model(ours, ref, rtol=1e-4):
    """coef_ and intercept_ equal to ``rtol`` relative to the largest coefficient."""
    scale = np.max(np.abs(ref.coef_))
    assert_allclose(ours.coef_, ref.coef_, rtol=rtol, atol=rtol * scale)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=rtol, atol=rtol * scale)


def fitted_attributes_are_plain(estimator):
    """No fitted attribute holds a Dask collection or a client."""
    for name, value in vars(estimator).items():
        if name.endswith("_"):
            assert not is_dask(value), name
            assert "distributed" not in type(value).__module__, name


# -- same hyperparameters, same model -------------------------------------------------
@pytest.mark.parametrize("kind", ["numpy", "dask"])
@pytest.mark.parametrize("C", [1.0, 0.05])
def test_logistic_binary_matches_sklearn(kind, C):
    X, y = breast_cancer()
    ref = sk.LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12).fit(X, y)
    ours = LogisticRegression(C=C, **TIGHT).fit(*as_kind(kind, X, y))
    assert ours.coef_.shape == (1, X.shape[1]) and ours.intercept_.shape == (1,)
    assert_same_model(ours, ref)
    assert_array_equal(ours.classes_, [0, 1])
    assert_allclose(ours.predict_log_proba(X), ref.predict_log_proba(X), atol=1e-5)
    assert np.all(np.isfinite(ours.predict_log_proba(1e3 * X)))
    fitted_attributes_are_plain(ours)


@pytest.mark.parametrize("kind", ["numpy", "dask"])
def test_logistic_multinomial_matches_sklearn_coef_and_intercept(kind):
    X, y = wine()
    ref = sk.LogisticRegression(C=0.5, solver="newton-cholesky", tol=1e-12).fit(X, y)
    ours = LogisticRegression(C=0.5, **TIGHT).fit(*as_kind(kind, X, y))
    assert ours.coef_.shape == (3, X.shape[1]) and ours.intercept_.shape == (3,)
    assert_same_model(ours, ref)
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)


# (cd and qr are for least squares: tests/test_l1.py, tests/test_least_squares.py)
@pytest.mark.parametrize("solver", sorted(set(SOLVERS) - STOCHASTIC - {"cd", "qr"}) + ["auto"])
@pytest.mark.parametrize("data", [breast_cancer, wine], ids=["binary", "multinomial"])
def test_every_full_batch_solver_gives_sklearns_model(solver, data):
    X, y = data()
    ref = sk.LogisticRegression(C=0.5, solver="newton-cholesky", tol=1e-12).fit(X, y)
    ours = LogisticRegression(C=0.5, solver=solver, tol=1e-8, max_iter=1000).fit(X, y)
    assert_same_model(ours, ref)


def test_logistic_without_penalty_matches_sklearn():
    X, y = make_classification(n_samples=400, n_features=5, n_classes=3, n_informative=3,
                               flip_y=0.2, random_state=1)
    ref = sk.LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12).fit(X, y)
    ours = LogisticRegression(penalty=None, **TIGHT).fit(X, y)
    assert_same_model(ours, ref)


def test_logistic_defaults_match_sklearn_defaults():
    for X, y in (breast_cancer(), wine()):
        ref = sk.LogisticRegression().fit(X, y)
        ours = LogisticRegression().fit(X, y)
        assert_same_model(ours, ref)
        assert_array_equal(ours.n_iter_, ref.n_iter_)


@pytest.mark.parametrize("kind", ["numpy", "dask"])
@pytest.mark.parametrize("ours, ref", [
    (LinearRegression(), sk.LinearRegression()),
    (Ridge(alpha=0.5), sk.Ridge(alpha=0.5)),
    (Ridge(alpha=3.0, solver="lbfgs", tol=1e-10), sk.Ridge(alpha=3.0)),
], ids=["linear", "ridge-auto", "ridge-lbfgs"])
def test_least_squares_match_sklearn(kind, ours, ref):
    X, y = diabetes()
    ref = clone(ref).fit(X, y)
    ours = clone(ours).fit(*as_kind(kind, X, y))
    assert ours.coef_.shape == (X.shape[1],) and isinstance(ours.intercept_, float)
    assert_same_model(ours, ref)
    score = ours.score(*as_kind(kind, X, y))
    assert isinstance(score, float)
    assert score == pytest.approx(ref.score(X, y), abs=1e-8)


@pytest.mark.parametrize("kind", ["numpy", "dask"])
def test_poisson_matches_sklearn(kind):
    X, y = poisson_data()
    ref = sk.PoissonRegressor(alpha=0.05, solver="newton-cholesky", tol=1e-12).fit(X, y)
    ours = PoissonRegressor(alpha=0.05, **TIGHT).fit(*as_kind(kind, X, y))
    assert_same_model(ours, ref)
    score = ours.score(*as_kind(kind, X, y))
    assert isinstance(score, float)
    assert score == pytest.approx(ref.score(X, y), abs=1e-8)  # D^2, as scikit-learn
    assert PoissonRegressor().fit(X, y).coef_ == pytest.approx(
        sk.PoissonRegressor().fit(X, y).coef_, rel=1e-4, abs=1e-5)


# -- weights -----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["numpy", "dask"])
@pytest.mark.parametrize("make, data", [
    (lambda: LogisticRegression(C=0.5, **TIGHT), wine),
    (lambda: Ridge(alpha=2.0), diabetes),
    (lambda: PoissonRegressor(alpha=0.1, **TIGHT), poisson_data),
], ids=["logistic", "ridge", "poisson"])
def test_integer_sample_weight_equals_repeating_rows(kind, make, data):
    X, y = data()
    weights = np.random.default_rng(3).integers(0, 4, size=len(y))
    repeated = make().fit(np.repeat(X, weights, axis=0), np.repeat(y, weights))
    weighted = make().fit(*as_kind(kind, X, y, weights))
    assert_same_model(weighted, repeated, rtol=1e-6)


def test_class_weight_balanced_and_dict_match_sklearn():
    X, y = imbalanced()
    sw = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    for class_weight in ("balanced", {0: 0.5, 2: 3.0}):
        ref = sk.LogisticRegression(class_weight=class_weight, solver="newton-cholesky",
                                    tol=1e-12).fit(X, y, sample_weight=sw)
        ours = LogisticRegression(class_weight=class_weight, **TIGHT).fit(X, y, sample_weight=sw)
        assert_same_model(ours, ref)


def test_class_weights_on_dask_labels_equal_sklearn():
    X, y = imbalanced()
    labels = np.array(["low", "mid", "high"], dtype=object)[y]
    sw = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    (yd, swd) = as_kind("dask", labels, sw)
    classes, codes = encode_labels(yd)
    assert is_dask(codes)
    assert_array_equal(classes, ["high", "low", "mid"])
    assert_array_equal(codes.compute(), np.searchsorted(classes, labels))
    expected = compute_class_weight("balanced", classes=classes, y=labels, sample_weight=sw)
    assert_allclose(class_weights("balanced", classes, codes, swd), expected, rtol=1e-12)
    ours = LogisticRegression(class_weight="balanced", **TIGHT).fit(*as_kind("dask", X), yd)
    ref = sk.LogisticRegression(class_weight="balanced", solver="newton-cholesky",
                                tol=1e-12).fit(X, labels)
    assert_same_model(ours, ref)


def test_class_weight_dict_with_unknown_class_fails():
    X, y = imbalanced()
    with pytest.raises(ValueError, match="not in class_weight"):
        LogisticRegression(class_weight={0: 1.0, 7: 2.0}).fit(X, y)


# -- scikit-learn tooling ------------------------------------------------------------
def test_grid_search_over_C_picks_sklearns_C():
    X, y = breast_cancer()
    grid = {"C": [0.001, 0.01, 0.1, 1.0, 10.0]}
    ours = GridSearchCV(LogisticRegression(), grid, cv=4).fit(X, y)
    ref = GridSearchCV(sk.LogisticRegression(), grid, cv=4).fit(X, y)
    assert ours.best_params_ == ref.best_params_
    assert_allclose(ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"],
                    atol=1e-3)


def test_pipeline_with_scaler_and_cross_val_score():
    X, y = load_breast_cancer(return_X_y=True)
    ours = make_pipeline(StandardScaler(), LogisticRegression(C=0.3)).fit(X, y)
    ref = make_pipeline(StandardScaler(), sk.LogisticRegression(C=0.3)).fit(X, y)
    assert_same_model(ours[-1], ref[-1])
    Xd, yd = diabetes()
    assert_allclose(cross_val_score(Ridge(alpha=0.3), Xd, yd, cv=3),
                    cross_val_score(sk.Ridge(alpha=0.3), Xd, yd, cv=3), rtol=1e-8)


def test_pickle_clone_and_html_repr():
    X, y = wine()
    model = LogisticRegression(C=0.2).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    fresh = clone(model)
    assert fresh.get_params() == model.get_params() and not hasattr(fresh, "coef_")
    html = model._repr_html_()
    assert "LogisticRegression" in html and "0.2" in html


def test_clone_shares_the_client(client):
    model = Ridge(client=client)
    assert clone(model).client is client


def test_pandas_input_sets_feature_names():
    X, y = diabetes()
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    model = LinearRegression().fit(df, y)
    assert_array_equal(model.feature_names_in_, df.columns)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(df[df.columns[::-1]])


# -- Dask end to end ---------------------------------------------------------------
def test_dask_end_to_end_on_cluster(client):
    X, y = breast_cancer()
    Xd, yd = as_kind("dask", X, y)
    model = LogisticRegression(client=client, tol=1e-6).fit(Xd, yd)
    local = LogisticRegression(tol=1e-6).fit(X, y)
    assert_same_model(model, local, rtol=1e-8)
    fitted_attributes_are_plain(model)
    pred, proba, raw = model.predict(Xd), model.predict_proba(Xd), model.decision_function(Xd)
    assert all(isinstance(a, da.Array) for a in (pred, proba, raw))
    assert pred.name.startswith("gdd-predict") and proba.shape == (len(y), 2)
    assert pred.chunks == (Xd.chunks[0],)
    assert_array_equal(client.compute(pred, sync=True), local.predict(X))
    assert_allclose(client.compute(proba, sync=True), local.predict_proba(X), atol=1e-12)
    score = model.score(Xd, yd)
    assert isinstance(score, float) and score == pytest.approx(local.score(X, y), abs=1e-12)
    assert isinstance(model.predict(X), np.ndarray)  # in-memory input stays in memory


def test_dask_dataframe_with_string_labels_and_unknown_partitions(client):
    dd = pytest.importorskip("dask.dataframe")
    X, y = wine()
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    df["cultivar"] = np.array(["barolo", "grignolino", "barbera"], dtype=object)[y]
    ddf = dd.from_pandas(df, npartitions=3)
    features = ddf.drop(columns="cultivar")
    assert np.isnan(features.to_dask_array().chunks[0][0])  # partition sizes unknown
    model = LogisticRegression(client=client, C=0.5, **TIGHT).fit(features, ddf["cultivar"])
    local = LogisticRegression(C=0.5, **TIGHT).fit(df.drop(columns="cultivar"), df["cultivar"])
    assert_array_equal(model.classes_, ["barbera", "barolo", "grignolino"])
    assert_array_equal(model.feature_names_in_, df.columns[:-1])
    assert_same_model(model, local, rtol=1e-8)
    labels = model.predict(features)
    assert isinstance(labels, da.Array)
    assert_array_equal(client.compute(labels, sync=True), df["cultivar"].to_numpy())
    assert model.score(features, ddf["cultivar"]) == 1.0


def test_dask_dataframe_of_float_int_and_bool_columns(client):
    """Mixed numeric columns (what dask-ml's DummyEncoder gives) become float per
    partition: the fit equals the pandas one, and score warns of nothing."""
    dd = pytest.importorskip("dask.dataframe")
    X, y = breast_cancer()
    df = pd.DataFrame(X[:, :6], columns=[f"f{i}" for i in range(6)])
    df["count"] = (X[:, 6] * 3).round().astype(np.int64)
    df["flag"] = X[:, 7] > np.median(X[:, 7])
    df["small"] = (X[:, 8] * 10).astype(np.int8)
    ddf = dd.from_pandas(df, npartitions=4)
    model = LogisticRegression(client=client, C=0.5, **TIGHT).fit(ddf, y)
    local = LogisticRegression(C=0.5, **TIGHT).fit(df, y)
    reference = sk.LogisticRegression(C=0.5, tol=1e-10, max_iter=10_000).fit(df, y)
    assert_allclose(local.coef_, reference.coef_, rtol=1e-5, atol=1e-7)
    assert_same_model(model, local, rtol=1e-8)
    assert_array_equal(model.feature_names_in_, df.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.score(ddf, y) == pytest.approx(local.score(df, y), abs=1e-12)


@pytest.mark.parametrize("kind", ["pandas", "dask"])
def test_dataframe_with_category_or_string_columns_names_them(kind):
    X, y = breast_cancer()
    df = pd.DataFrame(X[:, :3], columns=["a", "b", "c"])
    df["colour"] = pd.Categorical(np.where(y > 0, "red", "blue"))
    df["name"] = np.where(y > 0, "x", "y").astype(object)
    if kind == "dask":
        df = pytest.importorskip("dask.dataframe").from_pandas(df, npartitions=2)
    with pytest.raises(TypeError, match=r"not numbers: \{'colour': 'category', 'name'.*"
                                        r"DummyEncoder"):
        minimize("logistic", df, y)
    if kind == "dask":
        with pytest.raises(TypeError, match="'colour': 'category'.*OneHotEncoder"):
            LogisticRegression().fit(df, y)


def test_solver_records_what_auto_chose():
    X, y = diabetes()
    assert Lasso(alpha=0.1).fit(X, y).solver_ == "cd"  # narrow least squares: the Gram
    assert LinearRegression(solver="lbfgs").fit(X, y).solver_ == "lbfgs"
    assert LogisticRegression().fit(*breast_cancer()).solver_ in SOLVERS


def test_zarr_input(tmp_path):
    X, y = diabetes()
    zx = zarr.create_array(store=str(tmp_path / "X.zarr"), shape=X.shape, chunks=(100, 10),
                           dtype="f8")
    zy = zarr.create_array(store=str(tmp_path / "y.zarr"), shape=y.shape, chunks=(100,),
                           dtype="f8")
    zx[:], zy[:] = X, y
    model = Ridge(alpha=0.5).fit(zx, zy)
    assert_same_model(model, sk.Ridge(alpha=0.5).fit(X, y), rtol=1e-8)
    pred = model.predict(zx)
    assert isinstance(pred, da.Array)
    assert_allclose(pred.compute(), model.predict(X), rtol=1e-12)
    assert model.score(zx, zy) == pytest.approx(model.score(X, y), abs=1e-12)


def test_dask_string_labels_on_local_scheduler():
    X, y = breast_cancer()
    labels = np.where(y == 1, "benign", "malignant").astype(object)
    Xd, yd = as_kind("dask", X, labels)
    model = LogisticRegression().fit(Xd, yd)
    assert_array_equal(model.classes_, ["benign", "malignant"])
    ref = sk.LogisticRegression().fit(X, labels)
    assert_same_model(model, ref)
    assert_array_equal(model.predict(Xd).compute(), ref.predict(X))
    assert isinstance(model.score(Xd, yd), float)


def test_dask_arrays_with_unknown_chunk_sizes():
    X, y = wine()
    keep = X[:, 0] > -1.0
    Xd, yd = as_kind("dask", X, y)
    Xm, ym = Xd[da.from_array(keep, chunks=Xd.chunks[0])], yd[da.from_array(keep, chunks=yd.chunks)]
    assert np.isnan(Xm.chunks[0][0])
    model = LogisticRegression(C=0.5, **TIGHT).fit(Xm, ym)
    assert_same_model(model, LogisticRegression(C=0.5, **TIGHT).fit(X[keep], y[keep]), rtol=1e-8)
    assert model.score(Xm, ym) == pytest.approx(model.score(X[keep], y[keep]), abs=1e-12)
    log_proba = model.predict_log_proba(Xm)
    assert isinstance(log_proba, da.Array)
    assert_allclose(np.exp(log_proba.compute()), model.predict_proba(X[keep]), atol=1e-12)


# -- fitted attributes and options -------------------------------------------------
def test_convergence_warning_and_history():
    X, y = breast_cancer()
    with pytest.warns(ConvergenceWarning, match="max_iter") as record:
        model = LogisticRegression(max_iter=3).fit(X, y)
    assert record[0].filename == __file__  # points at the caller's fit
    assert_array_equal(model.n_iter_, [3])
    assert model.loss_curve_.shape == (3,)
    assert np.all(np.diff(model.loss_curve_) < 0)
    assert model.n_passes_ >= 4


def test_warm_start_continues_from_previous_fit():
    X, y = wine()
    cold = LogisticRegression(C=0.5, tol=1e-8).fit(X, y)
    warm = LogisticRegression(C=0.5, tol=1e-8, warm_start=True).fit(X, y)
    warm.fit(X, y)
    assert warm.n_iter_[0] <= 2 < cold.n_iter_[0]
    assert_same_model(warm, cold, rtol=1e-6)


def test_auto_solver_solves_least_squares_in_one_newton_step():
    X, y = diabetes()
    model = LinearRegression().fit(X, y)
    assert model.n_iter_ == 1
    assert model.n_passes_ <= 3


def test_verbose_shows_a_bar_or_prints_iterations(capsys):
    X, y = breast_cancer()
    model = LogisticRegression(verbose=1, tol=1e-3).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and f"{model.n_iter_[0]}/100" in captured.err
    LogisticRegression(verbose=2, tol=1e-3).fit(X, y)
    out = capsys.readouterr().out
    assert "LogisticRegression lbfgs: iteration 1, objective" in out
    assert "converged" in out


def test_random_state_reaches_solvers_that_take_it():
    seen = []

    def seeded_lbfgs(objective, x0, *, random_state=None, **options):
        seen.append(random_state)
        return lbfgs(objective, x0, **options)

    register_solver("seeded-lbfgs", seeded_lbfgs)
    try:
        X, y = diabetes()
        model = Ridge(solver="seeded-lbfgs", random_state=7).fit(X, y)
        assert seen == [7]
        assert_same_model(model, sk.Ridge().fit(X, y), rtol=1e-3)
        Ridge(solver=seeded_lbfgs, random_state=None).fit(X, y)  # a callable works too
        assert seen == [7, None]
    finally:
        SOLVERS.pop("seeded-lbfgs")


def test_prediction_blocks_run_on_any_array_namespace():
    """What the Dask tasks do to a block, on array_api_strict (the stand-in for CuPy)."""
    xps = pytest.importorskip("array_api_strict")
    from gdd_dask.blocks import linear_labels, linear_log_proba, linear_proba, mean_prediction
    from gdd_dask.losses import PoissonLoss

    X, y = wine()
    Xs = xps.asarray(X)
    model = LogisticRegression().fit(X, y)
    parts, loss = model._parts(), model._loss()
    assert_allclose(np.from_dlpack(linear_proba(loss, *parts, Xs)), model.predict_proba(X))
    assert_allclose(np.from_dlpack(linear_log_proba(loss, *parts, Xs)),
                    model.predict_log_proba(X))
    assert_array_equal(linear_labels(*parts, model.classes_, Xs), model.predict(X))
    poisson = PoissonRegressor().fit(*poisson_data())
    Xp = poisson_data()[0]
    out = mean_prediction(PoissonLoss(), poisson.coef_, poisson.intercept_, xps.asarray(Xp))
    assert_allclose(np.from_dlpack(out), poisson.predict(Xp))


# -- errors ------------------------------------------------------------------------
@pytest.mark.parametrize("model, error, match", [
    (LogisticRegression(C=-1.0), ValueError, "'C' parameter"),
    (Ridge(alpha="big"), TypeError, "'alpha' parameter"),
    (LogisticRegression(penalty="l3"), ValueError, "'penalty' parameter"),
    (LinearRegression(solver="nope"), ValueError, "'solver' parameter.*'nope'"),
    (LinearRegression(client="tcp://127.0.0.1:8786"), TypeError, "client"),
    (LinearRegression(split_every=1), ValueError, "'split_every' parameter"),
])
def test_bad_parameters_are_named(model, error, match):
    X, y = diabetes()
    with pytest.raises(error, match=match):
        model.fit(X, y)


def test_bad_dask_input_is_named():
    X, y = diabetes()
    Xd, yd = as_kind("dask", X, y)
    with pytest.raises(ValueError, match="X must be 2-D"):
        Ridge().fit(Xd[:, 0], yd)
    with pytest.raises(TypeError, match="X must hold real numbers"):
        Ridge().fit(Xd.astype(str), yd)
    with pytest.raises(ValueError, match="requires y to be passed"):
        Ridge().fit(Xd, None)
    with pytest.raises(ValueError, match="non-negative"):
        PoissonRegressor().fit(Xd, yd - 200)
    model = Ridge().fit(Xd, yd)
    with pytest.raises(ValueError, match="X has 9 features, but Ridge is expecting 10"):
        model.predict(Xd[:, :9])
    with pytest.raises(ValueError, match="X has 442 rows but y has 441"):
        model.score(Xd, yd[:-1])


def test_bad_labels_are_named():
    X, y = breast_cancer()
    Xd, yd = as_kind("dask", X, y)
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticRegression().fit(Xd, yd + 0.5 * (yd == 0) + 0.25)
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegression().fit(Xd, da.zeros_like(yd))
