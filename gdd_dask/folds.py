"""Folds of the rows as per-row weights: cross-validation without copying the data.

A model of a cross-validation is fitted on its training rows and scored on its test
rows; here both are *weights*, computed inside each chunk task from the rows' global
indices, so every model reads the same chunks in the same passes
(:mod:`gdd_dask.many`) and no row is copied or reshuffled. Model ``k`` trained on
split ``j`` sees the weights ``s_i [i in train_j]``: it is, bit for bit, the single fit
given ``sample_weight = s * train_mask``.

- :class:`RowFolds` (``cv`` an int): row ``i``'s test fold is a function of a seed and
  ``i`` alone. The rows are cut into consecutive blocks of ``n_splits``; each block's
  rows take the folds in a seeded random order (a SplitMix64 hash of the seed and the
  row index, ranked within the block), so every fold holds ``n // n_splits`` rows or
  one more, spread over the whole dataset.
- :class:`SplitFolds` (a scikit-learn splitter, or an iterable of ``(train, test)``
  index arrays): the given splits as one byte per row and split (bit 1 train, bit 2
  test), sent to the tasks with the pass.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from array_api_compat import device, is_numpy_namespace

from .chunk import as_float64

__all__ = ["RowFolds", "SplitFolds", "Weighting", "make_folds"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(z):
    """SplitMix64's finalizer of ``uint64`` values (a bijection that scatters bits)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class RowFolds:
    """``n_splits`` folds of the rows, row ``i``'s a function of ``(seed, i)``."""

    codes = None

    def __init__(self, n_splits, seed=0):
        if not isinstance(n_splits, Integral) or isinstance(n_splits, bool) or n_splits < 2:
            raise ValueError(f"cv must be an int >= 2 folds; got {n_splits!r}")
        self.n_splits, self.seed = int(n_splits), int(seed) % 2**64

    def test_fold(self, start, n):
        """The test fold of rows ``start .. start + n - 1``: in each block of
        ``n_splits`` consecutive rows, the rank of the row's hash."""
        k = self.n_splits
        first, last = start // k, (start + n - 1) // k + 1 if n else start // k
        rows = np.arange(first * k, last * k, dtype=np.uint64)
        with np.errstate(over="ignore"):
            keys = _mix(rows * _GOLDEN + _mix(np.uint64(self.seed) + _GOLDEN))
        ranks = np.argsort(np.argsort(keys.reshape(-1, k), axis=1, kind="stable"), axis=1)
        return ranks.ravel()[start - first * k: start - first * k + n]

    def in_tasks(self):
        """What the tasks need of these folds: the folds themselves (two numbers)."""
        return self

    def masks(self, split, start, n, part, codes=None, memo=None):
        """Whether each row is in ``part`` (``"train"``/``"test"``) of ``split``
        (``memo``, a dict, keeps the rows' folds for the chunk's other masks)."""
        memo = {} if memo is None else memo
        if ("fold", self.seed) not in memo:
            memo["fold", self.seed] = self.test_fold(start, n)
        fold = memo["fold", self.seed]
        return fold == split if part == "test" else fold != split

    def splits(self, n_samples):
        """``[(train, test)]`` index arrays, as scikit-learn's splitters give them."""
        fold = self.test_fold(0, n_samples)
        return [(np.flatnonzero(fold != j), np.flatnonzero(fold == j))
                for j in range(self.n_splits)]

    def __repr__(self):
        return f"RowFolds(n_splits={self.n_splits}, seed={self.seed})"


def _coded(split, start, n, part, codes, memo=None):
    """Whether each row of ``start .. start + n - 1`` is in ``part`` of ``split``, from
    the per-row codes sent with the pass."""
    bit = 2 if part == "test" else 1
    return (codes[start:start + n, split] & bit) != 0


class _Coded:
    """The folds of given splits as the tasks see them: :func:`_coded` of the codes."""

    masks = staticmethod(_coded)

    def __repr__(self):
        return "given splits"


_CODED = _Coded()


