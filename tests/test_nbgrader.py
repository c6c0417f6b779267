"""The course under the real nbgrader, configured by nbgrader-course/nbgrader_config.py.

`generate_assignment`, `autograde` and `generate_feedback` on lessons 01, 04 and 05 (quick mode,
which the configuration sets; cheap lessons, as each submission is graded twice), with no
RNN_COURSE_CHECKS in the environment: the checks must be strict by themselves. Each submission
answers its exercises right, wrong, not at all, or right in an honest variant (a helper above the
function, a comment on its `def` line, a line after it that uses it); nbgrader's marks must be
those, and the course grader's. One lesson-05 submission replaces a check from its answer cell: its
mark must be 0 in both. The marks and the seconds per notebook of both, side by side, go to
build/nbgrader/side_by_side.md.

The tests that run nbgrader are skipped where it is not installed (the newest CI job installs
it: requirements-instructor.txt).
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from rnn_course import check, settings
from rnn_course.tools import grading, untouched
from rnn_course.tools.release import solution_blocks, student_edition
from rnn_course.tools.runner import NOTEBOOKS_DIR, lessons

pytestmark = pytest.mark.long  # many notebooks: .ci/run runs it in its newest job only

needs_nbgrader = pytest.mark.skipif(
    importlib.util.find_spec("nbgrader") is None,
    reason="nbgrader is not installed (pip install -r requirements-instructor.txt)",
)

CONFIG = settings.REPO_ROOT / "nbgrader-course" / "nbgrader_config.py"
REPORT = settings.REPO_ROOT / "build" / "nbgrader" / "side_by_side.md"
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"
PATCH = "check.last_valid_output = lambda answer: answer  # a wrong answer made to pass\n\n\n"
LESSONS = {
    "01_fc_basics": ["mixed", "variant", "empty"],
    "04_rnn_from_scratch": ["mixed", "variant"],
    "05_nn_rnn": ["mixed", "variant", "empty", "patched"],
}
# What each kind of submission does to the lesson's three exercises, in order.
KINDS = {
    "mixed": ["right", "wrong", "empty"],
    "variant": ["variant"] * 3,
    "empty": ["empty"] * 3,
    "patched": ["right", "right", "patched"],
}
MARKS = {"right": 1, "variant": 1, "wrong": 0, "empty": 0, "patched": 0}


def instructor_env() -> dict[str, str]:
    """This environment without the course's settings (the MNIST folder kept, for lesson 01)."""
    keep = ("RNN_COURSE_DATA",)
    return {
        key: value
        for key, value in os.environ.items()
        if key in keep or not key.startswith(("RNN_COURSE_", "NBGRADER"))
    }


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run nbgrader in `course` as an instructor would: no course variable set."""
    command = [sys.executable, "-m", "nbgrader", *args]
    done = subprocess.run(command, cwd=course, env=instructor_env(), capture_output=True, text=True)
    assert done.returncode == 0, f"nbgrader {' '.join(args)}:\n{done.stderr[-3000:]}"
    return done


def solution_body(cell_source: str) -> str:
    """The lines of a solution cell's block, markers left out."""
    (begin, end, _), *_ = solution_blocks(cell_source)
    return "\n".join(cell_source.split("\n")[begin + 1 : end])


def answer(kind: str, name: str, released: str, solution: str) -> str:
    """A student's answer cell of `kind`, from the released stub and the lesson's solution."""
    body = solution_body(solution)
    if kind == "empty":
        return released
    if kind == "wrong":
        return released.replace(STUB, "    return None")
    if kind == "patched":
        return PATCH + released.replace(STUB, "    return output[:, -1]")
    right = released.replace(STUB, body)
    if kind == "right":
        return right
    right = right.replace(
        f"def {name}(", f"def _twice(value):\n    return 2 * value\n\n\ndef {name}("
    )
    lines = right.split("\n")
    at = next(n for n, line in enumerate(lines) if line.startswith(f"def {name}("))
    lines[at] += "  # my answer"
    return "\n".join(lines) + f"\n\n\nprint({name}.__name__, 'is defined')"


def submission(release: nbformat.NotebookNode, lesson, kind: str) -> nbformat.NotebookNode:
    notebook = nbformat.from_dict(release)
    solutions = {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in lesson.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }
    answers = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    for cell, what in zip(answers, KINDS[kind], strict=True):
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        name = grade_id.removesuffix("_answer")
        cell.source = answer(what, name, cell.source, solutions[grade_id])
    return notebook


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """A course folder with the shipped configuration and each lesson released."""
    course = tmp_path_factory.mktemp("course")
    (course / "nbgrader_config.py").write_text(CONFIG.read_text())
    for stem in LESSONS:
        assignment = f"lesson{stem[:2]}"
        source = course / "source" / assignment
        source.mkdir(parents=True)
        (source / f"{stem}.ipynb").symlink_to(NOTEBOOKS_DIR / f"{stem}.ipynb")
        nbgrader(course, "generate_assignment", assignment)
    return course


