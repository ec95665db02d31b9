"""Watching a fit: task names and spans on the scheduler, per-iteration events, the
read/compute split of the fine performance metrics, the progress bar, the live plot,
and the dashboard's task-stream page rendered by a headless Chromium."""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
import warnings
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import gdd_dask
from gdd_dask import progress
from gdd_dask.callbacks import LivePlot, plot_history
from gdd_dask.datasets import make_classification, open_zarr
from gdd_dask.progress import ProgressBar

ARTIFACTS = Path(os.environ.get("GDD_TEST_ARTIFACTS", Path(__file__).parents[1] / "artifacts"))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40_000, 8))
    y = (X @ np.linspace(-1, 1, 8) + rng.logistic(size=40_000) > 0).astype(float)
    return (da.from_array(X, chunks=(5_000, 8)), da.from_array(y, chunks=5_000))


def _prefixes(client):
    return set(client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes)))


def _spans(client):
    def names(dask_scheduler):
        return [span.name for span in dask_scheduler.extensions["spans"].spans.values()]

    return {tuple(name) for name in client.run_on_scheduler(names)}


@pytest.mark.parametrize("solver, prefix", [("lbfgs", "gdd-grad"), ("newton", "gdd-hess"),
                                            ("sgd", "gdd-sgd"), ("local", "gdd-local")])
def test_task_prefixes_and_span_name_the_algorithm(client, data, solver, prefix):
    X, y = data
    model = gdd_dask.LogisticRegression(solver=solver, client=client, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 3 iterations
        model.fit(X, y)
    assert {"gdd-check", "gdd-reduce", prefix} <= _prefixes(client)
    assert ("gdd-fit", "LogisticRegression", solver) in _spans(client)
    result = gdd_dask.minimize("logistic", X, y, client=client, solver="gd", max_iter=2)
    assert ("gdd-fit", "minimize logistic", result.solver) in _spans(client)


def test_one_log_event_per_iteration(client, data):
    X, y = data
    before = len(client.get_events("gdd"))
    result = gdd_dask.minimize("logistic", X, y, client=client, solver="lbfgs", tol=1e-8)
    records = [msg for _, msg in client.get_events("gdd")[before:]]
    fits = {record["fit"] for record in records}
    assert len(fits) == 1
    assert [r["iteration"] for r in records] == list(range(1, result.nit + 1))
    assert records[-1]["fun"] == result.fun and records[-1]["n_passes"] <= result.n_passes
    assert set(records[0]) == {"fit", "iteration", "fun", "grad_norm", "n_passes", "elapsed"}


def test_fine_performance_metrics_split_read_and_compute(client, tmp_path):
    path = tmp_path / "store.zarr"
    make_classification(path, n_samples=20_000, n_features=5, chunk_rows=2_000, seed=0)
    X, y = open_zarr(path)
    gdd_dask.minimize("logistic", X, y, client=client, cache="none", solver="lbfgs")

    def metrics(dask_scheduler):
        return [key for key in dask_scheduler.cumulative_worker_metrics
                if isinstance(key, tuple) and key[:2] == ("execute", "gdd-grad")]

    labels = {key[2] for key in client.run_on_scheduler(metrics)}
    assert {"gdd-read", "gdd-compute"} <= labels


class Terminal(io.StringIO):
    """A text file that says it is a terminal, as a user's shell is."""

    def isatty(self):
        return True


def test_progress_bar_counts_iterations_and_tasks_within_passes(client, data):
    X, y = data
    screen = Terminal()
    bar = ProgressBar(label="test", total=50, file=screen)
    with gdd_dask.make_objective("logistic", X, y, client=client) as objective:
        bar.watch(objective, min_tasks=1)
        result = gdd_dask.solve(objective, solver="lbfgs", callback=bar, max_iter=50)
    bar.close()
    err = screen.getvalue()
    assert f"{result.nit}/50" in err and "loss=" in err and "passes=" in err
    assert "pass:" in err and "task" in err  # the bar within the passes
    assert "\r" in err  # redrawn in place


def test_a_log_gets_plain_lines_at_an_interval(client, data, capsys, monkeypatch):
    """Output to a file or a pipe (here pytest's capture): no carriage returns or
    escape codes, no bar within the passes; the first iteration, a line per interval,
    and the last."""
    X, y = data
    gdd_dask.LogisticRegression(verbose=1, client=client, tol=1e-8).fit(X, y)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "\r" not in err and "\x1b" not in err and "pass:" not in err
    assert lines[0].startswith("LogisticRegression lbfgs: iteration 1/100, loss=")
    assert len(lines) == 2 and "passes=" in lines[-1]  # a fast fit: first and last
    monkeypatch.setattr(progress, "LOG_INTERVAL", 0.0)
    model = gdd_dask.LogisticRegression(verbose=1, client=client, tol=1e-8).fit(X, y)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == model.n_iter_[0]  # every iteration once: nothing left to close


def test_live_plot_and_history(tmp_path, data):
    X, y = (a.compute() for a in data)
    image = tmp_path / "live.png"
    live = LivePlot(every=0.0, log=True, path=image, label="lbfgs")
    result = gdd_dask.minimize("logistic", X, y, solver="lbfgs", callback=live)
    live.new_curve("gd")
    other = gdd_dask.minimize("logistic", X, y, solver="gd", callback=live, max_iter=5)
    live.close()
    assert image.stat().st_size > 0
    assert [len(s[1]) for s in live.series] == [result.nit, other.nit]
    assert live.series[0][3] == result.history
    model = gdd_dask.LogisticRegression().fit(X, y)
    ax = plot_history(result, model)
    assert [line.get_label() for line in ax.get_lines()] == ["lbfgs", "LogisticRegression"]
    html = result._repr_html_()
    assert "<table>" in html and "lbfgs" in html and "passes over X" in html


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_dashboard_task_stream_shows_gdd_grad(client, data):
    """Headless Chromium loads the task-stream page while fits run; the page's Bokeh
    data holds ``gdd-grad`` tasks. The screenshot is kept under ``artifacts/``."""
    from playwright.sync_api import sync_playwright

    X, y = client.persist(list(data))
    stop = threading.Event()

    def fits():
        while not stop.is_set():
            gdd_dask.minimize("logistic", X, y, client=client, solver="gd", max_iter=5, tol=0)

    worker = threading.Thread(target=fits, daemon=True)
    worker.start()
    url = client.dashboard_link.replace("/status", "/individual-task-stream")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1200, "height": 500})
            page.goto(url)
            names = []
            deadline = time.monotonic() + 30
            while "gdd-grad" not in names and time.monotonic() < deadline:
                time.sleep(0.5)
                names = page.evaluate(TASK_NAMES)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard-task-stream.png"))
            browser.close()
    finally:
        stop.set()
        worker.join()
    assert "gdd-grad" in names, names


TASK_NAMES = """() => {
    const names = new Set();
    for (const doc of Bokeh.documents) {
        for (const model of doc._all_models.values()) {
            const data = model.data;
            if (data && data.name) { for (const name of data.name) names.add(String(name)); }
        }
    }
    return Array.from(names);
}"""
