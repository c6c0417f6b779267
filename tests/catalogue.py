"""Catalogues of answers that each exercise's check must reject or accept.

Every `tests/test_check_lessonNN.py` defines two dicts, by exercise name:

    WRONG = {"rnn_step": [("tanh missing", answer, r"is the tanh missing"), ...]}
    RIGHT = {"rnn_step": [("einsum", answer), ...]}

and turns them into tests with `test_wrong, test_right = catalogue_tests(WRONG, RIGHT)`.
A wrong answer must be rejected with a message that matches its pattern (so the message names
or locates the mistake); a right one must pass. Verdicts go through `Exercise.verdict`, the
grader's path (record, plain data, replay). `tests/test_catalogues.py` checks every exercise
has at least `MIN_WRONG` wrong answers and `MIN_RIGHT` correct alternatives.
"""

from __future__ import annotations

import re

import pytest

from rnn_course.check import exercises

MIN_WRONG = 10
MIN_RIGHT = 4


def _cases(table: dict, width: int) -> list:
    cases = []
    for name, entries in table.items():
        for entry in entries:
            assert len(entry) == width, f"{name}: catalogue entries have {width} fields: {entry}"
            cases.append(pytest.param(name, *entry, id=f"{name}-{entry[0]}"))
    return cases


def catalogue_tests(wrong: dict, right: dict):
    """Two parametrized tests: every wrong answer rejected as described, every right one passed."""

    @pytest.mark.parametrize(("exercise", "label", "answer", "pattern"), _cases(wrong, 3))
    def test_wrong(exercise, label, answer, pattern):
        verdict = exercises()[exercise].verdict(answer)
        assert not verdict.passed, f"{exercise} accepted a wrong answer ({label})"
        assert re.search(pattern, verdict.message), (
            f"{exercise}, {label}: the message does not name the mistake: {verdict.message!r}"
        )

    @pytest.mark.parametrize(("exercise", "label", "answer"), _cases(right, 2))
    def test_right(exercise, label, answer):
        verdict = exercises()[exercise].verdict(answer)
        assert verdict.passed, f"{exercise} rejected a correct answer ({label}): {verdict.message}"

    return test_wrong, test_right
