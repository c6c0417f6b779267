"""The maintainers' benchmarks run and report what they measure (a short run of each)."""

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_fit_cost_times_fit_against_the_bare_loop():
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "fit_cost.py"), "--images", "512", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["images"] == 512 and result["batch_size"] == 128
    assert result["bare_loop_seconds"] > 0 and result["fit_seconds"] > 0
    ratio = result["fit_seconds"] / result["bare_loop_seconds"]
    assert abs(result["fit_over_bare_loop"] - ratio) < 1e-9


def test_fit_cost_refuses_a_batch_size_of_zero():
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "fit_cost.py"), "--batch-size", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "must be positive" in run.stderr
