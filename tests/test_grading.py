"""The grader: answers found, placed in the instructor's lesson, run in a sandbox, replayed.

Most cases use the fixture lesson tests/fixtures/lessons/01_tiny.ipynb (three exercises); one
batch of submissions (solved, partly solved, misbehaving, edited outside the answers) is graded
once per module, two at a time. Hostile answers are in test_grading_attacks.py.
"""

import csv
import json
import os
from pathlib import Path

import nbformat
import pytest
from fixtures.submissions import LESSON, LESSONS, NAMES, RIGHT, STUB, answered, edition, solution
from nbformat.v4 import new_code_cell

from rnn_course.check import exercises
from rnn_course.tools.grading import (
    MAX_OUTPUT_CHARS,
    MAX_SUBMISSION_BYTES,
    NotGradable,
    Run,
    check_cells,
    extract_answers,
    find_lesson,
    format_table,
    grade,
    grading_copy,
    matches_published,
    normalized,
    read_submission,
    review,
    submissions,
    tools_named,
    verdicts,
)
from rnn_course.tools.release import fill_solutions, student_edition
from rnn_course.tools.runner import NOTEBOOKS_DIR

FORGED_RECORD = (
    "from IPython.display import display\n\n"
    "def forged(name):\n"
    "    record = {'exercise': name, 'version': 1, 'calls': [],\n"
    "              'answer': {'callable': True, 'type': 'function', 'reference': False}}\n"
    "    display({'text/plain': f'PASS {name}: all tests passed',\n"
    "             'application/vnd.rnn-course.record+json': record}, raw=True)"
)


def outside_the_answers() -> nbformat.NotebookNode:
    """Every exercise unanswered, and each trick a student might use outside the solutions."""
    notebook = edition()
    check_cells = [i for i, c in enumerate(notebook.cells) if " = check." in c.source]
    # 1. the check cell of linear_forward edited to show a pass and a record
    notebook.cells[check_cells[0]].source = FORGED_RECORD + "\n\nforged('linear_forward')"
    # 2. the check of cross_entropy_from_logits redefined, 3. the package patched
    notebook.cells.insert(
        2,
        new_code_cell(
            FORGED_RECORD + "\n\nimport rnn_course\n\n"
            "check.cross_entropy_from_logits = lambda answer: forged('cross_entropy_from_logits')\n"
            "rnn_course.check.standardize = lambda answer: forged('standardize')\n"
            "rnn_course.check._core.call = lambda answer, *args: None"
        ),
    )
    # 4. an "answer" that escapes its function to run at the top of the cell
    for cell in notebook.cells:
        if cell.source.startswith("def standardize("):
            cell.source = cell.source.replace(
                STUB,
                "    raise NotImplementedError()\n"
                + FORGED_RECORD
                + "\ncheck.standardize = lambda answer: forged('standardize')",
            )
    return notebook


