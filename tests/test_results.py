import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from rnn_course import results
from rnn_course.results import RESULT_MIME, record, results_of, summary


def shown_outputs(monkeypatch) -> list[dict]:
    outputs = []
    monkeypatch.setattr(results, "display", lambda data, raw: outputs.append(data))
    return outputs


def test_record_carries_the_result_and_shows_nothing(monkeypatch):
    outputs = shown_outputs(monkeypatch)
    record("test_accuracy", 0.98123, "")
    record("epoch_time", 7, "s")
    assert [o["text/plain"] for o in outputs] == ["", ""]
    assert outputs[1][RESULT_MIME] == {"name": "epoch_time", "value": 7, "unit": "s"}


def test_summary_shows_every_recorded_result_once_as_a_table(monkeypatch):
    outputs = shown_outputs(monkeypatch)
    monkeypatch.setattr(results, "_RECORDED", {})
    record("test_accuracy", 0.98123, "")
    record("epoch_time", 7, "s")
    record("test_accuracy", 0.5, "")  # a cell run again: its latest value
    summary()
    table = outputs[-1]
    assert table["text/plain"].splitlines() == ["test_accuracy  0.5", "epoch_time     7 s"]
    assert "<td><code>epoch_time</code></td><td>7</td><td>s</td>" in table["text/html"]
    assert RESULT_MIME not in table, "the summary must not count as a second record"


@pytest.mark.parametrize(
    ("name", "value", "error", "message"),
    [
        ("test accuracy", 1.0, ValueError, "name must be an identifier"),
        ("accuracy", [1.0], TypeError, "value must be a number or a string, got list"),
    ],
)
def test_record_rejects_bad_input(name, value, error, message):
    with pytest.raises(error, match=message):
        record(name, value)


def test_results_are_read_back_from_an_executed_notebook():
    notebook = new_notebook(cells=[new_code_cell("record(...)")])
    payload = {"name": "mse", "value": 3.5e-6, "unit": ""}
    notebook.cells[0].outputs = [
        new_output("display_data", data={"text/plain": "", RESULT_MIME: payload})
    ]
    notebook = nbformat.reads(nbformat.writes(notebook), as_version=4)  # as stored on disk
    assert results_of(notebook) == {"mse": {"value": 3.5e-6, "unit": ""}}
