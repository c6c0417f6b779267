"""One submission's kernel, walled off: its own folders, user, namespaces and limits.

The grader (`grading.py`) makes a `Sandbox` per submission: a private folder with the kernel's
home, working folder and socket folder, and a copy of the package the kernel imports (the
grader's `kernel_package`: no check, no reference). The grader's requests to the kernel go into
the socket folder, which is the grader's once the kernel is up. The kernel command becomes this file run as a script (standard library only, so
nothing is imported from the instructor's checkout as root):
`python -I -S sandbox.py SPEC.json -- python -m ipykernel_launcher -f CONNECTION_FILE`.

Isolation modes (`detect_mode`):

- "root" (the grader runs as root): the launcher enters new mount, PID, network, IPC and UTS
  namespaces, builds a new root file system holding only the system folders, the Python
  installation and virtual environment (read-only), the course's data copy (read-only) and the
  sandbox's own folders, then starts a small init process (PID 1 of the namespace) that starts
  the kernel as the sandbox's own unprivileged uid, with rlimits and no new privileges. The
  instructor's checkout, the submissions and the results do not exist in that view, and there
  is no network (only an unconfigured loopback). When the init dies, every process of the
  namespace dies with it, daemons included.
- "userns" (not root, unprivileged user namespaces allowed): the same, inside a new user
  namespace; the kernel keeps the grader's uid (mapped to itself) but loses every capability.
- "plain" (neither works): rlimits, no new privileges, a fresh session, and the sandbox's own
  uid when the grader is root; otherwise the kernel runs with the grader's user's rights. See
  the README for what that does not protect.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import fcntl
import json
import os
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODES = ("root", "userns", "plain")
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 16384, 1 << 18, 1 << 21, 1 << 24
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 36, 38
MOUNT_OPTIONS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
DEVICES = ("null", "zero", "full", "random", "urandom")
KERNEL_USER = "student"


# ----------------------------------------------------------------------------- the grader's side


@dataclasses.dataclass
class Limits:
    """What one kernel may use (rlimits), and the size of its /tmp."""

    memory_gib: float = 8  # address space
    processes: int = 512  # processes and threads of the kernel's user
    file_mib: int = 256  # size of one file written
    cpu_s: int = 1800  # CPU seconds
    files: int = 1024  # open files
    tmp_mib: int = 512  # its /tmp, in memory (namespaces only)

    def rlimits(self) -> dict[str, int]:
        return {
            "RLIMIT_AS": int(self.memory_gib * 2**30),
            "RLIMIT_NPROC": self.processes,
            "RLIMIT_FSIZE": self.file_mib * 2**20,
            "RLIMIT_CPU": self.cpu_s,
            "RLIMIT_NOFILE": self.files,
            "RLIMIT_CORE": 0,
        }


def python_paths() -> list[str]:
    """The folders the kernel's Python needs: its installation, virtual environment and
    site-packages folders (also those other `.pth` files add; never the checkout)."""
    import site
    import sysconfig

    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    found |= {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    found |= set(site.getsitepackages())
    found |= {p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")}
    found.add(os.path.dirname(os.path.realpath(sys.executable)))
    found |= {os.path.realpath(path) for path in found}  # through links, and the links too
    return _outermost(path for path in found if os.path.isdir(path))


def _outermost(paths) -> list[str]:
    """`paths` without those inside another one of them."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def _mapped_ids(kind: str) -> list[tuple[int, int]]:
    """The (first, count) ranges of ids usable in this user namespace."""
    try:
        lines = Path(f"/proc/self/{kind}_map").read_text().split("\n")
    except OSError:
        return [(0, 2**32 - 1)]
    return [(int(f[0]), int(f[2])) for f in (line.split() for line in lines) if len(f) == 3]


UID_LOCKS = Path("/run/lock") if os.access("/run/lock", os.W_OK) else Path(tempfile.gettempdir())


def _unused_uids():
    """User ids without an account, usable here, highest first."""
    for first, size in sorted(_mapped_ids("uid"), reverse=True):
        for uid in range(min(first + size, 2**31) - 1, max(first, 1000) - 1, -1):
            if uid in (65534, 65535):
                continue
            try:
                pwd.getpwuid(uid)
            except KeyError:
                yield uid


@contextlib.contextmanager
def claimed_uids(count: int):
    """`count` user ids without an account, for the kernels of one batch, each held until the
    block ends (a lock file in `UID_LOCKS`): graders side by side on one machine, such as the
    shards of a Slurm array on one node, never share a uid, whose process limit is counted
    over every process of that user."""
    held: dict[int, int] = {}  # uid -> the descriptor of its locked file
    try:
        for uid in _unused_uids():
            if len(held) == count:
                break
            descriptor = os.open(
                UID_LOCKS / f"rnn-course-uid-{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600
            )
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held[uid] = descriptor
            except BlockingIOError:  # another grader's
                os.close(descriptor)
        if len(held) < count:
            raise RuntimeError(f"found only {len(held)} free user ids, {count} needed")
        yield list(held)
    finally:
        for descriptor in held.values():
            os.close(descriptor)


