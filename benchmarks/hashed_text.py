"""Sparse and wide: logistic regression on hashed text, gdd-dask against scikit-learn and
Vowpal Wabbit side by side in one run.

    python benchmarks/hashed_text.py [--rows 2000000] [--features 1048576] [--nonzeros 50]
                                     [--skip optimum,sgd,out_of_core]

The problem is ``gdd_dask.datasets.make_hashed_text`` (power-law tokens, about
``--nonzeros`` stored values a row, labels from a sparse true model), written once to a
sparse Zarr store in ``--data-dir`` and reused. Logistic regression with ``C=1``:

- ``optimum``: time to a relative objective gap of 1e-6, gdd-dask (``minimize``, its
  path recorded per iteration; and the estimator) on 2 one-thread workers holding the
  data persisted, against scikit-learn's ``LogisticRegression(solver="lbfgs")`` on the
  same CSR matrix in memory (its final point only: it has no callback). ``f*`` is the
  best objective any run reached, a gdd-dask fit at ``tol=1e-9`` included;
- ``out_of_core``: a gradient pass streamed from the store (``cache="auto"`` on 2 workers
  of ``--worker-memory``) against reading and decoding the store on the same workers,
  with the workers' and the client's peak memory;
- ``sgd``: one epoch of SGD (log loss, the same ``alpha``): gdd-dask's ``SGDClassifier``
  (persisted, 2 workers), scikit-learn's ``SGDClassifier`` (in memory), also averaged
  and with L1 and elastic-net penalties, and Vowpal Wabbit (its own parser from a text
  file written beforehand, not timed), each with its objective after the epoch.

``--skip`` leaves measures out (without ``optimum``, ``f*`` is a gdd-dask fit at
``tol=1e-9``). Prints JSON lines; writes ``<out-dir>/hashed_text.jsonl`` and
``hashed_text.md``. Vowpal Wabbit is optional (``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
from report import machine, write_results

import gdd_dask
from gdd_dask.datasets import make_hashed_text, open_zarr, read_attributes

HERE = Path(__file__).resolve().parent
TARGET_GAP = 1e-6
MEASURES = ("optimum", "sgd", "out_of_core")


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=2**20)
    parser.add_argument("--nonzeros", type=int, default=50)
    parser.add_argument("--worker-memory", default="1GiB")
    parser.add_argument("--data-dir", type=Path, default=HERE.parent / "datasets")
    parser.add_argument("--out-dir", type=Path, default=HERE / "results")
    parser.add_argument("--skip", default="", help="comma-separated: " + ", ".join(MEASURES))
    args = parser.parse_args(argv)
    args.skip = {name for name in args.skip.split(",") if name}
    if args.skip - set(MEASURES):
        parser.error(f"--skip takes {', '.join(MEASURES)}; got {args.skip - set(MEASURES)}")
    return args


def ensure_store(args):
    """The hashed-text store of these sizes (made once; reused when it matches)."""
    path = args.data_dir / f"text-{args.rows}x{args.features}-{args.nonzeros}.zarr"
    try:
        meta = read_attributes(path)
        if (meta.get("n_samples"), meta.get("n_features")) == (args.rows, args.features):
            return path, None
    except ValueError:
        pass
    start = time.perf_counter()
    make_hashed_text(path, n_samples=args.rows, n_features=args.features,
                     nnz_per_row=args.nonzeros, seed=0, overwrite=True)
    return path, time.perf_counter() - start


def objective(X, y, coef, intercept, alpha):
    """``mean log(1 + exp(-s (x w + b))) + alpha/2 ||w||^2``, ``s = 2y - 1``."""
    raw = X @ coef + intercept
    return float(np.mean(np.logaddexp(0.0, -(2 * y - 1) * raw)) + 0.5 * alpha * coef @ coef)


class PeakMemory:
    """The peak RSS of the workers (sampled every 50 ms) and of this process."""

    def __init__(self, client):
        self.client, self.workers, self.samples = client, {}, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        me = psutil.Process()
        self.client_peak = me.memory_info().rss
        while not self._stop.wait(0.05):
            for address, rss in self.client.run(_rss).items():
                self.workers[address] = max(self.workers.get(address, 0), rss)
            self.client_peak = max(self.client_peak, me.memory_info().rss)
            self.samples += 1

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _rss():
    import psutil

    return psutil.Process().memory_info().rss


def cluster(memory="auto"):
    """``(cluster, client)``: out_of_core.py's two one-thread loopback workers."""
    from distributed import Client
    from out_of_core import cluster as local_cluster

    local = local_cluster(memory)
    return local, Client(local, set_as_default=False)


