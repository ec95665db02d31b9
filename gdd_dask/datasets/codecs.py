"""Named compressors for the stores the generators and writers make.

Each name maps to the ``compressors`` of a Zarr v3 array, built only from codecs in the
Zarr v3 specification (``zstd``, ``blosc``, ``gzip``) so that any Zarr v3 reader can
open the stores. Random float64 data barely compresses (the mantissa bits are noise),
so decoding speed, not size, decides how fast a streaming pass over a store is: the
default is no compression, measured by ``benchmarks/codecs.py`` (figures in
``datasets/README.md``).
"""

from __future__ import annotations

__all__ = ["CODECS", "DEFAULT_CODEC", "compressors"]

DEFAULT_CODEC = "none"
"""The codec of the generated stores (fastest streaming pass; see the module note)."""


def _zstd(level):
    from zarr.codecs import ZstdCodec

    return (ZstdCodec(level=level),)


def _blosc(cname, level, shuffle):
    from zarr.codecs import BloscCodec

    return (BloscCodec(cname=cname, clevel=level, shuffle=shuffle, typesize=8),)


def _gzip(level):
    from zarr.codecs import GzipCodec

    return (GzipCodec(level=level),)


CODECS = {
    "none": lambda: (),
    "zstd-1": lambda: _zstd(1),
    "zstd-3": lambda: _zstd(3),
    "blosc-lz4": lambda: _blosc("lz4", 5, "shuffle"),
    "blosc-lz4-noshuffle": lambda: _blosc("lz4", 5, "noshuffle"),
    "blosc-lz4-bitshuffle": lambda: _blosc("lz4", 5, "bitshuffle"),
    "blosc-blosclz": lambda: _blosc("blosclz", 5, "shuffle"),
    "blosc-zstd-1": lambda: _blosc("zstd", 1, "shuffle"),
    "gzip-1": lambda: _gzip(1),
}
"""Codec name -> factory of the Zarr v3 ``compressors`` tuple (``()``: none)."""


def compressors(codec):
    """The Zarr v3 ``compressors`` for a codec name from :data:`CODECS`."""
    if not isinstance(codec, str):
        raise TypeError(f"codec must be a name from {sorted(CODECS)}; got {type(codec).__name__}")
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; choose one of {sorted(CODECS)}")
    return CODECS[codec]()
