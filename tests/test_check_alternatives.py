"""Every correct alternative in the catalogues, fed what its lesson feeds it, does what the reference does.

A PASS must mean that the rest of the lesson runs with that answer. For each lesson, the test
executes the notebook once in quick mode (strict checks) with one cell added after each check
cell: it binds the exercise's name to `multiplex(...)`, which, at each of the first
`CALLS_PER_CELL` calls in every later cell, calls each correct alternative of the lesson's
catalogue (`RIGHT` in tests/test_check_lessonNN.py) on the very arguments the lesson passes
(dtype, layout, device, tensors inside the lesson's autograd graph; copies of the modules and
optimizers an exercise changes), then the reference, and fails the cell unless every alternative
returned the same thing: the same type, shape, dtype, device and graph membership, values within
`TOLERANCE` (one ulp-scale tolerance per dtype), and the same changes to those modules. The lesson
goes on with the reference's result, so its own assertions keep testing the lesson as written.
Random draws (`sample_next`) are compared by shape, dtype and device; the lesson's random state
is restored around the alternatives. Arguments the lesson passes by keyword are passed by
position (a check calls answers by position, so it cannot hold them to the parameters' names).
"""

from __future__ import annotations

import copy
import importlib.util
import math
import numbers
import os
import random
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient
from torch import nn

from rnn_course.check import exercises
from rnn_course.settings import CHECKS_ENV, QUICK_ENV, REPO_ROOT

TESTS = Path(__file__).resolve().parent
NOTEBOOKS = REPO_ROOT / "notebooks"
CALLS_PER_CELL = 2
TOLERANCE = {torch.float64: 1e-9, torch.float32: 1e-4, torch.float16: 1e-2, torch.bfloat16: 1e-2}
RANDOM = {"sample_next"}  # results drawn at random: compared by kind, not by value
# Where a check accepts answers that differ from the reference by more than rounding.
ACCEPTED = {"standardize": 0.05}  # either std (n - 1 or n): the ratio is sqrt(n / (n - 1))


def alternatives_of(lesson: str, name: str) -> list:
    """The correct alternatives of exercise `name` in tests/test_check_lesson{lesson}.py."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    path = TESTS / f"test_check_lesson{lesson}.py"
    spec = importlib.util.spec_from_file_location(f"alternatives_of_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.RIGHT.get(name, [])


def difference(reference, got, by_value: bool = True, rel_tol: float = 1e-6) -> str:
    """How `got` differs from `reference` in what later cells could notice ('' when it does not)."""
    if isinstance(reference, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"a {type(got).__name__} instead of a tensor"
        for what in ("shape", "dtype", "device", "requires_grad"):
            if getattr(got, what) != getattr(reference, what):
                return f"{what} {getattr(got, what)}, the reference's {getattr(reference, what)}"
        if not by_value or reference.numel() == 0:
            return ""
        a, b = got.detach().double().cpu(), reference.detach().double().cpu()
        tolerance = max(TOLERANCE.get(reference.dtype, 0.0), rel_tol)
        tolerance *= 1 + float(b.abs().nan_to_num(0).max())
        error = float((a - b).abs().nan_to_num(float("inf")).max())
        same_nans = bool((a.isnan() == b.isnan()).all())
        return "" if error <= tolerance and same_nans else f"values differ by {error:.3g}"
    if isinstance(reference, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(reference):
            return (
                f"{type(got).__name__} instead of a {type(reference).__name__} of {len(reference)}"
            )
        for index, (r, g) in enumerate(zip(reference, got)):
            if why := difference(r, g, by_value, rel_tol):
                return f"item {index}: {why}"
        return ""
    if isinstance(reference, numbers.Real) and isinstance(got, numbers.Real):  # NumPy's too
        ok = not by_value or math.isclose(got, reference, rel_tol=rel_tol, abs_tol=1e-9)
        return "" if ok else f"{got!r} instead of {reference!r}"
    if type(got) is not type(reference):
        return f"a {type(got).__name__} instead of a {type(reference).__name__}"
    return "" if not by_value or got == reference else f"{got!r} instead of {reference!r}"


def _state(value):
    """What a changed argument looks like afterwards: a module's parameters and buffers (for a
    recurrent layer, each layer's bias_ih + bias_hh: only their sum reaches its gates)."""
    if isinstance(value, nn.RNNBase):
        state = {name: t.detach().clone() for name, t in value.state_dict().items()}
        for name in [name for name in state if name.startswith("bias_hh")]:
            state[name.replace("bias_hh", "bias_ih")] += state.pop(name)
        return list(state.values())
    if isinstance(value, nn.Module):
        return [t.detach().clone() for t in value.state_dict().values()]
    if isinstance(value, torch.optim.Optimizer):
        return [
            t.detach().clone()
            for state in value.state.values()
            for t in state.values()
            if isinstance(t, torch.Tensor)
        ]
    return None


