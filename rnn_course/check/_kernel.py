"""`rnn_course.check` in a grading kernel: no check, no reference (`rnn_course.tools.grading`).

The grader installs this file as the `check` package of the course copy a submission's kernel
imports. A check cell, `NAME = check.NAME(NAME)`, hands the answer over and gets it back
unchanged. The grader then runs the exercise's check in its own process; for each call of the
answer it writes a request (pickled arguments) and runs `serve` here, which calls the answer
through `Local` and shows the plain-data outcome under `RECORD_MIME`. Nothing here can tell a
right result from a wrong one.
"""

from __future__ import annotations

import pickle

from IPython.display import display

from ._core import RECORD_MIME, Local

_answers: dict[str, Local] = {}


def __getattr__(name: str):
    """`check.NAME`: keeps the answer it is given for `serve`, and returns it unchanged."""
    if name.startswith("_"):
        raise AttributeError(name)

    def hand_over(answer):
        _answers[name] = Local(answer)
        return answer

    return hand_over


def serve(path: str) -> None:
    """Answer the grader's request in `path`: about the answer, run it, or its gradients."""
    with open(path, "rb") as file:
        request = pickle.load(file)
    answer = _answers.get(request["exercise"])
    if answer is None:
        outcome = {"missing": True}
    elif request["kind"] == "about":
        outcome = answer.about()
    elif request["kind"] == "run":
        outcome = answer.run(request["args"], set(request["mutable"]), request["with_grads"])
    else:
        outcome = answer.grads(request["grad_outputs"])
    display({"text/plain": "", RECORD_MIME: outcome}, raw=True)
