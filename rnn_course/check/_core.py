"""The machinery every exercise check shares (convention: COURSE.md, "Exercises and grading").

A check calls the student's answer on seeded inputs, tests type and shape first, then one term
at a time, then full values, and stops at the first failure with a message that locates it.
It shows one verdict line (and carries the verdict under `VERDICT_MIME` for the grader), and
raises `CheckFailed` when the answer is wrong.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from IPython.display import display

VERDICT_MIME = "application/vnd.rnn-course.verdict+json"


class CheckFailed(AssertionError):
    """An exercise's answer is wrong; the message says what is wrong."""


def _show(exercise: str, passed: bool, message: str) -> None:
    text = f"{'PASS' if passed else 'FAIL'} {exercise}: {message}"
    payload = {"exercise": exercise, "passed": passed, "message": message}
    display({"text/plain": text, VERDICT_MIME: payload}, raw=True)


def exercise(check: Callable[..., int]) -> Callable[..., None]:
    """Turn `check(answer) -> number of tests passed` into an exercise check named after it."""
    name = check.__name__

    @functools.wraps(check)
    def run(answer, *args, **kwargs) -> None:
        if not callable(answer):
            message = (
                f"expected your function, got {type(answer).__name__}; pass the function itself"
            )
            _show(name, False, message)
            raise CheckFailed(f"{name}: {message}")
        try:
            n_tests = check(answer, *args, **kwargs)
        except CheckFailed as failure:
            _show(name, False, str(failure))
            raise CheckFailed(f"{name}: {failure}") from None
        _show(name, True, f"all {n_tests} tests passed")

    return run


def call(answer: Callable, *args):
    """Call the student's function; any exception it raises becomes a `CheckFailed`."""
    try:
        return answer(*args)
    except NotImplementedError:
        raise CheckFailed("not implemented yet (the function raises NotImplementedError)") from None
    except Exception as exc:
        raise CheckFailed(f"your function raised {type(exc).__name__}: {exc}") from None


def expect_tensor(got, like: torch.Tensor, what: str) -> None:
    """Fail unless `got` is a tensor with the shape of `like`."""
    if not isinstance(got, torch.Tensor):
        raise CheckFailed(f"{what} should be a tensor, got {type(got).__name__}")
    if got.shape != like.shape:
        raise CheckFailed(f"{what} should have shape {tuple(like.shape)}, got {tuple(got.shape)}")


def expect_close(got, expected: torch.Tensor, what: str, hint: str = "", tol: float = 1e-5) -> None:
    """Fail unless `got` matches `expected` within `tol`, naming the worst element and `hint`."""
    expect_tensor(got, expected, what)
    got = got.detach().to(expected.dtype)
    error = (got - expected).abs()
    if torch.isnan(got).any() or error.max() > tol * (1 + expected.abs().max()):
        flat = error.nan_to_num(float("inf")).argmax()
        worst = tuple(int(i) for i in torch.unravel_index(flat, expected.shape))
        message = (
            f"{what} is wrong at index {worst}: got {got[worst].item():.6g}, "
            f"expected {expected[worst].item():.6g}"
        )
        raise CheckFailed(message + (f"; {hint}" if hint else ""))
