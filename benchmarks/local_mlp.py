"""Local SGD against sequential Adam and asynchronous SGD on an MLP, side by side.

On a synthetic binary problem (scikit-learn's ``make_classification``: 160,000
training rows x 50 features, 40,000 held out), persisted in 20,000-row chunks on a
2-worker loopback LocalCluster, ``MLPClassifier(hidden_layer_sizes=(64,))`` with its
defaults trains ``--epochs`` epochs by each solver: ``adam`` (sequential steps in chunk
order), ``async`` (Downpour SGD), ``local`` (local Adam, one average an epoch) and
``local`` averaging every 20 steps. For each: held-out accuracy, the points behind
``adam`` and the wall time relative to ``adam``'s.

    python benchmarks/local_mlp.py [--epochs 3 10] [--informative 30] [--class-sep 0.8]

Prints one JSON object per line, then a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import dask.array as da
from distributed import Client, LocalCluster
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from gdd_dask import MLPClassifier

CASES = {"adam": ("adam", {}), "async": ("async", {}), "local": ("local", {}),
         "local (every 20 steps)": ("local", {"solver_options": {"local_steps": 20}})}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[3, 10])
    parser.add_argument("--informative", type=int, default=30)
    parser.add_argument("--class-sep", type=float, default=0.8)
    args = parser.parse_args()
    X, y = make_classification(n_samples=200_000, n_features=50,
                               n_informative=args.informative, n_redundant=10,
                               class_sep=args.class_sep, random_state=0)
    X_test, y_test, X, y = X[160_000:], y[160_000:], X[:160_000], y[:160_000]
    rows = []
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        Xd = da.from_array(X, chunks=(20_000, -1)).persist()
        yd = da.from_array(y, chunks=20_000).persist()
        for epochs in args.epochs:
            base = None
            for label, (solver, options) in CASES.items():
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model = MLPClassifier(hidden_layer_sizes=(64,), solver=solver,
                                          max_iter=epochs, random_state=0, client=client,
                                          **options).fit(Xd, yd)
                seconds = time.perf_counter() - start
                accuracy = model.score(X_test, y_test)
                base = base or (accuracy, seconds)
                row = {"epochs": epochs, "solver": label, "accuracy": round(accuracy, 4),
                       "points_behind_adam": round(100 * (base[0] - accuracy), 2),
                       "time_vs_adam": round(seconds / base[1], 2)}
                print(json.dumps(row), flush=True)
                rows.append(row)
    print(f"\n160,000 x 50 ({args.informative} informative, class_sep {args.class_sep}), "
          "hidden (64,), 8 chunks on 2 workers\n")
    print("| epochs | solver | accuracy | points behind adam | time / adam's |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['epochs']} | {r['solver']} | {r['accuracy']:.4f} | "
              f"{r['points_behind_adam']:.2f} | {r['time_vs_adam']:.2f} |")


if __name__ == "__main__":
    main()
