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

from ..data import is_dask
from ..engine import compute

__all__ = ["apply_class_weight", "class_weights", "encode_labels"]


def _codes_block(classes, y):
    """Codes of one block of labels: ``searchsorted(classes, y)`` as float64."""
    return np.searchsorted(classes, y).astype(np.float64)


def encode_labels(y, *, client=None, classes=None):
    """``(classes, codes)``: the sorted distinct labels of y and ``y``'s index in them.

    With ``classes`` (sorted labels known beforehand, as ``partial_fit`` takes them)
    the codes index those, and a label of y outside them is a ``ValueError``. Raises
    scikit-learn's ``ValueError`` ("Unknown label type") for continuous targets.
    ``codes`` is float64, NumPy for in-memory y and lazy Dask for Dask y.
    """
    if not is_dask(y):
        check_classification_targets(y)
        found = np.unique(y)
    else:
        import dask.array as da

        (found,) = compute(da.unique(y), client=client)
        found = np.asarray(found)
        check_classification_targets(found)
    if classes is not None:
        unknown = np.setdiff1d(found, classes)
        if unknown.size:
            raise ValueError(f"y has labels {unknown.tolist()} that are not in classes "
                             f"{np.asarray(classes).tolist()}")
        found = np.asarray(classes)
    if not is_dask(y):
        return found, np.searchsorted(found, np.asarray(y).reshape(-1)).astype(np.float64)
    codes = y.map_blocks(partial(_codes_block, found), dtype=np.float64,
                         meta=np.empty(0, np.float64))
    return found, codes


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
        import dask.array as da

        counts = da.bincount(codes.astype(np.intp), weights=sample_weight,
                             minlength=n_classes)
        (counts,) = compute(counts, client=client)
    else:
        counts = np.bincount(codes.astype(np.intp), weights=sample_weight,
                             minlength=n_classes)
    counts = np.asarray(counts, dtype=np.float64)
    # a class whose rows all weigh 0 gets weight 0 (it does not affect the fit)
    return np.divide(counts.sum(), n_classes * counts, out=np.zeros(n_classes),
                     where=counts > 0)


def _take_block(weights, codes):
    return weights[codes.astype(np.intp)]


def apply_class_weight(weights, codes, sample_weight):
    """``s_i * c_{y_i}``: sample weights times the weight of each row's class."""
    if weights is None:
        return sample_weight
    if is_dask(codes):
        per_row = codes.map_blocks(partial(_take_block, weights), dtype=np.float64,
                                   meta=np.empty(0, np.float64))
    else:
        per_row = _take_block(weights, codes)
    return per_row if sample_weight is None else per_row * sample_weight
