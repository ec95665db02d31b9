"""The ``gdd-dask`` command: data make -> fit -> predict, the demo, and its errors.

Most calls run ``main`` in-process against the session cluster (``--scheduler``);
a few run the real command in a subprocess, where it starts its own LocalCluster.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import zarr
from sklearn.linear_model import (
    GammaRegressor,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
)

from gdd_dask.cli import main

ROWS = 2000


def run(*args, timeout=240):
    return subprocess.run([sys.executable, "-m", "gdd_dask.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def call(capsys, *args):
    """``main(args)`` in-process: ``(exit code, stdout, stderr)``."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def read(path):
    group = zarr.open_group(path, mode="r")
    return group["X"][:], group["y"][:]


def assert_one_line_error(code, out, err, match):
    assert code == 2, err
    assert out == "" and err.count("\n") == 1 and err.startswith("gdd-dask"), err
    assert "Traceback" not in err and re.search(match, err), err


CASES = {  # model: (data make options, the scikit-learn estimator it equals)
    "logistic": (["--kind", "classification"], lambda n: LogisticRegression(C=1.0, tol=1e-10)),
    "multinomial": (["--kind", "classification", "--classes", "3"],
                    lambda n: LogisticRegression(C=1.0, tol=1e-10)),
    "linear": (["--kind", "regression", "--noise", "0.5"], lambda n: LinearRegression()),
    "poisson": (["--kind", "poisson"], lambda n: PoissonRegressor(alpha=1 / n, tol=1e-10)),
    "gamma": (["--kind", "gamma"], lambda n: GammaRegressor(alpha=1 / n, tol=1e-10)),
}


