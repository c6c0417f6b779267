"""What every lesson must respect, read from the notebooks themselves (COURSE.md, "Style").

- nbval's markers are cell tags, never `# NBVAL_` comments a student would see, and a cell whose
  output nbval compares prints only the course's own text: no error, warning, traceback,
  version string or library repr, which change from one release to the next.
- Every `assert` says what it expected and what it saw.
- Exercises carry nbgrader's metadata: the solution cell and the check cell after it, whose code
  is `NAME = check.NAME(NAME)`.
- Stored outputs hold no error, no warning and no progress bar.
- Every figure carries alt text: the lessons show figures with `show(alt)`, never `plt.show()`.
"""

import ast
import json
import re

import nbformat
import pytest

from rnn_course.check import exercises
from rnn_course.tools.notebook import BEGIN_SOLUTION
from rnn_course.tools.runner import lessons

LESSONS = lessons()
IDS = [path.stem for path in LESSONS]
CHECKED = "nbval-check-output"
LIBRARY_TEXT = re.compile(
    r"Error\b|Traceback|Warning|warn\(|\btorch \d+\.\d|\bnumpy \d+\.\d|\bnp\.(float|int)\d*\("
    r"|\bin_features=|^\s*\(\d+\): \w+\(",
    re.M,
)
PROGRESS_BAR = re.compile(r"\d+%\|.*\||it/s\]")


def code_cells(path):
    notebook = nbformat.read(path, as_version=4)
    return [(index, cell) for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]


def output_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(str(output.get("data", {}).get("text/plain", "")))
        parts.append(output.get("ename", "") + output.get("evalue", ""))
    return "\n".join(parts)


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_nbval_markers_are_tags_not_comments(path):
    commented = [i for i, cell in code_cells(path) if re.search(r"#\s*NBVAL_", cell.source)]
    assert not commented, f"{path.name}: cells {commented} carry '# NBVAL_' comments; use tags"


def compared_library_text(notebook) -> list[str]:
    """The cells whose compared output holds something other than the course's own text."""
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or CHECKED not in cell.metadata.get("tags", []):
            continue
        kinds = {output.output_type for output in cell.outputs}
        streams = {output.get("name") for output in cell.outputs if output.output_type == "stream"}
        if not (kinds <= {"stream", "execute_result"} and streams <= {"stdout"}):
            problems.append(f"cell {index}: nbval compares output of kinds {sorted(kinds)}")
        elif found := LIBRARY_TEXT.search(output_text(cell)):
            problems.append(
                f"cell {index}: nbval compares text a library writes: {found.group()!r}"
            )
    return problems


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_compared_outputs_hold_only_the_courses_own_text(path):
    problems = compared_library_text(nbformat.read(path, as_version=4))
    assert not problems, (
        f"{path.name}: {problems}; assert on what the lesson teaches (the exception type, the "
        "shapes) and leave that output unchecked"
    )


@pytest.mark.parametrize(
    "output",
    [
        nbformat.v4.new_output("error", ename="RuntimeError", evalue="x", traceback=[]),
        nbformat.v4.new_output("stream", name="stdout", text="RuntimeError: mat1 and mat2 ..."),
        nbformat.v4.new_output("stream", name="stdout", text="Traceback (most recent call last)"),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: deprecated"),
        nbformat.v4.new_output("stream", name="stdout", text="mean: np.float64(0.5)"),
        nbformat.v4.new_output("stream", name="stdout", text="torch 2.14.1 | numpy 2.4.6"),
        nbformat.v4.new_output(
            "execute_result", data={"text/plain": "Linear(in_features=3, out_features=1)"}
        ),
    ],
)
def test_library_text_in_a_compared_output_is_caught(output):
    cell = nbformat.v4.new_code_cell("x", metadata={"tags": [CHECKED]}, outputs=[output])
    assert compared_library_text(nbformat.v4.new_notebook(cells=[cell]))
    cell.metadata.tags = []  # unchecked, the same output is allowed
    assert not compared_library_text(nbformat.v4.new_notebook(cells=[cell]))


