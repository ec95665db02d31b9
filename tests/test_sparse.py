"""Sparse X (SciPy CSR, in memory or as the chunks of a Dask array) through ``minimize``
and the estimators: the dense fit's optimum and scikit-learn's on the same CSR matrix,
the same bits in-process and on the cluster, lazy predictions."""

from __future__ import annotations

import warnings

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model
import sklearn.neural_network
import zarr
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import gdd_dask
from gdd_dask import make_objective, minimize, solve
from gdd_dask.datasets import open_zarr, write_zarr
from gdd_dask.datasets.text import draw_hashed_text, make_hashed_text
from gdd_dask.losses.base import is_scipy_sparse


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return np.where(np.abs(X) > 0.7, X, 0.0), y.astype(float)  # about half zeros


@pytest.mark.parametrize("loss, kw", [
    ("logistic", {"solver": "lbfgs"}),
    ("logistic", {"solver": "newton"}),
    ("logistic", {"solver": "proximal", "penalty": "l1"}),
    ("squared", {}),  # auto: one QR pass, the blocks densified one at a time
    ("poisson", {}),
    ("logistic", {"solver": "sgd", "max_iter": 3, "tol": 0, "options": {"random_state": 0}}),
], ids=["lbfgs", "newton", "proximal-l1", "squared-qr", "poisson", "sgd"])
def test_sparse_x_reaches_the_dense_optimum(cancer, loss, kw):
    X, y = cancer
    target = {"squared": 2 * X[:, 0] + y, "poisson": 3 * y}.get(loss, y)
    kw = {"alpha": 1e-2, "tol": 1e-10, "chunk_rows": 100, **kw}
    dense = minimize(loss, X, target, **kw)
    ours = minimize(loss, sp.csr_matrix(X), target, **kw)
    assert ours.solver == dense.solver and ours.n_passes == dense.n_passes
    np.testing.assert_allclose(ours.x, dense.x, rtol=0, atol=1e-9)


def test_sparse_chunks_on_the_cluster_give_the_in_process_bits(cancer, client):
    X, y = cancer
    csr = sp.csr_matrix(X)
    chunks = da.from_array(csr, chunks=(100, -1), asarray=False)
    on_cluster = minimize("logistic", chunks, da.from_array(y, chunks=100), alpha=1e-2,
                          tol=1e-10, client=client)
    in_process = minimize("logistic", csr, y, alpha=1e-2, tol=1e-10, chunk_rows=100)
    np.testing.assert_array_equal(on_cluster.x, in_process.x)
    assert on_cluster.fun == in_process.fun


def test_pydata_sparse_x_is_taken_as_csr(cancer):
    """pydata ``sparse`` X (COO in memory and as the chunks of a Dask array) fits to the bits
    of the same matrix as SciPy CSR. (The chunks are made from CSR ones: slicing a pydata
    array compiles numba code first, seconds in every process.) It runs where pydata
    sparse is installed; the test extra leaves it out: ``import dask.array`` imports it,
    and with it numba, into every worker (about 100 MB each), more than the small
    workers of the out-of-core tests can spare."""
    sparse = pytest.importorskip("sparse")

    X, y = cancer
    csr = sp.csr_matrix(X)
    reference = minimize("logistic", csr, y, alpha=1e-2, tol=1e-8, chunk_rows=100)
    coo = minimize("logistic", sparse.COO.from_scipy_sparse(csr), y, alpha=1e-2, tol=1e-8,
                   chunk_rows=100)
    np.testing.assert_array_equal(coo.x, reference.x)
    chunks = da.from_array(csr, chunks=(100, -1), asarray=False).map_blocks(
        sparse.COO.from_scipy_sparse, meta=sparse.COO.from_numpy(np.zeros((0, 30))))
    model = gdd_dask.LogisticRegression(tol=1e-8).fit(chunks, da.from_array(y, chunks=100))
    ours = gdd_dask.LogisticRegression(tol=1e-8).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(model.coef_, ours.coef_, rtol=1e-8, atol=1e-10)
    assert isinstance(model.predict(chunks), da.Array)
    in_memory = gdd_dask.LogisticRegression(tol=1e-8).fit(sparse.COO.from_scipy_sparse(csr), y)
    np.testing.assert_array_equal(in_memory.coef_, ours.coef_)


