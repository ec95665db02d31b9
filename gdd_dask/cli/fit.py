"""``gdd-dask fit STORE``: fit a linear model to a Zarr store on a Dask cluster.

Prints the dashboard link first, shows a progress bar of the iterations (loss,
``max|grad|``, passes over the data) on stderr, and ends with a summary: iterations,
passes, final loss, wall time and the training accuracy (classifiers), R^2 (linear,
ridge) or D^2 (Poisson), one more pass. ``--out`` writes the model as JSON
(:mod:`~gdd_dask.cli.model`) for ``gdd-dask predict``.
"""

from __future__ import annotations

import argparse
import time

from ..optimize import fit_span
from ..progress import ProgressBar
from .args import CommandError, count, non_negative
from .cluster import add_cluster_options, describe, open_client
from .model import CLASSIFIERS, GLMS, MODELS, FittedModel
from .store_arg import describe_x, open_store

__all__ = ["add_parser", "data_line", "fit_store", "run", "score", "summary_lines"]

CACHE = ("auto", "memory", "none")


def add_parser(sub):
    parser = sub.add_parser("fit", help="fit a linear model to a Zarr store",
                            description=__doc__.split("\n\n")[0])
    parser.add_argument("store", metavar="STORE",
                        help="a Zarr store with arrays X and y, or a catalog name made before")
    parser.add_argument("--model", choices=list(MODELS),
                        help="the model (default: the one the store was generated for)")
    from ..solvers import SOLVERS

    parser.add_argument("--solver", default="auto",
                        help="auto (default: newton for narrow data, else lbfgs), or a "
                             f"registered solver: {', '.join(SOLVERS)}")
    parser.add_argument("--option", action="append", type=solver_option, default=[],
                        metavar="KEY=VALUE", dest="options",
                        help="a solver option, repeatable: e.g. --option batch_size=256 "
                             "--option learning_rate=0.01 --option random_state=0")
    parser.add_argument("--alpha", type=non_negative,
                        help="L2 penalty of the mean loss, f(w) = mean loss + alpha/2 |w|^2 "
                             "(default: 1/n_samples, as C=1 in scikit-learn; 0 for linear)")
    parser.add_argument("--tol", type=non_negative, default=1e-5,
                        help="stop when max|grad| <= tol (default 1e-5)")
    parser.add_argument("--max-iter", type=count(1), default=100,
                        help="most iterations (default 100)")
    parser.add_argument("--cache", choices=CACHE, default="auto",
                        help="keep X in the workers' memory, stream it from the store, or "
                             "decide by size (default auto)")
    parser.add_argument("--out", metavar="MODEL.json", help="write the fitted model here")
    parser.add_argument("--checkpoint", metavar="PATH",
                        help="save the solver's state here; run the same command again to "
                             "resume from it")
    parser.add_argument("--checkpoint-every", type=count(1), default=1, metavar="N",
                        help="iterations between checkpoints (default 1)")
    parser.add_argument("--x-name", default="X", help="the store's feature array (default X)")
    parser.add_argument("--y-name", default="y", help="the store's target array (default y)")
    parser.add_argument("--no-score", action="store_true",
                        help="skip the accuracy / R^2 pass at the end")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--verbose", action="store_true", help="show the workers' warnings")
    add_cluster_options(parser)
    parser.set_defaults(run=run)
    return parser