@pytest.fixture(scope="module")
def course(released) -> Path:
    """`released`, with each lesson's submissions autograded and their feedback generated."""
    course, seconds = released, {}
    for stem, kinds in LESSONS.items():
        assignment = f"lesson{stem[:2]}"
        release = nbformat.read(course / "release" / assignment / f"{stem}.ipynb", 4)
        lesson = nbformat.read(NOTEBOOKS_DIR / f"{stem}.ipynb", 4)
        for kind in kinds:
            folder = course / "submitted" / kind / assignment
            folder.mkdir(parents=True)
            nbformat.write(submission(release, lesson, kind), folder / f"{stem}.ipynb")
        start = time.perf_counter()
        nbgrader(course, "autograde", assignment)
        seconds[stem] = (time.perf_counter() - start) / len(kinds)
        nbgrader(course, "generate_feedback", assignment)
    (course / "autograde_seconds.json").write_text(json.dumps(seconds))
    return course


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory) -> dict[tuple[str, str], dict]:
    """The course grader's rows for the same submissions, by (lesson, kind)."""
    paths = sorted((course / "submitted").glob("*/*/*.ipynb"))
    out = tmp_path_factory.mktemp("grader") / "grades.csv"
    rows = grading.grade(paths, out=out, jobs=1, progress=False)  # one at a time, as nbgrader
    return {(Path(r["submission"]).stem, Path(r["submission"]).parts[-3]): r for r in rows}


def nbgrader_marks(course: Path, stem: str, kind: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "rnn-course") as gradebook:
        notebook = gradebook.find_submission_notebook(stem, f"lesson{stem[:2]}", kind)
        return {grade.name: grade.auto_score for grade in notebook.grades}


# ----------------------------------------------------------------------------- in process


def test_checks_are_strict_under_nbgrader_whatever_the_course_variable(monkeypatch, capsys):
    for value in ("fallback", "strict", ""):
        monkeypatch.setenv("RNN_COURSE_CHECKS", value)
        for run in ("autograde", "validate"):
            monkeypatch.setenv("NBGRADER_EXECUTION", run)
            assert settings.check_mode() == "strict"
        monkeypatch.delenv("NBGRADER_EXECUTION")
        assert settings.check_mode() == (value or "fallback")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    settings.setup()
    assert "| checks: strict |" in capsys.readouterr().out


