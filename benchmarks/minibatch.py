"""Mini-batch training side by side: gdd-dask's epoch modes, scikit-learn and PyTorch.

    python benchmarks/minibatch.py [--size full|smoke] [--repeat 3] [--out-dir DIR]
    python benchmarks/run.py --suite minibatch      # the same, full size

Everything runs on this machine in one process tree, one tool at a time, on the same
data (generated once on a 2-worker loopback LocalCluster and copied to NumPy for the
in-memory peers):

- ``mlp``: a two-class problem from a random tanh teacher network (full: 500,000 x
  50, 50,000 held out), an MLP (64,) relu with a logistic output, Adam at 1e-3,
  batches of 256, 3 epochs, no penalty; every network starts from the same
  Glorot-uniform weights (scikit-learn draws its own). gdd-dask on the cluster (data
  in the workers' memory) in each mode -- chunk order in float64 and float32,
  data-parallel, asynchronous (``max_staleness=1``) -- and in-process; scikit-learn's
  ``MLPClassifier(solver="adam")`` (``partial_fit``, one epoch a call); a plain PyTorch
  loop (``torch.set_num_threads(2)``, tensors in memory, float32); PyTorch
  ``DistributedDataParallel`` over gloo on two processes of one thread (127.0.0.1),
  each with half the rows and half of each global batch.
- ``sgd``: log-loss SGD on a 2,000,000 x 100 logistic problem, 1 epoch: gdd-dask's
  ``SGDClassifier(batch_size=256)`` on the cluster and in-process, scikit-learn's
  ``SGDClassifier`` (one row a step, its own Cython loop).
- ``async``: a 400,000 x 50 logistic problem with ``alpha = 1/n``: time to a relative
  objective gap of 1e-3 (the objective from a pass after each epoch) of SGD with
  momentum in chunk order, data-parallel and asynchronous.

Each tool runs ``--repeat`` times, in turn; reported is its run of median time per
epoch. Reported per tool: wall seconds per epoch (the whole fit divided by its epochs, set-up
included; and, over two or more epochs, the steady time from the first epoch's end to
the last's), held-out accuracy after each epoch (time spent scoring excluded), the
time to a held-out accuracy half a point below PyTorch's final one, and for the
cluster runs the scheduler's share: the epoch's wall time less its step tasks' compute
time, per step. Prints JSON lines, writes ``<out-dir>/minibatch-<size>.jsonl`` and
``.md``. PyTorch is optional (``pip install -e ".[bench]"``); without it its rows are
skipped with a note.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import dask.array as da
import numpy as np
from dask.utils import key_split
from distributed import Client, LocalCluster, futures_of, get_task_stream
from report import machine

import gdd_dask
from gdd_dask.losses import LogisticLoss
from gdd_dask.losses.mlp import MLPLoss
from gdd_dask.schedules import inverse_scaling

HERE = Path(__file__).resolve().parent
SIZES = {
    "full": {"mlp": (500_000, 50, 50_000), "sgd": (2_000_000, 100), "async": (400_000, 50),
             "chunk_rows": 50_000, "epochs": 3, "async_epochs": 6},
    "smoke": {"mlp": (20_000, 10, 2_000), "sgd": (40_000, 20), "async": (20_000, 10),
              "chunk_rows": 5_000, "epochs": 2, "async_epochs": 3},
}
HIDDEN, BATCH, LR = 64, 256, 1e-3
ACCURACY_SLACK = 0.005  # "within half a point of PyTorch"


# -- data ----------------------------------------------------------------------------
def teacher_problem(client, n, d, chunk_rows, seed):
    """``(X, y)`` Dask arrays on the cluster: ``y = [tanh(X A) b + noise > 0]``."""
    rng = np.random.default_rng(seed)
    A, b = rng.standard_normal((d, 16)) / np.sqrt(d), rng.standard_normal(16)
    X = da.random.RandomState(seed).standard_normal((n, d), chunks=(chunk_rows, d))
    noise = da.random.RandomState(seed + 1).standard_normal(n, chunks=chunk_rows)
    y = ((da.tanh(X @ A) @ b + 0.3 * noise) > 0).astype(float)
    return client.persist([X, y])


def linear_problem(client, n, d, chunk_rows, seed):
    """``(X, y)`` of a logistic model with coefficients of unit scale."""
    w = np.random.default_rng(seed).standard_normal(d) / np.sqrt(d) * 3
    X = da.random.RandomState(seed).standard_normal((n, d), chunks=(chunk_rows, d))
    u = da.random.RandomState(seed + 1).random_sample(n, chunks=chunk_rows)
    y = (u < 1 / (1 + da.exp(-(X @ w)))).astype(float)
    return client.persist([X, y])


def gathered(client, a):
    """A persisted Dask array as one NumPy array, its chunks gathered straight from
    their workers (``compute`` would first copy them all onto one worker, to join them
    there, and leave it busy freeing 2 GB during the next measurement)."""
    return np.concatenate(client.gather(futures_of(a)))


def glorot(d, seed=0):
    """Glorot-uniform weights ``(W1, b1, W2, b2)`` of the (HIDDEN,) network."""
    rng = np.random.default_rng(seed)
    b1, b2 = np.sqrt(6 / (d + HIDDEN)), np.sqrt(6 / (HIDDEN + 1))
    return (rng.uniform(-b1, b1, (d, HIDDEN)), rng.uniform(-b1, b1, HIDDEN),
            rng.uniform(-b2, b2, (HIDDEN, 1)), rng.uniform(-b2, b2, 1))


def mlp_accuracy(params, X, y):
    W1, b1, W2, b2 = params
    return float(np.mean(((np.maximum(X @ W1 + b1, 0) @ W2 + b2)[:, 0] > 0) == (y > 0.5)))


class Clock:
    """Wall time of a fit with the time spent scoring after each epoch taken out."""

    def __init__(self):
        self.start, self.excluded, self.marks = time.perf_counter(), 0.0, []

    def mark(self, score):
        """Record an epoch's end, then ``score()`` (not counted)."""
        at = time.perf_counter() - self.start - self.excluded
        begin = time.perf_counter()
        value = score()
        self.excluded += time.perf_counter() - begin
        self.marks.append((at, value))

    def row(self, **fields):
        times = [t for t, _ in self.marks]
        total = times[-1] if times else time.perf_counter() - self.start - self.excluded
        steady = (times[-1] - times[0]) / (len(times) - 1) if len(times) > 1 else None
        return {"s_per_epoch": total / max(1, len(times)), "steady_s_per_epoch": steady,
                "epochs": len(times), "curve": [(round(t, 3), v) for t, v in self.marks],
                **fields}


