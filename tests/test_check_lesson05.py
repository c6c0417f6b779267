"""Lesson 05's checks accept the reference solutions and reject plausible wrong answers."""

import pytest
import torch

from rnn_course import check
from rnn_course.check import CheckFailed


def rnn_output_by_hand(
    rnn, x, *, use_b_hh=True, transpose_ih=False, carry=True, activation=torch.tanh
):
    W_ih = rnn.weight_ih_l0.T if transpose_ih else rnn.weight_ih_l0
    b = rnn.bias_ih_l0 + (rnn.bias_hh_l0 if use_b_hh else 0)
    h = torch.zeros(x.shape[0], rnn.hidden_size)
    outputs = []
    for t in range(x.shape[1]):
        previous = h if carry else torch.zeros_like(h)
        h = activation(x[:, t] @ W_ih.T + previous @ rnn.weight_hh_l0.T + b)
        outputs.append(h)
    return torch.stack(outputs, dim=1)


def last_valid_output(output, lengths):
    return output[torch.arange(len(lengths)), lengths - 1]


def bidirectional_final_hidden(h_n, num_layers):
    return torch.cat([h_n[-2], h_n[-1]], dim=1)


def test_references_pass():
    check.rnn_output_by_hand(rnn_output_by_hand)
    check.last_valid_output(last_valid_output)
    check.bidirectional_final_hidden(bidirectional_final_hidden)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"use_b_hh": False}, "bias_hh_l0 is missing"),
        ({"transpose_ih": True}, "weight_ih_l0 is transposed"),
        ({"carry": False}, "not carried"),
        ({"activation": lambda v: v}, "tanh is missing"),
        ({"activation": torch.relu}, "compare with rnn"),
    ],
)
def test_rnn_output_by_hand_rejects(options, message):
    with pytest.raises(CheckFailed, match=message):
        check.rnn_output_by_hand(lambda rnn, x: rnn_output_by_hand(rnn, x, **options))


def test_rnn_output_by_hand_rejects_time_first():
    with pytest.raises(CheckFailed, match="should have shape"):
        check.rnn_output_by_hand(lambda rnn, x: rnn_output_by_hand(rnn, x).transpose(0, 1))


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda output, lengths: output[:, -1], "last padded step"),
        (
            lambda output, lengths: output[torch.arange(len(lengths)), (lengths - 2).clamp(min=0)],
            "one step too early",
        ),
        (lambda output, lengths: output[:, 0], "first time step"),
        (lambda output, lengths: output[:, lengths - 1], "should have shape"),
    ],
)
def test_last_valid_output_rejects(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.last_valid_output(wrong)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda h_n, n: h_n[-1], "concatenate the forward and the backward"),
        (lambda h_n, n: torch.cat([h_n[-1], h_n[-2]], dim=1), "directions are swapped"),
        (lambda h_n, n: torch.cat([h_n[0], h_n[1]], dim=1), "first layer"),
        (lambda h_n, n: h_n[-2:].permute(1, 2, 0).reshape(h_n.shape[1], -1), "interleaved"),
        (lambda h_n, n: h_n[-2:].reshape(h_n.shape[1], -1), "ordered \\(layer, direction\\)"),
    ],
)
def test_bidirectional_final_hidden_rejects(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.bidirectional_final_hidden(wrong)
