"""Held-out scores from sums over the chunks, computed in a shared pass.

A cross-validated model is scored on its test rows, whose weights (the sample weights
on the test rows, :class:`~gdd_dask.folds.Weighting`) the chunk task computes; each
score is a few weighted sums of each chunk (:func:`gdd_dask.blocks.held_out_sums`, a
task body: it imports no scikit-learn), added by the fixed tree, then turned here into
scikit-learn's number:

- ``"accuracy"``: :math:`\\sum_i s_i [\\hat y_i = y_i] / \\sum_i s_i`;
- ``"neg_log_loss"``: :math:`-\\sum_i s_i l_i / \\sum_i s_i` of the logistic or
  softmax loss (the log loss of the predicted probabilities);
- ``"neg_mean_squared_error"``: :math:`-\\sum_i s_i (y_i - \\hat y_i)^2 / \\sum_i s_i`;
- ``"r2"``: :math:`1 - \\sum_i s_i (y_i - \\hat y_i)^2 / \\sum_i s_i (y_i - \\bar
  y)^2`, from :math:`\\sum s, \\sum s y, \\sum s y^2` (1.0 or 0.0 on a constant test
  target, as ``r2_score``).
"""

from __future__ import annotations

__all__ = ["SCORINGS", "check_scoring", "scores_of"]

SCORINGS = {"classifier": ("accuracy", "neg_log_loss"),
            "regressor": ("r2", "neg_mean_squared_error")}


def scores_of(scoring, sums):
    """scikit-learn's score of each model from :func:`held_out_sums`' sums (added over
    the chunks)."""
    return [_score(scoring, column) for column in zip(*sums)]


def _score(scoring, sums):
    weight = float(sums[1])
    if not weight > 0:
        raise ValueError("a test fold has no rows of positive weight; its score is "
                         "undefined")
    if scoring == "accuracy":
        return float(sums[0]) / weight
    if scoring in ("neg_log_loss", "neg_mean_squared_error"):
        return -float(sums[0]) / weight
    sse, y_sum, yy_sum = float(sums[0]), float(sums[2]), float(sums[3])
    total = yy_sum - y_sum * y_sum / weight
    if total <= 1e-12 * max(yy_sum, 1e-300):
        return 1.0 if sse == 0 else 0.0
    return 1.0 - sse / total


def check_scoring(scoring, kind):
    """``scoring`` by name (``None``: the estimator's own score, accuracy or R^2)."""
    names = SCORINGS[kind]
    scoring = names[0] if scoring is None else scoring
    if scoring not in names:
        raise ValueError(f"scoring must be one of {list(names)} or None (scores computed "
                         f"inside the passes are sums over rows); got {scoring!r}")
    return scoring
