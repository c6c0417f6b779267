"""Lesson 09's text helpers: the shipped Shakespeare, a student's own text, the vocabulary, words."""

from __future__ import annotations

import gzip
import random
import zipfile
from collections import Counter, defaultdict

import matplotlib
import pytest
import torch
from torch import nn

from rnn_course import text as text_module
from rnn_course.errors import DataError, DataNotFoundError, InputError, InputTypeError
from rnn_course.text import (
    Vocabulary,
    common_lines,
    known_word_fraction,
    load_shakespeare,
    load_text,
    plot_text_activation,
    require_length,
    separates_words,
)

matplotlib.use("Agg")

POEM = "床前明月光，\n疑是地上霜。\n举头望明月，\n低头思故乡。\n"


@pytest.fixture(scope="module")
def shakespeare() -> str:
    return load_shakespeare()


# ----------------------------------------------------------------------------- Shakespeare


def test_shakespeare_is_the_checksummed_text(shakespeare):
    assert len(shakespeare) == 1_115_394
    assert len(set(shakespeare)) == 65
    assert shakespeare.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")


def test_a_corrupted_copy_is_refused(tmp_path, monkeypatch, shakespeare):
    changed = tmp_path / "tinyshakespeare.txt.gz"
    changed.write_bytes(gzip.compress(shakespeare.replace("ROMEO", "ROMEA", 1).encode()))
    monkeypatch.setattr(text_module, "SHAKESPEARE_FILE", changed)
    with pytest.raises(DataError, match=r"is corrupted: its text has SHA-256 .* expected 86c4e6"):
        load_shakespeare()


def test_a_truncated_archive_is_refused(tmp_path, monkeypatch):
    whole = text_module.SHAKESPEARE_FILE.read_bytes()
    truncated = tmp_path / "tinyshakespeare.txt.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    monkeypatch.setattr(text_module, "SHAKESPEARE_FILE", truncated)
    with pytest.raises(DataError, match=r"not a valid gzip file: reinstall"):
        load_shakespeare()


def test_a_missing_copy_says_to_reinstall(tmp_path, monkeypatch):
    monkeypatch.setattr(text_module, "SHAKESPEARE_FILE", tmp_path / "gone.txt.gz")
    with pytest.raises(DataNotFoundError, match=r"missing .*gone\.txt\.gz.*reinstall"):
        load_shakespeare()


# ----------------------------------------------------------------------------- load_text


def test_a_chinese_text_loads_and_round_trips(tmp_path):
    path = tmp_path / "静夜思.txt"
    path.write_text(POEM, encoding="utf-8")
    poem = load_text(path)
    assert poem == POEM
    vocab = Vocabulary(poem)
    assert len(vocab) == 20 and vocab.chars[0] == "\n"
    assert vocab.decode(vocab.encode(poem)) == poem
    assert load_text(str(path)) == poem  # a str path works too


def test_a_byte_order_mark_and_windows_line_endings_are_normalised(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes("\ufeffTo be,\r\nor not".encode())
    assert load_text(path) == "To be,\nor not"


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"no file at .*missing\.txt: give the path"):
        load_text(tmp_path / "missing.txt")


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"is a folder"):
        load_text(tmp_path)


