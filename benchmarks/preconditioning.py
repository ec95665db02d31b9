"""Iterations to ``tol`` on unscaled against standardized columns, with and without the
solvers' internal preconditioning.

    python benchmarks/preconditioning.py [--rows 1000000] [--features 100] [--max-iter 1000]

A logistic problem whose columns have scales from 1e-3 to 1e4 (``alpha=1e-4``) and NIST's
Longley least squares (years, money, counts; the target divided by its deviation), each
solved in-process by L-BFGS and gd (and the proximal solver for the logistic problem
with an L1 penalty) with ``tol=1e-6``: on standardized columns, and on the columns as
they are with ``precondition=False`` (before) and ``True`` (the default). Prints JSON
lines: status, iterations and passes to the documented stop, ``max|grad|`` there, and
``nit_scaled``: the first iteration whose gradient in standardized units, ``max|T^T
grad|`` (``gdd_dask.scaling``), is at most ``tol`` -- the standardized problem's own
test. ``tol`` on the model's gradient asks a column of scale ``d`` for ``d`` times
more; past what the objective's 16 digits resolve that is status 5.
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
from statsmodels.datasets import longley

import gdd_dask
from gdd_dask.scaling import ColumnScaling


def logistic(n, d, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    margin = Z @ (rng.standard_normal(d) / np.sqrt(d))
    y = (rng.random(n) < 1 / (1 + np.exp(-margin))).astype(float)
    return Z, Z * np.logspace(-3, 4, d), y


def scaling(A):
    """The standardizing map of ``A``'s columns, as the solvers build it."""
    mean = A.mean(0)
    moment = (float(len(A)), mean, ((A - mean) ** 2).sum(0))
    return ColumnScaling.from_moment(moment, n_outputs=1, fit_intercept=True)


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
                 {"alpha": 1e-4}, ("lbfgs", "gd")),
                ("logistic", f"{args.rows}x{args.features}-l1", standard, unscaled, y,
                 {"alpha": 1e-3, "penalty": "l1"}, ("proximal",)),
                ("squared", "longley", (X - X.mean(0)) / X.std(0), X, t / t.std(), {},
                 ("lbfgs", "gd"))]
    for loss, name, standard, unscaled, target, extra, solvers in problems:
        runs = (("standardized", standard, False), ("unscaled", unscaled, False),
                ("unscaled", unscaled, True))
        for solver in solvers:
            for columns, A, precondition in runs:
                T, reached = scaling(A), []

                def callback(info, T=T, reached=reached):
                    if not reached and np.max(np.abs(T.grad_to_scaled(info.jac))) <= 1e-6:
                        reached.append(int(info.nit))

                r = gdd_dask.minimize(loss, A, target, solver=solver, tol=1e-6,
                                      max_iter=args.max_iter, precondition=precondition,
                                      callback=callback, **extra)
                print(json.dumps({"problem": name, "columns": columns, "solver": solver,
                                  "precondition": precondition, "status": int(r.status),
                                  "nit": int(r.nit), "n_passes": int(r.n_passes),
                                  "nit_scaled": reached[0] if reached else None,
                                  "max_grad": float(np.max(np.abs(r.jac)))}), flush=True)


if __name__ == "__main__":
    main()
