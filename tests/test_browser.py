"""A lesson run in JupyterLab in a real (headless) Chromium, as a student runs it.

JupyterLab starts from this project's environment on 127.0.0.1 with a token, in quick mode
(RNN_COURSE_QUICK=1) and the students' check mode (fallback), serving a temporary copy of the
lesson in which one exercise's answer is wrong; Playwright drives Debian's Chromium: open the
lesson, Run > Run All Cells, wait for every cell, then assert that no cell shows an error or
anything on stderr, that a plot rendered, that the wrong answer's FAIL is a red block headed by
the exercise's name while a PASS is a small green line, that no `recorded` line is in view, and
that the Markdown rendered: formulas typeset, no raw markup. The same runs for the lesson's
Chinese edition (notebooks/zh/), whose Markdown must render as Chinese text.
Screenshots (top, first plot, the FAIL block, end) go to build/browser/ (zh/ for the Chinese).

Needs the `playwright` Python package (its driver is bundled; no browser download) and a
Chromium (`apt-get install chromium`, or RNN_COURSE_CHROMIUM=/path/to/chrome); skipped otherwise.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from rnn_course.settings import CHECKS_ENV, QUICK_ENV, REPO_ROOT

LESSON = REPO_ROOT / "notebooks" / "02_time_series.ipynb"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
WRONG_EXERCISE = "standardize"  # its answer in the copy: the test set scaled with its own mean
WRONG_ANSWER = """def standardize(train, test):
    return (train - train.mean()) / train.std(), (test - test.mean()) / test.std()
"""
ARTIFACTS = REPO_ROOT / "build" / "browser"
CHROMIUM_ENV = "RNN_COURSE_CHROMIUM"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_S = 90
PAGE_LOAD_S = 90
RUN_ALL_S = 600
KERNEL_IDLE = re.compile(r"^(?!No Kernel).+ \| Idle$")  # "Python 3 (ipykernel) | Idle"


def find_chromium() -> str | None:
    """$RNN_COURSE_CHROMIUM, else the first Chromium or Chrome on PATH."""
    if os.environ.get(CHROMIUM_ENV):
        return shutil.which(os.environ[CHROMIUM_ENV])
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the browser test needs `pip install playwright`"
)
pytest.importorskip("jupyterlab", reason="the browser test needs `pip install jupyterlab`")
CHROMIUM = find_chromium()
if CHROMIUM is None:
    pytest.skip(
        f"no Chromium found (install Debian's `chromium`, or set {CHROMIUM_ENV} to its path; "
        f"it is {os.environ.get(CHROMIUM_ENV)!r})",
        allow_module_level=True,
    )


# --------------------------------------------------------------------------- JupyterLab server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_settings(settings_dir: Path) -> None:
    """User settings: every cell kept in the page (no windowing), no news or update checks."""
    settings = {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }
    for plugin, values in settings.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _die_with_parent() -> None:
    """In the child, on Linux: get SIGTERM if pytest dies, so no server outlives the test run."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class JupyterLab:
    """`python -m jupyter lab` on loopback with a token, serving `root`; stopped by `stop()`."""

    def __init__(self, root: Path, home: Path):
        self.root, self.token, self.port = root, secrets.token_hex(16), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env[QUICK_ENV] = "1"
        env[CHECKS_ENV] = "fallback"  # as a student runs it (pytest's own default is strict)
        env.pop("MPLBACKEND", None)  # the kernel's inline backend draws the plots
        env.pop("TQDM_DISABLE", None)
        for name in ("CONFIG", "DATA", "RUNTIME"):
            env[f"JUPYTER_{name}_DIR"] = str(home / name.lower())
        env["JUPYTERLAB_SETTINGS_DIR"] = str(home / "lab-settings")
        env["JUPYTERLAB_WORKSPACES_DIR"] = str(home / "lab-workspaces")
        env["IPYTHONDIR"] = str(home / "ipython")
        _write_settings(home / "lab-settings")
        self.log_path = home / "jupyterlab.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.news_url=",
                "--LabApp.extension_manager=readonly",  # no PyPI queries
                "--ServerApp.terminals_enabled=False",
                *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
            ],
            env=env,
            cwd=root,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_until_ready(self, timeout: float = SERVER_START_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                request = urllib.request.Request(
                    f"{self.url}/api/status", headers={"Authorization": f"token {self.token}"}
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        pytest.fail(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM (the server shuts its kernels down), then SIGKILL the group if it hangs."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=10)
        finally:
            self._log.close()


@pytest.fixture
def jupyter_lab(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    server = JupyterLab(root, tmp_path / "jupyter-home")
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- the browser


_CELL_STATE = """() => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
  const prompts = cells.map(c => (c.querySelector('.jp-InputArea-prompt') || {}).textContent || '');
  const bad = [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')]
    .filter(o => /stderr|error/.test(o.getAttribute('data-mime-type') || ''))
    .map(o => o.innerText.slice(0, 2000));
  const images = [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output img')]
    .filter(img => img.complete && img.naturalWidth > 0).length;
  const look = el => el && {
    text: el.innerText, color: getComputedStyle(el).color,
    background: getComputedStyle(el).backgroundColor, height: el.getBoundingClientRect().height,
  };
  const outputs = [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')];
  const markdown = [...document.querySelectorAll('.jp-Notebook .jp-MarkdownCell .jp-RenderedMarkdown')];
  return {
    markdown: markdown.map(m => m.innerText).join('\\n'),
    formulas: document.querySelectorAll('.jp-Notebook .jp-RenderedMarkdown mjx-container').length,
    fail: look(document.querySelector('.jp-Notebook .rnn-course-fail')),
    pass: look(document.querySelector('.jp-Notebook .rnn-course-pass')),
    recorded: outputs.filter(o => /^recorded /m.test(o.innerText)).length,
    cells: cells.length,
    done: prompts.filter(p => /\\[\\d+\\]/.test(p)).length,
    running: prompts.filter(p => p.includes('*')).length,
    bad, images,
  };
}"""


def run_all_in_jupyterlab(server: JupyterLab, notebook: Path, artifacts: Path) -> dict:
    """Open `notebook` (in the server's root) in Chromium, run all cells, save; return the state."""
    artifacts.mkdir(parents=True, exist_ok=True)
    name = notebook.stem
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(server.root.parent / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1600},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(PAGE_LOAD_S * 1000)
            page.goto(f"{server.url}/lab/tree/{notebook.name}?token={server.token}")
            page.locator(".jp-Notebook .jp-CodeCell").first.wait_for(state="visible")
            # The kernel named by the notebook (python3) starts by itself: wait until the status
            # bar says it is idle ("No Kernel | Initializing", "Connecting"... come first).
            kernel_idle = page.locator(".jp-StatusBar-TextItem", has_text=KERNEL_IDLE)
            kernel_idle.wait_for()
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

            deadline = time.monotonic() + RUN_ALL_S
            state = page.evaluate(_CELL_STATE)
            while time.monotonic() < deadline:
                state = page.evaluate(_CELL_STATE)
                # Run All queues every cell ([*]); an error clears the queue. Either way the run
                # is over when nothing is queued any more.
                if state["done"] and not state["running"]:
                    break
                time.sleep(1)
            kernel_idle.wait_for()
            state = page.evaluate(_CELL_STATE)

            page.keyboard.press("Control+s")  # the student's save: outputs go to the file
            page.locator(".jp-mod-dirty").wait_for(state="detached")
            page.locator(".jp-Notebook .jp-Cell").first.scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / f"{name}.png"))
            if state["images"]:
                page.locator(
                    ".jp-Notebook .jp-OutputArea-output img"
                ).first.scroll_into_view_if_needed()
                page.screenshot(path=str(artifacts / f"{name}_plot.png"))
            if state["fail"]:
                failure = page.locator(".jp-Notebook .rnn-course-fail").first
                failure.scroll_into_view_if_needed()
                page.screenshot(path=str(artifacts / f"{name}_fail.png"))
            page.locator(".jp-Notebook .jp-Cell").last.scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / f"{name}_end.png"))
        finally:
            context.close()
    return state


