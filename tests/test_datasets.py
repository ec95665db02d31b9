"""``gdd_dask.datasets``: generators, the store reader and writer, codecs, the catalog."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import zarr

from gdd_dask import datasets
from gdd_dask.datasets.blocks import rebatch

REPO = Path(__file__).resolve().parents[1]

KINDS = [("regression", {}), ("classification", {}), ("classification", {"n_classes": 3}),
         ("poisson", {}), ("gamma", {})]


def read(path):
    group = zarr.open_group(path, mode="r")
    return group["X"][:], group["y"][:]


def make(path, kind, options, **kw):
    return datasets.make_synthetic(path, kind, n_samples=kw.pop("n_samples", 1000),
                                   n_features=kw.pop("n_features", 4), block_rows=64,
                                   **options, **kw)


# -- generators -------------------------------------------------------------------------
@pytest.mark.parametrize("kind, options", KINDS)
def test_generators_are_deterministic_and_independent_of_the_chunking(tmp_path, kind,
                                                                      options):
    make(tmp_path / "a.zarr", kind, options, chunk_rows=7, seed=3)
    make(tmp_path / "b.zarr", kind, options, chunk_rows=100, seed=3, codec="blosc-lz4")
    make(tmp_path / "c.zarr", kind, options, chunk_rows=100, seed=4)
    (Xa, ya), (Xb, yb), (Xc, yc) = (read(tmp_path / f"{n}.zarr") for n in "abc")
    assert Xa.tobytes() == Xb.tobytes() and ya.tobytes() == yb.tobytes()
    assert not np.array_equal(Xa, Xc) and not np.array_equal(ya, yc)
    assert zarr.open_group(tmp_path / "a.zarr")["X"].chunks == (7, 4)
    assert zarr.open_group(tmp_path / "b.zarr")["y"].chunks == (100,)


def test_one_generation_block_does_not_depend_on_the_rows_before_it(tmp_path):
    """Rows of block 2 are the same whether the dataset has 3 blocks or 20."""
    make(tmp_path / "short.zarr", "regression", {}, n_samples=150, chunk_rows=50, seed=1)
    make(tmp_path / "long.zarr", "regression", {}, n_samples=1000, chunk_rows=33, seed=1)
    (Xs, ys), (Xl, yl) = read(tmp_path / "short.zarr"), read(tmp_path / "long.zarr")
    np.testing.assert_array_equal(Xs, Xl[:150])
    np.testing.assert_array_equal(ys, yl[:150])


@pytest.mark.parametrize("kind, options", KINDS)
def test_attributes_hold_the_truth_and_the_parameters(tmp_path, kind, options):
    out = make(tmp_path / "s.zarr", kind, options, chunk_rows=300, seed=5)
    attrs = datasets.read_attributes(tmp_path / "s.zarr")
    assert attrs == out
    n_outputs = options.get("n_classes", 1) if options.get("n_classes", 2) > 2 else 1
    assert np.asarray(attrs["coef"]).shape == (n_outputs, 4)
    assert len(attrs["intercept"]) == n_outputs
    assert {attrs[k] for k in ("kind", "seed", "n_samples", "block_rows", "chunk_rows",
                               "codec")} >= {kind, 5, 1000, 64, 300, "none"}
    assert attrs["model"] == {"regression": "linear", "poisson": "poisson", "gamma": "gamma"}.get(
        kind, "multinomial" if options else "logistic")


def test_the_data_follow_the_stated_models(tmp_path):
    """Least squares recovers the regression's coefficients; labels and counts have
    the means the model gives them."""
    n = 20_000
    meta = datasets.make_regression(tmp_path / "r.zarr", n_samples=n, n_features=5,
                                    noise=0.1, seed=0)
    X, y = read(tmp_path / "r.zarr")
    fit = np.linalg.lstsq(np.c_[X, np.ones(n)], y, rcond=None)[0]
    np.testing.assert_allclose(fit, [*meta["coef"][0], 0.5], atol=0.01)
    meta = datasets.make_classification(tmp_path / "c.zarr", n_samples=n, n_features=5,
                                        n_classes=3, seed=0)
    X, y = read(tmp_path / "c.zarr")
    raw = X @ np.asarray(meta["coef"]).T + meta["intercept"]
    p = np.exp(raw) / np.exp(raw).sum(axis=1, keepdims=True)
    for k in range(3):  # observed class frequency vs mean model probability
        assert abs(np.mean(y == k) - p[:, k].mean()) < 0.015
    meta = datasets.make_poisson(tmp_path / "p.zarr", n_samples=n, n_features=5, seed=0)
    X, y = read(tmp_path / "p.zarr")
    mu = np.exp(X @ np.asarray(meta["coef"])[0] + 0.5)
    assert abs(y.mean() - mu.mean()) < 4 * np.sqrt(mu.mean() / n) + 0.02
    assert np.all(y == np.round(y)) and y.min() >= 0


def test_generators_write_chunk_by_chunk_in_bounded_memory(tmp_path):
    """A 32 MB store is written with a few chunks of 0.8 MB in memory at a time."""
    datasets.make_classification(tmp_path / "warm.zarr", n_samples=10, n_features=20)
    written = []
    tracemalloc.start()
    try:
        datasets.make_classification(tmp_path / "big.zarr", n_samples=200_000, n_features=20,
                                     chunk_rows=5_000, callback=written.append)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == list(range(5_000, 200_001, 5_000))
    assert peak < 12 * 2**20, f"peak traced memory {peak / 2**20:.1f} MiB"


def test_rebatch_recuts_a_stream_of_blocks():
    blocks = [(np.arange(a, b), -np.arange(a, b)) for a, b in [(0, 4), (4, 8), (8, 10)]]
    out = list(rebatch(iter(blocks), [3, 3, 1, 3]))
    assert [list(x) for x, _ in out] == [[0, 1, 2], [3, 4, 5], [6], [7, 8, 9]]
    assert all(np.array_equal(x, -y) for x, y in out)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"n_samples": 0}, ValueError, "n_samples must be >= 1"),
    ({"n_features": 2.5}, TypeError, "n_features must be an integer"),
    ({"chunk_rows": 0}, ValueError, "chunk_rows must be >= 1"),
    ({"seed": -1}, ValueError, "seed must be >= 0"),
    ({"noise": -1.0}, ValueError, "noise must be a finite number"),
    ({"codec": "snappy"}, ValueError, "unknown codec 'snappy'"),
    ({"intercept": [1.0, 2.0]}, ValueError, "intercept must be"),
])
def test_generator_arguments_are_checked(tmp_path, kwargs, error, match):
    options = {"n_samples": 10, "n_features": 2, **kwargs}
    with pytest.raises(error, match=match):
        datasets.make_regression(tmp_path / "s.zarr", **options)


def test_an_existing_path_is_replaced_only_when_it_is_a_store_and_asked(tmp_path):
    datasets.make_poisson(tmp_path / "s.zarr", n_samples=10, n_features=2)
    with pytest.raises(ValueError, match="already exists"):
        datasets.make_poisson(tmp_path / "s.zarr", n_samples=10, n_features=2)
    datasets.make_poisson(tmp_path / "s.zarr", n_samples=20, n_features=2, overwrite=True)
    assert read(tmp_path / "s.zarr")[0].shape == (20, 2)
    (tmp_path / "folder").mkdir()
    with pytest.raises(ValueError, match="is not a Zarr store; refusing"):
        datasets.make_poisson(tmp_path / "folder", n_samples=10, n_features=2, overwrite=True)
    with pytest.raises(ValueError, match="unknown kind|kind must be one of"):
        datasets.make_synthetic(tmp_path / "k.zarr", "ranking", n_samples=5, n_features=2)


# -- open_zarr and write_zarr -------------------------------------------------------------
def test_open_zarr_returns_row_chunked_dask_arrays(tmp_path):
    datasets.make_regression(tmp_path / "s.zarr", n_samples=1000, n_features=3, chunk_rows=300)
    X, y = datasets.open_zarr(tmp_path / "s.zarr")
    assert isinstance(X, da.Array) and isinstance(y, da.Array)
    assert X.chunks == ((300, 300, 300, 100), (3,)) and y.chunks == ((300, 300, 300, 100),)
    Xn, yn = read(tmp_path / "s.zarr")
    np.testing.assert_array_equal(X.compute(), Xn)
    np.testing.assert_array_equal(y.compute(), yn)
    X_only, none = datasets.open_zarr(tmp_path / "s.zarr", y_name=None)
    assert none is None and X_only.shape == (1000, 3)


def test_open_zarr_puts_the_columns_in_one_chunk_and_follows_X_rows(tmp_path):
    group = zarr.open_group(tmp_path / "s.zarr", mode="w")
    group.create_array("X", data=np.arange(60.0).reshape(20, 3), chunks=(5, 2))
    group.create_array("y", data=np.arange(20.0), chunks=(8,))
    X, y = datasets.open_zarr(tmp_path / "s.zarr")
    assert X.chunks == ((5,) * 4, (3,)) and y.chunks == ((5,) * 4,)
    np.testing.assert_array_equal(X.compute(), np.arange(60.0).reshape(20, 3))


def store_with(path, **arrays):
    group = zarr.open_group(path, mode="w")
    for name, data in arrays.items():
        group.create_array(name, data=data)
    return path


@pytest.mark.parametrize("arrays, match", [
    ({"features": np.zeros((4, 2)), "y": np.zeros(4)},
     r"has no array 'X'; its arrays are \['features', 'y'\]"),
    ({"X": np.zeros((4, 2)), "target": np.zeros(4)}, "has no array 'y'"),
    ({"X": np.zeros(4), "y": np.zeros(4)}, r"X in .* must be 2-D .* shape \(4,\)"),
    ({"X": np.zeros((4, 2)), "y": np.zeros((4, 1))}, "y in .* must be 1-D"),
    ({"X": np.zeros((4, 2)), "y": np.zeros(3)}, "X has 4 rows but y has 3"),
])
def test_open_zarr_names_what_is_wrong(tmp_path, arrays, match):
    with pytest.raises(ValueError, match=match):
        datasets.open_zarr(store_with(tmp_path / "s.zarr", **arrays))


def test_open_zarr_rejects_what_is_not_a_store(tmp_path):
    with pytest.raises(ValueError, match="no Zarr store at"):
        datasets.open_zarr(tmp_path / "missing.zarr")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ValueError, match="is not a Zarr store"):
        datasets.open_zarr(tmp_path / "folder")
    zarr.create_array(tmp_path / "array.zarr", data=np.zeros(3))
    with pytest.raises(ValueError, match="single Zarr array, not a group"):
        datasets.open_zarr(tmp_path / "array.zarr")


def test_write_zarr_of_numpy_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((101, 3)).astype(np.float32), rng.integers(0, 3, 101)
    datasets.write_zarr(tmp_path / "s.zarr", X, y, chunk_rows=20, codec="zstd-1",
                        attributes={"source": "test"})
    Xd, yd = datasets.open_zarr(tmp_path / "s.zarr")
    assert Xd.chunks[0] == (20,) * 5 + (1,) and Xd.dtype == np.float32
    np.testing.assert_array_equal(Xd.compute(), X)
    np.testing.assert_array_equal(yd.compute(), y)
    attrs = datasets.read_attributes(tmp_path / "s.zarr")
    assert attrs["source"] == "test" and attrs["codec"] == "zstd-1"


def test_write_zarr_of_dask_writes_on_the_cluster(tmp_path, client):
    X = da.random.default_rng(1).standard_normal((1000, 4), chunks=(130, 2))
    y = X[:, 0] > 0
    datasets.write_zarr(tmp_path / "s.zarr", X, y, chunk_rows=250)
    assert zarr.open_group(tmp_path / "s.zarr")["X"].chunks == (250, 4)
    Xr, yr = datasets.open_zarr(tmp_path / "s.zarr")
    Xc = client.compute(X, sync=True)
    np.testing.assert_array_equal(Xr.compute(), Xc)
    np.testing.assert_array_equal(yr.compute(), Xc[:, 0] > 0)


def _fail_on_third_chunk(block, block_info=None):
    if block_info[0]["chunk-location"][0] == 2:
        raise RuntimeError("disk full")
    return block


def test_a_failed_write_leaves_no_half_written_store(tmp_path):
    X = da.zeros((100, 2), chunks=(20, 2)).map_blocks(_fail_on_third_chunk, dtype=float)
    with pytest.raises(RuntimeError, match="disk full"):
        datasets.write_zarr(tmp_path / "s.zarr", X, np.zeros(100), chunk_rows=20)
    assert not (tmp_path / "s.zarr").exists()


@pytest.mark.parametrize("X, y, error, match", [
    (np.zeros(5), np.zeros(5), ValueError, "X must be 2-D"),
    (np.zeros((5, 2)), np.zeros((5, 2)), ValueError, "y must be 1-D"),
    (np.zeros((5, 2)), np.zeros(4), ValueError, "X has 5 rows but y has 4"),
    (np.array([["a", "b"]]), np.zeros(1), TypeError, "X must hold numbers"),
])
def test_write_zarr_checks_its_input(tmp_path, X, y, error, match):
    with pytest.raises(error, match=match):
        datasets.write_zarr(tmp_path / "s.zarr", X, y)
    assert not (tmp_path / "s.zarr").exists()


@pytest.mark.parametrize("codec", sorted(datasets.CODECS))
def test_every_codec_round_trips(tmp_path, codec):
    X = np.random.default_rng(0).standard_normal((50, 3))
    datasets.write_zarr(tmp_path / "s.zarr", X, X[:, 0], chunk_rows=16, codec=codec)
    np.testing.assert_array_equal(read(tmp_path / "s.zarr")[0], X)


# -- catalog ------------------------------------------------------------------------------
def test_the_catalog_lists_recipes_that_the_repository_links_and_documents():
    catalog = datasets.load_catalog()
    assert {"tiny", "small", "medium", "large"} <= set(catalog)
    assert (REPO / "datasets" / "catalog.toml").resolve() == datasets.catalog_path().resolve()
    readme = (REPO / "datasets" / "README.md").read_text()
    for recipe in catalog.values():
        assert recipe.kind in datasets.KINDS
        assert f"`{recipe.name}`" in readme
    assert catalog["large"].rows == 2_000_000 and catalog["large"].features == 100
    assert 1.1e9 < catalog["medium"].nbytes < 1.6e9


def test_make_dataset_writes_a_recipe_with_its_name(tmp_path):
    path = datasets.make_dataset("tiny", tmp_path / "tiny.zarr")
    recipe = datasets.get_recipe("tiny")
    attrs = datasets.read_attributes(path)
    assert attrs["recipe"] == "tiny" and attrs["chunk_rows"] == recipe.chunk_rows
    X, y = datasets.open_zarr(path)
    assert X.shape == (recipe.rows, recipe.features)
    with pytest.raises(ValueError, match="no dataset 'huge' in the catalog"):
        datasets.get_recipe("huge")


def test_a_catalog_with_a_broken_recipe_is_named(tmp_path):
    bad = tmp_path / "catalog.toml"
    bad.write_text('[mine]\nkind = "regression"\nrows = 10\nfeatures = 2\nseed = 0\n')
    with pytest.raises(ValueError, match=r"recipe \[mine\] lacks \['chunk_rows'\]"):
        datasets.load_catalog(bad)
    bad.write_text('[mine]\nkind = "regression"\nrows = 10\nfeatures = 2\nseed = 0\n'
                   'chunk_rows = 5\ncolour = "red"\n')
    with pytest.raises(ValueError, match=r"unknown fields \['colour'\]"):
        datasets.load_catalog(bad)
    bad.write_text("[mine\n")
    with pytest.raises(ValueError, match="is not valid TOML"):
        datasets.load_catalog(bad)
