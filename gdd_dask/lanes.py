"""Step loops that run on every worker at once: data-parallel and asynchronous epochs.

A *lane* is one long-lived task per worker that holds the groups of chunks cached
there (``Engine.lanes``). Lane 0, the *hub*, listens on a socket of its worker's host
and publishes the address through a ``distributed.Variable``; the other lanes connect
to it. From then on the lanes talk directly, worker to worker, in fixed-size messages
of float64 numbers (no pickle; TLS when the cluster's comms use it), and the client
waits for the epoch's result only. Measured on a 2-worker loopback cluster
(``benchmarks/lanes.py``), a round trip of 80 kB costs about 0.08 ms over these
sockets, against 0.7 ms through ``distributed.comm``, 2 ms through an Actor or a
``distributed.Queue`` and 24 ms for a tree of tasks submitted by the client.

- :func:`parallel_lane` -- synchronous data parallelism: step ``t`` of an epoch takes
  part ``t`` of every chunk (each chunk's rows shuffled by its seed and split into as
  many nearly equal parts as the epoch has steps); every lane sums its chunks' parts
  through the fixed tree of its groups, the hub adds the groups' sums through the rest
  of the tree (the same tree as a full pass, hence the same bits on any number of
  workers), takes the step and sends the new parameters back.
- :func:`async_lane` -- asynchronous (Downpour) SGD with a parameter server: each lane
  runs the batches of its own chunks in the epoch's order; the hub grants a lane its
  next batch with the current parameters, keeps at most ``max_staleness + 1`` batches
  granted and not yet applied, and applies their gradients in the order it granted
  them -- so a gradient is applied at most ``max_staleness`` updates after the
  parameters it was computed on. With ``max_staleness = 0`` the lane whose next batch
  comes first in the epoch goes first: that is the epoch's own order, and the run
  equals the chunk-order chain bit for bit. Otherwise the other lanes are granted
  before the hub's own batches, so that they compute while it does; a lane has at
  most one batch granted at a time, so staleness beyond ``lanes - 1`` only lets the
  hub run ahead of gradients still out.

This module runs on the workers: it imports the chunk math only.
"""

from __future__ import annotations

import select
import socket
import struct
import time
from collections import deque

import numpy as np

from .chunk import loaded, take_rows
from .reduction import tree_reduce
from .steps import batch_rows, steady_heap

__all__ = ["LANE_TIMEOUT", "Link", "async_lane", "connect_lanes", "parallel_lane",
           "part_sizes"]

LANE_TIMEOUT = 300.0
"""Seconds a lane waits for another (to start, or to answer) before it gives up."""
_HEADER = struct.Struct("<4q")  # kind, a, b, number of float64 values that follow
HELLO, GRANT, GRADIENT, PART, PARAMS = range(5)


class Link:
    """One connection between two lanes: messages ``(kind, a, b, floats)``."""

    def __init__(self, sock):
        sock.settimeout(LANE_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock

    def send(self, kind, a=0, b=0, floats=None):
        floats = np.zeros(0) if floats is None else np.ascontiguousarray(floats, np.float64)
        self.sock.sendall(_HEADER.pack(kind, a, b, floats.size) + floats.tobytes())

    def _exactly(self, n):
        buffer = bytearray(n)
        view, got = memoryview(buffer), 0
        while got < n:
            try:
                k = self.sock.recv_into(view[got:], n - got)
            except socket.timeout:
                raise RuntimeError(f"a lane of this epoch did not answer for "
                                   f"{LANE_TIMEOUT:.0f} s") from None
            if not k:
                raise ConnectionError("a lane of this epoch closed its connection "
                                      "(it failed or its worker died)")
            got += k
        return buffer

    def recv(self, expect=None):
        kind, a, b, n = _HEADER.unpack(self._exactly(_HEADER.size))
        if expect is not None and kind != expect:
            raise ConnectionError(f"lane protocol: expected message {expect}, got {kind}")
        return kind, a, b, np.frombuffer(self._exactly(8 * n), dtype=np.float64)

    def pending(self):
        """Decrypted bytes already buffered (TLS), which a select() would not see."""
        return getattr(self.sock, "pending", lambda: 0)() > 0

    def close(self):
        self.sock.close()


def _contexts(worker):
    """``(server, client)`` TLS contexts of the worker's comms, or ``(None, None)``."""
    if not worker.address.startswith("tls://"):
        return None, None
    return (worker.security.get_listen_args("worker")["ssl_context"],
            worker.security.get_connection_args("worker")["ssl_context"])


def connect_lanes(rank, n_lanes, name):
    """The hub (``rank == 0``): ``{rank: Link}`` of every other lane; another lane: its
    :class:`Link` to the hub. ``name`` is the rendezvous ``distributed.Variable``."""
    from distributed import Variable, get_worker
    from distributed.comm.addressing import get_address_host

    worker = get_worker()
    server, client = _contexts(worker)
    variable, abandoned = Variable(name), _Abandoned(name)
    if rank > 0:
        host, port = str(_until(lambda: variable.get(timeout=POLL), abandoned,
                                "the hub of this epoch did not start")).rsplit(":", 1)
        sock = socket.create_connection((host, int(port)), timeout=LANE_TIMEOUT)
        if client is not None:
            sock = client.wrap_socket(sock, server_hostname=None)
        link = Link(sock)
        link.send(HELLO, rank)
        return link
    listener = socket.create_server((get_address_host(worker.address), 0))
    listener.settimeout(POLL)
    host, port = listener.getsockname()[:2]
    variable.set(f"{host}:{port}")
    links = {}
    try:
        while len(links) < n_lanes - 1:
            sock, _ = _until(listener.accept, abandoned,
                             "the lanes of this epoch did not all start")
            sock.settimeout(LANE_TIMEOUT)
            if server is not None:
                sock = server.wrap_socket(sock, server_side=True)
            link = Link(sock)
            links[int(link.recv(HELLO)[1])] = link
    finally:
        listener.close()
        variable.delete()
    return links


POLL = 1.0
"""Seconds between a waiting lane's looks at whether its epoch was given up."""


class _Abandoned:
    """Whether the engine gave up on the epoch of ``name`` (a lane's worker died, and
    the epoch runs again elsewhere): then a lane still waiting for the others must
    quit, or it would hold its worker's thread while the new try's lane waits for it."""

    def __init__(self, name):
        from distributed import Variable

        self.variable = Variable(f"{name}-abandoned")

    def __call__(self):
        try:
            self.variable.get(timeout=0)
        except TimeoutError:
            return False
        return True


def _until(attempt, abandoned, what):
    """``attempt()`` until it returns, for at most :data:`LANE_TIMEOUT` seconds;
    ``attempt`` waits at most :data:`POLL` seconds (raising ``TimeoutError``), and
    between tries ``abandoned()`` may end the wait with a ``ConnectionError``."""
    deadline = time.monotonic() + LANE_TIMEOUT
    while True:
        try:
            return attempt()
        except TimeoutError:  # socket.timeout and distributed's are both TimeoutError
            if abandoned():
                raise ConnectionError(f"{what}: the epoch was given up") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} within {LANE_TIMEOUT:.0f} s") from None