class Sandbox:
    """One submission's folders and the spec its launcher follows.

    `base` holds the spec and the launcher's log (the grader's only), the kernel's `home`,
    `work` and `run` (connection file and sockets) folders, and `course`, a copy of the
    package that the kernel imports (read-only for it).
    """

    def __init__(
        self,
        mode: str,
        uid: int,
        limits: Limits,
        package: Path,
        data: Path | None,
        hidden: list[Path],
        threads: int,
    ):
        if mode not in MODES:
            raise ValueError(f"mode is {mode!r}; expected one of {', '.join(MODES)}")
        self.mode, self.limits, self.threads = mode, limits, threads
        root = os.geteuid() == 0  # then the kernel runs as `uid`, whatever the mode
        self.uid, self.gid = (uid, uid) if root else (os.getuid(), os.getgid())
        self.base = Path(tempfile.mkdtemp(prefix="rnn-course-grade-"))
        self.base.chmod(0o711)  # the kernel's user may pass through, not look in
        self.home, self.work, self.run = (self.base / n for n in ("home", "work", "run"))
        self.course = self.base / "course"
        for folder in (self.home, self.work, self.run):
            folder.mkdir(mode=0o700)
            os.chown(folder, self.uid, self.gid)
        shutil.copytree(package, self.course / package.name, ignore=_PYCACHE)
        os.chmod(self.course, 0o755)
        self.data = data
        self.connection_file = self.run / "kernel.json"
        self.spec = self.base / "spec.json"
        self.log = self.base / "launcher.log"
        self.hidden = [str(p) for p in hidden]

    def environment(self, extra: dict[str, str]) -> dict[str, str]:
        """The kernel's whole environment (nothing of the grader's own)."""
        venv_bin = os.path.dirname(sys.executable)
        env = {
            "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "USER": KERNEL_USER,
            "LOGNAME": KERNEL_USER,
            "LANG": "C.UTF-8",
            "TMPDIR": "/tmp" if self.mode != "plain" else str(self.work),
            "PYTHONPATH": str(self.course),
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "MPLCONFIGDIR": str(self.home / ".matplotlib"),
            "IPYTHONDIR": str(self.home / ".ipython"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "JUPYTER_RUNTIME_DIR": str(self.home / ".jupyter-runtime"),
            "OMP_NUM_THREADS": str(self.threads),
            "MKL_NUM_THREADS": str(self.threads),
            "MALLOC_ARENA_MAX": "2",  # fewer malloc arenas: less address space per thread
        }
        return {**env, **extra}

    def command(self, kernel_cmd: list[str]) -> list[str]:
        """The launcher command that starts `kernel_cmd` in this sandbox (writes the spec)."""
        binds_ro = [*SYSTEM_DIRS, *python_paths()]
        if self.data is not None:
            binds_ro.append(str(self.data))
        spec = {
            "mode": self.mode,
            "uid": self.uid,
            "gid": self.gid,
            "root": str(self.base / "root"),
            "read_only": [*binds_ro, str(self.course)],
            "writable": [str(self.home), str(self.work), str(self.run)],
            "hidden": self.hidden,
            "tmp_bytes": self.limits.tmp_mib * 2**20,
            "limits": self.limits.rlimits(),
            "chown": [str(self.connection_file)],
            "cwd": str(self.work),
            "log": str(self.log),
        }
        (self.base / "root").mkdir(exist_ok=True)
        self.spec.write_text(json.dumps(spec))
        launcher = str(Path(__file__).resolve())
        return [sys.executable, "-I", "-S", launcher, str(self.spec), "--", *kernel_cmd]

    def lock_sockets(self) -> None:
        """Once the kernel is up: its socket folder becomes the grader's (when root), so the
        kernel cannot swap a socket for a link the grader would follow when it reconnects."""
        if os.geteuid() == 0:
            os.chown(self.run, 0, 0)
            os.chmod(self.run, 0o755)

    def launcher_error(self) -> str:
        """What the launcher reported, if it failed ('' otherwise)."""
        try:
            return self.log.read_text()[-500:].strip()
        except OSError:
            return ""

    def remove(self) -> str:
        """Remove the sandbox's folders (once its processes are gone: `stop_descendants`).

        Returns '' when they are gone, else what is left. `chmod` and `rm` walk a tree of any
        depth (a submission may leave thousands of nested folders, past Python's recursion
        limit and the length of a path), and follow no link.
        """
        for command in (["chmod", "-R", "u+rwx", "--"], ["rm", "-rf", "--"]):
            subprocess.run([*command, str(self.base)], capture_output=True, check=False)
        return f"its sandbox {self.base} could not be removed" if self.base.exists() else ""


_PYCACHE = shutil.ignore_patterns("__pycache__", "*.pyc")


def become_subreaper() -> None:
    """Adopt the orphans of this process's descendants (daemons), so they can be stopped."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def _children() -> list[int]:
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                found.append(int(entry))
    return found


def stop_descendants(deadline_s: float = 30) -> str:
    """SIGKILL and reap every child of this process (a subreaper: orphans are its children).

    A namespace's init is among them when its launcher died: killing it empties the namespace.
    Returns '' when none is left, else their pids.
    """
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        children = _children()
        if not children:
            return ""
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.02)
    return f"processes {_children()} could not be stopped"


def isolation_note(mode: str) -> str:
    """What a mode protects, in a line, for the report."""
    return {
        "root": "each kernel as its own uid, in new mount, PID, network, IPC and UTS namespaces, "
        "seeing only the system, Python and its own folders",
        "userns": "each kernel in a new user namespace (your uid, no privileges) with new mount, "
        "PID, network, IPC and UTS namespaces, seeing only the system, Python and its own folders",
        "plain": "no namespaces on this machine: limits and a subreaper only; a kernel can read and "
        "write whatever your user can (README, grading)",
    }[mode]


def detect_mode() -> str:
    """The strongest isolation this machine allows: 'root', 'userns' or else 'plain'.

    Tried for real: a launcher builds a sandbox and runs Python in it.
    """
    mode = "root" if os.geteuid() == 0 else "userns"
    with claimed_uids(1 if mode == "root" else 0) as uids:
        box = Sandbox(
            mode, uids[0] if uids else os.getuid(), Limits(), Path(__file__).parent, None, [], 1
        )
        try:
            command = box.command([sys.executable, "-I", "-S", "-c", "pass"])
            done = subprocess.run(
                command, cwd=box.work, capture_output=True, timeout=60, check=False
            )
            return mode if done.returncode == 0 else "plain"
        finally:
            box.remove()


# ----------------------------------------------------------------------------- the launcher

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl({option})")


def _mount(source, target, fstype, flags: int, data=None) -> None:
    def encode(text):
        return None if text is None else str(text).encode()

    _check(
        _libc.mount(
            encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)
        ),
        f"mount {target}",
    )


def _mounts_under(target: str) -> list[tuple[str, int]]:
    """The mounts at or below `target`, each with its flags (nosuid, nodev, noexec, atime)."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().split("\n"):
        fields = line.split()
        if len(fields) > 5:
            point = fields[4].encode().decode("unicode_escape")
            if point == target or point.startswith(target + "/"):
                flags = sum(MOUNT_OPTIONS.get(option, 0) for option in fields[5].split(","))
                found.append((point, flags))
    return found


def _bind(source: str, target: str, writable: bool) -> None:
    """Bind `source` (with the mounts inside it) at `target`, read-only unless `writable`."""
    _mount(source, target, None, MS_BIND | MS_REC)
    for point, flags in _mounts_under(target):
        flags |= MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (0 if writable else MS_RDONLY)
        _mount(None, point, None, flags)


def _under(path: str, folders) -> bool:
    return any(path.startswith(f.rstrip("/") + "/") for f in folders)


def _build_root(spec: dict) -> None:
    """The kernel's whole file system, under spec['root'] (mounted in our own mount namespace)."""
    root = spec["root"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")
    mounts = []  # (target, kind, source): parents first
    for path in spec["read_only"]:
        if os.path.islink(path) and os.path.dirname(path) == "/":
            os.symlink(os.readlink(path), root + path)  # /bin -> usr/bin
        elif os.path.exists(path):
            mounts.append((path, "ro", path))
    mounts += [(path, "rw", path) for path in spec["writable"]]
    mounts += [("/tmp", "tmpfs", f"mode=1777,size={spec['tmp_bytes']}"), ("/dev", "dev", "")]
    mounts.append(("/dev/shm", "tmpfs", "mode=1777,size=64m"))
    # a hidden folder inside a read-only bind gets an empty file system over it
    visible = [target for target, kind, _ in mounts if kind == "ro"]
    mounts += [(path, "hide", "") for path in spec["hidden"] if _under(path, visible)]
    hides = []
    for target, kind, source in sorted(mounts, key=lambda m: m[0].count("/")):
        where = root + target
        if kind in ("ro", "rw") and not os.path.isdir(source):
            os.makedirs(os.path.dirname(where), exist_ok=True)
            open(where, "a").close()
        else:
            os.makedirs(where, exist_ok=True)
        if kind in ("ro", "rw"):
            _bind(source, where, kind == "rw")
        elif kind == "tmpfs":
            _mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV, source)
        elif kind == "hide":
            _mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")
            hides.append(where)
        else:  # a minimal /dev
            _mount("tmpfs", where, "tmpfs", MS_NOSUID, "mode=755,size=1m")
            for name in DEVICES:
                open(f"{where}/{name}", "a").close()
                _mount(f"/dev/{name}", f"{where}/{name}", None, MS_BIND)
            for name, link in (
                ("fd", "/proc/self/fd"),
                ("stdin", "/proc/self/fd/0"),
                ("stdout", "/proc/self/fd/1"),
                ("stderr", "/proc/self/fd/2"),
            ):
                os.symlink(link, f"{where}/{name}")
    os.makedirs(root + "/proc", exist_ok=True)
    for where in [*hides, root]:
        _mount(None, where, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _enter_user_namespace(flags: int) -> None:
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | flags), "unshare")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")