def optimum_rows(args, X, y, Xd, yd, client):
    """Time to the target gap: gdd-dask's path, its estimator, scikit-learn's lbfgs."""
    import sklearn.linear_model as sk

    alpha = 1.0 / X.shape[0]
    points, start = [], time.perf_counter()
    result = gdd_dask.minimize("logistic", Xd, yd, alpha=alpha, tol=1e-8, max_iter=2000,
                               client=client,
                               callback=lambda i: points.append((time.perf_counter() - start,
                                                                 i.fun)))
    path_s = time.perf_counter() - start
    reference = gdd_dask.minimize("logistic", Xd, yd, alpha=alpha, tol=1e-9, max_iter=3000,
                                  client=client, x0=result.x)
    fits = {}
    for name, make in (("gdd-dask LogisticRegression", lambda: gdd_dask.LogisticRegression(
                           C=1.0, tol=1e-6, max_iter=2000, client=client)),
                       ("scikit-learn LogisticRegression lbfgs", lambda: sk.LogisticRegression(
                           C=1.0, tol=1e-6, max_iter=10_000))):
        data = (Xd, yd) if name.startswith("gdd") else (X, y)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = make().fit(*data)
        fits[name] = (time.perf_counter() - start, model)
    funs = {name: objective(X, y, m.coef_.ravel(), float(np.ravel(m.intercept_)[0]), alpha)
            for name, (_, m) in fits.items()}
    f_star = min([reference.fun, result.fun, *funs.values()])
    gap = lambda f: (f - f_star) / abs(f_star)  # noqa: E731
    to_gap = next((t for t, f in points if gap(f) <= TARGET_GAP), None)
    rows = [{"measure": "optimum", "tool": "gdd-dask minimize (path)", "solver": result.solver,
             "wall_s": to_gap, "fit_s": path_s, "nit": int(result.nit),
             "passes": int(result.n_passes), "final_gap": gap(result.fun)}]
    for name, (seconds, model) in fits.items():
        reached = gap(funs[name]) <= TARGET_GAP
        rows.append({"measure": "optimum", "tool": name,
                     "solver": getattr(model, "solver_", "lbfgs"),
                     "wall_s": seconds if reached else None, "fit_s": seconds,
                     "nit": int(np.max(model.n_iter_)),
                     "passes": getattr(model, "n_passes_", None), "final_gap": gap(funs[name])})
    base = rows[-1]["wall_s"]
    for row in rows:
        row["ratio_to_sklearn"] = row["wall_s"] / base if row["wall_s"] and base else None
    return rows, f_star


def out_of_core_rows(args, path):
    """A streamed pass against reading and decoding the store, on small workers."""
    import dask.array as da

    from gdd_dask import make_objective

    local, client = cluster(args.worker_memory)
    try:
        X, y = open_zarr(path)
        reads, passes = [], []
        stored = da.map_blocks(lambda b: np.array([[b.nnz]]), X, chunks=(1, 1), dtype=int,
                               meta=np.empty((0, 0), dtype=int))
        for _ in range(3):
            start = time.perf_counter()
            client.compute(stored.sum(), sync=True)
            reads.append(time.perf_counter() - start)
        with make_objective("logistic", X, y, alpha=1.0 / X.shape[0], client=client,
                            cache="auto") as objective, PeakMemory(client) as peak:
            x = np.zeros(objective.n_params)
            for i in range(3):
                start = time.perf_counter()
                objective.value_and_grad(x + 1e-3 * i)
                passes.append(time.perf_counter() - start)
            cached, chunks = objective.engine.n_cached, objective.engine.n_chunks
        chunk = X.blocks[0].compute()
        chunk_mb = (chunk.data.nbytes + chunk.indices.nbytes + chunk.indptr.nbytes) / 2**20
        read, one = statistics.median(reads), statistics.median(passes)
        return [{"measure": "out_of_core", "tool": "dask", "config": "read + decode the "
                 f"store on 2 workers of {args.worker_memory}", "wall_s": read,
                 "runs": reads},
                {"measure": "out_of_core", "tool": "gdd-dask", "config": "value_and_grad, "
                 f"cache='auto' ({cached} of {chunks} chunks cached), 2 workers of "
                 f"{args.worker_memory}", "wall_s": one, "runs": passes,
                 "ratio_to_read": one / read,
                 "worker_peak_mb": {a[-5:]: r / 2**20 for a, r in peak.workers.items()},
                 "client_peak_mb": peak.client_peak / 2**20, "chunk_mb": chunk_mb,
                 "params_mb": 8 * (X.shape[1] + 1) / 2**20}]
    finally:
        client.close()
        local.close()