# -- the MLP -------------------------------------------------------------------------
def gdd_mlp(X, y, test, init, epochs, label, **kwargs):
    loss = MLPLoss((HIDDEN,), "relu", LogisticLoss())
    W1, b1, W2, b2 = init
    x0 = loss.pack([W1, W2], [b1, b2], np)
    d = X.shape[1]
    options = {"batch_size": BATCH, "learning_rate": LR, "random_state": 0,
               "evaluate": "running", "n_iter_no_change": 10**6, **kwargs.pop("options", {})}
    clock = Clock()

    def callback(info):
        Ws, bs = loss.unpack(info.x, d, fit_intercept=True, xp=np)
        clock.mark(lambda: mlp_accuracy((Ws[0], bs[0], Ws[1], bs[1]), *test))

    with get_task_stream(client=kwargs.get("client")) if kwargs.get("client") else \
            _nothing() as stream:
        result = gdd_dask.minimize(loss, X, y, solver="adam", x0=x0, alpha=0.0, tol=0,
                                   max_iter=epochs, callback=callback, options=options,
                                   **kwargs)
    chained = not ({"data_parallel", "max_staleness"} & set(options))
    return clock.row(tool="gdd-dask", mode=label, accuracy=clock.marks[-1][1],
                     steps=int(result.state.count),
                     **(_scheduler(stream, clock, result) if chained else {}))


class _nothing:
    data = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _scheduler(stream, clock, result):
    """The scheduler's share of the epochs: wall time less the step tasks' compute,
    per step (cluster runs)."""
    if stream is None or stream.data is None:
        return {}
    compute = _compute(stream, ("gdd-sgd", "gdd-parallel", "gdd-async"))
    steps = int(result.state.count)
    epochs_wall = sum(b - a for (a, _), (b, _) in zip([(0.0, 0)] + clock.marks[:-1],
                                                        clock.marks))
    return {"task_compute_s": compute,
            "overhead_ms_per_step": 1e3 * (epochs_wall - compute) / steps if steps else None}


