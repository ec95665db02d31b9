"""Held-out scores as sums over the chunks, computed in a shared pass.

A cross-validated model is scored on its test rows, whose weights (the sample weights
on the test rows, :class:`~gdd_dask.folds.Weighting`) the chunk task computes; each
score here is a few weighted sums of one chunk, added by the fixed tree, then turned
into scikit-learn's number:

- ``"accuracy"``: :math:`\\sum_i s_i [\\hat y_i = y_i] / \\sum_i s_i`;
- ``"neg_log_loss"``: :math:`-\\sum_i s_i l_i / \\sum_i s_i` of the logistic or
  softmax loss (the log loss of the predicted probabilities);
- ``"neg_mean_squared_error"``: :math:`-\\sum_i s_i (y_i - \\hat y_i)^2 / \\sum_i s_i`;
- ``"r2"``: :math:`1 - \\sum_i s_i (y_i - \\hat y_i)^2 / \\sum_i s_i (y_i - \\bar
  y)^2`, from :math:`\\sum s, \\sum s y, \\sum s y^2` (1.0 or 0.0 on a constant test
  target, as ``r2_score``).
"""

from __future__ import annotations

import numpy as np

from ..chunk import aligned, as_float64, to_numpy
from ..losses.base import chunk_device, namespace

__all__ = ["SCORINGS", "check_scoring", "held_out_sums", "scores_of"]

SCORINGS = {"classifier": ("accuracy", "neg_log_loss"),
            "regressor": ("r2", "neg_mean_squared_error")}


def held_out_sums(scoring, loss, fit_intercept, class_weight, offset, index, X, y, weights,
                  params):
    """The sums of ``scoring`` over one chunk's rows, with the rows' ``weights``, for
    each model of ``params`` (one parameter vector a row): a tuple of arrays, entry
    ``m`` model ``m``'s. ``class_weight`` (per class code, or ``None``) is divided out
    of the weights first: the training weights include it, scikit-learn's scores do
    not."""
    xp = namespace(X)
    X, dev = aligned(X), chunk_device(X)
    X, y = as_float64(X, xp), as_float64(y, xp)
    w = xp.ones(y.shape[0], dtype=xp.float64, device=dev) if weights is None \
        else as_float64(weights, xp)
    if class_weight is not None:
        per_row = xp.take(xp.asarray(class_weight, device=dev), xp.astype(y, xp.int64))
        w = xp.where(per_row > 0, w / xp.where(per_row > 0, per_row, 1.0), 0.0)
    sums = [_model_sums(scoring, loss, fit_intercept, X, y, w, xp.asarray(p, device=dev), xp)
            for p in np.atleast_2d(params)]
    return tuple(np.array(column) for column in zip(*sums))


def _model_sums(scoring, loss, fit_intercept, X, y, w, p, xp):
    """One model's sums for :func:`held_out_sums`."""
    weight = to_numpy(xp.sum(w))
    if scoring == "neg_log_loss":
        return to_numpy(loss.value_sum(X, y, w, p, fit_intercept=fit_intercept)), weight
    raw = loss.raw_prediction(X, p, fit_intercept=fit_intercept)
    raw = xp.reshape(raw, (y.shape[0], -1))
    if scoring == "accuracy":
        pred = raw[:, 0] > 0 if raw.shape[1] == 1 else xp.argmax(raw, axis=1)
        hit = xp.astype(pred == xp.astype(y, pred.dtype), xp.float64)
        return to_numpy(xp.sum(w * hit)), weight
    residual = y - raw[:, 0]
    return (to_numpy(xp.sum(w * residual * residual)), weight, to_numpy(xp.sum(w * y)),
            to_numpy(xp.sum(w * y * y)))


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