def test_what_sparse_input_is_not_taken_yet(cancer):
    X, y = cancer
    with pytest.raises(TypeError, match=r"y is a scipy\.csr_matrix"):
        minimize("squared", X, sp.csr_matrix(y[:, None]))
    bad = sp.csr_matrix(X)
    bad.data[5] = np.nan
    row = int(np.searchsorted(bad.indptr, 5, side="right") - 1)
    with pytest.raises(ValueError, match=rf"X has a non-finite value .* at row {row} "):
        minimize("logistic", bad, y, chunk_rows=100)


# -- plain SGD on a batch's columns ----------------------------------------------------
def _wide_chunk(n_outputs):
    """A CSR chunk of 600 x 5,000 with 12 stored values a row, labels, weights."""
    rng = np.random.default_rng(5)
    columns = np.minimum(rng.zipf(1.3, size=(600, 12)), 5_000) - 1
    X = sp.csr_matrix((rng.standard_normal(7_200), columns.ravel(), np.arange(0, 7_201, 12)),
                      shape=(600, 5_000))
    X.sum_duplicates()
    y = rng.integers(0, max(2, n_outputs), size=600).astype(float)
    return X, y, rng.uniform(0.5, 2.0, size=600)


@pytest.mark.parametrize("case", ["l2", "none", "shrink-to-0", "folds", "one-vs-rest",
                                  "no-intercept", "a-round", "averaged", "averaged-folds",
                                  "l1", "l1-one-vs-rest", "elasticnet", "elasticnet-folds",
                                  "elasticnet-shrink-to-0", "elasticnet-one-vs-rest",
                                  "l1-averaged", "elasticnet-averaged",
                                  "elasticnet-averaged-folds"])
def test_plain_sgd_on_a_csr_chunk_steps_on_each_batchs_columns_as_the_dense_steps(case):
    """Plain SGD on a CSR chunk keeps ``w = a v`` and steps on each batch's columns only
    (``gdd_dask.sparse_steps``): the parameters, the sums of the losses and the step
    gradients, the first estimate and the step count are the dense steps' to 1e-12,
    through a shrink of 0 (``eta lambda >= 1``) and the folds of ``a`` into ``v``; so is
    averaged SGD's mean, begun within a chunk and carried on over the next, and the
    cumulative L1 shrinkage, taken when a batch touches a column (with the L2 decay: from
    the step a column reached 0 at)."""
    from gdd_dask.losses import margin_loss
    from gdd_dask.penalties import make_penalty
    from gdd_dask.rules import AveragedState, L1State, SGDState, find_state, run_rule, sgd
    from gdd_dask.steps import Carry, Stepper, chunk_steps

    n_outputs = 3 if "one-vs-rest" in case else 1
    X, y, sw = _wide_chunk(n_outputs)
    loss = margin_loss("log_loss", n_classes=n_outputs if n_outputs > 1 else None)
    fit_intercept = case != "no-intercept"
    alpha, eta = {"none": (0.0, 0.05), "shrink-to-0": (10.0, 0.15), "folds": (5.0, 0.19),
                  "averaged-folds": (5.0, 0.19), "elasticnet-folds": (2.64, 0.19),
                  "elasticnet-averaged-folds": (2.64, 0.19),
                  "elasticnet-shrink-to-0": (10.02, 0.15)}.get(case, (1e-2, 0.2))
    schedule = eta if "folds" in case or "shrink-to-0" in case else \
        (lambda t: eta / (1 + t) ** 0.5)
    kind = case.split("-")[0] if case.startswith(("l1", "elasticnet")) else \
        "l2" if alpha else None
    ratio = 0.002 if alpha > 1 else 0.5  # elastic nets: mostly L2 where the decay folds
    penalty = make_penalty(kind, alpha, loss.penalty_mask(5_000, fit_intercept=fit_intercept),
                           ratio if kind == "elasticnet" else None)
    rule = run_rule(sgd(schedule), penalty, average=5 if "averaged" in case else None)
    stepper = Stepper(loss, rule, penalty, fit_intercept=fit_intercept, batch_size=25,
                      n_samples=600, weight_sum=float(sw.sum()))
    assert stepper.sparse_penalty == pytest.approx(
        {"l1": (0.0, alpha), "elasticnet": (alpha * (1 - ratio), alpha * ratio)}.get(
            kind, (alpha, 0.0)), rel=1e-15)
    x0 = np.random.default_rng(6).standard_normal(
        loss.n_params(5_000, fit_intercept=fit_intercept)) / 10
    start = Carry(x0, rule.init(x0))
    seed = (11, 3, 17) if case == "a-round" else 11
    dense, ours = (chunk_steps(stepper, 0, 0, data, y, sw, start, seed)
                   for data in (X.toarray(), X))
    if "averaged" in case:  # the mean begins at step 6 and goes on over a second chunk
        dense, ours = (chunk_steps(stepper, 0, 0, data, y, sw, carry, 12)
                       for data, carry in ((X.toarray(), dense), (X, ours)))
        mine, theirs = (find_state(c.state, AveragedState) for c in (ours, dense))
        assert mine.count == theirs.count == 48 and mine.n == theirs.n == 43
        np.testing.assert_allclose(mine.mean, theirs.mean, rtol=1e-12, atol=1e-14)
    if kind in ("l1", "elasticnet"):
        mine, theirs = (find_state(c.state, L1State) for c in (ours, dense))
        assert np.array_equal(mine.total, theirs.total)
        np.testing.assert_allclose(mine.applied, theirs.applied,
                                   rtol=1e-12, atol=1e-14)
        zeros = np.count_nonzero(dense.x[:-n_outputs] == 0)  # some shrunk to 0 (all, with
        assert 0 < zeros < 4_000 or alpha > 1 and zeros > 0  # shrinks of 0.05 a step)
    np.testing.assert_allclose(ours.x, dense.x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.grad_sum, dense.grad_sum, rtol=1e-12, atol=1e-12)
    assert ours.loss_sum == pytest.approx(dense.loss_sum, rel=1e-12)
    assert ours.first == pytest.approx(dense.first, rel=1e-12)
    steps = 48 if "averaged" in case else 14 if case == "a-round" else 24
    assert ours.n_steps == dense.n_steps == steps
    assert find_state(ours.state, SGDState).count == steps
    assert np.count_nonzero(ours.x[:5_000 * n_outputs] - x0[:5_000 * n_outputs]) > 0