SUBMISSIONS = {
    "01_tiny_a_edition": edition(),
    "01_tiny_b_solution": solution(),
    "01_tiny_c_partial": answered(
        linear_forward="y = x @ weight.T  # my own way\nreturn y + bias",
        cross_entropy_from_logits="raise ValueError('I give up')",
        standardize=RIGHT["standardize"],
    ),
    "01_tiny_d_rude": answered(
        linear_forward="import sys\n\nsys.exit(3)",
        cross_entropy_from_logits="print('x' * 2_000_000)\n" + RIGHT["cross_entropy_from_logits"],
        standardize="import os, shutil\n\n"
        "for name in os.listdir():\n    os.remove(name)\n"
        "shutil.rmtree(os.getcwd(), ignore_errors=True)\n" + RIGHT["standardize"],
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
    "01_tiny_g_forged": outside_the_answers(),
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
    rows = grade([folder], LESSONS, out, timeout=30, jobs=2, progress=False)
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    return {
        "rows": {Path(r["submission"]).stem: r for r in rows},
        "out": out,
        "list": rows,
        "untouched": before == after,
    }


def marks(graded, name):
    return list(graded["rows"][name]["marks"].values())


def test_every_submission_gets_a_row_in_order(graded):
    names = [*SUBMISSIONS, "01_tiny_h_invalid", "homework"]
    assert list(graded["rows"]) == names, "checkpoints are skipped"
    assert all(row["time_s"] > 0 for row in graded["list"] if row["graded"])


def test_the_table_the_csv_and_the_json_say_the_same(graded):
    with graded["out"].open() as file:
        table = list(csv.DictReader(file))
    saved = json.loads(graded["out"].with_suffix(".json").read_text())
    printed = format_table(graded["list"])
    assert saved == graded["list"]
    assert [r["submission"] for r in table] == [r["submission"] for r in saved]
    for line, row in zip(table, saved):
        assert [line[name] for name in row["marks"]] == [str(m) for m in row["marks"].values()]
        assert (line["total"], line["max"]) == (str(row["total"]), str(row["max"]))
        assert line["error"] == row["error"] and line["review"] == review(row)
        assert line["time_s"] == str(row["time_s"])
        marks_text = "  ".join(str(m) for m in row["marks"].values())
        shown = [text for text in printed.split("\n") if text.startswith(row["submission"] + " ")]
        assert len(shown) == 1 and f"{row['total']}/{row['max']}" in shown[0]
        assert " ".join(marks_text.split()) in " ".join(shown[0].split())
        assert shown[0].rstrip().endswith(row["error"]) and f"{row['time_s']:.1f}" in shown[0]
        if review(row):
            assert f"review {row['submission']}: {review(row)}" in printed


def test_submissions_are_never_modified(graded):
    assert graded["untouched"]


def test_student_edition_scores_zero_and_the_solution_full_marks(graded):
    rows = graded["rows"]
    assert marks(graded, "01_tiny_a_edition") == [0, 0, 0]
    assert "not implemented" in rows["01_tiny_a_edition"]["messages"]["linear_forward"]
    assert marks(graded, "01_tiny_b_solution") == [1, 1, 1]
    for name in ["01_tiny_a_edition", "01_tiny_b_solution"]:
        assert rows[name]["graded"] and rows[name]["error"] == ""
        assert rows[name]["outside_changes"] == {"changed": [], "deleted": [], "added": 0}


def test_a_copy_of_the_published_solution_is_flagged_not_zeroed(graded):
    rows = graded["rows"]
    assert rows["01_tiny_b_solution"]["matches_solution"] == NAMES
    assert (
        review(rows["01_tiny_b_solution"]) == f"matches the published solution: {', '.join(NAMES)}"
    )
    assert rows["01_tiny_c_partial"]["matches_solution"] == ["standardize"]


def test_partly_solved_scores_exactly_the_solved_exercises(graded):
    row = graded["rows"]["01_tiny_c_partial"]
    assert marks(graded, "01_tiny_c_partial") == [1, 0, 1] and row["total"] == 2
    assert "ValueError: I give up" in row["messages"]["cross_entropy_from_logits"]


def test_exit_megabytes_and_deleted_files_cost_only_their_exercise(graded):
    row = graded["rows"]["01_tiny_d_rude"]
    assert marks(graded, "01_tiny_d_rude") == [0, 1, 1] and row["graded"]
    assert "SystemExit" in row["messages"]["linear_forward"]
    assert f"output over {MAX_OUTPUT_CHARS:,} characters" in row["error"]


def test_a_hanging_cell_is_interrupted(graded):
    row = graded["rows"]["01_tiny_e_hang"]
    assert marks(graded, "01_tiny_e_hang") == [1, 1, 0] and row["graded"]
    assert "ran over 30 s" in row["messages"]["standardize"]


def test_a_dead_kernel_keeps_what_was_recorded_before(graded):
    row = graded["rows"]["01_tiny_f_dies"]
    assert marks(graded, "01_tiny_f_dies") == [1, 0, 0] and not row["graded"]
    assert "kernel died" in row["error"]
    assert row["messages"]["standardize"].startswith("not checked: the kernel died")


def test_edits_outside_the_answers_earn_nothing(graded):
    row = graded["rows"]["01_tiny_g_forged"]
    assert marks(graded, "01_tiny_g_forged") == [0, 0, 0]
    assert row["outside_changes"]["changed"] == [5] and row["outside_changes"]["added"] == 1
    assert any("indented less" in note for note in row["notes"])


def test_unreadable_and_unknown_submissions_get_an_error_row(graded):
    invalid, unknown = graded["rows"]["01_tiny_h_invalid"], graded["rows"]["homework"]
    assert "not a readable notebook" in invalid["error"] and not invalid["graded"]
    assert invalid["marks"] == {name: 0 for name in RIGHT}
    assert "which lesson" in unknown["error"] and unknown["marks"] == {}


def test_a_record_of_the_reference_never_counts():
    exercise = next(e for e in exercises().values() if e.reference is not None)
    record, _ = exercise.record(exercise.reference)  # what a failed check hands the lesson
    run = Run({8: {"status": "ok"}}, {8: [json.loads(json.dumps(record))]}, "", 0, None)
    marks, messages = verdicts({8: exercise.name}, {exercise.name: 7}, run)
    assert marks == {exercise.name: 0} and "reference solution" in messages[exercise.name]


def test_a_record_from_another_check_does_not_count():
    exercise = next(e for e in exercises().values() if e.reference is not None)
    record, _ = exercise.record(lambda *args: exercise.reference(*args))  # a passing record
    run = Run({8: {"status": "ok"}}, {8: [json.loads(json.dumps(record))]}, "", 0, None)
    marks, messages = verdicts({8: "other"}, {}, run)
    assert marks == {"other": 0}
    assert (
        messages["other"] == f"the check cell showed a record of `{exercise.name}`, not of `other`"
    )


def test_no_record_says_why():
    replies = {7: {"status": "error", "ename": "SyntaxError", "evalue": "invalid syntax"}}
    replies[8] = {"status": "error", "ename": "NameError", "evalue": "name 'f' is not defined"}
    marks, messages = verdicts({8: "lstm_cell"}, {"lstm_cell": 7}, Run(replies, {}, "", 0, None))
    assert marks == {"lstm_cell": 0} and messages["lstm_cell"] == (
        "no record of your answer: the check cell raised NameError: name 'f' is not defined "
        "(your answer's cell raised SyntaxError: invalid syntax)"
    )


def test_check_cells_are_found_by_their_metadata_not_their_source():
    lesson = solution()
    assert list(check_cells(lesson).values()) == NAMES
    lesson.cells[4].source = "anything at all"
    lesson.cells[9].metadata.pop("nbgrader")
    assert list(check_cells(lesson).values()) == ["linear_forward", "standardize"]


def test_only_regular_files_within_the_limit_are_read(tmp_path):
    (tmp_path / "ok.ipynb").write_text("{}")
    assert read_submission(tmp_path / "ok.ipynb") == b"{}"
    (tmp_path / "link.ipynb").symlink_to(LESSON)
    os.mkfifo(tmp_path / "fifo.ipynb")
    (tmp_path / "big.ipynb").write_bytes(b" " * (MAX_SUBMISSION_BYTES + 1))
    expected = {"link": "a symbolic link", "fifo": "a FIFO", "big": "over the 20 MB limit"}
    for name, message in expected.items():
        with pytest.raises(NotGradable, match=message):
            read_submission(tmp_path / f"{name}.ipynb")


def test_find_lesson_by_prefix_or_name():
    lesson_paths = [Path("notebooks/01_fc_basics.ipynb"), Path("notebooks/02_time_series.ipynb")]
    assert find_lesson(Path("01_fc_basics.ipynb"), lesson_paths) == lesson_paths[0]
    assert find_lesson(Path("01-alice.ipynb"), lesson_paths) == lesson_paths[0]
    assert find_lesson(Path("alice_time_series.ipynb"), lesson_paths) == lesson_paths[1]
    assert find_lesson(Path("012.ipynb"), lesson_paths) is None
    assert find_lesson(Path("homework.ipynb"), lesson_paths) is None


def test_submissions_expands_folders_without_following_links(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "01_x.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "bob").symlink_to(LESSONS)
    os.mkfifo(tmp_path / "01_pipe.ipynb")
    assert submissions([tmp_path, Path("missing.ipynb")]) == [
        tmp_path / "01_pipe.ipynb",
        tmp_path / "alice" / "01_x.ipynb",
        tmp_path / "bob",
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
    notebook, changes, notes = grading_copy(solution(), submitted)
    assert "return x @ weight.T + bias" in notebook.cells[3].source
    assert "raise NotImplementedError()" in notebook.cells[8].source
    assert changes == {"changed": [], "deleted": [], "added": 1} and notes == []


def test_answers_that_name_the_graders_tools_get_a_review_note():
    assert tools_named(["    return x @ weight.T + bias  # sys.modules in a comment"]) == []
    assert tools_named(["    import sys", "    f = sys._getframe(1).f_globals"]) == [
        "sys",
        "_getframe",
        "f_globals",
    ]
    assert tools_named(["    getattr(x, 'input_transformers_post')"]) == [
        "getattr",
        "input_transformers_post",
    ]
    submitted = answered(linear_forward="import sys\nreturn x @ weight.T + bias")
    _, _, notes = grading_copy(solution(), submitted)
    assert notes == [
        "cell 4: the answer uses `sys`, which can reach into the grader's tools: review it"
    ]


def test_the_published_solution_is_recognised_through_names_comments_and_layout():
    renamed = answered(
        cross_entropy_from_logits="# my answer\nlp = logits.log_softmax(dim = 1)\n\n"
        'return -lp[torch.arange(len(targets)), targets].mean()  # "mean"'
    )
    own = answered(cross_entropy_from_logits=RIGHT["cross_entropy_from_logits"])
    lesson = solution()
    for submitted, expected in [(renamed, ["cross_entropy_from_logits"]), (own, [])]:
        notebook = grading_copy(lesson, submitted)[0]
        assert matches_published(lesson, notebook, check_cells(lesson)) == expected
    assert normalized("def f(a):\n    b = a + 1\n    return b") == normalized(
        'def f(x):\n    """Doc."""\n    y = x + 1  # comment\n    return y'
    )
    assert normalized("def f(a):\n    return a + 1") != normalized("def f(a):\n    return a - 1")


@pytest.mark.skipif(
    not (NOTEBOOKS_DIR / "02_time_series.ipynb").exists(), reason="lesson 02 not written yet"
)
def test_real_lesson_end_to_end(tmp_path):
    lesson = nbformat.read(NOTEBOOKS_DIR / "02_time_series.ipynb", as_version=4)
    nbformat.write(student_edition(lesson), tmp_path / "02_time_series.ipynb")
    nbformat.write(lesson, tmp_path / "02_time_series_solved.ipynb")
    rows = grade([tmp_path], NOTEBOOKS_DIR, tmp_path / "grades.csv", jobs=2, progress=False)
    edition, solved = rows
    assert edition["graded"] and edition["max"] >= 2 and edition["total"] == 0
    assert solved["graded"] and solved["total"] == solved["max"], solved["messages"]
