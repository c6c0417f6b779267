"""`run-all`: execute every lesson in order, each in a fresh kernel, and report the results."""

from __future__ import annotations

import datetime
import json
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from ..results import results_of
from ..settings import CHECKS_ENV, QUICK_ENV, REPO_ROOT, SEED_ENV, seed_offset
from .notebook import STAMP_KEY, code_hash, has_solutions

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
# Committed full-mode reports of devices other than the one whose outputs the notebooks hold:
# one file per device (results/cuda.json), written by `run-all --device-file`.
RESULTS_DIR = REPO_ROOT / "results"


def lessons(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The lesson notebooks in `folder`, in order (01_..., 02_...)."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def _first_error_line(exc: Exception) -> str:
    if isinstance(exc, CellExecutionError):
        return f"{exc.ename}: {exc.evalue}".strip()[:300]
    return f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:300]


def run_lesson(
    path: Path, quick: bool, timeout: int = 1800, seed: int | None = None
) -> tuple[nbformat.NotebookNode, dict]:
    """Execute one lesson from a fresh kernel in its own folder; return the notebook and a report.

    `seed` becomes the lesson's `RNN_COURSE_SEED` (None: keep the one set, default 0).
    """
    notebook = nbformat.read(path, as_version=4)
    seed = seed_offset() if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    os.environ[QUICK_ENV] = "1" if quick else "0"
    os.environ[SEED_ENV] = str(seed)
    # The solutions must pass their checks; a student edition goes on with the references.
    os.environ[CHECKS_ENV] = "strict" if has_solutions(notebook) else "fallback"
    os.environ["TQDM_DISABLE"] = "1"  # progress bars are for people; batch runs store none
    for (
        cell
    ) in notebook.cells:  # a failed run must not report the stored outputs of cells it never ran
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no start-up chatter in the table
    )
    start = time.perf_counter()
    error = ""
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        error = _first_error_line(exc)
    report = {
        "lesson": path.stem,
        "status": "failed" if error else "ok",
        "error": error,
        "mode": "quick" if quick else "full",
        "seed": seed,
        "code_hash": code_hash(notebook),
        "wall_time_s": round(time.perf_counter() - start, 1),
        "date": datetime.date.today().isoformat(),
        "setup": _setup_line(notebook),
        "cpus": os.cpu_count(),
        "results": results_of(notebook),
    }
    return notebook, report


def _setup_line(notebook: nbformat.NotebookNode) -> str:
    """The line the setup cell printed (device, mode, versions), or "" when there is none."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith("device: "):
                    return line
    return ""


def device_of(report: dict) -> str:
    """The device a report's setup line names ('cpu', 'cuda', 'mps'), or '' when none."""
    for part in report.get("setup", "").split("|"):
        key, _, value = part.strip().partition(" ")
        if key == "device:":
            return value.split(":")[0]
    return ""


def save_device_results(reports: list[dict], folder: Path = RESULTS_DIR) -> list[Path]:
    """Keep each passing full-mode report in `folder`/DEVICE.json (lesson -> report).

    A lesson run again replaces its entry; the other lessons' entries stay. Returns the files written.
    """
    written = []
    for device in sorted({device_of(r) for r in reports} - {""}):
        keep = [r for r in reports if device_of(r) == device]
        keep = [r for r in keep if r["status"] == "ok" and r["mode"] == "full"]
        if not keep:
            continue
        path = Path(folder) / f"{device}.json"
        saved = json.loads(path.read_text()) if path.is_file() else {}
        saved |= {r["lesson"]: r for r in keep}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(sorted(saved.items())), indent=2) + "\n")
        written.append(path)
    return written


def stamp(notebook: nbformat.NotebookNode, report: dict) -> None:
    """Mark executed outputs with the hash of the code that made them, the mode and the results."""
    notebook.metadata[STAMP_KEY] = {
        "code_hash": report["code_hash"],
        "mode": report["mode"],
        "seed": report["seed"],
        "wall_time_s": report["wall_time_s"],
        "date": report["date"],
        "setup": report["setup"],
        "cpus": report["cpus"],
        "results": report["results"],
    }


def format_table(reports: list[dict]) -> str:
    """A plain-text table: lesson, status, wall time, recorded results."""
    rows = [("lesson", "status", "time (s)", "results")]
    for r in reports:
        results = ", ".join(
            f"{name}={_short(item['value'])}{(' ' + item['unit']) if item['unit'] else ''}"
            for name, item in r["results"].items()
        )
        rows.append((r["lesson"], r["status"], f"{r['wall_time_s']:.1f}", r["error"] or results))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + "  " + row[3]
        for row in rows
    )


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def run_all(
    quick: bool = False,
    inplace: bool = False,
    out_dir: Path = REPO_ROOT / "build" / "run-all",
    only: list[str] | None = None,
    folder: Path = NOTEBOOKS_DIR,
    seed: int | None = None,
    timeout: int = 1800,
) -> list[dict]:
    """Run the lessons (all, or those whose names start with an entry of `only`) in order.

    Executed copies go to `out_dir` (with `inplace`, back into the lessons, stamped), and so
    does `results.json`. `seed` is `RNN_COURSE_SEED` for every lesson (None: the one set,
    default 0); `timeout` is the limit of one cell, in seconds. Returns one report per lesson.
    """
    paths = lessons(folder)
    if only:
        paths = [p for p in paths if any(p.stem.startswith(prefix) for prefix in only)]
        if not paths:
            raise ValueError(f"no lesson in {folder} starts with any of {only}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    reports = []
    for path in paths:
        print(f"running {path.name} ({'quick' if quick else 'full'} mode) ...", flush=True)
        notebook, report = run_lesson(path, quick, timeout, seed)
        reports.append(report)
        print(format_table([report]).splitlines()[1], flush=True)
        stamp(notebook, report)  # a copy's stamp tells its mode too
        if inplace and report["status"] == "ok":
            nbformat.write(notebook, path)
        else:
            nbformat.write(notebook, out_dir / path.name)
        (out_dir / "results.json").write_text(json.dumps(reports, indent=2) + "\n")
    return reports
