"""The STORE argument: a Zarr store's path, or a catalog name already made."""

from __future__ import annotations

from pathlib import Path

from .args import CommandError

__all__ = ["describe_x", "open_store", "resolve_store"]


def resolve_store(text):
    """``text`` as a path if it exists; else ``datasets/NAME.zarr`` for a catalog name."""
    path = Path(text)
    if path.exists() or "/" in text or text.endswith(".zarr"):
        return path
    from ..datasets import default_store_path, load_catalog

    if text in load_catalog():
        made = default_store_path(text)
        if made.exists():
            return made
        raise CommandError(f"no Zarr store at {text} (nor at {made}); make it with "
                           f"`gdd-dask data make {text}`")
    return path


def open_store(text, *, x_name="X", y_name="y"):
    """``(path, X, y, attributes)`` of a store, checked before any cluster starts."""
    from ..datasets import open_zarr, read_attributes

    path = resolve_store(text)
    X, y = open_zarr(path, x_name=x_name, y_name=y_name)
    return path, X, y, read_attributes(path)


def describe_x(X, attributes):
    """``("float64" or "float64 sparse (CSR)", bytes)`` of a store's X as stored (a
    sparse X: its values, their columns and the row pointers)."""
    if attributes.get("format") == "csr":
        return f"{X.dtype} sparse (CSR)", 12 * attributes["nnz"] + 8 * (X.shape[0] + 1)
    return str(X.dtype), X.nbytes