def test_a_file_in_another_encoding_is_refused(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes(POEM.encode("gbk"))
    with pytest.raises(DataError, match=r"gbk\.txt is not UTF-8 text: byte 0x\w\w at position 0"):
        load_text(path)


def test_a_binary_file_is_refused(tmp_path):
    path = tmp_path / "archive.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "x" * 1000)
    with pytest.raises(DataError, match=r"is not UTF-8 text"):
        load_text(path)


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.txt holds no text"):
        load_text(path)


def test_a_path_of_the_wrong_type_is_refused():
    with pytest.raises(InputTypeError, match=r"path must be a file path .* got bytes"):
        load_text(b"poem.txt")


def test_the_user_file_is_left_unchanged(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_bytes(b"line one\r\nline two\r\n")
    load_text(path)
    assert path.read_bytes() == b"line one\r\nline two\r\n"


# ----------------------------------------------------------------------------- Vocabulary


def test_the_vocabulary_is_sorted_and_ids_are_positions(shakespeare):
    vocab = Vocabulary(shakespeare)
    assert vocab.chars == sorted(set(shakespeare)) and len(vocab) == 65
    ids = vocab.encode("To be")
    assert ids.dtype == torch.int64 and ids.shape == (5,)
    assert ids.tolist() == [vocab.chars.index(c) for c in "To be"]
    assert vocab.decode(ids) == vocab.decode(ids.tolist()) == "To be"
    assert Vocabulary("".join(vocab.chars)).chars == vocab.chars  # rebuilt from a checkpoint


def test_the_vocabulary_names_unknown_characters():
    with pytest.raises(InputError, match=r"not in the vocabulary .*'z'"):
        Vocabulary("abc").encode("abz")


@pytest.mark.parametrize(
    ("ids", "pattern"),
    [
        ([0, 3], r"ints from 0 to 2 .* got 3"),
        ([-1], r"got -1"),
        ([0.0], r"got 0\.0"),
        (torch.tensor([[0, 1]]), r"1-D integer tensor, got shape \(1, 2\)"),
        (torch.tensor([0.0, 1.0]), r"1-D integer tensor, got shape \(2,\), torch\.float32"),
    ],
)
def test_decode_refuses_bad_ids(ids, pattern):
    with pytest.raises(InputError, match=pattern):
        Vocabulary("abc").decode(ids)


def test_a_vocabulary_needs_a_text():
    with pytest.raises(InputError, match=r"text is empty"):
        Vocabulary("")
    with pytest.raises(InputTypeError, match=r"text must be a str, got list"):
        Vocabulary(["a", "b"])


# ----------------------------------------------------------------------------- known words


def test_known_word_fraction_counts_words_in_any_case():
    assert known_word_fraction("The KING, the queen; zzq", "the king and the queen") == 0.8
    assert known_word_fraction("... 123 !", "anything") == 0.0
    assert known_word_fraction("明月 光", "床前明月光") == 0.0  # words are runs of letters


def sample_from_counts(text: str, order: int, length: int, seed: int) -> str:
    """Text drawn from the text's own character n-gram counts (a cheap fitted model)."""
    following: dict[str, Counter] = defaultdict(Counter)
    for i in range(len(text) - order):
        following[text[i : i + order]][text[i + order]] += 1
    rng = random.Random(seed)
    written = text[:order]
    for _ in range(length):
        options = following[written[-order:]]
        written += rng.choices(list(options), list(options.values()))[0]
    return written


def untrained_sample(vocab: Vocabulary, length: int, seed: int) -> str:
    """Text from an untrained embedding-LSTM-linear model, as lesson 09 builds it."""
    torch.manual_seed(seed)
    embedding = nn.Embedding(len(vocab), 16)
    lstm = nn.LSTM(16, 64, batch_first=True)
    head = nn.Linear(64, len(vocab))
    ids, state = [vocab.ids["\n"]], None
    with torch.no_grad():
        for _ in range(length):
            output, state = lstm(embedding(torch.tensor([[ids[-1]]])), state)
            ids.append(int(torch.multinomial(head(output[0, -1]).softmax(-1), 1)))
    return vocab.decode(ids)


def test_real_text_and_a_fitted_model_pass_an_untrained_model_fails(shakespeare):
    split = int(0.9 * len(shakespeare))
    train_text = shakespeare[:split]
    real = known_word_fraction(shakespeare[split : split + 3000], train_text)
    fitted = known_word_fraction(sample_from_counts(train_text, 5, 3000, seed=0), train_text)
    untrained = known_word_fraction(untrained_sample(Vocabulary(shakespeare), 1000, 0), train_text)
    assert real > 0.95, f"real validation text: {real:.0%} of its words in the training text"
    assert fitted > 0.8, f"a 5-gram sample: {fitted:.0%} of its words in the training text"
    assert untrained < 0.5, f"an untrained model: {untrained:.0%} of its words in the training text"


# ----------------------------------------------------------------------------- any text


def test_require_length_names_the_length_and_the_minimum():
    require_length("x" * 20, 20)
    with pytest.raises(
        InputError, match=r"the text has 1,999 characters; lesson 09 needs at least 2,000"
    ):
        require_length("x" * 1999, 2000)
    with pytest.raises(InputTypeError, match=r"text must be a str, got bytes"):
        require_length(b"abc", 1)


def test_common_lines_are_the_most_frequent_short_lines(shakespeare):
    assert common_lines(shakespeare, 2) == ["GLOUCESTER:\n", "DUKE VINCENTIO:\n"]
    assert common_lines("b\na\nb\na\nc\n", 3) == ["b\n", "a\n", "c\n"]  # ties: first seen first
    assert common_lines(POEM, 1) == ["床前明月光，\n"]


def test_common_lines_fall_back_on_the_opening():
    long_line = "word " * 20
    assert common_lines(long_line, 2, max_length=10) == ["word word ", "word word "]
    with pytest.raises(InputError, match=r"text must be a non-empty str"):
        common_lines("", 1)


@pytest.mark.parametrize(
    ("text", "spaced"),
    [
        ("To be, or not to be, that is the question.", True),
        ("Der Mensch ist frei geschaffen, ist frei, und würd er in Ketten geboren.", True),
        (POEM, False),
        ("吾輩は猫である。名前はまだ無い。", False),
        ("สวัสดีครับ วันนี้อากาศดีมาก ขอบคุณครับ", False),  # Thai: spaces between phrases
        ("... 123 !", False),
    ],
)
def test_separates_words_fits_the_script(text, spaced):
    assert separates_words(text) is spaced


# ----------------------------------------------------------------------------- the figure


def test_plot_text_activation_draws_one_cell_per_character():
    figure = plot_text_activation("ab\ncd", torch.tensor([-1.0, 0.0, 0.5, 1.0, 0.2]), title="t")
    ax = figure.axes[0]
    assert len(ax.patches) == 5 and [t.get_text() for t in ax.texts] == ["a", "b", "↵", "c", "d"]
    assert ax.get_title() == "t" and ax.get_ylim() == (-2, 0)


def test_plot_text_activation_wants_one_value_per_character():
    with pytest.raises(InputError, match=r"values must have shape \(3,\), .* got \(2,\)"):
        plot_text_activation("abc", [0.1, 0.2], title="t")
