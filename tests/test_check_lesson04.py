"""Lesson 04's checks accept the reference solutions and reject plausible wrong answers."""

import pytest
import torch

from rnn_course import check
from rnn_course.check import CheckFailed


def rnn_forward(x, h0, W_xh, W_hh, b_h, activation=torch.tanh):
    h, states = h0, []
    for x_t in x:
        h = activation(x_t @ W_xh.T + h @ W_hh.T + b_h)
        states.append(h)
    return torch.stack(states)


def concat_weights(W_xh, W_hh):
    return torch.cat([W_xh, W_hh], dim=1)


def rnn_backward(
    x,
    h0,
    states,
    W_hh,
    grad_last,
    *,
    last_only=False,
    h_t_for_W_hh=False,
    no_derivative=False,
    transpose=False,
):
    grad_W_xh = torch.zeros(W_hh.shape[0], x.shape[2], dtype=x.dtype)
    grad_W_hh = torch.zeros_like(W_hh)
    grad_b_h = torch.zeros(W_hh.shape[0], dtype=x.dtype)
    previous = torch.cat([h0.unsqueeze(0), states[:-1]])
    grad_h = grad_last
    for t in reversed(range(len(x))):
        delta = grad_h if no_derivative else grad_h * (1 - states[t] ** 2)
        grad_W_xh += delta.T @ x[t]
        grad_W_hh += delta.T @ (states[t] if h_t_for_W_hh else previous[t])
        grad_b_h += delta.sum(0)
        grad_h = delta @ W_hh
        if last_only:
            break
    if transpose:
        return grad_W_xh.T, grad_W_hh.T, grad_b_h
    return grad_W_xh, grad_W_hh, grad_b_h


def test_references_pass():
    check.rnn_forward(rnn_forward)
    check.concat_weights(concat_weights)
    check.rnn_backward(rnn_backward)


def _late(x, h0, W_xh, W_hh, b_h):
    states = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return torch.cat([h0.unsqueeze(0), states[:-1]])


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda *a: rnn_forward(*a, activation=lambda v: v), "tanh missing"),
        (lambda x, h0, W_xh, W_hh, b: rnn_forward(x, h0, W_xh, W_hh, 0 * b), "bias b_h missing"),
        (lambda x, h0, W_xh, W_hh, b: rnn_forward(x, h0, W_xh.T, W_hh, b), "uses W_xh transposed"),
        (lambda x, h0, W_xh, W_hh, b: rnn_forward(x, h0, W_xh, W_hh.T, b), "uses W_hh transposed"),
        (_late, "one time step late"),
        (
            lambda x, h0, *w: torch.stack([rnn_forward(x_t[None], h0, *w)[0] for x_t in x]),
            "every step uses h0",
        ),
        (lambda *a: rnn_forward(*a).flip(0), "reverse time order"),
        (lambda *a: rnn_forward(*a)[-1], "should have shape"),
    ],
)
def test_rnn_forward_rejects(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.rnn_forward(wrong)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda W_xh, W_hh: torch.cat([W_hh, W_xh], dim=1), "W_hh comes first"),
        (lambda W_xh, W_hh: torch.cat([W_xh, W_hh], dim=1).T, "it is transposed"),
        (lambda W_xh, W_hh: torch.cat([W_xh.T, W_hh.T], dim=0), "it is transposed"),
        (lambda W_xh, W_hh: W_hh, "should have shape"),
        (lambda W_xh, W_hh: 2 * torch.cat([W_xh, W_hh], dim=1), "side by side"),
    ],
)
def test_concat_weights_rejects(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.concat_weights(wrong)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"last_only": True}, "only the last time step counts"),
        ({"h_t_for_W_hh": True}, "uses h_t where it needs h_\\(t-1\\)"),
        ({"no_derivative": True}, "misses the tanh derivative"),
        ({"transpose": True}, "grad_W_xh is transposed"),
    ],
)
def test_rnn_backward_rejects(options, message):
    with pytest.raises(CheckFailed, match=message):
        check.rnn_backward(lambda *a: rnn_backward(*a, **options))


def test_rnn_backward_rejects_wrong_return():
    with pytest.raises(CheckFailed, match="three tensors"):
        check.rnn_backward(lambda *a: rnn_backward(*a)[:2])
    with pytest.raises(CheckFailed, match="grad_W_hh is transposed"):
        check.rnn_backward(lambda *a: (lambda g: (g[0], g[1].T, g[2]))(rnn_backward(*a)))
