"""Checkpoint and resume: a killed client process that runs the same call again ends
bit-identical to a fit never interrupted; checkpoints of other fits are refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import gdd_dask
from gdd_dask import minimize
from gdd_dask.cli import main
from gdd_dask.datasets import make_classification


class Interrupted(Exception):
    pass


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y.astype(float)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "logistic.zarr"
    make_classification(path, n_samples=20_000, n_features=10, chunk_rows=2_000, seed=5)
    return path


SOLVERS = {  # solver: (penalty, options)
    "lbfgs": ("l2", {}), "gd": ("l2", {}), "newton": ("l2", {}), "proximal": ("l1", {}),
    "sgd": ("l2", {"random_state": 0, "learning_rate": 0.05, "momentum": 0.9}),
    "adam": ("l1", {"random_state": 0}), "adagrad": ("l2", {"random_state": 1}),
    "local": ("l2", {"random_state": 0}), "async": ("l2", {"random_state": 0,
                                                            "max_staleness": 0}),
}


def _interrupt_at(nit):
    def callback(info):
        if info.nit == nit:
            raise Interrupted

    return callback


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_resumed_fit_equals_the_uninterrupted_one(cancer, tmp_path, solver):
    X, y = cancer
    penalty, options = SOLVERS[solver]
    kw = dict(alpha=0.01, penalty=penalty, solver=solver, options=options, max_iter=15,
              tol=1e-10, chunk_rows=100)
    path = tmp_path / "fit.ckpt"
    whole = minimize("logistic", X, y, **kw)
    with pytest.raises(Interrupted):
        minimize("logistic", X, y, checkpoint=path, callback=_interrupt_at(6), **kw)
    resumed = minimize("logistic", X, y, checkpoint=path, **kw)
    np.testing.assert_array_equal(resumed.x, whole.x)
    assert (resumed.fun, resumed.nit, resumed.status) == (whole.fun, whole.nit, whole.status)
    assert resumed.history == whole.history
    assert resumed.n_passes < whole.n_passes  # the first iterations were not redone
    assert os.listdir(tmp_path) == ["fit.ckpt"]  # no temporary file left behind


KILLED_CLIENT = textwrap.dedent("""
    import json, os, signal, sys
    import numpy as np
    from distributed import Client
    from gdd_dask import minimize
    from gdd_dask.datasets import open_zarr

    scheduler, store, path, solver, kill_at = sys.argv[1:6]
    OPTIONS = {"adam": {"random_state": 0, "batch_size": 2000}}

    def callback(info):
        if info.nit == int(kill_at):
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no goodbye

    with Client(scheduler, set_as_default=False) as client:
        X, y = open_zarr(store)
        result = minimize("logistic", X, y, alpha=1e-3, solver=solver, tol=1e-12,
                          max_iter=12, client=client, checkpoint=path, callback=callback,
                          options=OPTIONS.get(solver))
    print(json.dumps({"x": result.x.tolist(), "nit": result.nit}))