def parsed(cell) -> ast.Module:
    """A code cell's syntax tree; an IPython magic becomes `pass`, keeping the block it is in."""
    return ast.parse(
        "\n".join(
            line[: len(line) - len(line.lstrip())] + "pass"
            if line.lstrip().startswith(("%", "!"))
            else line
            for line in cell.source.split("\n")
        )
    )


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_every_assert_has_a_message(path):
    for index, cell in code_cells(path):
        bare = [
            node.lineno
            for node in ast.walk(parsed(cell))
            if isinstance(node, ast.Assert) and node.msg is None
        ]
        assert not bare, (
            f"{path.name} cell {index}, line {bare[0]}: an assert without a message (say what "
            "was expected and what was seen)"
        )


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_exercises_carry_nbgrader_metadata(path):
    cells = code_cells(path)
    solutions = [k for k, (_, cell) in enumerate(cells) if BEGIN_SOLUTION in cell.source]
    names = []
    for k in solutions:
        (index, solution), (check_index, check_cell) = cells[k], cells[k + 1]
        name = check_cell.metadata.get("nbgrader", {}).get("grade_id")
        assert name in exercises() and check_cell.metadata.nbgrader.get("grade") is True, (
            f"{path.name} cell {check_index}: the cell after a solution must be its check, with "
            f"nbgrader metadata grade: true and grade_id NAME (got {name!r})"
        )
        assert re.fullmatch(rf"({name} = )?check\.{name}\({name}\)", check_cell.source), (
            f"{path.name} cell {check_index}: a check cell is `{name} = check.{name}({name})`"
        )
        grading = solution.metadata.get("nbgrader", {})
        assert grading.get("solution") is True and grading.get("grade_id") == f"{name}_answer", (
            f"{path.name} cell {index}: a solution cell needs nbgrader's metadata, solution: true "
            f"and grade_id {name}_answer"
        )
        names.append(name)
    exercise_cells = {k for s in solutions for k in (s, s + 1)}
    for k, (index, cell) in enumerate(cells):
        if k in exercise_cells:
            continue
        assert not re.search(r"\bcheck\.\w+\(", cell.source), (
            f"{path.name} cell {index}: a check call outside an exercise's check cell"
        )
        assert "nbgrader" not in cell.metadata, (
            f"{path.name} cell {index}: nbgrader metadata on a cell that is not an exercise's"
        )
    assert 2 <= len(names) <= 4, f"{path.name}: {len(names)} exercises, expected 2 to 4"
    assert len(set(names)) == len(names), f"{path.name}: an exercise is checked twice"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_stored_outputs_hold_no_error_warning_or_progress_bar(path):
    for index, cell in code_cells(path):
        for output in cell.outputs:
            assert output.output_type != "error", f"{path.name} cell {index}: a stored error"
            text = output.get("text", "") if output.output_type == "stream" else ""
            assert not (output.get("name") == "stderr" and re.search(r"Warning|Traceback", text)), (
                f"{path.name} cell {index}: a warning on stderr: {text[:200]!r}"
            )
            shown = text + str(output.get("data", {}).get("text/plain", ""))
            assert not PROGRESS_BAR.search(shown), (
                f"{path.name} cell {index}: a progress bar is stored as text"
            )
            assert (
                "application/vnd.jupyter.widget-view+json" not in json.dumps(output.get("data", {}))
                or "ipywidgets" in cell.source
                or "interact" in cell.source
            ), f"{path.name} cell {index}: a stored widget (it renders as text on GitHub)"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_every_figure_has_alt_text(path):
    for index, cell in code_cells(path):
        assert "plt.show()" not in cell.source, (
            f"{path.name} cell {index}: plt.show() draws a figure without alt text; use show(alt)"
        )
        for output in cell.outputs:
            if "image/png" in output.get("data", {}):
                alt = output.get("metadata", {}).get("image/png", {}).get("alt", "")
                assert alt.strip(), f"{path.name} cell {index}: a stored figure without alt text"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_lessons_call_exercises_positionally(path):
    """The checks call an answer positionally, so any parameter names pass; a keyword call in a
    later cell would then fail with a name the statement did not make the student use."""
    answers = {cell.metadata.get("nbgrader", {}).get("grade_id") for _, cell in code_cells(path)}
    for index, cell in code_cells(path):
        keyword_calls = [
            f"{node.func.id}(..., {node.keywords[0].arg}=...)"
            for node in ast.walk(parsed(cell))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in answers
            and node.keywords
        ]
        assert not keyword_calls, (
            f"{path.name} cell {index}: {keyword_calls[0]}: call an exercise's answer "
            "positionally, as its check does"
        )