@pytest.mark.parametrize("edition", ["", "zh"], ids=["english", "chinese"])
def test_lesson_runs_in_jupyterlab_in_chromium(jupyter_lab, edition):
    path = LESSON.parent / edition / LESSON.name
    assert path.is_file(), f"{path} is missing: the browser test runs that lesson"
    notebook = jupyter_lab.root / LESSON.name
    lesson = nbformat.read(path, as_version=4)  # the browser saves into this copy
    (solution,) = [
        cell for cell in lesson.cells if cell.source.startswith(f"def {WRONG_EXERCISE}(")
    ]
    solution.source = WRONG_ANSWER
    nbformat.write(lesson, notebook)
    state = run_all_in_jupyterlab(jupyter_lab, notebook, ARTIFACTS / edition)

    assert not state["bad"], "cells printed errors or warnings:\n" + "\n---\n".join(state["bad"])
    assert state["done"] == state["cells"] > 0, (
        f"only {state['done']} of {state['cells']} code cells ran within {RUN_ALL_S} s "
        f"({state['running']} still running)\n{jupyter_lab.log_tail()}"
    )
    assert state["images"] > 0, "no plot rendered as an <img> in an output area"
    fail, passed = state["fail"], state["pass"]
    assert fail, "the wrong answer's check shows no FAIL block"
    assert f"FAIL: exercise {WRONG_EXERCISE}" in fail["text"], fail["text"]
    assert f"using the reference `{WRONG_EXERCISE}` until yours passes" in fail["text"]
    assert passed, "the right answers' checks show no PASS line"
    assert fail["background"] != passed["background"] and fail["color"] != passed["color"], (
        f"a FAIL ({fail}) and a PASS ({passed}) look alike"
    )
    assert fail["height"] > 2 * passed["height"], f"the FAIL block is not a block: {fail}"
    assert state["recorded"] == 0, f"{state['recorded']} `recorded` lines are in view"
    english_formulas = sum(
        cell.source.count("$") for cell in lesson.cells if cell.cell_type == "markdown"
    )
    assert state["formulas"] > 0 or not english_formulas, "no formula was typeset"
    raw = re.findall(r"\*\*\S|\$\S|\]\(http", state["markdown"])
    assert not raw, f"raw Markdown or LaTeX in the rendered text: {raw[:5]}"
    chinese = len(CHINESE.findall(state["markdown"]))
    assert (chinese > 500) == (edition == "zh"), f"{chinese} Chinese characters rendered"

    saved = nbformat.read(notebook, as_version=4)
    outputs = [o for cell in saved.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the saved file has no plot"
    first_line = "".join(o.get("text", "") for o in saved.cells[1].outputs)
    assert "| mode: quick |" in first_line, f"the kernel did not run in quick mode: {first_line!r}"