def test_other_steps_on_csr_chunks_stay_dense():
    """Steps that are not plain SGD with one L2 and one L1 weight on the coefficients
    take the dense step on sparse chunks."""
    from gdd_dask.losses import margin_loss
    from gdd_dask.penalties import make_penalty
    from gdd_dask.rules import adam, run_rule, sgd
    from gdd_dask.steps import Stepper

    loss, mask = margin_loss("log_loss"), np.r_[np.ones(40, bool), False]
    l2, l1 = make_penalty("l2", 0.1, mask), make_penalty("l1", 0.1, mask)
    per_column = make_penalty("l2", np.r_[np.full(40, 0.1), 0.0] + np.arange(41) / 100, mask)
    for rule, penalty, extra in ((sgd(0.1, momentum=0.9), l2, {}), (adam(0.1), l2, {}),
                                 (sgd(0.1), per_column, {}), (adam(0.1), l1, {"average": 3})):
        stepper = Stepper(loss, run_rule(rule, penalty, **extra), penalty, fit_intercept=True,
                          batch_size=10, n_samples=100, weight_sum=100.0)
        assert stepper.sparse_penalty is None, (rule, penalty, extra)


# -- the estimators ------------------------------------------------------------------
def _target(name, X, y):
    """Labels for the classifiers, counts for Poisson, a linear target otherwise."""
    if "Classifier" in name or name == "LogisticRegression":
        return y
    return 3 * y if name == "PoissonRegressor" else 2 * X[:, 0] + y


