"""The benchmark problems: their Zarr stores, the data in memory, the common objective.

A :class:`Problem` is a synthetic store written by :mod:`gdd_dask.datasets` (reused when
its attributes match), read once into NumPy (for scikit-learn and plain NumPy) and
persisted on the cluster (for gdd-dask and dask-ml). Every tool's result is scored with
one objective, gdd-dask's in-process ``make_objective`` on the NumPy arrays:

- logistic: the mean log-loss plus ``alpha/2 ||w||^2`` with ``alpha = 1 / (C n)``, C = 1,
  i.e. scikit-learn's ``LogisticRegression(C=1)`` divided by ``n``;
- regression: half the mean squared error plus ``alpha/2 ||w||^2`` with
  ``alpha = 1 / n``, i.e. scikit-learn's ``Ridge(alpha=1)`` divided by ``2 n``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dask
import numpy as np
from distributed import wait

import gdd_dask
from gdd_dask.datasets import make_synthetic, open_zarr, read_attributes

C = 1.0
"""scikit-learn's inverse regularization of the logistic problem."""
RIDGE_ALPHA = 1.0
"""scikit-learn's ``Ridge(alpha)`` of the regression problem."""


@dataclass(frozen=True)
class Problem:
    """A synthetic problem: ``name`` (``"logistic"`` or ``"regression"``), its size,
    store chunking and seed."""

    name: str
    rows: int
    features: int
    chunk_rows: int
    seed: int

    @property
    def kind(self):
        """The generator's kind."""
        return "classification" if self.name == "logistic" else "regression"

    @property
    def loss(self):
        """gdd-dask's loss name."""
        return "logistic" if self.name == "logistic" else "squared"

    @property
    def alpha(self):
        """gdd-dask's L2 strength of the mean loss: ``1 / (C n)`` or ``Ridge.alpha / n``."""
        return (1.0 / C if self.name == "logistic" else RIDGE_ALPHA) / self.rows

    @property
    def label(self):
        """``"logistic 200,000 x 50"``."""
        return f"{self.name} {self.rows:,} x {self.features}"

    def path(self, data_dir):
        """Where its store lives in ``data_dir`` (``*.zarr``: git-ignored in datasets/)."""
        return Path(data_dir) / (f"bench-{self.name}-{self.rows}x{self.features}"
                                 f"-c{self.chunk_rows}-s{self.seed}.zarr")

    def matches(self, attributes):
        """Whether a store's attributes are this problem's."""
        wanted = {"kind": self.kind, "n_samples": self.rows, "n_features": self.features,
                  "chunk_rows": self.chunk_rows, "seed": self.seed, "codec": "none"}
        return all(attributes.get(key) == value for key, value in wanted.items())


def ensure_store(problem, data_dir):
    """The problem's store, written unless one with the same attributes exists."""
    path = problem.path(data_dir)
    if path.exists() and problem.matches(read_attributes(path)):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    make_synthetic(path, problem.kind, n_samples=problem.rows, n_features=problem.features,
                   chunk_rows=problem.chunk_rows, seed=problem.seed, overwrite=True)
    return path


def read_numpy(path):
    """``(X, y)`` of a store as NumPy arrays, read on this process's threads."""
    return dask.compute(*open_zarr(path), scheduler="threads")


def persist(client, path):
    """``(X, y)`` of a store read by the workers and kept in their memory."""
    X, y = client.persist(list(open_zarr(path)))
    with client.as_current():
        wait([X, y])
    return X, y


def reference_objective(problem, X, y):
    """The common objective, in-process on NumPy arrays (no Dask)."""
    return gdd_dask.make_objective(problem.loss, X, y, alpha=problem.alpha)


def gap(fun, f_star):
    """Relative objective gap ``(f - f*) / |f*|`` (``None`` for no value)."""
    if fun is None or not np.isfinite(fun):
        return None
    return (fun - f_star) / abs(f_star)
