"""What passes in the notebook passes in the grade, and the grading kernel holds no reference.

Every exercise of every lesson gets an honest variant of its published answer cell, as students
write them: a typed `def` line with a comment, the work in a helper, an import inside the cell,
and a line after the function that tries it out. Every lesson's variants are graded for real and
must get full marks (among them a module and an optimizer changed in place, a package function
the kernel loses, a module whose forward is forbidden, a model class of a check module), and one
untouched student edition none; the grading copy takes the variants whole, and every argument
any check hands an answer reaches a process that imports the kernel's package
(`kernel_package`), which holds no reference.
"""

import ast
import pickle
import subprocess
import sys

import nbformat
import pytest

from rnn_course.check import exercises
from rnn_course.check._core import Local, Runner
from rnn_course.tools.grading import (
    TAUGHT,
    _Pickler,
    answer_cells,
    check_cells,
    grade,
    grading_copy,
    kernel_package,
)
from rnn_course.tools.release import student_edition
from rnn_course.tools.runner import NOTEBOOKS_DIR

pytestmark = pytest.mark.long  # many notebooks: .ci/run runs it in its newest job only

LESSON_PATHS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def variant(source: str, name: str) -> str:
    """An honest rewrite of the published answer cell `source` of exercise `name`."""
    tree = ast.parse(source)
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    function.name = f"_my_{name}"
    names = [arg.arg for arg in function.args.args]
    typed = ", ".join(
        f"{arg.arg}: object" + (f" = {ast.unparse(default)}" if default is not None else "")
        for arg, default in zip(
            function.args.args,
            [None] * (len(names) - len(function.args.defaults)) + function.args.defaults,
        )
    )
    return (
        "import math  # an import in the cell\n\n\n"
        + ast.unparse(tree)
        + f"\n\n\ndef {name}({typed}) -> object:  # my answer, typed\n"
        + f"    return _my_{name}({', '.join(names)})\n\n\n"
        + f"print({name}, math.pi)  # tried out\n"
    )


def variants(lesson: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student edition with every answer cell an honest variant of the published one."""
    edition = student_edition(lesson)
    for name, index in answer_cells(lesson).items():
        edition.cells[index].source = variant(lesson.cells[index].source, name)
    return edition


@pytest.mark.parametrize("path", LESSON_PATHS, ids=lambda path: path.stem[:2])
def test_the_grading_copy_takes_each_variant_whole(path):
    lesson = nbformat.read(path, as_version=4)
    submitted = variants(lesson)
    notebook, changes, notes = grading_copy(lesson, submitted)
    for index in answer_cells(lesson).values():
        assert notebook.cells[index].source == submitted.cells[index].source
    assert changes == {"changed": [], "deleted": [], "added": 0} and notes == []


def test_honest_variants_get_full_marks(tmp_path):
    for path in LESSON_PATHS:
        nbformat.write(variants(nbformat.read(path, as_version=4)), tmp_path / path.name)
    nbformat.write(
        student_edition(nbformat.read(LESSON_PATHS[1], as_version=4)),
        tmp_path / f"{LESSON_PATHS[1].stem}_edition.ipynb",
    )
    rows = grade([tmp_path], NOTEBOOKS_DIR, tmp_path / "grades.csv", jobs=2, progress=False)
    assert len(rows) == len(LESSON_PATHS) + 1
    for row in rows:
        if row["submission"].endswith("_edition.ipynb"):
            assert row["graded"] and row["max"] >= 2 and row["total"] == 0, row
        else:
            assert row["graded"] and row["total"] == row["max"], (row["lesson"], row["messages"])
            assert row["notes"] == [] and row["matches_solution"] == []


class _Spy(Runner):
    """The reference, called here; keeps the arguments of every call."""

    def __init__(self, answer, calls: list):
        self.local, self.calls = Local(answer), calls

    def about(self):
        return self.local.about()

    def run(self, args, mutable, with_grads):
        self.calls.append(list(args))
        return self.local.run(args, mutable, with_grads)

    def grads(self, grad_outputs):
        return self.local.grads(grad_outputs)


KERNEL = """
import pickle, sys, types
import rnn_course.check as check
from rnn_course.check import lesson01, lesson02, lesson03, lesson04, lesson05, lesson06
from rnn_course.check import lesson07, lesson08, lesson09, lesson10
modules = [m for m in list(sys.modules.values()) if m and m.__name__.startswith("rnn_course")]
functions = sorted(
    f"{m.__name__}.{n}" for m in modules if m.__name__.startswith("rnn_course.check.lesson")
    for n, v in vars(m).items() if isinstance(v, types.FunctionType)
)
print(functions)
print(len(pickle.load(open(sys.argv[1], "rb"))))
"""


def test_every_argument_reaches_a_kernel_package_that_holds_no_reference(tmp_path):
    calls: list = []
    for exercise in exercises().values():
        assert exercise.judge(_Spy(lambda *a, e=exercise: e.reference(*a), calls)).passed
    with open(tmp_path / "calls.pickle", "wb") as file:
        _Pickler(file).dump(calls)
    package = kernel_package(tmp_path / "kernel", "01_fc_basics", ["train_step"])
    done = subprocess.run(
        [sys.executable, "-s", "-c", KERNEL, str(tmp_path / "calls.pickle")],
        env={"PYTHONPATH": str(package.parent), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    functions, count = done.stdout.strip().split("\n")
    assert functions == "[]" and int(count) == len(calls)


def test_the_kernel_package_names_no_reference_and_loses_what_computes_an_answer(tmp_path):
    references = {e.reference.__name__ for e in exercises().values() if e.reference}
    for path in LESSON_PATHS:
        names = list(check_cells(nbformat.read(path, as_version=4)).values())
        package = kernel_package(tmp_path / path.stem, path.stem, names)
        for source in package.rglob("*.py"):
            tree = ast.parse(source.read_text())
            defined = {
                node.name
                for node in ast.walk(tree)
                if isinstance(node, (ast.FunctionDef, ast.ClassDef))
            }
            assert not defined & references, (path.stem, source, defined & references)
        for name in names:
            if name in TAUGHT:
                module, function = TAUGHT[name]
                text = (package / f"{module}.py").read_text()
                body = next(
                    n for n in ast.parse(text).body if getattr(n, "name", "") == function
                ).body
                assert len(body) == 1 and isinstance(body[0], ast.Raise), (name, function)
        assert "hand_over" in (package / "check" / "__init__.py").read_text()


def test_a_check_module_function_is_never_pickled_for_the_kernel():
    from rnn_course.check import lesson01

    with pytest.raises(pickle.PicklingError, match="its function"):
        _Pickler(open("/dev/null", "wb")).dump([lesson01._linear_forward])
