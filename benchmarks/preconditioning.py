"""Iterations to ``tol`` on unscaled against standardized columns, with and without the
solvers' internal preconditioning.

    python benchmarks/preconditioning.py [--rows 1000000] [--features 100] [--max-iter 1000]
                                         [--epochs 5] [--parts full,minibatch]

A logistic problem whose columns have scales from 1e-3 to 1e4 (``alpha=1e-4``) and NIST's
Longley least squares (years, money, counts; the target divided by its deviation), each
solved in-process by L-BFGS and gd (and the proximal solver for the logistic problem
with an L1 penalty) with ``tol=1e-6``: on standardized columns, and on the columns as
they are with ``precondition=False`` (before) and ``True`` (the default). Prints JSON
lines: status, iterations and passes to the documented stop, ``max|grad|`` there, and
``nit_scaled``: the first iteration whose gradient in standardized units, ``max|T^T
grad|`` (``gdd_dask.scaling``), is at most ``tol`` -- the standardized problem's own
test. ``tol`` on the model's gradient asks a column of scale ``d`` for ``d`` times
more; past what the objective's 16 digits resolve that is status 5. Then ``--epochs``
epochs of mini-batch SGD and Adam on the logistic problem, each reported as the
excess of its objective over the optimum (Newton's) of the same columns.
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
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--parts", default="full,minibatch",
                        help="which parts to run: full (full-batch), minibatch")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    Z, U, y = logistic(args.rows, args.features)
    data = longley.load()
    X, t = np.asarray(data.exog, dtype=float), np.asarray(data.endog, dtype=float)
    problems = [("logistic", f"{args.rows}x{args.features}", Z, U, y,
                 {"alpha": 1e-4}, ("lbfgs", "gd")),
                ("logistic", f"{args.rows}x{args.features}-l1", Z, U, y,
                 {"alpha": 1e-3, "penalty": "l1"}, ("proximal",)),
                ("squared", "longley", (X - X.mean(0)) / X.std(0), X, t / t.std(), {},
                 ("lbfgs", "gd"))]
    parts = args.parts.split(",")
    for loss, name, standard, unscaled, target, extra, solvers in problems:
        if "full" not in parts:
            break
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
    if "minibatch" in parts:
        minibatch(Z, U, y, args.epochs)


def minibatch(standard, unscaled, y, epochs):
    """Mini-batch epochs on the logistic problem: the objective's excess over the
    optimum of the same columns (Newton's, to 1e-10) after ``epochs`` epochs."""
    runs = (("standardized", standard, False), ("unscaled", unscaled, False),
            ("unscaled", unscaled, True))
    optimum = {columns: gdd_dask.minimize("logistic", A, y, solver="newton", alpha=1e-4,
                                          tol=1e-10, max_iter=50).fun
               for columns, A, _ in runs[:2]}
    for solver, rate in (("sgd", 0.05), ("adam", 0.01)):
        for columns, A, precondition in runs:
            r = gdd_dask.minimize("logistic", A, y, solver=solver, alpha=1e-4, tol=0,
                                  max_iter=epochs, precondition=precondition,
                                  options={"random_state": 0, "batch_size": 200,
                                           "learning_rate": rate})
            print(json.dumps({"problem": "minibatch", "columns": columns, "solver": solver,
                              "precondition": precondition, "status": int(r.status),
                              "epochs": int(r.nit),
                              "excess": float(r.fun - optimum[columns])}), flush=True)


if __name__ == "__main__":
    main()
