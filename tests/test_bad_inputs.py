"""Bad input, through every public entry point: a clear error, fast, nothing left behind.

One table row per bad input: ``(id, argument, call, error, pattern)``. ``call(env)``
makes the call through ``gdd_dask.minimize``, an estimator or
``gdd_dask.datasets.open_zarr`` (``env`` gives the session cluster's client and a
folder for Zarr stores); it must raise ``error`` within seconds, with a message that
names ``argument`` and matches ``pattern`` (the row and chunk, where known). Rows that
run on the cluster must also leave the scheduler with the tasks it had before: a failed
fit releases everything it submitted. The command line's bad inputs (a path that is
not a store, a scheduler that does not answer) are a second table: one line on stderr,
exit code 2.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass

import dask
import dask.array as da
import numpy as np
import pytest
import zarr
from distributed import Client

import gdd_dask
from gdd_dask import minimize
from gdd_dask.cli import main
from gdd_dask.datasets import open_zarr, write_zarr

rng = np.random.default_rng(0)
X = rng.standard_normal((40, 3))
y = (X[:, 0] > 0).astype(float)
ROWS = 10  # rows per chunk of the Dask inputs: row 33 is in chunk 3
dX = da.from_array(X, chunks=(ROWS, 3))
dy = da.from_array(y, chunks=ROWS)
dw = da.ones(40, chunks=ROWS)
KEEP = da.from_array(np.arange(40) % 4 != 0, chunks=ROWS)  # a mask: unknown chunk sizes
SECONDS = 10  # every bad input is refused within this


class Env:
    """What a row's call may use: the cluster's client (started only when asked for), a
    folder for Zarr stores."""

    def __init__(self, request, tmp_path):
        self.request, self.tmp_path = request, tmp_path
        self.used_client, self.tasks_before = None, None

    @property
    def client(self):
        """The test's client of the session cluster; the scheduler's task count is
        noted when it is first asked for."""
        if self.used_client is None:
            self.used_client = self.request.getfixturevalue("client")
            self.tasks_before = scheduler_tasks(self.used_client)
        return self.used_client

    @property
    def cluster(self):
        return self.request.getfixturevalue("cluster")


@dataclass(frozen=True)
class Case:
    id: str
    argument: str
    call: object
    error: type
    pattern: str


def fit(loss="logistic", *, on_cluster=False, from_env=None, **changes):
    """``minimize(loss, X, y, **changes)``: NumPy ``X, y``, or the Dask ones on the
    cluster when ``on_cluster``; ``from_env`` maps arguments to functions of the env."""

    def call(env):
        args = {"X": dX, "y": dy, "client": env.client} if on_cluster else {"X": X, "y": y}
        args.update(changes)
        args.update({name: make(env) for name, make in (from_env or {}).items()})
        return minimize(loss, args.pop("X"), args.pop("y"), **args)

    return call


def estimator(cls, *, on_cluster=False, fit_X=None, fit_y=None, sample_weight=None,
              **params):
    """``cls(**params).fit(fit_X, fit_y, sample_weight)``, by default on ``X, y`` (NumPy),
    or the Dask ones on the cluster when ``on_cluster``."""

    def call(env):
        client = {"client": env.client} if on_cluster else {}
        default_X, default_y = (dX, dy) if on_cluster else (X, y)
        return cls(**params, **client).fit(default_X if fit_X is None else fit_X,
                                           default_y if fit_y is None else fit_y,
                                           sample_weight=sample_weight)

    return call


def with_value(a, row, value):
    """A copy of ``a`` with ``value`` at ``row`` (in column 1 for X)."""
    a = a.copy()
    if a.ndim == 2:
        a[row, 1] = value
    else:
        a[row] = value
    return a


def lazy(a):
    return da.from_array(a, chunks=(ROWS, 3) if a.ndim == 2 else ROWS)


def closed_client(env):
    client = Client(env.cluster, set_as_default=False)
    client.close()
    return client


# -- Zarr stores in the test's folder -------------------------------------------------

def store_with(env, name, **arrays):
    """A Zarr v3 group ``name`` holding ``arrays``."""
    path = env.tmp_path / name
    group = zarr.open_group(path, mode="w", zarr_format=3)
    for key, value in arrays.items():
        group.create_array(key, data=value)
    return path


def malformed(env):
    path = env.tmp_path / "malformed.zarr"
    path.mkdir()
    (path / "zarr.json").write_text('{"zarr_format": 3, "node_type": ')
    return path


def empty_folder(env):
    path = env.tmp_path / "empty.zarr"
    path.mkdir()
    return path


def plain_file(env):
    path = env.tmp_path / "plain.zarr"
    path.write_text("not a store")
    return path


def single_array(env):
    path = env.tmp_path / "array.zarr"
    zarr.create_array(path, shape=(4, 2), dtype="f8")
    return path


def nan_store(env):
    path = env.tmp_path / "nan.zarr"
    write_zarr(path, with_value(X, 33, np.nan), y, chunk_rows=ROWS)
    return path


def opened(make_path, **kwargs):
    """``open_zarr`` of the store ``make_path(env)`` makes."""
    return lambda env: open_zarr(make_path(env), **kwargs)


def fit_store(make_path, **kwargs):
    """``minimize`` over the store ``make_path(env)`` makes, streamed on the cluster."""
    return lambda env: minimize("squared", *open_zarr(make_path(env)), client=env.client,
                                **kwargs)


# -- the table ------------------------------------------------------------------------

def non_finite_cases():
    """NaN and inf in X, y and sample_weight, NumPy and Dask, on the cluster."""
    cases = []
    for where in ("X", "y", "sample_weight"):
        for value in (np.nan, np.inf):
            clean = {"X": X, "y": y, "sample_weight": np.ones(40)}[where]
            bad = with_value(clean, 33, value)
            pattern = (r"X has a non-finite value \(NaN or inf\) at row 33 \(chunk 3\)"
                       if where == "X" else
                       rf"{where} must be finite; {where}\[33\] = {value!r} \(chunk 3\)")
            inputs = {"numpy": {"X": X, "y": y, "sample_weight": np.ones(40), where: bad,
                                "chunk_rows": ROWS},  # NumPy with a client: on the cluster
                      "dask": {"X": dX, "y": dy, "sample_weight": dw, where: lazy(bad)}}
            cases += [Case(f"{where}-{value}-{kind}-cluster", where,
                           fit("squared", on_cluster=True, **changes), ValueError, pattern)
                      for kind, changes in inputs.items()]
    return cases


CASES = [
    *non_finite_cases(),
    Case("X-nan-in-process", "X", fit(X=with_value(X, 17, np.nan), chunk_rows=16), ValueError,
         r"X has a non-finite value \(NaN or inf\) at row 17 \(chunk 1\)"),
    Case("X-nan-zarr-streamed", "X", fit_store(nan_store, cache="none"), ValueError,
         r"X has a non-finite value \(NaN or inf\) at row 33 \(chunk 3\)"),
    # shapes and lengths
    Case("y-shorter", "y", fit(y=y[:30]), ValueError, r"X has 40 rows but y has 30"),
    Case("y-shorter-dask", "y", fit(on_cluster=True, y=dy[:30]), ValueError,
         r"X has 40 rows but y has 30"),
    Case("sample_weight-shorter", "sample_weight", fit(sample_weight=np.ones(39)), ValueError,
         r"X has 40 rows but sample_weight has 39"),
    Case("sample_weight-shorter-dask", "sample_weight",
         fit(on_cluster=True, sample_weight=dw[:30]), ValueError,
         r"X has 40 rows but sample_weight has 30"),
    Case("unknown-chunks-resolve-to-other-lengths", "y", fit(on_cluster=True, X=dX[KEEP]),
         ValueError, r"X has 30 rows but y has 40"),
    Case("X-1-D", "X", fit(X=X[:, 0]), ValueError, r"X must be 2-D .*got shape \(40,\)"),
    Case("X-3-D", "X", fit(X=X[None]), ValueError, r"X must be 2-D .*got shape \(1, 40, 3\)"),
    Case("X-3-D-dask", "X", fit(on_cluster=True, X=dX[None]), ValueError, r"X must be 2-D"),
    Case("X-empty", "X", fit(X=X[:0], y=y[:0]), ValueError, r"X has no rows \(0 samples\)"),
    Case("X-empty-dask", "X", fit(on_cluster=True, X=dX[:0], y=dy[:0]), ValueError,
         r"X has no rows"),
    Case("X-zero-features", "X", fit(X=X[:, :0]), ValueError, r"X has no columns \(0 features"),
    Case("X-None", "X", fit(X=None), TypeError, r"X is required; got None"),
    Case("y-None", "y", fit(y=None), TypeError, r"y is required; got None"),
    Case("y-2-D", "y", fit(y=y.reshape(20, 2)), ValueError,
         r"y must be 1-D with one value per row of X; got shape \(20, 2\)"),
    Case("sample_weight-2-D", "sample_weight", fit(sample_weight=np.ones((40, 2))), ValueError,
         r"sample_weight must be 1-D .*got shape \(40, 2\)"),
    Case("X-ragged-lists", "X", fit(X=[[1.0, 2.0], [3.0]], y=[0.0, 1.0]), TypeError,
         r"X must be array-like"),
    # dtypes
    Case("X-strings", "X", fit(X=X.astype(str)), TypeError, r"X must hold real numbers"),
    Case("X-objects", "X", fit(X=X.astype(object)), TypeError,
         r"X must hold real numbers; got dtype object"),
    Case("X-complex", "X", fit(X=X + 1j), TypeError,
         r"X must hold real numbers; got dtype complex"),
    Case("X-strings-dask", "X", fit(on_cluster=True, X=dX.astype(str)), TypeError,
         r"X must hold real numbers"),
    Case("y-strings", "y", fit(y=y.astype(str)), TypeError, r"y must hold real numbers"),
    Case("sample_weight-strings", "sample_weight", fit(sample_weight=np.array(["1"] * 40)),
         TypeError, r"sample_weight must hold real numbers"),
    # labels the loss cannot take
    Case("logistic-y-not-0-1", "y", fit(y=with_value(y, 5, 2.0)), ValueError,
         r"y must be 0 or 1 for the logistic loss; y\[5\] = 2\.0 \(chunk 0\)"),
    Case("logistic-y-not-0-1-dask", "y", fit(on_cluster=True, y=lazy(with_value(y, 33, -1.0))),
         ValueError, r"y must be 0 or 1 for the logistic loss; y\[33\] = -1\.0 \(chunk 3\)"),
    Case("poisson-negative-count", "y", fit("poisson", y=with_value(y, 5, -1.0)), ValueError,
         r"y must be non-negative for the poisson loss; y\[5\] = -1\.0"),
    Case("poisson-negative-count-dask", "y",
         fit("poisson", on_cluster=True, y=lazy(with_value(y, 33, -2.0))), ValueError,
         r"y must be non-negative for the poisson loss; y\[33\] = -2\.0 \(chunk 3\)"),
    Case("multinomial-fractional-label", "y", fit("multinomial", y=y + 0.5), ValueError,
         r"integer class labels 0\.\.K-1 .*max\(y\) = 1\.5"),
    Case("multinomial-one-class", "y", fit("multinomial", y=np.zeros(40)), ValueError,
         r"K >= 2; max\(y\) = 0\.0"),
    Case("LogisticRegression-one-class", "y",
         estimator(gdd_dask.LogisticRegression, fit_y=np.zeros(40)), ValueError,
         r"at least 2 classes in y, but y contains only one class: 0\.0"),
    Case("LogisticRegression-one-class-dask", "y",
         estimator(gdd_dask.LogisticRegression, on_cluster=True, fit_y=da.ones(40, chunks=ROWS)),
         ValueError, r"at least 2 classes in y, but y contains only one class: 1\.0"),
    Case("PoissonRegressor-negative-count", "y",
         estimator(gdd_dask.PoissonRegressor, fit_y=with_value(y, 3, -1.0)), ValueError,
         r"y must be non-negative for the poisson loss; y\[3\] = -1\.0"),
    Case("PoissonRegressor-negative-count-dask", "y",
         estimator(gdd_dask.PoissonRegressor, on_cluster=True, fit_y=lazy(with_value(y, 33, -1.0))),
         ValueError, r"y\[33\] = -1\.0 \(chunk 3\)"),
    # sample weights
    Case("sample_weight-negative", "sample_weight", fit(sample_weight=-np.ones(40)), ValueError,
         r"sample_weight must be >= 0; sample_weight\[0\] = -1\.0 \(chunk 0\)"),
    Case("sample_weight-negative-dask", "sample_weight",
         fit(on_cluster=True, sample_weight=lazy(with_value(np.ones(40), 33, -0.5))), ValueError,
         r"sample_weight must be >= 0; sample_weight\[33\] = -0\.5 \(chunk 3\)"),
    Case("sample_weight-all-zero", "sample_weight", fit(sample_weight=np.zeros(40)), ValueError,
         r"sample_weight sums to zero"),
    Case("estimator-sample_weight-negative", "sample_weight",
         estimator(gdd_dask.Ridge, sample_weight=with_value(np.ones(40), 7, -1.0)), ValueError,
         r"sample_weight must be >= 0; sample_weight\[7\] = -1\.0"),
    Case("estimator-sample_weight-shorter", "sample_weight",
         estimator(gdd_dask.LogisticRegression, sample_weight=np.ones(30)), ValueError,
         r"X has 40 rows but sample_weight has 30"),
    Case("estimator-sample_weight-2-D-dask", "sample_weight",
         estimator(gdd_dask.LogisticRegression, on_cluster=True,
                   sample_weight=da.ones((40, 2), chunks=ROWS)), ValueError,
         r"sample_weight must be 1-D"),
    # estimators' data
    Case("estimator-X-nan", "X", estimator(gdd_dask.Ridge, fit_X=with_value(X, 3, np.nan)),
         ValueError, r"Input X contains NaN"),
    Case("estimator-X-nan-dask", "X",
         estimator(gdd_dask.LogisticRegression, on_cluster=True,
                   fit_X=lazy(with_value(X, 33, np.inf))),
         ValueError, r"X has a non-finite value \(NaN or inf\) at row 33 \(chunk 3\)"),
    Case("estimator-X-3-D-dask", "X", estimator(gdd_dask.Ridge, on_cluster=True, fit_X=dX[None]),
         ValueError, r"X must be 2-D"),
    Case("estimator-X-strings-dask", "X",
         estimator(gdd_dask.Ridge, on_cluster=True, fit_X=dX.astype(str)), TypeError,
         r"X must hold real numbers"),
    Case("estimator-y-shorter-dask", "y",
         estimator(gdd_dask.LogisticRegression, on_cluster=True, fit_y=dy[:30]), ValueError,
         r"X has 40 rows but y has 30"),
    Case("estimator-unknown-chunks-other-lengths", "y",
         estimator(gdd_dask.Ridge, on_cluster=True, fit_X=dX[KEEP]), ValueError,
         r"X has 30 rows but y has 40"),
    # hyperparameters of minimize and the solvers
    Case("loss-unknown", "loss", fit("hinge"), ValueError, r"unknown loss 'hinge'"),
    Case("loss-not-a-loss", "loss", fit(object()), TypeError,
         r"loss must be a name or an object with the Loss methods"),
    Case("solver-unknown", "solver", fit(solver="adamw"), ValueError, r"unknown solver 'adamw'"),
    Case("alpha-negative", "alpha", fit(alpha=-1.0), ValueError, r"alpha must be"),
    Case("alpha-string", "alpha", fit(alpha="big"), TypeError, r"alpha must be a real number"),
    Case("penalty-unknown", "penalty", fit(penalty="l3", alpha=1.0), ValueError,
         r"unknown penalty 'l3'"),
    Case("l1_ratio-above-1", "l1_ratio", fit(penalty="elasticnet", alpha=1.0, l1_ratio=2.0),
         ValueError, r"l1_ratio must be a number in \[0, 1\]"),
    Case("tol-negative", "tol", fit(tol=-1e-3), ValueError, r"tol must be >= 0; got -0\.001"),
    Case("tol-nan", "tol", fit(tol=float("nan")), ValueError, r"tol must be >= 0; got nan"),
    Case("max_iter-negative", "max_iter", fit(max_iter=-1), ValueError,
         r"max_iter must be >= 0; got -1"),
    Case("max_iter-fractional", "max_iter", fit(max_iter=2.5), TypeError,
         r"max_iter must be an integer"),
    Case("split_every-1", "split_every", fit(split_every=1), ValueError,
         r"split_every must be >= 2; got 1"),
    Case("split_every-fractional", "split_every", fit(split_every=2.5), TypeError,
         r"split_every must be an integer"),
    Case("cache-unknown", "cache", fit(cache="disk"), ValueError,
         r"cache must be one of \('auto', 'memory', 'none'\); got 'disk'"),
    Case("chunk_rows-0", "chunk_rows", fit(chunk_rows=0), ValueError, r"chunk_rows must be >= 1"),
    Case("fit_intercept-string", "fit_intercept", fit(fit_intercept="no"), TypeError,
         r"fit_intercept must be True or False; got 'no'"),
    Case("x0-wrong-shape", "x0", fit(x0=np.zeros(3)), ValueError, r"x0 must have shape \(4,\)"),
    Case("x0-nan", "x0", fit(x0=np.array([0.0, np.nan, 0.0, 0.0])), ValueError,
         r"x0 must be finite; x0\[1\] = nan"),
    Case("callback-not-callable", "callback", fit(callback=3), TypeError,
         r"callback must be callable"),
    Case("client-an-address", "client", fit(client="tcp://127.0.0.1:1"), TypeError,
         r"client must be a distributed.Client; got str"),
    Case("client-closed", "client", fit(from_env={"client": closed_client}), ValueError,
         r"client is closed: pass a running distributed.Client"),
    Case("option-of-another-solver", "learning_rate",
         fit(solver="lbfgs", options={"learning_rate": 0.1}), TypeError,
         r"unexpected keyword argument 'learning_rate'"),
    Case("gd-learning_rate-negative", "learning_rate",
         fit(solver="gd", options={"learning_rate": -1.0}), ValueError,
         r"learning_rate must be > 0; got -1\.0"),
    Case("sgd-learning_rate-0", "learning_rate",
         fit(solver="sgd", options={"learning_rate": 0.0}), ValueError,
         r"learning_rate must be > 0; got 0\.0"),
    Case("sgd-batch_size-0", "batch_size", fit(solver="sgd", options={"batch_size": 0}),
         ValueError, r"batch_size must be >= 1; got 0"),
    Case("adam-batch_size-fractional", "batch_size",
         fit(solver="adam", options={"batch_size": 2.5}), TypeError,
         r"batch_size must be an integer"),
    Case("sgd-momentum-1", "momentum", fit(solver="sgd", options={"momentum": 1.0}), ValueError,
         r"momentum must be >= 0\.0 and < 1\.0"),
    Case("async-max_staleness-negative", "max_staleness",
         fit(solver="async", options={"max_staleness": -1}), ValueError,
         r"max_staleness must be >= 0"),
    Case("local-local_steps-0", "local_steps", fit(solver="local", options={"local_steps": 0}),
         ValueError, r"local_steps must be >= 1"),
    # hyperparameters of the estimators (scikit-learn's InvalidParameterError is a ValueError)
    Case("LogisticRegression-C-0", "C", estimator(gdd_dask.LogisticRegression, C=0), ValueError,
         r"The 'C' parameter of LogisticRegression must be a float in the range \(0\.0, inf\]"),
    Case("LogisticRegression-C-negative", "C", estimator(gdd_dask.LogisticRegression, C=-1.0),
         ValueError, r"'C' parameter .* Got -1\.0 instead"),
    Case("LogisticRegression-penalty-unknown", "penalty",
         estimator(gdd_dask.LogisticRegression, penalty="l3"), ValueError,
         r"The 'penalty' parameter of LogisticRegression must be"),
    Case("Ridge-alpha-negative", "alpha", estimator(gdd_dask.Ridge, alpha=-1.0), ValueError,
         r"The 'alpha' parameter of Ridge must be"),
    Case("Ridge-max_iter-negative", "max_iter", estimator(gdd_dask.Ridge, max_iter=-1),
         ValueError, r"The 'max_iter' parameter of Ridge must be an int in the range \[0, inf\)"),
    Case("Ridge-tol-negative", "tol", estimator(gdd_dask.Ridge, tol=-1.0), ValueError,
         r"The 'tol' parameter of Ridge must be"),
    Case("Ridge-split_every-1", "split_every", estimator(gdd_dask.Ridge, split_every=1),
         ValueError, r"The 'split_every' parameter of Ridge must be an int in the range \[2"),
    Case("Ridge-cache-unknown", "cache", estimator(gdd_dask.Ridge, cache="disk"), ValueError,
         r"The 'cache' parameter of Ridge must be a str among"),
    Case("Ridge-solver-unknown", "solver", estimator(gdd_dask.Ridge, solver="nope"), ValueError,
         r"The 'solver' parameter of Ridge must be 'auto', a registered solver"),
    Case("PoissonRegressor-client-an-address", "client",
         estimator(gdd_dask.PoissonRegressor, client="tcp://127.0.0.1:1"), TypeError,
         r"client must be a distributed.Client; got str"),
    # Zarr stores
    Case("zarr-missing", "missing.zarr", opened(lambda env: env.tmp_path / "missing.zarr"),
         ValueError, r"no Zarr store at .*missing\.zarr"),
    Case("zarr-empty-folder", "empty.zarr", opened(empty_folder), ValueError,
         r"is not a Zarr store \(no Zarr metadata there\)"),
    Case("zarr-plain-file", "plain.zarr", opened(plain_file), ValueError,
         r"plain\.zarr is not a Zarr store"),
    Case("zarr-malformed-metadata", "malformed.zarr", opened(malformed), ValueError,
         r"malformed\.zarr is not a readable Zarr store"),
    Case("zarr-single-array", "array.zarr", opened(single_array), ValueError,
         r"array\.zarr is a single Zarr array, not a group holding X and y"),
    Case("zarr-no-X", "'X'", opened(lambda env: store_with(env, "no-x.zarr", y=y)), ValueError,
         r"has no array 'X'; its arrays are \['y'\]"),
    Case("zarr-X-1-D", "X", opened(lambda env: store_with(env, "x1d.zarr", X=y, y=y)),
         ValueError, r"X in .*x1d\.zarr must be 2-D \(rows, features\); got shape \(40,\)"),
    Case("zarr-y-2-D", "y", opened(lambda env: store_with(env, "y2d.zarr", X=X, y=X)),
         ValueError, r"y in .*y2d\.zarr must be 1-D"),
    Case("zarr-lengths-differ", "y", opened(lambda env: store_with(env, "len.zarr", X=X, y=y[:3])),
         ValueError, r"X has 40 rows but y has 3"),
    Case("zarr-X-strings", "X",
         opened(lambda env: store_with(env, "str.zarr", X=np.array([["a", "b"]] * 4),
                                       y=np.zeros(4))), TypeError,
         r"X in .*str\.zarr must hold real numbers; got dtype <U1"),
]


def test_the_table_is_big_and_distinct():
    ids = [case.id for case in CASES]
    assert len(ids) >= 30 and len(set(ids)) == len(ids)


def scheduler_tasks(client):
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def assert_released(client, start, seconds=10):
    """The scheduler is back to ``start`` tasks (releases arrive asynchronously)."""
    deadline = time.monotonic() + seconds
    while (now := scheduler_tasks(client)) > start:
        assert time.monotonic() < deadline, f"{now} tasks left on the scheduler, {start} before"
        time.sleep(0.05)


@pytest.mark.filterwarnings("ignore::zarr.errors.UnstableSpecificationWarning")
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_refused_clearly(case, request, tmp_path):
    env = Env(request, tmp_path)
    start = time.monotonic()
    with pytest.raises(case.error) as caught:
        case.call(env)
    message = str(caught.value)
    assert time.monotonic() - start < SECONDS
    assert re.search(case.pattern, message), message
    assert case.argument in message, message
    if env.used_client is not None:  # even while the error (and its traceback) lives
        assert_released(env.used_client, env.tasks_before)


# -- behaviour that is right, not an error ---------------------------------------------

def test_mismatched_chunks_are_aligned_to_X(client):
    """y and sample_weight chunked unlike X (and X's columns in chunks) are rechunked to
    X's rows: the result is the one of aligned chunks, bit for bit."""
    aligned = minimize("logistic", dX, dy, sample_weight=dw, client=client)
    mixed = minimize("logistic", da.from_array(X, chunks=(ROWS, 1)), da.from_array(y, chunks=7),
                     sample_weight=da.ones(40, chunks=13), client=client)
    np.testing.assert_array_equal(mixed.x, aligned.x)


def test_unknown_chunk_sizes_are_resolved_on_the_cluster(client):
    """A boolean mask leaves chunk sizes unknown; they are computed on the client's
    cluster, without touching Dask's global configuration."""
    assert np.isnan(dX[KEEP].shape[0])
    result = minimize("logistic", dX[KEEP], dy[KEEP], client=client, alpha=0.1)
    keep = np.arange(40) % 4 != 0
    reference = minimize("logistic", X[keep], y[keep], alpha=0.1, chunk_rows=ROWS)
    np.testing.assert_allclose(result.x, reference.x, rtol=1e-10)
    assert dask.config.get("scheduler", None) is None


# -- the command line ------------------------------------------------------------------

@pytest.fixture
def silent_server():
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for conn in [server, *held]:
        conn.close()


COMMANDS = [
    ("not-a-store", lambda env, _: ["fit", plain_file(env), "--model", "linear"],
     r"plain\.zarr is not a Zarr store"),
    ("malformed-store", lambda env, _: ["fit", malformed(env), "--model", "linear"],
     r"malformed\.zarr is not a readable Zarr store"),
    ("strings-store", lambda env, _: ["fit", store_with(env, "s.zarr", X=X.astype(str), y=y),
                                      "--model", "linear"], r"X in .* must hold real numbers"),
    ("silent-scheduler", lambda env, address: ["fit", nan_store(env), "--model", "linear",
                                               "--scheduler", address, "--connect-timeout", 1],
     r"cannot connect to the scheduler at tcp://127\.0\.0\.1:\d+ within 1 s"),
]


@pytest.mark.filterwarnings("ignore::zarr.errors.UnstableSpecificationWarning")
@pytest.mark.parametrize("make_args, pattern", [c[1:] for c in COMMANDS],
                         ids=[c[0] for c in COMMANDS])
def test_the_command_refuses_bad_input_in_one_line(make_args, pattern, request, tmp_path,
                                                   silent_server, capsys):
    start = time.monotonic()
    code = main([str(a) for a in make_args(Env(request, tmp_path), silent_server)])
    out = capsys.readouterr()
    assert time.monotonic() - start < SECONDS
    assert code == 2 and out.out == "" and out.err.count("\n") == 1, out.err
    assert out.err.startswith("gdd-dask fit: error: ") and re.search(pattern, out.err), out.err