@pytest.mark.parametrize("model", list(CASES))
def test_data_make_fit_predict_round_trip(tmp_path, capsys, cluster, model):
    options, reference = CASES[model]
    store, model_file, pred = tmp_path / "d.zarr", tmp_path / "m.json", tmp_path / "p.zarr"
    code, out, err = call(capsys, "data", "make", "mine", *options, "--rows", ROWS,
                          "--features", 4, "--chunk-rows", 300, "--seed", 7, "--out", store,
                          "--quiet")
    assert code == 0, err
    assert f"wrote {store}: 2,000 x 4 float64" in out and f"--model {model}" in out

    code, out, err = call(capsys, "fit", store, "--scheduler", cluster.scheduler_address,
                          "--tol", "1e-8", "--out", model_file)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("dashboard: http://127.0.0.1:")
    assert lines[1] == f"data: 2,000 x 4 float64 in 7 chunks of 300 rows (62.50 kiB): {store}"
    # solver "auto": TSQR for least squares, Newton for the other narrow problems
    solver = "qr" if model == "linear" else "newton"
    assert lines[-3].startswith(f"model: {model}  solver: {solver}  cache: auto  status: "
                                "converged")
    assert re.fullmatch(r"final loss: -?[\d.]+  (accuracy|R\^2|D\^2): [\d.]+  wall time: "
                        r"[\d.]+ s", lines[-1])
    assert "passes=" in err and "loss=" in err  # the progress bar, on stderr

    saved = json.loads(model_file.read_text())
    coef, intercept = np.asarray(saved["coef"]), np.asarray(saved["intercept"])
    X, y = read(store)
    sk = reference(ROWS).fit(X, y)
    if model == "multinomial":  # intercepts are defined up to a constant: compare P(y|x)
        raw = X @ coef.T + intercept
        proba = np.exp(raw - raw.max(1, keepdims=True))
        np.testing.assert_allclose(proba / proba.sum(1, keepdims=True), sk.predict_proba(X),
                                   atol=1e-5)
    else:
        np.testing.assert_allclose(coef.ravel(), sk.coef_.ravel(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(intercept, np.ravel(sk.intercept_), rtol=1e-4, atol=1e-5)
    truth = np.asarray(zarr.open_group(store).attrs["gdd_dask"]["coef"])
    if model == "multinomial":  # softmax sees W only up to a constant per feature
        coef, truth = coef - coef.mean(axis=0), truth - truth.mean(axis=0)
    np.testing.assert_allclose(coef, truth, atol=0.25)  # 2,000 rows: close to the truth
    assert saved["model"] == model and saved["fit"]["nit"] > 0

    code, out, err = call(capsys, "predict", model_file, store, "--out", pred,
                          "--scheduler", cluster.scheduler_address)
    assert code == 0, err
    assert "predictions: 2,000 " in out
    predicted = zarr.open_array(pred, mode="r")
    assert predicted.chunks == (300,)
    agreement = np.mean(np.isclose(predicted[:], sk.predict(X), rtol=1e-4, atol=1e-6))
    assert agreement >= 0.995


def test_catalog_names_make_list_describe_and_fit(tmp_path, capsys, cluster, monkeypatch):
    """``data make NAME`` writes datasets/NAME.zarr, which ``fit NAME`` then finds."""
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, "data", "list")
    assert code == 0 and all(re.search(rf"^{n} ", out, re.M) for n in ("tiny", "medium"))
    assert call(capsys, "data", "make", "tiny", "--quiet")[0] == 0
    assert (tmp_path / "datasets" / "tiny.zarr" / "X").is_dir()
    code, out, err = call(capsys, "data", "info", "tiny")
    assert code == 0 and "X 1,000 x 5 float64" in out and "recipe: 'tiny'" in out
    code, out, err = call(capsys, "fit", "tiny", "--scheduler", cluster.scheduler_address,
                          "--quiet", "--no-score")
    assert code == 0, err
    assert "data: 1,000 x 5 float64 in 4 chunks of 250 rows" in out and err == ""
    assert "status: converged" in out and "accuracy" not in out


def test_fit_passes_solver_options(tmp_path, capsys, cluster):
    """``--option KEY=VALUE`` reaches the solver (numbers parsed) and the saved model;
    an option the solver does not take is one line and exit code 2."""
    store, model_file = tmp_path / "d.zarr", tmp_path / "m.json"
    assert call(capsys, "data", "make", "tiny", "--out", store, "--quiet")[0] == 0
    common = ["fit", store, "--scheduler", cluster.scheduler_address, "--quiet", "--no-score"]
    code, out, err = call(capsys, *common, "--solver", "adam", "--max-iter", 3, "--option",
                          "batch_size=100", "--option", "learning_rate=0.05", "--option",
                          "random_state=0", "--out", model_file)
    assert code == 0, err
    assert "solver: adam" in out and "iterations: 3" in out
    info = json.loads(model_file.read_text())["fit"]
    assert info["options"] == {"batch_size": 100, "learning_rate": 0.05, "random_state": 0}
    code, out, err = call(capsys, *common, "--solver", "lbfgs", "--option", "momentum=0.9")
    assert code == 2 and err.count("\n") == 1
    assert "--option momentum is not an option of solver 'lbfgs'" in err
    code, out, err = call(capsys, *common, "--option", "nonsense")
    assert code == 2 and "KEY=VALUE" in err


def test_a_wrong_option_is_refused_before_any_cluster(tmp_path, capsys):
    """Checked before connecting (the scheduler named here does not exist), also for
    --solver auto: against every solver it may choose."""
    store = tmp_path / "d.zarr"
    assert call(capsys, "data", "make", "tiny", "--out", store, "--quiet")[0] == 0
    nowhere = ["fit", store, "--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", 0.5]
    code, _, err = call(capsys, *nowhere, "--option", "momentum=0.9")
    assert code == 2 and err.count("\n") == 1
    assert "--option momentum is not an option of solver 'auto'" in err and "history_size" in err
    code, _, err = call(capsys, *nowhere, "--option", "history_size=5")
    assert code == 2 and "cannot connect" in err  # a good option: on to the cluster


def test_predict_writes_probabilities_of_a_classifier(tmp_path, capsys, cluster):
    store, model_file = tmp_path / "d.zarr", tmp_path / "m.json"
    assert call(capsys, "data", "make", "tiny", "--out", store, "--quiet")[0] == 0
    assert call(capsys, "fit", store, "--scheduler", cluster.scheduler_address, "--out",
                model_file, "--quiet", "--no-score")[0] == 0
    code, out, err = call(capsys, "predict", model_file, store, "--proba", "--out",
                          tmp_path / "p.zarr", "--scheduler", cluster.scheduler_address)
    assert code == 0, err
    proba = zarr.open_array(tmp_path / "p.zarr", mode="r")
    labels_file = tmp_path / "labels.zarr"
    assert call(capsys, "predict", model_file, store, "--out", labels_file,
                "--scheduler", cluster.scheduler_address)[0] == 0
    assert proba.shape == (1000, 2) and np.allclose(proba[:].sum(axis=1), 1.0)
    np.testing.assert_array_equal(zarr.open_array(labels_file)[:], proba[:].argmax(axis=1))
    assert proba.attrs["gdd_dask"]["output"] == "probabilities"


def test_fit_starts_and_stops_its_own_local_cluster(tmp_path):
    store = tmp_path / "d.zarr"
    assert run("data", "make", "tiny", "--out", store, "--quiet").returncode == 0
    out = run("fit", store, "--workers", 1, "--memory-limit", "500MB", "--cache", "none",
              "--solver", "newton")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert re.fullmatch(r"dashboard: http://127\.0\.0\.1:\d+/status", lines[0])
    assert "cluster: 1 worker x 1 thread, memory limit 476.84 MiB each" in out.stdout
    assert lines[-3].startswith("model: logistic  solver: newton  cache: none")
    # a pipe, not a terminal: plain progress lines, no bar redrawn with carriage returns
    assert re.search(r"newton: iteration \d+, loss=[\d.]+, \|grad\|=[\d.e+-]+, passes=\d+",
                     out.stderr) and "\r" not in out.stderr
    assert "Traceback" not in out.stderr


def test_demo_generates_and_fits_a_store(tmp_path):
    out = run("demo", "--rows", 40_000, "--features", 8, "--chunk-rows", 5_000,
              "--memory-limit", "200MB", "--store", tmp_path / "demo.zarr")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert re.match(r"dashboard: http://127\.0\.0\.1:\d+/status\n", text)
    assert f"data: 40,000 x 8 float64 in 8 chunks of 5,000 rows (2.44 MiB): " \
           f"{tmp_path / 'demo.zarr'}, written in" in text
    assert "cluster: 2 workers x 1 thread, memory limit 190.73 MiB each (381.47 MiB in all)" \
        in text
    assert "memory: X is 2.44 MiB, 0.0x the workers' 381.47 MiB: fits in memory" in text
    iterations, passes = map(int, re.search(r"iterations: (\d+)  passes over the data: (\d+)",
                                            text).groups())
    assert 0 < iterations < passes <= 3 * iterations
    loss, accuracy = map(float, re.search(r"final loss: ([\d.]+)  accuracy: ([\d.]+)",
                                          text).groups())
    assert 0 < loss < 0.69 and 0.6 < accuracy <= 1.0
    assert "status: converged" in text
    assert (tmp_path / "demo.zarr" / "X").is_dir()  # --store keeps the data


# -- errors: one line on stderr, exit code 2 ----------------------------------------------
def store_with(path, **arrays):
    group = zarr.open_group(path, mode="w")
    for name, data in arrays.items():
        group.create_array(name, data=data)
    return path


@pytest.fixture
def stores(tmp_path):
    """A good store without attributes, one with other array names, one whose arrays
    disagree, and a model file of the good one's width."""
    good = store_with(tmp_path / "good.zarr", X=np.eye(4), y=np.array([0.0, 1, 0, 1]))
    model, narrow = tmp_path / "m.json", tmp_path / "narrow.json"
    for path, coef in ((model, [[1, 2, 3, 4]]), (narrow, [[1, 2, 3]])):
        path.write_text(json.dumps({"format": "gdd-dask-linear-model", "version": 1,
                                    "model": "linear", "coef": coef, "intercept": [0],
                                    "classes": None}))
    (tmp_path / "junk.json").write_text("{}")
    (tmp_path / "folder").mkdir()
    return {"good": good, "model": model, "narrow": narrow, "junk": tmp_path / "junk.json",
            "folder": tmp_path / "folder", "missing": tmp_path / "missing.zarr",
            "names": store_with(tmp_path / "names.zarr", features=np.eye(4), y=np.zeros(4)),
            "shapes": store_with(tmp_path / "shapes.zarr", X=np.eye(4), y=np.zeros(3))}


ERRORS = [
    (("fit", "{missing}"), r"no Zarr store at .*missing\.zarr"),
    (("fit", "{names}", "--model", "linear"), r"has no array 'X'; its arrays are"),
    (("fit", "{names}", "--model", "linear", "--x-name", "features", "--y-name", "target"),
     r"has no array 'target'"),
    (("fit", "{shapes}", "--model", "linear"), r"X has 4 rows but y has 3"),
    (("fit", "{folder}", "--model", "linear"), r"is not a Zarr store"),
    (("fit", "{good}"), r"--model is required"),
    (("fit", "{good}", "--model", "linear", "--alpha", "1"), r"use --model ridge"),
    (("fit", "{good}", "--model", "logistic", "--solver", "sgd-fast"), r"unknown --solver"),
    (("fit", "{good}", "--model", "tree"), r"argument --model: invalid choice"),
    (("fit", "{good}", "--workers", "0"), r"argument --workers: must be >= 1; got 0"),
    (("fit", "{good}", "--memory-limit", "lots"), r"must be a size like 300MB"),
    (("fit", "{good}", "--model", "linear", "--scheduler", "tcp://127.0.0.1:1",
      "--connect-timeout", "0.5"), r"cannot connect to the scheduler at tcp://127\.0\.0\.1:1"),
    (("fit", "{good}", "--model", "linear", "--scheduler", "nonsense://x"),
     r"is not an address like tcp://"),
    (("predict", "{junk}", "{good}", "--out", "{folder}/p.zarr"), r"not a gdd-dask model"),
    (("predict", "{narrow}", "{good}", "--out", "{folder}/p.zarr"),
     r"has 3 features but X in .* has 4 columns"),
    (("predict", "{model}", "{good}", "--out", "{folder}/p.zarr", "--proba"),
     r"--proba needs a classifier"),
    (("predict", "{model}", "{good}", "--out", "{folder}", "--overwrite"),
     r"is not a Zarr store; refusing to replace it"),
    (("predict", "{model}", "{good}"), r"the following arguments are required: --out"),
    (("data", "make", "nowhere"), r"'nowhere' is not in the catalog .* needs --kind, --rows"),
    (("data", "make", "tiny", "--codec", "snappy", "--out", "{folder}/t.zarr"),
     r"unknown codec 'snappy'"),
    (("data", "make", "tiny", "--out", "{good}"), r"already exists"),
    (("data", "make", "a/b"), r"NAME must be a plain name"),
    (("data", "make", "tiny", "--rows", "-5"), r"argument --rows: must be >= 1"),
    (("data", "info", "{shapes}"), r"X has 4 rows but y has 3"),
    (("demo", "--rows", "0"), r"argument --rows: must be >= 1; got 0"),
    (("fly",), r"invalid choice: 'fly'"),
]


@pytest.mark.parametrize("args, match", ERRORS, ids=[m[:24] for _, m in ERRORS])
def test_errors_are_one_line_with_exit_code_2(capsys, stores, args, match):
    code, out, err = call(capsys, *(a.format(**stores) for a in args))
    assert_one_line_error(code, out, err, match)


def test_errors_of_the_real_command_are_one_line(tmp_path):
    out = run("fit", tmp_path / "missing.zarr", "--model", "logistic")
    assert_one_line_error(out.returncode, out.stdout, out.stderr, r"no Zarr store at")


def test_a_sparse_store_makes_fits_and_predicts(tmp_path, capsys, cluster):
    """``--kind hashed_text`` writes a CSR store; ``fit`` and ``predict`` take it, and
    the fit is scikit-learn's on the same CSR matrix."""
    store, model_file, pred = tmp_path / "t.zarr", tmp_path / "m.json", tmp_path / "p.zarr"
    code, out, err = call(capsys, "data", "make", "text", "--kind", "hashed_text", "--rows",
                          ROWS, "--features", 4096, "--nonzeros", 20, "--chunk-rows", 500,
                          "--out", store, "--quiet")
    assert code == 0, err
    assert f"wrote {store}: 2,000 x 4096 sparse (CSR) (hashed_text, " in out
    assert "--model logistic" in out
    code, out, err = call(capsys, "fit", store, "--scheduler", cluster.scheduler_address,
                          "--tol", "1e-7", "--out", model_file, "--quiet")
    assert code == 0, err
    assert "x 4096 float64 sparse (CSR) in 4 chunks of 500 rows" in out
    assert "solver: lbfgs  cache: auto  status: converged" in out
    from gdd_dask.datasets import open_zarr

    X, y = (a.compute() for a in open_zarr(store))
    saved = json.loads(model_file.read_text())
    sk = LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(np.ravel(saved["coef"]), sk.coef_.ravel(), atol=1e-4)
    code, out, err = call(capsys, "predict", model_file, store, "--out", pred,
                          "--scheduler", cluster.scheduler_address)
    assert code == 0, err
    agreement = np.mean(zarr.open_array(pred, mode="r")[:] == sk.predict(X))
    assert agreement >= 0.995
