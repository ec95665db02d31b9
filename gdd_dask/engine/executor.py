"""The engine's executor: graphs submitted to the cluster, waited for and watched.

An :class:`Executor` runs a graph on its client (the outputs stay on the workers as
futures) or, without one, on Dask's local scheduler. While a graph runs it reports
progress (``on_task_done``) and watches the workers: when every worker stays paused
(its memory above Dask's pause threshold) no task would ever run, and the wait ends in
an error instead of hanging. It also keeps every future it made, so that closing
releases them all, and reads what the cluster has: the workers' room
(:func:`memory_budget`), the live workers (:func:`live_workers`), who holds what.
"""

from __future__ import annotations

import queue
import time
import weakref
from typing import NamedTuple

import dask

from ..lanes import LANE_TIMEOUT
from ..runtime import is_future, local_get
from .graph import with_homes

__all__ = ["Budget", "Executor", "live_workers", "memory_budget"]

HEADROOM = 0.75
"""Share of the room below Dask's spill threshold that cached chunks may take: the rest
is for what a fit's tasks hold while they run (chunks being read, temporaries, kept
margins, Dask's own buffers). At 0.85 a 300 MB worker streaming a 1.8 GB store touched
its spill threshold."""
PAUSED_TIMEOUT = 120.0
"""Seconds a pass waits while every worker is paused before it gives up with an error."""
WATCH_INTERVAL = 2.0
"""Seconds between looks at the workers' status while a pass waits."""
HOLDER_WAIT = 60.0
"""Seconds the in-place plan waits for persisted chunks still being computed."""


class Budget(NamedTuple):
    """The workers' memory as a pass sees it: ``room`` (``{address: bytes}``) that cached
    chunks may take, and ``task_limit``, the most bytes of sums one task may hold (the
    smallest worker's memory limit over its threads, halved), ``None`` where it is not
    known (the local scheduler, workers without a limit)."""

    room: dict
    task_limit: float | None


def memory_budget(client, *, task_bytes=0):
    """The :class:`Budget` of ``client``'s workers: each worker's room for cached chunks
    without spilling, ``HEADROOM * spill * memory_limit - memory in use - threads *
    task_bytes``, where ``spill`` is Dask's spill threshold
    (``distributed.worker.memory.spill``, 0.7 by default) and ``task_bytes`` what one
    running task of a pass holds beyond its chunks (its sums and, in the tree, its
    inputs' sums). For the local scheduler, ``{None: half of the machine's available
    memory, less task_bytes per core}``."""
    if client is None:
        import psutil

        room = 0.5 * psutil.virtual_memory().available - dask.system.CPU_COUNT * task_bytes
        return Budget({None: max(0.0, room)}, None)
    spill = dask.config.get("distributed.worker.memory.spill") or 1.0
    workers = client.scheduler_info(n_workers=-1)["workers"]
    room = {address: max(0.0, HEADROOM * spill * (w.get("memory_limit") or 0)
                         - w["metrics"]["memory"] - w.get("nthreads", 1) * task_bytes)
            for address, w in workers.items()}
    limits = [w["memory_limit"] / (2 * max(1, w.get("nthreads", 1)))
              for w in workers.values() if w.get("memory_limit")]
    return Budget(room, min(limits) if limits and len(limits) == len(workers) else None)


def live_workers(client, timeout=LANE_TIMEOUT):
    """The scheduler's workers, sorted; when it has none (a cluster starting or
    restarting its workers), the first that joins within ``timeout`` seconds, else a
    ``TimeoutError`` saying so."""
    live = sorted(client.scheduler_info(n_workers=-1)["workers"])
    if live:
        return live
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise TimeoutError(f"the cluster has no workers, and none joined within {timeout} s; "
                           "an epoch of lanes needs at least one") from None
    return sorted(client.scheduler_info(n_workers=-1)["workers"])


