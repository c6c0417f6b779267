"""Data for the lessons: airline passengers, sine waves, windows, time splits, MNIST in memory."""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import shutil
import tempfile
import zlib
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import torch

from .errors import DataError, DataNotFoundError, InputError, InputTypeError
from .settings import DATA_ENV, PACKAGE_DIR, data_root, pick
from .validation import as_1d_tensor, check_fraction, check_positive_int

# The four decompressed MNIST files: size in bytes and SHA-256 of the original release.
MNIST_FILES = {
    "train-images-idx3-ubyte": (
        47_040_016,
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    "train-labels-idx1-ubyte": (
        60_008,
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    "t10k-images-idx3-ubyte": (
        7_840_016,
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    "t10k-labels-idx1-ubyte": (
        10_008,
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
}


# --------------------------------------------------------------------------- series (lesson 02)


def load_airline_passengers() -> tuple[list[str], torch.Tensor]:
    """Monthly airline passengers (thousands), 1949-01 to 1960-12, taught in lesson 02.

    Returns the 144 month labels ('1949-01', ...) and a float32 tensor of shape (144,).
    """
    months, values = [], []
    with open(PACKAGE_DIR / "airline_passengers.csv", newline="") as f:
        for row in csv.DictReader(f):
            months.append(row["month"])
            values.append(float(row["passengers"]))
    return months, torch.tensor(values, dtype=torch.float32)


def sine_wave(
    n_points: int, periods: float = 5.0, noise_std: float = 0.0, seed: int = 0
) -> torch.Tensor:
    """`periods` periods of sin(t) sampled at `n_points` evenly spaced times, plus Gaussian noise.

    Returns a float32 tensor of shape (n_points,); the noise is seeded by `seed` (lesson 06).
    """
    check_positive_int("n_points", n_points)
    if not periods > 0:
        raise InputError(f"periods must be positive, got {periods!r}")
    if not noise_std >= 0:
        raise InputError(f"noise_std must be >= 0, got {noise_std!r}")
    t = torch.linspace(0, 2 * np.pi * periods, n_points, dtype=torch.float64)
    wave = torch.sin(t)
    if noise_std > 0:
        generator = torch.Generator().manual_seed(seed)
        wave = wave + noise_std * torch.randn(n_points, generator=generator, dtype=torch.float64)
    return wave.float()


def make_windows(series, window: int, horizon: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Slide a window over a 1-D series: each `window` values predict the next `horizon` values.

    `series` has shape (time,). Returns inputs of shape (n, window) and targets of shape
    (n, horizon), with n = time - window - horizon + 1, in time order (taught in lesson 02).
    """
    series = as_1d_tensor("series", series)
    check_positive_int("window", window)
    check_positive_int("horizon", horizon)
    n = len(series) - window - horizon + 1
    if n < 1:
        raise InputError(
            f"series has {len(series)} values, too few for window={window} and "
            f"horizon={horizon}: it needs at least {window + horizon}"
        )
    inputs = series.unfold(0, window, 1)[:n]
    targets = series[window:].unfold(0, horizon, 1)[:n]
    return inputs.clone(), targets.clone()


def time_split(data, train_fraction: float = 0.8):
    """Split along the first (time) axis: the first `train_fraction` for training, the rest after.

    Never shuffles, so the test part is always the future of the training part (lesson 02).
    """
    check_fraction("train_fraction", train_fraction)
    if not hasattr(data, "__len__") or not hasattr(data, "__getitem__"):
        raise InputTypeError(f"data must be a tensor, array or sequence, got {type(data).__name__}")
    cut = round(len(data) * train_fraction)
    if cut < 1 or cut >= len(data):
        raise InputError(
            f"train_fraction={train_fraction} of {len(data)} items leaves an empty part; "
            "expected both parts to hold at least one item"
        )
    return data[:cut], data[cut:]


# --------------------------------------------------------------------------- MNIST (lesson 01)


def _missing_message(root: Path, reason: str) -> str:
    raw = root / "MNIST" / "raw"
    names = "\n".join(f"  {name}.gz  (or {name})" for name in MNIST_FILES)
    return (
        f"MNIST is not in {raw} and could not be downloaded ({reason}).\n"
        f"Put the four MNIST files there:\n{names}\n"
        f"or set {DATA_ENV} to a folder that contains MNIST/raw/ with them "
        f"(the data root is now {root})."
    )


def _decompress_archives(raw: Path) -> None:
    """Decompress each `NAME.gz` in `raw` whose decompressed twin `NAME` is missing."""
    for name in MNIST_FILES:
        target, archive = raw / name, raw / f"{name}.gz"
        if target.exists() or not archive.exists():
            continue
        fd, tmp = tempfile.mkstemp(dir=raw, prefix=f".{name}.")
        try:
            with gzip.open(archive, "rb") as src, os.fdopen(fd, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(tmp, target)
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, PermissionError):
                raise PermissionError(
                    f"cannot write the decompressed {target}: {exc}. Point {DATA_ENV} at a "
                    "writable copy of the MNIST folder."
                ) from None
            raise DataError(
                f"{archive} is not a valid gzip archive ({exc}); it is truncated or corrupted. "
                "Replace it with a fresh copy of the MNIST file."
            ) from None


@cache
def _verify(path: Path, mtime_ns: int) -> None:
    """Raise if `path` is not the original MNIST file (size, then SHA-256)."""
    size, sha256 = MNIST_FILES[path.name]
    actual = path.stat().st_size
    if actual != size:
        raise DataError(
            f"{path} is {actual:,} bytes, expected {size:,}: the file is truncated or corrupted. "
            "Delete it (and its .gz if that is damaged too) and put a fresh copy there."
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise DataError(
            f"{path} has the right size but the wrong content (SHA-256 {digest[:12]}..., expected "
            f"{sha256[:12]}...): the file is corrupted. Replace it with a fresh copy."
        )


@lru_cache(maxsize=4)
def _load_split(root: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision import datasets

    raw = root / "MNIST" / "raw"
    if raw.is_dir():
        _decompress_archives(raw)
    if not all((raw / name).is_file() for name in MNIST_FILES):
        try:
            root.mkdir(parents=True, exist_ok=True)
            datasets.MNIST(str(root), train=train, download=True)
        except Exception as exc:  # torchvision raises several types when offline
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataNotFoundError(_missing_message(root, reason)) from None
    for name in MNIST_FILES:
        path = raw / name
        _verify(path, path.stat().st_mtime_ns)
    dataset = datasets.MNIST(str(root), train=train, download=False)
    images = dataset.data.to(torch.float32).div_(255.0)
    return images, dataset.targets.to(torch.int64)


def load_mnist(
    split: str = "train", limit: int | None = None, root: str | Path | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """One MNIST split held in memory, loaded once per session (lesson 01).

    Returns images of shape (n, 28, 28), float32 in [0, 1], and labels of shape (n,), int64.
    `limit` keeps the first `limit` examples. `root` defaults to `data_root()`; `.gz` archives in
    `root/MNIST/raw` are decompressed first, and the files are checked against the originals.
    """
    if split not in ("train", "test"):
        raise InputError(f"split must be 'train' or 'test', got {split!r}")
    if limit is not None:
        check_positive_int("limit", limit)
    root = Path(root).expanduser().resolve() if root is not None else data_root()
    images, labels = _load_split(root, split == "train")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return images.clone(), labels.clone()


def mnist_splits(seed: int = 0) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
    """Lessons 07 and 08's split of MNIST into training, validation and test sets.

    A random part of the training images, drawn with `seed`, is held out for validation; the
    test images stay apart. Full mode: 55,000 training, 5,000 validation, 10,000 test images;
    quick mode: the first 6,000 training images (5,000 and 1,000) and the first 2,000 test
    images. Returns three (images, labels) pairs, images (n, 28, 28) float32 in [0, 1] and
    labels (n,) int64: `(train, validation, test)`. Taught in lesson 07.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a non-negative int, got {seed!r}")
    images, labels = load_mnist("train", limit=pick(full=None, quick=6_000))
    test = load_mnist("test", limit=pick(full=None, quick=2_000))
    validation_size = pick(full=5_000, quick=1_000)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    validation, train = order[:validation_size], order[validation_size:]
    return (images[train], labels[train]), (images[validation], labels[validation]), test


# --------------------------------------------------------------------------- memory (lesson 08)


def long_memory_task(
    n_sequences: int, distance: int, noise_std: float = 1.0, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """A long-memory task for lesson 08: say the sign of a value seen `distance` steps ago.

    Each sequence has `distance + 1` steps of two features. Feature 0 is Gaussian noise
    (standard deviation `noise_std`) except at step 0, where it holds the value to remember,
    -1 or +1; feature 1 is the marker, 1 at step 0 and 0 elsewhere. The label is 1 when the
    remembered value is +1 and 0 when it is -1, so chance is 50%. The answer is read after the
    last step, `distance` steps after the value. Seeded by `seed`.

    Returns inputs of shape (n_sequences, distance + 1, 2), float32, and labels of shape
    (n_sequences,), int64.
    """
    check_positive_int("n_sequences", n_sequences)
    check_positive_int("distance", distance)
    if isinstance(noise_std, bool) or not isinstance(noise_std, (int, float)) or noise_std < 0:
        raise InputError(f"noise_std must be a number >= 0, got {noise_std!r}")
    generator = torch.Generator().manual_seed(seed)
    seq_len = distance + 1
    inputs = torch.zeros(n_sequences, seq_len, 2)
    inputs[:, :, 0] = noise_std * torch.randn(n_sequences, seq_len, generator=generator)
    labels = torch.randint(0, 2, (n_sequences,), generator=generator)
    inputs[:, 0, 0] = 2.0 * labels.float() - 1.0
    inputs[:, 0, 1] = 1.0
    return inputs, labels
