"""Every loss's gradient, Hessian and Hessian-vector product against central finite
differences, on NumPy and on array-api-strict chunks (the stand-in for CuPy)."""

from __future__ import annotations

import array_api_strict as xps
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdd_dask.chunk import chunk_sums, row_blocks
from gdd_dask.losses import (
    LOSSES,
    GammaLoss,
    LogisticLoss,
    MultinomialLoss,
    PoissonLoss,
    SquaredLoss,
    get_loss,
    margin_loss,
)

LOSS_OBJECTS = [SquaredLoss(), LogisticLoss(), PoissonLoss(), MultinomialLoss(3),
                SquaredLoss(2), LogisticLoss(3)]  # independent outputs: a matrix y
NAMESPACES = {"numpy": np, "array_api_strict": xps}


def make_chunk(loss, seed, n, d, weighted):
    """Random ``(X, y, sample_weight)`` valid for ``loss``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    shape = n if isinstance(loss, MultinomialLoss) or loss.n_outputs == 1 else (n, loss.n_outputs)
    if isinstance(loss, MultinomialLoss):
        y = rng.integers(0, loss.n_classes, n).astype(float)
    elif isinstance(loss, LogisticLoss):
        y = rng.integers(0, 2, shape).astype(float)
    elif isinstance(loss, PoissonLoss):
        y = rng.poisson(2.0, n).astype(float)
    else:
        y = rng.standard_normal(shape) * 3
    sw = rng.uniform(0.1, 3.0, n) if weighted else None
    return X, y, sw


def sums(kind, loss, fit_intercept, xp, X, y, sw, params, vector=None):
    """Run the chunk task body on arrays of namespace ``xp``."""
    X, y, sw = (None if a is None else xp.asarray(a) for a in (X, y, sw))
    return chunk_sums(kind, loss, fit_intercept, 0, 0, X, y, sw, params, vector)


def central_difference(f, x, h=1e-6):
    out = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        out.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h))
    return np.array(out)


chunk_cases = st.tuples(
    st.sampled_from(range(len(LOSS_OBJECTS))),
    st.integers(0, 2**31),  # seed
    st.integers(1, 25),  # rows
    st.integers(1, 4),  # features
    st.booleans(),  # weighted
    st.booleans(),  # fit_intercept
    st.sampled_from(sorted(NAMESPACES)),
)


@settings(max_examples=60, deadline=None)
@given(chunk_cases)
def test_gradient_matches_finite_differences(case):
    k, seed, n, d, weighted, fit_intercept, ns = case
    loss, xp = LOSS_OBJECTS[k], NAMESPACES[ns]
    X, y, sw = make_chunk(loss, seed, n, d, weighted)
    params = np.random.default_rng(seed + 1).normal(
        scale=0.5, size=loss.n_params(d, fit_intercept=fit_intercept))
    value, grad = sums("grad", loss, fit_intercept, xp, X, y, sw, params)
    (value_only,) = sums("value", loss, fit_intercept, xp, X, y, sw, params)
    fd = central_difference(lambda p: sums("value", loss, fit_intercept, xp, X, y, sw, p)[0],
                            params)
    assert value == pytest.approx(value_only, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5 * max(1.0, abs(value)))


@settings(max_examples=40, deadline=None)
@given(chunk_cases)
def test_hessian_and_hessp_match_finite_differences(case):
    k, seed, n, d, weighted, fit_intercept, ns = case
    loss, xp = LOSS_OBJECTS[k], NAMESPACES[ns]
    X, y, sw = make_chunk(loss, seed, n, d, weighted)
    rng = np.random.default_rng(seed + 2)
    params = rng.normal(scale=0.5, size=loss.n_params(d, fit_intercept=fit_intercept))
    vector = rng.standard_normal(params.size)
    value, grad, hess = sums("hess", loss, fit_intercept, xp, X, y, sw, params)
    fd = central_difference(lambda p: sums("grad", loss, fit_intercept, xp, X, y, sw, p)[1],
                            params)
    scale = max(1.0, float(np.abs(hess).max()))
    np.testing.assert_allclose(hess, hess.T, atol=1e-12 * scale)
    np.testing.assert_allclose(hess, fd, rtol=1e-5, atol=1e-5 * scale)
    (hv,) = sums("hessp", loss, fit_intercept, xp, X, y, sw, params, vector)
    np.testing.assert_allclose(hv, hess @ vector, rtol=1e-10, atol=1e-10 * scale)


@pytest.mark.parametrize("loss", LOSS_OBJECTS, ids=repr)
@pytest.mark.parametrize("kind", ["value", "grad", "hess"])
def test_array_api_strict_equals_numpy(loss, kind):
    X, y, sw = make_chunk(loss, 7, 40, 3, weighted=True)
    params = np.linspace(-0.5, 0.5, loss.n_params(3, fit_intercept=True))
    ref = sums(kind, loss, True, np, X, y, sw, params)
    strict = sums(kind, loss, True, xps, X, y, sw, params)
    for a, b in zip(ref, strict):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_sums_not_means():
    """Doubling the rows doubles every sum."""
    loss = LogisticLoss()
    X, y, sw = make_chunk(loss, 3, 30, 2, weighted=True)
    params = np.array([0.3, -0.2, 0.1])
    one = sums("hess", loss, True, np, X, y, sw, params)
    two = sums("hess", loss, True, np, np.vstack([X, X]), np.r_[y, y], np.r_[sw, sw], params)
    for a, b in zip(one, two):
        np.testing.assert_allclose(2 * a, b, rtol=1e-12)


def test_sample_weight_equals_repeated_rows():
    loss = PoissonLoss()
    X, y, _ = make_chunk(loss, 5, 20, 3, weighted=False)
    counts = np.arange(20) % 3 + 1
    params = np.array([0.1, -0.2, 0.3, 0.05])
    weighted = sums("grad", loss, True, np, X, y, counts.astype(float), params)
    repeated = sums("grad", loss, True, np, np.repeat(X, counts, 0), np.repeat(y, counts), None,
                    params)
    for a, b in zip(weighted, repeated):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_logistic_is_stable_for_huge_margins():
    loss = LogisticLoss()
    X = np.array([[1000.0], [-1000.0]])
    y = np.array([1.0, 1.0])
    value, grad = sums("grad", loss, False, np, X, y, None, np.array([1.0]))
    assert value == pytest.approx(1000.0)
    np.testing.assert_allclose(grad, [1000.0])  # row 2: (p - y) x = (0 - 1)(-1000)


def test_intercept_is_last_and_unpenalized():
    loss = MultinomialLoss(4)
    mask = loss.penalty_mask(5, fit_intercept=True)
    assert loss.n_params(5, fit_intercept=True) == 24
    assert mask[:20].all() and not mask[20:].any()
    assert SquaredLoss().penalty_mask(3, fit_intercept=False).all()


def test_registry_names():
    assert sorted(LOSSES) == ["gamma", "logistic", "multinomial", "poisson", "squared", "tweedie"]


@pytest.mark.parametrize("kind", ["value", "grad", "hess", "hessp"])
def test_chunk_sums_in_row_blocks_match_the_whole_chunk(kind):
    """A CPU chunk is evaluated in cache-sized row blocks (X read once per block for
    X @ w and X.T @ g); the sums equal the loss on the whole chunk, and a float32
    chunk is accumulated in float64."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 100))
    y = (rng.random(6000) < 0.5).astype(float)
    sw = rng.random(6000)
    w, v = rng.normal(scale=0.05, size=(2, 101))
    loss = get_loss("logistic")
    assert len(row_blocks(X, np)) == 3
    method = {"value": loss.value_sum, "grad": loss.grad_sum, "hess": loss.hessian_sum,
              "hessp": lambda *a, **k: loss.hessp_sum(*a, v, **k)}[kind]
    whole = method(X, y, sw, w, fit_intercept=True)
    whole = whole if isinstance(whole, tuple) else (whole,)
    for data in (X, X.astype(np.float32)):
        blocked = chunk_sums(kind, loss, True, 0, 0, data, y, sw, w,
                             v if kind == "hessp" else None)
        rtol = 1e-12 if data.dtype == np.float64 else 1e-5
        for a, b in zip(blocked, whole):
            assert a.dtype == np.float64
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("loss", LOSS_OBJECTS + [GammaLoss(), margin_loss("hinge")], ids=repr)
def test_sparse_chunks_give_the_dense_sums(loss, fit_intercept):
    """Every chunk method on a SciPy CSR chunk (sparse products only, never densified)
    equals the dense computation to 1e-12."""
    import scipy.sparse as sparse

    X, y, sw = make_chunk(loss, 3, 60, 7, weighted=True)
    X = np.where(np.random.default_rng(4).random(X.shape) < 0.7, 0.0, X)  # 70% zeros
    if isinstance(loss, GammaLoss):
        y = np.abs(y) + 0.5
    csr = sparse.csr_matrix(X)
    rng = np.random.default_rng(5)
    p = rng.standard_normal(loss.n_params(7, fit_intercept=fit_intercept)) / 4
    v = rng.standard_normal(p.shape)
    opts = {"fit_intercept": fit_intercept}
    for name, args in (("value_sum", (p,)), ("grad_sum", (p,)), ("hessian_sum", (p,)),
                       ("hessp_sum", (p, v))):
        if name in ("hessian_sum", "hessp_sum") and not loss.has_hessian:
            continue
        dense, ours = (getattr(loss, name)(data, y, sw, *args, **opts) for data in (X, csr))
        dense, ours = (out if isinstance(out, tuple) else (out,) for out in (dense, ours))
        for a, b in zip(dense, ours):
            assert not sparse.issparse(b)
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


