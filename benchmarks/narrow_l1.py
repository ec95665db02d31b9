"""Lasso and elastic net on narrow data: gdd-dask's one-pass Gram path against
scikit-learn's coordinate descent, side by side in one run.

    python benchmarks/narrow_l1.py [--rows 2000000] [--features 100] [--repeat 3]

A least-squares problem with 10 of ``--features`` true coefficients non-zero;
``Lasso(alpha=0.01, tol=1e-6)`` and ``ElasticNet(alpha=0.01, l1_ratio=0.5)`` by scikit-learn
(in memory), gdd-dask in-process (NumPy) and on a 2-worker loopback cluster (the data
persisted there). Reported: the median wall time of each, the largest coefficient
difference from scikit-learn's and the non-zeros. Prints JSON lines; writes
``<out-dir>/narrow_l1.jsonl`` and ``.md``.
"""

from __future__ import annotations

import statistics
import warnings
from pathlib import Path

import numpy as np
from measures import seconds, two_workers
from report import machine, size_parser, write_results
from sklearn import linear_model as sk

import gdd_dask

HERE = Path(__file__).resolve().parent
MODELS = {"Lasso": {"alpha": 0.01, "tol": 1e-6},  # the same stopping test for both
          "ElasticNet": {"alpha": 0.01, "l1_ratio": 0.5, "tol": 1e-6}}


def problem(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = np.zeros(d)
    w[rng.choice(d, 10, replace=False)] = rng.standard_normal(10)
    return X, X @ w + 0.5 * rng.standard_normal(n)


def timed(fit, repeat):
    """``(median seconds, every run, the last fitted model)`` of ``repeat`` fits."""
    models = []
    runs = [seconds(lambda: models.append(fit())) for _ in range(repeat)]
    return statistics.median(runs), runs, models[-1]


def main(argv=None):
    args = size_parser(__doc__, out_dir=HERE / "results").parse_args(argv)
    warnings.simplefilter("ignore")
    X, y = problem(args.rows, args.features)
    rows = []
    with two_workers(X, y) as (client, Xd, yd):
        for name, params in MODELS.items():
            ours, theirs = getattr(gdd_dask, name), getattr(sk, name)
            tools = [("scikit-learn", "coordinate descent", lambda: theirs(**params).fit(X, y)),
                     ("gdd-dask", "in-process", lambda: ours(**params).fit(X, y)),
                     ("gdd-dask", "cluster, persisted",
                      lambda: ours(**params, client=client).fit(Xd, yd))]
            reference = None
            for tool, mode, fit in tools:
                median, runs, model = timed(fit, args.repeat)
                reference = model.coef_ if reference is None else reference
                rows.append({"model": name, "tool": tool, "mode": mode, "wall_s": median,
                             "runs": [round(r, 4) for r in runs],
                             "solver": getattr(model, "solver_", "cd"),
                             "max_coef_diff": float(np.max(np.abs(model.coef_ - reference))),
                             "nonzeros": int(np.count_nonzero(model.coef_))})
    write_results(rows, args.out_dir, "narrow_l1", markdown(rows, args))


def markdown(rows, args):
    out = [f"# Lasso and elastic net, {args.rows:,} x {args.features} (2 cores)", "",
           f"Made by `python benchmarks/narrow_l1.py --rows {args.rows} --features "
           f"{args.features} --repeat {args.repeat}` (median of {args.repeat}), nothing "
           "else running.", "",
           "| model | tool | mode | solver | median s | runs | max coef diff | non-zeros |",
           "|---|---|---|---|---|---|---|---|"]
    out += [f"| {r['model']} | {r['tool']} | {r['mode']} | {r['solver']} | "
            f"{r['wall_s']:.3f} | {', '.join(f'{v:.3f}' for v in r['runs'])} | "
            f"{r['max_coef_diff']:.1e} | {r['nonzeros']} |" for r in rows]
    out += ["", "## Ratios", ""]
    for name in MODELS:
        base = next(r for r in rows if r["model"] == name and r["tool"] == "scikit-learn")
        out += [f"- {name}, gdd-dask {r['mode']} / scikit-learn: "
                f"{r['wall_s'] / base['wall_s']:.2f}"
                for r in rows if r["model"] == name and r["tool"] == "gdd-dask"]
    out += ["", "## Machine", "", *(f"- {k}: {v}" for k, v in machine().items())]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