# (estimator, its parameters, scikit-learn's on the same CSR matrix, coefficient atol);
# scikit-learn's mini-batch SGD draws differently: its held-out accuracy is the reference
ESTIMATORS = [
    ("LogisticRegression", {"tol": 1e-10}, {"tol": 1e-12, "max_iter": 10_000}, 1e-6),
    ("Ridge", {}, {"solver": "sparse_cg", "tol": 1e-14, "max_iter": 10_000}, 1e-8),
    ("Lasso", {"alpha": 0.01, "tol": 1e-12}, {"alpha": 0.01, "tol": 1e-12}, 1e-8),
    ("ElasticNet", {"alpha": 0.01, "tol": 1e-12}, {"alpha": 0.01, "tol": 1e-12}, 1e-8),
    ("PoissonRegressor", {"tol": 1e-10}, {"tol": 1e-12, "max_iter": 10_000}, 1e-6),
    ("MLPClassifier", {"solver": "lbfgs", "hidden_layer_sizes": (8,), "max_iter": 25,
                       "random_state": 0}, None, 1e-8),
    ("MLPRegressor", {"solver": "lbfgs", "hidden_layer_sizes": (8,), "max_iter": 25,
                      "random_state": 0}, None, 1e-8),
    ("SGDClassifier", {"random_state": 0}, None, None),
    ("SGDRegressor", {"random_state": 0}, None, None),
]


def _params(model):
    """All fitted parameters as one vector (linear models and networks alike)."""
    parts = (model.coefs_ + model.intercepts_ if hasattr(model, "coefs_")
             else [model.coef_, model.intercept_])
    return np.concatenate([np.ravel(p) for p in parts])


def _sklearn(name):
    """scikit-learn's estimator of that name."""
    module = sklearn.neural_network if name.startswith("MLP") else sklearn.linear_model
    return getattr(module, name)


