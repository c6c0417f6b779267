"""Checks for lesson 03's exercises: rnn_step, rnn_parameter_count, bptt_step."""

from __future__ import annotations

import numbers
from collections.abc import Callable

import torch

from ._core import CheckFailed, call, exercise, expect_close, expect_tensor


def _same(got, value: torch.Tensor, tol: float = 1e-5) -> bool:
    return (
        isinstance(got, torch.Tensor)
        and got.shape == value.shape
        and torch.allclose(got.detach().to(value.dtype), value, atol=tol)
    )


def check_rnn_terms(first_state: Callable, what: str) -> int:
    """Check h_1 = tanh(x_1 W_xh^T + h_0 W_hh^T + b_h) one term at a time (lessons 03, 04).

    `first_state(x_1, h_0, W_xh, W_hh, b_h)` must return the student's h_1, (batch, hidden).
    Returns the number of tests passed.
    """
    g = torch.Generator().manual_seed(31)
    batch, size = 3, 4  # input_size == hidden_size, so a transposed weight does not crash
    x, h0 = torch.randn(batch, size, generator=g), torch.randn(batch, size, generator=g)
    W_xh, W_hh = torch.randn(size, size, generator=g), torch.randn(size, size, generator=g)
    b_h = torch.randn(size, generator=g)
    zero_x, zero_h, zero_w, zero_b = (
        torch.zeros(batch, size),
        torch.zeros(batch, size),
        torch.zeros(size, size),
        torch.zeros(size),
    )

    only_bias = first_state(zero_x, zero_h, W_xh, W_hh, b_h)
    expect_tensor(only_bias, zero_h, f"{what} for a batch of 3 and hidden_size 4")
    if _same(only_bias, b_h.expand(batch, size)):
        raise CheckFailed(f"{what} equals the pre-activation: is the tanh missing?")
    if _same(only_bias, zero_h):
        raise CheckFailed(f"with x_t = 0 and h_(t-1) = 0, {what} is 0: is the bias b_h missing?")
    expect_close(
        only_bias,
        torch.tanh(b_h).expand(batch, size),
        f"with x_t = 0 and h_(t-1) = 0, {what}",
        "it should be tanh(b_h)",
    )

    terms = [
        (
            "W_xh x_t",
            "W_xh",
            "x_t @ W_xh.T",
            (x, zero_h, W_xh, zero_w, zero_b),
            x @ W_xh.T,
            x @ W_xh,
        ),
        (
            "W_hh h_(t-1)",
            "W_hh",
            "h_prev @ W_hh.T",
            (zero_x, h0, zero_w, W_hh, zero_b),
            h0 @ W_hh.T,
            h0 @ W_hh,
        ),
    ]
    for term, weight, formula, args, right, transposed in terms:
        got = first_state(*args)
        if _same(got, torch.tanh(transposed)):
            raise CheckFailed(f"the {term} term uses {weight} transposed: compute {formula}")
        if _same(got, right):
            raise CheckFailed(f"the {term} term is not passed through tanh: is the tanh missing?")
        expect_close(
            got,
            torch.tanh(right),
            f"with only the {term} term non-zero, {what}",
            f"the {term} term is wrong; compute {formula}",
        )

    g = torch.Generator().manual_seed(32)
    batch, input_size, hidden_size = 2, 3, 5
    x = torch.randn(batch, input_size, generator=g)
    h0 = torch.randn(batch, hidden_size, generator=g)
    W_xh = torch.randn(hidden_size, input_size, generator=g)
    W_hh = torch.randn(hidden_size, hidden_size, generator=g)
    b_h = torch.randn(hidden_size, generator=g)
    expect_close(
        first_state(x, h0, W_xh, W_hh, b_h),
        torch.tanh(x @ W_xh.T + h0 @ W_hh.T + b_h),
        f"{what} (input_size 3, hidden_size 5, every term non-zero)",
    )
    return 4


@exercise
def rnn_step(answer) -> int:
    """`rnn_step(x_t, h_prev, W_xh, W_hh, b_h)`: (batch, input), (batch, hidden) -> h_t (batch, hidden)."""
    return check_rnn_terms(lambda *args: call(answer, *args), "h_t")


