"""Safe defaults: a loopback-only cluster, TLS honoured end to end, nothing unpickled.

- The LocalCluster that ``gdd-dask`` starts (``cli.cluster.open_client``, used by
  ``fit``, ``predict`` and ``demo``; the library itself never starts one) listens on
  127.0.0.1 only: scheduler, workers, nannies and dashboard, checked on the sockets
  the processes really listen on.
- A TLS cluster (``distributed.Security.temporary()``) runs ``minimize``, an estimator
  and the command (whose TLS settings are Dask's own configuration,
  ``distributed.comm.tls.*``), with the results of a plain TCP cluster.
- Nothing is unpickled from disk: the package has no unpickling call, a Zarr store
  with a pickle codec and a model file that is a pickle are refused without running
  their payload.
"""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path
from urllib.parse import urlparse

import dask
import dask.array as da
import numpy as np
import psutil
import pytest
from distributed import Client, LocalCluster
from distributed.comm import get_address_host, get_address_host_port

import gdd_dask
from gdd_dask.cli import build_parser, main
from gdd_dask.cli.cluster import open_client
from gdd_dask.datasets import open_zarr, write_zarr

LOOPBACK = "127.0.0.1"


def listening(process):
    """The ``(host, port)`` a process listens on (TCP)."""
    return {(c.laddr.ip, c.laddr.port) for c in process.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN}


def cluster_processes(cluster):
    """The nanny processes of a LocalCluster and their worker processes."""
    nannies = [psutil.Process(nanny.process.pid) for nanny in cluster.workers.values()]
    return nannies + [child for nanny in nannies for child in nanny.children(recursive=True)]


def test_the_commands_local_cluster_listens_on_loopback_only(tmp_path):
    args = build_parser().parse_args(["fit", str(tmp_path / "any.zarr"), "--workers", "2"])
    with open_client(args) as client:
        cluster, info = client.cluster, client.scheduler_info(n_workers=-1)
        assert len(info["workers"]) == 2
        addresses = [info["address"], *info["workers"]]
        addresses += [worker["nanny"] for worker in info["workers"].values()]
        assert {get_address_host(a) for a in addresses} == {LOOPBACK}
        assert urlparse(client.dashboard_link).hostname == LOOPBACK
        # the sockets really listened on: the scheduler and its dashboard, in this process
        ports = {get_address_host_port(info["address"])[1],
                 cluster.scheduler.services["dashboard"].port}
        here = {port: host for host, port in listening(psutil.Process())}
        assert {here.get(port) for port in ports} == {LOOPBACK}
        # and every socket of the nannies and workers, in their processes
        sockets = set().union(*(listening(p) for p in cluster_processes(cluster)))
        assert len(sockets) >= 4 and {host for host, _ in sockets} == {LOOPBACK}


# -- TLS ----------------------------------------------------------------------------

def data(seed=0, rows=600, *, lazy=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, 3))
    y = (X @ [1.0, -1.0, 0.5] + rng.logistic(size=rows) > 0).astype(float)
    if not lazy:
        return X, y
    return da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)


def fits(client):
    """``minimize`` (Dask input), an estimator (NumPy input, which a client turns into
    Dask arrays) and mini-batch epochs whose workers talk directly (data parallel,
    asynchronous) on ``client``: their parameters."""
    X, y = data()
    result = gdd_dask.minimize("logistic", X, y, client=client, alpha=1e-2, solver="lbfgs")
    model = gdd_dask.LogisticRegression(client=client, C=10.0).fit(*data(1, rows=300, lazy=False))
    lanes = [gdd_dask.minimize("logistic", X, y, client=client, solver="sgd", cache="memory",
                               max_iter=2, options={"batch_size": 50, "random_state": 0,
                                                    "learning_rate": 0.1, **mode}).x
             for mode in ({"data_parallel": True}, {"max_staleness": 0})]
    return result.x, np.append(model.coef_, model.intercept_), *lanes


def _lane_contexts(dask_worker):
    from gdd_dask.lanes import _contexts

    return all(context is not None for context in _contexts(dask_worker))


@pytest.fixture(scope="module")
def tls():
    """A TLS LocalCluster on 127.0.0.1 with a temporary certificate: ``(cluster,
    security)``."""
    from distributed import Security

    security = Security.temporary()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host=LOOPBACK,
                      protocol="tls", security=security, dashboard_address=f"{LOOPBACK}:0",
                      worker_dashboard_address=None, memory_limit="1GiB") as cluster:
        yield cluster, security


def test_a_tls_client_runs_fits_with_the_results_of_a_plain_one(tls, client):
    cluster, security = tls
    assert cluster.scheduler_address.startswith("tls://")
    with Client(cluster.scheduler_address, security=security, set_as_default=False) as secure:
        assert all(w.startswith("tls://") for w in secure.scheduler_info()["workers"])
        # the lanes' own sockets take the workers' TLS contexts
        assert all(secure.run(_lane_contexts).values())
        over_tls = fits(secure)
    for secure_x, plain_x in zip(over_tls, fits(client)):
        np.testing.assert_array_equal(secure_x, plain_x)


def test_a_client_without_the_certificate_is_refused(tls):
    cluster, _ = tls
    with pytest.raises((OSError, TypeError)):
        Client(cluster.scheduler_address, timeout=2, set_as_default=False)