def write_vw(X, y, path):
    """Vowpal Wabbit's text format of CSR rows: ``label | column:value ...``."""
    with open(path, "w") as out:
        for i in range(X.shape[0]):
            start, stop = X.indptr[i], X.indptr[i + 1]
            features = " ".join(f"{j}:{v:.6g}" for j, v in
                                zip(X.indices[start:stop], X.data[start:stop]))
            out.write(f"{1 if y[i] > 0 else -1} | {features}\n")


SGD_VARIANTS = (("", {}), ("batch_size=50", {"batch_size": 50}),
                ("average=True", {"average": True}), ("penalty='l1'", {"penalty": "l1"}),
                ("penalty='elasticnet'", {"penalty": "elasticnet"}))
"""The SGD fits timed: a label and the options added; scikit-learn fits each one that
is not about gdd-dask's batches too."""


def sgd_rows(args, X, y, Xd, yd, client, f_star):
    """One epoch of SGD: gdd-dask and scikit-learn in each of :data:`SGD_VARIANTS`
    (each against scikit-learn's fit with the same options), Vowpal Wabbit."""
    import sklearn.linear_model as sk

    alpha, rows = 1.0 / X.shape[0], []
    options = dict(loss="log_loss", alpha=alpha, max_iter=1, tol=None, random_state=0)
    for label, extra in SGD_VARIANTS:
        fits = [("gdd-dask", lambda: gdd_dask.SGDClassifier(
                     client=client, **options, **extra).fit(Xd, yd))]
        if "batch_size" not in extra:
            fits.append(("scikit-learn", lambda: sk.SGDClassifier(**options, **extra).fit(X, y)))
        for tool, fit in fits:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = fit()
            seconds = time.perf_counter() - start
            row = {"measure": "sgd", "tool": f"{tool} SGDClassifier({label})",
                   "wall_s": seconds, "variant": label}
            if "penalty" in extra:  # not the L2 problem f* is the optimum of
                row["note"] = f"{np.count_nonzero(model.coef_)} non-zero coefficients"
            else:
                fun = objective(X, y, model.coef_.ravel(), float(model.intercept_[0]), alpha)
                row["final_gap"] = (fun - f_star) / abs(f_star)
            rows.append(row)
    try:
        import vowpalwabbit
    except ImportError:
        rows.append({"measure": "sgd", "tool": "Vowpal Wabbit", "wall_s": None, "variant": "",
                     "note": "not installed (pip install vowpalwabbit)"})
    else:
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "train.vw")
            write_vw(X, y, data)
            bits = int(np.ceil(np.log2(X.shape[1])))
            start = time.perf_counter()
            vw = vowpalwabbit.Workspace(f"-d {data} --loss_function logistic -b {bits} "
                                        f"--l2 {alpha} --quiet --passes 1")
            seconds = time.perf_counter() - start
            loss = vw.get_sum_loss() / X.shape[0]
            vw.finish()
        rows.append({"measure": "sgd", "tool": "Vowpal Wabbit", "wall_s": seconds,
                     "variant": "", "note": f"its own hashing of the column numbers; mean "
                                           f"progressive log loss {loss:.4f}"})
    theirs = {r["variant"]: r["wall_s"] for r in rows if r["tool"].startswith("scikit")}
    for row in rows:
        base = theirs.get(row.get("variant"), theirs[""])
        row["ratio_to_sklearn"] = row["wall_s"] / base if row["wall_s"] else None
    return rows


def persisted_rows(args, path, X, y):
    """The measures on the store persisted on the 2 workers: ``optimum`` (else only
    ``f*``, a gdd-dask fit at ``tol=1e-9``, which ``sgd``'s gaps need) and ``sgd``."""
    local, client = cluster()
    try:
        Xd, yd = open_zarr(path)
        Xd, yd = client.persist([Xd, yd])
        if "optimum" in args.skip:
            rows, f_star = [], gdd_dask.minimize(
                "logistic", Xd, yd, alpha=1.0 / X.shape[0], tol=1e-9, max_iter=3000,
                client=client).fun
        else:
            rows, f_star = optimum_rows(args, X, y, Xd, yd, client)
        if "sgd" not in args.skip:
            rows += sgd_rows(args, X, y, Xd, yd, client, f_star)
        return rows
    finally:
        client.close()
        local.close()


