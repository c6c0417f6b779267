"""Hostile submissions: each attack is an answer that would earn marks if it worked.

Every attack sits in the answer of `linear_forward` (so it runs inside the kernel, when the
grader calls it) or in its answer cell, and returns the right result only when the attack
succeeded; otherwise it raises, like an unanswered stub. The attacks on the course's references
look for `_linear_forward` by every route an answer has: `sys.modules` and imports, frames and
the garbage collector, the package's files, an IPython input transformer and a `post_run_cell`
hook that would hand the later cells a wrapper around it. So "earns nothing" means every mark of the row is 0, while a
victim (the published solution, graded in the same batch) keeps its 3/3. The batch also shows
that nothing outside each submission's own copy changes: the instructor's lesson and package,
the other submissions, the results, and no process is left behind.
"""

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest
from fixtures.submissions import LESSON, LESSONS, NAMES, answered, edition, solution

from rnn_course.settings import PACKAGE_DIR
from rnn_course.tools.grading import MAX_OUTPUT_CHARS, MAX_RECORD_CHARS, format_table, grade

pytestmark = pytest.mark.long  # many notebooks: .ci/run runs it in its newest job only

DAEMON_MARK = "rnn-course-attack-daemon"
SUCCEED = "return x @ weight.T + bias  # the attack worked"


def attack(code: str) -> str:
    """An answer that runs `code`, which returns only if the attack worked, else raises."""
    return textwrap.dedent(code).strip() + "\nraise NotImplementedError()"


def find_reference(paths: dict) -> str:
    """Kernel code: `find_reference()`, the course's `_linear_forward` if any route reaches it."""
    return textwrap.dedent(f"""
        def find_reference():
            import gc, glob, importlib, os, sys
            wanted = "_linear_forward"
            for module in list(sys.modules.values()):
                try:
                    for found in (getattr(module, wanted, None),
                                  getattr(getattr(module, "linear_forward", None), "reference", None)):
                        if callable(found):
                            return found
                except Exception:
                    continue
            try:
                return getattr(importlib.import_module("rnn_course.check.lesson01"), wanted)
            except Exception:
                pass
            frame = sys._getframe()
            while frame is not None:
                for found in [*frame.f_locals.values(), *frame.f_globals.values()]:
                    if callable(found) and getattr(found, "__name__", "") == wanted:
                        return found
                frame = frame.f_back
            for found in gc.get_objects():
                if callable(found) and getattr(found, "__name__", "") == wanted:
                    return found
            import rnn_course
            folders = [os.path.dirname(rnn_course.__file__), {str(paths["package"])!r}]
            folders += glob.glob(sys.prefix + "/lib/python3*/site-packages/rnn_course")
            for folder in folders:
                for path in glob.glob(folder + "/check/lesson01.py"):
                    try:
                        source = open(path).read()
                    except OSError:
                        continue
                    if "def " + wanted in source:
                        space = {{"__name__": "stolen", "__package__": "rnn_course.check"}}
                        exec(compile(source, path, "exec"), space)
                        return space[wanted]
            return None
    """).strip()


def reference_hook(paths: dict, install: str) -> str:
    """An answer cell that installs `install` (using `swap`) to hand later cells the reference."""
    return (
        find_reference(paths)
        + textwrap.dedent("""


            def swap(*args, **kwargs):
                found = find_reference()
                if found is not None:
                    import rnn_course.check as check_package
                    from rnn_course.check._core import Local
                    check_package._answers["linear_forward"] = Local(lambda *a: found(*a))
                    get_ipython().user_ns["linear_forward"] = found


            from IPython import get_ipython

        """)
        + textwrap.dedent(install).strip()
        + "\n\n\ndef linear_forward(x, weight, bias):\n    raise NotImplementedError()\n"
    )


def spy(paths: dict, succeed: str = SUCCEED) -> str:
    """Read other students' submissions or the lesson (directly or through /proc), and
    overwrite the victim's."""
    return attack(f"""
        import glob, os
        own = os.getcwd()
        found = glob.glob({str(paths["subs"])!r} + "/*.ipynb") + glob.glob("/proc/*/cwd/*.ipynb")
        found += glob.glob("/proc/*/root" + {str(paths["subs"])!r} + "/*.ipynb") + [{str(LESSON)!r}]
        stolen = False
        for path in found:
            if os.path.realpath(path).startswith(own):
                continue  # its own copy
            try:
                open(path).read()
                stolen = True
                if "victim" in path:
                    open(path, "w").write("{{}}")
            except OSError:
                pass
        if stolen:
            {succeed}
    """)