def tls_config(security, folder):
    """Dask's configuration for a TLS client, the PEM files written to ``folder``."""
    files = {}
    for key, text in (("ca-file", security.tls_ca_file), ("client.cert", security.tls_client_cert),
                      ("client.key", security.tls_client_key)):
        path = folder / f"{key}.pem"
        path.write_text(text)
        files[f"distributed.comm.tls.{key}"] = str(path)
    return files


def test_the_command_reaches_a_tls_scheduler_through_dasks_configuration(tls, tmp_path,
                                                                         capsys):
    cluster, security = tls
    X, y = data(1)
    store = tmp_path / "d.zarr"
    write_zarr(store, X.compute(), y.compute(), chunk_rows=100)
    fit = ["fit", str(store), "--model", "logistic", "--scheduler", cluster.scheduler_address,
           "--connect-timeout", "5", "--quiet", "--out", str(tmp_path / "m.json")]
    assert main(fit) == 2  # no certificate: one line, exit code 2
    assert "TLS" in capsys.readouterr().err
    with dask.config.set(tls_config(security, tmp_path)):
        code = main(fit)
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "status: converged" in out.out
    saved = json.loads((tmp_path / "m.json").read_text())
    reference = gdd_dask.minimize("logistic", X, y, alpha=1 / 600, tol=1e-5)
    np.testing.assert_allclose(np.append(saved["coef"][0], saved["intercept"]), reference.x,
                               rtol=1e-6)


# -- nothing unpickled ----------------------------------------------------------------

PACKAGE = Path(gdd_dask.__file__).parent
UNPICKLERS = {"pickle", "cloudpickle", "dill", "marshal", "joblib", "shelve", "yaml"}


def unpickling(tree):
    """The lines of calls that may unpickle: ``load``/``loads``/``open`` of a pickling
    module, ``read_pickle``, any ``allow_pickle=True``, and ``np.load`` without an
    explicit ``allow_pickle=False``."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func, keywords = node.func, {k.arg: k.value for k in node.keywords}
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
        allow = keywords.get("allow_pickle")
        pickles = allow is not None and not (isinstance(allow, ast.Constant) and
                                              allow.value is False)
        if (owner in UNPICKLERS and name in {"load", "loads", "open", "unsafe_load"}
                or name == "read_pickle" or pickles
                or owner in {"np", "numpy"} and name == "load" and allow is None):
            lines.append(node.lineno)
    return lines


def test_the_package_has_no_unpickling_call():
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 20
    found = [f"{path.relative_to(PACKAGE)}:{line}" for path in sources
             for line in unpickling(ast.parse(path.read_text()))]
    assert found == []
    for unsafe in ("pickle.loads(b)", "np.load(p)", "np.load(p, allow_pickle=True)",
                   "joblib.load(p)", "pd.read_pickle(p)", "yaml.load(t)"):
        assert unpickling(ast.parse(unsafe)), unsafe
    assert not unpickling(ast.parse("np.load(p,\n allow_pickle=False)"))


class Payload:
    """Unpickling this creates the file ``marker``: the proof that something ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def pickle_store(path, marker):
    """A Zarr v2 group whose arrays X and y are object arrays with a pickle codec, each
    chunk a pickle that would create ``marker``."""
    (path / "X").mkdir(parents=True)
    (path / "y").mkdir()
    (path / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
    for name, shape, chunk in (("X", [4, 2], "0.0"), ("y", [4], "0")):
        meta = {"zarr_format": 2, "shape": shape, "chunks": shape, "dtype": "|O",
                "compressor": None, "fill_value": 0, "order": "C",
                "filters": [{"id": "pickle", "protocol": 5}]}
        (path / name / ".zarray").write_text(json.dumps(meta))
        (path / name / chunk).write_bytes(pickle.dumps(Payload(marker)))
    return path


def test_a_zarr_store_with_a_pickle_codec_is_refused_unread(tmp_path, capsys):
    marker = tmp_path / "unpickled"
    store = pickle_store(tmp_path / "evil.zarr", marker)
    with pytest.raises(ValueError, match=r"the array 'X' of the store .*evil\.zarr cannot be "
                                         r"read: .*pickle"):
        open_zarr(store)
    assert main(["fit", str(store), "--model", "linear", "--workers", "1"]) == 2
    assert "cannot be read" in capsys.readouterr().err
    assert not marker.exists()


def test_a_model_file_is_json_and_a_pickle_is_refused_unread(tmp_path, client, capsys):
    marker = tmp_path / "unpickled"
    X, y = data(2)
    store = tmp_path / "d.zarr"
    write_zarr(store, X.compute(), y.compute(), chunk_rows=100)
    model = tmp_path / "model.json"
    common = ["--scheduler", client.scheduler.address, "--quiet"]
    assert main(["fit", str(store), "--model", "logistic", "--out", str(model), *common]) == 0
    assert json.loads(model.read_text())["format"] == "gdd-dask-linear-model"
    evil = tmp_path / "evil.json"
    evil.write_bytes(pickle.dumps(Payload(marker)))
    capsys.readouterr()
    code = main(["predict", str(evil), str(store), "--out", str(tmp_path / "p.zarr"),
                 "--scheduler", client.scheduler.address])
    assert code == 2 and "is not a model file" in capsys.readouterr().err
    assert not marker.exists()
