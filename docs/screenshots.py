"""Make the README's pictures: the Dask dashboard during fits, and the live loss plot.

    python docs/screenshots.py            # writes docs/images/*.png

Needs the ``test`` extra (matplotlib, playwright) and Debian's ``chromium``.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

import gdd_dask
from gdd_dask.callbacks import LivePlot

IMAGES = Path(__file__).parent / "images"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SOLVERS = {
    "gd": {}, "lbfgs": {}, "newton": {},
    "sgd": {"learning_rate": 0.5, "batch_size": 2000, "random_state": 0},
    "adam": {"learning_rate": 0.05, "batch_size": 2000, "random_state": 0},
    "async": {"learning_rate": 0.5, "batch_size": 2000, "random_state": 0, "max_staleness": 1},
    "local": {"learning_rate": 0.25, "batch_size": 2000, "random_state": 0},
}


def problem(client, rows=100_000, features=10):
    rng = da.random.default_rng(1)
    X = rng.standard_normal((rows, features), chunks=(rows // 10, features))
    noise = rng.logistic(size=rows, chunks=rows // 10)
    y = ((X @ np.linspace(-1, 1, features) + noise) > 0).astype(float)
    return client.persist([X, y])


def dashboard(client, X, y, path):
    """The dashboard's status page while fits run, as a PNG."""
    from playwright.sync_api import sync_playwright

    stop = threading.Event()

    def fits():
        while not stop.is_set():
            for solver in ("lbfgs", "newton", "sgd"):
                gdd_dask.minimize("logistic", X, y, alpha=1e-3, client=client, solver=solver,
                                  max_iter=5, options=SOLVERS[solver])

    worker = threading.Thread(target=fits, daemon=True)
    worker.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                                 args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(client.dashboard_link)
            time.sleep(8)
            page.screenshot(path=str(path))
            browser.close()
    finally:
        stop.set()
        worker.join()


def live_plot(client, X, y, path):
    """Every solver on one problem, drawn by :class:`LivePlot` as they run."""
    optimum = gdd_dask.minimize("logistic", X, y, alpha=1e-3, client=client, solver="newton",
                                tol=1e-10).fun
    live = LivePlot(log=True, reference=optimum - 1e-12, path=path, every=1.0)
    for solver, options in SOLVERS.items():
        live.new_curve(solver)
        max_iter = 10 if solver in ("sgd", "adam", "async", "local") else 50
        gdd_dask.minimize("logistic", X, y, alpha=1e-3, client=client, solver=solver,
                          options=options, max_iter=max_iter, callback=live)
    live.close()


def main():
    IMAGES.mkdir(exist_ok=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster, set_as_default=False) as client:
        X, y = problem(client)
        live_plot(client, X, y, IMAGES / "live-plot.png")
        dashboard(client, X, y, IMAGES / "dashboard.png")
    print(f"wrote {IMAGES / 'live-plot.png'} and {IMAGES / 'dashboard.png'}")


if __name__ == "__main__":
    main()