def _compute(stream, prefixes):
    """Seconds the tasks of ``prefixes`` computed (from a task stream)."""
    return sum(s["stop"] - s["start"] for task in stream.data for s in task["startstops"]
               if s["action"] == "compute" and key_split(task["key"]) in prefixes)


def sklearn_mlp(X, y, test, epochs):
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(HIDDEN,), solver="adam", batch_size=BATCH,
                          learning_rate_init=LR, alpha=0.0, random_state=0)
    clock = Clock()
    for _ in range(epochs):
        model.partial_fit(X, y, classes=[0.0, 1.0])
        clock.mark(lambda: float(model.score(*test)))
    return clock.row(tool="scikit-learn", mode="MLPClassifier adam", accuracy=clock.marks[-1][1])


def torch_network(init, torch):
    W1, b1, W2, b2 = (torch.tensor(a, dtype=torch.float32) for a in init)
    net = torch.nn.Sequential(torch.nn.Linear(W1.shape[0], HIDDEN), torch.nn.ReLU(),
                              torch.nn.Linear(HIDDEN, 1))
    with torch.no_grad():
        net[0].weight.copy_(W1.T), net[0].bias.copy_(b1)
        net[2].weight.copy_(W2.T), net[2].bias.copy_(b2)
    return net


def torch_epoch(net, opt, Xt, yt, batch, generator, torch):
    perm = torch.randperm(Xt.shape[0], generator=generator)
    for s in range(0, Xt.shape[0], batch):
        rows = perm[s:s + batch]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(Xt[rows])[:, 0],
                                                                    yt[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()


def torch_accuracy(net, test, torch):
    with torch.no_grad():
        out = net(torch.from_numpy(test[0].astype(np.float32)))[:, 0].numpy()
    return float(np.mean((out > 0) == (test[1] > 0.5)))


def torch_mlp(X, y, test, init, epochs):
    import torch

    torch.set_num_threads(2)
    net = torch_network(init, torch)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    Xt, yt = torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y.astype(np.float32))
    generator, clock = torch.Generator().manual_seed(0), Clock()
    for _ in range(epochs):
        torch_epoch(net, opt, Xt, yt, BATCH, generator, torch)
        clock.mark(lambda: torch_accuracy(net, test, torch))
    return clock.row(tool="pytorch", mode="plain loop, 2 threads, float32",
                     accuracy=clock.marks[-1][1])


