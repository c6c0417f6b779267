"""Course-wide settings: quick or full mode, device, seeds and the data root (lesson 01)."""

from __future__ import annotations

import os
import platform
import random
import sys
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from torch.torch_version import TorchVersion

from .errors import InputError

T = TypeVar("T")

QUICK_ENV = "RNN_COURSE_QUICK"
DATA_ENV = "RNN_COURSE_DATA"
CHECKS_ENV = "RNN_COURSE_CHECKS"
SEED_ENV = "RNN_COURSE_SEED"
CHECK_MODES = ("fallback", "strict")
NBGRADER_ENV = "NBGRADER_EXECUTION"  # set by nbgrader while it runs a notebook
NBGRADER_RUNS = ("autograde", "validate")
PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
# The oldest torch the course is tested on (.ci/run oldest); requirements.txt, pyproject.toml
# and constraints/oldest.txt say the same (tests/test_versions.py).
TORCH_FLOOR = "2.2"


def is_quick() -> bool:
    """True when `RNN_COURSE_QUICK` asks for quick mode (1/true/yes); full mode otherwise."""
    value = os.environ.get(QUICK_ENV, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise InputError(f"{QUICK_ENV} is {value!r}; expected 1 (quick mode) or 0 (full mode)")


def mode() -> str:
    """'quick' or 'full'."""
    return "quick" if is_quick() else "full"


def check_mode() -> str:
    """How an exercise's check cell treats a wrong answer (`RNN_COURSE_CHECKS`).

    'fallback' (the default, for students): show what is wrong and go on with the course's
    reference solution; 'strict' (pytest and run-all on the solutions): raise. Under nbgrader's
    autograde and validate (`NBGRADER_EXECUTION`) it is always 'strict': a failed test must raise.
    """
    if os.environ.get(NBGRADER_ENV, "").strip().lower() in NBGRADER_RUNS:
        return "strict"
    value = os.environ.get(CHECKS_ENV, "").strip().lower() or "fallback"
    if value not in CHECK_MODES:
        raise InputError(f"{CHECKS_ENV} is {value!r}; expected one of {', '.join(CHECK_MODES)}")
    return value


def seed_offset() -> int:
    """`RNN_COURSE_SEED` (default 0): added to every seed a lesson sets, to try other seeds."""
    value = os.environ.get(SEED_ENV, "").strip() or "0"
    if not value.isdigit():
        raise InputError(f"{SEED_ENV} is {value!r}; expected a non-negative integer such as 0 or 3")
    return int(value)


def lesson_seed(seed: int) -> int:
    """The lesson's seed `seed`, offset by `RNN_COURSE_SEED` (unchanged by default)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"seed must be a non-negative int, got {seed!r}")
    return seed + seed_offset()


def quick_note(text: str) -> None:
    """In quick mode, print one line saying how this run falls short of the full run."""
    if is_quick():
        print(f"quick mode: {text}")


def pick(*, full: T, quick: T) -> T:
    """Return `full` in full mode and `quick` in quick mode: the one place a lesson sizes itself."""
    return quick if is_quick() else full


def on_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules


def get_device() -> torch.device:
    """The fastest device available: CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> None:
    """Seed Python's `random`, NumPy and torch (CPU and every GPU) with `seed`."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def data_root() -> Path:
    """Where datasets live: `$RNN_COURSE_DATA`, else `/content/data` on Colab, else `data/`.

    `data/` is at the repository root when the package is installed from a clone
    (`pip install -e .`), and in the current directory otherwise.
    """
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser().resolve()
    if on_colab():
        return Path("/content/data")
    if (REPO_ROOT / "pyproject.toml").is_file():
        return REPO_ROOT / "data"
    return Path.cwd() / "data"


def setup(seed: int = 0) -> torch.device:
    """The setup cell's work: pick the device, seed everything (`lesson_seed`), print one line.

    On a torch older than `TORCH_FLOOR` it prints a second line: a warning.
    """
    device = get_device()
    seed = lesson_seed(seed)
    seed_everything(seed)
    print(
        f"device: {device} | mode: {mode()} | checks: {check_mode()}"
        f" | python {platform.python_version()}"
        f" | torch {torch.__version__} | seed {seed}"
    )
    if TorchVersion(torch.__version__) < TORCH_FLOOR:
        print(
            f"warning: torch {torch.__version__} is older than {TORCH_FLOOR}, the oldest release"
            " this course is tested on; some cells may fail: pip install --upgrade torch torchvision"
        )
    return device
