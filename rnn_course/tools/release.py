"""`release`: the student editions in `exercises/`, made from the lessons in `notebooks/`.

A student edition is the lesson with each solution block (the lines from `### BEGIN SOLUTION`
to `### END SOLUTION`, nbgrader's markers) replaced by `# YOUR CODE HERE` and
`raise NotImplementedError()` at the markers' indentation, its first answer cell opened by one
line that says what the grader reads (`GRADED_NOTE`), and its outputs, execution counts and
run-all stamp removed. Everything else is kept, cell ids included, so the grader
(`rnn_course.tools.grading`) can find a student's answers again.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from ..settings import REPO_ROOT
from .colab import retarget_badge
from .notebook import BEGIN_SOLUTION, END_SOLUTION, STAMP_KEY
from .runner import NOTEBOOKS_DIR, lessons

STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
# At the top of the first answer cell of a student edition: what the grader takes.
GRADED_NOTE = (
    "# Graded: each answer cell like this one, whole (your function and any helper, import or "
    "try-out line you add to it); changes to the other cells are not graded."
)
EXERCISES_DIR = REPO_ROOT / "exercises"


def solution_blocks(source: str) -> list[tuple[int, int, str]]:
    """The solution blocks of a cell's source: (first line, last line, indentation) of each.

    Line numbers count from 0 and include the marker lines. Raises ValueError when the markers
    are unbalanced.
    """
    lines = source.split("\n")
    blocks, begin = [], None
    for number, line in enumerate(lines):
        marker = line.strip()
        if marker == BEGIN_SOLUTION:
            if begin is not None:
                raise ValueError(f"line {number + 1}: {BEGIN_SOLUTION} inside another block")
            begin = number
        elif marker == END_SOLUTION:
            if begin is None:
                raise ValueError(f"line {number + 1}: {END_SOLUTION} without {BEGIN_SOLUTION}")
            indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
            blocks.append((begin, number, indent))
            begin = None
    if begin is not None:
        raise ValueError(f"line {begin + 1}: {BEGIN_SOLUTION} without {END_SOLUTION}")
    return blocks


def fill_solutions(
    source: str, answers: list[list[str] | None]
) -> tuple[str, list[tuple[int, int]]]:
    """Replace each solution block of `source` (markers included) by the matching answer lines.

    An answer of None gives the stub (`# YOUR CODE HERE` and `raise NotImplementedError()` at
    the markers' indentation). Returns the new source and, for each block, the range of lines
    (start, stop) that the answer occupies in it.
    """
    blocks = solution_blocks(source)
    if len(answers) != len(blocks):
        raise ValueError(f"{len(answers)} answers for {len(blocks)} solution blocks")
    lines = source.split("\n")
    result: list[str] = []
    ranges = []
    previous_end = -1
    for (begin, end, indent), answer in zip(blocks, answers):
        result += lines[previous_end + 1 : begin]
        filled = [indent + line for line in STUB] if answer is None else answer
        ranges.append((len(result), len(result) + len(filled)))
        result += filled
        previous_end = end
    result += lines[previous_end + 1 :]
    return "\n".join(result), ranges


def clear_outputs(notebook: nbformat.NotebookNode) -> None:
    """Remove outputs, execution counts, cell timings and the run-all stamp, in place."""
    notebook.metadata.pop(STAMP_KEY, None)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)


def student_edition(
    lesson: nbformat.NotebookNode, folder: str = "exercises"
) -> nbformat.NotebookNode:
    """A copy of `lesson` with every solution block stubbed out and the outputs cleared; its
    badge opens the edition's own file in `folder`."""
    edition = copy.deepcopy(lesson)
    clear_outputs(edition)
    for number, cell in enumerate(edition.cells):
        if cell.cell_type == "code":
            try:
                blocks = solution_blocks(cell.source)
            except ValueError as err:
                raise ValueError(f"cell {number}: {err}") from None
            cell.source = fill_solutions(cell.source, [None] * len(blocks))[0]
    answers = [
        c for c in edition.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")
    ]
    if answers:
        answers[0].source = f"{GRADED_NOTE}\n{answers[0].source}"
    retarget_badge(edition, folder)  # the Colab badge opens the student edition itself
    return edition


def release(
    lessons_dir: Path = NOTEBOOKS_DIR, out_dir: Path = EXERCISES_DIR
) -> tuple[list[Path], list[Path]]:
    """Write the student edition of every lesson in `lessons_dir` to `out_dir`.

    Student editions in `out_dir` whose lesson no longer exists are removed. Returns the
    files written and the files removed.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in lessons(Path(lessons_dir)):
        try:
            edition = student_edition(nbformat.read(path, as_version=4))
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
        nbformat.write(edition, out_dir / path.name)
        written.append(out_dir / path.name)
    stale = [p for p in lessons(out_dir) if p not in written]
    for path in stale:
        path.unlink()
    return written, stale
