"""Errors that are not a bad input's: solver limits, and unknown chunk sizes resolved.

The bad inputs themselves -- each with a clear ValueError or TypeError naming the
argument, the row and the chunk -- are the table of ``test_bad_inputs.py``.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from gdd_dask import minimize

rng = np.random.default_rng(0)
X = rng.standard_normal((40, 3))
y = (X[:, 0] > 0).astype(float)


def test_newton_refuses_too_many_parameters():
    with pytest.raises(ValueError, match="max_params"):
        minimize("logistic", X, y, solver="newton", options={"max_params": 3})


def test_unknown_chunk_sizes_are_resolved():
    Xd = da.from_array(X, chunks=(10, 3))
    keep = da.from_array(np.arange(40) % 4 != 0, chunks=10)
    Xu, yu = Xd[keep], da.from_array(y, chunks=10)[keep]
    assert np.isnan(Xu.shape[0])
    result = minimize("logistic", Xu, yu, alpha=0.1)
    reference = minimize("logistic", X[np.arange(40) % 4 != 0], y[np.arange(40) % 4 != 0],
                         alpha=0.1)
    np.testing.assert_allclose(result.x, reference.x, rtol=1e-6)
