"""Every exercise has a catalogue of plausible wrong answers and of correct alternatives."""

import importlib.util
from pathlib import Path

import pytest
from catalogue import MIN_RIGHT, MIN_WRONG

from rnn_course.check import exercises


def _catalogues() -> tuple[dict, dict]:
    wrong, right = {}, {}
    for path in sorted(Path(__file__).parent.glob("test_check_lesson*.py")):
        spec = importlib.util.spec_from_file_location(f"catalogue_of_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, entries in getattr(module, "WRONG", {}).items():
            wrong.setdefault(name, []).extend(entries)
        for name, entries in getattr(module, "RIGHT", {}).items():
            right.setdefault(name, []).extend(entries)
    return wrong, right


WRONG, RIGHT = _catalogues()


@pytest.mark.parametrize("name", sorted(exercises()))
def test_every_exercise_has_a_catalogue(name):
    assert len(WRONG.get(name, [])) >= MIN_WRONG, (
        f"{name}: {len(WRONG.get(name, []))} wrong answers in the tests, expected {MIN_WRONG}"
    )
    assert len(RIGHT.get(name, [])) >= MIN_RIGHT, (
        f"{name}: {len(RIGHT.get(name, []))} correct alternatives in the tests, expected {MIN_RIGHT}"
    )


def test_catalogues_name_real_exercises():
    unknown = (set(WRONG) | set(RIGHT)) - set(exercises())
    assert not unknown, f"catalogues for exercises that do not exist: {sorted(unknown)}"


@pytest.mark.parametrize("name", sorted(exercises()))
def test_the_reference_solution_passes_its_check(name):
    exercise = exercises()[name]
    assert exercise.reference is not None, f"{name} has no reference solution to fall back on"

    def answer(*args):  # the reference, as a student's own function
        return exercise.reference(*args)

    verdict = exercise.verdict(answer)
    assert verdict.passed, f"{name}: the reference fails its own check: {verdict.message}"