def _exec_kernel(spec: dict, command: list[str]) -> None:
    """In the process that becomes the kernel: drop privileges, set limits, exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.umask(0o077)
    if os.geteuid() == 0 and spec["uid"] != 0:
        os.setgroups([])
        os.setresgid(spec["gid"], spec["gid"], spec["gid"])
        os.setresuid(spec["uid"], spec["uid"], spec["uid"])
    for name, value in spec["limits"].items():
        if name == "RLIMIT_NPROC" and spec["mode"] == "plain":
            value += _tasks_of(os.getuid())  # counted over every process of the grader's user
        hard = value + 10 if name == "RLIMIT_CPU" else value  # SIGXCPU first, then SIGKILL
        resource.setrlimit(getattr(resource, name), (value, hard))
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # a change of user cleared it
    os.chdir(spec["cwd"])
    quiet = os.open(os.devnull, os.O_RDWR)  # what the kernel writes to its own fds goes nowhere
    for fd in (0, 1, 2):
        os.dup2(quiet, fd)
    os.closerange(3, 65536)
    env = {k: v for k, v in os.environ.items() if k != "JPY_PARENT_PID"}
    os.execve(command[0], command, env)


def _tasks_of(uid: int) -> int:
    """How many tasks (threads) the user `uid` runs now."""
    count = 0
    for entry in os.listdir("/proc"):
        try:
            status = Path(f"/proc/{entry}/status").read_text() if entry.isdigit() else ""
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.split("\n") if ":" in line)
        if fields and int(fields["Uid"].split()[0]) == uid:
            count += int(fields["Threads"])
    return count


def _init(spec: dict, command: list[str]) -> int:
    """PID 1 of the new PID namespace: start the kernel, reap orphans, exit with the kernel.

    It dies with the launcher (and so does the namespace); should the launcher die before
    this is set, the grader's `stop_descendants` kills it.
    """
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    try:
        _mount("proc", spec["root"] + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError as err:  # some container runtimes forbid it: the kernel goes without /proc
        _log(spec, f"no /proc in the sandbox: {err}")
    os.chroot(spec["root"])
    os.chdir("/")
    kernel = os.fork()
    if kernel == 0:
        try:
            _exec_kernel(spec, command)
        finally:
            os._exit(127)
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == kernel:
            return os.waitstatus_to_exitcode(status) & 0xFF


def _log(spec: dict, text: str) -> None:
    with open(spec["log"], "a") as file:
        file.write(text + "\n")


def launch(spec: dict, command: list[str]) -> int:
    """The launcher: as the kernel command, set the sandbox up and run the kernel inside it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is the kernel's, not ours
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the grader
    os.umask(0o022)
    if spec["mode"] == "plain":
        _exec_kernel(spec, command)
    for path in spec["chown"]:
        if spec["mode"] == "root" and os.path.exists(path):
            os.chown(path, spec["uid"], spec["gid"])
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    if spec["mode"] == "userns":
        _enter_user_namespace(flags)
    else:
        _check(_libc.unshare(flags), "unshare")
    _build_root(spec)
    init = os.fork()
    if init == 0:
        code = 1
        try:
            code = _init(spec, command)
        except BaseException as err:
            _log(spec, f"sandbox init: {type(err).__name__}: {err}")
        finally:
            os._exit(code)

    def stop(signum, frame):
        os.kill(init, signal.SIGKILL)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    while True:
        try:
            _, status = os.waitpid(init, 0)
            return os.waitstatus_to_exitcode(status) & 0xFF
        except InterruptedError:
            continue


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: sandbox.py SPEC.json -- COMMAND...", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text())
    try:
        return launch(spec, argv[2:])
    except BaseException as err:
        _log(spec, f"sandbox launcher: {type(err).__name__}: {err}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
