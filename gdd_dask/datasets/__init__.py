"""Datasets as Zarr v3 stores: synthetic generators, a writer, a reader, a catalog.

- :func:`make_regression`, :func:`make_classification`, :func:`make_poisson` write a
  synthetic problem chunk by chunk, deterministic by ``seed`` whatever the chunking, with
  the true coefficients in the store's attributes;
- :func:`make_hashed_text` writes a sparse problem like hashed text (a CSR store);
- :func:`write_zarr` stores existing NumPy, SciPy sparse or Dask arrays, or a stream of
  sparse row blocks;
- :func:`open_zarr` opens a store as row-chunked Dask arrays ``(X, y)`` (of SciPy CSR
  chunks for a sparse store);
- :func:`load_catalog` / :func:`make_dataset` read and make the named recipes of
  ``catalog.toml`` (``gdd-dask data make NAME``).
"""

from .catalog import (
    DATA_DIR,
    Recipe,
    catalog_path,
    default_store_path,
    get_recipe,
    load_catalog,
    make_dataset,
)
from .codecs import CODECS, DEFAULT_CODEC
from .generators import make_classification, make_poisson, make_regression, make_synthetic
from .store import open_zarr, read_attributes
from .synthetic import KINDS
from .text import make_hashed_text
from .writer import write_zarr

__all__ = [
    "CODECS",
    "DATA_DIR",
    "DEFAULT_CODEC",
    "KINDS",
    "Recipe",
    "catalog_path",
    "default_store_path",
    "get_recipe",
    "load_catalog",
    "make_classification",
    "make_dataset",
    "make_hashed_text",
    "make_poisson",
    "make_regression",
    "make_synthetic",
    "open_zarr",
    "read_attributes",
    "write_zarr",
]
