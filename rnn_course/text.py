"""Text for lesson 09: tiny Shakespeare, any UTF-8 text, a character vocabulary, a word check.

Lesson 09 builds a character vocabulary by hand and then uses `Vocabulary`, which does the same
(and lesson 10 reuses it). Tiny Shakespeare ships inside the package, gzip-compressed, and is
checked against the SHA-256 of karpathy/char-rnn's `input.txt` every time it is loaded.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import zlib
from collections.abc import Iterable
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle

from .errors import DataError, DataNotFoundError, InputError, InputTypeError
from .settings import PACKAGE_DIR

SHAKESPEARE_FILE = PACKAGE_DIR / "tinyshakespeare.txt.gz"
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
WORD = re.compile(r"[^\W\d_]+")  # a run of letters, in any script


def load_shakespeare() -> str:
    """Lesson 09's tiny Shakespeare: 1,115,394 characters, public domain, checked by SHA-256."""
    try:
        raw = gzip.decompress(SHAKESPEARE_FILE.read_bytes())
    except FileNotFoundError:
        raise DataNotFoundError(
            f"the course's copy of tiny Shakespeare is missing ({SHAKESPEARE_FILE}): reinstall "
            "the course package (pip install -r requirements.txt)"
        ) from None
    except (OSError, EOFError, zlib.error):
        raise DataError(
            f"{SHAKESPEARE_FILE} is not a valid gzip file: reinstall the course package"
        ) from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHAKESPEARE_SHA256:
        raise DataError(
            f"{SHAKESPEARE_FILE} is corrupted: its text has SHA-256 {digest}, expected "
            f"{SHAKESPEARE_SHA256}; reinstall the course package"
        )
    return raw.decode("utf-8")


def load_text(path: str | os.PathLike) -> str:
    """The text of a UTF-8 file in any language, for lesson 09; Windows line endings become '\\n'.

    A byte-order mark at the start is dropped. Raises `DataNotFoundError` for a missing file,
    `DataError` for a file that is not UTF-8 or holds no text.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"path must be a file path (str or Path), got {type(path).__name__}")
    path = Path(path).expanduser()
    if path.is_dir():
        raise DataNotFoundError(f"{path} is a folder: give the path of a UTF-8 text file in it")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataNotFoundError(
            f"no file at {path.resolve()}: give the path of a UTF-8 text file"
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path} is not UTF-8 text: byte {raw[err.start]:#04x} at position {err.start} is not "
            "valid UTF-8; save the file as UTF-8 (most editors offer it in 'Save as')"
        ) from None
    if not text:
        raise DataError(f"{path} holds no text: it is empty")
    return text.replace("\r\n", "\n")


class Vocabulary:
    """The distinct characters of a text, sorted; a character's id is its position (lesson 09).

    `Vocabulary(text)` builds it; `Vocabulary("".join(vocabulary.chars))` rebuilds the same one
    (how a checkpoint stores it).
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise InputTypeError(f"text must be a str, got {type(text).__name__}")
        if not text:
            raise InputError("text is empty: a vocabulary needs at least one character")
        self.chars: list[str] = sorted(set(text))
        self.ids: dict[str, int] = {char: index for index, char in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} characters)"

    def encode(self, text: str) -> torch.Tensor:
        """The ids of `text`'s characters: an int64 tensor of shape (len(text),)."""
        if not isinstance(text, str):
            raise InputTypeError(f"text must be a str, got {type(text).__name__}")
        unknown = sorted(set(text) - self.ids.keys())
        if unknown:
            shown = ", ".join(repr(char) for char in unknown[:10])
            raise InputError(
                f"text has characters that are not in the vocabulary ({len(self)} characters of "
                f"the training text): {shown}"
            )
        return torch.tensor([self.ids[char] for char in text], dtype=torch.int64)

    def decode(self, ids: torch.Tensor | Iterable[int]) -> str:
        """The text of a 1-D sequence of ids (a tensor of shape (length,) or a list of ints)."""
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1 or ids.is_floating_point() or ids.is_complex():
                raise InputError(
                    f"ids must be a 1-D integer tensor, got shape {tuple(ids.shape)}, {ids.dtype}"
                )
            ids = ids.tolist()
        ids = list(ids)
        bad = [
            i
            for i in ids
            if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(self)
        ]
        if bad:
            raise InputError(
                f"ids must be ints from 0 to {len(self) - 1} (the vocabulary's size - 1), "
                f"got {bad[0]!r}"
            )
        return "".join(self.chars[i] for i in ids)


def known_word_fraction(sample: str, text: str) -> float:
    """The fraction of `sample`'s words (runs of letters, any case) that occur in `text`.

    Lesson 09's test that generated text is made of real words: 0.0 for a sample with no word.
    """
    for name, value in (("sample", sample), ("text", text)):
        if not isinstance(value, str):
            raise InputTypeError(f"{name} must be a str, got {type(value).__name__}")
    words = WORD.findall(sample.lower())
    if not words:
        return 0.0
    known = set(WORD.findall(text.lower()))
    return sum(word in known for word in words) / len(words)


def plot_text_activation(text: str, values, *, title: str, width: int = 80):
    """`text` drawn character by character on a background coloured by `values` in [-1, 1].

    Lesson 09 shows a hidden unit this way (Karpathy, Johnson and Fei-Fei, 2015): `values` has
    one number per character, shape (len(text),). A newline is drawn as '↵' and ends the row;
    rows wrap after `width` characters. Returns the Figure.
    """
    if not isinstance(text, str) or not text:
        raise InputError(f"text must be a non-empty str, got {type(text).__name__} {text!r:.40}")
    values = torch.as_tensor(values, dtype=torch.float32).detach().cpu()
    if values.shape != (len(text),):
        raise InputError(
            f"values must have shape ({len(text)},), one per character of text, got "
            f"{tuple(values.shape)}"
        )
    cells, row, column = [], 0, 0
    for char, value in zip(text, values.tolist()):
        if column == width:
            row, column = row + 1, 0
        cells.append((row, column, "↵" if char == "\n" else char, value))
        column += 1
        if char == "\n":
            row, column = row + 1, 0
    rows = row + 1
    colours = plt.get_cmap("coolwarm")
    figure, ax = plt.subplots(figsize=(0.12 * width + 0.4, 0.24 * rows + 1.1))
    for row, column, char, value in cells:
        ax.add_patch(
            Rectangle(
                (column, -row - 1),
                1,
                1,
                facecolor=colours((value + 1) / 2),
                edgecolor="none",
                alpha=0.75,
            )
        )
        ax.text(
            column + 0.5, -row - 0.5, char, ha="center", va="center", fontsize=8, family="monospace"
        )
    ax.set(xlim=(0, width), ylim=(-rows, 0), title=title)
    ax.axis("off")
    colorbar = figure.colorbar(
        ScalarMappable(Normalize(-1, 1), colours),
        ax=ax,
        orientation="horizontal",
        fraction=0.6 / rows + 0.02,
        pad=0.02,
        label="activation of the unit (-1 blue, +1 red)",
    )
    colorbar.solids.set_alpha(0.75)
    return figure
