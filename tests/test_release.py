"""Student editions: solution blocks stubbed, outputs cleared, and exercises/ kept up to date."""

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from rnn_course.tools.notebook import STAMP_KEY
from rnn_course.tools.release import (
    EXERCISES_DIR,
    fill_solutions,
    release,
    solution_blocks,
    student_edition,
)
from rnn_course.tools.runner import NOTEBOOKS_DIR, lessons

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
FIXTURE_LESSONS = Path(__file__).parent / "fixtures" / "lessons"

TWO_BLOCKS = """\
import torch


def first(x):
    \"\"\"Doc.\"\"\"
    ### BEGIN SOLUTION
    return x + 1
    ### END SOLUTION


class Second:
    def method(self):
        ### BEGIN SOLUTION
        value = 2
        return value
        ### END SOLUTION

    def other(self):
        return 3"""


def test_each_block_becomes_the_stub_at_the_markers_indentation():
    source, ranges = fill_solutions(TWO_BLOCKS, [None, None])
    assert source == TWO_BLOCKS.replace(
        "    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION",
        "    # YOUR CODE HERE\n    raise NotImplementedError()",
    ).replace(
        "        ### BEGIN SOLUTION\n        value = 2\n        return value\n        ### END SOLUTION",
        "        # YOUR CODE HERE\n        raise NotImplementedError()",
    )
    lines = source.split("\n")
    assert [lines[start:stop] for start, stop in ranges] == [
        ["    # YOUR CODE HERE", "    raise NotImplementedError()"],
        ["        # YOUR CODE HERE", "        raise NotImplementedError()"],
    ]


def test_answers_fill_the_blocks():
    source, _ = fill_solutions(TWO_BLOCKS, [["    return x * 2"], None])
    assert "    return x * 2\n\n\nclass Second" in source
    assert "BEGIN SOLUTION" not in source and source.count("NotImplementedError") == 1


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("### BEGIN SOLUTION\nx = 1", "line 1: ### BEGIN SOLUTION without ### END SOLUTION"),
        ("x = 1\n### END SOLUTION", "line 2: ### END SOLUTION without ### BEGIN SOLUTION"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION", "line 2: ### BEGIN SOLUTION inside"),
    ],
)
def test_unbalanced_markers_are_reported(source, message):
    with pytest.raises(ValueError, match=message):
        solution_blocks(source)
    lesson = new_notebook(cells=[new_code_cell("x = 0"), new_code_cell(source)])
    with pytest.raises(ValueError, match="cell 1: "):
        student_edition(lesson)


def test_student_edition_clears_outputs_and_the_stamp_and_keeps_the_rest():
    solved = new_code_cell(TWO_BLOCKS, execution_count=3, metadata={"tags": ["keep"]})
    solved.outputs = [new_output("stream", name="stdout", text="hello\n")]
    solved.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    lesson = new_notebook(
        cells=[new_markdown_cell("# Lesson 99: Test\n### BEGIN SOLUTION"), solved],
        metadata={"kernelspec": KERNELSPEC, STAMP_KEY: {"mode": "full"}},
    )
    edition = student_edition(lesson)
    assert lesson.cells[1].source == TWO_BLOCKS and lesson.cells[1].outputs, "input unchanged"
    cell = edition.cells[1]
    assert cell.outputs == [] and cell.execution_count is None
    assert cell.metadata == {"tags": ["keep"]} and cell.id == solved.id
    assert cell.source.count("raise NotImplementedError()") == 2
    assert edition.metadata == {"kernelspec": KERNELSPEC}
    assert edition.cells[0] == lesson.cells[0], "markdown cells are kept as they are"


def test_release_writes_every_lesson_and_removes_stale_editions(tmp_path):
    (tmp_path / "98_gone.ipynb").write_text("{}")
    written, removed = release(FIXTURE_LESSONS, tmp_path)
    assert [p.name for p in written] == ["01_tiny.ipynb"]
    assert [p.name for p in removed] == ["98_gone.ipynb"]
    edition = nbformat.read(tmp_path / "01_tiny.ipynb", as_version=4)
    assert edition == student_edition(nbformat.read(FIXTURE_LESSONS / "01_tiny.ipynb", 4))


def test_committed_student_editions_are_up_to_date():
    stale = []
    for path in lessons(NOTEBOOKS_DIR):
        expected = student_edition(nbformat.read(path, as_version=4))
        committed = EXERCISES_DIR / path.name
        if not committed.is_file() or nbformat.read(committed, as_version=4) != expected:
            stale.append(path.name)
    extra = sorted({p.name for p in lessons(EXERCISES_DIR)} - {p.name for p in lessons()})
    assert not stale and not extra, (
        f"exercises/ is out of date with notebooks/ (stale or missing: {stale}; "
        f"no such lesson: {extra}): run `python -m rnn_course release`"
    )
