"""`grade`: execute students' notebooks fairly and collect every exercise's verdict.

A submission is graded from the instructor's copy of its lesson (`notebooks/`, matched by the
`NN_` prefix or the name of the file): the student's answers, the lines that took the place of
each stub of the student edition (`rnn_course.tools.release`), go into the solution blocks, and
that notebook runs in a fresh kernel, in quick mode, in an empty temporary folder. Nothing
else the student wrote runs, so editing a check cell, redefining a check or patching
`rnn_course` outside the solution blocks has no effect; the cells changed outside the blocks
are reported. Each check shows its verdict under `VERDICT_MIME`; an exercise scores 1 when its
check cell ran to the end and every verdict it showed passed, 0 otherwise.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from difflib import SequenceMatcher
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from ..check._core import VERDICT_MIME
from ..settings import QUICK_ENV
from .release import STUB, clear_outputs, fill_solutions, solution_blocks, student_edition
from .runner import NOTEBOOKS_DIR, lessons

CHECK_CELL = re.compile(r"check\.(\w+)\(.*\)", re.S)
TIMEOUT_ERROR = "CellTimeout"
MAX_TIMEOUTS = 3  # per submission: a kernel that ignores interrupts must not cost hours
MAX_OUTPUT_CHARS = 1_000_000  # per submission; verdicts and errors are always kept
REVIEW = re.compile(r"rnn_course|VERDICT|display|sys\.modules|importlib|__import__|setattr")


class _TooSlow(Exception):
    """Too many cells of one submission ran over the time limit."""


def submissions(paths: list[Path]) -> list[Path]:
    """The notebooks to grade: each file as given, and the `*.ipynb` inside each folder."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(path)
    return found


def find_lesson(submission: Path, lesson_paths: list[Path]) -> Path | None:
    """The lesson a submission answers: same `NN_` prefix, or else its name in the file name."""
    prefix = re.match(r"(\d\d)(?!\d)", submission.stem)
    if prefix:
        found = [p for p in lesson_paths if p.stem[:2] == prefix.group(1)]
    else:
        found = [p for p in lesson_paths if p.stem[3:] and p.stem[3:] in submission.stem]
    return found[0] if len(found) == 1 else None


def exercises(lesson: nbformat.NotebookNode) -> dict[int, str]:
    """The check cells of a lesson (`check.NAME(...)`): {cell index: exercise name}, in order."""
    return {
        index: match.group(1)
        for index, cell in enumerate(lesson.cells)
        if cell.cell_type == "code" and (match := CHECK_CELL.fullmatch(cell.source.strip()))
    }


def _match_cells(lesson_cells: list, submitted_cells: list) -> list[int | None]:
    """For each code cell of the student edition, the submitted cell it became.

    A cell is found by its id, else as the most alike unmatched code cell (ids change when a
    lesson's cells are recreated, or in some editors).
    """
    code = [k for k, cell in enumerate(submitted_cells) if cell.get("cell_type") == "code"]
    by_id = {submitted_cells[k].get("id"): k for k in code if submitted_cells[k].get("id")}
    match: list[int | None] = [None] * len(lesson_cells)
    for n, cell in enumerate(lesson_cells):
        if cell.cell_type == "code" and cell.get("id") in by_id:
            match[n] = by_id[cell.get("id")]
    for n, cell in enumerate(lesson_cells):
        if cell.cell_type == "code" and match[n] is None:
            free = [k for k in code if k not in match]
            scores = [(_kept(cell.source, submitted_cells[k].source), -k) for k in free]
            score, best = max(scores, default=(0.0, 0))
            if score >= 0.5:
                match[n] = -best
    return match


def _kept(released: str, submitted: str) -> float:
    """The share of a released cell's lines (blank lines and stubs aside) kept in `submitted`."""
    lines = [line for line in released.split("\n") if line.strip() not in ("", *STUB)]
    other = [line for line in submitted.split("\n") if line.strip()]
    blocks = SequenceMatcher(None, lines, other, autojunk=False).get_matching_blocks()
    return sum(block.size for block in blocks) / len(lines) if lines else 0.0


def extract_answers(
    released: str, ranges: list[tuple[int, int]], submitted: str
) -> tuple[list[list[str]], bool]:
    """The student's answers: the lines of `submitted` that stand where `released` has stubs.

    `ranges` are the stubs' line ranges in `released` (from `fill_solutions`). Also returns
    whether the lines around the stubs differ from the released ones.
    """
    expected, got = released.split("\n"), submitted.split("\n")
    blocks = SequenceMatcher(None, expected, got, autojunk=False).get_matching_blocks()
    answers, spans = [], []
    for start, stop in ranges:
        # the last line kept before the stub and the first one kept after it anchor the answer
        begin = max((j + min(n, start - i) for i, j, n in blocks if i < start), default=0)
        end = min((j + max(0, stop - i) for i, j, n in blocks if i + n > stop), default=len(got))
        end = max(begin, end)
        answers.append(got[begin:end])
        spans.append((begin, end))
    edges = [0] + [x for span in spans for x in span] + [len(got)]
    released_edges = [0] + [x for span in ranges for x in span] + [len(expected)]
    outside = [got[a:b] for a, b in zip(edges[::2], edges[1::2])]
    released_outside = [expected[a:b] for a, b in zip(released_edges[::2], released_edges[1::2])]
    return answers, outside != released_outside