def abandon(name, client):
    """Tell the lanes of the epoch ``name`` that are still waiting to quit."""
    from distributed import Variable

    Variable(f"{name}-abandoned", client=client).set(True)


def _close(links):
    """Close what :func:`connect_lanes` gave (a hub's dict, or another lane's link)."""
    for link in links.values() if isinstance(links, dict) else [links]:
        link.close()


def _refs(groups):
    """``{chunk index: (X, y, sample_weight) references}`` of a lane's groups, in chunk
    order (each a value or an ``Inline`` read)."""
    return {index: chunk for _, _, indices, parts in groups
            for index, chunk in zip(indices, [c for part in parts for c in part])}


def part_sizes(n, n_parts):
    """Row counts of ``np.array_split`` of ``n`` rows into ``n_parts``."""
    return [n // n_parts + (1 if t < n % n_parts else 0) for t in range(n_parts)]


def _parts(n, n_parts, seed):
    """A chunk's rows shuffled by ``seed`` and split into ``n_parts`` sorted parts."""
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(part) for part in np.array_split(order, n_parts)]


def _rows(data, rows):
    return tuple(None if a is None else take_rows(a, rows) for a in data)


def parallel_lane(stepper, split_every, row_chunks, seeds, carry, lane_of, rank, n_lanes,
                  name, groups):
    """One lane of a data-parallel epoch (module docstring); the hub returns the final
    carry, the others ``None``. ``groups`` are the lane's ``(group, offsets, indices,
    parts)``; ``seeds[i]`` shuffles chunk ``i``; ``row_chunks`` are every chunk's rows."""
    n_steps = -(-sum(row_chunks) // stepper.batch_size)
    sizes = np.sum([part_sizes(n, n_steps) for n in row_chunks], axis=0)
    links = connect_lanes(rank, n_lanes, name) if n_lanes > 1 else {}
    chunks = {index: tuple(loaded(a) for a in refs) for index, refs in _refs(groups).items()}
    parts = {index: _parts(data[0].shape[0], n_steps, seeds[index])
             for index, data in chunks.items()}
    spans = [len(indices) for _, _, indices, _ in groups]
    zeros = (0.0, np.zeros(carry.x.size))
    x = carry.x
    try:
        with steady_heap(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for t in range(n_steps):
                sums = [stepper.batch_sums(x, *_rows(data, parts[index][t]))
                        if parts[index][t].size else zeros for index, data in chunks.items()]
                mine, start = [], 0
                for (g, *_), span in zip(groups, spans):
                    mine.append((g, tree_reduce(sums[start:start + span], split_every)))
                    start += span
                if rank > 0:
                    links.send(PART, len(mine), 0, np.concatenate(
                        [np.concatenate([[g, value], grad]) for g, (value, grad) in mine]))
                    x = links.recv(PARAMS)[3]
                    continue
                carry = _parallel_step(stepper, split_every, carry, mine, links,
                                       int(sizes[t]))
                x = carry.x
    finally:
        _close(links)
    return carry if rank == 0 else None


def _parallel_step(stepper, split_every, carry, mine, links, n_rows):
    """The hub's step: every group's sums (its own and, one message each, its lanes'),
    added through the upper levels of the fixed tree, one update, the new parameters
    to every lane."""
    by_group = dict(mine)
    width = 2 + carry.x.size  # group, value, gradient
    for link in links.values():
        _, n_groups, _, floats = link.recv(PART)
        for block in np.reshape(floats, (int(n_groups), width)):
            by_group[int(block[0])] = (float(block[1]), block[2:])
    value, grad_sum = tree_reduce([by_group[g] for g in sorted(by_group)], split_every)
    carry = stepper.apply(carry, value, grad_sum, n_rows)
    for link in links.values():
        link.send(PARAMS, floats=carry.x)
    return carry


def async_lane(stepper, max_staleness, plan, row_chunks, carry, lane_of, rank, n_lanes,
               name, groups):
    """One lane of an asynchronous epoch (module docstring); the hub returns the final
    carry, the others ``None``. ``plan`` is the epoch's ``[(chunk, seed)]``,
    ``lane_of[i]`` the lane that holds chunk ``i``."""
    b = stepper.batch_size
    streams = [[] for _ in range(n_lanes)]  # per lane: (batch number, chunk, seed)
    k = 0
    for index, seed in plan:
        streams[lane_of[index]].append((k, index, seed))
        k += -(-row_chunks[index] // b)
    links = connect_lanes(rank, n_lanes, name) if n_lanes > 1 else {}
    batches = _batches(streams[rank], _refs(groups), b)
    try:
        with steady_heap(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if rank > 0:
                for k, data in batches:
                    _, granted, _, x = links.recv(GRANT)
                    if granted != k:
                        raise ConnectionError(f"lane protocol: granted batch {granted}, "
                                              f"next is {k}")
                    value, grad = stepper.batch_sums(x, *data)
                    links.send(GRADIENT, k, data[0].shape[0], np.concatenate([[value], grad]))
                return None
            heads = [[k for k, _, _ in _expand(stream, row_chunks, b)] for stream in streams]
            return _serve(stepper, max_staleness, carry, heads, batches, links)
    finally:
        _close(links)


def _expand(stream, row_chunks, b):
    """``(batch number, chunk, batch of chunk)`` of each batch of a lane's stream."""
    for k, index, _ in stream:
        for j in range(-(-row_chunks[index] // b)):
            yield k + j, index, j


def _batches(stream, refs, b):
    """``(batch number, (X_b, y_b, sample_weight_b))`` of a lane's stream, each chunk
    read when its first batch is due."""
    for k, index, seed in stream:
        data = tuple(loaded(a) for a in refs[index])
        for j, rows in enumerate(batch_rows(data[0].shape[0], b, seed)):
            yield k + j, _rows(data, rows)
        del data


def _serve(stepper, max_staleness, carry, heads, own, links):
    """The parameter server of the hub: grant, compute its own batches, apply in grant
    order; the final carry."""
    heads = [deque(h) for h in heads]
    idle = [True] * len(heads)
    granted = deque()  # [batch, lane, parameters sent, result or None]
    own = iter(own)
    while granted or any(heads):
        while len(granted) <= max_staleness:
            ready = [lane for lane, head in enumerate(heads) if idle[lane] and head]
            if not ready:
                break
            # in the epoch's order when one batch at a time; else the other lanes
            # first, so that they compute while the hub does
            lane = min(ready, key=lambda lane: (max_staleness > 0 and lane == 0,
                                                heads[lane][0]))
            entry = [heads[lane].popleft(), lane, carry.x, None]
            granted.append(entry)
            if lane == 0:
                k, data = next(own)
                entry[3] = (*stepper.batch_sums(carry.x, *data), data[0].shape[0])
                break  # apply it (when its turn has come) before granting again
            idle[lane] = False
            links[lane].send(GRANT, entry[0], 0, carry.x)
        if granted and granted[0][3] is not None:
            # one update, then grant again: an idle lane gets its next batch before the
            # hub applies the rest and computes its own, so the lanes compute together
            _, _, x_used, (value, grad_sum, n_rows) = granted.popleft()
            carry = stepper.apply(carry, value, grad_sum, n_rows, x_used=x_used)
            continue
        if not granted:
            continue
        lane = _wait_any({lane: links[lane] for lane in links if not idle[lane]})
        _, k, n_rows, floats = links[lane].recv(GRADIENT)
        entry = next(e for e in granted if e[0] == k and e[1] == lane)
        entry[3] = (float(floats[0]), floats[1:], int(n_rows))
        idle[lane] = True
    return carry


def _wait_any(links):
    """Of the lanes that owe a gradient, the one whose message comes first (a lane
    that has finished closes its link, which would read as ready)."""
    for lane, link in links.items():
        if link.pending():
            return lane
    ready, _, _ = select.select([link.sock for link in links.values()], [], [], LANE_TIMEOUT)
    if not ready:
        raise RuntimeError(f"no lane of this epoch answered for {LANE_TIMEOUT:.0f} s")
    return next(lane for lane, link in links.items() if link.sock is ready[0])