def main(argv=None):
    args = parse(argv)
    path, made_s = ensure_store(args)
    X, y = open_zarr(path)
    start = time.perf_counter()
    X, y = (a.compute(scheduler="threads") for a in (X, y))
    read_s = time.perf_counter() - start
    setup = {"measure": "setup", "rows": X.shape[0], "features": X.shape[1], "nnz": X.nnz,
             "csr_mb": (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20,
             "store_made_s": made_s, "store_read_s": read_s}
    rows = [] if {"optimum", "sgd"} <= args.skip else persisted_rows(args, path, X, y)
    ooc = [] if "out_of_core" in args.skip else out_of_core_rows(args, path)
    rows = [setup, *rows, *ooc]
    write_results(rows, args.out_dir, "hashed_text", markdown(rows, args))


def _s(v):
    return "-" if v is None else f"{v:.2f}"


def markdown(rows, args):
    setup = rows[0]
    out = [f"# Sparse logistic regression: {setup['rows']:,} x {setup['features']:,}, "
           f"{setup['nnz'] / setup['rows']:.1f} stored values a row (2 cores)", "",
           f"Made by `python benchmarks/hashed_text.py --rows {args.rows} --features "
           f"{args.features} --nonzeros {args.nonzeros}"
           f"{' --skip ' + ','.join(sorted(args.skip)) if args.skip else ''}`, nothing else "
           f"running. CSR in memory: {setup['csr_mb']:.0f} MiB."]
    if "optimum" not in args.skip:
        out += _optimum_table(rows)
    if "sgd" not in args.skip:
        out += _sgd_table(rows)
    if "out_of_core" not in args.skip:
        out += _out_of_core_table(rows)
    out += ["", "## Machine", "", *(f"- {k}: {v}" for k, v in machine().items())]
    return "\n".join(out) + "\n"


def _optimum_table(rows):
    out = ["", "## Time to a 1e-6 objective gap (C=1)", "",
           "| tool | solver | to 1e-6 s | fit s | iterations | passes | final gap | "
           "/ scikit-learn |", "|---|---|---|---|---|---|---|---|"]
    return out + [f"| {r['tool']} | {r['solver']} | {_s(r['wall_s'])} | {r['fit_s']:.2f} | "
                  f"{r['nit']} | {r['passes'] or '-'} | {r['final_gap']:.1e} | "
                  f"{_s(r['ratio_to_sklearn'])} |" for r in rows if r["measure"] == "optimum"]


def _sgd_table(rows):
    out = ["", "## One epoch of SGD", "", "| tool | s | gap after | / scikit-learn | note |",
           "|---|---|---|---|---|"]
    return out + [f"| {r['tool']} | {_s(r['wall_s'])} | "
                  f"{r['final_gap']:.1e} | {_s(r['ratio_to_sklearn'])} | "
                  f"{r.get('note', '')} |" if "final_gap" in r else
                  f"| {r['tool']} | {_s(r['wall_s'])} | - | {_s(r['ratio_to_sklearn'])} | "
                  f"{r.get('note', '')} |" for r in rows if r["measure"] == "sgd"]


def _out_of_core_table(rows):
    ooc = [r for r in rows if r["measure"] == "out_of_core"]
    out = ["", "## Out of core", "", "| tool | config | median s | runs |", "|---|---|---|---|"]
    out += [f"| {r['tool']} | {r['config']} | {r['wall_s']:.2f} | "
            f"{', '.join(f'{v:.2f}' for v in r['runs'])} |" for r in ooc]
    streamed = ooc[-1]
    peaks = ", ".join(f"{v:.0f}" for v in streamed["worker_peak_mb"].values())
    out += ["", f"- streamed pass / read: {streamed['ratio_to_read']:.2f}",
            f"- peak worker RSS: {peaks}"
            f" MiB; client {streamed['client_peak_mb']:.0f} MiB (holding the CSR matrix for "
            f"the other measures); a chunk {streamed['chunk_mb']:.0f} MiB, the parameters "
            f"{streamed['params_mb']:.0f} MiB"]
    return out


if __name__ == "__main__":
    main()
