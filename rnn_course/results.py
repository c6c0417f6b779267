"""`record`: a lesson states its key results so that `run-all` can collect them (lesson 01).

A recorded result is carried in the cell's output under `RESULT_MIME`, so the executed notebook
itself holds it (run-all and the grader read it there); nothing is written to disk and nothing
shows where it is recorded. `summary()`, at the end of a lesson, shows them once as a table.
"""

from __future__ import annotations

import html
import numbers

from IPython.display import display

from .errors import InputError, InputTypeError

RESULT_MIME = "application/vnd.rnn-course.result+json"
_RECORDED: dict[str, tuple] = {}  # this kernel's results, name -> (value, unit)


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def record(name: str, value, unit: str = "") -> None:
    """Record one key result of a lesson: `name` (an identifier), a number or short text, a unit."""
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(f"name must be an identifier such as 'test_accuracy', got {name!r}")
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = float(value) if not isinstance(value, numbers.Integral) else int(value)
    elif not isinstance(value, str):
        raise InputTypeError(
            f"value must be a number or a string, got {type(value).__name__}"
            " (for a one-element tensor, pass tensor.item())"
        )
    if not isinstance(unit, str):
        raise InputTypeError(f"unit must be a string, got {type(unit).__name__}")
    _RECORDED[name] = (value, unit)
    display({"text/plain": "", RESULT_MIME: {"name": name, "value": value, "unit": unit}}, raw=True)


def summary() -> None:
    """Show every result recorded so far in this kernel as one table: name, value, unit."""
    rows = [(name, _format(value), unit) for name, (value, unit) in _RECORDED.items()]
    if not rows:
        print("no results recorded yet: run the lesson's cells first")
        return
    width = max(len(name) for name, _, _ in rows)
    text = "\n".join(f"{name:<{width}}  {value} {unit}".rstrip() for name, value, unit in rows)
    cells = "".join(
        f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(value)}</td>"
        f"<td>{html.escape(unit)}</td></tr>"
        for name, value, unit in rows
    )
    table = f"<table><tr><th>result</th><th>value</th><th>unit</th></tr>{cells}</table>"
    display({"text/plain": text, "text/html": table}, raw=True)


def results_of(notebook) -> dict[str, dict]:
    """The results recorded in an executed notebook (an nbformat node): name -> {value, unit}."""
    found = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(RESULT_MIME)
            if payload:
                found[payload["name"]] = {"value": payload["value"], "unit": payload["unit"]}
    return found