@exercise
def rnn_parameter_count(answer) -> int:
    """`rnn_parameter_count(input_size, hidden_size, output_size, seq_len)` -> int.

    The parameters of nn.RNN(input_size, hidden_size) plus nn.Linear(hidden_size, output_size).
    """
    cases = [(3, 5, 2, 10), (28, 128, 10, 28), (1, 1, 1, 7), (7, 2, 4, 100)]
    for input_size, hidden_size, output_size, seq_len in cases:
        got = call(answer, input_size, hidden_size, output_size, seq_len)
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if not isinstance(got, numbers.Integral) or isinstance(got, bool):
            raise CheckFailed(f"the count should be an int, got {type(got).__name__}")
        rnn = hidden_size * input_size + hidden_size * hidden_size + 2 * hidden_size
        head = output_size * hidden_size + output_size
        expected = rnn + head
        label = (
            f"rnn_parameter_count(input_size={input_size}, hidden_size={hidden_size}, "
            f"output_size={output_size}, seq_len={seq_len})"
        )
        if got == expected:
            continue
        mistakes = {
            expected * seq_len: "it grows with seq_len, but the same weights are reused at every "
            "time step (parameter sharing): the count does not depend on seq_len",
            rnn: "the output layer W_hy, b_y (nn.Linear(hidden_size, output_size)) is missing",
            expected - hidden_size: "one bias is missing: nn.RNN has two, b_ih and b_hh, "
            "each of hidden_size elements",
            expected - 2 * hidden_size: "both biases of nn.RNN (b_ih and b_hh) are missing",
            expected - output_size: "the output bias b_y is missing",
            expected - hidden_size * hidden_size + hidden_size * input_size: "W_hh has "
            "hidden_size x hidden_size elements (it maps h_(t-1) to h_t), not hidden_size x "
            "input_size",
        }
        hint = mistakes.get(got, "count W_xh, W_hh, b_ih, b_hh, W_hy and b_y one by one")
        raise CheckFailed(f"{label} returned {got}, expected {expected}: {hint}")
    return len(cases)


def _bptt_reference(grad_h, h_t, W_hh):
    return (grad_h * (1 - h_t**2)) @ W_hh


@exercise
def bptt_step(answer) -> int:
    """`bptt_step(grad_h, h_t, W_hh)`: dL/dh_t (batch, hidden), h_t (batch, hidden) -> dL/dh_(t-1)."""
    g = torch.Generator().manual_seed(33)
    batch, hidden_size = 3, 4
    grad_h = torch.randn(batch, hidden_size, generator=g, dtype=torch.float64)
    W_hh = torch.randn(hidden_size, hidden_size, generator=g, dtype=torch.float64)
    h_prev = torch.randn(batch, hidden_size, generator=g, dtype=torch.float64)
    pre = h_prev @ W_hh.T + torch.randn(hidden_size, generator=g, dtype=torch.float64)
    h_t = torch.tanh(pre)

    got = call(answer, grad_h, h_t, W_hh)
    expect_tensor(got, grad_h, "dL/dh_(t-1) for a batch of 3 and hidden_size 4")
    # autograd's answer: the gradient of sum(grad_h * h_t) with respect to h_prev
    h_leaf = h_prev.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(
        (grad_h * torch.tanh(h_leaf @ W_hh.T + (pre - h_prev @ W_hh.T))).sum(), h_leaf
    )
    derivative = 1 - h_t**2
    mistakes = {
        "the tanh derivative (1 - h_t**2) is missing": grad_h @ W_hh,
        "W_hh is transposed: dL/dh_(t-1) = (dL/dh_t * (1 - h_t**2)) @ W_hh, without .T": (
            grad_h * derivative
        )
        @ W_hh.T,
        "the tanh derivative is 1 - h_t**2 (h_t is already tanh of the pre-activation), "
        "not 1 - tanh(h_t)**2": (grad_h * (1 - torch.tanh(h_t) ** 2)) @ W_hh,
        "the tanh derivative is 1 - h_t**2, not 1 - h_t": (grad_h * (1 - h_t)) @ W_hh,
        "the tanh derivative is 1 - h_t**2, not h_t**2": (grad_h * h_t**2) @ W_hh,
    }
    for mistake, value in mistakes.items():
        if _same(got, value, 1e-8):
            raise CheckFailed(mistake)
    expect_close(got, expected, "dL/dh_(t-1)", "compare with autograd's gradient", tol=1e-8)
    tiny = call(answer, grad_h, torch.zeros_like(h_t), torch.eye(hidden_size, dtype=torch.float64))
    expect_close(
        tiny, grad_h, "with h_t = 0 and W_hh = I, dL/dh_(t-1)", "it should equal dL/dh_t", tol=1e-8
    )
    return 3
