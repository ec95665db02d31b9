"""``gdd-dask data``: make a dataset (from the catalog or options), list the catalog,
describe a store."""

from __future__ import annotations

import time

from .args import CommandError, count, non_negative
from .progress import RowsBar

__all__ = ["add_parser"]

RECIPE_OPTIONS = ("kind", "rows", "features", "chunk_rows", "seed", "classes", "noise",
                  "codec", "nonzeros")


def add_parser(sub):
    from ..datasets.synthetic import KINDS

    parser = sub.add_parser("data", help="make, list and describe datasets",
                            description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="data_command", required=True, metavar="COMMAND")
    make = commands.add_parser(
        "make", help="write a synthetic dataset to a Zarr store",
        description="Write the catalog's dataset NAME (gdd-dask data list), changed by any "
                    "option given, or a new one from --kind, --rows and --features, to "
                    "datasets/NAME.zarr or --out.")
    make.add_argument("name", metavar="NAME", help="a catalog name, or a new dataset's name")
    make.add_argument("--out", metavar="PATH", help="the store (default datasets/NAME.zarr)")
    make.add_argument("--kind", choices=KINDS)
    make.add_argument("--rows", type=count(1), help="samples")
    make.add_argument("--features", type=count(1), help="features")
    make.add_argument("--classes", type=count(2), help="classes (classification; default 2)")
    make.add_argument("--chunk-rows", type=count(1), help="rows per chunk (default ~16 MiB)")
    make.add_argument("--seed", type=count(0), help="random seed (default 0)")
    make.add_argument("--noise", type=non_negative, help="noise sd (regression; default 1)")
    make.add_argument("--nonzeros", type=count(1),
                      help="tokens a row (sparse kind hashed_text; default 50)")
    make.add_argument("--codec", help="compression (default none; see datasets/README.md)")
    make.add_argument("--catalog", metavar="TOML", help="another catalog file")
    make.add_argument("--overwrite", action="store_true", help="replace an existing store")
    make.add_argument("--quiet", action="store_true", help="no progress bar")
    make.set_defaults(run=run_make)
    listing = commands.add_parser("list", help="list the catalog's datasets")
    listing.add_argument("--catalog", metavar="TOML", help="another catalog file")
    listing.set_defaults(run=run_list)
    info = commands.add_parser("info", help="describe a store")
    info.add_argument("store", metavar="STORE", help="a Zarr store, or a catalog name made")
    info.set_defaults(run=run_info)
    return parser


def recipe_from(args):
    """The catalog's recipe ``args.name`` with the options given, or a new one."""
    from ..datasets import Recipe, load_catalog

    given = {k: getattr(args, k) for k in RECIPE_OPTIONS if getattr(args, k) is not None}
    catalog = load_catalog(args.catalog)
    if args.name in catalog:
        return catalog[args.name]._replace(**given)
    missing = [f"--{k}" for k in ("kind", "rows", "features") if k not in given]
    if missing:
        raise CommandError(f"{args.name!r} is not in the catalog ({', '.join(sorted(catalog))});"
                           f" a new dataset needs {', '.join(missing)}")
    recipe = Recipe(name=args.name, **{"seed": 0, "chunk_rows": 1, **given})
    return recipe if "chunk_rows" in given else recipe._replace(
        chunk_rows=recipe.auto_chunk_rows())


def run_make(args):
    from dask.utils import format_bytes

    from ..datasets import default_store_path
    from ..datasets.codecs import compressors
    from ..datasets.store import prepare_path

    if args.out is None and ("/" in args.name or args.name in ("", ".", "..")):
        raise CommandError(f"NAME must be a plain name, not a path ({args.name!r}); "
                           "give the path with --out")
    recipe = recipe_from(args)
    compressors(recipe.codec)  # an unknown codec fails before anything is written
    path = prepare_path(args.out or default_store_path(args.name), args.overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    bar = RowsBar(total=recipe.rows, label=f"writing {path}", enabled=not args.quiet)
    start = time.perf_counter()
    try:
        meta = recipe.make(path, overwrite=args.overwrite, callback=bar)
    finally:
        bar.close()
    classes = f", {recipe.classes} classes" if recipe.kind == "classification" else ""
    if recipe.sparse:
        classes += f", {meta['nnz'] / recipe.rows:.1f} stored values a row"
    layout = "sparse (CSR)" if recipe.sparse else "float64"
    print(f"wrote {path}: {recipe.rows:,} x {recipe.features} {layout} ({recipe.kind}{classes})"
          f" in chunks of {meta['chunk_rows']:,} rows, {format_bytes(recipe.nbytes)}, "
          f"codec {recipe.codec}, seed {recipe.seed}, in {time.perf_counter() - start:.2f} s")
    print(f"fit it with: gdd-dask fit {path} --model {meta['model']}")
    return 0


def run_list(args):
    from dask.utils import format_bytes

    from ..datasets import catalog_path, load_catalog

    catalog = load_catalog(args.catalog)
    print(f"{'name':<12} {'kind':<15} {'rows':>10} {'features':>8} {'chunk rows':>10} "
          f"{'size':>9}  description")
    for r in catalog.values():
        kind = r.kind if r.kind != "classification" or r.classes == 2 \
            else f"{r.classes}-class"
        print(f"{r.name:<12} {kind:<15} {r.rows:>10,} {r.features:>8} {r.chunk_rows:>10,} "
              f"{format_bytes(r.nbytes):>9}  {r.description}")
    print(f"(from {args.catalog or catalog_path()})")
    return 0


def run_info(args):
    from dask.utils import format_bytes

    from .store_arg import describe_x, open_store

    path, X, y, meta = open_store(args.store)
    layout, size = describe_x(X, meta)
    print(f"{path}: X {X.shape[0]:,} x {X.shape[1]} {layout}, y {y.dtype}, "
          f"{X.numblocks[0]} chunks of {X.chunks[0][0]:,} rows, {format_bytes(size)}")
    for key, value in meta.items():
        text = repr(value)
        print(f"  {key}: {text if len(text) <= 100 else text[:97] + '...'}")
    return 0
