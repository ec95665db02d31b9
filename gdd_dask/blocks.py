"""The row-block functions of the estimators' lazy work, as their tasks run them.

Label coding (distinct labels, codes, class totals, class weights per row), the
held-out split of early stopping, predictions (raw, probabilities, labels) of linear
models and networks, and the held-out score sums of cross-validation: each a function
of one row block, in the block's array namespace and on its device. Workers unpickle
these functions by reference, so this module imports the chunk math only (NumPy,
``array_api_compat``, ``gdd_dask.chunk``, ``gdd_dask.losses``) -- never scikit-learn,
SciPy or the estimators, which would cost each worker about 130 MB.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace, device

from .chunk import aligned, as_float64, host, row_blocks, row_slice, to_numpy
from .losses.base import chunk_device, namespace

__all__ = ["cast_output", "class_totals", "held_out_sums", "label_codes", "linear_labels",
           "linear_log_proba", "linear_proba", "linear_raw", "mean_prediction", "network_labels",
           "network_output", "network_raw", "pick_labels", "row_mask",
           "split_rows", "take_weights", "unique_labels"]


# -- labels --------------------------------------------------------------------------
def unique_labels(y):
    """The distinct labels of one block, as NumPy."""
    if isinstance(y, np.ndarray):
        return np.unique(y)
    return np.unique(host(array_namespace(y).unique_values(y)))


def label_codes(classes, y):
    """Codes of one block of labels: ``searchsorted(classes, y)`` as float64, in the
    block's namespace and on its device."""
    if isinstance(y, np.ndarray):
        return np.searchsorted(classes, y).astype(np.float64)
    xp = array_namespace(y)
    codes = xp.searchsorted(xp.asarray(classes, device=device(y)), y)
    return xp.astype(codes, xp.float64)


def class_totals(n_classes, codes, sample_weight=None):
    """``[sum of s_i over the rows of class k]`` of one block, as NumPy float64."""
    codes = host(codes).astype(np.intp)
    weights = None if sample_weight is None else host(sample_weight)
    return np.bincount(codes, weights=weights, minlength=n_classes).astype(np.float64)


def take_weights(weights, codes):
    """Each row's class weight ``weights[code]``, in the codes' namespace."""
    if isinstance(codes, np.ndarray):
        return weights[codes.astype(np.intp)]
    xp = array_namespace(codes)
    return xp.take(xp.asarray(weights, device=device(codes)), xp.astype(codes, xp.int64))


def pick_labels(classes, raw):
    """``classes[raw > 0]`` (one output; the one class of a single-class fit) or
    ``classes[argmax raw]``: in ``raw``'s namespace and on its device for numeric
    classes, NumPy otherwise."""
    xp = array_namespace(raw)
    index = xp.astype(raw > 0, xp.int64) if raw.ndim == 1 else xp.argmax(raw, axis=1)
    if classes.shape[0] == 1:
        index = xp.zeros_like(index)
    if isinstance(raw, np.ndarray) or classes.dtype.kind not in "biuf":
        return classes[host(index).astype(np.intp)]
    return xp.take(xp.asarray(classes, device=device(raw)), index)


# -- the held-out split --------------------------------------------------------------
def row_mask(seed, n, fraction):
    """The rows of a block of ``n`` held out: a uniform draw of ``seed`` below
    ``fraction``."""
    return np.random.default_rng(int(seed)).random(n) < fraction


def split_rows(seeds, fraction, held_out, block, block_info=None):
    """The rows of one block on one side of the split (its mask drawn from its seed)."""
    index = block_info[0]["chunk-location"][0]
    mask = row_mask(seeds[index], block.shape[0], fraction)
    return block[mask if held_out else ~mask]


# -- linear models -------------------------------------------------------------------
def linear_raw(X, coef, intercept):
    """``X @ coef + intercept`` for one block of rows, in the block's array namespace.

    ``coef`` is ``(n_features,)`` or ``(n_features, n_outputs)`` (NumPy, moved to the
    block's device); the result is float64.
    """
    xp = namespace(X)  # a SciPy sparse block: NumPy, and X @ coef is a NumPy array
    X, where = as_float64(X, xp), chunk_device(X)
    return X @ xp.asarray(coef, device=where) + xp.asarray(intercept, device=where)


