"""The sparse store's layout: write and read throughput against the raw bytes.

    python benchmarks/sparse_store.py STORE [--repeat 3]

For an existing sparse store (e.g. ``benchmarks/hashed_text.py``'s), in one process:
reading every row chunk as a CSR matrix by the workers' own task
(``gdd_dask.csr_store.read_rows``, one thread), against reading the same files' bytes
(the floor any layout pays); and writing the matrix back with ``write_zarr`` from
memory. GB/s of CSR bytes (values, columns, row pointers). Prints JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from gdd_dask.csr_store import read_rows
from gdd_dask.datasets import open_zarr, read_attributes, write_zarr


def read_chunks(path, bounds, n_features):
    return [read_rows(path, "X", a, b, n_features) for a, b in bounds]


def raw_bytes(path):
    """Every file of the store's X, read whole."""
    total = 0
    for root, _, files in os.walk(Path(path) / "X"):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                total += len(f.read())
    return total


def best(func, repeat):
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    meta = read_attributes(args.store)
    n, p, rows = meta["n_samples"], meta["n_features"], meta["chunk_rows"]
    bounds = [(a, min(a + rows, n)) for a in range(0, n, rows)]
    gb = (12 * meta["nnz"] + 8 * (n + 1)) / 1e9
    results = []
    read_s, runs = best(lambda: read_chunks(args.store, bounds, p), args.repeat)
    results.append({"measure": "read row chunks (read_rows, 1 thread)", "s": read_s,
                    "runs": runs, "gb_per_s": gb / read_s})
    raw_s, runs = best(lambda: raw_bytes(args.store), args.repeat)
    results.append({"measure": "read the files' bytes (1 thread)", "s": raw_s, "runs": runs,
                    "gb_per_s": gb / raw_s})
    X, y = (a.compute(scheduler="threads") for a in open_zarr(args.store))
    with tempfile.TemporaryDirectory() as tmp:
        write_s, runs = best(lambda: write_zarr(Path(tmp) / "copy.zarr", X, y,
                                                chunk_rows=rows, overwrite=True), args.repeat)
    results.append({"measure": "write_zarr from a CSR matrix in memory", "s": write_s,
                    "runs": runs, "gb_per_s": gb / write_s})
    for row in results:
        row["csr_gb"], row["chunks"] = gb, len(bounds)
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v)
                          for k, v in row.items()}))
    assert np.isfinite(read_s)


if __name__ == "__main__":
    main()
