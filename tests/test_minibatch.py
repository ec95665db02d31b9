"""Mini-batch epochs inside the tasks: task counts, bits across workers, the three modes."""

from __future__ import annotations

import warnings
from collections import Counter

import dask.array as da
import numpy as np
import pytest
from conftest import make_cluster
from dask.utils import key_split
from distributed import Client, get_task_stream
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier as SkSGDClassifier
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.preprocessing import StandardScaler

from gdd_dask import MLPClassifier, SGDClassifier, make_objective, minimize, solve

ROWS = 100  # 6 chunks of the 569 rows


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y.astype(float)


def _dask(X, y):
    return da.from_array(X, chunks=(ROWS, -1)), da.from_array(y, chunks=ROWS)


MODES = {  # label: (solver, penalty, options)
    "chunk order, elastic net": ("sgd", "elasticnet", {"momentum": 0.9,
                                                       "learning_rate": 0.05}),
    "adam, float32": ("adam", "l2", {"learning_rate": 0.01, "dtype": "float32"}),
    "data parallel": ("adam", "l2", {"learning_rate": 0.01, "data_parallel": True}),
    "asynchronous, staleness 0": ("async", "l2", {"learning_rate": 0.05, "max_staleness": 0}),
}


def _fit(X, y, mode, **kwargs):
    solver, penalty, options = MODES[mode]
    return minimize("logistic", X, y, solver=solver, penalty=penalty, alpha=1e-2,
                    l1_ratio=0.5 if penalty == "elasticnet" else None, max_iter=3, tol=0,
                    options={"batch_size": 16, "random_state": 4, **options}, **kwargs)


def test_an_epoch_is_one_task_per_chunk_not_one_per_batch(cancer, client):
    """Six chunks of about 100 rows, batches of 10: 57 steps an epoch, at most six
    step tasks (fewer when consecutive chunks of the plan share a group)."""
    Xd, yd = _dask(*cancer)
    with get_task_stream(client=client) as stream:
        result = minimize("logistic", Xd, yd, solver="adam", max_iter=4, client=client,
                          options={"batch_size": 10, "random_state": 0,
                                   "n_iter_no_change": 100})
    counts = Counter(key_split(task["key"]) for task in stream.data)
    assert result.nit == 4 and result.state.count == 4 * 57
    assert 4 <= counts["gdd-sgd"] <= 4 * Xd.numblocks[0]
    # the objective at the start and after each epoch: a pass of one task per chunk
    assert counts["gdd-grad"] == (result.n_passes - 4) * Xd.numblocks[0]


def test_every_mode_gives_the_same_bits_in_process_and_on_one_two_or_three_workers(
        cancer, client):
    X, y = cancer
    Xd, yd = _dask(X, y)
    runs = {mode: [_fit(X, y, mode, chunk_rows=ROWS)] for mode in MODES}
    for mode in MODES:  # the shared two-worker cluster, twice
        runs[mode] += [_fit(Xd, yd, mode, client=client, cache="memory") for _ in range(2)]
    for n_workers in (1, 3):
        with make_cluster(n_workers) as cluster, Client(cluster, set_as_default=False) as c:
            for mode in MODES:
                runs[mode].append(_fit(Xd, yd, mode, client=c, cache="memory"))
    for mode, fits in runs.items():
        for fit in fits[1:]:
            assert np.array_equal(fit.x, fits[0].x), mode
            assert fit.history == fits[0].history, mode
    assert not np.array_equal(runs["adam, float32"][0].x, runs["data parallel"][0].x)


def test_asynchronous_staleness_zero_is_the_chunk_order_run(cancer, client):
    Xd, yd = _dask(*cancer)
    options = {"batch_size": 16, "random_state": 2, "learning_rate": 0.05, "momentum": 0.5}
    sync = minimize("logistic", Xd, yd, solver="sgd", max_iter=2, client=client,
                    options=options)
    lanes = minimize("logistic", Xd, yd, solver="async", max_iter=2, client=client,
                     options={**options, "max_staleness": 0})
    assert np.array_equal(sync.x, lanes.x) and sync.history == lanes.history


def test_a_data_parallel_step_over_all_rows_is_a_gradient_step(cancer, client):
    """With one batch of every row, the epoch is one step ``w - eta grad f(w)`` of the
    full gradient, whose parts come from every chunk on both workers."""
    Xd, yd = _dask(*cancer)
    with make_objective("logistic", Xd, yd, alpha=1e-2, client=client,
                        cache="memory") as objective:
        w = np.full(objective.n_params, 0.01)
        result = solve(objective, solver="sgd", x0=w, max_iter=1,
                       options={"batch_size": objective.n_samples, "learning_rate": 0.1,
                                "data_parallel": True, "random_state": 0})
        _, g = objective.value_and_grad(w)
    assert result.state.count == 1
    np.testing.assert_allclose(result.x, w - 0.1 * g, rtol=1e-12, atol=1e-15)