def grading_copy(
    lesson: nbformat.NotebookNode, submitted: nbformat.NotebookNode
) -> tuple[nbformat.NotebookNode, dict, list[str]]:
    """The lesson with the student's answers in its solution blocks, outputs cleared.

    Returns it, the code cells changed outside the solution blocks (numbered from 1 in the
    lesson: {"changed": [...], "deleted": [...], "added": n}) and notes for the instructor.
    """
    notebook = copy.deepcopy(lesson)
    clear_outputs(notebook)
    match = _match_cells(student_edition(lesson).cells, submitted.cells)
    changes: dict = {"changed": [], "deleted": [], "added": 0}
    notes = []
    for index, (cell, k) in enumerate(zip(notebook.cells, match)):
        if cell.cell_type != "code":
            continue
        if k is None:
            changes["deleted"].append(index + 1)
        student_source = submitted.cells[k].source if k is not None else None
        blocks = solution_blocks(cell.source)
        if not blocks:
            if student_source is not None and student_source != cell.source:
                changes["changed"].append(index + 1)
            continue
        released, ranges = fill_solutions(cell.source, [None] * len(blocks))
        answers: list[list[str] | None] = [None] * len(blocks)
        if student_source is not None:
            found, changed = extract_answers(released, ranges, student_source)
            if changed:
                changes["changed"].append(index + 1)
            for number, (answer, (_, _, indent)) in enumerate(zip(found, blocks)):
                if any(line.strip() and not line.startswith(indent) for line in answer):
                    notes.append(
                        f"cell {index + 1}: answer {number + 1} is indented less than its "
                        "solution block, so it would run outside the function: not used"
                    )
                    continue
                answers[number] = answer
                if REVIEW.search("\n".join(answer)):
                    notes.append(
                        f"cell {index + 1}: the answer reaches into the grader's tools; review it"
                    )
        cell.source = fill_solutions(cell.source, answers)[0]
    changes["added"] = sum(
        1
        for k, cell in enumerate(submitted.cells)
        if cell.get("cell_type") == "code" and k not in match
    )
    return notebook, changes, notes


