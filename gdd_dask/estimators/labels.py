"""Class labels for the classifiers: ``classes_``, codes ``0..K-1``, class weights.

Labels can be of any type NumPy sorts (integers, floats, strings, objects). For in-memory
``y`` everything is NumPy. For lazy ``y`` (Dask, Zarr) only the sorted distinct labels
are computed -- with the estimator's client, the default client or the local
scheduler -- and the codes ``searchsorted(classes, y)`` stay lazy, block by block.
Class weights follow ``sklearn.utils.class_weight.compute_class_weight``; they multiply
``sample_weight`` as in scikit-learn's ``LogisticRegression``.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from ..blocks import class_totals, label_codes, take_weights, unique_labels
from ..chunk import host
from ..data import is_dask
from ..runtime import compute
from .inputs import as_dask, is_lazy, rows_like

__all__ = ["apply_class_weight", "class_weights", "encode_labels"]


def _distinct(y, client):
    """The sorted distinct labels of a Dask y (NumPy), one small result per block."""
    dtype = _host_dtype(y)
    parts = y.map_blocks(unique_labels, chunks=((np.nan,) * y.numblocks[0],), dtype=dtype,
                         meta=np.empty(0, dtype=dtype))
    (values,) = compute(parts, client=client)
    return np.unique(np.asarray(values))


def _host_dtype(y):
    try:
        return np.dtype(y.dtype)
    except TypeError:  # an array-API dtype: its NumPy twin
        return host(y._meta).dtype


def encode_labels(y, *, client=None, classes=None):
    """``(classes, codes)``: the sorted distinct labels of y and ``y``'s index in them.

    With ``classes`` (sorted labels known beforehand, as ``partial_fit`` takes them)
    the codes index those, and a label of y outside them is a ``ValueError``. Raises
    scikit-learn's ``ValueError`` ("Unknown label type") for continuous targets.
    ``codes`` is float64: NumPy for in-memory y, lazy Dask for Dask y, its chunks in
    y's namespace (NumPy, CuPy...); ``classes`` is always NumPy.
    """
    if not is_dask(y):
        check_classification_targets(y)
        found = np.unique(y)
    else:
        found = _distinct(y, client)
        check_classification_targets(found)
    if classes is not None:
        unknown = np.setdiff1d(found, classes)
        if unknown.size:
            raise ValueError(f"y has labels {unknown.tolist()} that are not in classes "
                             f"{np.asarray(classes).tolist()}")
        found = np.asarray(classes)
    if not is_dask(y):
        return found, np.searchsorted(found, np.asarray(y).reshape(-1)).astype(np.float64)
    meta = label_codes(found, y._meta)
    return found, y.map_blocks(partial(label_codes, found), dtype=meta.dtype, meta=meta)


def class_weights(class_weight, classes, codes, sample_weight=None, *, client=None):
    """Weight of each class, or ``None`` without ``class_weight``.

    ``"balanced"``: :math:`c_k = \\frac{\\sum_i s_i}{K \\sum_{i: y_i = k} s_i}`
    (:math:`s_i = 1` without sample weights); a dict gives the listed classes their
    weight and the others 1, and must name only classes present in y.
    """
    if class_weight is None:
        return None
    if isinstance(class_weight, dict):
        return compute_class_weight(class_weight, classes=classes, y=classes)
    n_classes = len(classes)
    if is_dask(codes):
        parts = [codes] if sample_weight is None else [codes, sample_weight]
        blocks = _per_block(partial(class_totals, n_classes), *parts, n_classes=n_classes)
        (totals,) = compute(blocks, client=client)
        counts = np.asarray(totals, dtype=np.float64).reshape(-1, n_classes).sum(axis=0)
    else:
        counts = class_totals(n_classes, codes, sample_weight)
    # a class whose rows all weigh 0 gets weight 0 (it does not affect the fit)
    return np.divide(counts.sum(), n_classes * counts, out=np.zeros(n_classes),
                     where=counts > 0)


def _per_block(func, *arrays, n_classes):
    """``func`` of each row block of ``arrays`` (1-D, aligned): one NumPy row of
    ``n_classes`` values per block."""
    chunks = ((n_classes,) * arrays[0].numblocks[0],)
    return arrays[0].map_blocks(func, *arrays[1:], chunks=chunks, dtype=np.float64,
                                meta=np.empty(0, np.float64))


def apply_class_weight(weights, codes, sample_weight):
    """``s_i * c_{y_i}``: sample weights times the weight of each row's class."""
    if weights is None:
        return sample_weight
    if is_dask(codes):
        meta = take_weights(weights, codes._meta)
        per_row = codes.map_blocks(partial(take_weights, weights), dtype=meta.dtype, meta=meta)
    else:
        per_row = take_weights(weights, codes)
    return per_row if sample_weight is None else per_row * sample_weight


def align_codes(codes, sample_weight):
    """Codes and weights both NumPy, or both Dask with the same row chunks."""
    if not is_dask(codes) and not is_lazy(sample_weight):
        return codes, sample_weight
    source = codes if is_dask(codes) else as_dask(sample_weight, "sample_weight")
    chunks = source.chunks[0]
    if sample_weight is not None:
        sample_weight = rows_like(sample_weight, chunks, "sample_weight")
    return rows_like(codes, chunks, "y"), sample_weight