def test_data_parallel_steps_need_every_chunk_cached(cancer, client):
    Xd, yd = _dask(*cancer)
    with pytest.raises(ValueError, match="data_parallel"):
        minimize("logistic", Xd, yd, solver="sgd", client=client, cache="none",
                 options={"data_parallel": True})
    with pytest.raises(ValueError, match="exclude each other"):
        minimize("logistic", Xd, yd, solver="async", client=client,
                 options={"data_parallel": True, "max_staleness": 1})


def test_float32_steps_track_float64(cancer):
    X, y = cancer
    fits = [minimize("logistic", X, y, solver="adam", alpha=1e-2, max_iter=5,
                     chunk_rows=ROWS, options={"random_state": 0, "dtype": dtype,
                                               "learning_rate": 0.01})
            for dtype in ("float64", "float32")]
    assert not np.array_equal(fits[0].x, fits[1].x)
    np.testing.assert_allclose(fits[1].x, fits[0].x, rtol=1e-3, atol=1e-5)
    with pytest.raises(ValueError, match="dtype"):
        minimize("logistic", X, y, solver="adam", options={"dtype": "float16"})


def test_the_running_objective_costs_no_pass(cancer):
    """``evaluate="running"``: the epoch's mean loss at its steps' parameters, no pass
    over the data but the epochs (and none at the start); with steps too small to
    move, it is the objective itself."""
    X, y = cancer
    kwargs = {"solver": "sgd", "alpha": 1e-2, "max_iter": 4, "tol": 0, "chunk_rows": ROWS}
    options = {"random_state": 0, "learning_rate": 0.05, "n_iter_no_change": 100}
    result = minimize("logistic", X, y, options={**options, "evaluate": "running"}, **kwargs)
    exact = minimize("logistic", X, y, options=options, **kwargs)
    assert result.n_passes == 4 and exact.n_passes == 2 * 4 + 1
    assert np.array_equal(result.x, exact.x)
    still = minimize("logistic", X, y, x0=exact.x, options={
        **options, "evaluate": "running", "learning_rate": 1e-12}, **kwargs)
    with make_objective("logistic", X, y, alpha=1e-2, chunk_rows=ROWS) as objective:
        f = objective.value(exact.x)
    np.testing.assert_allclose(still.history, f, rtol=1e-9)


def _quiet(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit()


@pytest.mark.parametrize("n_iter_no_change", [1, 3])
def test_stopping_epochs_match_scikit_learn(cancer, n_iter_no_change):
    """A tolerance no epoch can beat: scikit-learn's MLP stops after ``n + 2`` epochs
    (a count above ``n``), its SGD after ``n + 1`` (a count of ``n``); so do ours."""
    X, y = cancer
    kw = {"tol": 1e3, "n_iter_no_change": n_iter_no_change, "random_state": 0}
    pairs = [(SkMLPClassifier(hidden_layer_sizes=(8,), **kw),
              MLPClassifier(hidden_layer_sizes=(8,), **kw)),
             (SkSGDClassifier(**kw), SGDClassifier(**kw))]
    for theirs, ours in pairs:
        theirs, ours = _quiet(lambda: theirs.fit(X, y)), _quiet(lambda: ours.fit(X, y))
        assert ours.n_iter_ == theirs.n_iter_
        assert len(ours.loss_curve_) == ours.n_iter_


def test_adaptive_learning_rate_divides_on_plateaus():
    """``learning_rate="adaptive"``: a fit whose loss stalls divides its rate by 5 per
    plateau until it is under 1e-6, then stops -- after as many epochs as
    scikit-learn's MLP (``solver="sgd"``) and SGD take."""
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    kw = {"tol": 1e3, "random_state": 0, "max_iter": 100, "learning_rate": "adaptive"}
    mlp = {"hidden_layer_sizes": (16,), "solver": "sgd", "learning_rate_init": 0.1,
           "n_iter_no_change": 1, **kw}
    sgd = {"eta0": 0.1, "n_iter_no_change": 2, **kw}
    for theirs, ours in ((SkMLPClassifier(**mlp), MLPClassifier(**mlp)),
                         (SkSGDClassifier(**sgd), SGDClassifier(**sgd))):
        theirs, ours = _quiet(lambda: theirs.fit(X, y)), _quiet(lambda: ours.fit(X, y))
        # 0.1 / 5**k <= 1e-6 first at k = 8: eight plateaus, then the one that stops
        assert ours._lr_scale == pytest.approx(5.0**-8)
        assert ours.n_iter_ == theirs.n_iter_ == 19
