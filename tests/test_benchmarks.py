"""The maintainers' benchmarks run and report what they measure (a short run of each)."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat

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


def test_seed_sweep_reports_failures_and_the_spread(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    lesson = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "from rnn_course import lesson_seed, record\n"
                "record('seed_of_ten', lesson_seed(10), 'steps')\n"
                "assert lesson_seed(0) != 1, 'seed 1 fails'"
            )
        ]
    )
    lesson.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(lesson, folder / "01_seeded.ipynb")
    command = [sys.executable, str(BENCHMARKS / "seed_sweep.py"), "--quick", "--seeds", "0-2"]
    command += ["--lessons-folder", str(folder), "--out", str(tmp_path / "out"), "--json"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr
    summary = json.loads(run.stdout)
    assert summary["failures"] == [
        {"lesson": "01_seeded", "seed": 1, "error": "AssertionError: seed 1 fails"}
    ]
    spread = summary["spread"]["01_seeded"]["seed_of_ten"]
    assert (spread["min"], spread["median"], spread["max"]) == (10, 11, 12)
    assert spread["unit"] == "steps" and spread["seeds"] == 3
    again = subprocess.run([*command, "--no-run"], capture_output=True, text=True, timeout=120)
    assert json.loads(again.stdout) == summary


def test_seed_sweep_refuses_a_malformed_list_of_seeds():
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "seed_sweep.py"), "--seeds", "0-x"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "0-4 or 0,2,5" in run.stderr