class Executor:
    """Runs graphs with ``client`` (``None``: Dask's local scheduler)."""

    def __init__(self, client):
        self.client = client
        self._futures = weakref.WeakSet()  # every future made here, for release_all()
        self.on_task_done = None  # on_task_done(done, total) within each graph (progress)

    def execute(self, graph, keys, keep_all=False, homes=None, watch=()):
        """Run ``graph``; ``(value of keys[0], handles of keys[1:])`` (with
        ``keep_all``: ``(None, handles of all keys)``), the tasks of ``homes``
        (``{key: worker}``) preferably on their worker.

        With a client the handles are futures (the data stays on the workers);
        otherwise the values themselves. With :attr:`on_task_done` set, the tasks of
        ``watch`` are reported as they finish: ``on_task_done(done, total)``.
        """
        if self.client is None:
            values = local_get()(graph, keys)
            return (None, list(values)) if keep_all else (values[0], list(values[1:]))
        extra = [k for k in watch if k not in keys] if self.on_task_done else []
        futures = self.submit(graph, [*keys, *extra], homes)
        futures, extra = futures[:len(keys)], futures[len(keys):]
        watching = set(watch)
        watched = extra + [f for f in futures if f.key in watching] \
            if self.on_task_done and watch else []
        try:
            self.wait(futures if keep_all else futures[:1], report=watched)
            if keep_all:  # raise any error now, leaving the data where it is
                for future in futures:
                    if future.status == "error":
                        future.result()
                return None, futures
            return futures[0].result(), futures[1:]
        except BaseException:  # the error's traceback holds the futures: let go now
            for future in futures:
                future.release()
            raise

    def gather(self, graph, keys, homes, watch):
        """The values of ``keys`` (small), fetched together; their futures let go."""
        futures = self.execute(graph, keys, keep_all=True, homes=homes, watch=watch)[1]
        try:
            return self.client.gather(futures)
        finally:
            for future in futures:
                future.release()

    def submit(self, graph, keys, homes=None, strict=False):
        """Futures of ``keys`` of ``graph`` on the client, the tasks of ``homes``
        (``{key: worker}``) loosely (``strict``: only) restricted to their worker;
        :meth:`release_all` releases them."""
        futures = self.client.get(with_homes(graph, homes, strict) if homes else graph, keys,
                                  sync=False)
        self._futures.update(futures)
        return futures

    def wait(self, futures, check=None, report=(), timeout=None):
        """Wait for ``futures`` and ``report`` to finish (or fail), calling
        ``on_task_done(done, total)`` as each of ``report`` does; raise ``RuntimeError``
        when every worker stays paused for :data:`PAUSED_TIMEOUT` seconds meanwhile
        (their memory above Dask's pause threshold: no task would ever run, and a fit
        would wait forever). ``check()``, called every :data:`WATCH_INTERVAL` meanwhile,
        may raise too; ``timeout`` (seconds) ends the wait early with ``False``. Errors
        are left to the caller, which reads the results.

        The futures say when they finish by callbacks (no round trip to the scheduler
        per future, nor Dask's default client)."""
        pending = {id(f): f for f in [*futures, *report]}
        reported = {id(f) for f in report}
        finished = queue.SimpleQueue()
        for future in pending.values():
            future.add_done_callback(finished.put)  # called in a thread of its own
        deadline = None if timeout is None else time.monotonic() + timeout
        paused_since, done = None, 0
        while pending:
            interval = WATCH_INTERVAL if deadline is None else \
                min(WATCH_INTERVAL, deadline - time.monotonic())
            try:
                future = finished.get(timeout=max(interval, 0.0))
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                if check is not None:
                    check()
                paused_since = self._paused_since(paused_since)
                continue
            pending.pop(id(future), None)
            if id(future) in reported:
                done += 1
                self.on_task_done(done, len(reported))
        return True

    def _paused_since(self, since):
        """When every worker has been paused since (``None``: they are not all paused);
        raise ``RuntimeError`` once that is :data:`PAUSED_TIMEOUT` seconds ago."""
        if not self._all_paused():
            return None
        since = since or time.monotonic()
        if time.monotonic() - since >= PAUSED_TIMEOUT:
            raise RuntimeError(
                f"every worker has been paused for {PAUSED_TIMEOUT:.0f} s: their memory is "
                "above Dask's pause threshold (distributed.worker.memory.pause), so no task "
                "runs. Give the workers more memory (memory_limit), use smaller chunks, or "
                "cache='none'")
        return since

    def _all_paused(self):
        statuses = [w.get("status") for w in self.client.scheduler_info()["workers"].values()]
        return bool(statuses) and all(status == "paused" for status in statuses)

    def settle(self, futures, timeout=HOLDER_WAIT):
        """Wait (at most ``timeout``) for ``futures`` to finish, failed or not, so that
        the workers holding them are known: a chunk placed before it exists would be
        moved to a worker chosen without it (measured: 80 MB chunks crossing between
        the workers, a third of a 2,000,000-row SGD fit)."""
        self.wait(futures, timeout=timeout)

    def who_has(self, handles):
        """``{key: [workers]}`` of the futures among ``handles``."""
        futures = [h for h in handles if is_future(h)]
        return self.client.who_has(futures) if futures else {}

    def release_all(self):
        """Release every future made here (persisted chunks, kept outputs, failed
        passes), even those still referenced elsewhere, e.g. by an error's traceback."""
        for future in list(self._futures):
            future.release()
