"""The grader: answer cells found, placed in the student edition, run in a sandbox, checked here.

Most cases use the fixture lesson tests/fixtures/lessons/01_tiny.ipynb (three exercises); one
batch of submissions (solved, partly solved, misbehaving, edited outside the answers) is graded
once per module, two at a time. Hostile answers are in test_grading_attacks.py.
"""

import csv
import json
import os
import tempfile
from pathlib import Path

import nbformat
import pytest
from fixtures.submissions import LESSON, LESSONS, NAMES, RIGHT, STUB, answered, edition, solution
from nbformat.v4 import new_code_cell

from rnn_course.tools import sandbox
from rnn_course.tools.grading import (
    MAX_OUTPUT_CHARS,
    MAX_SUBMISSION_BYTES,
    NotGradable,
    Run,
    Verdict,
    check_cells,
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
    write_results,
)
from rnn_course.tools.release import student_edition
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
        if "def standardize(" in cell.source:
            cell.source = cell.source.replace(
                STUB,
                "    raise NotImplementedError()\n"
                + FORGED_RECORD
                + "\ncheck.standardize = lambda answer: forged('standardize')",
            )
    return notebook


# Honest answers as a student writes them: the whole cell is the answer.
VARIANTS = {
    "linear_forward": (
        "import torch  # an import in the cell\n\n\n"
        "def _affine(x, w, b):\n    return x @ w.T + b\n\n\n"
        "def linear_forward(x: torch.Tensor, weight: torch.Tensor, bias) -> torch.Tensor:  # typed\n"
        '    """My own doc."""\n    return _affine(x, weight, bias)\n\n\n'
        "print(linear_forward(torch.ones(2, 3), torch.ones(4, 3), torch.zeros(4)))  # tried out"
    ),
    "cross_entropy_from_logits": (
        'def cross_entropy_from_logits(logits, targets, reduction="mean"):  # an extra default\n'
        "    from torch.nn import functional as F\n\n"
        "    return F.cross_entropy(logits, targets, reduction=reduction)\n\n\n"
        "cross_entropy_from_logits(torch.zeros(2, 3), torch.tensor([0, 1]))"
    ),
    "standardize": (
        "def standardize(train,\n                test):\n"
        "    mean, std = train.mean(), train.std()\n"
        "    return (train - mean) / std, (test - mean) / std\n\n\n"
        "standardize(torch.arange(4.0), torch.arange(2.0))"
    ),
}
DEEP_TREE = (
    "import os\n"
    "if not os.path.isdir('deep'):  # 3,000 nested folders, left for the clean-up\n"
    "    here = os.open('.', os.O_RDONLY)\n"
    "    for _ in range(3000):\n"
    "        os.mkdir('deep')\n"
    "        os.chdir('deep')\n"
    "    os.fchdir(here)\n"
)


def variants() -> nbformat.NotebookNode:
    """The student edition with every answer cell replaced by an honest variant."""
    notebook = edition()
    for cell in notebook.cells:
        for name, source in VARIANTS.items():
            if f"def {name}(" in cell.source:
                cell.source = source
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
        linear_forward=DEEP_TREE + RIGHT["linear_forward"],
        cross_entropy_from_logits=RIGHT["cross_entropy_from_logits"],
        standardize="while True:\n    pass",
    ),
    "01_tiny_f_dies": answered(
        linear_forward=RIGHT["linear_forward"],
        cross_entropy_from_logits="import os\n\nos._exit(1)",
    ),
    "01_tiny_g_forged": outside_the_answers(),
    "01_tiny_i_variants": variants(),
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
    sandboxes = set(Path(tempfile.gettempdir()).glob("rnn-course-grade-*"))
    rows = grade([folder], LESSONS, out, timeout=30, jobs=2, progress=False)
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    return {
        "sandboxes_left": set(Path(tempfile.gettempdir()).glob("rnn-course-grade-*")) - sandboxes,
        "rows": {Path(r["submission"]).stem: r for r in rows},
        "out": out,
        "list": rows,
        "untouched": before == after,
    }


def marks(graded, name):
    return list(graded["rows"][name]["marks"].values())


def test_every_submission_gets_a_row_in_order(graded):
    names = [*sorted([*SUBMISSIONS, "01_tiny_h_invalid"]), "homework"]
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


def test_a_hanging_answer_is_interrupted(graded):
    row = graded["rows"]["01_tiny_e_hang"]
    assert marks(graded, "01_tiny_e_hang") == [1, 1, 0] and row["graded"]
    assert "ran over the check cell's 30 s" in row["messages"]["standardize"]


def test_no_sandbox_is_left_behind_even_3000_folders_deep(graded):
    assert graded["rows"]["01_tiny_e_hang"]["error"] == ""
    assert graded["sandboxes_left"] == set()


def test_honest_variants_of_every_answer_get_full_marks(graded):
    row = graded["rows"]["01_tiny_i_variants"]
    assert marks(graded, "01_tiny_i_variants") == [1, 1, 1], row["messages"]
    assert row["graded"] and row["notes"] == [] and row["matches_solution"] == []
    assert row["outside_changes"] == {"changed": [], "deleted": [], "added": 0}


def test_a_dead_kernel_keeps_what_was_checked_before(graded):
    row = graded["rows"]["01_tiny_f_dies"]
    assert marks(graded, "01_tiny_f_dies") == [1, 0, 0] and not row["graded"]
    assert "kernel died" in row["error"]
    assert row["messages"]["standardize"].startswith("not checked: the kernel died")


