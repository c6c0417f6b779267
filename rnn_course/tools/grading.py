"""`grade`: grade students' notebooks on verdicts that no submission can forge.

A submission is graded from the instructor's copy of its lesson (`notebooks/`, matched by the
`NN_` prefix or the name of the file), with its solutions stubbed out as in the student edition.
Each exercise's answer cell (nbgrader `solution: true`) is replaced by the student's whole cell,
found by its id or else as the cell that defines the exercise's function: whatever its `def`
line carries, helpers and imports beside it, lines that try it out. Nothing else the student
wrote runs: the cells changed outside the answer cells are only reported.

That grading copy runs in a fresh kernel, in quick mode, in a `sandbox.Sandbox` of its own (its
own user and namespaces when the machine allows them, limits, a time limit per cell and one for
the whole submission). The kernel imports a copy of the package that holds no check and no
reference solution (`kernel_package`): its `check` is `check/_kernel.py`, whose `check.NAME(f)`
only hands `f` over. At each check cell (nbgrader `grade: true`, `grade_id: NAME`) the grader
runs the exercise's check itself, in its own process (`Exercise.judge`), with a `_Remote` runner:
for every call the check makes, the arguments go to the kernel as a pickle the grader wrote, the
kernel calls the student's function on them, and only the outcome comes back, as plain data
(numbers and bytes, never code). So the kernel computes nothing but the answers' outputs, and no
expected value, reference or mistake catalogue ever reaches it: an answer can only earn a mark
by computing the right results itself. The grader keeps no other output.

The package's own functions that compute an exercise's answer under another name (`TAUGHT`:
`data.make_windows` is lesson 02's `make_windows`, `training.fit` runs lesson 01's
`train_step`, `plots.plot_confusion_matrix` draws lesson 07's `confusion_matrix`) raise in the
kernel while that lesson is graded. The others are no answer to any exercise: loaders, models
the lessons build on, plots, and gradient norms (not the gradients `rnn_backward` asks for).
"""

from __future__ import annotations

import ast
import asyncio
import csv
import dataclasses
import functools
import gzip
import io
import itertools
import json
import multiprocessing
import multiprocessing.connection
import os
import pickle
import queue
import re
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import tokenize
import types
from collections.abc import Callable
from difflib import SequenceMatcher
from pathlib import Path

import nbformat
import torch
import zmq
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete, CellTimeoutError, DeadKernelError
from tqdm.auto import tqdm

from ..check import RECORD_MIME, CheckFailed, Verdict, exercises
from ..check._core import Runner
from ..data import MNIST_FILES
from ..settings import PACKAGE_DIR, QUICK_ENV, REPO_ROOT, data_root
from . import sandbox
from .release import STUB, student_edition
from .runner import NOTEBOOKS_DIR, lessons

TIMEOUT_ERROR = "CellTimeout"
MAX_TIMEOUTS = 3  # per submission: a kernel that ignores interrupts must not cost hours
MAX_SUBMISSION_BYTES = 20 * 2**20
MAX_ANSWER_CHARS = 100_000  # one answer cell (a real one is a few hundred characters)
MAX_OUTPUT_CHARS = 1_000_000  # printed or displayed by one submission; none of it is kept
MAX_RECORD_CHARS = 1_000_000  # one outcome of one call (a real one is a few kilobytes)
MAX_MESSAGE_BYTES = 8 * 2**20  # one kernel message: larger ones are dropped by the transport
MAX_QUEUED_MESSAGES = 200  # waiting to be read: at most 1.6 GB
INTERRUPT_GRACE_S = 10  # for a kernel to stop after an interrupt
LOST = (
    f"the kernel's output was lost (a message over {MAX_MESSAGE_BYTES // 2**20} MB cuts it for "
    "good)"
)
OUTPUT_TYPES = ("stream", "display_data", "update_display_data", "execute_result", "error")
FILE_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a folder",
}
# Names through which an answer tampers with its kernel (modules, frames, IPython's hooks, the
# interpreter): no answer needs them. They earn a review note; the verdicts do not depend on
# the kernel, so they cannot change a mark.
TOOLS = frozenset(
    """rnn_course _core _kernel _answers sys importlib import_module __import__ builtins
    __builtins__ globals _getframe f_globals f_locals f_back f_builtins tb_frame gc get_ipython
    IPython ipykernel InteractiveShell input_transformers_post input_transformers_cleanup
    ast_transformers exec compile __globals__ __code__ __closure__ __subclasses__
    __torch_function__ __torch_dispatch__ ctypes os subprocess signal socket zmq marshal
    pickle""".split()
)
# Package functions that compute an exercise's answer: (module, function) by exercise.
TAUGHT = {
    "make_windows": ("data", "make_windows"),
    "train_step": ("training", "fit"),
    "confusion_matrix": ("plots", "plot_confusion_matrix"),
}
CHECK_MODULE = re.compile(rf"{PACKAGE_DIR.name}\.check\.lesson\d+$")
CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as a formula


