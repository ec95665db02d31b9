"""Local SGD (model averaging): each round, every chunk trains its own copy.

A round sends the parameters to every chunk task, which runs ``local_steps`` steps of
mini-batch SGD (``batch_size`` rows, step ``learning_rate``) on its own rows; the fixed
reduction tree sums ``m_c w_c`` and ``m_c`` (``m_c`` the chunk's weight), and the
client's new parameters are the weighted average ``sum m_c w_c / sum m_c``, sent to
every chunk in the next round. A round is one pass; one more evaluates the objective,
with the stopping test of the other stochastic solvers (``max_iter`` counts rounds).
This is the design note's parameter averaging, with the averaged model sent back
each round.
"""

from __future__ import annotations

from ..checks import check_number
from .stochastic import Epoch, as_generator, run_epochs

__all__ = ["local_sgd"]


def local_sgd(objective, x0, *, tol=1e-4, max_iter=100, callback=None, local_steps=10,
              batch_size=32, learning_rate=0.01, random_state=None, n_iter_no_change=5,
              checkpoint=None):
    """Minimize by rounds of local SGD and averaging; see the module docstring."""
    local_steps = int(check_number(local_steps, "local_steps", low=1, integer=True))
    batch_size = int(check_number(batch_size, "batch_size", low=1, integer=True))
    check_number(learning_rate, "learning_rate", low=0, inclusive=False)
    if not objective.penalty.smooth:
        raise ValueError(f"the stochastic solvers need a smooth penalty; got {objective.penalty!r}")
    rng = as_generator(random_state)

    def advance(x, state):
        seed = int(rng.integers(2**31))
        return Epoch(objective.local_average(x, seed, local_steps=local_steps,
                                             batch_size=batch_size,
                                             learning_rate=float(learning_rate)), state)

    return run_epochs(objective, x0, advance, None, tol=tol, max_iter=max_iter,
                      callback=callback, n_iter_no_change=n_iter_no_change, rng=rng,
                      checkpoint=checkpoint)
