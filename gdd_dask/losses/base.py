"""The Loss protocol and the linear-model loss that most losses build on.

A loss turns one row chunk ``(X, y, sample_weight)`` and the flat parameter vector
into *sums* over the chunk's rows -- never means. The objective adds the chunk sums
with a fixed tree and divides by the total weight once, on the client::

    f(w) = sum_i s_i * l(y_i, raw_i(w)) / sum_i s_i  +  penalty(w)

Any object with the methods of :class:`Loss` can be handed to
:func:`gdd_dask.minimize`; the easiest way to write one for a linear model is to
subclass :class:`LinearModelLoss` and define the pointwise ``loss`` and ``gradient``
(and ``hessian`` for Newton) of the raw prediction.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from array_api_compat import array_namespace, device

__all__ = ["Loss", "LinearModelLoss", "chunk_device", "is_scipy_sparse", "is_sparse",
           "namespace", "sparse_module", "weighted_gram", "with_ones_column"]


def is_scipy_sparse(X):
    """True for a SciPy sparse matrix or array (told by its module: no SciPy import)."""
    return type(X).__module__.startswith("scipy.sparse")


def is_sparse(X):
    """True for a sparse matrix of SciPy or of CuPy (``cupyx.scipy.sparse``, the same
    interface on the GPU)."""
    return type(X).__module__.startswith(("scipy.sparse", "cupyx.scipy.sparse"))


def sparse_module(X):
    """``scipy.sparse`` or ``cupyx.scipy.sparse``: the module of a sparse chunk X."""
    import importlib

    return importlib.import_module(
        "scipy.sparse" if is_scipy_sparse(X) else "cupyx.scipy.sparse")


def namespace(X):
    """The array namespace of a chunk's math: ``array_namespace(X)``; for a sparse chunk
    that of its stored values (NumPy's for SciPy, CuPy's for ``cupyx.scipy.sparse``),
    whose products with dense arrays, ``X @ W`` and ``X.T @ G``, are dense arrays of
    that namespace: the chunk is never densified."""
    if is_scipy_sparse(X):
        import array_api_compat.numpy as xp

        return xp
    return array_namespace(X.data if is_sparse(X) else X)


def chunk_device(X):
    """The device of a chunk's math: ``device(X)``; ``None`` (the host) for a SciPy
    sparse chunk, that of its stored values for a CuPy one."""
    if is_scipy_sparse(X):
        return None
    return device(X.data if is_sparse(X) else X)


def weighted_gram(X, c):
    """``X.T @ diag(c) @ X``, dense ``(d, d)``; for a sparse X by sparse products."""
    if is_sparse(X):
        return (X.T @ X.multiply(c[:, None])).toarray()
    return X.T @ (c[:, None] * X)


def with_ones_column(X, xp):
    """``[X, 1]``: X with a column of ones appended (sparse stays sparse)."""
    if is_sparse(X):
        sp = sparse_module(X)
        ones = sp.csr_matrix(xp.ones((X.shape[0], 1), dtype=X.dtype))
        return sp.hstack([X, ones], format="csr")
    return xp.concat([X, xp.ones((X.shape[0], 1), dtype=X.dtype)], axis=1)


@runtime_checkable
class Loss(Protocol):
    """What the engine needs from a loss (all chunk methods return sums).

    ``params`` arrive as an array of the chunk's namespace and device. ``sample_weight``
    is ``None`` (every row weighs 1) or a 1-D array of the chunk's rows.

    Optional, for free line-search steps: ``raw_prediction(X, params, fit_intercept=)``
    (the margins), ``value_from_raw(y, sample_weight, raw, xp)``, and a ``raw=``
    keyword on the chunk methods to reuse margins already computed; ``y_columns``
    (default 1): the columns of a matrix target (one per output) when it is not 1.
    """

    def n_params(self, n_features: int, *, fit_intercept: bool) -> int:
        """Length of the flat parameter vector."""

    def penalty_mask(self, n_features: int, *, fit_intercept: bool) -> Any:
        """Boolean NumPy mask of the parameters a penalty applies to."""

    target_rule: str
    """What a valid target is, for error messages ("y must be 0 or 1")."""

    def invalid_target(self, y: Any, xp: Any) -> Any:
        """Boolean array marking the rows whose target the loss cannot take."""

    def value_sum(self, X, y, sample_weight, params, *, fit_intercept):
        """``sum_i s_i l_i``."""

    def grad_sum(self, X, y, sample_weight, params, *, fit_intercept):
        """``(sum_i s_i l_i, sum_i s_i dl_i/dparams)``."""

    def hessian_sum(self, X, y, sample_weight, params, *, fit_intercept):
        """``(loss sum, gradient sum, sum_i s_i d2 l_i / dparams2)``."""

    def hessp_sum(self, X, y, sample_weight, params, vector, *, fit_intercept):
        """``(sum_i s_i d2 l_i / dparams2) @ vector``."""


class LinearModelLoss:
    """A loss of the linear prediction ``raw = X @ W + b``.

    Parameters are laid out as a ``(n_features + fit_intercept, n_outputs)`` matrix,
    flattened in C order, so the intercepts are the last ``n_outputs`` parameters. With
    one output, ``raw`` has shape ``(n,)``; with ``K > 1`` outputs, ``(n, K)``.

    Subclasses define the pointwise :meth:`loss`, :meth:`gradient` (``dl/draw``) and,
    for Newton, :meth:`hessian` (``d2l/draw2``, elementwise); each takes ``(y, raw, xp)``.
    Losses whose outputs are coupled (softmax) override :meth:`hessian_sum` and
    :meth:`hessp_sum`.

    ``n_outputs > 1`` makes ``K`` independent outputs of a pointwise loss, scored
    against a target of ``K`` columns (multi-output regression, multilabel
    classification): ``y_columns`` is then ``K``.
    """

    n_outputs: int = 1
    y_columns: int = 1
    name: str = "custom"

    def __init__(self, n_outputs=1):
        if isinstance(n_outputs, bool) or not isinstance(n_outputs, int) or n_outputs < 1:
            raise ValueError(f"n_outputs must be an integer >= 1; got {n_outputs!r}")
        self.n_outputs = self.y_columns = n_outputs

    # -- pointwise functions of the raw prediction --------------------------------
    def loss(self, y, raw, xp):  # pragma: no cover - abstract
        raise NotImplementedError

    def gradient(self, y, raw, xp):  # pragma: no cover - abstract
        raise NotImplementedError

    def hessian(self, y, raw, xp):
        raise NotImplementedError(
            f"loss {self.name!r} defines no pointwise hessian; use a first-order solver"
        )

    @property
    def has_hessian(self):
        """Whether second derivatives exist: a pointwise ``hessian`` or an own
        ``hessian_sum`` (what Newton and ``solver="auto"``'s choice of it need)."""
        cls = type(self)
        return cls.hessian is not LinearModelLoss.hessian \
            or cls.hessian_sum is not LinearModelLoss.hessian_sum

    def loss_gradient(self, y, raw, xp):
        """``(loss, gradient)``; override when they share work."""
        return self.loss(y, raw, xp), self.gradient(y, raw, xp)

    target_rule = "y must be finite"

    def invalid_target(self, y, xp):
        """Rows with a target outside the loss's domain (none by default)."""
        return xp.zeros(y.shape[0], dtype=xp.bool)

    def inverse_link(self, raw, xp):
        """Prediction on the response scale (identity by default)."""
        return raw

    # -- parameter layout ---------------------------------------------------------
    def n_params(self, n_features, *, fit_intercept):
        return (n_features + int(fit_intercept)) * self.n_outputs

    def penalty_mask(self, n_features, *, fit_intercept):
        import numpy as np

        mask = np.ones(self.n_params(n_features, fit_intercept=fit_intercept), dtype=bool)
        if fit_intercept:
            mask[-self.n_outputs :] = False
        return mask

    def _split(self, params, n_features, fit_intercept, xp):
        """``params -> (W, b)``; ``W`` is ``(d,)`` or ``(d, K)``, ``b`` scalar/``(K,)``."""
        K = self.n_outputs
        W = params[: n_features * K]
        if K > 1:
            W = xp.reshape(W, (n_features, K))
        b = params[n_features * K :] if fit_intercept else None
        if b is not None and K == 1:
            b = b[0]
        return W, b

    def raw_prediction(self, X, params, *, fit_intercept):
        """``X @ W + b``."""
        xp = namespace(X)
        W, b = self._split(params, X.shape[1], fit_intercept, xp)
        raw = X @ W
        return raw if b is None else raw + b

    def _join(self, gW, gb, xp):
        """``(dW, db) -> flat`` in the parameter layout."""
        flat = xp.reshape(gW, (-1,))
        if gb is None:
            return flat
        return xp.concat([flat, xp.reshape(gb, (-1,))])

    def _weighted(self, values, sample_weight):
        if sample_weight is None:
            return values
        if values.ndim == 2:
            return values * sample_weight[:, None]
        return values * sample_weight

    # -- chunk sums ---------------------------------------------------------------
    # ``raw`` (optional) is ``raw_prediction(X, params)`` when the caller has it.
    def value_from_raw(self, y, sample_weight, raw, xp):
        """``sum_i s_i l(y_i, raw_i)`` -- no X needed."""
        return xp.sum(self._weighted(self.loss(y, raw, xp), sample_weight))

    def value_sum(self, X, y, sample_weight, params, *, fit_intercept, raw=None):
        """``sum_i s_i l(y_i, raw_i)``."""
        xp = namespace(X)
        if raw is None:
            raw = self.raw_prediction(X, params, fit_intercept=fit_intercept)
        return self.value_from_raw(y, sample_weight, raw, xp)

    def _value_grad(self, X, y, sample_weight, raw, fit_intercept, xp):
        loss, grad = self.loss_gradient(y, raw, xp)
        G = self._weighted(grad, sample_weight)
        gb = xp.sum(G, axis=0) if fit_intercept else None
        return xp.sum(self._weighted(loss, sample_weight)), self._join(X.T @ G, gb, xp)

    def grad_sum(self, X, y, sample_weight, params, *, fit_intercept, raw=None):
        """``G_i = s_i dl/draw_i``; ``grad = (X.T @ G, sum_i G_i)``."""
        xp = namespace(X)
        if raw is None:
            raw = self.raw_prediction(X, params, fit_intercept=fit_intercept)
        return self._value_grad(X, y, sample_weight, raw, fit_intercept, xp)

    def hessian_sum(self, X, y, sample_weight, params, *, fit_intercept, raw=None):
        """``H = X1.T @ diag(s_i h_i) @ X1`` with ``X1 = [X, 1]``; for ``K`` outputs,
        which are independent, the ``(j, k), (j', k')`` entry (parameter ``j K + k``) is
        ``delta_kk' sum_i s_i h_ik x1_ij x1_ij'``."""
        xp = namespace(X)
        if raw is None:
            raw = self.raw_prediction(X, params, fit_intercept=fit_intercept)
        value, grad = self._value_grad(X, y, sample_weight, raw, fit_intercept, xp)
        h = self._weighted(self.hessian(y, raw, xp), sample_weight)
        if h.ndim == 1:
            return value, grad, _hessian_block(X, h, fit_intercept, xp)
        blocks = xp.stack([_hessian_block(X, h[:, k], fit_intercept, xp)
                           for k in range(h.shape[1])])
        K, d1 = blocks.shape[0], blocks.shape[1]
        eye = xp.eye(K, dtype=blocks.dtype, device=device(blocks))
        H = xp.permute_dims(blocks, (1, 0, 2))[:, :, :, None] * eye[None, :, None, :]
        return value, grad, xp.reshape(H, (d1 * K, d1 * K))

    def hessp_sum(self, X, y, sample_weight, params, vector, *, fit_intercept, raw=None):
        """``H @ v = X1.T @ (s * h * (X1 @ v))``, output by output."""
        xp = namespace(X)
        if raw is None:
            raw = self.raw_prediction(X, params, fit_intercept=fit_intercept)
        r = self.raw_prediction(X, vector, fit_intercept=fit_intercept)
        q = self._weighted(self.hessian(y, raw, xp) * r, sample_weight)
        return self._join(X.T @ q, xp.sum(q, axis=0) if fit_intercept else None, xp)

    def __repr__(self):
        outputs = f"n_outputs={self.n_outputs}" if self.y_columns > 1 else ""
        return f"{type(self).__name__}({outputs})"


def _hessian_block(X, h, fit_intercept, xp):
    """``X1.T @ diag(h) @ X1`` (``X1 = [X, 1]`` with the intercept) of the weighted
    pointwise Hessians ``h`` of one output."""
    Hxx = weighted_gram(X, h)
    if not fit_intercept:
        return Hxx
    hx = xp.reshape(X.T @ h, (-1, 1))
    hb = xp.reshape(xp.sum(h), (1, 1))
    return xp.concat([xp.concat([Hxx, hx], axis=1), xp.concat([hx.T, hb], axis=1)], axis=0)


class ScoreOuterLoss(LinearModelLoss):
    """``base``'s loss and gradient, with ``(dl/draw)^2`` as its pointwise "Hessian":
    its ``hessian_sum`` with weights ``s_i^2`` is ``sum_i s_i^2 (dl_i)^2 x1_i x1_i^T``,
    the outer products of the per-row scores (the meat of the sandwich covariance,
    :func:`gdd_dask.inference` with ``cov_type="HC0"``). One output only."""

    def __init__(self, base):
        super().__init__(1)
        self.base, self.name = base, f"score-outer-{getattr(base, 'name', 'custom')}"
        self.target_rule = getattr(base, "target_rule", "invalid y")

    def invalid_target(self, y, xp):
        return self.base.invalid_target(y, xp)

    def loss(self, y, raw, xp):
        return self.base.loss(y, raw, xp)

    def gradient(self, y, raw, xp):
        return self.base.gradient(y, raw, xp)

    def hessian(self, y, raw, xp):
        return self.base.gradient(y, raw, xp) ** 2
