"""One character vocabulary for lessons 09 and 10: `text.Vocabulary`, special tokens as options."""

import pytest
import torch

from rnn_course.errors import InputError, InputTypeError
from rnn_course.text import Vocabulary


def test_without_options_ids_are_the_sorted_characters():
    vocab = Vocabulary("banana")
    assert vocab.tokens == vocab.chars == ["a", "b", "n"] and len(vocab) == 3
    assert (vocab.pad_id, vocab.start_id, vocab.end_id) == (None, None, None)
    assert vocab.encode("nab").tolist() == [2, 0, 1]
    assert repr(vocab) == "Vocabulary(3 characters)"


def test_special_tokens_come_first_in_a_fixed_order():
    vocab = Vocabulary("ba", pad=True, start=True, end=True)
    assert vocab.tokens == ["<pad>", "<s>", "</s>", "a", "b"] and len(vocab) == 5
    assert vocab.chars == ["a", "b"]  # what a checkpoint stores, without the special tokens
    assert (vocab.pad_id, vocab.start_id, vocab.end_id) == (0, 1, 2)
    assert Vocabulary("ab", end=True).tokens == ["</s>", "a", "b"]
    assert repr(vocab) == "Vocabulary(2 characters, 3 special tokens)"


def test_encode_adds_start_and_end_and_decode_strips_them():
    vocab = Vocabulary("ab", pad=True, start=True, end=True)
    ids = vocab.encode("ba", start=True, end=True)
    assert ids.dtype == torch.int64 and ids.tolist() == [1, 4, 3, 2]
    assert vocab.decode(ids) == vocab.decode(ids.tolist()) == "ba"
    assert vocab.decode([1, 3, 4, 2, 3]) == "ab"  # stops at the first end token
    assert vocab.decode([3, 0, 0]) == "a"  # padding is skipped


def test_batch_pads_with_the_padding_id_and_returns_the_lengths():
    vocab = Vocabulary("ab", pad=True, start=True, end=True)
    padded, lengths = vocab.batch(["ab", "b"], end=True)
    assert padded.tolist() == [[3, 4, 2], [4, 2, 0]] and lengths.tolist() == [3, 2]
    assert padded.dtype == torch.int64 and lengths.dtype == torch.int64
    padded, lengths = vocab.batch(("a",), start=True)
    assert padded.tolist() == [[1, 3]] and lengths.tolist() == [2]


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Vocabulary("ab").batch(["a"]), InputError, "no <pad> token: .* pad=True"),
        (
            lambda: Vocabulary("ab").encode("a", start=True),
            InputError,
            "no <s> token: .*start=True",
        ),
        (lambda: Vocabulary("ab", pad=True).encode("a", end=True), InputError, "end=True"),
        (lambda: Vocabulary("ab", pad=True).batch("ab"), InputTypeError, "non-empty list"),
        (lambda: Vocabulary("ab", pad=True).batch([]), InputTypeError, r"list .*\(empty\)"),
        (lambda: Vocabulary("ab", pad=True).batch(["ac"]), InputError, "not in the vocabulary"),
        (lambda: Vocabulary("ab", pad=True).decode([3]), InputError, "ints from 0 to 2"),
    ],
)
def test_misuse_is_named(make, error, message):
    with pytest.raises(error, match=message):
        make()
