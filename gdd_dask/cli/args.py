"""Argument parsing for ``gdd-dask``: one-line errors and validated option types."""

from __future__ import annotations

import argparse
import sys

__all__ = ["CommandError", "Parser", "byte_size", "count", "non_negative"]

EXIT_USAGE = 2


class CommandError(Exception):
    """A problem with what the user asked for: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """``ArgumentParser`` whose errors are one line on stderr and exit code 2."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(EXIT_USAGE)


def count(low=1):
    """An integer option ``>= low`` (underscores allowed: ``1_000_000``)."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}; got {value}")
        return value

    return parse


def non_negative(text):
    """A finite real option ``>= 0``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0; got {text!r}")
    return value


def byte_size(text):
    """A memory size such as ``300MB`` or ``1GiB`` (``auto``: Dask's default share)."""
    if text == "auto":
        return text
    from dask.utils import parse_bytes

    try:
        value = parse_bytes(text)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"must be a size like 300MB or 2GiB; got {text!r}") \
            from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be positive; got {text!r}")
    return value
