import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from rnn_course.__main__ import main
from rnn_course.results import RESULT_MIME
from rnn_course.tools.notebook import STAMP_KEY, code_hash
from rnn_course.tools.runner import device_of, run_all, save_device_results


def _lesson(folder, name, *sources):
    notebook = new_notebook(cells=[new_code_cell(s) for s in sources])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, folder / f"{name}.ipynb")
    return folder / f"{name}.ipynb"


@pytest.fixture
def lessons(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    good = _lesson(
        folder,
        "01_good",
        "import rnn_course\nfrom rnn_course import pick, record\ndevice = rnn_course.setup(seed=0)",
        "record('answer', pick(full=42, quick=1))",
    )
    bad = _lesson(folder, "02_bad", "raise ValueError('lesson broke')", "record('stale', 1)")
    stored = nbformat.read(bad, as_version=4)  # an output left by an earlier run
    result = {"name": "stale", "value": 1, "unit": ""}
    stored.cells[1].outputs = [
        nbformat.v4.new_output("display_data", data={"text/plain": "stale", RESULT_MIME: result})
    ]
    nbformat.write(stored, bad)
    return folder, good, bad


def test_run_all_reports_each_lesson_and_never_touches_them(lessons, tmp_path):
    folder, good, bad = lessons
    before = good.read_text()
    reports = run_all(quick=True, out_dir=tmp_path / "out", folder=folder)
    assert [r["lesson"] for r in reports] == ["01_good", "02_bad"]
    assert reports[0]["status"] == "ok" and reports[0]["results"] == {
        "answer": {"value": 1, "unit": ""}
    }
    assert reports[1]["status"] == "failed" and "ValueError: lesson broke" in reports[1]["error"]
    assert reports[1]["results"] == {}, "a cell the run never reached must not report old results"
    assert good.read_text() == before
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == reports
    executed = nbformat.read(tmp_path / "out" / "01_good.ipynb", as_version=4)
    assert executed.cells[1].outputs


def test_inplace_stamps_the_outputs_with_the_code_hash(lessons, tmp_path):
    folder, good, _ = lessons
    run_all(quick=False, inplace=True, out_dir=tmp_path / "out", folder=folder, only=["01"])
    notebook = nbformat.read(good, as_version=4)
    stamp = notebook.metadata[STAMP_KEY]
    assert stamp["mode"] == "full" and stamp["results"]["answer"]["value"] == 42
    assert stamp["setup"].startswith("device: ") and "| mode: full |" in stamp["setup"]
    assert stamp["cpus"] >= 1 and len(stamp["date"]) == 10 and stamp["date"].startswith("20")
    assert stamp["code_hash"] == code_hash(notebook)
    notebook.cells[1].source += "  # edited"
    assert code_hash(notebook) != stamp["code_hash"], (
        "an edit of the code must make the outputs stale"
    )


def test_command_line_exits_non_zero_when_a_lesson_fails(lessons, tmp_path, capsys):
    folder, _, _ = lessons
    options = ["run-all", "--quick", "--lessons", str(folder), "--out", str(tmp_path / "out")]
    assert main([*options, "01"]) == 0
    assert main(options) == 1
    table = capsys.readouterr().out
    assert "01_good" in table and "02_bad" in table and "failed" in table


def test_seed_reaches_the_lessons_and_the_stamp(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_COURSE_SEED", "7")
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _lesson(
        folder,
        "01_seeded",
        "import rnn_course\nfrom rnn_course import lesson_seed, record\nrnn_course.setup(seed=0)",
        "record('seed_of_one', lesson_seed(1))",
    )
    reports = run_all(quick=True, out_dir=tmp_path / "out", folder=folder)
    assert reports[0]["seed"] == 7 and reports[0]["results"]["seed_of_one"]["value"] == 8
    options = ["run-all", "--quick", "--seed", "3", "--lessons", str(folder), "--out"]
    assert main([*options, str(tmp_path / "three")]) == 0
    stamp = nbformat.read(tmp_path / "three" / "01_seeded.ipynb", as_version=4).metadata[STAMP_KEY]
    assert stamp["seed"] == 3 and stamp["results"]["seed_of_one"]["value"] == 4
    assert stamp["setup"].endswith("| seed 3")
    with pytest.raises(SystemExit):
        main([*options, str(tmp_path / "none"), "--seed", "-1"])


def test_device_file_keeps_each_devices_passing_full_runs(tmp_path):
    def report(lesson, device, status="ok", mode="full"):
        setup = f"device: {device} | mode: {mode} | python 3.11.9 | torch 2.14.1 | seed 0"
        return {"lesson": lesson, "status": status, "mode": mode, "setup": setup}

    folder = tmp_path / "results"
    written = save_device_results(
        [report("01_a", "cuda"), report("02_b", "cuda", status="failed")], folder
    )
    assert written == [folder / "cuda.json"]
    assert list(json.loads((folder / "cuda.json").read_text())) == ["01_a"]
    save_device_results([report("03_c", "cuda"), report("01_a", "cpu", mode="quick")], folder)
    assert list(json.loads((folder / "cuda.json").read_text())) == ["01_a", "03_c"]
    assert not (folder / "cpu.json").exists()
    assert device_of(report("01_a", "cuda:1")) == "cuda" and device_of({"setup": ""}) == ""
