"""The committed lessons carry full-mode outputs made from their current code."""

import nbformat
import pytest

from rnn_course.tools.notebook import STAMP_KEY, code_hash
from rnn_course.tools.runner import lessons

LESSONS = lessons()


def test_there_are_lessons():
    assert [path.stem[:3] for path in LESSONS] == [f"{i:02d}_" for i in range(1, len(LESSONS) + 1)]


@pytest.mark.parametrize("path", LESSONS, ids=[path.stem for path in LESSONS])
def test_stored_outputs_are_fresh_full_mode_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata.kernelspec.name == "python3"
    command = f"python -m rnn_course run-all --inplace {path.stem[:2]}"
    stamp = notebook.metadata.get(STAMP_KEY)
    assert stamp, f"{path.name} has no stored outputs: run `{command}`"
    assert stamp["mode"] == "full", (
        f"{path.name} stores {stamp['mode']}-mode outputs: run `{command}`"
    )
    assert stamp["code_hash"] == code_hash(notebook), (
        f"{path.name}: its code changed after its outputs were made: run `{command}`"
    )
