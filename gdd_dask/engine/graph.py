"""The engine's graph builder: the task graphs of a pass, a chain and an epoch of lanes.

Plain dicts of Dask tasks (no cluster needed to build them). A pass::

    gdd-params-<t>                        the parameters, sent once to each worker
    (<prefix>-<t>, g)  for each group g   the group's chunk sums, folded by its subtree
    (gdd-reduce-<t>, level, j)            groups of ``split_every`` group results

(small parameters travel inside each group task instead of under a key). The task
functions themselves run on the workers and live in :mod:`gdd_dask.chunk`.
"""

from __future__ import annotations

import operator
from functools import partial

from ..chunk import run_chain, run_group
from ..reduction import add_kept_sums, tree_levels

__all__ = ["chain_graph", "lanes_graph", "pass_graph", "reduce_layer", "with_homes"]


class Layout:
    """What the graphs are built over: the groups of chunk indices, each chunk's first
    row (``offsets``), each group's data references (``units``: ``[cached,
    streamed]`` or ``[[chunk refs]]``) and the fan-in of the tree."""

    def __init__(self, groups, offsets, units, split_every):
        self.groups, self.offsets, self.units = groups, offsets, units
        self.split_every = split_every


def pass_graph(layout, name, token, func, broadcast, *, inline, with_X, per_chunk, keep,
               combine):
    """``(graph, group keys)`` of one task per group (:func:`~gdd_dask.chunk.run_group`),
    the ``broadcast`` values inside each task (``inline``) or under a
    ``gdd-params-<token>`` key of their own."""
    graph, shared = {}, []
    for j, value in enumerate(broadcast):
        if inline:  # in each task: no task of their own to wait for and fetch
            shared.append(value)
            continue
        key = f"gdd-params-{token}" if j == 0 else f"gdd-params-{token}-{j}"
        graph[key] = value
        shared.append(key)
    keys = []
    for g, group in enumerate(layout.groups):
        offsets = [layout.offsets[i] for i in group]
        graph[(name, g)] = (run_group, func, combine, layout.split_every, keep, with_X,
                            offsets, list(group), layout.units[g],
                            [h[g] for h in per_chunk], *shared)
        keys.append((name, g))
    return graph, keys


def reduce_layer(graph, keys, name, split_every, *, first, combine):
    """Add the fixed tree over ``keys`` to ``graph`` (``first`` folds the leaves'
    groups, ``combine`` every level above); the root's key."""
    for level, groups in enumerate(tree_levels(len(keys), split_every)):
        step = first if level == 0 else combine
        keys = [_add(graph, (name, level, j), step, [keys[i] for i in group])
                for j, group in enumerate(groups)]
    return keys[0]


def reduced_pass(graph, keys, token, split_every, *, keep, combine):
    """The keys to fetch of a pass reduced by tasks: the tree's root, then (with
    ``keep``) a handle on each group's kept outputs -- the group's whole output for
    ``keep="output"``, else one small ``gdd-margins`` task per group that picks out
    its kept part."""
    first = partial(add_kept_sums, combine=combine) if keep else combine
    final = reduce_layer(graph, keys, f"gdd-reduce-{token}", split_every, first=first,
                         combine=combine)
    if not keep:
        return [final]
    if keep == "output":  # small sums: keep each group's whole output, no extra task
        return [final, *keys]
    kept = [(f"gdd-margins-{token}", g) for g in range(len(keys))]
    for key, group_key in zip(kept, keys):
        graph[key] = (operator.getitem, group_key, 1)  # the group's output itself goes
    return [final, *kept]


def chain_graph(layout, name, func, carries, plans, homes):
    """``(graph, last key of each chain, homes of its tasks)`` of :meth:`Engine.chains
    <gdd_dask.engine.Engine.chains>`: one task per run of consecutive chunks of a plan
    that share a group, each depending on the one before (``homes``: ``{group:
    worker}``)."""
    span = len(layout.groups[0])  # every group but the last has the same span
    graph, task_homes, lasts = {}, {}, []
    for c, (previous, plan) in enumerate(zip(carries, plans)):
        runs = []
        for i, arg in plan:
            if not runs or runs[-1][0] != i // span:
                runs.append((i // span, []))
            runs[-1][1].append((layout.offsets[i], i, i - runs[-1][0] * span, arg))
        for k, (g, steps) in enumerate(runs):
            key = (name, c, k)
            graph[key] = (run_chain, func, previous, steps, layout.units[g])
            if g in homes:
                task_homes[key] = homes[g]
            previous = key
        lasts.append(previous)
    return graph, lasts, task_homes


def collect(*carries):
    """The task that hands the final carries of several chains to the client."""
    return carries


def lanes_graph(layout, name, rendezvous, func, shared, lane_groups, n_chunks):
    """The graph of an epoch of lanes, one task per lane (``lane_groups``: the groups
    each lane holds), keyed ``(name, rank)``: ``func(*shared, lane_of, rank, n_lanes,
    rendezvous, [(group, offsets, indices, parts)])``."""
    lane_of = [0] * n_chunks
    for rank, groups in enumerate(lane_groups):
        for g in groups:
            for i in layout.groups[g]:
                lane_of[i] = rank
    graph = {}
    for rank, groups in enumerate(lane_groups):
        described = [(g, [layout.offsets[i] for i in layout.groups[g]],
                      list(layout.groups[g]), layout.units[g]) for g in groups]
        graph[(name, rank)] = (func, *shared, lane_of, rank, len(lane_groups), rendezvous,
                               described)
    return graph


def with_homes(graph, homes, strict=False):
    """``graph`` as a HighLevelGraph whose tasks in ``homes`` (``{key: worker}``) are
    loosely restricted to their worker: the one that holds their cached chunks. (Left
    to itself the scheduler may treat a pass's tasks as root tasks and place them
    without regard to where their data lives.) With ``strict``, only there."""
    from dask.highlevelgraph import HighLevelGraph, MaterializedLayer

    homed = MaterializedLayer(
        {key: graph[key] for key in homes},
        annotations={"workers": lambda key: [homes[key]], "allow_other_workers": not strict})
    rest = MaterializedLayer({k: v for k, v in graph.items() if k not in homes})
    return HighLevelGraph({"homed": homed, "rest": rest}, {"homed": set(), "rest": {"homed"}})


def _add(graph, key, combine, children):
    graph[key] = (combine, children)
    return key
