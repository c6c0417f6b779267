"""The preprocessors of the course's nbgrader configuration (nbgrader-course/nbgrader_config.py).

- `StudentEdition` (generate_assignment): the released notebook is the course's student
  edition: its Colab badge opens `exercises/NAME.ipynb`, not the solutions, and it carries no
  run stamp or cell timings.
- `GuardedExecute` (autograde): nbgrader's `Execute`, which also notes the state of the
  course's checks before the first cell (`untouched.take`) and compares it after every test
  cell (`untouched.verify`): a test cell after an answer replaced or patched a check, or left
  the strict check mode, gets an error, so it scores 0, and the feedback says why.
- `WrapOutputs` (generate_feedback): long output lines wrap in the feedback, not cut off.

The checks themselves are strict under nbgrader without any setting (`settings.check_mode`).
"""

from __future__ import annotations

import nbformat
from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

from .colab import retarget_badge
from .release import GRADED_NOTE, clear_outputs

TAKE = '__import__("rnn_course.tools.untouched", fromlist=["take"]).take()'
VERIFY = (
    '__import__("rnn_course.tools.untouched", fromlist=["verify"]).verify(globals().get("check"))'
)
WRAP_CSS = (
    "div.output_area pre, div.output_subarea pre { white-space: pre-wrap; word-break: break-word; }"
)


class StudentEdition(NbGraderPreprocessor):
    """Make the release what `python -m rnn_course release` writes: the note on what is graded
    opens the first answer cell, the Colab badge opens `exercises/NAME.ipynb`, and no run-all
    stamp or cell timings are left (nbgrader's ClearSolutions writes the same stubs)."""

    def preprocess(self, nb, resources):
        clear_outputs(nb)
        answers = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
        if answers:
            answers[0].source = f"{GRADED_NOTE}\n{answers[0].source}"
        retarget_badge(nb)
        return nb, resources


class GuardedExecute(Execute):
    """nbgrader's Execute, with the course's checks compared after every test cell."""

    def preprocess_cell(self, cell, resources, index):
        if getattr(self, "_taken_by", None) is not self.kc:  # a new kernel (or a retry)
            self._hidden(TAKE)
            self._taken_by = self.kc
        cell, resources = super().preprocess_cell(cell, resources, index)
        if cell.cell_type == "code" and utils.is_grade(cell):
            error = self._hidden(VERIFY)
            if error is not None:
                cell.outputs.append(error)
        return cell, resources

    def _hidden(self, code: str):
        """Run `code` in the kernel, silently, outside the notebook; its error output or None."""
        reply = self.wait_for_reply(self.kc.execute(code, silent=True, store_history=False))
        content = reply["content"] if reply else {"status": "error", "ename": "NoReply"}
        if content["status"] == "ok":
            return None
        return nbformat.v4.new_output(
            "error",
            ename=content.get("ename", ""),
            evalue=content.get("evalue", ""),
            traceback=content.get("traceback")
            or [f"{content.get('ename')}: {content.get('evalue')}"],
        )


class WrapOutputs(NbGraderPreprocessor):
    """Make long output lines wrap in nbgrader's feedback page."""

    def preprocess(self, nb, resources):
        resources.setdefault("inlining", {}).setdefault("css", []).append(WRAP_CSS)
        return nb, resources
