"""`grade`: grade students' notebooks on verdicts that no submission can forge.

A submission is graded from the instructor's copy of its lesson (`notebooks/`, matched by the
`NN_` prefix or the name of the file): the student's answers, the lines that took the place of
each stub of the student edition (`rnn_course.tools.release`), go into the solution blocks;
nothing else the student wrote runs, and the cells changed outside the blocks are reported.

That grading copy runs in a fresh kernel, in quick mode, with `RNN_COURSE_CHECKS=record`, in a
`sandbox.Sandbox` of its own (its own copy of the package, its own user and namespaces when the
machine allows them, limits). In the kernel each check cell, found by its nbgrader metadata
(`grade: true`, `grade_id: NAME`) in the instructor's lesson, only records what the answer
returned on the check's seeded inputs, as plain data under `RECORD_MIME`. Once the kernel is
gone, the grader replays each exercise's record with its own copy of the checks, in its own
process (`Exercise.replay`): an exercise scores 1 when its check cell showed exactly one
record and that record passes, 0 otherwise, with a message. The grader keeps no other output.
"""

from __future__ import annotations

import ast
import concurrent.futures
import copy
import csv
import dataclasses
import functools
import gzip
import io
import json
import multiprocessing
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import tokenize
from difflib import SequenceMatcher
from pathlib import Path

import nbformat
import zmq
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete, CellTimeoutError, DeadKernelError
from tqdm.auto import tqdm

from ..check import RECORD_MIME, exercises
from ..data import MNIST_FILES
from ..settings import CHECKS_ENV, PACKAGE_DIR, QUICK_ENV, REPO_ROOT, data_root
from . import sandbox
from .release import STUB, clear_outputs, fill_solutions, solution_blocks, student_edition
from .runner import NOTEBOOKS_DIR, lessons

TIMEOUT_ERROR = "CellTimeout"
MAX_TIMEOUTS = 3  # per submission: a kernel that ignores interrupts must not cost hours
MAX_SUBMISSION_BYTES = 20 * 2**20
MAX_OUTPUT_CHARS = 1_000_000  # printed or displayed by one submission; none of it is kept
MAX_RECORD_CHARS = 1_000_000  # one record (a real one is a few kilobytes)
MAX_MESSAGE_BYTES = 8 * 2**20  # one kernel message: larger ones are dropped by the transport
MAX_QUEUED_MESSAGES = 200  # waiting to be read: at most 1.6 GB
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
# Names through which an answer can reach the grader's tools, the kernel or the file system.
TOOLS = frozenset(
    """rnn_course check _core exercises reference replay RECORD_MIME display update_display
    clear_output publish_display_data sys importlib import_module __import__ builtins
    __builtins__ setattr delattr getattr globals locals vars _getframe f_globals f_locals f_back
    f_builtins tb_frame inspect gc get_ipython IPython ipykernel InteractiveShell
    input_transformers_post input_transformers_cleanup ast_transformers events exec eval compile
    __globals__ __code__ __closure__ __subclasses__ __class__ __dict__ __torch_function__
    __torch_dispatch__ as_subclass _make_subclass ctypes os subprocess signal threading
    multiprocessing socket shutil open pathlib Path atexit marshal pickle zmq""".split()
)


class NotGradable(Exception):
    """A submission that cannot be graded (not a regular file, too big, unreadable...)."""


class _Stop(Exception):
    """A submission's run cannot go on (too many cells over the time limit, output lost)."""


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


def _match_cells(lesson_cells: list, submitted_cells: list) -> list[int | None]:
    """For each code cell of the student edition, the submitted cell it became.

    A cell is found by its id, else as the most alike unmatched code cell (ids change when a
    lesson's cells are recreated, or in some editors).
    """
    code = [k for k, cell in enumerate(submitted_cells) if cell.get("cell_type") == "code"]
    by_id = {submitted_cells[k].get("id"): k for k in code if submitted_cells[k].get("id")}
    match: list[int | None] = [None] * len(lesson_cells)
    for n, cell in enumerate(lesson_cells):
        if cell.cell_type == "code" and cell.get("id") in by_id:
            match[n] = by_id[cell.get("id")]
    for n, cell in enumerate(lesson_cells):
        if cell.cell_type == "code" and match[n] is None:
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


