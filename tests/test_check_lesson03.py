"""Lesson 03's checks accept the reference solutions and reject plausible wrong answers."""

import pytest
import torch

from rnn_course import check
from rnn_course.check import CheckFailed


def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)


def rnn_parameter_count(input_size, hidden_size, output_size, seq_len):
    return (
        hidden_size * (input_size + hidden_size) + 2 * hidden_size + output_size * (hidden_size + 1)
    )


def bptt_step(grad_h, h_t, W_hh):
    return (grad_h * (1 - h_t**2)) @ W_hh


def test_references_pass():
    check.rnn_step(rnn_step)
    check.rnn_parameter_count(rnn_parameter_count)
    check.bptt_step(bptt_step)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda x, h, W_xh, W_hh, b: x @ W_xh.T + h @ W_hh.T + b, "tanh missing"),
        (lambda x, h, W_xh, W_hh, b: torch.tanh(x @ W_xh.T + h @ W_hh.T), "bias b_h missing"),
        (
            lambda x, h, W_xh, W_hh, b: torch.tanh(x @ W_xh + h @ W_hh.T + b),
            "W_xh x_t term uses W_xh transposed",
        ),
        (
            lambda x, h, W_xh, W_hh, b: torch.tanh(x @ W_xh.T + h @ W_hh + b),
            "W_hh h_\\(t-1\\) term uses W_hh transposed",
        ),
        (
            lambda x, h, W_xh, W_hh, b: torch.tanh(x @ W_xh.T + b),
            "only the W_hh h_\\(t-1\\) term non-zero",
        ),
        (
            lambda x, h, W_xh, W_hh, b: torch.tanh(x @ W_xh.T + h @ W_hh.T + b)[0],
            "should have shape",
        ),
        (
            lambda x, h, W_xh, W_hh, b: torch.relu(x @ W_xh.T + h @ W_hh.T + b),
            "should be tanh\\(b_h\\)",
        ),
    ],
)
def test_rnn_step_rejects(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.rnn_step(wrong)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda i, h, o, s: s * rnn_parameter_count(i, h, o, s), "parameter sharing"),
        (lambda i, h, o, s: h * (i + h) + 2 * h, "output layer"),
        (lambda i, h, o, s: rnn_parameter_count(i, h, o, s) - h, "one bias is missing"),
        (lambda i, h, o, s: rnn_parameter_count(i, h, o, s) - o, "output bias"),
        (lambda i, h, o, s: rnn_parameter_count(i, h, o, s) - h * h + h * i, "W_hh has"),
        (lambda i, h, o, s: float(rnn_parameter_count(i, h, o, s)), "should be an int"),
        (lambda i, h, o, s: 1, "count W_xh"),
    ],
)
def test_rnn_parameter_count_rejects(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.rnn_parameter_count(wrong)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda g, h, W: g @ W, "tanh derivative \\(1 - h_t\\*\\*2\\) is missing"),
        (lambda g, h, W: (g * (1 - h**2)) @ W.T, "W_hh is transposed"),
        (lambda g, h, W: (g * (1 - torch.tanh(h) ** 2)) @ W, "not 1 - tanh\\(h_t\\)"),
        (lambda g, h, W: (g * (1 - h)) @ W, "not 1 - h_t$"),
        (lambda g, h, W: ((g * (1 - h**2)) @ W)[:, :2], "should have shape"),
        (lambda g, h, W: 2 * (g * (1 - h**2)) @ W, "compare with autograd"),
    ],
)
def test_bptt_step_rejects(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.bptt_step(wrong)


def test_not_implemented_and_not_callable():
    def todo(*args):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented"):
        check.rnn_step(todo)
    with pytest.raises(CheckFailed, match="pass the function itself"):
        check.bptt_step(3)