def write_instructor(paths: dict, succeed: str = SUCCEED) -> str:
    """Write to the instructor's lesson and package, and to the submissions folder."""
    folders = [str(paths[key]) for key in ("lessons", "package", "subs")]
    return attack(f"""
        import pathlib
        reached = []
        for folder in {folders!r}:
            try:
                (pathlib.Path(folder) / "pwned.txt").write_text("pwned")
                reached.append(folder)
            except OSError:
                pass
        try:
            with open({str(LESSON)!r}, "r+b"):
                reached.append("lesson")
        except OSError:
            pass
        if reached:
            {succeed}
    """)


def daemon(paths: dict) -> str:
    """A double-forked setsid daemon that rewrites the results after the grader is done."""
    return attack(f"""
        import os
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                script = "for i in $(seq 60); do echo pwned > " + {str(paths["out"])!r} + "; sleep 0.5; done"
                os.execv("/bin/sh", ["sh", "-c", script + " # {DAEMON_MARK}"])
            os._exit(0)
        os.wait()
    """)


def attacks(paths: dict) -> dict[str, nbformat.NotebookNode]:
    """One submission per attack, each in the answer of `linear_forward`, and a victim."""
    bodies = {
        # the course's reference, through modules, imports, frames, the collector and files
        "01_x_reference": attack(
            find_reference(paths)
            + "\nfound = find_reference()\nif found is not None:\n    return found(x, weight, bias)"
        ),
        # patched checks through sys.modules: later check cells hand over nothing
        "01_x_sys_modules": attack("""
            import sys
            from IPython.display import display
            core = sys.modules["rnn_course.check._core"]
            core.Exercise.__call__ = lambda self, answer: answer
            sys.modules["rnn_course.check"].standardize = lambda answer: answer
        """),
        # patched checks through the caller's frame globals
        "01_x_frame_globals": attack("""
            import sys
            frame = sys._getframe()
            while frame is not None and "check" not in frame.f_globals:
                frame = frame.f_back
            class Lenient:
                def __getattr__(self, name):
                    return lambda answer: answer
            frame.f_globals["check"] = Lenient()
        """),
        # an input transformer that rewrites the later check cells into a PASS and a record
        "01_x_input_transformer": attack("""
            from IPython import get_ipython
            def forge(lines):
                out = []
                for line in lines:
                    if " = check." in line:
                        name = line.split(" = ")[0].strip()
                        record = {"exercise": name, "version": 2, "calls": []}
                        line = ("from IPython.display import display; "
                                f"display({{'text/plain': 'PASS {name}', "
                                f"'application/vnd.rnn-course.record+json': {record!r}}}, raw=True)\\n")
                    out.append(line)
                return out
            get_ipython().input_transformers_post.append(forge)
        """),
        # a tensor subclass whose comparisons always agree: its data are zeros
        "01_x_fake_tensor": textwrap.dedent("""
            class Agreeable(torch.Tensor):
                @classmethod
                def __torch_function__(cls, func, types, args=(), kwargs=None):
                    result = super().__torch_function__(func, types, args, kwargs or {})
                    if isinstance(result, torch.Tensor) and result.dtype == torch.bool:
                        return torch.ones_like(result.as_subclass(torch.Tensor))
                    if getattr(func, "__name__", "") in ("sub", "__sub__", "abs", "__rsub__"):
                        return torch.zeros_like(result.as_subclass(torch.Tensor))
                    return result
            return torch.zeros(x.shape[0], weight.shape[0], dtype=x.dtype).as_subclass(Agreeable)
        """).strip(),
        "01_x_write_instructor": write_instructor(paths),
        "01_x_proc_spy": spy(paths),
        # the network: the test listens on the host's loopback
        "01_x_network": attack(f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {paths["port"]}), timeout=2).close()
                connected = True
            except OSError:
                connected = False
            if connected:
                {SUCCEED}
        """),
        "01_x_daemon": daemon(paths),
        # put a link among its sockets, for the grader to follow when it reconnects
        "01_x_socket_link": attack(f"""
            import os
            from ipykernel import get_connection_file
            sockets = os.path.dirname(get_connection_file())
            try:
                os.symlink("/run/docker.sock", os.path.join(sockets, "kernel-ipc-1.link"))
                linked = True
            except OSError:
                linked = False
            if linked:
                {SUCCEED}
        """),
        # outputs that dodge a cap on stored outputs: display_id updates and clear_output
        "01_x_display_id": attack("""
            from IPython.display import clear_output, display, update_display
            handle = display({"text/plain": "x"}, raw=True, display_id=True)
            for _ in range(30):
                update_display({"text/plain": "y" * 100_000}, raw=True, display_id=handle.display_id)
                clear_output(wait=True)
        """),
        # one message over the transport's limit: the kernel's output is cut, nothing is kept
        "01_x_huge_message": attack("""
            print("x" * 9_000_000)
        """),
        # a second outcome beside its own: a forged one
        "01_x_extra_outcome": textwrap.dedent("""
            from IPython.display import display
            outcome = {"result": 0.0, "changed": {}, "mutated": {}}
            display({"application/vnd.rnn-course.record+json": outcome}, raw=True)
            return x @ weight.T + bias
        """).strip(),
        # an outcome too big to read
        "01_x_big_outcome": "return torch.zeros(600_000)",
        # the right values in bfloat16: 0.4% off where the lesson computes in float32
        "01_x_bfloat16": "return (x @ weight.T + bias).to(torch.bfloat16)",
    }
    notebooks = {name: answered(linear_forward=body) for name, body in bodies.items()}
    hooks = {
        # an input transformer: every later cell runs `swap` first and last
        "01_x_reference_transformer": """
            get_ipython().input_transformers_post.append(
                lambda lines: ["swap()\\n", *lines, "\\nswap()\\n"]
            )
        """,
        # a post_run_cell hook: `swap` after every later cell
        "01_x_reference_post_run_cell": """
            get_ipython().events.register("post_run_cell", swap)
        """,
    }
    for name, install in hooks.items():
        notebook = edition()
        for cell in notebook.cells:
            if "def linear_forward(" in cell.source:
                cell.source = reference_hook(paths, install)
        notebooks[name] = notebook
    return {**notebooks, "01_z_victim": solution()}


def _digest(folder: Path) -> dict:
    return {
        path: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _processes_with(mark: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and mark in Path(f"/proc/{entry}/cmdline").read_bytes().decode():
                found.append(int(entry))
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    subs = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("results") / "grades.csv"
    listener = socket.create_server(("127.0.0.1", 0))
    paths = {"subs": subs, "out": out, "lessons": LESSONS, "package": PACKAGE_DIR}
    paths["port"] = listener.getsockname()[1]
    for name, notebook in attacks(paths).items():
        nbformat.write(notebook, subs / f"{name}.ipynb")
    (subs / "01_x_symlink.ipynb").symlink_to(LESSON)
    os.mkfifo(subs / "01_x_fifo.ipynb")
    before = {"lessons": _digest(LESSONS), "package": _digest(PACKAGE_DIR), "subs": _digest(subs)}
    rows = grade([subs], LESSONS, out, timeout=30, jobs=2, progress=False)
    listener.close()
    written = out.read_text()
    daemons = _processes_with(DAEMON_MARK)
    time.sleep(2)  # a daemon, had it survived, would rewrite the results now
    after = {"lessons": _digest(LESSONS), "package": _digest(PACKAGE_DIR), "subs": _digest(subs)}
    return {
        "rows": {Path(row["submission"]).stem: row for row in rows},
        "list": rows,
        "before": before,
        "after": after,
        "written": written,
        "later": out.read_text(),
        "daemons": daemons + _processes_with(DAEMON_MARK),
    }


def test_the_victim_keeps_its_marks(attacked):
    row = attacked["rows"]["01_z_victim"]
    assert list(row["marks"].values()) == [1, 1, 1] and row["graded"], row
    if os.geteuid() == 0:
        assert row["isolation"] == "root"


@pytest.mark.parametrize(
    "name, exercise, message",
    [
        ("01_x_reference", "linear_forward", "not implemented"),
        ("01_x_reference_transformer", "linear_forward", "not implemented"),
        ("01_x_reference_post_run_cell", "linear_forward", "not implemented"),
        ("01_x_sys_modules", "standardize", "no answer to check: the check cell handed none over"),
        (
            "01_x_frame_globals",
            "standardize",
            "no answer to check: the check cell handed none over",
        ),
        (
            "01_x_input_transformer",
            "standardize",
            "no answer to check: the check cell handed none over",
        ),
        ("01_x_bfloat16", "linear_forward", "torch.bfloat16 while the inputs are torch.float32"),
        ("01_x_write_instructor", "linear_forward", "not implemented"),
        ("01_x_proc_spy", "linear_forward", "not implemented"),
        ("01_x_network", "linear_forward", "not implemented"),
        ("01_x_daemon", "linear_forward", "not implemented"),
        ("01_x_socket_link", "linear_forward", "not implemented"),
        ("01_x_display_id", "linear_forward", "not implemented"),
    ],
)
def test_an_attack_earns_nothing(attacked, name, exercise, message):
    row = attacked["rows"][name]
    assert list(row["marks"].values()) == [0, 0, 0], row["messages"]
    assert message in row["messages"][exercise], row["messages"]


def test_patched_checks_get_a_review_note(attacked):
    notes = {name: " ".join(attacked["rows"][name]["notes"]) for name in attacked["rows"]}
    assert "`sys`" in notes["01_x_sys_modules"]
    assert "`_getframe`" in notes["01_x_frame_globals"]
    assert "`f_globals`" in notes["01_x_frame_globals"]
    assert "`get_ipython`" in notes["01_x_input_transformer"]
    assert "`input_transformers_post`" in notes["01_x_input_transformer"]
    assert "`gc`" in notes["01_x_reference"] and "`f_globals`" in notes["01_x_reference"]
    assert "`get_ipython`" in notes["01_x_reference_post_run_cell"]


def test_a_fake_tensor_is_judged_on_its_data(attacked):
    row = attacked["rows"]["01_x_fake_tensor"]
    assert row["marks"]["linear_forward"] == 0
    assert "is wrong" in row["messages"]["linear_forward"], row["messages"]


def test_a_link_or_a_fifo_gets_an_error_row_at_once(attacked):
    link, fifo = attacked["rows"]["01_x_symlink"], attacked["rows"]["01_x_fifo"]
    assert "a symbolic link" in link["error"] and link["marks"] == dict.fromkeys(NAMES, 0)
    assert "a FIFO" in fifo["error"] and fifo["time_s"] < 1


def test_nothing_outside_the_submissions_own_copy_changed(attacked):
    assert attacked["after"] == attacked["before"]
    assert not (LESSONS / "pwned.txt").exists() and not (PACKAGE_DIR / "pwned.txt").exists()


def test_no_daemon_outlives_its_kernel_and_the_results_stay(attacked):
    assert attacked["daemons"] == []
    assert attacked["later"] == attacked["written"] and "pwned" not in attacked["written"]


def test_the_output_cap_covers_display_id_updates(attacked):
    row = attacked["rows"]["01_x_display_id"]
    assert f"output over {MAX_OUTPUT_CHARS:,} characters" in row["error"]


def test_a_message_over_the_transport_limit_stops_the_run(attacked):
    row = attacked["rows"]["01_x_huge_message"]
    assert list(row["marks"].values()) == [0, 0, 0] and not row["graded"]
    assert "from cell 5 on, the kernel's output was lost" in row["error"], row["error"]
    assert row["messages"]["standardize"].startswith("not checked: from cell 5 on")


def test_outcomes_beyond_one_or_over_the_cap_score_zero(attacked):
    extra, big = attacked["rows"]["01_x_extra_outcome"], attacked["rows"]["01_x_big_outcome"]
    assert extra["marks"]["linear_forward"] == 0
    assert "the kernel showed 2 outcomes" in extra["messages"]["linear_forward"]
    assert big["marks"]["linear_forward"] == 0
    assert f"over the {MAX_RECORD_CHARS:,} limit" in big["messages"]["linear_forward"]


# ----------------------------------------------------------------------------- limits of the batch


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _kill_the_grading_process_of(marker: str, found: dict) -> None:
    """Once a kernel's working folder holds `marker`, SIGKILL the grading process above it."""
    me, deadline = os.getpid(), time.monotonic() + 300
    while time.monotonic() < deadline and "limits" not in found:
        for entry in filter(str.isdigit, os.listdir("/proc")):
            try:
                if not os.path.exists(f"/proc/{entry}/cwd/{marker}"):
                    continue
                pid = int(entry)
                while _parent(pid) not in (me, 0, 1):
                    pid = _parent(pid)
                found["limits"] = Path(f"/proc/{pid}/limits").read_text()
                os.kill(pid, signal.SIGKILL)
                return
            except (OSError, ValueError):
                continue
        time.sleep(0.1)


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    """Two batches: a submission of three 8 s answer cells under a 15 s cell limit and a 25 s
    total one; then one whose grading process is killed, graded beside two honest ones."""
    slow, batch = tmp_path_factory.mktemp("slow"), tmp_path_factory.mktemp("batch")
    sleeper = edition()
    for cell in sleeper.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "import time\n\ntime.sleep(8)\n\n\n" + cell.source
    nbformat.write(sleeper, slow / "01_sleeper.ipynb")
    slept = grade(
        [slow], LESSONS, slow / "grades.csv", timeout=15, total_timeout=25, jobs=1, progress=False
    )
    killed = answered(linear_forward="return x @ weight.T + bias")
    for cell in killed.cells:
        if "def linear_forward(" in cell.source:
            cell.source = (
                "import time\n\nopen('kill-my-grader', 'w').close()\ntime.sleep(60)\n" + cell.source
            )
    nbformat.write(killed, batch / "01_a_killed.ipynb")
    for name in ("01_b_honest", "01_c_honest"):
        nbformat.write(solution(), batch / f"{name}.ipynb")
    found: dict = {}
    killer = threading.Thread(target=_kill_the_grading_process_of, args=("kill-my-grader", found))
    killer.start()
    rows = grade([batch], LESSONS, batch / "grades.csv", timeout=30, jobs=2, progress=False)
    killer.join()
    return {"slept": slept[0], "rows": {Path(r["submission"]).stem: r for r in rows}, **found}