class NotGradable(Exception):
    """A submission that cannot be graded (not a regular file, too big, unreadable...)."""


class _Stop(Exception):
    """A submission's run cannot go on (too many cells over the time limit, output lost)."""


class _KernelGone(BaseException):
    """Raised through a check run by the grader when its kernel can no longer answer."""


# ----------------------------------------------------------------------------- submissions


def submissions(paths: list[Path]) -> list[Path]:
    """The notebooks to grade: each file as given, and the `*.ipynb` inside each folder.

    Inside a folder nothing is followed: a link found there is listed too (it gets an error
    row), as is anything named `*.ipynb` that is not a regular file.
    """
    found = []
    for path in map(Path, paths):
        if not path.is_dir():
            found.append(path)
            continue
        inside = []
        for folder, dirs, files in os.walk(path):
            links = [name for name in dirs if os.path.islink(os.path.join(folder, name))]
            dirs[:] = [name for name in dirs if name not in links and name != ".ipynb_checkpoints"]
            names = [name for name in files if name.endswith(".ipynb")] + links
            inside += [Path(folder) / name for name in names]
        found += sorted(inside)
    return found


def read_submission(path: Path) -> bytes:
    """The bytes of a submitted notebook: a regular file (no link) within the size limit.

    Never blocks: a FIFO, a socket or a device is refused before anything opens it.
    """
    try:
        info = os.lstat(path)
    except OSError as err:
        raise NotGradable(f"cannot read it: {err.strerror}") from None
    kind = stat.S_IFMT(info.st_mode)
    if kind != stat.S_IFREG:
        what = FILE_KINDS.get(kind, "not a regular file")
        raise NotGradable(f"{what}, not a notebook file: not graded (submit the file itself)")
    limit = f"the {MAX_SUBMISSION_BYTES / 2**20:.0f} MB limit: not graded"
    if info.st_size > MAX_SUBMISSION_BYTES:
        raise NotGradable(f"{info.st_size / 2**20:.1f} MB, over {limit}")
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise NotGradable(f"cannot read it: {err.strerror}") from None
    with os.fdopen(fd, "rb") as file:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            raise NotGradable("it was replaced while being read: not graded")
        data = file.read(MAX_SUBMISSION_BYTES + 1)
    if len(data) > MAX_SUBMISSION_BYTES:
        raise NotGradable(f"over {limit}")
    return data


def find_lesson(submission: Path, lesson_paths: list[Path]) -> Path | None:
    """The lesson a submission answers: same `NN_` prefix, or else its name in the file name."""
    prefix = re.match(r"(\d\d)(?!\d)", submission.stem)
    if prefix:
        found = [p for p in lesson_paths if p.stem[:2] == prefix.group(1)]
    else:
        found = [p for p in lesson_paths if p.stem[3:] and p.stem[3:] in submission.stem]
    return found[0] if len(found) == 1 else None


