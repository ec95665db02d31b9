"""Least squares: TSQR against the normal equations and scikit-learn, side by side.

    python benchmarks/least_squares.py [--rows 2000000] [--features 100] [--repeat 3]

On a ``--rows`` x ``--features`` Gaussian problem persisted on a 2-worker loopback
cluster (one thread each), in one run with the order rotated every repeat
(``measures.time_side_by_side``):

- one pass of each kind on the same objective: the TSQR pass (``Objective.moment``)
  against the normal-equation pass (``value_grad_hessian``: ``X^T S X``);
- whole fits: gdd-dask's ``LinearRegression``/``Ridge`` by ``"qr"`` (the default) and by
  Newton on the normal equations, on the cluster and in-process, against scikit-learn's
  ``LinearRegression`` and ``Ridge`` in memory.

And the accuracy of each on NIST's Longley data (correct digits of the worst
coefficient). Prints JSON lines; writes ``<out-dir>/least_squares.jsonl`` and ``.md``.
"""

from __future__ import annotations

import statistics
import warnings
from pathlib import Path

import numpy as np
from measures import time_side_by_side, two_workers
from report import machine, size_parser, write_results
from sklearn import linear_model as sk
from statsmodels.datasets import longley

import gdd_dask

HERE = Path(__file__).resolve().parent
LONGLEY_CERTIFIED = np.array([
    15.0618722713733, -0.358191792925910e-01, -2.02022980381683, -1.03322686717359,
    -0.511041056535807e-01, 1829.15146461355, -3482258.63459582])


def problem(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + 1.0 + rng.standard_normal(n)


def longley_digits(make):
    """NIST's correct digits of the worst Longley coefficient of ``make().fit``."""
    data = longley.load()
    X, y = np.asarray(data.exog, dtype=float), np.asarray(data.endog, dtype=float)
    model = make().fit(X, y)
    error = np.abs(np.r_[model.coef_, model.intercept_] - LONGLEY_CERTIFIED) \
        / np.abs(LONGLEY_CERTIFIED)
    return float(np.min(-np.log10(np.maximum(error, 1e-17))))


def main(argv=None):
    args = size_parser(__doc__, out_dir=HERE / "results").parse_args(argv)
    warnings.simplefilter("ignore")
    X, y = problem(args.rows, args.features)
    alpha = 1.0
    with two_workers(X, y) as (client, Xd, yd):
        objective = gdd_dask.make_objective("squared", Xd, yd, client=client)
        zero = np.zeros(objective.n_params)
        lr, ridge = gdd_dask.LinearRegression, gdd_dask.Ridge
        tools = {
            ("pass", "TSQR (moment)"): objective.moment,
            ("pass", "normal equations (X^T X)"): lambda: objective.value_grad_hessian(zero),
            ("LinearRegression", "scikit-learn"): lambda: sk.LinearRegression().fit(X, y),
            ("LinearRegression", "gdd-dask qr, cluster"):
                lambda: lr(client=client).fit(Xd, yd),
            ("LinearRegression", "gdd-dask newton, cluster"):
                lambda: lr(solver="newton", client=client).fit(Xd, yd),
            ("LinearRegression", "gdd-dask qr, in-process"): lambda: lr().fit(X, y),
            ("Ridge", "scikit-learn"): lambda: sk.Ridge(alpha=alpha).fit(X, y),
            ("Ridge", "gdd-dask qr, cluster"):
                lambda: ridge(alpha=alpha, client=client).fit(Xd, yd),
            ("Ridge", "gdd-dask qr, in-process"): lambda: ridge(alpha=alpha).fit(X, y),
        }
        runs = time_side_by_side(tools, args.repeat)
        objective.close()
    digits = {"scikit-learn": longley_digits(sk.LinearRegression),
              "gdd-dask qr": longley_digits(lr),
              "gdd-dask newton": longley_digits(lambda: lr(solver="newton")),
              "gdd-dask lbfgs": longley_digits(lambda: lr(solver="lbfgs"))}
    rows = [{"model": model, "tool": tool, "wall_s": statistics.median(times),
             "runs": [round(t, 4) for t in times]} for (model, tool), times in runs.items()]
    rows += [{"model": "Longley", "tool": tool, "correct_digits": round(d, 2)}
             for tool, d in digits.items()]
    write_results(rows, args.out_dir, "least_squares", markdown(rows, args))


def _wall(rows, model, tool):
    return next(r["wall_s"] for r in rows if r["model"] == model and r["tool"] == tool)


def markdown(rows, args):
    out = [f"# Least squares, {args.rows:,} x {args.features} (2 cores)", "",
           f"Made by `python benchmarks/least_squares.py --rows {args.rows} --features "
           f"{args.features} --repeat {args.repeat}` (median of {args.repeat}, the order "
           "rotated each repeat), nothing else running; cluster: 2 workers x 1 thread, "
           "the data persisted.", "",
           "| what | tool | median s | runs |", "|---|---|---|---|"]
    out += [f"| {r['model']} | {r['tool']} | {r['wall_s']:.3f} | "
            f"{', '.join(f'{v:.3f}' for v in r['runs'])} |" for r in rows if "wall_s" in r]
    tsqr, normal = (_wall(rows, "pass", tool)
                    for tool in ("TSQR (moment)", "normal equations (X^T X)"))
    out += ["", "## Ratios", "", f"- TSQR pass / normal-equation pass: {tsqr / normal:.2f}"]
    for model in ("LinearRegression", "Ridge"):
        base = _wall(rows, model, "scikit-learn")
        out += [f"- {model}, {r['tool']} / scikit-learn: {r['wall_s'] / base:.2f}"
                for r in rows if r["model"] == model and r["tool"] != "scikit-learn"]
    out += ["", "## Longley (NIST StRD), correct digits of the worst coefficient", ""]
    out += [f"- {r['tool']}: {r['correct_digits']}" for r in rows if r["model"] == "Longley"]
    out += ["", "## Machine", "", *(f"- {k}: {v}" for k, v in machine().items())]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