@pytest.mark.skipif(os.geteuid() != 0, reason="finds the grading process through /proc as root")
def test_a_submission_stops_at_its_total_time_limit(limited):
    row = limited["slept"]
    assert "ran over its total limit of 25 s" in row["error"] and not row["graded"], row
    assert row["time_s"] < 60


@pytest.mark.skipif(os.geteuid() != 0, reason="finds the grading process through /proc as root")
def test_a_dead_grading_process_costs_only_its_submission(limited):
    rows = limited["rows"]
    assert "its grading process died" in rows["01_a_killed"]["error"]
    for name in ("01_b_honest", "01_c_honest"):
        assert list(rows[name]["marks"].values()) == [1, 1, 1] and rows[name]["graded"], rows[name]
    # the grading process ran under the batch's memory limit (8 GiB of address space)
    lines = limited["limits"].split("\n")
    line = next(text for text in lines if text.startswith("Max address space"))
    assert line.split()[3] == str(8 * 2**30)


def test_the_report_shows_every_attack(attacked):
    table = format_table(attacked["list"])
    assert all(row["submission"] in table for row in attacked["list"])


# ----------------------------------------------------------------------------- an unprivileged grader

NOBODY = 65534
GRADE_AS_NOBODY = """
import sys
from pathlib import Path
from rnn_course.tools.grading import grade
mode = None if sys.argv[4] == "auto" else sys.argv[4]
grade([Path(sys.argv[1])], Path(sys.argv[2]), Path(sys.argv[3]), timeout=60,
      jobs=2 if mode is None else 1, isolation=mode, progress=False)
"""


