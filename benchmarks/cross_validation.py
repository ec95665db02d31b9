"""Cross-validation in shared passes against one fit, scikit-learn and dask-ml.

On the logistic problem of ``out_of_core.py`` (default 2,000,000 x 100 float64, 1.6 GB,
in a Zarr store), 10 values of C x 5 folds, in one run:

- gdd-dask ``LogisticRegressionCV(Cs=10, cv=5)`` persisted on two workers, with the
  path warm-started (the default) and with every model at once (``warm_path=False``),
  over one ``LogisticRegression(C=C_)`` fit on the same workers;
- the same streamed from the store (``cache="auto"`` on two workers of
  ``--small-limit`` memory each, less than the store), over one streamed fit;
- scikit-learn's ``LogisticRegressionCV(Cs=10)`` given the same folds, in memory;
- dask-ml's ``GridSearchCV`` over its ``LogisticRegression`` (lbfgs) with the same
  folds, on the persisted arrays, for ``--dask-ml-cs`` of the 10 values of C (it fits
  each value and fold on its own: its time for the whole grid is that times
  ``10 / --dask-ml-cs``, stated as such);
- ``LassoCV()`` (100 alphas x 5 folds) in-process on 200,000 x 50 in memory, against
  scikit-learn's ``LassoCV`` with the same folds.

    python benchmarks/cross_validation.py [--rows 2000000] [--features 100]

Prints one JSON object per line, then a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings

import dask
import numpy as np
from distributed import Client
from out_of_core import cluster, print_table, write_store

import gdd_dask
from gdd_dask.datasets import open_zarr
from gdd_dask.folds import RowFolds

CS = np.logspace(-4, 4, 10)
N_FOLDS = 5


def timed(func):
    start = time.perf_counter()
    value = func()
    return value, time.perf_counter() - start


def gdd_rows(X, y, client, cache, label, warm_paths=(True, False)):
    """gdd-dask's CV (each path mode) and one fit at the chosen C, on ``client``."""
    rows, chosen = [], None
    for warm in warm_paths:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cv, seconds = timed(lambda w=warm: gdd_dask.LogisticRegressionCV(
                Cs=CS, cv=N_FOLDS, warm_path=w, client=client, cache=cache).fit(X, y))
        chosen = chosen or cv
        rows.append({"tool": "gdd-dask", "what": f"LogisticRegressionCV {label}, "
                     f"{'warm path' if warm else 'all models at once'}",
                     "seconds": round(seconds, 2), "C_": cv.C_, "passes": cv.n_passes_,
                     "max_n_iter": int(cv.n_iter_.max())})
    single, seconds = timed(lambda: gdd_dask.LogisticRegression(
        C=chosen.C_, client=client, cache=cache).fit(X, y))
    rows.append({"tool": "gdd-dask", "what": f"LogisticRegression(C=C_) {label}",
                 "seconds": round(seconds, 2), "passes": single.n_passes_,
                 "n_iter": int(single.n_iter_[0]),
                 "coef_gap_to_cv": float(np.max(np.abs(single.coef_ - chosen.coef_)))})
    for row in rows[:-1]:
        row["ratio_to_single_fit"] = round(row["seconds"] / rows[-1]["seconds"], 2)
    return rows, chosen


def sklearn_row(Xn, yn, splits, reference):
    from sklearn.linear_model import LogisticRegressionCV

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref, seconds = timed(lambda: LogisticRegressionCV(
            Cs=CS, cv=splits, l1_ratios=(0.0,), scoring="accuracy",
            use_legacy_attributes=False).fit(Xn, yn))
    return {"tool": "scikit-learn", "what": "LogisticRegressionCV(Cs=10), same folds, "
            "in memory", "seconds": round(seconds, 2), "C_": float(ref.C_),
            "same_C": bool(ref.C_ == reference.C_),
            "coef_gap": float(np.max(np.abs(ref.coef_ - reference.coef_)))}


