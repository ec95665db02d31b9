"""The benchmark suite end to end at a tiny size: ``benchmarks/run.py --suite smoke``.

dask-ml and matplotlib are optional (``.[bench]``): without them the suite skips their
part with a note, which is what this test checks then.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def installed(module):
    return importlib.util.find_spec(module) is not None


def test_smoke_suite_writes_every_output(tmp_path):
    out, results = tmp_path / "results", tmp_path / "RESULTS.md"
    command = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--suite", "smoke",
               "--data-dir", str(tmp_path / "data"), "--out-dir", str(out),
               "--write-results", "--results-file", str(results)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]

    rows = [json.loads(line) for line in (out / "smoke.jsonl").read_text().splitlines()]
    assert {"reference", "pass", "overhead", "optimum", "store"} <= {r["measure"] for r in rows}
    assert {r["problem"].split()[0] for r in rows} == {"logistic", "regression"}
    tools = {r["tool"] for r in rows}
    assert {"gdd-dask", "scikit-learn", "numpy"} <= tools
    for row in rows:
        assert {"suite", "tool", "solver", "config", "wall_s", "runs"} <= set(row)
    gdd_fits = [r for r in rows if r["measure"] == "optimum" and r["tool"] == "gdd-dask"]
    assert gdd_fits and all(r["gap"] <= 1e-6 and r["wall_s"] > 0 for r in gdd_fits)

    markdown = (out / "smoke.md").read_text()
    assert "## Targets" in markdown and "| gdd-dask | lbfgs |" in markdown
    assert "## Machine" in results.read_text()
    if installed("dask_ml"):
        assert "dask-ml" in tools and "| dask-ml |" in markdown
    else:
        assert "dask-ml" not in tools and "dask_ml is not installed" in done.stderr
    if installed("matplotlib"):
        assert (out / "smoke.png").read_bytes()[:8] == PNG_MAGIC
        assert "](smoke.png)" in markdown
    else:
        assert not (out / "smoke.png").exists()
        assert "matplotlib is not installed" in done.stderr


def test_minibatch_benchmark_runs_every_mode(tmp_path):
    """``benchmarks/minibatch.py`` at a tiny size: every gdd-dask mode and the peers
    that are installed (PyTorch is optional: its rows are skipped with a note)."""
    command = [sys.executable, str(ROOT / "benchmarks" / "minibatch.py"), "--size", "smoke",
               "--repeat", "1", "--out-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    rows = [json.loads(line) for line in
            (tmp_path / "minibatch-smoke.jsonl").read_text().splitlines()]
    modes = {(r["measure"], r["tool"], r["mode"].split(",")[0]) for r in rows}
    assert {("mlp", "gdd-dask", "cluster"), ("mlp", "gdd-dask", "in-process"),
            ("mlp", "scikit-learn", "MLPClassifier adam"), ("sgd", "scikit-learn",
            "SGDClassifier"), ("async", "gdd-dask", "asynchronous")} <= modes
    assert all(0.5 < r["accuracy"] <= 1 for r in rows if "accuracy" in r)
    assert ("pytorch" in {r["tool"] for r in rows}) == installed("torch")
    assert "## Ratios" in (tmp_path / "minibatch-smoke.md").read_text()


def test_small_fits_benchmark_runs_every_part(tmp_path):
    """``benchmarks/small_fits.py`` once each: the small fit, the grid search and the
    pass rows, with their ratios to scikit-learn."""
    command = [sys.executable, str(ROOT / "benchmarks" / "small_fits.py"), "--repeat", "1",
               "--out-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    rows = [json.loads(line) for line in (tmp_path / "small_fits.jsonl").read_text().splitlines()]
    assert {r["measure"] for r in rows} == {"small", "grid", "pass"}
    assert all(r["wall_s"] > 0 for r in rows)
    assert ("dask-ml" in {r["tool"] for r in rows}) == installed("dask_ml")
    markdown = (tmp_path / "small_fits.md").read_text()
    assert "grid: gdd-dask (no client) / scikit-learn" in markdown


def test_narrow_l1_benchmark_compares_with_scikit_learn(tmp_path):
    command = [sys.executable, str(ROOT / "benchmarks" / "narrow_l1.py"), "--rows", "4000",
               "--features", "12", "--repeat", "1", "--out-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    rows = [json.loads(line) for line in (tmp_path / "narrow_l1.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all(r["max_coef_diff"] < 1e-8 for r in rows)
    assert {r["solver"] for r in rows if r["tool"] == "gdd-dask"} == {"cd"}
    assert "Lasso, gdd-dask in-process / scikit-learn" in (tmp_path / "narrow_l1.md").read_text()


def test_least_squares_benchmark_compares_passes_fits_and_digits(tmp_path):
    command = [sys.executable, str(ROOT / "benchmarks" / "least_squares.py"), "--rows", "4000",
               "--features", "8", "--repeat", "1", "--out-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    rows = [json.loads(line)
            for line in (tmp_path / "least_squares.jsonl").read_text().splitlines()]
    assert len([r for r in rows if "wall_s" in r]) == 9
    digits = {r["tool"]: r["correct_digits"] for r in rows if r["model"] == "Longley"}
    assert digits["gdd-dask qr"] >= 12
    assert "TSQR pass / normal-equation pass" in (tmp_path / "least_squares.md").read_text()


def test_preconditioning_benchmark_reports_both_columnings():
    command = [sys.executable, str(ROOT / "benchmarks" / "preconditioning.py"), "--rows", "2000",
               "--features", "10", "--max-iter", "50"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-4000:]
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert {(r["problem"], r["columns"], r["solver"]) for r in rows} >= {
        ("longley", "unscaled", "gd"), ("2000x10", "standardized", "lbfgs")}
