"""The ``gdd-dask`` command."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _parser():
    parser = argparse.ArgumentParser(
        prog="gdd-dask", description="Distributed gradient descent on chunked Dask arrays."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit a synthetic logistic problem on a LocalCluster")
    demo.add_argument("--rows", type=int, default=300_000, help="samples (default 300000)")
    demo.add_argument("--features", type=int, default=20, help="features (default 20)")
    demo.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    demo.add_argument("--chunk-rows", type=int, default=25_000, help="rows per chunk")
    demo.add_argument("--solver", default="lbfgs", help="solver name (default lbfgs)")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        for name in ("rows", "features", "workers", "chunk_rows"):
            if getattr(args, name) < 1:
                _parser().error(f"--{name.replace('_', '-')} must be >= 1")
        run_demo(n_samples=args.rows, n_features=args.features, n_workers=args.workers,
                 solver=args.solver, chunk_rows=args.chunk_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