def _reachable_python(holds: Path) -> list[str]:
    """Shell lines that let nobody run this Python: a folder it cannot enter above the
    installation (such as /root) is covered, in the test's own mount namespace only, by an
    empty one that holds just the installation."""
    lines = []
    prefixes = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
    for number, prefix in enumerate(sorted(prefixes)):
        closed = [
            parent
            for parent in reversed(Path(prefix).parents)
            if str(parent) != "/" and not os.stat(parent).st_mode & 0o001
        ]
        if closed:
            hold = holds / f"hold-{number}"
            hold.mkdir(exist_ok=True)
            lines += [
                f"mount --bind {prefix} {hold}",
                f"mount -t tmpfs -o mode=755 tmpfs {closed[0]}",
                f"mkdir -p {prefix} && mount --bind {hold} {prefix}",
            ]
    return lines


def grade_as_nobody(subs: Path, out: Path, mode: str) -> dict:
    """Grade `subs` as the unprivileged user nobody; return the rows (from the JSON)."""
    script = " && ".join(
        [
            *_reachable_python(out.parent.parent),
            f"exec setpriv --reuid {NOBODY} --regid {NOBODY} --clear-groups env "
            f"HOME={out.parent} MPLCONFIGDIR={out.parent} RNN_COURSE_DATA={out.parent} "
            f"PYTHONPATH={PACKAGE_DIR.parent} "
            f"{sys.executable} -c '{GRADE_AS_NOBODY}' {subs} {LESSONS} {out} {mode}",
        ]
    )
    done = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {
        Path(row["submission"]).stem: row
        for row in json.loads(out.with_suffix(".json").read_text())
    }