def test_sparse_chunks_in_the_chunk_tasks():
    """A pass's chunk task (every kind, kept margins, column moments), a chunk's
    mini-batch steps and the non-finite check take CSR chunks: the dense results to
    1e-12, the bad row named."""
    import scipy.sparse as sparse

    from gdd_dask.chunk import raise_nonfinite
    from gdd_dask.penalties import make_penalty
    from gdd_dask.rules import adam, run_rule
    from gdd_dask.steps import Carry, Stepper, chunk_steps

    loss = LogisticLoss()
    X, y, sw = make_chunk(loss, 6, 3000, 40, weighted=True)
    X = np.where(np.random.default_rng(7).random(X.shape) < 0.9, 0.0, X)
    csr = sparse.csr_matrix(X)
    p = np.random.default_rng(8).standard_normal(41) / 10
    for kind, extra in (("value", {}), ("grad", {"keep": True}), ("grad", {"moments": True}),
                        ("hess", {}), ("hessp", {})):
        vector = (p[::-1],) if kind == "hessp" else ()
        dense, ours = (chunk_sums(kind, loss, True, 0, 0, data, y, sw, p, *vector, **extra)
                       for data in (X, csr))
        if extra.get("keep"):
            np.testing.assert_allclose(ours[1], dense[1], rtol=1e-12)
            dense, ours = dense[0], ours[0]
        flat = [a for s in dense for a in (s if isinstance(s, tuple) else (s,))]
        for a, b in zip(flat, [a for s in ours for a in (s if isinstance(s, tuple) else (s,))]):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
    penalty = make_penalty("l2", 1e-2, loss.penalty_mask(40, fit_intercept=True))
    rule = run_rule(adam(0.01), penalty)
    stepper = Stepper(loss, rule, penalty, fit_intercept=True, batch_size=100,
                      n_samples=3000, weight_sum=float(sw.sum()))
    start = Carry(p, rule.init(p))
    dense, ours = (chunk_steps(stepper, 0, 0, data, y, sw, start, 11) for data in (X, csr))
    np.testing.assert_allclose(ours.x, dense.x, rtol=1e-12, atol=1e-14)
    bad = csr.copy()
    assert bad.indptr[1235] > bad.indptr[1234]  # row 1234 stores a value
    bad.data[bad.indptr[1234]] = np.inf
    with pytest.raises(ValueError, match=r"X has a non-finite value .* at row 1734 \(chunk 3"):
        raise_nonfinite(bad, y, sw, 500, 3, np)
