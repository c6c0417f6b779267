"""The grader: answers found, placed in the instructor's lesson, run, and verdicts collected.

Most cases use the fixture lesson tests/fixtures/lessons/01_tiny.ipynb (three exercises); one
batch of submissions (solved, partly solved, misbehaving, forged) is graded once per module.
"""

import csv
import json
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from rnn_course.tools.grading import (
    MAX_OUTPUT_CHARS,
    extract_answers,
    find_lesson,
    grade,
    grading_copy,
    submissions,
)
from rnn_course.tools.release import fill_solutions, student_edition
from rnn_course.tools.runner import NOTEBOOKS_DIR

LESSONS = Path(__file__).parent / "fixtures" / "lessons"
LESSON = LESSONS / "01_tiny.ipynb"
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"
RIGHT = {
    "linear_forward": "return x @ weight.T + bias",
    "cross_entropy_from_logits": "return torch.nn.functional.cross_entropy(logits, targets)",
    "standardize": "mean, std = train.mean(), train.std()\nreturn (train - mean) / std, (test - mean) / std",
}
FORGED_VERDICT = (
    "from IPython.display import display\n\n"
    "def forged(answer, name):\n"
    "    payload = {'exercise': name, 'passed': True, 'message': 'forged'}\n"
    "    display({'text/plain': 'PASS', 'application/vnd.rnn-course.verdict+json': payload}, raw=True)"
)


def edition():
    return student_edition(nbformat.read(LESSON, as_version=4))


def answered(**answers: str) -> nbformat.NotebookNode:
    """The student edition with the given exercises answered (function name -> body)."""
    notebook = edition()
    for cell in notebook.cells:
        for name, body in answers.items():
            if cell.source.startswith(f"def {name}("):
                cell.source = cell.source.replace(STUB, textwrap.indent(body, "    "))
    return notebook


def forged() -> nbformat.NotebookNode:
    """Every exercise unanswered, and each trick a student might use outside the solutions."""
    notebook = edition()
    check_cells = [i for i, c in enumerate(notebook.cells) if c.source.startswith("check.")]
    # 1. the check cell of linear_forward edited to show a pass
    notebook.cells[check_cells[0]].source = FORGED_VERDICT + "\n\nforged(None, 'linear_forward')"
    # 2. the check of cross_entropy_from_logits redefined, 3. the package patched
    notebook.cells.insert(
        2,
        new_code_cell(
            FORGED_VERDICT + "\n\nimport rnn_course\n\n"
            "check.cross_entropy_from_logits = lambda answer: forged(answer, 'cross_entropy_from_logits')\n"
            "rnn_course.check.standardize = lambda answer: forged(answer, 'standardize')\n"
            "rnn_course.check._core.call = lambda answer, *args: None"
        ),
    )
    # 4. an "answer" that escapes its function to run at the top of the cell
    for cell in notebook.cells:
        if cell.source.startswith("def standardize("):
            cell.source = cell.source.replace(
                STUB,
                "    raise NotImplementedError()\n"
                + FORGED_VERDICT
                + "\ncheck.standardize = lambda answer: forged(answer, 'standardize')",
            )
    return notebook


