"""The ``gdd-dask`` command: make datasets, fit and predict on a Dask cluster, a demo.

::

    gdd-dask data make NAME [--out PATH]       a synthetic Zarr store (catalog or options)
    gdd-dask data list | data info STORE
    gdd-dask fit STORE --model logistic [--out model.json] [--workers N] [--scheduler ...]
    gdd-dask predict MODEL.json STORE --out PRED.zarr
    gdd-dask demo                              out-of-core fit of a generated store

Errors in what was asked (a missing store, wrong array names, arrays that disagree, bad
options) print one line on stderr and exit with code 2; an unexpected failure prints
one line and exits with 1 (``--traceback`` shows it whole); Ctrl-C exits with 130.
"""

from __future__ import annotations

import sys

from .args import EXIT_USAGE, CommandError, Parser

__all__ = ["main"]

EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130


def build_parser():
    from .. import demo
    from . import data, fit, predict

    parser = Parser(prog="gdd-dask",
                    description="Distributed gradient descent on chunked Dask arrays.")
    parser.add_argument("--traceback", action="store_true",
                        help="show the whole traceback of an unexpected failure")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (data, fit, predict, demo):
        module.add_parser(sub)
    return parser


def _one_line(exc):
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (CommandError, ValueError, TypeError) as exc:
        sys.stderr.write(f"gdd-dask {args.command}: error: {_one_line(exc)}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write(f"gdd-dask {args.command}: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception as exc:
        if args.traceback:
            raise
        sys.stderr.write(f"gdd-dask {args.command}: failed: {type(exc).__name__}: "
                         f"{_one_line(exc)} (--traceback shows where)\n")
        return EXIT_FAILURE