class SplitFolds:
    """Given ``(train, test)`` splits of ``n_samples`` rows, as per-row codes."""

    def __init__(self, splits, n_samples):
        splits = list(splits)
        if not splits:
            raise ValueError("cv gave no (train, test) splits")
        codes = np.zeros((n_samples, len(splits)), dtype=np.uint8)
        for j, split in enumerate(splits):
            try:
                train, test = split
            except (TypeError, ValueError):
                raise ValueError(f"cv split {j} is not a (train, test) pair") from None
            for bit, (name, rows) in ((1, ("train", train)), (2, ("test", test))):
                rows = np.asarray(rows)
                if rows.dtype == bool:
                    rows = np.flatnonzero(rows)
                if rows.size and (rows.dtype.kind not in "iu" or rows.min() < 0
                                  or rows.max() >= n_samples):
                    raise ValueError(f"cv split {j}: {name} indices must be integers in "
                                     f"[0, {n_samples}); got {rows[:5].tolist()}...")
                if not rows.size:
                    raise ValueError(f"cv split {j} has no {name} rows")
                codes[rows, j] |= bit
        self.codes, self.n_splits = codes, len(splits)

    masks = staticmethod(_coded)

    def in_tasks(self):
        """What the tasks need of these folds: nothing but the codes, which travel with
        each pass (not inside every task)."""
        return _CODED

    def splits(self, n_samples):
        return [(np.flatnonzero(self.codes[:, j] & 1), np.flatnonzero(self.codes[:, j] & 2))
                for j in range(self.n_splits)]

    def __repr__(self):
        return f"SplitFolds(n_splits={self.n_splits})"


class Weighting:
    """A model's row weights: all rows (``split=None``: the sample weights as given),
    or the ``part`` (``"train"``, ``"test"``) of one split of ``folds``."""

    __slots__ = ("folds", "part", "split")

    def __init__(self, folds=None, split=None, part="train"):
        self.folds = folds.in_tasks() if folds is not None else None
        self.split, self.part = split, part

    @property
    def key(self):
        return None if self.split is None else (self.split, self.part)

    def weights(self, start, n, sample_weight, xp, codes=None, memo=None):
        """``s_i [row i in the part]`` for rows ``start ..`` (``s_i = 1`` without
        sample weights), float64 in ``xp``; the sample weights themselves for all
        rows. ``memo`` (a dict) keeps what other weightings of the chunk reuse."""
        if self.split is None:
            return sample_weight
        mask = self.folds.masks(self.split, start, n, self.part, codes, memo)
        mask = mask.astype(np.float64)
        if sample_weight is None:
            return mask if xp is None or is_numpy_namespace(xp) else xp.asarray(mask)
        s = as_float64(sample_weight, xp)
        return s * (mask if is_numpy_namespace(xp) else xp.asarray(mask, device=device(s)))

    def __repr__(self):
        return "Weighting(all rows)" if self.split is None else \
            f"Weighting({self.part} of split {self.split} of {self.folds!r})"


def make_folds(cv, *, n_samples, y=None, random_state=None, groups=None):
    """The folds of ``cv``: an int is :class:`RowFolds` seeded by ``random_state`` (an
    int as given; ``None`` is 0, so a rerun draws the same folds); a scikit-learn
    splitter (``split(X, y, groups)``, given ``y`` in memory where it needs one) or an
    iterable of ``(train, test)`` index arrays is :class:`SplitFolds`."""
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        return RowFolds(cv, _seed(random_state))
    if cv is None or isinstance(cv, (str, bytes, bool)) \
            or not (hasattr(cv, "split") or hasattr(cv, "__iter__")):
        raise ValueError(f"cv must be an int, a scikit-learn splitter or an iterable of "
                         f"(train, test) index arrays; got {cv!r}")
    if hasattr(cv, "split"):
        dummy = np.zeros((n_samples, 1))
        y = None if y is None else np.asarray(y)
        return SplitFolds(cv.split(dummy, y, groups), n_samples)
    return SplitFolds(cv, n_samples)


def _seed(random_state):
    if random_state is None:
        return 0
    if isinstance(random_state, Integral):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    raise ValueError(f"random_state must be an int, a RandomState or None; got "
                     f"{random_state!r}")