def _quiet(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit()


@pytest.mark.parametrize("name, params, reference, atol", ESTIMATORS,
                         ids=[e[0] for e in ESTIMATORS])
def test_estimators_fit_csr_as_dense_and_as_scikit_learn(cancer, name, params, reference,
                                                         atol):
    """A CSR fit is the dense fit (where the sums round alike; 1e-8 after the
    solver), and scikit-learn's fit of the same CSR
    matrix (MLPs at its settings, SGD by held-out accuracy); predictions take CSR."""
    X, y = cancer
    csr, target = sp.csr_matrix(X), _target(name, X, y)
    ours = _quiet(lambda: getattr(gdd_dask, name)(**params).fit(csr, target))
    dense = _quiet(lambda: getattr(gdd_dask, name)(**params).fit(X, target))
    np.testing.assert_allclose(_params(ours), _params(dense), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.predict(csr), dense.predict(X), rtol=1e-8, atol=1e-10)
    assert ours.score(csr, target) == pytest.approx(dense.score(X, target), rel=1e-8)
    theirs = _quiet(lambda: _sklearn(name)(**(reference or params)).fit(csr, target))
    if atol is None:  # SGD: train on 400 rows, score the other 169, as scikit-learn does
        train, test = slice(0, 400), slice(400, None)
        ours = _quiet(lambda: getattr(gdd_dask, name)(**params).fit(csr[train], target[train]))
        theirs = _quiet(lambda: _sklearn(name)(**params).fit(csr[train], target[train]))
        assert ours.score(csr[test], target[test]) >= theirs.score(csr[test], target[test]) - 0.05
    else:
        np.testing.assert_allclose(_params(ours), _params(theirs), atol=atol)
    if hasattr(ours, "predict_proba"):
        np.testing.assert_allclose(ours.predict_proba(csr), dense.predict_proba(X), atol=1e-10)


@pytest.mark.parametrize("name, params", [(e[0], e[1]) for e in ESTIMATORS],
                         ids=[e[0] for e in ESTIMATORS])
def test_estimators_fit_dask_csr_chunks_on_the_cluster(cancer, client, tmp_path, name,
                                                       params):
    """CSR chunks on the cluster, and a sparse store streamed to it (``cache="none"``),
    fit as the dense chunks do, and predict lazily."""
    X, y = cancer
    target = _target(name, X, y)
    # a few iterations or epochs: the cluster is slower
    params = {**params, "client": client, "max_iter": 5,
              "tol": None if "SGD" in name else 1e-4}
    write_zarr(tmp_path / "sparse.zarr", sp.csr_matrix(X), target, chunk_rows=200)
    stored, stored_target = open_zarr(tmp_path / "sparse.zarr")
    sparse_chunks = da.from_array(sp.csr_matrix(X), chunks=(200, -1), asarray=False)
    dense = _quiet(lambda: getattr(gdd_dask, name)(**params).fit(
        da.from_array(X, chunks=(200, -1)), da.from_array(target, chunks=200)))
    for X_sparse, y_sparse, cache in ((sparse_chunks, da.from_array(target, chunks=200),
                                       "auto"), (stored, stored_target, "none")):
        ours = _quiet(lambda: getattr(gdd_dask, name)(cache=cache, **params).fit(
            X_sparse, y_sparse))
        np.testing.assert_allclose(_params(ours), _params(dense), rtol=1e-8, atol=1e-10)
        prediction = ours.predict(X_sparse)
        assert isinstance(prediction, da.Array)
        np.testing.assert_allclose(client.compute(prediction).result(),
                                   dense.predict(X), rtol=1e-10, atol=1e-12)


# -- sparse stores -------------------------------------------------------------------
@pytest.fixture(scope="module")
def text_store(tmp_path_factory):
    """A hashed-text store: 12,000 rows x 2**16 features, 20 tokens a row, 4 chunks."""
    path = tmp_path_factory.mktemp("sparse") / "text.zarr"
    make_hashed_text(path, n_samples=12_000, n_features=2**16, nnz_per_row=20,
                     chunk_rows=3_000, seed=3)
    return path


def test_the_hashed_text_store_holds_the_drawn_rows(text_store, tmp_path):
    """The store's rows are those drawn in memory whatever its chunks; a sparse store
    reads back exactly, from a matrix, a Dask array or a stream of blocks."""
    X, y = open_zarr(text_store)
    assert X.chunks[0] == (3_000,) * 4 and y.chunks == X.chunks[:1]
    assert is_scipy_sparse(X._meta) and X.dtype == np.float64
    drawn, labels, coef = draw_hashed_text(12_000, n_features=2**16, nnz_per_row=20, seed=3)
    stored = X.compute()
    assert (stored != drawn).nnz == 0 and np.array_equal(y.compute(), labels)
    assert 15 < drawn.nnz / 12_000 <= 20 and 0.3 < labels.mean() < 0.7
    np.testing.assert_array_equal(zarr.open_group(text_store)["coef"][0], coef)
    blocks = ((drawn[a:a + 777], labels[a:a + 777]) for a in range(0, 12_000, 777))
    sources = {"matrix": (drawn, labels), "stream": (blocks, None),
               "dask": (da.from_array(drawn, chunks=(5_000, -1), asarray=False),
                        da.from_array(labels, chunks=5_000))}
    for name, (source, target) in sources.items():
        meta = write_zarr(tmp_path / name, source, target, chunk_rows=2_500)
        assert meta["nnz"] == drawn.nnz and meta["chunk_rows"] == 2_500
        X2, y2 = open_zarr(tmp_path / name)
        assert X2.chunks[0] == (2_500,) * 4 + (2_000,)
        assert (X2.compute() != drawn).nnz == 0 and np.array_equal(y2.compute(), labels)


def test_sparse_writes_refuse_bad_blocks(tmp_path):
    X = sp.random(10, 4, density=0.5, format="csr", random_state=0)
    with pytest.raises(TypeError, match="block 1: X must be SciPy sparse"):
        write_zarr(tmp_path / "a", iter([(X, np.zeros(10)), (X.toarray(), np.zeros(10))]))
    with pytest.raises(ValueError, match=r"block 0: y must be 1-D .* \(10\); got shape \(9,\)"):
        write_zarr(tmp_path / "b", iter([(X, np.zeros(9))]))
    with pytest.raises(ValueError, match="block 1: X has 3 columns; the first block had 4"):
        write_zarr(tmp_path / "c", iter([(X, np.zeros(10)), (X[:, :3], np.zeros(10))]))
    with pytest.raises(ValueError, match="the stream of blocks is empty"):
        write_zarr(tmp_path / "d", iter([]))
    assert not any((tmp_path / name).exists() for name in "abcd")  # nothing half-written


def test_a_sparse_store_streams_to_the_in_memory_bits(text_store, client):
    """``cache="auto"`` sizes the chunks by their stored values (cached: the dense size
    would be 6 GB); ``cache="none"`` streams them; both give the in-process fit's bits,
    as does an estimator on the store."""
    X, y = open_zarr(text_store)
    in_memory = minimize("logistic", X.compute(), y.compute(), alpha=1e-3, tol=1e-6,
                         chunk_rows=3_000)
    for cache, cached in (("auto", 4), ("none", 0)):
        with make_objective("logistic", X, y, alpha=1e-3, client=client,
                            cache=cache) as objective:
            assert objective.engine.n_cached == cached
            result = solve(objective, solver="auto", tol=1e-6)
        assert result.solver == "lbfgs"
        np.testing.assert_array_equal(result.x, in_memory.x)
    model = gdd_dask.LogisticRegression(tol=1e-6, client=client).fit(X, y)
    reference = gdd_dask.LogisticRegression(tol=1e-6).fit(X.compute(), y.compute())
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-8, atol=1e-10)


