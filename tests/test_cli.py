"""The ``gdd-dask`` command, run as a user would run it."""

from __future__ import annotations

import re
import subprocess
import sys


def run(*args, timeout=240):
    return subprocess.run([sys.executable, "-m", "gdd_dask.cli", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_demo_fits_on_a_local_cluster_and_reports():
    out = run("demo", "--rows", "40000", "--features", "8", "--chunk-rows", "5000")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert re.search(r"dashboard: http://127\.0\.0\.1:\d+/status", text)
    assert "40,000 x 8 float64 in 8 chunks, 2 workers" in text
    iterations, passes = map(int, re.search(r"iterations: (\d+)  passes over the data: (\d+)",
                                            text).groups())
    assert 0 < iterations < passes <= 3 * iterations
    loss, accuracy = map(float, re.search(r"final loss: ([\d.]+)  accuracy: ([\d.]+)",
                                          text).groups())
    assert 0 < loss < 0.69 and 0.6 < accuracy <= 1.0
    assert "status: converged" in text


def test_bad_arguments_exit_with_usage():
    out = run("demo", "--rows", "0")
    assert out.returncode == 2 and "--rows must be >= 1" in out.stderr
    assert run("fly").returncode == 2
