"""A gradient pass and a logistic fit on the GPU (CuPy chunks) and on the CPU cores.

Builds a logistic problem of ``--gib`` GiB of X directly in GPU memory (each chunk drawn
by its own seed), copies it to host memory, and measures side by side in one process:

- one gradient pass (``value_and_grad``: ``X @ w`` and ``X.T @ g`` over every chunk,
  tree-reduced), GPU vs CPU, median of ``--repeat``;
- the GPU pass's bandwidth: bytes of X read per second, as a fraction of the device's
  peak (memory clock x bus width) and of what a plain CuPy reduction over the same
  chunks attains;
- a full ``LogisticRegression`` fit (L-BFGS to ``--tol``), GPU vs CPU, with the
  largest coefficient difference.

    python benchmarks/gpu.py [--gib 12] [--features 100] [--chunk-rows 2000000]
    python benchmarks/gpu.py --namespace numpy --gib 0.05     # a dry run without a GPU

Prints one JSON object per measure, then a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings

import dask
import dask.array as da
import numpy as np

import gdd_dask


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=12.0, help="GiB of X (default 12)")
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--chunk-rows", type=int, default=2_000_000)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--namespace", choices=["cupy", "numpy"], default="cupy",
                        help="numpy: a dry run of the script on the CPU alone")
    parser.add_argument("--sparse-rows", type=int, default=1_000_000,
                        help="rows of the sparse problem (0: no sparse measures)")
    parser.add_argument("--sparse-features", type=int, default=2**20)
    parser.add_argument("--sparse-chunk-rows", type=int, default=250_000)
    parser.add_argument("--nnz", type=int, default=50, help="tokens a row of the sparse problem")
    parser.add_argument("--bandwidth-gib", type=float, default=0.0,
                        help="GiB of X of a GPU-only pass measure (0: none)")
    parser.add_argument("--bandwidth-chunk-rows", type=int, nargs="+", default=[2_000_000])
    return parser.parse_args()


def block(xp, seed, rows, features, dtype, w, block_info=None):
    """Rows of chunk ``i``: ``X`` standard normal, ``y`` from the logistic model."""
    i = block_info[None]["chunk-location"][0] if block_info else 0
    rng = xp.random.default_rng(seed + i)
    X = rng.standard_normal((rows, features), dtype=dtype)
    p = 1.0 / (1.0 + xp.exp(-(X @ xp.asarray(w, dtype=dtype))))
    y = (rng.random(rows, dtype=dtype) < p).astype(dtype)
    return xp.concatenate([X, y[:, None]], axis=1)


def problem(xp, args, gib=None, chunk_rows=None):
    gib, chunk_rows = gib or args.gib, chunk_rows or args.chunk_rows
    itemsize = np.dtype(args.dtype).itemsize
    rows = int(gib * 2**30 / (args.features * itemsize))
    rows -= rows % chunk_rows if rows > chunk_rows else 0
    chunks = [min(chunk_rows, rows - s) for s in range(0, rows, chunk_rows)]
    w = np.linspace(-1, 1, args.features) / np.sqrt(args.features) * 4
    meta = xp.empty((0, args.features + 1), dtype=args.dtype)
    XY = da.map_blocks(block, xp, 0, chunk_rows, args.features, args.dtype, w,
                       chunks=(tuple(chunks), (args.features + 1,)), dtype=args.dtype,
                       meta=meta)
    # last chunk may be shorter: draw the full chunk size and keep its rows
    XY = XY.map_blocks(lambda b, block_info=None: b[: block_info[None]["chunk-shape"][0]],
                       dtype=args.dtype, meta=meta)
    # X and y in chunks of their own, contiguous: the products of a strided view of
    # [X, y] would copy X first (and a plain reduction over it crawls)
    X = XY[:, :-1].map_blocks(xp.ascontiguousarray, dtype=args.dtype, meta=meta)
    y = XY[:, -1].map_blocks(xp.ascontiguousarray, dtype=args.dtype,
                             meta=xp.empty((0,), dtype=args.dtype))
    return dask.persist(X, y)


def host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def on_host(a):
    meta = np.empty((0,) * a.ndim, dtype=a.dtype)
    return a.map_blocks(host, meta=meta).persist()


def sync(xp):
    if xp.__name__ == "cupy":
        xp.cuda.Device().synchronize()


def median_pass(X, y, repeat):
    with gdd_dask.make_objective("logistic", X, y, alpha=1e-4) as objective:
        w = np.full(objective.n_params, 0.01)
        objective.value_and_grad(w)  # warm up: kernels compiled, BLAS threads started
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            objective.value_and_grad(w)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def attainable(xp, X, repeat):
    """Seconds for a plain reduction (``sum``) over every chunk of X: bandwidth bound."""
    blocks = [b for b in dask.compute(*X.to_delayed().ravel())]
    times = []
    for _ in range(repeat):
        sync(xp)
        start = time.perf_counter()
        for b in blocks:
            b.sum()
        sync(xp)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def products(xp, X, repeat):
    """Seconds for the two products of a pass alone (``z = X_b @ w``, ``X_b.T @ z``) over
    every chunk of X: what the array library's kernels attain, the loss and Dask left
    out."""
    blocks = [b for b in dask.compute(*X.to_delayed().ravel())]
    w = xp.full(X.shape[1], 0.01, dtype=X.dtype)
    times = []
    for _ in range(repeat):
        sync(xp)
        start = time.perf_counter()
        for b in blocks:
            b.T @ (b @ w)
        sync(xp)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sparse_chunk(xp, sp, seed, rows, features, nnz, coef):
    """One chunk of a hashed-text-like problem: ``nnz`` tokens a row drawn with
    ``P(column j) ~ 1 / (j + 1)`` (power law), values ``1 / sqrt(nnz)``; ``y`` from the
    logistic model of the sparse ``coef``."""
    rng = xp.random.default_rng(seed)
    columns = xp.minimum(xp.floor(features ** rng.random(rows * nnz)) - 1, features - 1)
    indptr = xp.arange(0, rows * nnz + 1, nnz, dtype=xp.int64)
    X = sp.csr_matrix((xp.full(rows * nnz, 1 / np.sqrt(nnz)), columns.astype(xp.int32), indptr),
                      shape=(rows, features))
    X.sum_duplicates()
    p = 1.0 / (1.0 + xp.exp(-(X @ xp.asarray(coef))))
    return X, (rng.random(rows) < p).astype(xp.float64)


def sparse_problem(xp, args):
    import importlib

    sp = importlib.import_module("cupyx.scipy.sparse" if xp.__name__ == "cupy"
                                 else "scipy.sparse")
    rng = np.random.default_rng(0)
    f, rows = args.sparse_features, args.sparse_chunk_rows
    coef = rng.standard_normal(f) * (rng.random(f) < 0.05) * 3
    sizes = [min(rows, args.sparse_rows - s) for s in range(0, args.sparse_rows, rows)]
    parts = dask.persist(*[dask.delayed(sparse_chunk, nout=2)(xp, sp, i, n, f, args.nnz, coef)
                           for i, n in enumerate(sizes)])
    meta = sp.csr_matrix((0, 0), dtype=np.float64)
    X = da.concatenate([da.from_delayed(p[0], (n, f), dtype=np.float64, meta=meta)
                        for p, n in zip(parts, sizes)])
    y = da.concatenate([da.from_delayed(p[1], (n,), dtype=np.float64,
                                        meta=xp.empty(0, dtype=np.float64))
                        for p, n in zip(parts, sizes)])
    return X.persist(), y.persist()


def sparse_on_host(X):
    import scipy.sparse

    return X.map_blocks(lambda b: b.get() if hasattr(b, "get") else b,
                        meta=scipy.sparse.csr_matrix((0, 0))).persist()


def sparse_rows(xp, args):
    """The sparse measures: a gradient pass and a fit, GPU vs CPU."""
    X, y = sparse_problem(xp, args)
    X_cpu, y_cpu = sparse_on_host(X), on_host(y)
    gpu_pass, cpu_pass = median_pass(X, y, args.repeat), median_pass(X_cpu, y_cpu, args.repeat)
    gpu_fit, gpu_model = fit(X, y, args.tol, warm=True)
    cpu_fit, cpu_model = fit(X_cpu, y_cpu, args.tol)
    nnz = sum(dask.compute(*[dask.delayed(lambda b: b.nnz)(b) for b in X.to_delayed().ravel()]))
    shape = f"{X.shape[0]:,} x {X.shape[1]:,}, {nnz / X.shape[0]:.0f} stored a row"
    return [{"measure": "sparse gradient pass", "shape": shape, "gpu_s": gpu_pass,
             "cpu_s": cpu_pass, "cpu_over_gpu": cpu_pass / gpu_pass},
            {"measure": "sparse logistic fit", "shape": shape, "gpu_s": gpu_fit, "cpu_s": cpu_fit,
             "cpu_over_gpu": cpu_fit / gpu_fit, "gpu_iterations": int(gpu_model.n_iter_[0]),
             "cpu_iterations": int(cpu_model.n_iter_[0]),
             "max_coef_difference": float(np.max(np.abs(gpu_model.coef_ - cpu_model.coef_)))}]


def bandwidth_rows(xp, args):
    """The GPU pass alone on ``--bandwidth-gib`` of X, per ``--bandwidth-chunk-rows``:
    bytes of X read per second by a pass, by its two products alone, by a plain sum."""
    rows, peak = [], peak_bandwidth(xp)
    for chunk_rows in args.bandwidth_chunk_rows:
        X, y = problem(xp, args, gib=args.bandwidth_gib, chunk_rows=chunk_rows)
        nbytes = X.nbytes
        seconds = {"pass": median_pass(X, y, args.repeat),
                   "products": products(xp, X, args.repeat),
                   "reduction": attainable(xp, X, args.repeat)}
        rows.append({"measure": "GPU bandwidth", "X_GiB": nbytes / 2**30,
                     "chunk_rows": chunk_rows, "chunks": X.numblocks[0],
                     **{f"{k}_s": v for k, v in seconds.items()},
                     **{f"{k}_GBps": nbytes / v / 1e9 for k, v in seconds.items()},
                     "peak_GBps": None if peak is None else peak / 1e9,
                     "pass_fraction_of_peak": None if peak is None else
                     nbytes / seconds["pass"] / peak})
        del X, y
    return rows


def peak_bandwidth(xp):
    """Bytes per second: 2 (double data rate) x memory clock x bus width."""
    if xp.__name__ != "cupy":
        return None
    props = xp.cuda.runtime.getDeviceProperties(0)
    return 2 * props["memoryClockRate"] * 1e3 * props["memoryBusWidth"] / 8


def fit(X, y, tol, *, warm=False):
    """Seconds of a ``LogisticRegression`` fit to ``tol`` (after a short one, or with
    ``warm`` the same fit: the first fit's imports and kernel compilations are not
    timed), and the model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdd_dask.LogisticRegression(C=1.0, tol=tol, max_iter=500 if warm else 1).fit(X, y)
    start = time.perf_counter()
    model = gdd_dask.LogisticRegression(C=1.0, tol=tol, max_iter=500).fit(X, y)
    return time.perf_counter() - start, model


