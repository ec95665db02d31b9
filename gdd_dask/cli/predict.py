"""``gdd-dask predict MODEL STORE --out PRED.zarr``: predictions written chunk by chunk.

The model file (``gdd-dask fit --out``) is applied lazily to the store's X, one task
per row chunk, each writing its own chunk of a new Zarr v3 array: labels
(classifiers), means (regressors) or, with ``--proba``, class probabilities
``(n_samples, n_classes)``. The array's attributes say what it holds.
"""

from __future__ import annotations

import time

from .cluster import add_cluster_options, open_client
from .model import load_model
from .store_arg import open_store

__all__ = ["add_parser", "run", "write_predictions"]


def add_parser(sub):
    parser = sub.add_parser("predict", help="predict with a fitted model, to a Zarr array",
                            description=__doc__.split("\n\n")[0])
    parser.add_argument("model", metavar="MODEL", help="a model file from gdd-dask fit --out")
    parser.add_argument("store", metavar="STORE", help="a Zarr store with an array X")
    parser.add_argument("--out", required=True, metavar="PRED.zarr",
                        help="the Zarr array to write")
    parser.add_argument("--proba", action="store_true",
                        help="class probabilities instead of labels (classifiers)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.add_argument("--x-name", default="X", help="the store's feature array (default X)")
    parser.add_argument("--verbose", action="store_true", help="show the workers' warnings")
    add_cluster_options(parser)
    parser.set_defaults(run=run)
    return parser


def _create_array(path, prediction, *, overwrite, attributes):
    """An empty Zarr v3 array shaped and chunked like ``prediction`` (row chunks)."""
    import zarr

    from ..datasets.codecs import DEFAULT_CODEC, compressors
    from ..datasets.store import prepare_path

    path = prepare_path(path, overwrite)
    chunks = (prediction.chunks[0][0],) + prediction.shape[1:]
    return zarr.create_array(path, shape=prediction.shape, chunks=chunks,
                             dtype=prediction.dtype, compressors=compressors(DEFAULT_CODEC),
                             attributes=attributes, overwrite=overwrite, zarr_format=3)


def write_predictions(fitted, X, path, *, client, proba=False, overwrite=False, source=None):
    """Write ``fitted``'s predictions of the Dask array ``X`` to a Zarr array at
    ``path``, one task per row chunk; return the array's attributes."""
    import dask.array as da

    from ..datasets.store import removed_on_error

    prediction = fitted.predict(X, proba=proba)
    prediction = prediction.rechunk({0: prediction.chunks[0][0]})  # whole Zarr chunks
    output = "probabilities" if proba else (
        "labels" if fitted.classes is not None else "means")
    attributes = {"gdd_dask": {"model": fitted.model, "output": output,
                               "classes": fitted.classes if output != "means" else None,
                               "store": None if source is None else str(source)}}
    target = _create_array(path, prediction, overwrite=overwrite, attributes=attributes)
    with removed_on_error(path):
        client.compute(da.store(prediction, target, lock=False, compute=False), sync=True)
    return attributes["gdd_dask"]


def run(args):
    fitted = load_model(args.model)
    path, X, _, _ = open_store(args.store, x_name=args.x_name, y_name=None)
    if args.proba and fitted.classes is None:
        raise ValueError(f"--proba needs a classifier; {args.model} is a {fitted.model} model")
    if X.shape[1] != fitted.n_features:
        raise ValueError(f"{args.model} has {fitted.n_features} features but X in {path} "
                         f"has {X.shape[1]} columns")
    from ..datasets.store import prepare_path

    prepare_path(args.out, args.overwrite)  # fail before the cluster starts
    with open_client(args) as client:
        print(f"dashboard: {client.dashboard_link}", flush=True)
        start = time.perf_counter()
        meta = write_predictions(fitted, X, args.out, client=client, proba=args.proba,
                                 overwrite=args.overwrite, source=path)
        wall = time.perf_counter() - start
    print(f"predictions: {X.shape[0]:,} {meta['output']} of the {fitted.model} model "
          f"written to {args.out} ({X.numblocks[0]} chunks) in {wall:.2f} s")
    return 0
