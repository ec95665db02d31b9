"""What the linear classifiers share: raw scores, labels and the loss's probabilities.

``LogisticRegression`` and ``SGDClassifier`` predict alike: the raw scores ``r = X
coef_.T + intercept_`` of each row block, labels ``classes_[r > 0]`` (one output) or
``classes_[argmax r]``, and probabilities from the fitted loss (``_loss()``:
``predict_proba`` and ``predict_log_proba`` of :mod:`gdd_dask.losses`). NumPy for
in-memory X, lazy Dask for Dask or Zarr X.
"""

from __future__ import annotations

from functools import partial

from ..blocks import linear_labels, linear_log_proba, linear_proba, linear_raw
from .inputs import map_rows

__all__ = ["LinearClassifierMixin"]


class LinearClassifierMixin:
    """``decision_function``, ``predict``, ``predict_proba``, ``predict_log_proba`` of a
    fitted linear classifier whose ``_loss()`` is the loss it was fitted with."""

    def _loss(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _score_dtype(self):
        """The dtype of raw scores and probabilities: the coefficients'."""
        return self.coef_.dtype

    def decision_function(self, X):
        """Raw scores ``X @ coef_.T + intercept_``: shape (n,) for two classes, else
        (n, n_classes)."""
        X = self._validated(X)
        coef, intercept = self._parts()
        n_columns = None if coef.ndim == 1 else coef.shape[1]
        return map_rows(partial(linear_raw, coef=coef, intercept=intercept), X,
                        dtype=self._score_dtype(), n_columns=n_columns, token="gdd-decision")

    def predict(self, X):
        """Predicted labels (from ``classes_``)."""
        X = self._validated(X)
        return map_rows(partial(linear_labels, *self._parts(), self.classes_), X,
                        dtype=self.classes_.dtype)

    def predict_proba(self, X):
        """Class probabilities of the fitted loss, shape (n, n_classes), columns in the
        order of ``classes_``."""
        return self._probabilities(X, linear_proba, "gdd-proba")

    def predict_log_proba(self, X):
        """The log of :meth:`predict_proba`, computed from the raw scores (finite where
        a probability rounds to 0)."""
        return self._probabilities(X, linear_log_proba, "gdd-log-proba")

    def _probabilities(self, X, block, token):
        X = self._validated(X)
        return map_rows(partial(block, self._loss(), *self._parts()), X,
                        dtype=self._score_dtype(), n_columns=len(self.classes_), token=token)