SUBMISSIONS = {
    "01_tiny_a_edition": edition(),
    "01_tiny_b_solution": nbformat.read(LESSON, as_version=4),
    "01_tiny_c_partial": answered(
        linear_forward=RIGHT["linear_forward"],
        cross_entropy_from_logits="raise ValueError('I give up')",
        standardize=RIGHT["standardize"],
    ),
    "01_tiny_d_rude": answered(
        linear_forward="import sys\n\nsys.exit(3)",
        cross_entropy_from_logits="print('x' * 5_000_000)\n" + RIGHT["cross_entropy_from_logits"],
        standardize="import os, shutil\n\n"
        "for name in os.listdir():\n    os.remove(name)\n"
        "shutil.rmtree(os.getcwd())\n" + RIGHT["standardize"],
    ),
    "01_tiny_e_hang": answered(
        linear_forward=RIGHT["linear_forward"],
        cross_entropy_from_logits=RIGHT["cross_entropy_from_logits"],
        standardize="while True:\n    pass",
    ),
    "01_tiny_f_dies": answered(
        linear_forward=RIGHT["linear_forward"],
        cross_entropy_from_logits="import os\n\nos._exit(1)",
    ),
    "01_tiny_g_forged": forged(),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    for name, notebook in SUBMISSIONS.items():
        nbformat.write(notebook, folder / f"{name}.ipynb")
    (folder / "01_tiny_h_invalid.ipynb").write_text('{"cells": [')
    (folder / "homework.ipynb").write_text("{}")
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "01_tiny_a_edition-checkpoint.ipynb").write_text("{}")
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    rows_seen = []

    def echo(line):  # the CSV holds every row known so far whenever the next one starts
        if line.startswith("grading"):
            rows_seen.append(len(list(csv.reader(out.open()))) - 1 if out.exists() else 0)

    rows = grade([folder], LESSONS, out, timeout=10, echo=echo)
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    return {
        "rows": {Path(r["submission"]).stem: r for r in rows},
        "out": out,
        "untouched": before == after,
        "rows_seen": rows_seen,
    }


def test_every_submission_gets_a_row_written_as_soon_as_it_is_known(graded):
    names = [*SUBMISSIONS, "01_tiny_h_invalid", "homework"]
    assert list(graded["rows"]) == names, "checkpoints are skipped"
    assert graded["rows_seen"] == list(range(len(names)))
    with graded["out"].open() as file:
        table = list(csv.DictReader(file))
    assert [Path(r["submission"]).stem for r in table] == names
    assert table[1]["linear_forward"] == "1" and table[1]["total"] == "3"
    assert json.loads(graded["out"].with_suffix(".json").read_text())[0]["messages"]


def test_submissions_are_never_modified(graded):
    assert graded["untouched"]


def marks(graded, name):
    return list(graded["rows"][name]["marks"].values())


def test_student_edition_scores_zero_and_the_solution_full_marks(graded):
    rows = graded["rows"]
    assert marks(graded, "01_tiny_a_edition") == [0, 0, 0]
    assert "not implemented" in rows["01_tiny_a_edition"]["messages"]["linear_forward"]
    assert marks(graded, "01_tiny_b_solution") == [1, 1, 1]
    for name in ["01_tiny_a_edition", "01_tiny_b_solution"]:
        assert rows[name]["graded"] and rows[name]["error"] == ""
        assert rows[name]["outside_changes"] == {"changed": [], "deleted": [], "added": 0}


def test_partly_solved_scores_exactly_the_solved_exercises(graded):
    row = graded["rows"]["01_tiny_c_partial"]
    assert marks(graded, "01_tiny_c_partial") == [1, 0, 1] and row["total"] == 2
    assert "ValueError: I give up" in row["messages"]["cross_entropy_from_logits"]


def test_exit_megabytes_and_deleted_files_cost_only_their_exercise(graded):
    row = graded["rows"]["01_tiny_d_rude"]
    assert marks(graded, "01_tiny_d_rude") == [0, 1, 1] and row["graded"]
    assert "SystemExit" in row["messages"]["linear_forward"]
    assert f"output over {MAX_OUTPUT_CHARS} characters dropped" in row["error"]


def test_a_hanging_cell_is_interrupted(graded):
    row = graded["rows"]["01_tiny_e_hang"]
    assert marks(graded, "01_tiny_e_hang") == [1, 1, 0] and row["graded"]
    assert "ran over 10 s" in row["messages"]["standardize"]


def test_a_dead_kernel_keeps_what_was_checked_before(graded):
    row = graded["rows"]["01_tiny_f_dies"]
    assert marks(graded, "01_tiny_f_dies") == [1, 0, 0] and not row["graded"]
    assert "kernel died" in row["error"]
    assert row["messages"]["standardize"].startswith("not checked: the kernel died")


def test_forged_passes_do_not_count(graded):
    row = graded["rows"]["01_tiny_g_forged"]
    assert marks(graded, "01_tiny_g_forged") == [0, 0, 0]
    assert row["outside_changes"]["changed"] == [5] and row["outside_changes"]["added"] == 1
    assert any("indented less" in note for note in row["notes"])


