"""Errors a student can cause, shown as one readable block instead of a traceback (lesson 01).

IPython shows an exception's `_render_traceback_()` in place of the traceback. The course's own
errors use it to show their message and the line of the student's cell that led to them,
without walking through the package's internals.
"""

from __future__ import annotations

import traceback
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


class CourseError(Exception):
    """Base of the course's errors: IPython shows `Kind: message` and the student's line."""

    def _render_traceback_(self) -> list[str]:
        kind = next(
            c.__name__ for c in type(self).__mro__ if c.__module__ == "builtins" and c is not object
        )
        return [f"{kind}: {self}", *self._where()]

    def _where(self) -> list[str]:
        """The last line outside the package that led here, if any."""
        frames = [
            frame
            for frame in traceback.extract_tb(self.__traceback__)
            if not Path(frame.filename).resolve().is_relative_to(PACKAGE_DIR)
        ]
        if not frames or not frames[-1].line:
            return []
        return [f"  (line {frames[-1].lineno}: {frames[-1].line.strip()})"]


class InputError(CourseError, ValueError):
    """An argument has the wrong value or shape; the message names it and what was expected."""


class InputTypeError(CourseError, TypeError):
    """An argument has the wrong type; the message names it and what was expected."""


class DataNotFoundError(CourseError, FileNotFoundError):
    """A data set is neither on disk nor downloadable; the message says where to put it."""


class DataError(CourseError, ValueError):
    """A data file is truncated or corrupted; the message names the file."""