@pytest.fixture(scope="module")
def unprivileged():
    """A spy, a writer and a daemon in one submission, graded by nobody in each mode it has
    (in 'plain' mode one at a time: the spy runs before the victim is read)."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("setpriv"):
        pytest.skip("needs root (to become nobody) and util-linux's unshare and setpriv")
    base = Path(tempfile.mkdtemp(prefix="rnn-course-unprivileged-"))
    found = {}
    try:
        base.chmod(0o755)
        for mode in ("auto", "plain"):
            subs, results = base / f"submissions-{mode}", base / f"results-{mode}"
            for folder in (subs, results):
                folder.mkdir()
                os.chown(folder, NOBODY, NOBODY)
            out = results / "grades.csv"
            paths = {"subs": subs, "out": out, "lessons": LESSONS, "package": PACKAGE_DIR}
            hostile = answered(
                linear_forward=spy(paths),
                cross_entropy_from_logits=write_instructor(
                    paths, "return torch.nn.functional.cross_entropy(logits, targets)"
                ),
                standardize=daemon(paths),
            )
            nbformat.write(hostile, subs / "01_x_hostile.ipynb")
            nbformat.write(solution(), subs / "01_z_victim.ipynb")
            for path in subs.iterdir():  # as the grading user's own files would be
                os.chown(path, NOBODY, NOBODY)
            victim = (subs / "01_z_victim.ipynb").read_bytes()
            rows = grade_as_nobody(subs, out, mode)
            written = out.read_text()
            daemons = _processes_with(DAEMON_MARK)
            time.sleep(1)
            found[mode] = {
                "rows": rows,
                "victim_untouched": (subs / "01_z_victim.ipynb").read_bytes() == victim,
                "results_stay": out.read_text() == written,
                "daemons": daemons + _processes_with(DAEMON_MARK),
            }
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return found


def test_an_unprivileged_grader_uses_a_user_namespace(unprivileged):
    found = unprivileged["auto"]
    hostile, victim = found["rows"]["01_x_hostile"], found["rows"]["01_z_victim"]
    if hostile["isolation"] != "userns":
        pytest.skip("unprivileged user namespaces are not allowed here: only 'plain' mode")
    assert list(hostile["marks"].values()) == [0, 0, 0], hostile["messages"]
    assert list(victim["marks"].values()) == [1, 1, 1]
    assert found["victim_untouched"] and found["results_stay"] and found["daemons"] == []


def test_plain_mode_stops_daemons_but_protects_no_file_its_user_can_reach(unprivileged):
    found = unprivileged["plain"]
    hostile, victim = found["rows"]["01_x_hostile"], found["rows"]["01_z_victim"]
    assert hostile["isolation"] == "plain"
    assert list(hostile["marks"].values()) == [1, 1, 0], "the spy read, the writer wrote"
    assert not found["victim_untouched"] and "not a readable notebook" in victim["error"]
    assert found["daemons"] == [] and found["results_stay"]