def dask_ml_row(X, y, splits, n_cs, client):
    from dask_ml.linear_model import LogisticRegression
    from dask_ml.model_selection import GridSearchCV

    search = GridSearchCV(LogisticRegression(solver="lbfgs"), {"C": list(CS[:n_cs])},
                          cv=splits, scheduler=client, refit=False)
    with warnings.catch_warnings(), client.as_current():  # dask-ml takes the default client
        warnings.simplefilter("ignore")
        _, seconds = timed(lambda: search.fit(X, y))
    return {"tool": "dask-ml", "what": f"GridSearchCV(LogisticRegression lbfgs), {n_cs} of "
            "10 Cs, same folds, persisted", "seconds": round(seconds, 2),
            "whole_grid_seconds_est": round(seconds * len(CS) / n_cs, 1)}


def lasso_rows(rows, features):
    """gdd-dask's ``LassoCV()`` (100 alphas x 5 folds) in-process against scikit-learn's
    with the same folds, on an in-memory sparse linear problem."""
    from sklearn.linear_model import LassoCV

    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, features))
    y = X @ (rng.standard_normal(features) * (rng.random(features) > 0.7))
    y += rng.standard_normal(rows)
    gdd_dask.Lasso().fit(X[:100], y[:100])  # imports and first calls outside the timing
    ours, seconds = timed(lambda: gdd_dask.LassoCV().fit(X, y))
    ref, ref_seconds = timed(lambda: LassoCV(cv=RowFolds(N_FOLDS).splits(rows)).fit(X, y))
    what = f"LassoCV() on {rows:,} x {features}, in memory"
    return [{"tool": "gdd-dask", "what": what, "seconds": round(seconds, 2),
             "passes": ours.n_passes_, "alpha_": ours.alpha_},
            {"tool": "scikit-learn", "what": what + ", same folds",
             "seconds": round(ref_seconds, 2), "same_alpha": bool(np.isclose(
                 ref.alpha_, ours.alpha_, rtol=1e-12)),
             "coef_gap": float(np.max(np.abs(ref.coef_ - ours.coef_)))}]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--chunk-rows", type=int, default=25_000)
    parser.add_argument("--small-limit", default="1GiB", help="memory per streaming worker")
    parser.add_argument("--roomy-limit", default="6GiB", help="memory per persisting worker")
    parser.add_argument("--dask-ml-cs", type=int, default=2)
    parser.add_argument("--skip", default="",
                        help="comma-separated: sklearn,dask-ml,stream,lasso")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    rows = []

    def emit(row):
        print(json.dumps(row), flush=True)
        rows.append(row)

    with tempfile.TemporaryDirectory() as tmp:
        X, y = open_zarr(write_store(tmp, args))
        splits = RowFolds(N_FOLDS).splits(args.rows)  # the folds of cv=5
        with cluster(args.roomy_limit) as roomy, Client(roomy, set_as_default=False) as c:
            Xp, yp = c.persist([X, y])
            c.gather(c.compute([Xp.sum(), yp.sum()]))  # persisted before timing
            measured, chosen = gdd_rows(Xp, yp, c, "memory", "persisted")
            for row in measured:
                emit(row)
            if "dask-ml" not in skip:
                emit(dask_ml_row(Xp, yp, splits, args.dask_ml_cs, c))
            del Xp, yp
        if "stream" not in skip:
            with cluster(args.small_limit) as small, Client(small, set_as_default=False) as c:
                for row in gdd_rows(X, y, c, "auto", "streamed from Zarr", (True,))[0]:
                    emit(row)
        if "sklearn" not in skip:
            Xn, yn = dask.compute(X, y, scheduler="threads")
            row = sklearn_row(Xn, yn, splits, chosen)
            row["gdd_speedup"] = round(row["seconds"] / rows[0]["seconds"], 2)
            emit(row)

    if "lasso" not in skip:
        for row in lasso_rows(200_000, 50):
            emit(row)

    print_table(rows)


if __name__ == "__main__":
    main()
