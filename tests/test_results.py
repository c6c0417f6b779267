import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from rnn_course.results import RESULT_MIME, record, results_of


def test_record_shows_a_labelled_line(capsys):
    record("test_accuracy", 0.98123, "")
    record("epoch_time", 7, "s")
    out = capsys.readouterr().out
    assert "recorded test_accuracy = 0.9812" in out and "recorded epoch_time = 7 s" in out


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
        new_output(
            "display_data", data={"text/plain": "recorded mse = 3.5e-06", RESULT_MIME: payload}
        )
    ]
    notebook = nbformat.reads(nbformat.writes(notebook), as_version=4)  # as stored on disk
    assert results_of(notebook) == {"mse": {"value": 3.5e-6, "unit": ""}}
