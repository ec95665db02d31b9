"""Multinomial (softmax) cross-entropy over ``K`` classes, labels ``0 .. K-1``.

With ``p = softmax(r)`` and one-hot ``Y``: ``l = logsumexp(r) - r_y``,
``dl/dr = p - Y``, and ``d2l/dr_k dr_m = p_k (delta_km - p_m)``, a dense ``K x K``
block per row: the Hessian couples the outputs, so this loss gives both the full
Hessian (for up to a few thousand parameters) and Hessian-vector products.
"""

from __future__ import annotations

from array_api_compat import array_namespace

from .base import LinearModelLoss, namespace, weighted_gram, with_ones_column
from .registry import register_loss

__all__ = ["MultinomialLoss", "softmax"]


def softmax(raw, xp):
    """``(p, logsumexp)`` of each row, shifted by the row maximum for stability."""
    m = xp.max(raw, axis=1, keepdims=True)
    e = xp.exp(raw - m)
    s = xp.sum(e, axis=1, keepdims=True)
    return e / s, xp.reshape(m + xp.log(s), (-1,))


class MultinomialLoss(LinearModelLoss):
    """Softmax cross-entropy; ``n_classes`` fixes the number of outputs ``K``."""

    name = "multinomial"

    def __init__(self, n_classes: int):
        if int(n_classes) != n_classes or n_classes < 2:
            raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
        self.n_classes = self.n_outputs = int(n_classes)
        self.target_rule = f"y must hold integer class labels 0..{self.n_classes - 1}"

    def __repr__(self):
        return f"MultinomialLoss(n_classes={self.n_classes})"

    def invalid_target(self, y, xp):
        return (y < 0) | (y >= self.n_classes) | (y != xp.round(y))

    def _one_hot(self, y, raw, xp):
        classes = xp.arange(self.n_classes, dtype=raw.dtype)
        return xp.astype(xp.reshape(y, (-1, 1)) == classes, raw.dtype)

    def loss(self, y, raw, xp):
        _, lse = softmax(raw, xp)
        return lse - xp.sum(raw * self._one_hot(y, raw, xp), axis=1)

    def gradient(self, y, raw, xp):
        p, _ = softmax(raw, xp)
        return p - self._one_hot(y, raw, xp)

    def loss_gradient(self, y, raw, xp):
        p, lse = softmax(raw, xp)
        Y = self._one_hot(y, raw, xp)
        return lse - xp.sum(raw * Y, axis=1), p - Y

    def inverse_link(self, raw, xp):
        return softmax(raw, xp)[0]

    def predict_proba(self, raw, xp):
        """The class probabilities ``softmax(r)``."""
        return softmax(raw, xp)[0]

    def predict_log_proba(self, raw, xp):
        """``r_k - logsumexp(r)``: the log-softmax, no ``log(0)``."""
        return raw - xp.reshape(softmax(raw, xp)[1], (-1, 1))

    def _hess_apply(self, p, R, sample_weight):
        """``J_ik = s_i p_ik (R_ik - sum_m p_im R_im)``: the Hessian block times ``R``."""
        xp = array_namespace(p)
        J = p * (R - xp.sum(p * R, axis=1, keepdims=True))
        return self._weighted(J, sample_weight)

    def hessp_sum(self, X, y, sample_weight, params, vector, *, fit_intercept, raw=None):
        """``Hv = X1.T @ J`` with ``R = X1 @ V`` (one pass, no ``K^2`` blocks)."""
        xp = namespace(X)
        if raw is None:
            raw = self.raw_prediction(X, params, fit_intercept=fit_intercept)
        p, _ = softmax(raw, xp)
        R = self.raw_prediction(X, vector, fit_intercept=fit_intercept)
        J = self._hess_apply(p, R, sample_weight)
        return self._join(X.T @ J, xp.sum(J, axis=0) if fit_intercept else None, xp)

    def hessian_sum(self, X, y, sample_weight, params, *, fit_intercept, raw=None):
        """``H[(j,k),(l,m)] = sum_i s_i x1_ij x1_il p_ik (delta_km - p_im)``."""
        xp = namespace(X)
        if raw is None:
            raw = self.raw_prediction(X, params, fit_intercept=fit_intercept)
        value, grad = self._value_grad(X, y, sample_weight, raw, fit_intercept, xp)
        p, _ = softmax(raw, xp)
        X1 = with_ones_column(X, xp) if fit_intercept else X
        K, q = self.n_classes, X1.shape[1]
        ones = xp.ones(X.shape[0], dtype=X.dtype) if sample_weight is None else sample_weight
        blocks = {}
        for k in range(K):
            for m in range(k, K):
                c = ones * p[:, k] * ((1.0 if k == m else 0.0) - p[:, m])
                blocks[k, m] = weighted_gram(X1, c)
        rows = [
            xp.stack([blocks[min(k, m), max(k, m)] for m in range(K)], axis=1)
            for k in range(K)
        ]  # rows[k] has shape (q, K, q): H4[:, k, :, m]
        H4 = xp.stack(rows, axis=1)  # (q, K, K, q) indexed [j, k, m, l]
        H = xp.reshape(xp.permute_dims(H4, (0, 1, 3, 2)), (q * K, q * K))
        return value, grad, H


register_loss("multinomial", MultinomialLoss)