def main():
    args = arguments()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    xp = __import__(args.namespace)
    device = host_name = None
    if xp.__name__ == "cupy":
        props = xp.cuda.runtime.getDeviceProperties(0)
        device = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    host_name = f"{os.cpu_count()} CPU cores"
    rows = []
    with dask.config.set(scheduler="threads"):
        X, y = problem(xp, args)
        X_cpu, y_cpu = on_host(X), on_host(y)
        nbytes = X.nbytes
        gpu_pass = median_pass(X, y, args.repeat)
        cpu_pass = median_pass(X_cpu, y_cpu, args.repeat)
        rows.append({"measure": "gradient pass", "gpu_s": gpu_pass, "cpu_s": cpu_pass,
                     "cpu_over_gpu": cpu_pass / gpu_pass})
        reduce_s, products_s = attainable(xp, X, args.repeat), products(xp, X, args.repeat)
        peak = peak_bandwidth(xp)
        achieved = nbytes / gpu_pass
        rows.append({"measure": "bandwidth", "achieved_GBps": achieved / 1e9,
                     "reduction_GBps": nbytes / reduce_s / 1e9,
                     "products_GBps": nbytes / products_s / 1e9,
                     "peak_GBps": None if peak is None else peak / 1e9,
                     "fraction_of_peak": None if peak is None else achieved / peak,
                     "fraction_of_reduction": achieved / (nbytes / reduce_s)})
        gpu_fit, gpu_model = fit(X, y, args.tol, warm=True)
        cpu_fit, cpu_model = fit(X_cpu, y_cpu, args.tol)
        rows.append({"measure": "logistic fit", "gpu_s": gpu_fit, "cpu_s": cpu_fit,
                     "cpu_over_gpu": cpu_fit / gpu_fit, "gpu_iterations": int(gpu_model.n_iter_[0]),
                     "cpu_iterations": int(cpu_model.n_iter_[0]),
                     "max_coef_difference": float(np.max(np.abs(gpu_model.coef_
                                                                - cpu_model.coef_)))})
        header = {"device": device, "host": host_name, "X_GiB": nbytes / 2**30,
                  "shape": list(X.shape), "dtype": args.dtype, "chunks": X.numblocks[0]}
        print(json.dumps(header), flush=True)
        for row in rows:
            print(json.dumps({**header, **row}), flush=True)
        del X, y, X_cpu, y_cpu
        if args.sparse_rows:
            for row in sparse_rows(xp, args):
                print(json.dumps({**header, **row}), flush=True)
                rows.append(row)
        if args.bandwidth_gib:
            for row in bandwidth_rows(xp, args):
                print(json.dumps({**header, **row}), flush=True)
    print(f"\n{device or 'no GPU (dry run)'} vs {host_name}: X {header['shape'][0]:,} x "
          f"{header['shape'][1]} {args.dtype}, {nbytes / 2**30:.1f} GiB in {header['chunks']} "
          "chunks\n")
    print("| measure | GPU | CPU | CPU / GPU |\n|---|---|---|---|")
    for row in rows:
        if "gpu_s" in row:
            print(f"| {row['measure']} {row.get('shape', '')} | {row['gpu_s']:.3f} s | "
                  f"{row['cpu_s']:.3f} s | "
                  f"{row['cpu_over_gpu']:.1f} |")
    bandwidth = rows[1]
    peak_text = "-" if bandwidth["peak_GBps"] is None else (
        f"{bandwidth['fraction_of_peak']:.0%} of the {bandwidth['peak_GBps']:.0f} GB/s peak")
    print(f"\nGPU pass: {bandwidth['achieved_GBps']:.0f} GB/s of X read; {peak_text}; "
          f"{bandwidth['fraction_of_reduction']:.0%} of a plain reduction's "
          f"{bandwidth['reduction_GBps']:.0f} GB/s; the two products alone "
          f"{bandwidth['products_GBps']:.0f} GB/s")


if __name__ == "__main__":
    main()
