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
    return parser.parse_args()


def block(xp, seed, rows, features, dtype, w, block_info=None):
    """Rows of chunk ``i``: ``X`` standard normal, ``y`` from the logistic model."""
    i = block_info[None]["chunk-location"][0] if block_info else 0
    rng = xp.random.default_rng(seed + i)
    X = rng.standard_normal((rows, features), dtype=dtype)
    p = 1.0 / (1.0 + xp.exp(-(X @ xp.asarray(w, dtype=dtype))))
    y = (rng.random(rows, dtype=dtype) < p).astype(dtype)
    return xp.concatenate([X, y[:, None]], axis=1)


def problem(xp, args):
    itemsize = np.dtype(args.dtype).itemsize
    rows = int(args.gib * 2**30 / (args.features * itemsize))
    rows -= rows % args.chunk_rows if rows > args.chunk_rows else 0
    chunks = [min(args.chunk_rows, rows - s) for s in range(0, rows, args.chunk_rows)]
    w = np.linspace(-1, 1, args.features) / np.sqrt(args.features) * 4
    meta = xp.empty((0, args.features + 1), dtype=args.dtype)
    XY = da.map_blocks(block, xp, 0, args.chunk_rows, args.features, args.dtype, w,
                       chunks=(tuple(chunks), (args.features + 1,)), dtype=args.dtype,
                       meta=meta)
    # last chunk may be shorter: draw the full chunk size and keep its rows
    XY = XY.map_blocks(lambda b, block_info=None: b[: block_info[None]["chunk-shape"][0]],
                       dtype=args.dtype, meta=meta)
    XY = XY.persist()
    X, y = XY[:, :-1].persist(), XY[:, -1].persist()
    return X, y


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


def peak_bandwidth(xp):
    """Bytes per second: 2 (double data rate) x memory clock x bus width."""
    if xp.__name__ != "cupy":
        return None
    props = xp.cuda.runtime.getDeviceProperties(0)
    return 2 * props["memoryClockRate"] * 1e3 * props["memoryBusWidth"] / 8


def fit(X, y, tol):
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
        reduce_s = attainable(xp, X, args.repeat)
        peak = peak_bandwidth(xp)
        achieved = nbytes / gpu_pass
        rows.append({"measure": "bandwidth", "achieved_GBps": achieved / 1e9,
                     "reduction_GBps": nbytes / reduce_s / 1e9,
                     "peak_GBps": None if peak is None else peak / 1e9,
                     "fraction_of_peak": None if peak is None else achieved / peak,
                     "fraction_of_reduction": achieved / (nbytes / reduce_s)})
        gpu_fit, gpu_model = fit(X, y, args.tol)
        cpu_fit, cpu_model = fit(X_cpu, y_cpu, args.tol)
        rows.append({"measure": "logistic fit", "gpu_s": gpu_fit, "cpu_s": cpu_fit,
                     "cpu_over_gpu": cpu_fit / gpu_fit, "gpu_iterations": int(gpu_model.n_iter_[0]),
                     "cpu_iterations": int(cpu_model.n_iter_[0]),
                     "max_coef_difference": float(np.max(np.abs(gpu_model.coef_
                                                                - cpu_model.coef_)))})
    header = {"device": device, "host": host_name, "X_GiB": nbytes / 2**30,
              "shape": list(X.shape), "dtype": args.dtype, "chunks": X.numblocks[0]}
    print(json.dumps(header))
    for row in rows:
        print(json.dumps({**header, **row}))
    print(f"\n{device or 'no GPU (dry run)'} vs {host_name}: X {X.shape[0]:,} x "
          f"{X.shape[1]} {args.dtype}, {nbytes / 2**30:.1f} GiB in {X.numblocks[0]} chunks\n")
    print("| measure | GPU | CPU | CPU / GPU |\n|---|---|---|---|")
    for row in rows:
        if "gpu_s" in row:
            print(f"| {row['measure']} | {row['gpu_s']:.3f} s | {row['cpu_s']:.3f} s | "
                  f"{row['cpu_over_gpu']:.1f} |")
    bandwidth = rows[1]
    peak_text = "-" if bandwidth["peak_GBps"] is None else (
        f"{bandwidth['fraction_of_peak']:.0%} of the {bandwidth['peak_GBps']:.0f} GB/s peak")
    print(f"\nGPU pass: {bandwidth['achieved_GBps']:.0f} GB/s of X read; {peak_text}; "
          f"{bandwidth['fraction_of_reduction']:.0%} of a plain reduction's "
          f"{bandwidth['reduction_GBps']:.0f} GB/s")


if __name__ == "__main__":
    main()