class _Client(NotebookClient):
    """nbclient with a cap on the output it keeps (verdicts and errors are always kept)."""

    output_chars = 0
    truncated = False

    def output(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or display_id or out.output_type == "error":
            return out
        data = out.get("data", {})
        if VERDICT_MIME in data:
            return out
        self.output_chars += len(out.get("text", "")) + sum(len(str(v)) for v in data.values())
        if self.output_chars > MAX_OUTPUT_CHARS and outs and outs[-1] is out:
            outs.pop()
            self.truncated = True
            return None
        return out


def execute(notebook: nbformat.NotebookNode, timeout: int) -> tuple[dict[int, dict], str, bool]:
    """Run `notebook` in place: fresh kernel, quick mode, empty temporary working folder.

    A cell over `timeout` seconds is interrupted and the run goes on (up to `MAX_TIMEOUTS`
    times); errors do not stop it. The kernel's own stdout and stderr are discarded.
    Returns each executed cell's reply content ({index: {"status", "ename", "evalue"}}), why
    the run stopped early ("" when it did not) and whether output was dropped.
    """
    replies: dict[int, dict] = {}

    def on_cell_executed(cell, cell_index, execute_reply):
        replies[cell_index] = (execute_reply or {}).get("content", {})
        timeouts = sum(reply.get("ename") == TIMEOUT_ERROR for reply in replies.values())
        if timeouts >= MAX_TIMEOUTS:
            raise _TooSlow(f"{timeouts} cells ran over {timeout} s: the rest was not run")

    env = {**os.environ, QUICK_ENV: "1", "TQDM_DISABLE": "1"}
    with tempfile.TemporaryDirectory(
        prefix="rnn-course-grade-", ignore_cleanup_errors=True
    ) as workdir:
        client = _Client(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={
                "ename": TIMEOUT_ERROR,
                "evalue": f"the cell ran over {timeout} s and was interrupted",
                "traceback": [],
            },
            record_timing=False,
            shutdown_kernel="immediate",
            on_cell_executed=on_cell_executed,
            resources={"metadata": {"path": workdir}},
        )
        stopped = ""
        try:
            client.execute(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except DeadKernelError:
            stopped = "the kernel died (os._exit, a crash or out of memory?)"
        except (_TooSlow, CellTimeoutError) as err:
            stopped = str(err).splitlines()[0]
    return replies, stopped, client.truncated


def verdicts(
    notebook: nbformat.NotebookNode, checks: dict[int, str], replies: dict[int, dict], stopped: str
) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Marks and messages per exercise from an executed grading copy, and unusual events."""
    marks, messages, events = {}, {}, []
    for index, name in checks.items():
        shown = [
            output["data"][VERDICT_MIME]
            for output in notebook.cells[index].get("outputs", [])
            if VERDICT_MIME in output.get("data", {})
        ]
        shown = [v for v in shown if isinstance(v, dict) and v.get("exercise") == name]
        reply = replies.get(index)
        passed = bool(shown) and all(v.get("passed") is True for v in shown)
        marks[name] = int(passed and reply is not None and reply.get("status") == "ok")
        if reply is None:
            messages[name] = f"not checked: {stopped or 'the check cell did not run'}"
        elif reply.get("status") == "ok" or reply.get("ename") == "CheckFailed":
            messages[name] = (
                str(shown[-1].get("message")) if shown else "the check showed no verdict"
            )
        else:
            messages[name] = (
                f"the check did not finish: {reply.get('ename')}: {reply.get('evalue')}"
            )
            events.append(f"{name}: {reply.get('ename')}")
    return marks, messages, events


def grade_one(path: Path, lesson_paths: list[Path], timeout: int = 120) -> dict:
    """Grade one submitted notebook; never raises, never writes to `path`. Returns its row."""
    start = time.perf_counter()
    row: dict = {"submission": str(path), "lesson": None, "marks": {}, "total": 0, "max": 0}
    row.update(graded=False, error="", messages={}, outside_changes={}, notes=[])
    try:
        lesson_path = find_lesson(path, lesson_paths)
        if lesson_path is None:
            row["error"] = "cannot tell which lesson this is: name it like NN_name.ipynb"
            return row
        lesson = nbformat.read(lesson_path, as_version=4)
        checks = exercises(lesson)
        row.update(lesson=lesson_path.stem, max=len(checks))
        row["marks"] = dict.fromkeys(checks.values(), 0)
        try:
            submitted = nbformat.read(path, as_version=4)
            notebook, row["outside_changes"], row["notes"] = grading_copy(lesson, submitted)
        except Exception as err:
            row["error"] = f"not a readable notebook: {type(err).__name__}: {err}"[:300]
            return row
        replies, stopped, truncated = execute(notebook, timeout)
        row["marks"], row["messages"], events = verdicts(notebook, checks, replies, stopped)
        row["total"] = sum(row["marks"].values())
        row["graded"] = not stopped
        if truncated:
            events.append(f"output over {MAX_OUTPUT_CHARS} characters dropped")
        row["error"] = "; ".join(([stopped] if stopped else []) + events)
    except Exception as err:  # a bug in grading one submission must not stop the batch
        row["error"] = f"grading failed: {type(err).__name__}: {err}"[:300]
    finally:
        row["time_s"] = round(time.perf_counter() - start, 1)
    return row


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_results(rows: list[dict], out: Path) -> None:
    """Write the rows to `out` (CSV: one column per exercise) and the full rows to JSON beside it."""
    names = list(dict.fromkeys(name for row in rows for name in row["marks"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", "lesson", *names, "total", "max", "error"])
    for row in rows:
        marks = [row["marks"].get(name, "") for name in names]
        writer.writerow(
            [row["submission"], row["lesson"] or "", *marks, row["total"], row["max"], row["error"]]
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(out, buffer.getvalue())
    _write_atomically(out.with_suffix(".json"), json.dumps(rows, indent=2) + "\n")


def format_table(rows: list[dict]) -> str:
    """A plain-text table per lesson: one row per submission, one column per exercise, total."""
    tables = []
    for lesson in dict.fromkeys(row["lesson"] for row in rows):
        group = [row for row in rows if row["lesson"] == lesson]
        names = list(group[0]["marks"])
        table = [["submission", *names, "total", "error"]]
        for row in group:
            marks = [str(row["marks"].get(name, "")) for name in names]
            table.append(
                [row["submission"], *marks, f"{row['total']}/{row['max']}", row["error"][:100]]
            )
        widths = [max(len(line[i]) for line in table) for i in range(len(table[0]) - 1)]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(line, widths)) + "  " + line[-1] for line in table
        ]
        tables.append(f"lesson {lesson or '?'}\n" + "\n".join(line.rstrip() for line in lines))
    return "\n\n".join(tables)


def grade(
    paths: list[Path],
    lessons_dir: Path = NOTEBOOKS_DIR,
    out: Path = Path("grades.csv"),
    timeout: int = 120,
    echo: Callable[[str], None] = print,
) -> list[dict]:
    """Grade every submission in `paths` (files or folders), writing `out` after each one."""
    out = Path(out)
    if out.suffix == ".json":
        raise ValueError(f"out is the CSV file (the JSON goes beside it), got {out}")
    lesson_paths = lessons(Path(lessons_dir))
    rows: list[dict] = []
    for path in submissions(paths):
        echo(f"grading {path} ...")
        rows.append(grade_one(path, lesson_paths, timeout))
        row = rows[-1]
        echo(f"  {row['total']}/{row['max']} in {row['time_s']} s {row['error']}".rstrip())
        write_results(rows, out)
    return rows
