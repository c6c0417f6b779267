"""The Colab parts of every notebook (badge, setup cell, GPU metadata) agree with pyproject.toml."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from rnn_course.__main__ import main
from rnn_course.settings import REPO_ROOT
from rnn_course.tools.colab import (
    COLAB_METADATA,
    FIX_COMMAND,
    check_all,
    colab_ref,
    course_notebooks,
    problems,
    retarget_badge,
    rewrite,
)
from rnn_course.tools.notebook import colab_badge, repository, setup_cell

PYPROJECT = REPO_ROOT / "pyproject.toml"


def test_every_notebook_agrees_with_pyproject():
    found = check_all(REPO_ROOT)
    assert not found, (
        "these notebooks disagree with pyproject.toml's repository "
        f"({repository(PYPROJECT)} at {colab_ref(PYPROJECT)}):\n"
        + "\n".join(found)
        + f"\nRun `{FIX_COMMAND}` at the repository root to rewrite them."
    )


# --------------------------------------------------------------------------- a copy of the repo


def lesson(path_in_repo: str, repo: str = "rnn-course/rnn-course", ref: str = "main"):
    """A small lesson as the frame asks: title with badge, setup cell, then the lesson."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    notebook.cells = [
        nbformat.v4.new_markdown_cell(
            f"# Lesson 01: Shapes\n\n{colab_badge(path_in_repo, repo=repo, ref=ref)}\n\n"
            "Tensors and their shapes."
        ),
        nbformat.v4.new_code_cell(setup_cell(repo=repo, ref=ref)),
        nbformat.v4.new_markdown_cell("## What you will learn"),
        nbformat.v4.new_code_cell("x = 1\nprint(x)"),
    ]
    notebook.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    return notebook


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A repository root with this pyproject.toml, one lesson and its student edition."""
    shutil.copy(PYPROJECT, tmp_path / "pyproject.toml")
    repo = repository(PYPROJECT)
    for folder in ("notebooks", "exercises"):
        (tmp_path / folder).mkdir()
        path = f"{folder}/01_shapes.ipynb"
        nbformat.write(lesson(path, repo=repo), tmp_path / path)
    return tmp_path


def test_the_command_adds_the_gpu_metadata_and_then_changes_nothing(repo_copy, capsys):
    before = check_all(repo_copy)
    assert [line.split(": ")[:2] for line in before] == [
        ["notebooks/01_shapes.ipynb", "metadata"],
        ["notebooks/01_shapes.ipynb", "metadata"],
        ["exercises/01_shapes.ipynb", "metadata"],
        ["exercises/01_shapes.ipynb", "metadata"],
    ]
    assert main(["colab", "--root", str(repo_copy)]) == 0
    assert "2 notebook(s) changed" in capsys.readouterr().out
    assert check_all(repo_copy) == []
    for path in course_notebooks(repo_copy):
        metadata = nbformat.read(path, as_version=4).metadata
        assert metadata["accelerator"] == "GPU"
        assert metadata["colab"] == {"provenance": [], "gpuType": "T4"}
        assert metadata["kernelspec"]["name"] == "python3"
    assert main(["colab", "--root", str(repo_copy)]) == 0
    assert "0 notebook(s) changed" in capsys.readouterr().out


def test_repo_and_ref_rewrite_badges_setup_cells_and_pyproject(repo_copy):
    assert main(["colab", "--root", str(repo_copy), "--repo", "me/my-fork", "--ref", "v1.0"]) == 0
    pyproject = repo_copy / "pyproject.toml"
    assert repository(pyproject) == "me/my-fork"
    assert colab_ref(pyproject) == "v1.0"
    assert 'Repository = "https://github.com/me/my-fork"' in pyproject.read_text()
    for folder in ("notebooks", "exercises"):
        notebook = nbformat.read(repo_copy / folder / "01_shapes.ipynb", as_version=4)
        title, setup = notebook.cells[0].source, notebook.cells[1].source
        url = f"https://colab.research.google.com/github/me/my-fork/blob/v1.0/{folder}/01_shapes.ipynb"
        assert f"]({url})" in title and title.startswith("# Lesson 01: Shapes\n\n[![Open In Colab]")
        assert title.endswith("\n\nTensors and their shapes.")
        assert '%pip install --quiet "rnn-course @ git+https://github.com/me/my-fork@v1.0"' in setup
        assert notebook.cells[3].source == "x = 1\nprint(x)"  # the lesson is untouched
        assert notebook.cells[3].outputs[0]["text"] == "1\n"
    assert check_all(repo_copy) == []
    # Back to main: the saved ref changes again and the badges follow.
    assert main(["colab", "--root", str(repo_copy), "--ref", "main"]) == 0
    assert colab_ref(pyproject) == "main"
    title = nbformat.read(repo_copy / "notebooks/01_shapes.ipynb", as_version=4).cells[0].source
    assert "/blob/main/notebooks/01_shapes.ipynb)" in title


def test_a_bad_repo_is_refused_and_nothing_is_written(repo_copy, capsys):
    before = (repo_copy / "pyproject.toml").read_text()
    assert main(["colab", "--root", str(repo_copy), "--repo", "https://github.com/me/x"]) == 2
    assert "repo must be a GitHub 'OWNER/NAME'" in capsys.readouterr().err
    assert (repo_copy / "pyproject.toml").read_text() == before
    assert main(["colab", "--root", str(repo_copy), "--ref", "two words"]) == 2
    assert "ref must be a git branch, tag or commit" in capsys.readouterr().err
    assert (repo_copy / "pyproject.toml").read_text() == before


def test_problems_name_each_part_that_disagrees():
    path = "notebooks/01_shapes.ipynb"
    notebook = lesson(path, repo="someone/else")
    notebook.metadata.update(json.loads(json.dumps(COLAB_METADATA)))
    found = problems(notebook, path, "rnn-course/rnn-course", "main")
    assert [line.split(":")[0] for line in found] == ["badge", "setup cell"]
    assert "expected [![Open In Colab]" in found[0] and "someone/else" in found[0]
    assert (
        "differs from rnn_course.tools.notebook.setup_cell(repo='rnn-course/rnn-course'" in found[1]
    )
    # The badge must open the notebook's own path.
    assert problems(notebook, "exercises/01_shapes.ipynb", "someone/else", "main") == [
        "badge: the title cell has "
        + colab_badge(path, repo="someone/else")
        + "; expected "
        + colab_badge("exercises/01_shapes.ipynb", repo="someone/else")
    ]
    notebook.metadata["colab"] = {"provenance": []}
    assert problems(notebook, path, "someone/else", "main") == [
        "metadata: 'colab' must contain {'gpuType': 'T4'} (it is {'provenance': []})"
    ]


def test_rewrite_adds_a_missing_badge_and_setup_cell():
    path = "notebooks/03_rnn_maths.ipynb"
    notebook = lesson(path)
    notebook.cells[0].source = "# Lesson 03: RNN maths\nThe equations."
    del notebook.cells[1]  # no setup cell: the first code cell is the lesson's
    assert rewrite(notebook, path, "me/fork", "main") is True
    assert notebook.cells[0].source == (
        f"# Lesson 03: RNN maths\n\n{colab_badge(path, repo='me/fork')}\n\nThe equations."
    )
    assert notebook.cells[1].source == setup_cell(repo="me/fork")
    assert notebook.cells[2].source == "## What you will learn"
    assert problems(notebook, path, "me/fork", "main") == []
    assert rewrite(notebook, path, "me/fork", "main") is False


def test_a_student_edition_badge_is_retargeted_at_exercises():
    notebook = lesson("notebooks/02_time_series.ipynb", repo="me/fork", ref="v1.0")
    retarget_badge(notebook)
    path = "exercises/02_time_series.ipynb"
    assert problems(notebook, path, "me/fork", "v1.0") == [
        "metadata: 'accelerator' must be 'GPU' (it is None)",
        "metadata: 'colab' must contain {'provenance': [], 'gpuType': 'T4'} (it is None)",
    ]
    assert colab_badge(path, repo="me/fork", ref="v1.0") in notebook.cells[0].source


def test_the_setup_cell_is_already_ruff_formatted(tmp_path):
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed")
    path = tmp_path / "01_shapes.ipynb"
    notebook = lesson("notebooks/01_shapes.ipynb", repo="me/fork", ref="v1.0")
    nbformat.write(notebook, path)
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--diff", "--no-cache", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- the setup cell runs


def _run_cells(sources: list[str]) -> list[nbformat.NotebookNode]:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    return notebook.cells


def _text(cell, name: str) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == name)


def test_setup_cell_installs_nothing_locally_and_prints_one_line(monkeypatch):
    monkeypatch.delenv("RNN_COURSE_DATA", raising=False)
    cells = _run_cells(
        [
            "from IPython import get_ipython\n"
            "calls = []\n"
            "get_ipython().register_magic_function(calls.append, 'line', 'pip')",
            setup_cell(),
            "print(calls, device, rnn_course.data_root())",
        ]
    )
    assert [o.output_type for o in cells[1].outputs] == ["stream"]
    summary = _text(cells[1], "stdout").strip()
    assert summary.startswith("device: cpu | mode: ") and "| torch " in summary
    assert "\n" not in summary
    assert _text(cells[2], "stdout").strip() == f"[] cpu {REPO_ROOT / 'data'}"


def test_setup_cell_on_colab_pip_installs_from_the_repository(monkeypatch):
    """Colab is imitated: a `google.colab` module and a `%pip` magic that records its line."""
    monkeypatch.delenv("RNN_COURSE_DATA", raising=False)
    cells = _run_cells(
        [
            "import sys, types\n"
            "from IPython import get_ipython\n"
            "sys.modules['google.colab'] = types.ModuleType('google.colab')\n"
            "calls = []\n"
            "get_ipython().register_magic_function(calls.append, 'line', 'pip')",
            setup_cell(repo="me/fork", ref="v1.0"),
            "print(calls)\nprint(rnn_course.data_root())",
        ]
    )
    calls, root = _text(cells[2], "stdout").strip().splitlines()
    assert calls == str(['install --quiet "rnn-course @ git+https://github.com/me/fork@v1.0"'])
    assert root == "/content/data"
