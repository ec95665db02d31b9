"""Learning-rate schedules: ``schedule(step) -> learning rate`` for step ``0, 1, ...``.

A number is a constant schedule wherever a schedule is taken (:func:`as_schedule`).

- :func:`constant`: ``eta``;
- :func:`inverse_scaling`: ``eta / (1 + step)**power_t`` (scikit-learn's
  ``learning_rate="invscaling"``);
- :func:`cosine`: ``eta_min + (eta - eta_min) (1 + cos(pi step / total_steps)) / 2``,
  then ``eta_min`` (Loshchilov & Hutter's SGDR without restarts; optax's
  ``cosine_decay_schedule``);
- :func:`scaled`: a schedule times a factor (local SGD's linear scaling);
- :class:`Plateau`: a schedule times a factor that the solver divides by 5 each time
  the objective stops improving, until the rate is down to ``1e-6`` (scikit-learn's
  ``learning_rate="adaptive"``).
"""

from __future__ import annotations

import math

from .checks import check_number

__all__ = ["Plateau", "as_schedule", "constant", "cosine", "inverse_scaling", "scaled"]


def _positive(value, name):
    return float(check_number(value, name, low=0, inclusive=False))


def constant(learning_rate):
    """``eta`` at every step."""
    eta = _positive(learning_rate, "learning_rate")
    return lambda step: eta


def inverse_scaling(learning_rate, power_t=0.5):
    """``eta / (1 + step)**power_t``."""
    eta, power = _positive(learning_rate, "learning_rate"), _positive(power_t, "power_t")
    return lambda step: eta / (1.0 + step) ** power


def cosine(learning_rate, total_steps, final_learning_rate=0.0):
    """From ``eta`` down to ``final_learning_rate`` along half a cosine over
    ``total_steps`` steps, then constant."""
    eta = _positive(learning_rate, "learning_rate")
    steps = _positive(total_steps, "total_steps")
    low = float(final_learning_rate)
    if not 0 <= low <= eta:
        raise ValueError(f"final_learning_rate must be in [0, learning_rate]; got {low!r}")

    def schedule(step):
        t = min(step, steps) / steps
        return low + (eta - low) * 0.5 * (1.0 + math.cos(math.pi * t))

    return schedule


def scaled(learning_rate, factor):
    """``factor`` times a schedule or a number; a :class:`Plateau` stays one (the
    factor inside it), so that the solvers still divide it on plateaus."""
    if isinstance(learning_rate, Plateau):
        return Plateau(scaled(learning_rate.schedule, factor), scale=learning_rate.scale,
                       factor=learning_rate.factor, min_rate=learning_rate.min_rate)
    schedule = as_schedule(learning_rate)
    return lambda step: factor * schedule(step)


def as_schedule(learning_rate):
    """A schedule from a schedule (a callable) or a number (constant)."""
    return learning_rate if callable(learning_rate) else constant(learning_rate)


class Plateau:
    """``scale * schedule(step)``, where :meth:`reduce` divides ``scale`` by
    ``factor`` on each plateau of the objective (the stochastic solvers call it
    instead of stopping), and refuses once the rate is at most ``min_rate``."""

    def __init__(self, learning_rate, *, scale=1.0, factor=5.0, min_rate=1e-6):
        self.schedule, self.scale = as_schedule(learning_rate), float(scale)
        self.factor, self.min_rate = float(factor), float(min_rate)

    def __call__(self, step):
        return self.scale * self.schedule(step)

    def reduce(self, step=0):
        """Divide the rate by ``factor``: ``True``, or ``False`` (the caller stops)
        when it is already at most ``min_rate`` at ``step``."""
        if self(step) <= self.min_rate:
            return False
        self.scale /= self.factor
        return True
