"""The figures in assets/ are current, and the results chart reads what run-all stamped."""

import contextlib
import io
import json

import matplotlib

matplotlib.use("Agg")

import nbformat
import pytest

from rnn_course.__main__ import main
from rnn_course.settings import REPO_ROOT
from rnn_course.tools import assets
from rnn_course.tools.notebook import STAMP_KEY, code_hash
from rnn_course.tools.runner import lessons

FIX = f"run `{assets.COMMAND}` and commit assets/"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """Every figure drawn now into a temporary folder, and the command's output."""
    out = tmp_path_factory.mktemp("assets")
    readme = tmp_path_factory.mktemp("readme") / "README.md"
    readme.write_text(assets.README.read_text())
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        assert main(["assets", "--out", str(out), "--readme", str(readme)]) == 0
    return out, printed.getvalue().splitlines()


def test_committed_assets_are_current(fresh):
    out, _ = fresh
    drawn = sorted(path.name for path in out.iterdir())
    assert drawn == sorted(f"{item.name}.svg" for item in assets.figures()[0])
    problems = [
        reason
        for name in drawn
        if (reason := assets.stale(assets.ASSETS_DIR / name, out / name)) is not None
    ]
    extra = sorted({p.name for p in assets.ASSETS_DIR.glob("*")} - set(drawn))
    problems += [f"{name} is not drawn by the command (remove it)" for name in extra]
    assert not problems, "stale assets/: " + "; ".join(problems) + f". To fix: {FIX}"


@pytest.mark.parametrize("name", ["README.md", "README.zh-CN.md"])
def test_readme_results_table_is_current(name):
    readme = (assets.README.parent / name).read_text()
    assert f"{assets.TABLE_BEGIN}\n{assets.results_table()}\n{assets.TABLE_END}" in readme, (
        f"{name}'s results table differs from the lessons' stamped results: {FIX}"
    )


def test_results_table_reads_the_stamps(tmp_path):
    _lesson(tmp_path, "01_fc", {"mlp_test_accuracy": 0.975, "mlp_parameters": 1234})
    _lesson(tmp_path, "02_series", {"naive_rmse": 137.33}, mode="quick")
    row = assets.TableRow(
        "01", "MLP {mlp_test_accuracy:.1%}, {mlp_parameters:,} parameters", ">= 97%"
    )
    results = tmp_path / "results"
    with pytest.raises(ValueError, match="02_series.ipynb has no full-mode results"):
        assets.results_table(tmp_path, (row,), results)
    (tmp_path / "02_series.ipynb").unlink()
    table = assets.results_table(tmp_path, (row,), results)
    assert "| 01 | >= 97% | 12 s: MLP 97.5%, 1,234 parameters | not yet measured |" in table
    assert "- CPU: 2026-11-30, device cpu (2 CPU cores), python 3.11.9, torch 2.14.1." in table
    assert "- GPU: not yet measured" in table
    with pytest.raises(ValueError, match="recorded no mlp_seconds"):
        assets.results_table(tmp_path, (row._replace(shows="{mlp_seconds}"),), results)
    with pytest.raises(ValueError, match="no notebook"):
        assets.results_table(tmp_path, (row._replace(lesson="02"),), results)
    readme = tmp_path / "README.md"
    readme.write_text(f"# Course\n{assets.TABLE_BEGIN}\nold\n{assets.TABLE_END}\nthe rest\n")
    assert assets.write_readme_table(readme, tmp_path, (row,), results) is True
    assert readme.read_text() == (
        f"# Course\n{assets.TABLE_BEGIN}\n{table}\n{assets.TABLE_END}\nthe rest\n"
    )
    assert assets.write_readme_table(readme, tmp_path, (row,), results) is False
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match="lacks the lines"):
        assets.write_readme_table(readme, tmp_path)


def test_results_table_has_a_column_per_device(tmp_path):
    _lesson(tmp_path, "01_fc", {"mlp_test_accuracy": 0.975})
    row = assets.TableRow("01", "MLP {mlp_test_accuracy:.1%}", ">= 97%")
    results = tmp_path / "results"
    results.mkdir()
    notebook = nbformat.read(tmp_path / "01_fc.ipynb", as_version=4)
    gpu = {
        "lesson": "01_fc",
        "status": "ok",
        "mode": "full",
        "seed": 0,
        "code_hash": code_hash(notebook),
        "wall_time_s": 3.4,
        "date": "2026-12-04",
        "setup": "device: cuda | mode: full | python 3.12.1 | torch 2.11.0 | seed 0",
        "cpus": 16,
        "results": {"mlp_test_accuracy": {"value": 0.981, "unit": ""}},
    }
    (results / "cuda.json").write_text(json.dumps({"01_fc": gpu}))
    table = assets.results_table(tmp_path, (row,), results)
    assert "| 01 | >= 97% | 12 s: MLP 97.5% | 3 s: MLP 98.1% |" in table
    assert "- GPU: 2026-12-04, device cuda (16 CPU cores), python 3.12.1, torch 2.11.0." in table
    notebook.cells.append(nbformat.v4.new_code_cell("print('new code')"))
    nbformat.write(notebook, tmp_path / "01_fc.ipynb")
    table = assets.results_table(tmp_path, (row,), results)
    assert "| 12 s (older code): MLP 97.5% | 3 s (older code): MLP 98.1% |" in table