def extract_answers(
    released: str, ranges: list[tuple[int, int]], submitted: str
) -> tuple[list[list[str]], bool]:
    """The student's answers: the lines of `submitted` that stand where `released` has stubs.

    `ranges` are the stubs' line ranges in `released` (from `fill_solutions`). Also returns
    whether the lines around the stubs differ from the released ones.
    """
    expected, got = released.split("\n"), submitted.split("\n")
    blocks = SequenceMatcher(None, expected, got, autojunk=False).get_matching_blocks()
    answers, spans = [], []
    for start, stop in ranges:
        # the last line kept before the stub and the first one kept after it anchor the answer
        begin = max((j + min(n, start - i) for i, j, n in blocks if i < start), default=0)
        end = min((j + max(0, stop - i) for i, j, n in blocks if i + n > stop), default=len(got))
        end = max(begin, end)
        answers.append(got[begin:end])
        spans.append((begin, end))
    edges = [0] + [x for span in spans for x in span] + [len(got)]
    released_edges = [0] + [x for span in ranges for x in span] + [len(expected)]
    outside = [got[a:b] for a, b in zip(edges[::2], edges[1::2])]
    released_outside = [expected[a:b] for a, b in zip(released_edges[::2], released_edges[1::2])]
    return answers, outside != released_outside


def tools_named(lines: list[str]) -> list[str]:
    """The names in `TOOLS` that an answer's code (comments aside) or strings mention."""
    text = "\n".join(line.strip() for line in lines)
    words: list[str] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.COMMENT:
                words += re.findall(r"\w+", token.string)
    except (tokenize.TokenError, SyntaxError):
        words = re.findall(r"\w+", text)
    return [word for word in dict.fromkeys(words) if word in TOOLS]


def grading_copy(
    lesson: nbformat.NotebookNode, submitted: nbformat.NotebookNode
) -> tuple[nbformat.NotebookNode, dict, list[str]]:
    """The lesson with the student's answers in its solution blocks, outputs cleared.

    Returns it, the code cells changed outside the solution blocks (numbered from 1 in the
    lesson: {"changed": [...], "deleted": [...], "added": n}) and notes for the instructor.
    """
    notebook = copy.deepcopy(lesson)
    clear_outputs(notebook)
    match = _match_cells(student_edition(lesson).cells, submitted.cells)
    changes: dict = {"changed": [], "deleted": [], "added": 0}
    notes = []
    for index, (cell, k) in enumerate(zip(notebook.cells, match)):
        if cell.cell_type != "code":
            continue
        if k is None:
            changes["deleted"].append(index + 1)
        student_source = submitted.cells[k].source if k is not None else None
        blocks = solution_blocks(cell.source)
        if not blocks:
            if student_source is not None and student_source != cell.source:
                changes["changed"].append(index + 1)
            continue
        released, ranges = fill_solutions(cell.source, [None] * len(blocks))
        answers: list[list[str] | None] = [None] * len(blocks)
        if student_source is not None:
            found, changed = extract_answers(released, ranges, student_source)
            if changed:
                changes["changed"].append(index + 1)
            for number, (answer, (_, _, indent)) in enumerate(zip(found, blocks)):
                if any(line.strip() and not line.startswith(indent) for line in answer):
                    notes.append(
                        f"cell {index + 1}: answer {number + 1} is indented less than its "
                        "solution block, so it would run outside the function: not used"
                    )
                    continue
                answers[number] = answer
                named = tools_named(answer)
                if named:
                    notes.append(
                        f"cell {index + 1}: the answer uses {', '.join(f'`{w}`' for w in named)}, "
                        "which can reach into the grader's tools: review it"
                    )
        cell.source = fill_solutions(cell.source, answers)[0]
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


