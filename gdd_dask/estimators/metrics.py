"""The estimators' ``score`` on lazy input: weighted sums reduced by Dask, a float back.

Each score is written once with array operations that work on NumPy and Dask arrays
alike; the sums are then computed together (one pass per line below) with the
estimator's client, the default client or the local scheduler, and the result is a
Python ``float`` -- never a lazy array. The definitions are scikit-learn's.
"""

from __future__ import annotations

import warnings

import numpy as np

from .inputs import evaluate as _evaluate

__all__ = ["accuracy", "d2", "r2"]


def _weights(y, sample_weight):
    """``(s, sum_i s_i)`` terms: ``s = 1`` stands for no weights; a column for a matrix
    y."""
    if sample_weight is None:
        return 1.0, y.shape[0]
    return (sample_weight[:, None] if y.ndim == 2 else sample_weight), sample_weight.sum()


def _weighted_mean(y, sample_weight, client):
    """``(sum_i s_i y_i / sum_i s_i, min_i y_i)`` in one pass over y."""
    s, total = _weights(y, sample_weight)
    weight, y_sum, y_min = _evaluate(client, total, (s * y).sum(), y.min())
    if not weight > 0:
        raise ValueError("sample_weight sums to zero; the score is undefined")
    return y_sum / weight, y_min


def r2(y, y_pred, sample_weight=None, *, client=None):
    """Coefficient of determination

    .. math:: R^2 = 1 - \\frac{\\sum_i s_i (y_i - \\hat y_i)^2}{\\sum_i s_i (y_i - \\bar y)^2}

    with the weighted mean :math:`\\bar y`; 1.0 (perfect fit) or 0.0 when y is constant,
    as ``sklearn.metrics.r2_score``; for a matrix y, the mean of the columns' scores
    (its ``multioutput="uniform_average"``).
    """
    s, total = _weights(y, sample_weight)
    weight, *sums = _evaluate(client, total, *_column_sums(s * y))
    if not weight > 0:
        raise ValueError("sample_weight sums to zero; the score is undefined")
    y_mean = [column_sum / weight for column_sum in sums]
    ss = _evaluate(client, *_column_sums(s * (y - y_pred) ** 2),
                   *_centred_squares(y, y_mean, s))
    ss_res, ss_tot = np.asarray(ss[:len(sums)]), np.asarray(ss[len(sums):])
    scores = np.where(ss_tot == 0, (ss_res == 0).astype(float),
                      1.0 - ss_res / np.where(ss_tot == 0, 1.0, ss_tot))
    return float(np.mean(scores))


def _column_sums(a):
    """The sum of a vector, or of each column of a matrix, as separate scalars."""
    return [a.sum()] if a.ndim == 1 else [a[:, j].sum() for j in range(a.shape[1])]


def _centred_squares(y, means, s):
    """``sum_i s_i (y_ij - m_j)^2`` of each column ``j`` as separate scalars, the means
    Python floats (which the chunks of any namespace take: CuPy's refuse NumPy arrays)."""
    if y.ndim == 1:
        return [(s * (y - means[0]) ** 2).sum()]
    w = s if np.isscalar(s) else s[:, 0]
    return [(w * (y[:, j] - m) ** 2).sum() for j, m in enumerate(means)]



def d2(loss, y, raw, sample_weight=None, *, client=None):
    """Fraction of ``loss``'s deviance explained, from the raw prediction ``r``:

    .. math:: D^2 = 1 - \\frac{\\sum_i s_i h(y_i, r_i)}{\\sum_i s_i h(y_i, g(\\bar y))}

    with ``h`` the loss's half unit deviance (``loss.deviance``), ``g`` its link and
    ``bar y`` the weighted mean: scikit-learn's ``score`` of its GLM regressors (two
    passes over lazy input, the mean first).
    """
    y_mean, y_min = _weighted_mean(y, sample_weight, client)
    if loss.invalid_target(np.atleast_1d(y_min), np).any():  # the ranges bound y below
        raise ValueError(f"{loss.target_rule} to score; min(y) = {y_min!r}")
    s, _ = _weights(y, sample_weight)
    null = np.float64(loss.link(y_mean))
    dev, dev_null = _evaluate(client, (s * loss.deviance(y, raw, np)).sum(),
                              (s * loss.deviance(y, null, np)).sum())
    if dev_null == 0:
        return 1.0 if dev == 0 else 0.0
    return 1.0 - dev / dev_null


def accuracy(y, y_pred, sample_weight=None, *, client=None):
    """Weighted fraction of correct labels, :math:`\\sum_i s_i [y_i = \\hat y_i] / \\sum_i s_i`
    (for a matrix of labels, of the rows with every label right: subset accuracy)."""
    right = (y == y_pred) if y.ndim == 1 else (y == y_pred).all(axis=1)
    s, total = _weights(right, sample_weight)
    hits, weight = _evaluate(client, (s * right).sum(), total)
    return hits / weight


class LazyScoreMixin:
    """``score`` for in-memory and lazy input: scikit-learn's own for NumPy, else
    :meth:`_lazy_score` of validated, aligned Dask inputs (a Python float either way).
    Put it before scikit-learn's ``ClassifierMixin`` / ``RegressorMixin``."""

    def score(self, X, y, sample_weight=None):
        """Mean accuracy (classifiers) or :math:`R^2` (regressors), weighted."""
        from sklearn.utils.validation import check_is_fitted

        from .inputs import is_lazy, validate_score_inputs

        check_is_fitted(self)
        if not any(is_lazy(a) for a in (X, y, sample_weight)):
            return float(super().score(X, y, sample_weight=sample_weight))
        X, y, sample_weight = validate_score_inputs(self, X, y, sample_weight)
        return self._lazy_score(X, y, sample_weight)

    def _lazy_score(self, X, y, sample_weight):
        from sklearn.base import is_classifier

        with warnings.catch_warnings():  # X's feature names were checked, as a frame
            warnings.filterwarnings("ignore", "X does not have valid feature names")
            y_pred = self.predict(X)
        if is_classifier(self):
            return accuracy(y, y_pred, sample_weight, client=self.client)
        return r2(y.astype(np.float64), y_pred, sample_weight, client=self.client)