# -- hashing at ingest ---------------------------------------------------------------
def test_hash_features_is_scikit_learns_hashing_per_partition():
    """Text and categories hashed per partition equal scikit-learn's hashers on the
    whole frame (their sum: one hashed space); a Bag or Series is text; bad columns
    are named."""
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd
    from sklearn.feature_extraction import FeatureHasher
    from sklearn.feature_extraction.text import HashingVectorizer

    frame = pd.DataFrame({"review": ["good fast", "bad slow slow", None, "good"] * 5,
                          "country": ["fr", "cn", "us", None] * 5})
    lazy = dd.from_pandas(frame, npartitions=3)
    X = gdd_dask.hash_features(lazy, text="review", categorical=["country"],
                               n_features=2**10, ngram_range=(1, 2))
    assert X.numblocks[0] == 3 and is_scipy_sparse(X._meta)
    text = HashingVectorizer(n_features=2**10, alternate_sign=False, ngram_range=(1, 2))
    categories = FeatureHasher(n_features=2**10, input_type="dict", alternate_sign=False)
    expected = text.transform(frame["review"].fillna("")) + categories.transform(
        [{"country": "nan" if pd.isna(c) else c} for c in frame["country"]])
    assert abs(X.compute(scheduler="sync") - expected).max() == 0
    strings = db.from_sequence(["good fast", "bad"] * 4, npartitions=2)
    bag = gdd_dask.hash_features(strings, n_features=2**10).compute(scheduler="sync")
    assert abs(bag - text.set_params(ngram_range=(1, 1)).transform(["good fast", "bad"] * 4)
               ).max() == 0
    with pytest.raises(ValueError, match=r"no columns \['title'\]"):
        gdd_dask.hash_features(lazy, text="title")
    with pytest.raises(ValueError, match="name the text and/or categorical columns"):
        gdd_dask.hash_features(lazy)


def test_a_million_hashed_features_never_form_a_dense_hessian():
    """2**20 columns: "auto" takes L-BFGS (its state a few vectors of the parameters),
    Newton refuses to form a dense Hessian of that size, and the fit is scikit-learn's."""
    X, y, _ = draw_hashed_text(2_000, n_features=2**20, nnz_per_row=20, seed=1)
    result = minimize("logistic", X, y, alpha=0.1, tol=1e-8)
    assert result.solver == "lbfgs" and result.success and result.x.shape == (2**20 + 1,)
    with pytest.raises(ValueError, match=r"dense 1048577x1048577 Hessian"):
        minimize("logistic", X, y, alpha=0.1, solver="newton")
    theirs = sklearn.linear_model.LogisticRegression(C=1 / (0.1 * 2_000), tol=1e-10,
                                                     max_iter=1_000).fit(X, y)
    np.testing.assert_allclose(result.x[:-1], theirs.coef_[0], atol=1e-6)


def test_a_wide_fit_holds_no_copy_of_the_parameters_per_pass():
    """The client's memory on 2**20 parameters does not grow with the passes: L-BFGS-B's
    own work arrays (about 50 parameter vectors, ``history_size=10``) and nothing per
    evaluation (its log of evaluations is kept for a checkpoint only)."""
    import tracemalloc

    X, y, _ = draw_hashed_text(2_000, n_features=2**20, nnz_per_row=20, seed=1)
    vector = 8 * (2**20 + 1)

    def peak(**kw):
        tracemalloc.start()
        try:
            result = minimize("logistic", X, y, alpha=1e-3, **kw)
            return result.nfev, tracemalloc.get_traced_memory()[1] / vector
        finally:
            tracemalloc.stop()

    (short, short_peak), (long, long_peak) = peak(max_iter=3), peak(max_iter=40, tol=1e-12)
    assert long >= short + 12
    assert long_peak < short_peak + 3 < 60