class _Client(NotebookClient):
    """nbclient that keeps no output: only each check cell's records, each within a size cap.

    Every other output (streams, displays, display_id updates, results, errors) is only
    counted; `clear_output` and widget messages have nothing to act on.
    """

    def __init__(self, notebook, checks: dict[int, str], **kwargs):
        super().__init__(notebook, **kwargs)
        self.checks = checks
        self.records: dict[int, list] = {}
        self.output_chars = 0
        self.finished: set[int] = set()  # cells whose end the output channel reported

    def process_message(self, msg, cell, cell_index):
        msg_type, content = msg.get("msg_type"), msg.get("content")
        if not isinstance(content, dict):
            return None
        if msg_type == "status":
            if content.get("execution_state") == "idle":
                self.finished.add(cell_index)
                raise CellExecutionComplete()
            return None
        if msg_type not in OUTPUT_TYPES:
            return None
        data = content.get("data")
        if msg_type == "display_data" and isinstance(data, dict) and RECORD_MIME in data:
            records = self.records.setdefault(cell_index, [])
            if cell_index in self.checks and len(records) < 2:
                size = len(json.dumps(data[RECORD_MIME], default=str))
                records.append(data[RECORD_MIME] if size <= MAX_RECORD_CHARS else size)
        else:
            self.output_chars += len(json.dumps(content, default=str))
        return None


@dataclasses.dataclass
class Run:
    """What executing a grading copy left: replies per cell, records, why it stopped."""

    replies: dict[int, dict]
    records: dict[int, list]
    stopped: str
    output_chars: int
    lost_from: int | None  # the first cell whose output never came (see `LOST`)


def execute(
    notebook: nbformat.NotebookNode, checks: dict[int, str], box: sandbox.Sandbox, timeout: int
) -> Run:
    """Run `notebook` in a fresh kernel in `box` (quick mode, record mode).

    A cell over `timeout` seconds is interrupted and the run goes on (up to `MAX_TIMEOUTS`
    times); errors do not stop it. The kernel's own stdout and stderr are discarded.
    """
    replies: dict[int, dict] = {}
    lost_from = None

    def on_cell_executed(cell, cell_index, execute_reply):
        nonlocal lost_from
        content = (execute_reply or {}).get("content", {})
        replies[cell_index] = content if isinstance(content, dict) else {}
        timed_out = replies[cell_index].get("ename") == TIMEOUT_ERROR
        if not timed_out and cell_index not in client.finished:
            lost_from = cell_index
            raise _Stop(f"from cell {cell_index + 1} on, {LOST}: the rest was not run")
        timeouts = sum(reply.get("ename") == TIMEOUT_ERROR for reply in replies.values())
        if timeouts >= MAX_TIMEOUTS:
            raise _Stop(f"{timeouts} cells ran over {timeout} s: the rest was not run")

    km = _KernelManager(kernel_name="python3", transport="ipc")
    km.connection_file = str(box.connection_file)
    km.box = box
    client = _Client(
        notebook,
        checks,
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
    env = box.environment({QUICK_ENV: "1", CHECKS_ENV: "record", "TQDM_DISABLE": "1"})
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
    return Run(replies, client.records, stopped, client.output_chars, lost_from)


def _error_of(reply: dict | None) -> str:
    if not reply or reply.get("status") == "ok":
        return ""
    return f"{str(reply.get('ename'))[:80]}: {str(reply.get('evalue'))[:200]}"


def verdicts(
    checks: dict[int, str], answers: dict[str, int], run: Run
) -> tuple[dict[str, int], dict[str, str]]:
    """Each exercise's mark and message, from its check cell's record, replayed here."""
    marks, messages = {}, {}
    for index, name in checks.items():
        records = run.records.get(index, [])
        reply = run.replies.get(index)
        marks[name] = 0
        if len(records) > 1:
            messages[name] = (
                "the check cell showed more than one record (does your answer display "
                "something?): not graded"
            )
        elif records and isinstance(records[0], int):
            messages[name] = (
                f"the record of your answer is {records[0]:,} characters, over the "
                f"{MAX_RECORD_CHARS:,} limit: dropped"
            )
        elif records and isinstance(records[0], dict) and records[0].get("exercise") != name:
            other = str(records[0].get("exercise"))[:60]
            messages[name] = f"the check cell showed a record of `{other}`, not of `{name}`"
        elif records:
            try:
                verdict = exercises()[name].replay(records[0])
                marks[name], messages[name] = int(verdict.passed), verdict.message
            except Exception as err:  # replay is built not to raise; a bug must not stop grading
                messages[name] = f"the record could not be replayed ({type(err).__name__})"
        elif reply is None or (run.lost_from is not None and index >= run.lost_from):
            messages[name] = f"not checked: {run.stopped or 'the check cell did not run'}"
        else:
            error = _error_of(reply)
            shown = f"raised {error}" if error else "showed none"
            messages[name] = f"no record of your answer: the check cell {shown}"
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
    mode: str
    limits: sandbox.Limits
    data: Path | None
    hidden: list[Path]
    threads: int


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
            PACKAGE_DIR,
            settings.data,
            settings.hidden,
            settings.threads,
        )
        try:
            nbformat.write(notebook, box.work / lesson_path.name)
            run = execute(notebook, checks, box, settings.timeout)
        finally:
            left = sandbox.stop_descendants()  # this process is a subreaper: orphans included
            box.remove()
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

