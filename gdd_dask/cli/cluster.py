"""The cluster a command runs on: a loopback LocalCluster it owns, or a scheduler's."""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager

from .args import CommandError

__all__ = ["add_cluster_options", "describe", "memory_total", "open_client"]

DASHBOARD = "127.0.0.1:8787"


def add_cluster_options(parser, *, workers=2, memory_limit="auto"):
    """``--workers --threads --memory-limit --scheduler --connect-timeout``."""
    from .args import byte_size, count, non_negative

    group = parser.add_argument_group("cluster")
    group.add_argument("--workers", type=count(1), default=workers,
                       help=f"worker processes of the local cluster (default {workers})")
    group.add_argument("--threads", type=count(1), default=1,
                       help="threads per worker (default 1)")
    group.add_argument("--memory-limit", type=byte_size, default=memory_limit,
                       help=f"memory limit per worker, e.g. 1GB (default {memory_limit})")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="use the cluster of this scheduler (tcp://host:port) instead")
    group.add_argument("--connect-timeout", type=non_negative, default=10.0, metavar="S",
                       help="seconds to wait for --scheduler (default 10)")


def _check_address(address):
    """Reject an address whose protocol Dask does not know (``tcp://host:port``...)."""
    from distributed.comm import parse_address
    from distributed.comm.registry import backends

    try:
        scheme, location = parse_address(address)
    except ValueError as exc:
        raise CommandError(f"--scheduler {address!r} is not an address: {exc}") from None
    if scheme not in backends or not location:
        raise CommandError(f"--scheduler {address!r} is not an address like "
                           f"tcp://127.0.0.1:8786 (protocols: {', '.join(sorted(backends))})")


def _check_answers(address, timeout):
    """Raise ``CommandError`` unless a Dask server at ``address`` completes the comm
    handshake within ``timeout`` seconds. (``Client`` bounds only the TCP connection by
    its timeout: a server that accepts it but never answers would hold it forever.) TLS
    settings come from Dask's configuration (``distributed.comm.tls.*``), as Client's."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect
    from distributed.security import Security

    connection_args = Security().get_connection_args("client")

    async def handshake():
        comm = await asyncio.wait_for(connect(address, timeout=timeout, **connection_args),
                                      timeout)
        await comm.close()

    try:  # in a thread of its own: main() may be called where an event loop runs
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, handshake()).result()
    except (OSError, TimeoutError):
        raise CommandError(f"cannot connect to the scheduler at {address} within "
                           f"{timeout:g} s") from None


@contextmanager
def open_client(args):
    """A client of ``--scheduler``, or of a loopback LocalCluster shut down on exit.

    The LocalCluster listens on 127.0.0.1 only and runs each worker in its own process;
    its logs (worker warnings, failed tasks, whose errors reach the client anyway) show
    only with ``--verbose``.
    """
    from distributed import Client, LocalCluster

    if args.scheduler:
        _check_address(args.scheduler)
        _check_answers(args.scheduler, args.connect_timeout)
        try:
            client = Client(args.scheduler, timeout=args.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError):
            raise CommandError(f"cannot connect to the scheduler at {args.scheduler} within "
                               f"{args.connect_timeout:g} s") from None
        with client:
            yield client
        return
    quiet = logging.WARNING if getattr(args, "verbose", False) else logging.CRITICAL
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=args.threads,
                               processes=True, host="127.0.0.1", dashboard_address=DASHBOARD,
                               memory_limit=args.memory_limit, silence_logs=quiet)
    with cluster, Client(cluster, set_as_default=False) as client:
        yield client


def _workers(client):
    return list(client.scheduler_info(n_workers=-1)["workers"].values())


def describe(client):
    """``"2 workers x 1 thread, memory limit 286.10 MiB each (572.20 MiB in all)"``."""
    from dask.utils import format_bytes

    workers = _workers(client)
    threads = sorted({w.get("nthreads", 1) for w in workers})
    text = (f"{len(workers)} worker{'s' * (len(workers) != 1)} x "
            f"{'/'.join(map(str, threads))} thread{'s' * (threads != [1])}")
    total = memory_total(client, workers)
    if total:
        text += (f", memory limit {format_bytes(total // len(workers))} each "
                 f"({format_bytes(total)} in all)")
    return text


def memory_total(client, workers=None):
    """The workers' memory limits added up (0 when one of them has none)."""
    limits = [w.get("memory_limit") or 0 for w in workers or _workers(client)]
    return sum(limits) if limits and all(limits) else 0