def check_cells(lesson: nbformat.NotebookNode) -> dict[int, str]:
    """The lesson's check cells, from their nbgrader metadata: {cell index: exercise name}."""
    found = {}
    for index, cell in enumerate(lesson.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") is True and meta.get("grade_id"):
            found[index] = str(meta["grade_id"])
    return found


def answer_cells(lesson: nbformat.NotebookNode) -> dict[str, int]:
    """Each exercise's solution cell (nbgrader `solution: true`, `grade_id: NAME_answer`)."""
    found = {}
    for index, cell in enumerate(lesson.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") is True:
            found[str(meta.get("grade_id", "")).removesuffix("_answer")] = index
    return found


# ----------------------------------------------------------------------------- the grading copy


def _defines(source: str, name: str) -> bool:
    """Whether `source` defines the function `name` at its top level."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return re.search(rf"^def\s+{re.escape(name)}\b", source, re.MULTILINE) is not None
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name
        for node in tree.body
    )


def _match_cells(
    lesson_cells: list, submitted_cells: list, answers: dict[int, str]
) -> list[int | None]:
    """For each code cell of the student edition, the submitted cell it became.

    A cell is found by its id; else an answer cell (`answers`: index -> exercise) is the
    unmatched cell that defines the exercise's function, and any other cell the most alike
    unmatched code cell (ids change when a lesson's cells are recreated, or in some editors).
    """
    code = [k for k, cell in enumerate(submitted_cells) if cell.get("cell_type") == "code"]
    by_id = {submitted_cells[k].get("id"): k for k in code if submitted_cells[k].get("id")}
    match: list[int | None] = [None] * len(lesson_cells)
    for n, cell in enumerate(lesson_cells):
        if cell.cell_type == "code" and cell.get("id") in by_id:
            match[n] = by_id[cell.get("id")]
    for n, name in answers.items():
        if match[n] is None:
            match[n] = next(
                (k for k in code if k not in match and _defines(submitted_cells[k].source, name)),
                None,
            )
    for n, cell in enumerate(lesson_cells):
        if cell.cell_type == "code" and match[n] is None and n not in answers:
            free = [k for k in code if k not in match]
            scores = [(_kept(cell.source, submitted_cells[k].source), -k) for k in free]
            score, best = max(scores, default=(0.0, 0))
            if score >= 0.5:
                match[n] = -best
    return match


def _kept(released: str, submitted: str) -> float:
    """The share of a released cell's lines (blank lines and stubs aside) kept in `submitted`."""
    lines = [line for line in released.split("\n") if line.strip() not in ("", *STUB)]
    other = [line for line in submitted.split("\n") if line.strip()]
    blocks = SequenceMatcher(None, lines, other, autojunk=False).get_matching_blocks()
    return sum(block.size for block in blocks) / len(lines) if lines else 0.0


def tools_named(source: str) -> list[str]:
    """The names in `TOOLS` that an answer's code (comments aside) or strings mention."""
    words: list[str] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type != tokenize.COMMENT:
                words += re.findall(r"\w+", token.string)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        words = re.findall(r"\w+", source)
    return [word for word in dict.fromkeys(words) if word in TOOLS]


def grading_copy(
    lesson: nbformat.NotebookNode, submitted: nbformat.NotebookNode
) -> tuple[nbformat.NotebookNode, dict, list[str]]:
    """The student edition of the lesson with the student's answer cells, outputs cleared.

    Returns it, the code cells changed outside the answer cells (numbered from 1 in the
    lesson: {"changed": [...], "deleted": [...], "added": n}) and notes for the instructor.
    """
    notebook = student_edition(lesson)
    answers = {index: name for name, index in answer_cells(lesson).items()}
    match = _match_cells(notebook.cells, submitted.cells, answers)
    changes: dict = {"changed": [], "deleted": [], "added": 0}
    notes = []
    for index, (cell, k) in enumerate(zip(notebook.cells, match)):
        if cell.cell_type != "code":
            continue
        if k is None:
            changes["deleted"].append(index + 1)
            continue
        source = submitted.cells[k].source
        if index not in answers:
            if source != cell.source:
                changes["changed"].append(index + 1)
        elif len(source) > MAX_ANSWER_CHARS:
            notes.append(
                f"cell {index + 1}: the answer has {len(source):,} characters, over the "
                f"{MAX_ANSWER_CHARS:,} limit: not used"
            )
        else:
            cell.source = source
            named = tools_named(source)
            if named:
                notes.append(
                    f"cell {index + 1}: the answer uses {', '.join(f'`{w}`' for w in named)}, "
                    "which can tamper with its kernel: review it"
                )
    changes["added"] = sum(
        1
        for k, cell in enumerate(submitted.cells)
        if cell.get("cell_type") == "code" and k not in match
    )
    return notebook, changes, notes


def normalized(source: str) -> str | None:
    """`source` with comments, docstrings, layout and local names erased (None if not Python)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    scopes = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in ast.walk(tree):
        if isinstance(node, scopes) and node.body and isinstance(node.body[0], ast.Expr):
            if isinstance(node.body[0].value, ast.Constant) and isinstance(
                node.body[0].value.value, str
            ):
                node.body = node.body[1:] or [ast.Pass()]
    fields = {ast.Name: "id", ast.arg: "arg", ast.alias: "asname", ast.ExceptHandler: "name"}
    fields.update(dict.fromkeys((ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef), "name"))
    bound = [
        getattr(node, fields[type(node)])
        for node in ast.walk(tree)
        if type(node) in fields
        and getattr(node, fields[type(node)])
        and not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load))
    ]
    names = {name: f"_{n}" for n, name in enumerate(dict.fromkeys(bound))}
    for node in ast.walk(tree):
        field = fields.get(type(node))
        if field and getattr(node, field) in names:
            setattr(node, field, names[getattr(node, field)])
    return ast.dump(tree, annotate_fields=False)


def matches_published(
    lesson: nbformat.NotebookNode, notebook: nbformat.NotebookNode, checks: dict[int, str]
) -> list[str]:
    """The exercises whose answer is the lesson's own solution once normalized (`normalized`)."""
    cells = answer_cells(lesson)
    found = []
    for name in checks.values():
        index = cells.get(name)
        if index is not None:
            published = normalized(lesson.cells[index].source)
            if published is not None and published == normalized(notebook.cells[index].source):
                found.append(name)
    return found


# ----------------------------------------------------------------------------- the kernel's package


def _fixtures_only(source: str) -> str:
    """A check module with only its imports and classes (arguments a check hands an answer,
    such as lesson 10's decoder table, unpickled by name): no function, so no reference."""
    tree = ast.parse(source)
    kept = (ast.Import, ast.ImportFrom, ast.ClassDef)
    tree.body = [node for node in tree.body if isinstance(node, kept)]
    return ast.unparse(tree) + "\n"


def _raising(source: str, function: str, why: str) -> str:
    """`source` with the body of its top-level function `function` replaced by a raise."""
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    lines = source.split("\n")
    indent = " " * node.body[0].col_offset
    body = [f"{indent}raise RuntimeError({why!r})"]
    return "\n".join(lines[: node.body[0].lineno - 1] + body + lines[node.end_lineno :])


def kernel_package(target: Path, lesson: str, names: list[str]) -> Path:
    """The copy of the package that a kernel grading `lesson` (exercises `names`) imports.

    Its `check` is `check/_kernel.py`, its check modules keep only their classes, and each
    package function that computes one of `names` (`TAUGHT`) raises. Returns the copy's folder.
    """
    copied = target / PACKAGE_DIR.name
    shutil.copytree(PACKAGE_DIR, copied, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    checks = copied / "check"
    for module in checks.glob("lesson*.py"):
        module.write_text(_fixtures_only(module.read_text()))
    shutil.move(checks / "_kernel.py", checks / "__init__.py")
    for name in names:
        if name in TAUGHT:
            module, function = TAUGHT[name]
            why = (
                f"rnn_course.{function} computes the exercise {name}: it is not available while "
                f"{lesson} is graded"
            )
            path = copied / f"{module}.py"
            path.write_text(_raising(path.read_text(), function, why))
    return copied


# ----------------------------------------------------------------------------- running a copy


class _KernelManager(AsyncKernelManager):
    """A kernel started through its sandbox's launcher, on Unix sockets in the sandbox."""

    box: sandbox.Sandbox

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """The grader's own Python runs the kernel (its folders are the ones bound in)."""
        kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]
        return self.box.command([*kernel, *(extra_arguments or [])])

    def client(self, **kwargs):
        """A client whose sockets take messages and queues of bounded size only."""
        client = super().client(**kwargs)
        client.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        client.context.setsockopt(zmq.RCVHWM, MAX_QUEUED_MESSAGES)
        return client


class _Pickler(pickle.Pickler):
    """Pickles a check's arguments for the kernel, a tensor inside a graph as one (made by
    `clone`); refuses any function of a check module (where the references are)."""

    def reducer_override(self, obj):
        if isinstance(obj, torch.Tensor) and obj.requires_grad and not obj.is_leaf:
            return torch.Tensor.clone, (obj.detach().requires_grad_(True),)
        if isinstance(obj, types.FunctionType) and CHECK_MODULE.match(obj.__module__ or ""):
            raise pickle.PicklingError(f"a check would hand the kernel its function {obj!r}")
        return NotImplemented


class _Remote(Runner):
    """The answer in the kernel, reached by requests that `_Client.ask` sends (see the module)."""

    def __init__(self, client: _Client, name: str, cell_index: int, loop, deadline: float):
        self.client, self.name, self.cell_index = client, name, cell_index
        self.loop, self.deadline = loop, deadline

    def _ask(self, request: dict) -> dict:
        buffer = io.BytesIO()
        _Pickler(buffer).dump({**request, "exercise": self.name})
        path = self.client.box.run / f"request-{next(self.client.requests)}.pickle"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.fchmod(fd, 0o644)  # for the kernel's own user
            os.write(fd, buffer.getvalue())
        finally:
            os.close(fd)
        try:
            code = f"__import__('rnn_course.check').check.serve({str(path)!r})"
            ask = self.client.ask(code, self.deadline, self.cell_index)
            outcome = asyncio.run_coroutine_threadsafe(ask, self.loop).result()
        finally:
            path.unlink(missing_ok=True)
        if isinstance(outcome, dict) and outcome.get("missing") is True:
            raise _NoAnswer()
        return outcome

    def about(self) -> dict:
        return self._ask({"kind": "about"})

    def run(self, args, mutable: set[int], with_grads: bool) -> dict:
        request = {"kind": "run", "args": list(args), "mutable": sorted(mutable)}
        return self._ask({**request, "with_grads": with_grads})

    def grads(self, grad_outputs: list | None) -> dict:
        return self._ask({"kind": "grads", "grad_outputs": grad_outputs})


class _NoAnswer(Exception):
    """The kernel holds no answer for the exercise (its check cell handed none over)."""


class _Client(NotebookClient):
    """nbclient that runs each check in this process against the kernel's answer (`_Remote`).

    It keeps no output: the outcomes of the answer's calls are read, each within a size cap;
    every other output (streams, displays, display_id updates, results, errors) is only
    counted, and `clear_output` and widget messages have nothing to act on.
    """

    def __init__(self, notebook, checks: dict[int, str], box, deadline: float, **kwargs):
        super().__init__(notebook, **kwargs)
        self.checks, self.box, self.deadline = checks, box, deadline
        self.verdicts: dict[int, Verdict | None] = {}  # None: no answer was handed over
        self.output_chars = 0
        self.timeouts = 0
        self.requests = itertools.count()
        self.finished: set[int] = set()  # cells whose end the output channel reported

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _get_timeout(self, cell) -> int:
        return max(1, min(self.timeout, int(self.remaining()) + 1))

    def _count(self, content: dict) -> None:
        self.output_chars += len(json.dumps(content, default=str))

    def process_message(self, msg, cell, cell_index):
        msg_type, content = msg.get("msg_type"), msg.get("content")
        if not isinstance(content, dict):
            return None
        if msg_type == "status":
            if content.get("execution_state") == "idle":
                self.finished.add(cell_index)
                raise CellExecutionComplete()
            return None
        if msg_type in OUTPUT_TYPES:
            self._count(content)
        return None

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if self.remaining() <= 0:
            raise _Stop(
                f"the submission ran over its total limit: cell {cell_index + 1} on not run"
            )
        cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if cell_index in self.checks:
            name = self.checks[cell_index]
            deadline = min(self.deadline, time.monotonic() + self.timeout)
            remote = _Remote(self, name, cell_index, asyncio.get_running_loop(), deadline)
            try:
                self.verdicts[cell_index] = await asyncio.to_thread(exercises()[name].judge, remote)
            except _NoAnswer:
                self.verdicts[cell_index] = None
            except _KernelGone as gone:
                raise (gone.args[0] if gone.args else DeadKernelError("the kernel died")) from None
        return cell

    async def _replied(self, msg_id: str) -> bool:
        """Whether the kernel's reply to `msg_id` is among those waiting (others are dropped)."""
        while True:
            try:
                msg = await self.kc.get_shell_msg(timeout=0)
            except queue.Empty:
                return False
            if isinstance(msg, dict) and msg.get("parent_header", {}).get("msg_id") == msg_id:
                return True

    async def ask(self, code: str, deadline: float, cell_index: int):
        """Run `code` in the kernel for check cell `cell_index`; return the one outcome it
        showed (a dict), raise `CheckFailed` when there is not exactly one, `_KernelGone` when
        the kernel or its output is lost."""
        msg_id = self.kc.execute(code, store_history=False, stop_on_error=False)
        outcomes, error, stop_at, replied = [], "", deadline, None
        while True:
            try:
                msg = await self.kc.get_iopub_msg(
                    timeout=max(0.05, min(1, stop_at - time.monotonic()))
                )
            except queue.Empty:
                if not await self.km.is_alive():
                    raise _KernelGone(DeadKernelError("the kernel died")) from None
                if replied is None and await self._replied(msg_id):
                    replied = time.monotonic()
                if replied is not None and time.monotonic() > replied + self.iopub_timeout:
                    lost = _Stop(f"from cell {cell_index + 1} on, {LOST}: the rest was not run")
                    raise _KernelGone(lost) from None
                if time.monotonic() < stop_at:
                    continue
                if stop_at > deadline:
                    stop = _Stop("the kernel ignored an interrupt: the rest was not run")
                    raise _KernelGone(stop) from None
                await self.km.interrupt_kernel()
                self.timeouts += 1
                stop_at = time.monotonic() + INTERRUPT_GRACE_S
                continue
            if not isinstance(msg, dict) or msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            msg_type, content = msg.get("msg_type"), msg.get("content")
            if not isinstance(content, dict):
                continue
            if msg_type == "status" and content.get("execution_state") == "idle":
                break
            data = content.get("data")
            if msg_type == "display_data" and isinstance(data, dict) and RECORD_MIME in data:
                size = len(json.dumps(data[RECORD_MIME], default=str))
                outcomes.append(data[RECORD_MIME] if size <= MAX_RECORD_CHARS else size)
            elif msg_type in OUTPUT_TYPES:
                self._count(content)
                if msg_type == "error":
                    error = f"{str(content.get('ename'))[:80]}: {str(content.get('evalue'))[:200]}"
        if stop_at > deadline:
            raise CheckFailed(
                f"your function ran over the check cell's {self.timeout} s (or the submission's "
                "total limit) and was interrupted"
            )
        if len(outcomes) != 1 or isinstance(outcomes[0], int):
            if outcomes and isinstance(outcomes[0], int):
                why = f"its {outcomes[0]:,} characters are over the {MAX_RECORD_CHARS:,} limit"
            else:
                why = f"the kernel showed {len(outcomes)} outcomes" + (
                    f" ({error})" if error else ""
                )
            raise CheckFailed(f"the outcome of a call of your function was not read back: {why}")
        return outcomes[0]


@dataclasses.dataclass
class Run:
    """What executing a grading copy left: replies per cell, verdicts, why it stopped."""

    replies: dict[int, dict]
    verdicts: dict[int, Verdict | None]
    stopped: str
    output_chars: int


def execute(
    notebook: nbformat.NotebookNode,
    checks: dict[int, str],
    box: sandbox.Sandbox,
    timeout: int,
    total_timeout: float,
) -> Run:
    """Run `notebook` in a fresh kernel in `box` (quick mode), checking each exercise here.

    A cell over `timeout` seconds is interrupted and the run goes on (up to `MAX_TIMEOUTS`
    times); errors do not stop it; the whole run stops after `total_timeout` seconds. The
    kernel's own stdout and stderr are discarded.
    """
    replies: dict[int, dict] = {}

    def on_cell_executed(cell, cell_index, execute_reply):
        content = (execute_reply or {}).get("content", {})
        replies[cell_index] = content if isinstance(content, dict) else {}
        timed_out = replies[cell_index].get("ename") == TIMEOUT_ERROR
        if not timed_out and cell_index not in client.finished:
            raise _Stop(f"from cell {cell_index + 1} on, {LOST}: the rest was not run")
        if timed_out and client.remaining() <= 0:
            raise _Stop(f"the submission ran over its total limit of {total_timeout:g} s")
        timeouts = client.timeouts + sum(
            reply.get("ename") == TIMEOUT_ERROR for reply in replies.values()
        )
        if timeouts >= MAX_TIMEOUTS:
            raise _Stop(f"{timeouts} cells or calls ran over {timeout} s: the rest was not run")

    km = _KernelManager(kernel_name="python3", transport="ipc")
    km.connection_file = str(box.connection_file)
    km.box = box
    client = _Client(
        notebook,
        checks,
        box,
        time.monotonic() + total_timeout,
        km=km,
        timeout=timeout,
        startup_timeout=120,
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": TIMEOUT_ERROR,
            "evalue": f"the cell ran over {timeout} s and was interrupted",
            "traceback": [],
        },
        iopub_timeout=30,
        record_timing=False,
        store_widget_state=False,
        shutdown_kernel="immediate",
        on_notebook_start=lambda notebook: box.lock_sockets(),
        on_cell_executed=on_cell_executed,
        resources={"metadata": {"path": str(box.work)}},
    )
    env = box.environment({QUICK_ENV: "1", "TQDM_DISABLE": "1"})
    stopped = ""
    try:
        client.execute(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except DeadKernelError:
        stopped = "the kernel died (os._exit, a crash, or a limit: memory, CPU time)"
    except (_Stop, CellTimeoutError) as err:
        stopped = str(err).splitlines()[0]
    except Exception as err:  # a kernel that does not start, or speaks nonsense
        launcher = box.launcher_error()
        stopped = f"the run stopped: {type(err).__name__}: {err}".splitlines()[0][:200]
        stopped += f" ({launcher})" if launcher else ""
    return Run(replies, client.verdicts, stopped, client.output_chars)


def _error_of(reply: dict | None) -> str:
    if not reply or reply.get("status") == "ok":
        return ""
    return f"{str(reply.get('ename'))[:80]}: {str(reply.get('evalue'))[:200]}"


def verdicts(
    checks: dict[int, str], answers: dict[str, int], run: Run
) -> tuple[dict[str, int], dict[str, str]]:
    """Each exercise's mark and message, from the verdict its check gave here."""
    marks, messages = {}, {}
    for index, name in checks.items():
        verdict = run.verdicts.get(index)
        marks[name] = 0
        if verdict is not None:
            marks[name], messages[name] = int(verdict.passed), verdict.message
        elif index not in run.verdicts:
            messages[name] = f"not checked: {run.stopped or 'the check cell did not run'}"
        else:
            error = _error_of(run.replies.get(index))
            shown = f"raised {error}" if error else "handed none over"
            messages[name] = f"no answer to check: the check cell {shown}"
            answer_error = _error_of(run.replies.get(answers.get(name, -1)))
            if answer_error:
                messages[name] += f" (your answer's cell raised {answer_error})"
    return marks, messages


# ----------------------------------------------------------------------------- one submission


@dataclasses.dataclass
class Settings:
    """What every grading process needs to know about the batch."""

    lesson_paths: list[Path]
    timeout: int
    total_timeout: float
    mode: str
    limits: sandbox.Limits
    data: Path | None
    hidden: list[Path]
    threads: int
    packages: dict[str, Path]  # each lesson's kernel package (`kernel_package`), by stem


def _row(path: Path, mode: str, error: str = "") -> dict:
    """A submission's row before grading: no lesson, no marks."""
    row: dict = {"submission": str(path), "lesson": None, "marks": {}, "total": 0, "max": 0}
    row.update(graded=False, time_s=0.0, error=error, messages={}, outside_changes={}, notes=[])
    return {**row, "matches_solution": [], "isolation": mode}


@functools.cache
def _read_lesson(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def grade_one(path: Path, settings: Settings, uid: int) -> dict:
    """Grade one submitted notebook; never raises, never writes to `path`. Returns its row."""
    start = time.perf_counter()
    row = _row(path, settings.mode)
    try:
        lesson_path = find_lesson(path, settings.lesson_paths)
        if lesson_path is None:
            row["error"] = "cannot tell which lesson this is: name it like NN_name.ipynb"
            return row
        lesson = _read_lesson(lesson_path)
        checks = check_cells(lesson)
        row.update(lesson=lesson_path.stem, max=len(checks))
        row["marks"] = dict.fromkeys(checks.values(), 0)
        unknown = [name for name in checks.values() if name not in exercises()]
        if unknown:
            row["error"] = f"{lesson_path.name}: no check named {', '.join(unknown)}"
            return row
        data = read_submission(path)
        try:
            submitted = nbformat.reads(data.decode("utf-8"), as_version=4)
            notebook, row["outside_changes"], row["notes"] = grading_copy(lesson, submitted)
        except Exception as err:
            row["error"] = f"not a readable notebook: {type(err).__name__}: {err}"[:300]
            return row
        row["matches_solution"] = matches_published(lesson, notebook, checks)
        box = sandbox.Sandbox(
            settings.mode,
            uid,
            settings.limits,
            settings.packages[lesson_path.stem],
            settings.data,
            settings.hidden,
            settings.threads,
        )
        try:
            run = execute(notebook, checks, box, settings.timeout, settings.total_timeout)
        finally:
            left = sandbox.stop_descendants()  # this process is a subreaper: orphans included
            left = "; ".join(filter(None, [left, box.remove()]))
        row["marks"], row["messages"] = verdicts(checks, answer_cells(lesson), run)
        row["total"] = sum(row["marks"].values())
        row["graded"] = not run.stopped and not left
        events = [run.stopped, left]
        if run.output_chars > MAX_OUTPUT_CHARS:
            events.append(f"output over {MAX_OUTPUT_CHARS:,} characters ({run.output_chars:,})")
        row["error"] = "; ".join(event for event in events if event)
    except NotGradable as err:
        row["error"] = str(err)
    except Exception as err:  # a bug in grading one submission must not stop the batch
        row["error"] = f"grading failed: {type(err).__name__}: {err}"[:300]
    finally:
        row["time_s"] = round(time.perf_counter() - start, 1)
    return row


# ----------------------------------------------------------------------------- a batch


def _worker(connection, uid: int, settings: Settings) -> None:
    """A grading process: grades the submissions it is sent, within its memory limit."""
    sandbox.become_subreaper()
    limit = int(settings.limits.memory_gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    while True:
        try:
            n, path = connection.recv()
        except EOFError:
            return
        connection.send((n, grade_one(path, settings, uid)))


def _grade_all(found: list[Path], uids: list[int], settings: Settings, bar) -> list[dict]:
    """Grade `found`, one grading process per uid. A process that dies costs only the
    submission it was grading an error row; a new one takes its place."""
    context = multiprocessing.get_context("spawn")
    todo = list(enumerate(found))[::-1]
    results: dict[int, dict] = {}
    workers: dict = {}  # connection -> [process, uid, submission number or None]

    def start(uid: int) -> None:
        ours, theirs = context.Pipe()
        process = context.Process(target=_worker, args=(theirs, uid, settings), daemon=True)
        process.start()
        theirs.close()
        workers[ours] = [process, uid, None]

    for uid in uids:
        start(uid)
    try:
        while len(results) < len(found):
            for connection, worker in workers.items():
                if worker[2] is None and todo:
                    worker[2], path = todo.pop()
                    connection.send((worker[2], path))
            busy = {c: w for c, w in workers.items() if w[2] is not None}
            ready = multiprocessing.connection.wait(
                [*busy, *(w[0].sentinel for w in busy.values())]
            )
            for connection, (process, uid, n) in busy.items():
                if connection not in ready and process.sentinel not in ready:
                    continue
                try:
                    n, results[n] = connection.recv()
                    workers[connection][2] = None
                except (EOFError, OSError, pickle.UnpicklingError):
                    process.join()
                    error = (
                        f"grading failed: its grading process died (exit code "
                        f"{process.exitcode}: out of memory, or killed)"
                    )
                    results[n] = _row(found[n], settings.mode, error)
                bar.update()
                if not process.is_alive():
                    del workers[connection]
                    connection.close()
                    start(uid)
    finally:
        for connection, (process, _, _) in workers.items():
            connection.close()
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return [results[n] for n in range(len(found))]


def _data_copy(batch: Path) -> Path | None:
    """A copy of the MNIST files that any kernel may read (bound read-only), or None."""
    raw = data_root() / "MNIST" / "raw"
    if not raw.is_dir():
        return None
    target = batch / "data" / "MNIST" / "raw"
    target.mkdir(parents=True)
    for name in MNIST_FILES:
        try:
            if (raw / name).is_file():
                shutil.copyfile(raw / name, target / name)
            elif (raw / f"{name}.gz").is_file():
                with gzip.open(raw / f"{name}.gz") as src, open(target / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        except (OSError, EOFError):
            (target / name).unlink(missing_ok=True)  # the lesson will say the file is missing
    for folder in (batch / "data", batch / "data" / "MNIST", target):
        folder.chmod(0o755)
    for file in target.iterdir():
        file.chmod(0o444)
    return batch / "data"


def grade(
    paths: list[Path],
    lessons_dir: Path = NOTEBOOKS_DIR,
    out: Path = Path("grades.csv"),
    timeout: int = 120,
    jobs: int | None = None,
    memory_gib: float = 8,
    isolation: str | None = None,
    progress: bool = True,
    select: Callable[[list[Path]], list[Path]] | None = None,
    total_timeout: float = 900,
) -> list[dict]:
    """Grade every submission in `paths` (files or folders) and write `out` once all are done.

    `jobs` submissions are graded at a time (default: one per core), each within `timeout`
    seconds per cell and `total_timeout` in all; each kernel and each grading process within
    `memory_gib` of address space. `isolation` is the sandbox mode (default: the strongest this
    machine allows, `sandbox.detect_mode`). `select` picks the share of the submissions found
    to grade (`shards.select`).
    """
    out = Path(out)
    if out.suffix == ".json":
        raise ValueError(f"out is the CSV file (the JSON goes beside it), got {out}")
    for name, value in (
        ("timeout", timeout),
        ("total_timeout", total_timeout),
        ("jobs", 1 if jobs is None else jobs),
        ("memory", memory_gib),
    ):
        if not value > 0:
            raise ValueError(f"{name} is {value}; expected a positive number")
    if isolation not in (None, *sandbox.MODES):
        raise ValueError(f"isolation is {isolation!r}; expected one of {', '.join(sandbox.MODES)}")
    lesson_paths = lessons(Path(lessons_dir))
    found = submissions(paths)
    found = select(found) if select else found
    if not found:
        write_results([], out)
        return []
    cores = len(os.sched_getaffinity(0))
    jobs = min(jobs or cores, len(found))
    mode = isolation or sandbox.detect_mode()
    hidden = [
        REPO_ROOT,
        PACKAGE_DIR,  # where the package is installed, references included
        Path(lessons_dir),
        out.parent,
        *(p if p.is_dir() else p.parent for p in map(Path, paths)),
    ]
    root = os.geteuid() == 0
    with (
        sandbox.claimed_uids(jobs if root else 0) as claimed,
        tempfile.TemporaryDirectory(prefix="rnn-course-batch-") as batch,
    ):
        # as root, each kernel runs as a user of its own, whatever the mode
        uids = claimed if root else [os.getuid()] * jobs
        os.chmod(batch, 0o711)  # the kernels' users reach the data copy, see nothing else
        packages = {
            path.stem: kernel_package(
                Path(batch) / path.stem, path.stem, list(check_cells(_read_lesson(path)).values())
            )
            for path in lesson_paths
        }
        settings = Settings(
            lesson_paths=lesson_paths,
            timeout=timeout,
            total_timeout=total_timeout,
            mode=mode,
            limits=sandbox.Limits(memory_gib=memory_gib, cpu_s=max(600, 20 * timeout)),
            data=_data_copy(Path(batch)),
            hidden=[p.resolve() for p in hidden],
            threads=max(1, cores // jobs),
            packages=packages,
        )
        with tqdm(total=len(found), desc="grading", unit="notebook", disable=not progress) as bar:
            rows = _grade_all(found, uids, settings, bar)
    write_results(rows, out)  # only now: every kernel of the batch is gone
    return rows


# ----------------------------------------------------------------------------- the results


def review(row: dict) -> str:
    """What the instructor should look at in a row: notes and answers equal to the solution."""
    copied = ", ".join(row["matches_solution"])
    return "; ".join([f"matches the published solution: {copied}"] * bool(copied) + row["notes"])


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _inert(value):
    """A CSV cell that no spreadsheet reads as a formula: such text gets a leading quote."""
    return f"'{value}" if isinstance(value, str) and value.startswith(CSV_FORMULA) else value


def write_results(rows: list[dict], out: Path) -> None:
    """Write the rows to `out` (CSV: one column per exercise) and the full rows to JSON beside it."""
    names = list(dict.fromkeys(name for row in rows for name in row["marks"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", "lesson", *names, "total", "max", "time_s", "error", "review"])
    for row in rows:
        marks = [row["marks"].get(name, "") for name in names]
        cells = [row["submission"], row["lesson"] or "", *marks, row["total"], row["max"]]
        cells += [row["time_s"], row["error"], review(row)]
        writer.writerow([_inert(cell) for cell in cells])
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(out, buffer.getvalue())
    _write_atomically(out.with_suffix(".json"), json.dumps(rows, indent=2) + "\n")


def format_table(rows: list[dict]) -> str:
    """A plain-text table per lesson (marks, total, time, error), then what to review."""
    tables = []
    for lesson in dict.fromkeys(row["lesson"] for row in rows):
        group = [row for row in rows if row["lesson"] == lesson]
        names = list(group[0]["marks"])
        table = [["submission", *names, "total", "time (s)", "error"]]
        for row in group:
            marks = [str(row["marks"].get(name, "")) for name in names]
            total = f"{row['total']}/{row['max']}"
            table.append([row["submission"], *marks, total, f"{row['time_s']:.1f}", row["error"]])
        widths = [max(len(line[i]) for line in table) for i in range(len(table[0]) - 1)]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(line, widths)) + "  " + line[-1] for line in table
        ]
        lines += [f"review {row['submission']}: {review(row)}" for row in group if review(row)]
        tables.append(f"lesson {lesson or '?'}\n" + "\n".join(line.rstrip() for line in lines))
    return "\n\n".join(tables)