def solver_option(text):
    """``KEY=VALUE`` -> ``(key, value)``, the value a number, a boolean or a string."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    for convert in (int, float):
        try:
            return key, convert(value)
        except ValueError:
            pass
    return key, {"true": True, "false": False}.get(value.lower(), value)


def choose_model(args_model, attributes):
    """``--model``, else the model the store was generated for."""
    model = args_model or attributes.get("model")
    if model not in MODELS:
        raise CommandError("--model is required: this store does not say which model it "
                           f"was made for; choose one of {list(MODELS)}")
    return model


def check_options(model, alpha, solver, options=()):
    """Reject option combinations that make no sense, before the cluster starts."""
    from .. import SOLVERS

    if solver != "auto" and solver not in SOLVERS:
        raise CommandError(
            f"unknown --solver {solver!r}; choose 'auto' or one of {sorted(SOLVERS)}")
    _solver_options(solver, options)
    if model == "linear" and alpha:
        raise CommandError("--model linear has no penalty; use --model ridge with --alpha")
    if model == "ridge" and alpha == 0:
        raise CommandError("--model ridge needs --alpha > 0 (or use --model linear)")


def data_line(X, path, attributes=None):
    """``"data: 1,000 x 5 float64 in 4 chunks of 250 rows (40.0 kB): PATH"``."""
    from dask.utils import format_bytes

    layout, size = describe_x(X, attributes or {})
    return (f"data: {X.shape[0]:,} x {X.shape[1]} {layout} in {X.numblocks[0]} chunks of "
            f"{X.chunks[0][0]:,} rows ({format_bytes(size)}): {path}")


def fit_store(X, y, *, model, solver="auto", alpha=None, tol=1e-5, max_iter=100,
              cache="auto", client=None, callback=None, store=None, options=None,
              checkpoint=None, checkpoint_every=1):
    """Fit ``model`` to ``(X, y)`` (:func:`gdd_dask.make_objective` and
    :func:`gdd_dask.solve`, in a ``gdd-fit`` span); ``(FittedModel, result)``. A
    ``callback`` with ``watch`` (a progress bar) also sees the tasks of each pass.

    ``alpha=None`` is ``1 / n_samples`` (scikit-learn's ``C=1`` for the classifiers,
    ``alpha=1`` for ``Ridge``), or 0 for ``linear``.
    """
    import gdd_dask

    if alpha is None:
        alpha = 0.0 if model == "linear" else 1.0 / X.shape[0]
    start = time.perf_counter()
    options = _solver_options(solver, options)
    with fit_span(f"gdd-dask fit {model}"), \
            gdd_dask.make_objective(MODELS[model], X, y, alpha=alpha, cache=cache,
                                    client=client) as objective:
        if hasattr(callback, "watch"):  # a progress bar: also within long passes
            callback.watch(objective)
        result = gdd_dask.solve(objective, solver=solver, tol=tol, max_iter=max_iter,
                                callback=callback, options=options, checkpoint=checkpoint,
                                checkpoint_every=checkpoint_every)
    info = {"solver": result.solver, "options": dict(options or {}), "alpha": alpha,
            "tol": tol, "max_iter": max_iter,
            "cache": cache, "nit": int(result.nit), "n_passes": int(result.n_passes),
            "loss": float(result.fun), "status": int(result.status),
            "message": str(result.message), "elapsed_s": round(time.perf_counter() - start, 3),
            "n_samples": int(X.shape[0]), "store": None if store is None else str(store),
            "history": [float(f) for f in result.history]}
    return FittedModel.from_params(model, result.x, X.shape[1], info), result


def score(fitted, X, y, client):
    """``(name, value)``: the estimator's score -- accuracy (classifiers), R^2 (linear,
    ridge), D^2 (the GLMs)."""
    name = "accuracy" if fitted.model in CLASSIFIERS else "D^2" if fitted.model in GLMS \
        else "R^2"
    return name, fitted.estimator(client).score(X, y)


def summary_lines(fitted, result, metric=None):
    """The summary: model and status, iterations and passes, loss, score, fit time."""
    info = fitted.info
    scored = f"  {metric[0]}: {metric[1]:.4f}" if metric else ""
    return [f"model: {fitted.model}  solver: {info['solver']}  cache: {info['cache']}  "
            f"status: {result.message}",
            f"iterations: {result.nit}  passes over the data: {result.n_passes}",
            f"final loss: {result.fun:.6f}{scored}  wall time: {info['elapsed_s']:.2f} s"]


def run(args):
    path, X, y, attributes = open_store(args.store, x_name=args.x_name, y_name=args.y_name)
    model = choose_model(args.model, attributes)
    check_options(model, args.alpha, args.solver, args.options)
    with open_client(args) as client:
        print(f"dashboard: {client.dashboard_link}", flush=True)
        print(data_line(X, path, attributes))
        print(f"cluster: {describe(client)}", flush=True)
        fitted, result = fit_with_bar(X, y, model=model, client=client, quiet=args.quiet,
                                      solver=args.solver, options=args.options,
                                      alpha=args.alpha, tol=args.tol,
                                      max_iter=args.max_iter, cache=args.cache, store=path,
                                      checkpoint=args.checkpoint,
                                      checkpoint_every=args.checkpoint_every)
        metric = None if args.no_score else score(fitted, X, y, client)
    if args.out:
        fitted.save(args.out)
        print(f"model written to {args.out}")
    for line in summary_lines(fitted, result, metric):
        print(line)
    return 0


AUTO_CHOICES = ("newton", "lbfgs", "proximal", "cd")
"""What ``--solver auto`` may choose (``gdd_dask.solvers.auto_solver``)."""


def _solver_options(solver, options):
    """``options`` as a dict, refused (one line) when the solver does not take one --
    for ``auto``, when none of the solvers it may choose takes it."""
    import inspect

    from ..solvers import get_solver

    options = dict(options or {})
    if not options:
        return options
    names = AUTO_CHOICES if solver == "auto" else (solver,)
    accepted = set()
    for name in names:
        parameters = inspect.signature(get_solver(name)).parameters
        if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
            return options
        accepted |= set(parameters) - {"objective", "x0", "tol", "max_iter", "callback"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        takes = ", ".join(sorted(accepted)) or "none"
        raise CommandError(f"--option {unknown[0]} is not an option of solver {solver!r} "
                           f"(it takes: {takes})")
    return options


def fit_with_bar(X, y, *, model, client, quiet=False, **options):
    """:func:`fit_store` with the progress bar; ``(FittedModel, result)``."""
    bar = ProgressBar(label=f"{model} {options.get('solver', 'lbfgs')}", enabled=not quiet)
    try:
        return fit_store(X, y, model=model, client=client, callback=bar, **options)
    finally:
        bar.close()
