"""Codecs on synthetic float64 data: size on disk, write time, read+decode throughput.

    python benchmarks/codecs.py [--rows 400000] [--features 100] [--chunk-rows 25000]

For each codec of ``gdd_dask.datasets.CODECS`` it writes the same logistic problem
(``make_classification``) to a store in ``--dir`` (default: a temporary folder) and
measures, chunk by chunk as a streaming pass reads it:

- ``ratio``: bytes on disk / raw bytes;
- ``write_s``: the generator's wall time (drawing + encoding + writing);
- ``read_1t``, ``read_2t``: GB/s of decoded X, read one chunk per call on 1 and 2
  threads (2 cores: the two workers of the demo cluster), files in the page cache;
- ``pass_2t``: GB/s of a gradient-like pass on 2 threads, ``X.T @ (X @ w)`` per chunk
  after reading it (what one ``gdd-grad`` task does);
- ``cold_2t``: ``read_2t`` after dropping the store's pages from the page cache
  (``posix_fadvise(DONTNEED)``), i.e. from the disk;
- ``dask_pass``: GB/s of a real streaming pass of gdd-dask, ``value_and_grad`` of the
  logistic objective with ``cache="none"`` on a LocalCluster of two one-thread worker
  processes (best of three passes).

Prints one JSON line per codec, then a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one BLAS thread per task, as on a Dask worker

import numpy as np  # noqa: E402

from gdd_dask.datasets import CODECS, make_classification  # noqa: E402
from gdd_dask.datasets.blocks import block_bounds, ordered_map  # noqa: E402


def _disk_bytes(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def _drop_cache(path):
    for f in Path(path).rglob("*"):
        if f.is_file():
            fd = os.open(f, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _throughput(X, threads, work=None):
    """Best-of-two GB/s of decoded X, reading one chunk per call on ``threads`` threads."""
    bounds = block_bounds(X.shape[0], X.chunks[0])
    w = np.ones(X.shape[1])

    def read(bound):
        block = X[bound[0]:bound[1]]
        if work:
            block.T @ (block @ w)
        return block.nbytes

    start = time.perf_counter()
    total = sum(ordered_map(read, bounds, workers=threads, window=2 * threads))
    return total / (time.perf_counter() - start) / 1e9


def _dask_pass(path, client):
    """GB/s of X in the best of three streaming ``value_and_grad`` passes."""
    import gdd_dask
    from gdd_dask.datasets import open_zarr

    X, y = open_zarr(path)
    with gdd_dask.make_objective("logistic", X, y, client=client, cache="none") as objective:
        params = np.zeros(objective.n_params)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            objective.value_and_grad(params)
            best = min(best, time.perf_counter() - start)
    return X.nbytes / best / 1e9


def measure(codec, root, *, rows, features, chunk_rows, client=None):
    import zarr

    path = Path(root) / f"{codec}.zarr"
    start = time.perf_counter()
    make_classification(path, n_samples=rows, n_features=features, chunk_rows=chunk_rows,
                        codec=codec, overwrite=True)
    write_s = time.perf_counter() - start
    X = zarr.open_group(path, mode="r")["X"]
    raw = rows * features * 8
    row = {"codec": codec, "rows": rows, "features": features, "chunk_rows": chunk_rows,
           "ratio": round(_disk_bytes(path / "X") / raw, 4), "write_s": round(write_s, 3)}
    for name, threads, work in (("read_1t", 1, False), ("read_2t", 2, False),
                                ("pass_2t", 2, True)):
        row[name] = round(max(_throughput(X, threads, work) for _ in range(2)), 3)
    _drop_cache(path)
    row["cold_2t"] = round(_throughput(X, 2), 3)
    if client is not None:
        row["dask_pass"] = round(_dask_pass(path, client), 3)
    return row


def _table(rows):
    keys = [k for k in ("codec", "ratio", "write_s", "read_1t", "read_2t", "pass_2t",
                        "cold_2t", "dask_pass") if k in rows[0]]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def _client(stack):
    from distributed import Client, LocalCluster

    cluster = stack.enter_context(LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, memory_limit="2GB"))
    return stack.enter_context(Client(cluster, set_as_default=False))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--chunk-rows", type=int, default=25_000)
    parser.add_argument("--codecs", nargs="+", default=list(CODECS), choices=list(CODECS))
    parser.add_argument("--dir", help="where the stores go (default: a temporary folder)")
    parser.add_argument("--no-dask", action="store_true", help="skip the dask_pass column")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as root, ExitStack() as stack:
        client = None if args.no_dask else _client(stack)
        make_classification(Path(root) / "warm-up.zarr", n_samples=1000, n_features=10)
        rows = []
        for codec in args.codecs:
            rows.append(measure(codec, root, rows=args.rows, features=args.features,
                                chunk_rows=args.chunk_rows, client=client))
            print(json.dumps(rows[-1]), flush=True)
            shutil.rmtree(Path(root) / f"{codec}.zarr")
    print()
    print(_table(rows))


if __name__ == "__main__":
    main()