def _ddp_worker(rank, folder, epochs, port):
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=2)
    X = np.load(Path(folder) / "X.npy", mmap_mode="r")
    y = np.load(Path(folder) / "y.npy", mmap_mode="r")
    half = slice(rank * (X.shape[0] // 2), (rank + 1) * (X.shape[0] // 2))
    Xt = torch.from_numpy(np.ascontiguousarray(X[half], dtype=np.float32))
    yt = torch.from_numpy(np.ascontiguousarray(y[half], dtype=np.float32))
    init = [np.load(Path(folder) / f"init{i}.npy") for i in range(4)]
    net = torch.nn.parallel.DistributedDataParallel(torch_network(init, torch))
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    generator = torch.Generator().manual_seed(rank)
    dist.barrier()
    start, marks = time.perf_counter(), []
    for _ in range(epochs):
        torch_epoch(net, opt, Xt, yt, BATCH // 2, generator, torch)
        dist.barrier()
        marks.append(time.perf_counter() - start)
    if rank == 0:
        state = [p.detach().numpy() for p in net.module.parameters()]
        np.savez(Path(folder) / "ddp.npz", marks=np.array(marks),
                 W1=state[0].T, b1=state[1], W2=state[2].T, b2=state[3])
    dist.destroy_process_group()


def ddp_mlp(X, y, test, init, epochs):
    import socket

    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as folder:
        np.save(Path(folder) / "X.npy", X)
        np.save(Path(folder) / "y.npy", y)
        for i, a in enumerate(init):
            np.save(Path(folder) / f"init{i}.npy", a)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        mp.spawn(_ddp_worker, args=(folder, epochs, port), nprocs=2, join=True)
        saved = np.load(Path(folder) / "ddp.npz")
        marks = list(saved["marks"])
        accuracy = mlp_accuracy((saved["W1"], saved["b1"], saved["W2"], saved["b2"]), *test)
    steady = (marks[-1] - marks[0]) / (len(marks) - 1) if len(marks) > 1 else None
    return {"tool": "pytorch", "mode": "DistributedDataParallel, gloo, 2 processes",
            "s_per_epoch": marks[-1] / len(marks), "steady_s_per_epoch": steady,
            "epochs": len(marks), "accuracy": accuracy,
            "curve": [(round(float(t), 3), None) for t in marks[:-1]]
            + [(round(float(marks[-1]), 3), accuracy)]}


def repeated(tools, repeat):
    """Each of ``tools`` (callables returning a row) run ``repeat`` times, in turn; for
    each, its run of median ``s_per_epoch``, with every run's time."""
    runs = [[] for _ in tools]
    for r in range(repeat):
        for k in list(range(len(tools)))[r % len(tools):] + list(range(len(tools)))[
                :r % len(tools)]:
            runs[k].append(tools[k]())
    rows = []
    for fits in runs:
        fits = sorted(fits, key=lambda row: row["s_per_epoch"])
        rows.append({**fits[len(fits) // 2], "runs_s_per_epoch": [f["s_per_epoch"]
                                                                   for f in fits]})
    return rows


def mlp_rows(client, size, torch_ok, repeat):
    n, d, n_test = SIZES[size]["mlp"]
    chunk_rows, epochs = SIZES[size]["chunk_rows"], SIZES[size]["epochs"]
    X, y = teacher_problem(client, n + n_test, d, chunk_rows, seed=11)
    Xd, yd = X[:n], y[:n]
    X_np, y_np = gathered(client, X), gathered(client, y)
    test = (X_np[n:], y_np[n:])
    X_np, y_np = X_np[:n], y_np[:n]
    init = glorot(d)
    cluster = {"client": client, "cache": "memory"}
    tools = [lambda: torch_mlp(X_np, y_np, test, init, epochs),
             lambda: ddp_mlp(X_np, y_np, test, init, epochs)] if torch_ok else []
    tools.append(lambda: sklearn_mlp(X_np, y_np, test, epochs))
    for label, options, where in (
            ("cluster, chunk order, float64", {}, cluster),
            ("cluster, chunk order, float32", {"dtype": "float32"}, cluster),
            ("cluster, data parallel, float32", {"dtype": "float32", "data_parallel": True},
             cluster),
            ("cluster, asynchronous (max_staleness 1), float32",
             {"dtype": "float32", "max_staleness": 1}, cluster),
            ("in-process, chunk order, float32", {"dtype": "float32"},
             {"chunk_rows": chunk_rows})):
        data = (Xd, yd) if where is cluster else (X_np, y_np)
        tools.append(lambda data=data, label=label, options=options, where=where: gdd_mlp(
            *data, test, init, epochs, label, options=options, **where))
    runs = repeated(tools, repeat)
    return [{"measure": "mlp", "rows": n, "features": d, **r} for r in runs]


# -- linear SGD ----------------------------------------------------------------------
def sgd_rows(client, size, repeat):
    from sklearn.linear_model import SGDClassifier as SkSGD

    n, d = SIZES[size]["sgd"]
    X, y = linear_problem(client, int(n * 1.05), d, SIZES[size]["chunk_rows"] * 2, seed=21)
    X_np, y_np = gathered(client, X), gathered(client, y)
    test = (X_np[n:], y_np[n:])
    Xd, yd, X_np, y_np = X[:n], y[:n], X_np[:n], y_np[:n]
    warnings.simplefilter("ignore")

    def sklearn_sgd():
        start = time.perf_counter()
        model = SkSGD(loss="log_loss", max_iter=1, tol=None, random_state=0).fit(X_np, y_np)
        return {"tool": "scikit-learn", "mode": "SGDClassifier, 1 row a step",
                "s_per_epoch": time.perf_counter() - start,
                "accuracy": float(model.score(*test))}

    def ours(label, data, kwargs):
        model = gdd_dask.SGDClassifier(loss="log_loss", max_iter=1, batch_size=BATCH,
                                       random_state=0, **kwargs)
        with get_task_stream(client=client) as stream:
            start = time.perf_counter()
            model.fit(*data)
            wall = time.perf_counter() - start
        return {"tool": "gdd-dask", "mode": label, "s_per_epoch": wall,
                "accuracy": float(model.score(*test)), "steps": int(model.t_),
                "task_compute_s": _compute(stream, ("gdd-sgd",)) or None}

    rows = repeated([sklearn_sgd,
                     lambda: ours("cluster, chunk order, batch 256", (Xd, yd),
                                  {"client": client, "cache": "memory"}),
                     lambda: ours("in-process, chunk order, batch 256", (X_np, y_np), {})],
                    repeat)
    return [{"measure": "sgd", "rows": n, "features": d, **r} for r in rows]


# -- asynchronous against synchronous ------------------------------------------------
def async_rows(client, size, repeat):
    n, d = SIZES[size]["async"]
    epochs = SIZES[size]["async_epochs"]
    X, y = linear_problem(client, n, d, SIZES[size]["chunk_rows"], seed=31)
    alpha = 1.0 / n
    f_star = gdd_dask.minimize("logistic", X, y, solver="lbfgs", alpha=alpha, tol=1e-10,
                               client=client, cache="memory").fun
    common = {"batch_size": BATCH, "random_state": 0, "momentum": 0.9,
              "learning_rate": inverse_scaling(0.05, 0.5), "n_iter_no_change": 10**6}

    def run(label, solver, extra):
        start, path = time.perf_counter(), []
        gdd_dask.minimize("logistic", X, y, solver=solver, alpha=alpha, tol=0,
                          max_iter=epochs, client=client, cache="memory",
                          options={**common, **extra},
                          callback=lambda info: path.append(
                              (time.perf_counter() - start, info.fun)))
        gaps = [(t, (f - f_star) / abs(f_star)) for t, f in path]
        return {"measure": "async", "rows": n, "features": d, "tool": "gdd-dask",
                "mode": label, "s_to_gap_1e-3": next((t for t, g in gaps if g <= 1e-3), None),
                "s_per_epoch": gaps[-1][0] / len(gaps), "final_gap": gaps[-1][1],
                "curve": [(round(t, 3), g) for t, g in gaps]}

    return repeated([lambda: run("chunk order", "sgd", {}),
                     lambda: run("data parallel", "sgd", {"data_parallel": True}),
                     lambda: run("asynchronous, max_staleness 1", "async",
                                 {"max_staleness": 1})], repeat)


# -- report --------------------------------------------------------------------------
def time_to(row, accuracy):
    return next((t for t, a in row.get("curve", []) if a is not None and a >= accuracy), None)


def markdown(rows, size, info):
    def f(v, digits=3):
        return "-" if v is None else f"{v:.{digits}f}"

    out = [f"# Mini-batch training, {size} ({info['cores']} cores, {info['cpu']})", ""]
    mlp = [r for r in rows if r["measure"] == "mlp"]
    torch_row = next((r for r in mlp if r["mode"].startswith("plain loop")), None)
    target = None if torch_row is None else torch_row["accuracy"] - ACCURACY_SLACK
    if mlp:
        out += [f"## MLP (64,) relu, Adam 1e-3, batch {BATCH}: {mlp[0]['rows']:,} x "
                f"{mlp[0]['features']}, {mlp[0]['epochs']} epochs", "",
                "| tool | mode | s / epoch (fit / epochs) | steady s / epoch | "
                "s to PyTorch's accuracy - 0.5 pt | held-out accuracy | scheduler ms / step |",
                "|---|---|---|---|---|---|---|"]
        for r in mlp:
            out.append(f"| {r['tool']} | {r['mode']} | {f(r['s_per_epoch'])} | "
                       f"{f(r.get('steady_s_per_epoch'))} | "
                       f"{f(time_to(r, target) if target else None)} | "
                       f"{f(r['accuracy'], 4)} | {f(r.get('overhead_ms_per_step'), 3)} |")
    sgd = [r for r in rows if r["measure"] == "sgd"]
    if sgd:
        out += ["", f"## SGD, log loss, 1 epoch: {sgd[0]['rows']:,} x {sgd[0]['features']}",
                "", "| tool | mode | s (fit) | step tasks' compute s | held-out accuracy |",
                "|---|---|---|---|---|"]
        out += [f"| {r['tool']} | {r['mode']} | {f(r['s_per_epoch'])} | "
                f"{f(r.get('task_compute_s'))} | {f(r['accuracy'], 4)} |" for r in sgd]
    asy = [r for r in rows if r["measure"] == "async"]
    if asy:
        out += ["", f"## Asynchronous against synchronous: {asy[0]['rows']:,} x "
                f"{asy[0]['features']} logistic, SGD momentum 0.9", "",
                "| mode | s to a 1e-3 objective gap | final gap |", "|---|---|---|"]
        out += [f"| {r['mode']} | {f(r['s_to_gap_1e-3'])} | {r['final_gap']:.2e} |"
                for r in asy]
    out += ["", "## Ratios", ""] + [f"- {line}" for line in ratios(rows)]
    out += ["", "## Machine", ""] + [f"- {k}: {v}" for k, v in info.items()]
    return "\n".join(out) + "\n"


def ratios(rows):
    """The issue's targets, as ratios of this run's figures."""
    def pick(measure, start):
        return next((r for r in rows if r["measure"] == measure
                     and r["mode"].startswith(start)), None)

    lines = []
    gdd = [r for r in rows if r["measure"] == "mlp" and r["tool"] == "gdd-dask"
           and r["mode"].startswith("cluster")]
    best = min(gdd, key=lambda r: r["s_per_epoch"]) if gdd else None
    for label, peer in (("plain PyTorch loop", pick("mlp", "plain loop")),
                        ("PyTorch DDP", pick("mlp", "DistributedDataParallel")),
                        ("scikit-learn MLPClassifier", pick("mlp", "MLPClassifier"))):
        if best and peer:
            lines.append(f"MLP epoch, gdd-dask best mode ({best['mode']}) / {label}: "
                         f"{best['s_per_epoch'] / peer['s_per_epoch']:.2f}; held-out "
                         f"accuracy {best['accuracy']:.4f} against {peer['accuracy']:.4f}")
    steps = [r["overhead_ms_per_step"] for r in gdd if r.get("overhead_ms_per_step")
             and "chunk order" in r["mode"]]
    if steps:
        lines.append(f"scheduler overhead per step, chunk order: {min(steps):.3f} ms")
    ours, theirs = pick("sgd", "cluster"), pick("sgd", "SGDClassifier")
    if ours and theirs:
        lines.append(f"SGD epoch, gdd-dask SGDClassifier on the cluster / scikit-learn's: "
                     f"{ours['s_per_epoch'] / theirs['s_per_epoch']:.2f}")
    a, s = pick("async", "asynchronous"), pick("async", "chunk order")
    d = pick("async", "data parallel")
    if a and s and a["s_to_gap_1e-3"] and s["s_to_gap_1e-3"]:
        lines.append(f"time to a 1e-3 gap, asynchronous / chunk order: "
                     f"{a['s_to_gap_1e-3'] / s['s_to_gap_1e-3']:.2f}"
                     + (f"; / data parallel: {a['s_to_gap_1e-3'] / d['s_to_gap_1e-3']:.2f}"
                        if d and d["s_to_gap_1e-3"] else ""))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out-dir", default=str(HERE / "results"))
    parser.add_argument("--parts", default="mlp,sgd,async")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401

        torch_ok = True
    except ImportError:
        print("torch is not installed: the PyTorch rows are skipped "
              "(pip install -e '.[bench]')", file=sys.stderr)
        torch_ok = False
    info = machine()
    info["torch"] = torch.__version__ if torch_ok else "not installed"
    parts = args.parts.split(",")
    rows = []
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None, memory_limit="8GiB") as cluster, \
            Client(cluster, set_as_default=False) as client:
        for name, run in (("mlp", lambda: mlp_rows(client, args.size, torch_ok, args.repeat)),
                          ("sgd", lambda: sgd_rows(client, args.size, args.repeat)),
                          ("async", lambda: async_rows(client, args.size, args.repeat))):
            if name in parts:
                for row in run():
                    row = {"size": args.size, **row}
                    print(json.dumps(row), flush=True)
                    rows.append(row)
                client.cancel(list(client.futures))
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"minibatch-{args.size}.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows))
    text = markdown(rows, args.size, info)
    (out / f"minibatch-{args.size}.md").write_text(text)
    print(text)
    return rows


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
