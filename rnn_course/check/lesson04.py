"""Checks for lesson 04's exercises: rnn_forward, concat_weights, rnn_backward."""

from __future__ import annotations

import torch

from ._core import CheckFailed, call, exercise, expect_close, expect_tensor
from .lesson03 import _same, check_rnn_terms


def _reference_forward(x, h0, W_xh, W_hh, b_h):
    states, h = [], h0
    for x_t in x:
        h = torch.tanh(x_t @ W_xh.T + h @ W_hh.T + b_h)
        states.append(h)
    return torch.stack(states)


@exercise
def rnn_forward(answer) -> int:
    """`rnn_forward(x, h0, W_xh, W_hh, b_h)`: x (seq_len, batch, input), h0 (batch, hidden)
    -> the hidden states h_1 ... h_T, shape (seq_len, batch, hidden)."""

    def first_state(x_1, h0, W_xh, W_hh, b_h):
        states = call(answer, x_1.unsqueeze(0), h0, W_xh, W_hh, b_h)
        expect_tensor(states, h0.unsqueeze(0), "the states for a sequence of one step")
        return states[0]

    g = torch.Generator().manual_seed(41)
    # input_size == hidden_size, so a transposed weight reaches the term checks below
    seq_len, batch, input_size, hidden_size = 6, 2, 4, 4
    x = torch.randn(seq_len, batch, input_size, generator=g)
    h0 = torch.randn(batch, hidden_size, generator=g)
    W_xh = torch.randn(hidden_size, input_size, generator=g) / 2
    W_hh = torch.randn(hidden_size, hidden_size, generator=g) / 2
    b_h = torch.randn(hidden_size, generator=g)
    expected = _reference_forward(x, h0, W_xh, W_hh, b_h)
    got = call(answer, x, h0, W_xh, W_hh, b_h)
    expect_tensor(got, expected, "the states for x of shape (6, 2, 4) and hidden_size 4")
    shifted = torch.cat([h0.unsqueeze(0), expected[:-1]])
    if _same(got, shifted):
        raise CheckFailed(
            "the states are one time step late: the output at step t must be h_t (after "
            "reading x_t), not h_(t-1); return h_1 ... h_T, without h_0"
        )
    no_memory = torch.stack([torch.tanh(x_t @ W_xh.T + h0 @ W_hh.T + b_h) for x_t in x])
    if _same(got, no_memory):
        raise CheckFailed(
            "every step uses h0: the hidden state must be carried, h = rnn_step(x_t, h) inside "
            "the loop"
        )
    if _same(got, expected.flip(0)):
        raise CheckFailed("the states are in reverse time order: stack them as t = 1 ... T")
    passed = check_rnn_terms(first_state, "h_1 (a sequence of one step)")
    expect_close(got, expected, "the states for a sequence of 6 steps", "check the loop over time")
    return passed + 2


@exercise
def concat_weights(answer) -> int:
    """`concat_weights(W_xh, W_hh)`: (hidden, input), (hidden, hidden) -> W (hidden, input + hidden)
    such that torch.cat([x_t, h_prev], dim=1) @ W.T == x_t @ W_xh.T + h_prev @ W_hh.T."""
    g = torch.Generator().manual_seed(42)
    input_size, hidden_size = 3, 5
    W_xh = torch.randn(hidden_size, input_size, generator=g)
    W_hh = torch.randn(hidden_size, hidden_size, generator=g)
    expected = torch.cat([W_xh, W_hh], dim=1)
    got = call(answer, W_xh, W_hh)
    if isinstance(got, torch.Tensor) and got.shape == (input_size + hidden_size, hidden_size):
        raise CheckFailed(
            "W has shape (input + hidden, hidden): it is transposed; like nn.Linear's weight it "
            "must be (out_features, in_features) = (hidden, input + hidden)"
        )
    expect_tensor(got, expected, "W for input_size 3 and hidden_size 5")
    if _same(got, torch.cat([W_hh, W_xh], dim=1)):
        raise CheckFailed(
            "W_hh comes first: the input is torch.cat([x_t, h_prev]), so W_xh's columns come "
            "first, then W_hh's"
        )
    expect_close(got, expected, "W", "W should be W_xh and W_hh side by side (dim=1)")
    x, h = torch.randn(4, input_size, generator=g), torch.randn(4, hidden_size, generator=g)
    expect_close(
        torch.cat([x, h], dim=1) @ got.T,
        x @ W_xh.T + h @ W_hh.T,
        "torch.cat([x_t, h_prev], dim=1) @ W.T",
    )
    return 3


def _reference_backward(x, h0, W_xh, W_hh, b_h, grad_last):
    params = [p.clone().requires_grad_(True) for p in (W_xh, W_hh, b_h)]
    states = _reference_forward(x, h0, *params)
    return torch.autograd.grad((states[-1] * grad_last).sum(), params)


