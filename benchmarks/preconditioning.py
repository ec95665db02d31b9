"""Iterations to ``tol`` on unscaled against standardized columns (the same problems).

    python benchmarks/preconditioning.py [--rows 1000000] [--features 100] [--max-iter 1000]

A logistic problem whose columns have scales from 1e-3 to 1e4 (``alpha=1e-4``) and NIST's
Longley least squares (years, money, counts; the target divided by its deviation), each
solved in-process by L-BFGS (and gd for Longley) with ``tol=1e-6``, once on standardized
columns and once as they are. Solvers that precondition internally need about as many
iterations on both. Prints JSON lines (status, iterations, max|grad|).
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
from statsmodels.datasets import longley

import gdd_dask


def logistic(n, d, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    margin = Z @ (rng.standard_normal(d) / np.sqrt(d))
    y = (rng.random(n) < 1 / (1 + np.exp(-margin))).astype(float)
    return Z, Z * np.logspace(-3, 4, d), y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--max-iter", type=int, default=1000)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    standard, unscaled, y = logistic(args.rows, args.features)
    data = longley.load()
    X, t = np.asarray(data.exog, dtype=float), np.asarray(data.endog, dtype=float)
    problems = [("logistic", f"{args.rows}x{args.features}", standard, unscaled, y,
                 {"alpha": 1e-4}, ("lbfgs",)),
                ("squared", "longley", (X - X.mean(0)) / X.std(0), X, t / t.std(), {},
                 ("lbfgs", "gd"))]
    for loss, name, standard, unscaled, target, extra, solvers in problems:
        for columns, A in (("standardized", standard), ("unscaled", unscaled)):
            for solver in solvers:
                r = gdd_dask.minimize(loss, A, target, solver=solver, tol=1e-6,
                                      max_iter=args.max_iter, **extra)
                print(json.dumps({"problem": name, "columns": columns, "solver": solver,
                                  "status": int(r.status), "nit": int(r.nit),
                                  "max_grad": float(np.max(np.abs(r.jac)))}), flush=True)


if __name__ == "__main__":
    main()