def test_a_replaced_or_patched_check_or_mode_is_found(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    untouched.take()
    untouched.verify(check)
    with monkeypatch.context() as patch:
        patch.setattr(check, "last_valid_output", lambda answer: answer)
        with pytest.raises(untouched.ChecksChanged, match=r"rnn_course\.check\.last_valid_output"):
            untouched.verify(check)
    with monkeypatch.context() as patch:
        patch.setattr(check.last_valid_output, "reference", None)
        with pytest.raises(untouched.ChecksChanged, match=r"last_valid_output\.reference"):
            untouched.verify(check)
    with monkeypatch.context() as patch:
        patch.setattr(type(check.rnn_step), "replay", lambda self, record: None)
        with pytest.raises(untouched.ChecksChanged, match=r"Exercise\.replay"):
            untouched.verify(check)
    with monkeypatch.context() as patch:
        patch.setattr(settings, "check_mode", lambda: "fallback")
        with pytest.raises(untouched.ChecksChanged, match=r"settings\.check_mode"):
            untouched.verify(check)
    with pytest.raises(untouched.ChecksChanged, match="the name the test cells call"):
        untouched.verify(object())
    monkeypatch.delenv("NBGRADER_EXECUTION")
    monkeypatch.setenv("RNN_COURSE_CHECKS", "fallback")
    with pytest.raises(untouched.ChecksChanged, match="the check mode is 'fallback'"):
        untouched.verify(check)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    untouched.verify(check)


def test_every_lesson_is_an_assignment_of_the_shipped_course_folder():
    """nbgrader-course/source/lessonNN/NN_name.ipynb is a link to each lesson, and nothing else."""
    source = settings.REPO_ROOT / "nbgrader-course" / "source"
    found = sorted(p.relative_to(source) for p in source.rglob("*") if not p.is_dir())
    expected = sorted(Path(f"lesson{p.stem[:2]}") / p.name for p in lessons(NOTEBOOKS_DIR))
    assert found == expected
    for path in found:
        assert (source / path).is_symlink() and (source / path).resolve() == (
            NOTEBOOKS_DIR / path.name
        ).resolve()


# ----------------------------------------------------------------------------- real nbgrader


@needs_nbgrader
def test_the_release_is_the_student_edition(released):
    """Cell for cell the course's student edition (nbgrader adds only its own metadata)."""
    added = {"deletable", "editable"}
    for stem in LESSONS:
        release = nbformat.read(released / "release" / f"lesson{stem[:2]}" / f"{stem}.ipynb", 4)
        edition = student_edition(nbformat.read(NOTEBOOKS_DIR / f"{stem}.ipynb", 4))
        assert release.metadata == edition.metadata
        assert [(c.id, c.cell_type, c.source) for c in release.cells] == [
            (c.id, c.cell_type, c.source) for c in edition.cells
        ]
        for ours, theirs in zip(release.cells, edition.cells):
            meta = {k: v for k, v in ours.metadata.items() if k not in added}
            if "nbgrader" in meta:
                meta["nbgrader"] = {
                    k: v for k, v in meta["nbgrader"].items() if k not in ("checksum", "cell_type")
                }
            assert meta == theirs.metadata, ours.id
        assert f"/exercises/{stem}.ipynb)" in release.cells[0].source


def write_side_by_side(course: Path, graded: dict, table: list) -> None:
    """The marks of both and their seconds per notebook, as Markdown, in REPORT."""
    autograde = json.loads((course / "autograde_seconds.json").read_text())
    lines = [
        "| lesson | submission | nbgrader marks | course grader marks |",
        "|---|---|---|---|",
        *(
            f"| {stem[:2]} | {kind} | {sum(ours.values()):g}/{len(ours)} "
            f"| {sum(marks.values()):g}/{len(marks)} |"
            for stem, kind, _, ours, marks, _ in table
        ),
        "",
        "| lesson | nbgrader autograde, s per notebook | course grader, s per notebook |",
        "|---|---|---|",
    ]
    for stem, kinds in LESSONS.items():
        ours = sum(graded[(stem, kind)]["time_s"] for kind in kinds) / len(kinds)
        lines.append(f"| {stem[:2]} | {autograde[stem]:.1f} | {ours:.1f} |")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")


@needs_nbgrader
def test_nbgrader_and_the_course_grader_give_the_same_marks(course, graded):
    table = []
    for stem, kinds in LESSONS.items():
        for kind in kinds:
            ours = nbgrader_marks(course, stem, kind)
            row = graded[(stem, kind)]
            names = list(row["marks"])
            expected = dict(zip(names, (MARKS[what] for what in KINDS[kind])))
            table.append((stem, kind, expected, ours, row["marks"], row["messages"]))
    write_side_by_side(course, graded, table)
    wrong = [line for line in table if not line[2] == line[3] == line[4]]
    assert not wrong, "\n".join(
        f"{stem} {kind}: expected {expected}, nbgrader {ours}, grader {marks} ({messages})"
        for stem, kind, expected, ours, marks, messages in wrong
    )


@needs_nbgrader
def test_a_failed_check_costs_its_mark_and_nothing_else(course):
    """Feedback shows one FAIL per wrong exercise, on one line, and no other error; its
    figures carry their alt text."""
    for stem in LESSONS:
        autograded = course / "autograded" / "mixed" / f"lesson{stem[:2]}" / f"{stem}.ipynb"
        notebook = nbformat.read(autograded, 4)
        errors = [
            (cell.metadata.get("nbgrader", {}).get("grade_id"), output)
            for cell in notebook.cells
            for output in cell.get("outputs", [])
            if output.output_type == "error"
        ]
        failing = sum(what != "right" for what in KINDS["mixed"])
        assert len(errors) == failing, [(g, o.evalue[:200]) for g, o in errors]
        for grade_id, output in errors:
            assert grade_id is not None, f"{stem}: an error outside the test cells: {output.evalue}"
            assert output.traceback == [f"FAIL {grade_id}: {output.evalue}"]
        html = (course / "feedback" / "mixed" / f"lesson{stem[:2]}" / f"{stem}.html").read_text()
        assert "white-space: pre-wrap" in html and f"FAIL {errors[0][0]}" in html
        figures = [tag for tag in re.findall(r"<img\b[^>]*>", html) if "data:image/png" in tag]
        assert figures or stem.startswith("05"), f"{stem}: no figure in the feedback"
        assert all(re.search(r'\balt="[^"]', tag) for tag in figures), (
            f"{stem}: a figure without alt text in the feedback"
        )


@needs_nbgrader
def test_a_patched_check_scores_zero_and_says_why(course):
    autograded = course / "autograded" / "patched" / "lesson05" / "05_nn_rnn.ipynb"
    cell = next(
        c
        for c in nbformat.read(autograded, 4).cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "last_valid_output"
    )
    (error,) = [o for o in cell.outputs if o.output_type == "error"]
    assert error.ename == "ChecksChanged"
    assert re.search(
        r"changed the course's checks \(rnn_course\.check\.last_valid_output", error.evalue
    )


@needs_nbgrader
def test_validate_reports_the_unfinished_exercises(course):
    release = course / "release" / "lesson05" / "05_nn_rnn.ipynb"
    command = [sys.executable, "-m", "nbgrader", "validate", str(release)]
    done = subprocess.run(command, cwd=course, env=instructor_env(), capture_output=True, text=True)
    assert "VALIDATION FAILED ON 3 CELL(S)" in done.stdout, (
        done.stdout[-2000:] + done.stderr[-2000:]
    )
