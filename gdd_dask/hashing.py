"""Feature hashing at ingest: text and categorical columns to sparse row chunks.

``hash_features(frame, text="review", categorical=["country"])`` turns each partition
of a Dask DataFrame (or each partition of a Dask Bag of strings) into one SciPy CSR
row chunk of ``n_features`` hashed columns, by scikit-learn's own hashers applied per
partition: ``HashingVectorizer`` for text (tokens, n-grams, ``norm``) and
``FeatureHasher`` for categories (one ``"column=value"`` feature each). All of them
hash into the same ``n_features`` columns and are added, as Vowpal Wabbit's namespaces
share one hashed space: a collision adds two features, which a linear model on
``2**20`` columns barely notices. No vocabulary is learned, so each partition is hashed
on its own, in parallel, and the result is the same wherever and however often it runs.

The result is a lazy Dask array with unknown partition lengths (they are counted when
a fit needs them); pair it with the frame's target column, e.g.
``frame["label"].to_dask_array()``. The workers import scikit-learn to hash.
"""

from __future__ import annotations

import numpy as np

__all__ = ["hash_features"]


def _as_list(columns):
    if columns is None:
        return []
    return [columns] if isinstance(columns, str) else list(columns)


def hash_partition(part, text, categorical, vectorizer, hasher):
    """One partition (a pandas DataFrame or Series, or a list of strings) as a CSR
    matrix: the sum of its hashed text and categories (module note)."""
    from scipy import sparse

    if isinstance(part, list) or not (text or categorical):  # strings of a Bag or Series
        strings = [str(s) for s in (part if isinstance(part, list) else part.tolist())]
        return sparse.csr_matrix(vectorizer.transform(strings), dtype=np.float64)
    n_rows = len(part)
    X = sparse.csr_matrix((n_rows, vectorizer.n_features), dtype=np.float64)
    for column in text:
        X = X + vectorizer.transform(part[column].fillna("").astype(str).tolist())
    if categorical:
        values = part[categorical].astype(object)
        values = values.where(values.notna(), "nan").astype(str)  # missing: "column=nan"
        rows = [dict(zip(categorical, row)) for row in values.itertuples(index=False)]
        X = X + hasher.transform(rows)
    return sparse.csr_matrix(X, dtype=np.float64)


def hash_features(data, *, text=None, categorical=None, n_features=2**20,
                  alternate_sign=False, norm="l2", **vectorizer_options):
    """Hash ``data`` into a Dask array of SciPy CSR row chunks, one per partition.

    Parameters
    ----------
    data : dask.dataframe.DataFrame, dask.dataframe.Series or dask.bag.Bag
        A frame (name its ``text`` and ``categorical`` columns), or a Series or Bag of
        strings (hashed as text).
    text, categorical : str or list of str, optional
        Columns of text (``HashingVectorizer``) and of categories (``FeatureHasher``,
        ``"column=value"``; missing values hash as ``"column=nan"``).
    n_features : int
        Hashed columns (default ``2**20``, scikit-learn's).
    alternate_sign, norm, **vectorizer_options
        ``HashingVectorizer``'s options (``ngram_range``, ``stop_words``, ``binary``,
        ...); ``alternate_sign=False`` keeps counts non-negative.

    Returns
    -------
    dask.array.Array of shape (n_samples, n_features), float64, CSR chunks
    """
    import dask
    import dask.array as da
    from scipy import sparse
    from sklearn.feature_extraction import FeatureHasher
    from sklearn.feature_extraction.text import HashingVectorizer

    text, categorical = _as_list(text), _as_list(categorical)
    frame = hasattr(data, "columns")
    if frame and not (text or categorical):
        raise ValueError("name the text and/or categorical columns of the DataFrame to hash")
    if not frame and (text or categorical):
        raise ValueError("text= and categorical= name columns of a DataFrame; a Series or "
                         "Bag is hashed as text whole")
    missing = sorted(set(text + categorical) - set(data.columns)) if frame else []
    if missing:
        raise ValueError(f"the DataFrame has no columns {missing}; its columns are "
                         f"{list(data.columns)}")
    if not hasattr(data, "to_delayed"):
        raise TypeError(f"data must be a Dask DataFrame, Series or Bag; got "
                        f"{type(data).__name__}")
    vectorizer = HashingVectorizer(n_features=n_features, alternate_sign=alternate_sign,
                                   norm=norm, **vectorizer_options)
    hasher = FeatureHasher(n_features=n_features, input_type="dict",
                           alternate_sign=alternate_sign)
    parts = data.to_delayed()
    token = dask.base.tokenize(data, text, categorical, vectorizer.get_params())
    meta = sparse.csr_matrix((0, n_features), dtype=np.float64)
    blocks = [da.from_delayed(dask.delayed(hash_partition, pure=True)(
                  part, text, categorical, vectorizer, hasher,
                  dask_key_name=(f"gdd-hash-{token}", i)),
              shape=(np.nan, n_features), dtype=np.float64, meta=meta)
              for i, part in enumerate(parts)]
    return da.concatenate(blocks, axis=0) if len(blocks) > 1 else blocks[0]
