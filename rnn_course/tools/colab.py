"""Keep every notebook's Colab parts in step with the repository address in pyproject.toml.

Three parts of each lesson (in `notebooks/`) and of each student edition (in `exercises/`)
depend on where the course lives on GitHub:

- the "Open in Colab" badge in the title cell, which opens the notebook's own path;
- the setup cell (the first code cell), which `%pip install`s the package from the repository;
- the notebook metadata that asks Colab for a GPU runtime.

The address is written once, in pyproject.toml's `[project.urls] Repository`; the git ref the
badges and the install point at (default `main`) is pyproject.toml's `[tool.rnn_course]
colab-ref` when that is set. `python -m rnn_course colab [--repo OWNER/NAME] [--ref REF]`
rewrites all three parts from them (`rewrite_all`), and `tests/test_colab.py` fails when a
notebook disagrees (`problems`).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from ..settings import REPO_ROOT
from .notebook import colab_badge, repository, setup_cell

# The metadata Colab writes for a notebook saved with "Runtime > Change runtime type > T4 GPU".
COLAB_METADATA = {"accelerator": "GPU", "colab": {"provenance": [], "gpuType": "T4"}}
FOLDERS = ("notebooks", "exercises", "notebooks/zh", "exercises/zh")  # zh: tools.translation
DEFAULT_REF = "main"
FIX_COMMAND = "python -m rnn_course colab"

# Any badge-like link, whatever address it holds: `[![Open In Colab](...)](...)`.
_BADGE = re.compile(r"\[!\[Open In Colab\]\([^)\s]*\)\]\([^)\s]*\)")
# The folder (notebooks/ or exercises/, or a translation's notebooks/zh/) and file it opens.
_BADGE_FILE = re.compile(r"/(?:notebooks|exercises)(?:/[a-z]{2})?/([^/)\s]+\.ipynb)\)$")
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_REF = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")
_REPOSITORY_LINE = re.compile(r'^(Repository = ")https://github\.com/[^"]*(")', re.M)
_REF_LINE = re.compile(r'^colab-ref = "([^"]*)"', re.M)
_TOOL_TABLE = "[tool.rnn_course]"


def check_repo(repo: str) -> str:
    """Return `repo` if it is a GitHub 'OWNER/NAME', else raise a ValueError saying so."""
    if not isinstance(repo, str) or not _REPO.fullmatch(repo) or ".." in repo:
        raise ValueError(
            f"repo must be a GitHub 'OWNER/NAME' such as 'me/rnn-course', got {repo!r}"
        )
    return repo


def check_ref(ref: str) -> str:
    """Return `ref` if it looks like a git branch, tag or commit, else raise a ValueError."""
    if not isinstance(ref, str) or not _REF.fullmatch(ref) or ".." in ref or ref.endswith("/"):
        raise ValueError(f"ref must be a git branch, tag or commit such as 'main', got {ref!r}")
    return ref


def colab_ref(pyproject: Path = REPO_ROOT / "pyproject.toml") -> str:
    """The git ref that badges and the setup cell point at: `[tool.rnn_course] colab-ref`."""
    text = pyproject.read_text()
    table = text.find(_TOOL_TABLE)
    if table < 0:
        return DEFAULT_REF
    end = text.find("\n[", table + len(_TOOL_TABLE))
    match = _REF_LINE.search(text[table : end if end >= 0 else len(text)])
    return check_ref(match.group(1)) if match else DEFAULT_REF


def save_settings(
    repo: str | None, ref: str | None, pyproject: Path = REPO_ROOT / "pyproject.toml"
) -> None:
    """Write `repo` into the Repository URL and `ref` into `[tool.rnn_course] colab-ref`.

    `None` leaves that setting as it is; the default ref `main` is not written where no ref was
    ever set, so pyproject.toml changes only when something other than the default is asked for.
    """
    text = original = pyproject.read_text()
    if repo is not None:
        check_repo(repo)
        if not _REPOSITORY_LINE.search(text):
            raise ValueError(f'{pyproject} has no Repository = "https://github.com/..." line')
        text = _REPOSITORY_LINE.sub(rf"\g<1>https://github.com/{repo}\g<2>", text, count=1)
    if ref is not None and ref != colab_ref(pyproject):
        check_ref(ref)
        table = text.find(_TOOL_TABLE)
        if table < 0:
            text = text.rstrip("\n") + f'\n\n{_TOOL_TABLE}\ncolab-ref = "{ref}"\n'
        else:
            end = text.find("\n[", table + len(_TOOL_TABLE))
            end = end if end >= 0 else len(text)
            body = text[table:end]
            if _REF_LINE.search(body):
                body = _REF_LINE.sub(f'colab-ref = "{ref}"', body, count=1)
            else:
                body = body.replace(_TOOL_TABLE, f'{_TOOL_TABLE}\ncolab-ref = "{ref}"', 1)
            text = text[:table] + body + text[end:]
    if text != original:
        pyproject.write_text(text)


def course_notebooks(root: Path = REPO_ROOT) -> list[Path]:
    """The lessons in `root/notebooks` and the student editions in `root/exercises`, in order."""
    return [
        path
        for folder in FOLDERS
        for path in sorted((root / folder).glob("[0-9][0-9]_*.ipynb"))
        if path.is_file()
    ]


def _first_code_cell(notebook) -> int | None:
    return next((i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), None)


def _is_setup_cell(source: str) -> bool:
    return "rnn_course.setup(" in source


def problems(notebook, path_in_repo: str, repo: str, ref: str) -> list[str]:
    """What in `notebook` disagrees with `repo` at `ref`: one line per part (badge, setup, metadata).

    `path_in_repo` is the notebook's path relative to the repository root, e.g.
    'notebooks/02_time_series.ipynb'; the badge must open exactly that file.
    """
    found = []
    badge = colab_badge(path_in_repo, repo=repo, ref=ref)
    title = notebook.cells[0] if notebook.cells else None
    if title is None or title.cell_type != "markdown":
        found.append("title cell: the first cell is not a markdown title cell with the badge")
    else:
        badges = _BADGE.findall(title.source)
        if not badges:
            found.append(f"badge: the title cell has no Colab badge; expected {badge}")
        elif badges != [badge]:
            found.append(f"badge: the title cell has {badges[0]}; expected {badge}")
    index = _first_code_cell(notebook)
    expected_setup = setup_cell(repo=repo, ref=ref)
    if index is None:
        found.append("setup cell: the notebook has no code cell")
    elif notebook.cells[index].source != expected_setup:
        what = "differs from" if _is_setup_cell(notebook.cells[index].source) else "is not"
        found.append(
            f"setup cell: the first code cell {what} rnn_course.tools.notebook.setup_cell("
            f"repo={repo!r}, ref={ref!r})"
        )
    for key, value in COLAB_METADATA.items():
        have = notebook.metadata.get(key)
        if isinstance(value, dict):
            wrong = {
                k: v for k, v in value.items() if not isinstance(have, dict) or have.get(k) != v
            }
            if wrong:
                found.append(f"metadata: {key!r} must contain {wrong} (it is {have!r})")
        elif have != value:
            found.append(f"metadata: {key!r} must be {value!r} (it is {have!r})")
    return found


def rewrite(notebook, path_in_repo: str, repo: str, ref: str) -> bool:
    """Make `notebook`'s badge, setup cell and Colab metadata agree with `repo` at `ref`.

    Replaces the badge in the title cell (or adds it after the heading line), replaces the first
    code cell when it is a setup cell (or inserts one after the title), and sets the Colab metadata.
    Returns True when something changed. The release command can call this on a student edition.
    """
    if not problems(notebook, path_in_repo, repo, ref):
        return False
    badge = colab_badge(path_in_repo, repo=repo, ref=ref)
    title = notebook.cells[0] if notebook.cells else None
    if title is None or title.cell_type != "markdown":
        raise ValueError(
            f"{path_in_repo}: the first cell must be the markdown title cell ('# Lesson NN: ...')"
        )
    if _BADGE.search(title.source):
        source = _BADGE.sub(lambda _: badge, title.source, count=1)
        head, _, tail = source.partition(badge)
        title.source = head + badge + _BADGE.sub("", tail)  # a badge pasted twice goes
    else:
        heading, _, rest = title.source.partition("\n")
        title.source = "\n\n".join([heading, badge] + ([rest.lstrip("\n")] if rest.strip() else []))
    expected_setup = setup_cell(repo=repo, ref=ref)
    index = _first_code_cell(notebook)
    if index is not None and _is_setup_cell(notebook.cells[index].source):
        notebook.cells[index].source = expected_setup
    elif index is None or notebook.cells[index].source != expected_setup:
        notebook.cells.insert(1, nbformat.v4.new_code_cell(expected_setup))
    for key, value in COLAB_METADATA.items():
        if isinstance(value, dict):
            merged = dict(notebook.metadata.get(key) or {})
            merged.update(copy.deepcopy(value))
            notebook.metadata[key] = merged
        else:
            notebook.metadata[key] = value
    return True


def retarget_badge(notebook, folder: str = "exercises") -> None:
    """Point the title cell's badge at the same file name in `folder`, in place.

    For the release commands: a student edition is a copy of its lesson, whose badge opens
    `notebooks/NAME.ipynb`; the edition's must open `exercises/NAME.ipynb` (a translation's,
    `notebooks/zh/NAME.ipynb` and `exercises/zh/NAME.ipynb`). Repository and ref
    are kept, so an edition made from an up-to-date lesson is up to date too.
    """
    if not notebook.cells or notebook.cells[0].cell_type != "markdown":
        return
    notebook.cells[0].source = _BADGE.sub(
        lambda match: _BADGE_FILE.sub(rf"/{folder}/\g<1>)", match.group(0)),
        notebook.cells[0].source,
    )


def rewrite_all(
    root: Path = REPO_ROOT, repo: str | None = None, ref: str | None = None
) -> list[Path]:
    """The `colab` command: save `repo`/`ref` in pyproject.toml, then rewrite every notebook.

    `None` keeps the saved setting. Returns the notebooks that changed (written in place).
    """
    pyproject = root / "pyproject.toml"
    save_settings(repo, ref, pyproject)
    repo, ref = repository(pyproject), colab_ref(pyproject)
    changed = []
    for path in course_notebooks(root):
        notebook = nbformat.read(path, as_version=4)
        if rewrite(notebook, path.relative_to(root).as_posix(), repo, ref):
            nbformat.write(notebook, path)
            changed.append(path)
    return changed


def check_all(root: Path = REPO_ROOT) -> list[str]:
    """Every disagreement in `root`'s notebooks, each line naming the notebook and the part."""
    pyproject = root / "pyproject.toml"
    repo, ref = repository(pyproject), colab_ref(pyproject)
    found = []
    for path in course_notebooks(root):
        relative = path.relative_to(root).as_posix()
        notebook = nbformat.read(path, as_version=4)
        found += [f"{relative}: {line}" for line in problems(notebook, relative, repo, ref)]
    return found
