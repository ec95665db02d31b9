"""Validation of scalar options, one rule for the whole package."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check_number"]


def check_number(value, name, *, low, high=None, integer=False, inclusive=True):
    """Return ``value`` when it is a finite real (an integer with ``integer``) with
    ``value >= low`` (``> low`` unless ``inclusive``) and ``value < high``; otherwise
    raise ``TypeError`` (not a number) or ``ValueError`` (out of range) naming it."""
    kinds = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kinds):
        what = "an integer" if integer else "a real number"
        raise TypeError(f"{name} must be {what}; got {type(value).__name__}")
    above = value >= low if inclusive else value > low
    if not above or not np.isfinite(value) or (high is not None and not value < high):
        bound = f"{'>=' if inclusive else '>'} {low}"
        if high is not None:
            bound += f" and < {high}"
        raise ValueError(f"{name} must be {bound}; got {value!r}")
    return value
