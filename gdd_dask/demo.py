"""``gdd-dask demo``: an out-of-core fit, from nothing, in well under a minute.

Starts a loopback LocalCluster whose workers have a small memory limit (2 x 300 MB by
default), generates a logistic problem bigger than all their memory together (1.25
million x 100 float64, 1 GB) into a Zarr store in a temporary folder, fits it with
L-BFGS streaming the chunks from the store (``cache="auto"`` finds that the data does
not fit), and prints the dashboard link, the data and cluster, a progress bar and the
summary: iterations, passes over the data, final loss, accuracy and wall time. The
store is deleted at the end unless ``--store`` names where to keep (or reuse) it.
"""

from __future__ import annotations

import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(sub):
    from .cli.args import count, non_negative
    from .cli.cluster import add_cluster_options
    from .cli.fit import CACHE

    parser = sub.add_parser("demo", help="generate a dataset bigger than the cluster's memory "
                                         "and fit it out-of-core",
                            description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=count(1), default=1_250_000,
                        help="samples (default 1250000)")
    parser.add_argument("--features", type=count(1), default=100,
                        help="features (default 100)")
    parser.add_argument("--chunk-rows", type=count(1), default=25_000,
                        help="rows per chunk (default 25000)")
    parser.add_argument("--seed", type=count(0), default=0, help="random seed (default 0)")
    parser.add_argument("--solver", default="auto",
                        help="solver name (default auto: newton for narrow data, else lbfgs)")
    parser.add_argument("--tol", type=non_negative, default=1e-5,
                        help="stop when max|grad| <= tol (default 1e-5)")
    parser.add_argument("--max-iter", type=count(1), default=100,
                        help="most iterations (default 100)")
    parser.add_argument("--cache", choices=CACHE, default="auto",
                        help="auto (default), memory or none")
    parser.add_argument("--store", metavar="PATH",
                        help="keep the generated store here (reused when it exists)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--verbose", action="store_true", help="show the workers' warnings")
    add_cluster_options(parser, memory_limit="300MB")
    parser.set_defaults(run=run)
    return parser


def _make_store(args, folder):
    """Generate the demo's store (or reuse ``--store``); return its path."""
    from .cli.progress import RowsBar
    from .datasets import make_classification

    path = Path(args.store) if args.store else Path(folder) / "demo.zarr"
    if args.store and path.exists():
        return path, 0.0
    bar = RowsBar(total=args.rows, label="writing the data", enabled=not args.quiet)
    start = time.perf_counter()
    try:
        make_classification(path, n_samples=args.rows, n_features=args.features,
                            chunk_rows=args.chunk_rows, seed=args.seed, callback=bar)
    finally:
        bar.close()
    return path, time.perf_counter() - start


def _memory_line(X, client):
    from dask.utils import format_bytes

    from .cli.cluster import memory_total

    total = memory_total(client)
    if not total:
        return "memory: the workers have no memory limit"
    ratio = X.nbytes / total
    where = "out of core" if ratio > 1 else "fits in memory"
    return (f"memory: X is {format_bytes(X.nbytes)}, {ratio:.1f}x the workers' "
            f"{format_bytes(total)}: {where}")


def run(args):
    from .cli.cluster import describe, open_client
    from .cli.fit import check_options, data_line, fit_with_bar, score, summary_lines
    from .datasets import open_zarr

    check_options("logistic", None, args.solver)
    with ExitStack() as stack:
        client = stack.enter_context(open_client(args))
        print(f"dashboard: {client.dashboard_link}", flush=True)
        folder = None if args.store else stack.enter_context(
            tempfile.TemporaryDirectory(prefix="gdd-dask-demo-"))
        path, seconds = _make_store(args, folder)
        X, y = open_zarr(path)
        print(data_line(X, path) + (f", written in {seconds:.1f} s" if seconds else ""))
        print(f"cluster: {describe(client)}")
        print(_memory_line(X, client), flush=True)
        fitted, result = fit_with_bar(X, y, model="logistic", client=client, quiet=args.quiet,
                                      solver=args.solver, tol=args.tol,
                                      max_iter=args.max_iter, cache=args.cache, store=path)
        metric = score(fitted, X, y, client)
    for line in summary_lines(fitted, result, metric):
        print(line)
    return 0
