"""What every layer needs of Dask's runtime, low in the package's tree.

Which client a fit uses (:func:`resolve_client`), the scheduler without one
(:func:`local_get`), computing collections (:func:`compute`), whether a value is a
future (:func:`is_future`), and the dashboard's spans and fine metrics (:func:`span`,
:func:`meter`). With the engine package (:mod:`gdd_dask.engine`) and the worker-side
rendezvous of :mod:`gdd_dask.lanes`, this is where ``dask.distributed`` is imported;
it is imported lazily, so this module costs a worker nothing.
"""

from __future__ import annotations

import contextlib
import threading

import dask

__all__ = ["compute", "in_task", "is_future", "local_get", "meter", "resolve_client", "span",
           "without_spans"]


def in_task():
    """True inside a task running on a Dask worker."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


def resolve_client(client=None):
    """The caller's client, else the default client, else ``None`` (local scheduler).

    Inside a task on a worker (a fit under ``client.submit``, joblib's Dask backend,
    dask-ml's ``Incremental``) there is no default client: the worker's own would
    take tasks from the thread that waits for them, and a worker whose threads all
    wait hangs. Such a fit runs in the task's own thread (:func:`local_get`)."""
    if client is not None:
        from distributed import Client

        if not isinstance(client, Client):
            raise TypeError(f"client must be a distributed.Client; got {type(client).__name__}")
        if client.status in ("closing", "closed"):
            raise ValueError(f"client is {client.status}: pass a running distributed.Client "
                             "(or none, for the default client or the local scheduler)")
        return client
    if in_task():
        return None
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


def local_get():
    """The scheduler of a fit without a client: Dask's active one (threads by
    default), or, inside a task on a worker, the synchronous one in the task's thread."""
    if in_task():
        return dask.get
    return dask.base.get_scheduler() or dask.threaded.get


def compute(*collections, client=None):
    """Compute Dask collections together with ``client``, the default client, or the
    local scheduler (the engine's choice); returns a tuple of results."""
    client = resolve_client(client)
    if client is not None:
        return tuple(client.compute(list(collections), sync=True))
    return dask.compute(*collections, scheduler=local_get())


def is_future(value):
    """True for a ``distributed.Future`` (data that lives on a cluster)."""
    try:
        from distributed import Future
    except ImportError:
        return False
    return isinstance(value, Future)


_THREAD = threading.local()


def span(*labels):
    """``distributed.span(*labels)``: the tasks submitted inside it grouped on the
    dashboard (without a cluster it only annotates graphs); nothing in a thread under
    :func:`without_spans`."""
    if getattr(_THREAD, "without_spans", False):
        return contextlib.nullcontext()
    from distributed import span as distributed_span

    return distributed_span(*labels)


@contextlib.contextmanager
def without_spans():
    """No :func:`span` in this thread inside it: a span sets Dask's annotations, which
    are global, so the threads of shared fits (:mod:`gdd_dask.many`), whose passes are
    submitted by another thread, leave them alone."""
    _THREAD.without_spans = True
    try:
        yield
    finally:
        _THREAD.without_spans = False


def meter(label):
    """Time spent inside it, on a worker, under ``label`` in the dashboard's Fine
    Performance Metrics (``distributed.metrics.context_meter``); nothing elsewhere."""
    try:
        from distributed.metrics import context_meter
    except ImportError:
        return contextlib.nullcontext()
    return context_meter.meter(label)
