"""An MLP epoch on one GPU: gdd-dask's mini-batch steps on CuPy chunks vs PyTorch.

The network of ``minibatch.py``'s ``mlp`` problem: one hidden layer of 64 relu units and
a logistic output, Adam at 1e-3, no penalty, float32, the same Glorot-uniform starting
weights for both; data from a random tanh teacher network (``--rows`` x 50), held on
the GPU by both (gdd-dask: a Dask array of CuPy chunks, in-process threads; PyTorch:
tensors, a plain loop with ``randperm`` batches). Per batch size, each tool trains one
epoch to warm up (kernels compiled, memory pools filled), then ``--epochs`` epochs from
the starting weights again, timed (the device synchronized at the end); reported are
seconds per epoch and per step, the ratio gdd-dask / PyTorch, and each tool's training
loss in its last epoch.

    python benchmarks/gpu_mlp.py [--rows 200000] [--batch 256 2048] [--epochs 2]
    python benchmarks/gpu_mlp.py --device cpu --rows 20000    # a dry run without a GPU

Prints one JSON object per batch size, then a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time

import dask
import dask.array as da
import numpy as np

import gdd_dask
from gdd_dask.losses import LogisticLoss
from gdd_dask.losses.mlp import MLPLoss

FEATURES, HIDDEN, LR = 50, 64, 1e-3


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, nargs="+", default=[256, 2048])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda",
                        help="cpu: NumPy chunks and PyTorch on the CPU (a dry run)")
    return parser.parse_args()


def teacher_data(rows, seed=0):
    """``X`` standard normal; ``y`` from a random tanh network of 32 units."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, FEATURES)).astype(np.float32)
    W1, W2 = rng.standard_normal((FEATURES, 32)) / np.sqrt(FEATURES), rng.standard_normal(32)
    p = 1.0 / (1.0 + np.exp(-np.tanh(X @ W1) @ W2 * 2))
    return X, (rng.random(rows) < p).astype(np.float32)


def glorot(seed=1):
    rng = np.random.default_rng(seed)
    bound1, bound2 = np.sqrt(6 / (FEATURES + HIDDEN)), np.sqrt(6 / (HIDDEN + 1))
    return (rng.uniform(-bound1, bound1, (FEATURES, HIDDEN)), np.zeros(HIDDEN),
            rng.uniform(-bound2, bound2, (HIDDEN, 1)), np.zeros(1))


def sync(device):
    if device == "cuda":
        import cupy

        cupy.cuda.Device().synchronize()


def gdd_epochs(X, y, batch, epochs, device, chunk_rows):
    """Seconds of ``epochs`` epochs after a warm-up one, and the last epoch's loss."""
    loss = MLPLoss((HIDDEN,), "relu", LogisticLoss())
    W1, b1, W2, b2 = glorot()
    x0 = loss.pack([W1, W2], [b1, b2], np)
    Xd, yd = da.from_array(X, chunks=(chunk_rows, -1)), da.from_array(y, chunks=chunk_rows)
    if device == "cuda":
        import cupy

        Xd, yd = (a.map_blocks(cupy.asarray, meta=cupy.empty((0,) * a.ndim, dtype=a.dtype))
                  for a in (Xd, yd))
    Xd, yd = dask.persist(Xd, yd)
    options = {"batch_size": batch, "learning_rate": LR, "random_state": 0,
               "evaluate": "running", "n_iter_no_change": 10**6, "dtype": "float32"}

    def fit(n):
        return gdd_dask.minimize(loss, Xd, yd, solver="adam", x0=x0, alpha=0.0, tol=0,
                                 max_iter=n, options=options)

    fit(1)
    sync(device)
    start = time.perf_counter()
    result = fit(epochs)
    sync(device)
    return (time.perf_counter() - start) / epochs, float(result.fun), int(result.state.count)


def torch_network(device, torch):
    """The network at the shared starting weights, its Adam and its batch order."""
    W1, b1, W2, b2 = glorot()
    net = torch.nn.Sequential(torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(),
                              torch.nn.Linear(HIDDEN, 1)).to(device)
    with torch.no_grad():
        for layer, (W, b) in zip((net[0], net[2]), ((W1, b1), (W2, b2))):
            layer.weight.copy_(torch.tensor(W.T, dtype=torch.float32))
            layer.bias.copy_(torch.tensor(b, dtype=torch.float32))
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    return net, opt, torch.Generator(device=device).manual_seed(0)


def torch_epoch(net, opt, generator, Xt, yt, batch, torch):
    """One epoch of ``randperm`` batches; the sum of the batch losses (on the device)."""
    total = torch.zeros((), device=Xt.device)
    perm = torch.randperm(Xt.shape[0], generator=generator, device=Xt.device)
    for start in range(0, Xt.shape[0], batch):
        rows = perm[start:start + batch]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(Xt[rows])[:, 0],
                                                                    yt[rows])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += loss.detach() * rows.shape[0]
    return total


def torch_epochs(X, y, batch, epochs, device):
    """As :func:`gdd_epochs`: a warm-up epoch, then ``epochs`` from the start again."""
    import torch

    Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    torch_epoch(*torch_network(device, torch), Xt, yt, batch, torch)
    if device == "cuda":
        torch.cuda.synchronize()
    net, opt, generator = torch_network(device, torch)
    start = time.perf_counter()
    for _ in range(epochs):
        total = torch_epoch(net, opt, generator, Xt, yt, batch, torch)
    final = float(total) / Xt.shape[0]  # waits for the device
    return (time.perf_counter() - start) / epochs, final


def main():
    args = arguments()
    X, y = teacher_data(args.rows)
    name = "cpu"
    if args.device == "cuda":
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    rows = []
    with dask.config.set(scheduler="threads"):
        for batch in args.batch:
            gdd_s, gdd_loss, steps = gdd_epochs(X, y, batch, args.epochs, args.device,
                                                args.chunk_rows)
            torch_s, torch_loss = torch_epochs(X, y, batch, args.epochs, args.device)
            per_epoch = -(-args.rows // batch)
            row = {"device": name, "rows": args.rows, "batch": batch,
                   "steps_per_epoch": per_epoch, "gdd_epoch_s": gdd_s,
                   "torch_epoch_s": torch_s, "gdd_step_us": gdd_s / per_epoch * 1e6,
                   "torch_step_us": torch_s / per_epoch * 1e6, "gdd_over_torch": gdd_s / torch_s,
                   "gdd_loss": gdd_loss, "torch_loss": torch_loss, "gdd_steps": steps}
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(f"\nMLP ({FEATURES}-{HIDDEN}-1 relu, Adam, float32) on {name}: {args.rows:,} rows\n")
    print("| batch | gdd-dask epoch | PyTorch epoch | gdd / PyTorch | step: gdd, PyTorch |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['batch']} | {r['gdd_epoch_s']:.3f} s | {r['torch_epoch_s']:.3f} s | "
              f"{r['gdd_over_torch']:.2f} | {r['gdd_step_us']:.0f} us, "
              f"{r['torch_step_us']:.0f} us |")


if __name__ == "__main__":
    main()
