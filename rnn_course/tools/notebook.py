"""The parts every lesson notebook shares: the Colab badge and the setup cell, and code hashes."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..settings import REPO_ROOT

STAMP_KEY = "rnn_course"
BEGIN_SOLUTION = "### BEGIN SOLUTION"  # nbgrader's markers around an exercise's solution
END_SOLUTION = "### END SOLUTION"


def repository(pyproject: Path = REPO_ROOT / "pyproject.toml") -> str:
    """The course's GitHub repository as 'OWNER/NAME', read from pyproject.toml's project URLs."""
    match = re.search(
        r'^Repository = "https://github\.com/([^"/]+/[^"/]+)"', pyproject.read_text(), re.M
    )
    if not match:
        raise ValueError(f'{pyproject} has no Repository = "https://github.com/OWNER/NAME" line')
    return match.group(1)


def colab_badge(notebook_path: str, repo: str | None = None, ref: str = "main") -> str:
    """Markdown for an 'Open in Colab' badge for `notebook_path` (relative to the repository)."""
    repo = repo or repository()
    url = f"https://colab.research.google.com/github/{repo}/blob/{ref}/{notebook_path}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def setup_cell(repo: str | None = None, ref: str = "main") -> str:
    """The source of every lesson's first code cell (COURSE.md, "The setup cell")."""
    repo = repo or repository()
    return f"""\
# Setup: on Colab this installs the course package (Colab's own torch is kept).
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "rnn-course @ git+https://github.com/{repo}@{ref}"
try:
    import rnn_course
except ImportError:
    raise ImportError(
        "The course package is missing: run `pip install -r requirements.txt` at the repository root."
    ) from None

device = rnn_course.setup(seed=0)"""


def code_hash(notebook) -> str:
    """SHA-256 of a notebook's code cells, in order: it changes when the lesson's code changes."""
    digest = hashlib.sha256()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            digest.update(cell.source.encode())
            digest.update(b"\0")
    return digest.hexdigest()


def has_solutions(notebook) -> bool:
    """True for a lesson with its solutions (`notebooks/`), False for a student edition."""
    return any(
        cell.cell_type == "code" and BEGIN_SOLUTION in cell.source for cell in notebook.cells
    )