def multiplex(lesson: str, name: str, reference):
    """`reference`, which first checks every correct alternative against it (module docstring)."""
    alternatives = alternatives_of(lesson, name)
    mutable = set(exercises()[name].mutable)
    params = exercises()[name].params
    calls: dict[int, int] = {}

    def run(*args, **kwargs):
        from IPython import get_ipython

        shell = get_ipython()
        cell = shell.execution_count if shell is not None else 0
        calls[cell] = calls.get(cell, 0) + 1
        if calls[cell] > CALLS_PER_CELL:
            return reference(*args, **kwargs)
        # by position: the checks cannot hold an answer to its parameters' names
        args = (*args, *(kwargs.pop(p) for p in params[len(args) :] if p in kwargs))
        changed = [i for i, p in enumerate(params[: len(args)]) if p in mutable]
        outcomes = []
        for label, alternative in alternatives:
            given = list(args)
            if changed:  # the modules and optimizers it changes: copies, sharing parameters
                copies = copy.deepcopy([args[i] for i in changed])
                for i, copied in zip(changed, copies):
                    given[i] = copied
            states = (random.getstate(), np.random.get_state())
            with torch.random.fork_rng(devices=[]):
                try:
                    got = alternative(*given, **kwargs)
                except Exception as exc:
                    raise AssertionError(
                        f"{name}: the correct alternative {label!r} raised {type(exc).__name__}: "
                        f"{exc} on the lesson's inputs"
                    ) from exc
            random.setstate(states[0])
            np.random.set_state(states[1])
            outcomes.append((label, got, [_state(given[i]) for i in changed]))
        result = reference(*args, **kwargs)
        for label, got, states in outcomes:
            why = difference(result, got, name not in RANDOM, ACCEPTED.get(name, 1e-6))
            for i, state in zip(changed, states):
                why = why or difference(_state(args[i]), state)
                why = why and f"{why} (in {params[i]} after the call)"
            assert not why, f"{name}: the correct alternative {label!r} differs: {why}"
        return result

    return run


def _with_multiplexers(notebook, lesson: str) -> list[str]:
    """Add the cell binding each exercise to its multiplexer after its check cell."""
    names = []
    cells = []
    for cell in notebook.cells:
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        for name in exercises():
            if cell.source.strip() == f"{name} = check.{name}({name})":
                names.append(name)
                cells.append(
                    nbformat.v4.new_code_cell(
                        f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n"
                        "import test_check_alternatives\n"
                        f"{name} = test_check_alternatives.multiplex({lesson!r}, {name!r}, {name})"
                    )
                )
    notebook.cells = cells
    return names


ALTERNATIVES_ENV = "RNN_COURSE_TEST_ALTERNATIVES"


@pytest.mark.skipif(
    os.environ.get(ALTERNATIVES_ENV) != "1",
    reason=f"runs every lesson with every correct alternative (about 50 min on a busy 2-core machine): set "
    f"{ALTERNATIVES_ENV}=1 to run it (maintainers, after changing a check or a catalogue)",
)
@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_correct_alternatives_run_the_lesson(path, monkeypatch):
    lesson = path.name[:2]
    notebook = nbformat.read(path, as_version=4)
    names = _with_multiplexers(notebook, lesson)
    assert names, f"{path.name} has no check cell `NAME = check.NAME(NAME)`"
    monkeypatch.setenv(QUICK_ENV, "1")
    monkeypatch.setenv(CHECKS_ENV, "strict")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
