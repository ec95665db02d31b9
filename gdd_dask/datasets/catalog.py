"""The catalog of named dataset recipes (``catalog.toml``) and making a store from one.

A recipe names a synthetic problem: ``kind``, ``rows``, ``features``, ``chunk_rows``,
``seed`` and optionally ``classes``, ``noise``, ``intercept``, ``codec``,
``description``, ``nonzeros`` (tokens a row of the sparse ``hashed_text`` kind). The
catalog ships inside the package (``gdd_dask/datasets/catalog.toml``, linked from the
repository's ``datasets/`` folder); pass ``catalog=`` to read another file with the
same layout. Stores land in ``datasets/NAME.zarr`` under
the current directory unless a path is given.
"""

from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from ..csr_store import csr_chunk_rows
from .codecs import DEFAULT_CODEC
from .generators import make_synthetic
from .store import default_chunk_rows
from .synthetic import SPARSE_KINDS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["DATA_DIR", "Recipe", "catalog_path", "default_store_path", "get_recipe",
           "load_catalog", "make_dataset"]

DATA_DIR = Path("datasets")
"""Where :func:`make_dataset` writes ``NAME.zarr`` by default (relative to the cwd)."""

REQUIRED = ("kind", "rows", "features", "chunk_rows", "seed")
OPTIONAL = ("classes", "noise", "intercept", "codec", "description", "nonzeros")


class Recipe(NamedTuple):
    """One named synthetic dataset of the catalog."""

    name: str
    kind: str
    rows: int
    features: int
    chunk_rows: int
    seed: int
    classes: int = 2
    noise: float = 1.0
    intercept: float | list | None = None
    codec: str = DEFAULT_CODEC
    description: str = ""
    nonzeros: int = 50

    @property
    def sparse(self):
        """Whether X is sparse (``nonzeros`` tokens a row, ``"hashed_text"``)."""
        return self.kind in SPARSE_KINDS

    def auto_chunk_rows(self):
        """Rows per chunk of about 16 MiB of X (of a sparse X, about 4 million stored
        values)."""
        if self.sparse:
            return csr_chunk_rows(self.rows, self.rows * self.nonzeros)
        return default_chunk_rows(self.features)

    @property
    def nbytes(self):
        """Bytes of X and y in float64, uncompressed (of a sparse X: at most
        ``nonzeros`` stored values a row, with their column indices)."""
        per_row = 12 * self.nonzeros if self.sparse else 8 * self.features
        return self.rows * (per_row + 8)

    def make(self, path, *, overwrite=False, callback=None):
        """Write this recipe's store at ``path``; return its attributes."""
        options = {} if self.intercept is None else {"intercept": self.intercept}
        if self.kind == "classification" and self.intercept is None and self.classes > 2:
            options["intercept"] = 0.0
        return make_synthetic(path, self.kind, n_samples=self.rows, n_features=self.features,
                              n_classes=self.classes, noise=self.noise,
                              chunk_rows=self.chunk_rows, seed=self.seed, codec=self.codec,
                              overwrite=overwrite, callback=callback,
                              attributes={"recipe": self.name}, nnz_per_row=self.nonzeros,
                              **options)


def catalog_path():
    """The catalog shipped with the package."""
    return Path(str(resources.files(__package__).joinpath("catalog.toml")))


def _recipe(name, table, source):
    if not isinstance(table, dict):
        raise ValueError(f"{source}: [{name}] must be a table of recipe fields")
    missing = [key for key in REQUIRED if key not in table]
    unknown = sorted(set(table) - set(REQUIRED) - set(OPTIONAL))
    if missing or unknown:
        problem = f"lacks {missing}" if missing else f"has unknown fields {unknown}"
        raise ValueError(f"{source}: recipe [{name}] {problem}; "
                         f"fields are {list(REQUIRED)} and optionally {list(OPTIONAL)}")
    return Recipe(name=name, **table)


def load_catalog(path=None):
    """``{name: Recipe}`` from a catalog file (default: the package's ``catalog.toml``)."""
    path = catalog_path() if path is None else Path(os.fspath(path))
    try:
        with open(path, "rb") as f:
            tables = tomllib.load(f)
    except FileNotFoundError:
        raise ValueError(f"no dataset catalog at {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML: {exc}") from None
    return {name: _recipe(name, table, path) for name, table in tables.items()}


def get_recipe(name, *, catalog=None):
    """The recipe called ``name`` (``catalog``: a path or a loaded ``{name: Recipe}``)."""
    recipes = catalog if isinstance(catalog, dict) else load_catalog(catalog)
    if name not in recipes:
        raise ValueError(f"no dataset {name!r} in the catalog; its datasets are "
                         f"{sorted(recipes)}")
    return recipes[name]


def default_store_path(name):
    """``datasets/NAME.zarr`` under the current directory."""
    return DATA_DIR / f"{name}.zarr"


def make_dataset(name, path=None, *, overwrite=False, callback=None, catalog=None):
    """Write the catalog's dataset ``name`` to ``path`` (default ``datasets/NAME.zarr``);
    return the path. ``callback(rows_written)`` follows the progress."""
    recipe = get_recipe(name, catalog=catalog)
    path = default_store_path(name) if path is None else Path(os.fspath(path))
    recipe.make(path, overwrite=overwrite, callback=callback)
    return path