_worker: dict = {}


def _start_worker(slots, uids: list[int], settings: Settings) -> None:
    sandbox.become_subreaper()
    _worker.update(uid=uids[slots.get()], settings=settings)


def _grade_in_worker(path: Path) -> dict:
    return grade_one(path, _worker["settings"], _worker["uid"])


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
) -> list[dict]:
    """Grade every submission in `paths` (files or folders) and write `out` once all are done.

    `jobs` submissions are graded at a time (default: one per core). `isolation` is the
    sandbox mode (default: the strongest this machine allows, `sandbox.detect_mode`).
    """
    out = Path(out)
    if out.suffix == ".json":
        raise ValueError(f"out is the CSV file (the JSON goes beside it), got {out}")
    for name, value in (
        ("timeout", timeout),
        ("jobs", 1 if jobs is None else jobs),
        ("memory", memory_gib),
    ):
        if not value > 0:
            raise ValueError(f"{name} is {value}; expected a positive number")
    if isolation not in (None, *sandbox.MODES):
        raise ValueError(f"isolation is {isolation!r}; expected one of {', '.join(sandbox.MODES)}")
    lesson_paths = lessons(Path(lessons_dir))
    found = submissions(paths)
    if not found:
        write_results([], out)
        return []
    cores = len(os.sched_getaffinity(0))
    jobs = min(jobs or cores, len(found))
    mode = isolation or sandbox.detect_mode()
    # as root, each kernel runs as a user of its own, whatever the mode
    uids = sandbox.free_uids(jobs) if os.geteuid() == 0 else [os.getuid()] * jobs
    hidden = [
        REPO_ROOT,
        Path(lessons_dir),
        out.parent,
        *(p if p.is_dir() else p.parent for p in map(Path, paths)),
    ]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="rnn-course-batch-") as batch:
        os.chmod(batch, 0o711)  # the kernels' users reach the data copy, see nothing else
        settings = Settings(
            lesson_paths=lesson_paths,
            timeout=timeout,
            mode=mode,
            limits=sandbox.Limits(memory_gib=memory_gib, cpu_s=max(600, 20 * timeout)),
            data=_data_copy(Path(batch)),
            hidden=[p.resolve() for p in hidden],
            threads=max(1, cores // jobs),
        )
        context = multiprocessing.get_context("spawn")
        slots = context.Queue()
        for slot in range(jobs):
            slots.put(slot)
        results: dict[int, dict] = {}
        with (
            concurrent.futures.ProcessPoolExecutor(
                jobs,
                mp_context=context,
                initializer=_start_worker,
                initargs=(slots, uids, settings),
            ) as pool,
            tqdm(total=len(found), desc="grading", unit="notebook", disable=not progress) as bar,
        ):
            futures = {pool.submit(_grade_in_worker, path): n for n, path in enumerate(found)}
            for future in concurrent.futures.as_completed(futures):
                n = futures[future]
                try:
                    results[n] = future.result()
                except Exception as err:  # the grading process itself died
                    error = f"grading failed: {type(err).__name__}: {err}"[:300]
                    results[n] = _row(found[n], mode, error)
                bar.update()
        rows = [results[n] for n in range(len(found))]
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


def write_results(rows: list[dict], out: Path) -> None:
    """Write the rows to `out` (CSV: one column per exercise) and the full rows to JSON beside it."""
    names = list(dict.fromkeys(name for row in rows for name in row["marks"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", "lesson", *names, "total", "max", "time_s", "error", "review"])
    for row in rows:
        marks = [row["marks"].get(name, "") for name in names]
        writer.writerow(
            [
                row["submission"],
                row["lesson"] or "",
                *marks,
                row["total"],
                row["max"],
                row["time_s"],
                row["error"],
                review(row),
            ]
        )
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
