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
from collections import Counter
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


PAD, START, END = "<pad>", "<s>", "</s>"


class Vocabulary:
    """The distinct characters of a text, sorted, and their ids (lessons 09 and 10).

    With no options a character's id is its position in `chars` (lesson 09). The special tokens
    are options (lesson 10): `pad=True` adds `<pad>` (id 0, it fills a batch's short rows),
    `start=True` `<s>` and `end=True` `</s>`, in that order, before the characters; `tokens`
    lists the token of every id. `Vocabulary("".join(vocabulary.chars))`, with the same options,
    rebuilds the same one (how a checkpoint stores it).
    """

    def __init__(self, text: str, *, pad: bool = False, start: bool = False, end: bool = False):
        if not isinstance(text, str):
            raise InputTypeError(f"text must be a str, got {type(text).__name__}")
        if not text:
            raise InputError("text is empty: a vocabulary needs at least one character")
        self.chars: list[str] = sorted(set(text))
        wanted = [(PAD, pad), (START, start), (END, end)]
        self.tokens: list[str] = [token for token, on in wanted if on] + self.chars
        self.ids: dict[str, int] = {token: index for index, token in enumerate(self.tokens)}
        self.pad_id, self.start_id, self.end_id = (self.ids.get(token) for token, _ in wanted)

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        specials = len(self.tokens) - len(self.chars)
        return f"Vocabulary({len(self.chars)} characters" + (
            f", {specials} special tokens)" if specials else ")"
        )

    def _special(self, token: str, option: str) -> int:
        if token not in self.ids:
            raise InputError(f"this vocabulary has no {token} token: build it with {option}=True")
        return self.ids[token]

    def encode(self, text: str, start: bool = False, end: bool = False) -> torch.Tensor:
        """The ids of `text`'s characters, int64 of shape (len(text),), after `<s>` if `start`
        and before `</s>` if `end`."""
        if not isinstance(text, str):
            raise InputTypeError(f"text must be a str, got {type(text).__name__}")
        unknown = sorted(set(text) - set(self.chars))
        if unknown:
            shown = ", ".join(repr(char) for char in unknown[:10])
            raise InputError(
                f"text has characters that are not in the vocabulary ({len(self.chars)} "
                f"characters of the training text): {shown}"
            )
        ids = [self.ids[char] for char in text]
        if start:
            ids.insert(0, self._special(START, "start"))
        if end:
            ids.append(self._special(END, "end"))
        return torch.tensor(ids, dtype=torch.int64)

    def batch(
        self, texts: list[str], start: bool = False, end: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Texts as one padded batch: ids (batch, longest) int64, filled with the padding id,
        and the lengths (batch,) int64; `start` and `end` as in `encode`."""
        if not isinstance(texts, (list, tuple)) or not texts:
            raise InputTypeError(
                f"texts must be a non-empty list of strings, got {type(texts).__name__}"
                + (" (empty)" if isinstance(texts, (list, tuple)) else "")
            )
        pad_id = self._special(PAD, "pad")
        encoded = [self.encode(text, start, end) for text in texts]
        lengths = torch.tensor([len(ids) for ids in encoded], dtype=torch.int64)
        padded = torch.full((len(texts), int(lengths.max())), pad_id, dtype=torch.int64)
        for row, ids in enumerate(encoded):
            padded[row, : len(ids)] = ids
        return padded, lengths

    def decode(self, ids: torch.Tensor | Iterable[int]) -> str:
        """The text of a 1-D sequence of ids (a tensor of shape (length,) or a list of ints):
        padding and start tokens are skipped, and it stops at the first end token."""
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
        if self.end_id in ids:
            ids = ids[: ids.index(self.end_id)]
        return "".join(self.tokens[i] for i in ids if i not in (self.pad_id, self.start_id))


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


def require_length(text: str, minimum: int) -> None:
    """Raise `InputError` unless `text` has at least `minimum` characters (lesson 09's own text)."""
    if not isinstance(text, str):
        raise InputTypeError(f"text must be a str, got {type(text).__name__}")
    if len(text) < minimum:
        raise InputError(
            f"the text has {len(text):,} characters; lesson 09 needs at least {minimum:,} "
            "(90% to train on, 10% to validate): use a longer text"
        )


def common_lines(text: str, count: int, max_length: int = 40) -> list[str]:
    """The `count` most frequent non-empty lines of `text` with at most `max_length` characters.

    Lesson 09's prompts, taken from the text itself (in a play: speakers' names). Each line keeps
    its '\\n'; ties go to the line that comes first. A text with fewer such lines is padded with
    its first `max_length` characters.
    """
    if not isinstance(text, str) or not text:
        raise InputError(f"text must be a non-empty str, got {type(text).__name__} {text!r:.40}")
    lines = Counter(line for line in text.split("\n") if 0 < len(line) <= max_length)
    found = [line + "\n" for line, _ in lines.most_common(count)]
    return found + [text[:max_length]] * (count - len(found))


def separates_words(text: str) -> bool:
    """True when `text` puts spaces between its words: at least one space per 12 letters.

    English has about one space per 5 letters; Chinese and Japanese have none, and Thai puts
    them between phrases only. Where this is False, `known_word_fraction` would count a whole
    clause as one word, so lesson 09 skips its word check.
    """
    if not isinstance(text, str):
        raise InputTypeError(f"text must be a str, got {type(text).__name__}")
    letters = sum(len(word) for word in WORD.findall(text))
    return letters > 0 and 12 * text.count(" ") >= letters


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