def test_svgs_carry_no_date_and_name_their_licence(fresh):
    out, _ = fresh
    for path in out.iterdir():
        svg = path.read_text()
        assert "<dc:date>" not in svg, path.name
        assert "CC BY 4.0" in svg, path.name


def test_command_says_what_the_chart_leaves_out(fresh):
    _, lines = fresh
    assert [line for line in lines if line.startswith("wrote ")]
    found, left_out = assets.headline_results()
    assert [line for line in lines if line.startswith("left out")] == left_out
    # A lesson that has full-mode results must find every result the chart names.
    renamed = [message for message in left_out if "recorded no" in message]
    assert not renamed, f"{renamed}: rename the result in HEADLINES in rnn_course/tools/assets.py"
    assert {"01", "06", "07", "08"} <= {headline.lesson for headline, _ in found}


def _lesson(folder, name, results, mode="full"):
    notebook = nbformat.v4.new_notebook()
    if results is not None:
        notebook.metadata[STAMP_KEY] = {
            "code_hash": code_hash(notebook),
            "mode": mode,
            "wall_time_s": 12.3,
            "date": "2026-11-30",
            "setup": "device: cpu | mode: full | python 3.11.9 | torch 2.14.1 | seed 0",
            "cpus": 2,
            "results": {key: {"value": value, "unit": ""} for key, value in results.items()},
        }
    nbformat.write(notebook, folder / f"{name}.ipynb")


def test_results_chart_reads_the_stamps(tmp_path):
    _lesson(tmp_path, "01_fc", {"mlp_test_accuracy": 0.5})
    _lesson(tmp_path, "06_sine", {"airline_rnn_rmse": 30.0, "airline_naive_rmse": 100.0})
    _lesson(tmp_path, "07_mnist", {"rnn_test_accuracy": 0.25, "mlp_test_accuracy": 0.75})
    _lesson(tmp_path, "08_lstm", {"mnist_lstm_test_accuracy": 0.99}, mode="quick")
    _lesson(tmp_path, "09_chars", None)
    found, left_out = assets.headline_results(tmp_path)
    values = {h.lesson: [(m.label, v) for m, v in pairs] for h, pairs in found}
    assert values == {
        "01": [("MLP", 50.0)],
        "06": [("RNN", 30.0), ("naive", 100.0)],
        "07": [("RNN", 25.0), ("MLP, same data", 75.0)],
    }
    assert left_out == [
        "left out 'seasonal naive' from lesson 06's panel: 06_sine.ipynb recorded no "
        "'airline_seasonal_naive_rmse' (it has airline_naive_rmse, airline_rnn_rmse)",
        "left out lesson 08's panel: 08_lstm.ipynb holds the results of a quick run",
        "left out lesson 09's panel: 09_chars.ipynb has no run-all results",
        f"left out lesson 10's panel: no notebook {tmp_path.name}/10_*.ipynb",
    ]
    figure = assets.draw_results(found)
    assert [ax.get_title(loc="left") for ax in figure.axes if ax.axison] == [
        "Lesson 01: MLP on MNIST",
        "Lesson 06: Airline passengers, 1959–1960",
        "Lesson 07: RNN on MNIST, row by row",
    ]


def test_results_chart_needs_results(tmp_path, capsys):
    with pytest.raises(ValueError, match="run-all --inplace"):
        assets.draw_results(assets.headline_results(tmp_path)[0])
    assert main(["assets", "--lessons", str(tmp_path / "absent"), "--out", str(tmp_path)]) == 2
    assert "absent is not a folder of lessons" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_course_map_has_every_lesson():
    numbers = [lesson.number for lesson in assets.LESSONS]
    assert {path.stem[:2] for path in lessons(REPO_ROOT / "notebooks")} <= set(numbers)
    assert numbers == sorted(numbers)
    assert assets._direct(assets.LESSONS[6]) == ["05"]  # 07 builds on 01 through 05


def _svg(version, digest):
    return (
        f"<svg><dc:description>with matplotlib {version}; inputs sha256:{digest}</dc:description>"
    )


@pytest.mark.parametrize(
    ("committed", "fresh", "reason"),
    [
        (_svg("3.9.0", "a" * 64) + "x", _svg("3.9.0", "a" * 64) + "x", None),
        (_svg("3.9.0", "a" * 64) + "x", _svg("3.9.0", "a" * 64) + "y", "differs from a fresh"),
        (_svg("3.7.0", "a" * 64) + "x", _svg("3.9.0", "a" * 64) + "y", None),
        (_svg("3.7.0", "a" * 64), _svg("3.9.0", "b" * 64), "drawn from older code or results"),
        ("<svg/>", _svg("3.9.0", "b" * 64), f"was not drawn by `{assets.COMMAND}`"),
    ],
)
def test_stale_compares_bytes_or_fingerprints(tmp_path, committed, fresh, reason):
    (tmp_path / "old.svg").write_text(committed)
    (tmp_path / "new.svg").write_text(fresh)
    found = assets.stale(tmp_path / "old.svg", tmp_path / "new.svg")
    assert found == reason if reason is None else reason in found
    assert "is missing" in assets.stale(tmp_path / "absent.svg", tmp_path / "new.svg")