def linear_labels(coef, intercept, classes, X):
    """Predicted labels of one block: ``classes[raw > 0]`` or ``classes[argmax raw]``."""
    return pick_labels(classes, linear_raw(X, coef, intercept))


def mean_prediction(loss, coef, intercept, X):
    """``inverse_link(X @ coef + intercept)`` for one block of rows."""
    return loss.inverse_link(linear_raw(X, coef, intercept), namespace(X))


def linear_proba(loss, coef, intercept, X):
    """Class probabilities of one block, by the loss (``loss.predict_proba``)."""
    return loss.predict_proba(linear_raw(X, coef, intercept), namespace(X))


def linear_log_proba(loss, coef, intercept, X):
    """Log-probabilities of one block without ``log(0)`` (``loss.predict_log_proba``)."""
    return loss.predict_log_proba(linear_raw(X, coef, intercept), namespace(X))


# -- networks ------------------------------------------------------------------------
def network_raw(loss, params, X):
    """The network's raw output for one block of rows, in the block's namespace."""
    xp = namespace(X)
    X = as_float64(X, xp)
    return loss.predict_raw(X, xp.asarray(params, device=chunk_device(X)))


def network_output(loss, params, X):
    """The output's probabilities (classification: ``predict_proba`` of its loss), or
    ``inverse_link(raw)``: the mean (regression)."""
    raw, out = network_raw(loss, params, X), loss.output
    xp = array_namespace(raw)
    if hasattr(out, "predict_proba"):
        return out.predict_proba(raw, xp)
    return out.inverse_link(raw, xp)


def network_log_output(loss, params, X):
    """The log of :func:`network_output`'s probabilities, computed from the raw output
    (log-sigmoids, log-softmax): finite where a probability rounds to 0."""
    raw = network_raw(loss, params, X)
    return loss.output.predict_log_proba(raw, array_namespace(raw))


def network_labels(loss, params, classes, X):
    """The labels of one block; for multilabel, the indicator matrix ``raw > 0``."""
    raw = network_raw(loss, params, X)
    if loss.y_columns > 1:
        xp = array_namespace(raw)
        return xp.astype(raw > 0, xp.int64)
    return pick_labels(classes, raw)


def cast_output(func, dtype, block):
    """``func(block)`` as ``dtype`` (a prediction's dtype follows the coefficients'):
    a task body, so it lives here and not with the estimators, which import
    scikit-learn."""
    out = func(block)
    return out if out.dtype == dtype else out.astype(dtype)


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
    params = np.atleast_2d(params)
    if getattr(loss, "n_outputs", 1) == 1:  # every model's raw scores in one product
        return _stacked_sums(scoring, loss, fit_intercept, X, y, w,
                             xp.asarray(params, device=dev), xp)
    sums = [_model_sums(scoring, loss, fit_intercept, X, y, w, xp.asarray(p, device=dev), xp)
            for p in params]
    return tuple(np.array(column) for column in zip(*sums))


def _stacked_sums(scoring, loss, fit_intercept, X, y, w, params, xp):
    """:func:`held_out_sums` of ``M`` one-output models at once, block by block of
    rows (:func:`~gdd_dask.chunk.row_blocks`, its ``n x M`` temporaries in the cache):
    ``raw = X_b @ W + b`` for the ``(n_features, M)`` coefficients ``W``, each sum
    ``w_b @ (...)``."""
    n_features, n_models = X.shape[1], params.shape[0]
    W = xp.permute_dims(params[:, :n_features], (1, 0))
    total = np.zeros(n_models)
    for rows in row_blocks(X, xp):
        raw = row_slice(X, rows) @ W
        if fit_intercept:
            raw = raw + params[:, n_features]
        targets, wb = xp.reshape(y[rows], (-1, 1)), w[rows]
        if scoring == "neg_log_loss":
            value = loss.loss(targets, raw, xp)
        elif scoring == "accuracy":
            value = xp.astype((raw > 0) == (targets > 0.5), xp.float64)
        else:
            value = (targets - raw) ** 2
        total = total + to_numpy(wb @ value)
    weight, ones = float(to_numpy(xp.sum(w))), np.ones(n_models)
    if scoring in ("neg_log_loss", "accuracy"):
        return total, weight * ones
    return (total, weight * ones, float(to_numpy(w @ y)) * ones,
            float(to_numpy(w @ (y * y))) * ones)


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
