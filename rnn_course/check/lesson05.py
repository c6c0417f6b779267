"""Checks for lesson 05's exercises: rnn_output_by_hand, last_valid_output, bidirectional_final_hidden."""

from __future__ import annotations

import torch
from torch import nn

from ._core import CheckFailed, call, exercise, expect_close, expect_tensor
from .lesson03 import _same


def _by_hand(x, W_ih, W_hh, b_ih, b_hh, activation=torch.tanh):
    h = torch.zeros(x.shape[0], W_hh.shape[0], dtype=x.dtype)
    outputs = []
    for t in range(x.shape[1]):
        h = activation(x[:, t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        outputs.append(h)
    return torch.stack(outputs, dim=1)


@exercise
def rnn_output_by_hand(answer) -> int:
    """`rnn_output_by_hand(rnn, x)`: a one-layer tanh nn.RNN with batch_first=True and
    x (batch, seq_len, input_size) -> its output (batch, seq_len, hidden_size), h0 = 0,
    computed from rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0."""
    torch.manual_seed(51)
    size = 4  # input_size == hidden_size, so a transposed weight does not crash
    rnn = nn.RNN(size, size, batch_first=True)
    x = torch.randn(2, 3, size)
    with torch.no_grad():
        expected = rnn(x)[0]
    got = call(answer, rnn, x)
    expect_tensor(got, expected, "the output for x of shape (2, 3, 4) (batch, seq_len, input)")
    W_ih, W_hh = rnn.weight_ih_l0.detach(), rnn.weight_hh_l0.detach()
    b_ih, b_hh = rnn.bias_ih_l0.detach(), rnn.bias_hh_l0.detach()
    zero = torch.zeros(size)
    mistakes = {
        "bias_hh_l0 is missing: nn.RNN adds two biases, bias_ih_l0 and bias_hh_l0": _by_hand(
            x, W_ih, W_hh, b_ih, zero
        ),
        "bias_ih_l0 is missing: nn.RNN adds two biases, bias_ih_l0 and bias_hh_l0": _by_hand(
            x, W_ih, W_hh, zero, b_hh
        ),
        "the tanh is missing": _by_hand(x, W_ih, W_hh, b_ih, b_hh, activation=lambda v: v),
        "weight_ih_l0 is transposed: compute x_t @ weight_ih_l0.T": _by_hand(
            x, W_ih.T, W_hh, b_ih, b_hh
        ),
        "weight_hh_l0 is transposed: compute h_prev @ weight_hh_l0.T": _by_hand(
            x, W_ih, W_hh.T, b_ih, b_hh
        ),
        "the hidden state is not carried from one step to the next": torch.tanh(
            x @ W_ih.T + b_ih + b_hh
        ),
    }
    for mistake, value in mistakes.items():
        if _same(got, value):
            raise CheckFailed(mistake)
    expect_close(got, expected, "the output", "compare with rnn(x)[0] step by step")

    torch.manual_seed(52)
    rnn = nn.RNN(3, 5, batch_first=True)
    x = torch.randn(4, 6, 3)
    with torch.no_grad():
        expected = rnn(x)[0]
    got = call(answer, rnn, x)
    expect_tensor(got, expected, "the output for x of shape (4, 6, 3) and hidden_size 5")
    expect_close(got, expected, "the output (input_size 3, hidden_size 5, 6 steps)")
    return 3


@exercise
def last_valid_output(answer) -> int:
    """`last_valid_output(output, lengths)`: a padded batch's output (batch, max_len, hidden),
    batch first, and the true lengths (batch,) -> the output at each sequence's last real step,
    shape (batch, hidden)."""
    g = torch.Generator().manual_seed(53)
    batch, max_len, hidden_size = 4, 6, 3
    output = torch.randn(batch, max_len, hidden_size, generator=g)
    lengths = torch.tensor([6, 2, 4, 1])
    expected = output[torch.arange(batch), lengths - 1]
    got = call(answer, output, lengths)
    expect_tensor(got, expected, "the result for output (4, 6, 3) and lengths (4,)")
    if _same(got, output[:, -1]):
        raise CheckFailed(
            "this is output[:, -1], the last padded step: for a sequence shorter than the batch's "
            "longest, it is the state after reading padding; index output[i, lengths[i] - 1]"
        )
    shifted = output[torch.arange(batch), (lengths - 2).clamp(min=0)]
    if _same(got, shifted):
        raise CheckFailed("one step too early: the last real step of sequence i is lengths[i] - 1")
    if _same(got, output[torch.arange(batch), 0]):
        raise CheckFailed("this is the first time step; the last real step is lengths[i] - 1")
    expect_close(got, expected, "the last valid outputs", "index output[i, lengths[i] - 1]")
    full = torch.full((batch,), max_len)
    expect_close(
        call(answer, output, full), output[:, -1], "with every sequence full length, the result"
    )
    return 3


@exercise
def bidirectional_final_hidden(answer) -> int:
    """`bidirectional_final_hidden(h_n, num_layers)`: h_n of a bidirectional nn.RNN,
    (num_layers * 2, batch, hidden) -> the last layer's forward and backward final states
    side by side, (batch, 2 * hidden), forward first."""
    g = torch.Generator().manual_seed(54)
    batch, hidden_size = 3, 4
    passed = 0
    for num_layers in (1, 2, 3):
        h_n = torch.randn(num_layers * 2, batch, hidden_size, generator=g)
        expected = torch.cat([h_n[-2], h_n[-1]], dim=1)
        got = call(answer, h_n, num_layers)
        what = f"the result for num_layers={num_layers} (h_n of shape {tuple(h_n.shape)})"
        if isinstance(got, torch.Tensor) and got.shape == (batch, hidden_size):
            raise CheckFailed(
                f"{what} has shape {tuple(got.shape)}: concatenate the forward and the backward "
                "direction, (batch, 2 * hidden)"
            )
        expect_tensor(got, expected, what)
        if _same(got, torch.cat([h_n[-1], h_n[-2]], dim=1)):
            raise CheckFailed(
                "the directions are swapped: h_n[-2] is the last layer's forward direction and "
                "goes first, h_n[-1] is its backward direction"
            )
        if num_layers > 1 and _same(got, torch.cat([h_n[0], h_n[1]], dim=1)):
            raise CheckFailed(
                "this is the first layer (h_n[0], h_n[1]); the last layer is h_n[-2], h_n[-1]"
            )
        if _same(got, h_n[-2:].permute(1, 2, 0).reshape(batch, -1)):
            raise CheckFailed(
                "the two directions are interleaved element by element; put them side by side "
                "with torch.cat([forward, backward], dim=1)"
            )
        expect_close(got, expected, what, "the layers are ordered (layer, direction)")
        passed += 1
    return passed