def _triple(result, what):
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise CheckFailed(
            f"{what} should return three tensors (grad_W_xh, grad_W_hh, grad_b_h), "
            f"got {type(result).__name__}"
        )
    return result


@exercise
def rnn_backward(answer) -> int:
    """`rnn_backward(x, h0, states, W_hh, grad_last)`: backpropagation through time by hand.

    x (seq_len, batch, input), h0 (batch, hidden), states h_1..h_T (seq_len, batch, hidden),
    W_hh (hidden, hidden), grad_last = dL/dh_T (batch, hidden), the loss reading h_T only
    -> (grad_W_xh (hidden, input), grad_W_hh (hidden, hidden), grad_b_h (hidden,)).
    """
    g = torch.Generator().manual_seed(43)
    batch, input_size, hidden_size = 3, 2, 4
    f64 = torch.float64
    W_xh = torch.randn(hidden_size, input_size, generator=g, dtype=f64)
    W_hh = torch.randn(hidden_size, hidden_size, generator=g, dtype=f64) / 2
    b_h = torch.randn(hidden_size, generator=g, dtype=f64)
    h0 = torch.randn(batch, hidden_size, generator=g, dtype=f64)
    grad_last = torch.randn(batch, hidden_size, generator=g, dtype=f64)
    names = ("grad_W_xh", "grad_W_hh", "grad_b_h")

    # one step: each gradient on its own
    x = torch.randn(1, batch, input_size, generator=g, dtype=f64)
    states = _reference_forward(x, h0, W_xh, W_hh, b_h)
    expected = _reference_backward(x, h0, W_xh, W_hh, b_h, grad_last)
    got = _triple(call(answer, x, h0, states, W_hh, grad_last), "rnn_backward")
    for name, value, reference in zip(names, got, expected):
        if (
            isinstance(value, torch.Tensor)
            and value.dim() == 2
            and value.shape == reference.T.shape
        ):
            if value.shape != reference.shape:
                raise CheckFailed(f"{name} is transposed: it must have the shape of its weight")
        expect_tensor(value, reference, f"{name} (one time step)")
    delta = grad_last * (1 - states[0] ** 2)
    grad_W_xh, grad_W_hh, grad_b_h = got
    if _same(grad_b_h, grad_last.sum(0), 1e-8):
        raise CheckFailed("grad_b_h misses the tanh derivative: delta_t = dL/dh_t * (1 - h_t**2)")
    expect_close(
        grad_b_h,
        expected[2],
        "grad_b_h (one time step)",
        "it is delta_1 = dL/dh_1 * (1 - h_1**2), summed over the batch",
        tol=1e-8,
    )
    expect_close(
        grad_W_xh, expected[0], "grad_W_xh (one time step)", "it is delta_1.T @ x_1", tol=1e-8
    )
    if _same(grad_W_hh, delta.T @ states[0], 1e-8):
        raise CheckFailed(
            "grad_W_hh uses h_t where it needs h_(t-1): W_hh multiplies the previous state, so "
            "grad_W_hh += delta_t.T @ h_(t-1) (h_0 at the first step)"
        )
    if _same(grad_W_hh, states[0].T @ delta, 1e-8) or _same(grad_W_hh, h0.T @ delta, 1e-8):
        raise CheckFailed("grad_W_hh is transposed: it is delta_t.T @ h_(t-1)")
    expect_close(
        grad_W_hh, expected[1], "grad_W_hh (one time step)", "it is delta_1.T @ h_0", tol=1e-8
    )

    # several steps: the gradients must flow back through W_hh and add up over time
    seq_len = 5
    x = torch.randn(seq_len, batch, input_size, generator=g, dtype=f64)
    states = _reference_forward(x, h0, W_xh, W_hh, b_h)
    expected = _reference_backward(x, h0, W_xh, W_hh, b_h, grad_last)
    got = _triple(call(answer, x, h0, states, W_hh, grad_last), "rnn_backward")
    last_only = grad_last * (1 - states[-1] ** 2)
    if _same(got[2], last_only.sum(0), 1e-8):
        raise CheckFailed(
            "only the last time step counts: carry dL/dh_(t-1) = delta_t @ W_hh back and add "
            "every step's contribution"
        )
    for name, value, reference in zip(names, got, expected):
        expect_tensor(value, reference, f"{name} ({seq_len} time steps)")
        expect_close(
            value,
            reference,
            f"{name} ({seq_len} time steps)",
            "step back from t = T to 1: delta_t = grad_h * (1 - h_t**2), then grad_h = "
            "delta_t @ W_hh",
            tol=1e-8,
        )
    return 4
