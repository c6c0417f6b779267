"""Are the course's checks as they were before any answer ran? (nbgrader's autograde)

Under nbgrader the checks run in the student's kernel, where an answer can replace one
(`check.last_valid_output = lambda answer: answer`) or patch what it runs on. `take()`,
run before the notebook's first cell (`tools.nbgrading.GuardedExecute`), notes the identity of
every object the checks are made of: the modules of `rnn_course.check`, `rnn_course.settings`
and `rnn_course.errors` (their names, the contents of their tables, their classes' attributes,
each check's attributes, each function's code), the torch, NumPy, math and builtins objects
they call, and `sys.modules`' entries for all of them. `verify()`, run after each test cell,
raises `ChecksChanged` naming what differs, or the check mode if it is no longer 'strict'.

This finds an answer that replaces or patches a check; it cannot stop one written against
this module, which lives in the same kernel (only `python -m rnn_course grade` can).
"""

from __future__ import annotations

import builtins
import sys
import types

import torch

from .. import check, settings
from ..errors import CourseError

COURSE = ("rnn_course.check", "rnn_course.settings", "rnn_course.errors")
LIBRARIES = (
    "base64",
    "copy",
    "dataclasses",
    "functools",
    "hashlib",
    "inspect",
    "json",
    "math",
    "numbers",
    "os",
    "re",
    "numpy",
    "torch",
    "torch.nn",
    "torch.nn.functional",
    "torch.linalg",
)
CLASSES = (torch.Tensor, torch._C.TensorBase)
# Replaced by the libraries themselves: torch._dynamo, once something imports it (an optimizer's
# first step does), wraps torch.manual_seed.
REPLACED_BY_LIBRARIES = frozenset({"torch.manual_seed"})
SHOWN = 3
_taken: dict[str, object] = {}


class ChecksChanged(CourseError):
    """An answer changed the course's checks, or what they run on, or the check mode."""

    def _render_traceback_(self) -> list[str]:
        return [f"FAIL: {self}"]


def _code(label: str, value, parts: dict) -> None:
    function = getattr(value, "__func__", value)
    if isinstance(function, types.FunctionType):
        parts[f"{label}.__code__"] = function.__code__
        parts[f"{label}.__defaults__"] = function.__defaults__
        parts[f"{label}.__kwdefaults__"] = function.__kwdefaults__


def _members(label: str, namespace: dict, parts: dict, course: bool) -> None:
    for name, value in list(namespace.items()):
        parts[f"{label}.{name}"] = value
        _code(f"{label}.{name}", value, parts)
        if not course or name.startswith("__"):  # __builtins__: the kernel swaps `input` in it
            continue
        if isinstance(value, dict):
            for key, item in list(value.items()):
                parts[f"{label}.{name}[{key!r}]"] = item
                _code(f"{label}.{name}[{key!r}]", item, parts)
        elif isinstance(value, (list, tuple)):
            parts[f"{label}.{name}.len"] = len(value)
            for n, item in enumerate(value):
                parts[f"{label}.{name}[{n}]"] = item
        elif isinstance(value, type) and value.__module__.startswith("rnn_course"):
            _members(f"{label}.{name}", dict(vars(value)), parts, course=False)
        elif type(value).__module__.startswith("rnn_course") and hasattr(value, "__dict__"):
            _members(f"{label}.{name}", dict(vars(value)), parts, course=False)


def state() -> dict[str, object]:
    """Every watched object, by a dotted name (see the module's docstring)."""
    parts: dict[str, object] = {}
    names = sorted(n for n in sys.modules if n.startswith(COURSE)) + list(LIBRARIES)
    for name in names:
        module = sys.modules.get(name)
        parts[f"sys.modules[{name!r}]"] = module
        if module is not None:
            _members(name, dict(vars(module)), parts, course=name.startswith(COURSE))
    for cls in CLASSES:
        _members(f"{cls.__module__}.{cls.__qualname__}", dict(vars(cls)), parts, course=False)
    for name, cls in vars(torch.nn).items():
        if isinstance(cls, type) and cls.__module__.startswith("torch.nn"):
            _members(f"torch.nn.{name}", dict(vars(cls)), parts, course=False)
    for name, value in vars(builtins).items():
        if isinstance(value, (type, types.BuiltinFunctionType)):
            parts[f"builtins.{name}"] = value
    parts["rnn_course.check (the module)"] = check
    return parts


def take() -> None:
    """Note the state of the checks (before any answer runs)."""
    _taken.clear()
    _taken.update(state())


def changes() -> list[str]:
    """The watched names whose object is not the one `take` noted, or is gone."""
    now = state()
    return [
        label
        for label, value in _taken.items()
        if not _same(now.get(label, _taken), value)
        and not any(label == name or _inside(label, name) for name in REPLACED_BY_LIBRARIES)
    ]


def _inside(label: str, other: str) -> bool:
    """Whether `label` names a part of `other` (its code, one of its attributes or items)."""
    return len(label) > len(other) and label.startswith(other) and label[len(other)] in ".["


def _same(now, then) -> bool:
    return now is then or (type(now) is int and type(then) is int and now == then)


def verify(checks=None) -> None:
    """Raise `ChecksChanged` when the checks changed since `take`, or the check mode did.

    `checks` is what the notebook calls `check` (it must be `rnn_course.check`).
    """
    if not _taken:
        raise ChecksChanged("the checks' state was not taken before the first cell")
    changed = changes()
    if checks is not None and checks is not _taken["rnn_course.check (the module)"]:
        changed.insert(0, "check (the name the test cells call)")
    if changed:
        roots = [label for label in changed if not any(_inside(label, other) for other in changed)]
        shown = ", ".join(roots[:SHOWN]) + (
            f" and {len(roots) - SHOWN} more" * (len(roots) > SHOWN)
        )
        raise ChecksChanged(
            f"an answer changed the course's checks ({shown}): the tests from here on do not count"
        )
    mode = _taken["rnn_course.settings.check_mode"]()
    if mode != "strict":
        raise ChecksChanged(
            f"the check mode is {mode!r}, not 'strict' (an answer changed {settings.NBGRADER_ENV} "
            f"or {settings.CHECKS_ENV}): the tests from here on do not count"
        )