""")


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_killed_client_process_resumes_bit_identical(cluster, client, store, tmp_path,
                                                     solver):
    """The client process is SIGKILLed at iteration 5; the same command run again
    resumes from the checkpoint on the cluster and ends where the whole fit ends."""
    from gdd_dask.datasets import open_zarr

    X, y = open_zarr(store)
    whole = minimize("logistic", X, y, alpha=1e-3, solver=solver, tol=1e-12, max_iter=12,
                     client=client, options={"random_state": 0, "batch_size": 2000}
                     if solver == "adam" else None)
    script, path = tmp_path / "fit.py", tmp_path / "fit.ckpt"
    script.write_text(KILLED_CLIENT)
    args = [sys.executable, script, cluster.scheduler_address, store, path, solver]
    killed = subprocess.run([*map(str, args), "5"], capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9 and path.exists()
    again = subprocess.run([*map(str, args), "0"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    resumed = json.loads(again.stdout)
    np.testing.assert_array_equal(resumed["x"], whole.x)
    assert resumed["nit"] == whole.nit


def test_checkpoints_of_other_fits_are_refused(cancer, tmp_path):
    X, y = cancer
    path = tmp_path / "fit.ckpt"
    minimize("logistic", X, y, alpha=0.01, solver="lbfgs", max_iter=3, checkpoint=path)
    for change, kwargs in {
        "data": dict(X=X[::-1].copy()), "alpha": dict(alpha=0.02), "solver": dict(solver="gd"),
        "tol": dict(tol=1e-3), "penalty": dict(penalty=None),
    }.items():
        call = {"X": X, "alpha": 0.01, "solver": "lbfgs", **kwargs}
        with pytest.raises(ValueError, match="another fit|other data"):
            minimize("logistic", call.pop("X"), y, checkpoint=path, **call)


def test_same_shape_other_values_are_refused_when_resuming(cancer, tmp_path):
    """Data the fingerprint cannot tell apart (in-memory data is hashed, but a Zarr
    store rewritten in place keeps its name) are caught by re-evaluating the saved
    point: here the saved gradient is tampered with instead."""
    X, y = cancer
    path = tmp_path / "fit.ckpt"
    kw = dict(alpha=0.01, solver="gd", max_iter=4)
    minimize("logistic", X, y, checkpoint=path, **kw)
    with np.load(path, allow_pickle=False) as file:
        arrays = {k: file[k] for k in file.files}
    arrays["g"] = arrays["g"] + 1e-12
    with open(path, "wb") as file:
        np.savez(file, **arrays)
    with pytest.raises(ValueError, match="other data"):
        minimize("logistic", X, y, checkpoint=path, **kw)


def test_bad_checkpoint_files_are_refused_without_unpickling(cancer, tmp_path):
    X, y = cancer
    garbage, pickled = tmp_path / "garbage", tmp_path / "pickled.npz"
    garbage.write_bytes(b"not a checkpoint")
    np.savez(pickled, __header__=np.array([{"format": "x"}], dtype=object))
    for path in (garbage, pickled):
        with pytest.raises(ValueError, match="not a gdd-dask checkpoint"):
            minimize("logistic", X, y, solver="lbfgs", checkpoint=path)
    with pytest.raises(ValueError, match="is a directory"):
        minimize("logistic", X, y, checkpoint=tmp_path)
    with pytest.raises(ValueError, match="checkpoint_every"):
        minimize("logistic", X, y, checkpoint=tmp_path / "c", checkpoint_every=0)
    with pytest.raises(TypeError, match="file path"):
        minimize("logistic", X, y, checkpoint=42)

    def plain(objective, x0, *, tol, max_iter, callback):
        return gdd_dask.solvers.lbfgs(objective, x0, tol=tol, max_iter=max_iter)

    with pytest.raises(ValueError, match="cannot save checkpoints"):
        minimize("logistic", X, y, solver=plain, checkpoint=tmp_path / "c")


@pytest.mark.parametrize("make", [
    lambda: gdd_dask.LogisticRegression(max_iter=30),
    lambda: gdd_dask.MLPClassifier(hidden_layer_sizes=(16,), max_iter=8, random_state=0),
    lambda: gdd_dask.SGDClassifier(max_iter=8, random_state=0),
], ids=["LogisticRegression", "MLPClassifier", "SGDClassifier"])
def test_estimators_resume_from_their_checkpoint(tmp_path, make):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole = make().fit(X, y)
        model = make().set_params(checkpoint=tmp_path / "fit.ckpt")
        with pytest.raises(Interrupted):
            _fit_interrupted(model, X, y)
        model.fit(X, y)
    for a, b in zip(_params(whole), _params(model)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="early stopping"):
        gdd_dask.SGDClassifier(early_stopping=True, checkpoint=tmp_path / "c").fit(X, y)


def _fit_interrupted(model, X, y):
    """``fit`` with a progress callback that stops the process's work at iteration 3."""
    original = model._progress

    def progress(*args):
        report = original(*args)

        def callback(info):
            if report is not None:
                report(info)
            if info.nit == 3:
                raise Interrupted

        return callback

    model._progress = progress
    try:
        model.fit(X, y)
    finally:
        del model._progress


def _params(model):
    return model.coefs_ + model.intercepts_ if hasattr(model, "coefs_") else [model.coef_,
                                                                              model.intercept_]


def test_cli_checkpoint_continues_a_fit(tmp_path, capsys, cluster, store):
    """``--checkpoint``: a fit stopped by ``--max-iter 3`` and run again with the full
    budget ends with the model of one uninterrupted run."""
    common = ["fit", str(store), "--scheduler", cluster.scheduler_address, "--quiet",
              "--no-score", "--solver", "lbfgs", "--tol", "1e-10"]
    assert main([*common, "--out", str(tmp_path / "whole.json")]) == 0
    ckpt = ["--checkpoint", str(tmp_path / "fit.ckpt")]
    assert main([*common, *ckpt, "--max-iter", "3"]) == 0
    assert main([*common, *ckpt, "--out", str(tmp_path / "resumed.json")]) == 0
    capsys.readouterr()
    whole, resumed = (json.loads((tmp_path / f"{name}.json").read_text())
                      for name in ("whole", "resumed"))
    assert resumed["coef"] == whole["coef"] and resumed["intercept"] == whole["intercept"]
