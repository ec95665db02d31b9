"""The fixed-order tree reduction shared by the Dask engine and the in-process objective.

Partial sums are combined in groups of ``split_every`` consecutive chunk indices, level
by level, each group folded left to right. The tree depends only on the number of
chunks, never on which worker finished first, so the floating-point result is the same
on any number of workers and on every rerun.
"""

from __future__ import annotations

__all__ = ["add_kept_sums", "add_sums", "tree_levels", "tree_reduce"]


def add_sums(parts):
    """Left fold of tuples of sums: ``((p0 + p1) + p2) + ...``, element by element."""
    parts = list(parts)
    total = list(parts[0])
    for part in parts[1:]:
        for i, value in enumerate(part):
            total[i] = total[i] + value
    return tuple(total)


def add_kept_sums(parts, combine=add_sums):
    """``combine`` (default :func:`add_sums`) of ``(sums, kept)`` chunk outputs,
    leaving ``kept`` out."""
    return combine([part[0] for part in parts])


def tree_levels(n_leaves, split_every):
    """Group sizes of each level: ``[[range(0, s), range(s, 2s), ...], ...]``.

    The last level has a single group, so the tree always ends in one ``gdd-reduce``
    node (also for a single chunk).
    """
    if split_every < 2:
        raise ValueError(f"split_every must be >= 2, got {split_every}")
    levels, n = [], n_leaves
    while True:
        groups = [range(i, min(i + split_every, n)) for i in range(0, n, split_every)]
        levels.append(groups)
        if len(groups) == 1:
            return levels
        n = len(groups)


def tree_reduce(values, split_every, combine=add_sums, first=None):
    """Reduce ``values`` with the same tree the engine builds as tasks (``first``
    combines the leaves, default ``combine``)."""
    for level, groups in enumerate(tree_levels(len(values), split_every)):
        step = first if level == 0 and first is not None else combine
        values = [step([values[i] for i in group]) for group in groups]
    return values[0]