def test_unreadable_and_unknown_submissions_get_an_error_row(graded):
    invalid, unknown = graded["rows"]["01_tiny_h_invalid"], graded["rows"]["homework"]
    assert "not a readable notebook" in invalid["error"] and not invalid["graded"]
    assert invalid["marks"] == {name: 0 for name in RIGHT}
    assert "which lesson" in unknown["error"] and unknown["marks"] == {}


def test_find_lesson_by_prefix_or_name():
    lesson_paths = [Path("notebooks/01_fc_basics.ipynb"), Path("notebooks/02_time_series.ipynb")]
    assert find_lesson(Path("01_fc_basics.ipynb"), lesson_paths) == lesson_paths[0]
    assert find_lesson(Path("01-alice.ipynb"), lesson_paths) == lesson_paths[0]
    assert find_lesson(Path("alice_time_series.ipynb"), lesson_paths) == lesson_paths[1]
    assert find_lesson(Path("012.ipynb"), lesson_paths) is None
    assert find_lesson(Path("homework.ipynb"), lesson_paths) is None


def test_submissions_expands_folders(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "01_x.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("")
    assert submissions([tmp_path, Path("missing.ipynb")]) == [
        tmp_path / "alice" / "01_x.ipynb",
        Path("missing.ipynb"),
    ]


def test_answers_are_found_around_edits():
    source = 'import math\n\n\ndef f(x):\n    """Doc."""\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n\n\ndef g(y):\n    ### BEGIN SOLUTION\n    return y\n    ### END SOLUTION\n    pass'
    released, ranges = fill_solutions(source, [None, None])
    student = released.replace(STUB, "    y = math.sqrt(x)\n\n    return y", 1)
    assert extract_answers(released, ranges, student) == (
        [
            ["    y = math.sqrt(x)", "", "    return y"],
            ["    # YOUR CODE HERE", "    raise NotImplementedError()"],
        ],
        False,
    )
    answers, changed = extract_answers(released, ranges, student.replace("math\n", "os\n"))
    assert answers[0] == ["    y = math.sqrt(x)", "", "    return y"] and changed
    # an edited line next to a stub also goes with the answer (it runs inside the function)
    answers, changed = extract_answers(released, ranges, student.replace("Doc.", "My doc."))
    assert answers[0] == ['    """My doc."""', "    y = math.sqrt(x)", "", "    return y"]
    assert changed


def test_cells_without_ids_are_matched_by_content():
    long_answer = "\n".join(f"step_{i} = {i}  # a long answer, unlike the stub" for i in range(9))
    submitted = answered(linear_forward=long_answer + "\n" + RIGHT["linear_forward"])
    for cell in submitted.cells:
        cell.pop("id", None)
    submitted.cells.insert(3, new_code_cell("print('my scratch cell')"))
    notebook, changes, notes = grading_copy(nbformat.read(LESSON, as_version=4), submitted)
    assert "return x @ weight.T + bias" in notebook.cells[3].source
    assert "raise NotImplementedError()" in notebook.cells[8].source
    assert changes == {"changed": [], "deleted": [], "added": 1} and notes == []


@pytest.mark.skipif(
    not (NOTEBOOKS_DIR / "02_time_series.ipynb").exists(), reason="lesson 02 not written yet"
)
def test_real_lesson_end_to_end(tmp_path):
    lesson = nbformat.read(NOTEBOOKS_DIR / "02_time_series.ipynb", as_version=4)
    nbformat.write(student_edition(lesson), tmp_path / "02_time_series.ipynb")
    nbformat.write(lesson, tmp_path / "02_time_series_solved.ipynb")
    rows = grade([tmp_path], NOTEBOOKS_DIR, tmp_path / "grades.csv", echo=lambda line: None)
    edition, solved = rows
    assert edition["graded"] and edition["max"] >= 2 and edition["total"] == 0
    assert solved["graded"] and solved["total"] == solved["max"], solved["messages"]
