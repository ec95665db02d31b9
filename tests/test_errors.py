"""Bad input fails fast with a ValueError/TypeError that names the problem."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from gdd_dask import minimize

rng = np.random.default_rng(0)
X = rng.standard_normal((40, 3))
y = (X[:, 0] > 0).astype(float)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"y": y[:30]}, ValueError, "X has 40 rows but y has 30"),
        ({"X": X[:, 0]}, ValueError, "X must be 2-D"),
        ({"X": X[None]}, ValueError, "X must be 2-D"),
        ({"X": X[:0], "y": y[:0]}, ValueError, "no rows"),
        ({"X": X[:, :0]}, ValueError, "no columns"),
        ({"X": X.astype(str)}, TypeError, "X must hold real numbers"),
        ({"X": X.astype(object)}, TypeError, "X must hold real numbers"),
        ({"y": y.reshape(20, 2)}, ValueError, "y must be 1-D"),
        ({"sample_weight": np.ones(39)}, ValueError, "sample_weight has 39"),
        ({"sample_weight": -np.ones(40)}, ValueError,
         r"sample_weight must be >= 0; sample_weight\[0\]"),
        ({"sample_weight": np.zeros(40)}, ValueError, "sums to zero"),
        ({"loss": "hinge"}, ValueError, "unknown loss 'hinge'"),
        ({"loss": object()}, TypeError, "lacks"),
        ({"solver": "adamw"}, ValueError, "unknown solver 'adamw'"),
        ({"y": y + 1}, ValueError, r"y must be 0 or 1 for the logistic loss; y\[\d+\] = 2.0"),
        ({"loss": "poisson", "y": y - 1}, ValueError, "non-negative"),
        ({"loss": "multinomial", "y": y + 0.5}, ValueError, "integer class labels"),
        ({"loss": "multinomial", "y": np.zeros(40)}, ValueError, "K >= 2"),
        ({"alpha": -1.0}, ValueError, "alpha must be"),
        ({"alpha": "big"}, TypeError, "alpha must be a real number"),
        ({"penalty": "l3", "alpha": 1.0}, ValueError, "unknown penalty 'l3'"),
        ({"tol": -1e-3}, ValueError, "tol must be >= 0"),
        ({"max_iter": -1}, ValueError, "max_iter must be >= 0"),
        ({"max_iter": 2.5}, TypeError, "max_iter must be an integer"),
        ({"split_every": 1}, ValueError, "split_every must be >= 2"),
        ({"cache": "disk"}, ValueError, "cache must be one of"),
        ({"x0": np.zeros(3)}, ValueError, r"x0 must have shape \(4,\)"),
        ({"callback": 3}, TypeError, "callback must be callable"),
        ({"client": "tcp://127.0.0.1:1"}, TypeError, "client must be a distributed.Client"),
        ({"options": {"learning_rate": 0.1}}, TypeError, "learning_rate"),
        ({"solver": "gd", "options": {"learning_rate": -1.0}}, ValueError, "learning_rate"),
    ],
)
def test_bad_input(kwargs, error, match):
    args = {"loss": "logistic", "X": X, "y": y, **kwargs}
    with pytest.raises(error, match=match):
        minimize(args.pop("loss"), args.pop("X"), args.pop("y"), **args)


@pytest.mark.parametrize("where", ["X", "y", "sample_weight"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_values_named_with_row_and_chunk(where, value, client):
    Xb, yb, sw = X.copy(), y.copy(), np.ones(40)
    {"X": Xb[:, 1], "y": yb, "sample_weight": sw}[where][33] = value
    args = [da.from_array(a, chunks=10) if a.ndim == 1 else da.from_array(a, chunks=(10, 3))
            for a in (Xb, yb, sw)]
    pattern = rf"{where}.*(non-finite|finite).*33.*chunk 3"
    with pytest.raises(ValueError, match=pattern):
        minimize("squared", args[0], args[1], sample_weight=args[2], client=client)


def test_non_finite_x_found_during_a_pass_in_process():
    Xb = X.copy()
    Xb[17, 2] = np.nan
    with pytest.raises(ValueError, match=r"X has a non-finite value .* at row 17 \(chunk 1\)"):
        minimize("logistic", Xb, y, chunk_rows=16)


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
