"""gradient_norms_over_time: shapes, values against a hand computation, input validation."""

import pytest
import torch
from torch import nn

from rnn_course import gradient_norms_over_time


def _tanh_step(W_xh, W_hh):
    return lambda x_t, h: torch.tanh(x_t @ W_xh.T + h @ W_hh.T)


def test_step_function_shape_and_last_entry():
    torch.manual_seed(0)
    x = torch.randn(4, 7, 3)
    step = _tanh_step(torch.randn(5, 3), torch.randn(5, 5))
    norms = gradient_norms_over_time(step, x, torch.zeros(4, 5))
    assert norms.shape == (7,) and norms.dtype == torch.float64
    # dL/dh_T of L = h_T.sum() is a vector of ones: norm sqrt(hidden_size)
    assert norms[-1].item() == pytest.approx(5**0.5)


def test_linear_step_matches_powers_of_W_hh():
    # h_t = W h_(t-1) + x_t with W = 0.5 I: dL/dh_t shrinks by 0.5 per step back
    step = lambda x_t, h: h @ (0.5 * torch.eye(2)).T + x_t  # noqa: E731
    norms = gradient_norms_over_time(step, torch.randn(1, 5, 2), torch.zeros(1, 2))
    expected = 2**0.5 * 0.5 ** torch.arange(4, -1, -1, dtype=torch.float64)
    torch.testing.assert_close(norms, expected)


def test_weights_without_grad_and_param_grads_untouched():
    cell = nn.RNNCell(3, 4)
    norms = gradient_norms_over_time(cell, torch.randn(2, 6, 3), torch.zeros(2, 4))
    assert norms.shape == (6,) and (norms > 0).all()
    assert all(p.grad is None for p in cell.parameters())


def test_lstm_cell_state_index():
    cell = nn.LSTMCell(3, 4)
    state = (torch.zeros(2, 4), torch.zeros(2, 4))
    h_norms = gradient_norms_over_time(cell, torch.randn(2, 6, 3), state)
    c_norms = gradient_norms_over_time(cell, torch.randn(2, 6, 3), state, state_index=1)
    assert h_norms.shape == c_norms.shape == (6,)
    with pytest.raises(ValueError, match="state_index is 2"):
        gradient_norms_over_time(cell, torch.randn(2, 6, 3), state, state_index=2)


@pytest.mark.parametrize("module", [nn.RNN, nn.LSTM, nn.GRU])
def test_sequence_modules(module):
    model = module(3, 4, batch_first=True)
    norms = gradient_norms_over_time(model, torch.randn(2, 9, 3))
    assert norms.shape == (9,) and (norms > 0).all()


def test_custom_loss():
    model = nn.RNN(3, 4, batch_first=True)
    norms = gradient_norms_over_time(
        model, torch.randn(2, 5, 3), loss_fn=lambda last: 0 * last.sum()
    )
    assert (norms == 0).all()


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (
            (nn.RNN(3, 4, batch_first=True), torch.randn(5, 3)),
            {},
            ValueError,
            "inputs must be a 3-D tensor",
        ),
        ((nn.RNN(3, 4, batch_first=True), [[1.0]]), {}, TypeError, "inputs must be a 3-D tensor"),
        ((nn.RNN(3, 4), torch.randn(2, 5, 3)), {}, ValueError, "batch_first=True"),
        (("rnn", torch.randn(2, 5, 3)), {}, TypeError, "model_or_step_fn must be"),
        ((nn.RNNCell(3, 4), torch.randn(2, 5, 3), "zeros"), {}, TypeError, "initial_state must be"),
        ((nn.RNN(3, 4, batch_first=True), torch.randn(2, 0, 3)), {}, ValueError, "at least one"),
        (
            (nn.RNN(3, 4, batch_first=True), torch.ones(2, 5, 3, dtype=torch.long)),
            {},
            TypeError,
            "floating-point",
        ),
        (
            (nn.RNN(3, 4, batch_first=True), torch.randn(2, 5, 3)),
            {"loss_fn": lambda last: last},
            ValueError,
            "single number",
        ),
        (
            (nn.RNN(3, 4, batch_first=True), torch.randn(2, 5, 3)),
            {"loss_fn": 3},
            TypeError,
            "loss_fn must be",
        ),
        (
            (lambda x_t, h: x_t, torch.randn(2, 5, 4), torch.zeros(2, 4)),
            {},
            ValueError,
            "does not depend on the previous state",
        ),
        (
            (lambda x_t, h: "h", torch.randn(2, 5, 4), torch.zeros(2, 4)),
            {},
            TypeError,
            "must return a tensor h",
        ),
    ],
)
def test_validation(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        gradient_norms_over_time(*args, **kwargs)