def test_edits_outside_the_answers_earn_nothing(graded):
    row = graded["rows"]["01_tiny_g_forged"]
    assert marks(graded, "01_tiny_g_forged") == [0, 0, 0]
    assert row["outside_changes"]["changed"] == [5] and row["outside_changes"]["added"] == 1
    # its standardize cell replaced the check: the check cell handed no answer over
    assert row["messages"]["standardize"] == "no answer to check: the check cell handed none over"
    assert row["notes"] == [
        "cell 12: the answer uses `IPython`, which can tamper with its kernel: review it"
    ]


def test_unreadable_and_unknown_submissions_get_an_error_row(graded):
    invalid, unknown = graded["rows"]["01_tiny_h_invalid"], graded["rows"]["homework"]
    assert "not a readable notebook" in invalid["error"] and not invalid["graded"]
    assert invalid["marks"] == {name: 0 for name in RIGHT}
    assert "which lesson" in unknown["error"] and unknown["marks"] == {}


def test_the_verdict_of_each_check_cell_is_the_mark():
    passed, failed = Verdict("a", True, "all 3 tests passed"), Verdict("b", False, "wrong")
    run = Run({8: {"status": "ok"}, 9: {"status": "ok"}}, {8: passed, 9: failed}, "", 0)
    marks, messages = verdicts({8: "a", 9: "b"}, {}, run)
    assert marks == {"a": 1, "b": 0} and messages == {"a": "all 3 tests passed", "b": "wrong"}


def test_no_answer_says_why():
    replies = {7: {"status": "error", "ename": "SyntaxError", "evalue": "invalid syntax"}}
    replies[8] = {"status": "error", "ename": "NameError", "evalue": "name 'f' is not defined"}
    run = Run(replies, {8: None}, "the kernel died", 0)
    marks, messages = verdicts({8: "lstm_cell", 9: "gru_cell"}, {"lstm_cell": 7}, run)
    assert marks == {"lstm_cell": 0, "gru_cell": 0}
    assert messages["lstm_cell"] == (
        "no answer to check: the check cell raised NameError: name 'f' is not defined "
        "(your answer's cell raised SyntaxError: invalid syntax)"
    )
    assert messages["gru_cell"] == "not checked: the kernel died"


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


def test_the_whole_answer_cell_is_taken_found_by_id_or_by_its_def():
    submitted = variants()
    notebook, changes, notes = grading_copy(solution(), submitted)
    answers = [c.source for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers == list(VARIANTS.values())
    assert changes == {"changed": [], "deleted": [], "added": 0} and notes == []
    for cell in submitted.cells:  # an editor that drops the ids: the cell that defines it
        cell.pop("id", None)
    submitted.cells.insert(0, new_code_cell("def linear_forward_draft(x):\n    pass"))
    notebook, changes, _ = grading_copy(solution(), submitted)
    assert [c.source for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")] == (
        list(VARIANTS.values())
    )
    assert changes["added"] == 1


def test_an_answer_cell_over_the_limit_is_not_used():
    submitted = answered(linear_forward="# " + "x" * 100_000 + "\nreturn x @ weight.T + bias")
    notebook, _, notes = grading_copy(solution(), submitted)
    assert "raise NotImplementedError()" in notebook.cells[3].source
    size = len(submitted.cells[3].source)
    assert notes == [
        f"cell 4: the answer has {size:,} characters, over the 100,000 limit: not used"
    ]


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


def test_answers_that_tamper_with_the_kernel_get_a_review_note():
    assert tools_named("return x @ weight.T + bias  # sys.modules in a comment") == []
    assert tools_named("import sys\nf = sys._getframe(1).f_globals") == [
        "sys",
        "_getframe",
        "f_globals",
    ]
    assert tools_named("getattr(x, 'input_transformers_post')\nmodel.eval()") == [
        "input_transformers_post"
    ]
    submitted = answered(linear_forward="import sys\nreturn x @ weight.T + bias")
    _, _, notes = grading_copy(solution(), submitted)
    assert notes == ["cell 4: the answer uses `sys`, which can tamper with its kernel: review it"]


def test_no_published_solution_gets_a_review_note():
    for path in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")):
        lesson = nbformat.read(path, as_version=4)
        assert grading_copy(lesson, lesson)[2] == [], path.name


def test_no_csv_cell_reads_as_a_formula(tmp_path):
    row = {"submission": '=HYPERLINK("http://x")', "lesson": "+01", "marks": {"f": 1}}
    row.update(total=1, max=1, time_s=1.0, error="-1+1", notes=["@SUM(A1)"], matches_solution=[])
    write_results(
        [row, {**row, "submission": "\tx", "error": "\r", "notes": []}], tmp_path / "g.csv"
    )
    with open(tmp_path / "g.csv", newline="") as file:
        lines = list(csv.reader(file))
    assert lines[1][:2] == ['\'=HYPERLINK("http://x")', "'+01"] and lines[1][-2:] == [
        "'-1+1",
        "'@SUM(A1)",
    ]
    assert (
        lines[2][0] == "'\tx" and lines[2][-2] == "'\r" and lines[1][2:6] == ["1", "1", "1", "1.0"]
    )


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


def test_graders_side_by_side_never_share_a_kernel_uid(tmp_path, monkeypatch):
    """Each batch holds its uids until it ends, so a second grader on the machine (another shard
    on the same node) takes others: a uid's process limit counts every process of that user.
    (The locks go to a folder of the test's own, out of reach of graders that run beside it.)"""
    monkeypatch.setattr(sandbox, "UID_LOCKS", tmp_path)
    with sandbox.claimed_uids(2) as first, sandbox.claimed_uids(2) as second:
        assert len(set(first + second)) == 4
    with sandbox.claimed_uids(2) as again:
        assert again == first  # given back when the batch ended
