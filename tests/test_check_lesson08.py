"""Lesson 08's checks accept the reference solutions and name each plausible mistake."""

from __future__ import annotations

import pytest
import torch

from rnn_course import check
from rnn_course.check import CheckFailed


def lstm_cell(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = x_t @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh
    i, f, g, o = gates.chunk(4, dim=1)
    c_t = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_t), c_t


def make_lstm(order="ifgo", gate=torch.sigmoid, candidate=torch.tanh, forget=True, out=True):
    def cell(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
        gates = x_t @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh
        parts = dict(zip(order, gates.chunk(4, dim=1)))
        i, f, o = gate(parts["i"]), gate(parts["f"]), gate(parts["o"])
        c_t = (f * c_prev if forget else 0) + i * candidate(parts["g"])
        return o * (torch.tanh(c_t) if out else c_t), c_t

    return cell


def gru_cell(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    x_r, x_z, x_n = (x_t @ weight_ih.T + bias_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h_prev @ weight_hh.T + bias_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h_prev


def set_forget_bias(lstm, value):
    hidden_size = lstm.hidden_size
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_ih"):
                param[hidden_size : 2 * hidden_size] = value
            elif name.startswith("bias_hh"):
                param[hidden_size : 2 * hidden_size] = 0.0


def test_lstm_cell_accepts_reference():
    check.lstm_cell(lstm_cell)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (make_lstm(order="ifog"), r"order \(i, f, o, g\)"),
        (make_lstm(order="figo"), r"order \(f, i, g, o\)"),
        (make_lstm(forget=False), "forget gate is missing"),
        (make_lstm(gate=torch.tanh), "tanh where sigmoid belongs"),
        (make_lstm(candidate=torch.sigmoid), "candidate g_t uses sigmoid"),
        (make_lstm(out=False), "tanh of the cell state is missing"),
        (lambda *args: lstm_cell(*args)[::-1], "wrong order: return \\(h_t, c_t\\)"),
        (lambda *args: lstm_cell(*args)[0], "should return a pair"),
        (
            lambda x, h, c, wi, wh, bi, bh: lstm_cell(x, h, c, wi, wh, bi, torch.zeros_like(bh)),
            "bias_hh is missing",
        ),
        (
            lambda x, h, c, wi, wh, bi, bh: lstm_cell(x, 0 * h, c, wi, wh, bi, bh),
            "W_hh h_prev term is missing",
        ),
    ],
)
def test_lstm_cell_rejects_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.lstm_cell(wrong)


def test_gru_cell_accepts_reference():
    check.gru_cell(gru_cell)


def _gru_swapped(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    x_r, x_z, x_n = (x_t @ weight_ih.T + bias_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h_prev @ weight_hh.T + bias_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    return z * torch.tanh(x_n + r * h_n) + (1 - z) * h_prev


def _gru_zrn(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    x_z, x_r, x_n = (x_t @ weight_ih.T + bias_ih).chunk(3, dim=1)
    h_z, h_r, h_n = (h_prev @ weight_hh.T + bias_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    return (1 - z) * torch.tanh(x_n + r * h_n) + z * h_prev


def _gru_tanh_gates(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    x_r, x_z, x_n = (x_t @ weight_ih.T + bias_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h_prev @ weight_hh.T + bias_hh).chunk(3, dim=1)
    r, z = torch.tanh(x_r + h_r), torch.tanh(x_z + h_z)
    return (1 - z) * torch.tanh(x_n + r * h_n) + z * h_prev


def _gru_no_reset(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    x_r, x_z, x_n = (x_t @ weight_ih.T + bias_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h_prev @ weight_hh.T + bias_hh).chunk(3, dim=1)
    z = torch.sigmoid(x_z + h_z)
    return (1 - z) * torch.tanh(x_n + h_n) + z * h_prev


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_gru_swapped, "z_t and 1 - z_t are swapped"),
        (_gru_zrn, r"order \(z, r, n\)"),
        (_gru_tanh_gates, "tanh where sigmoid belongs"),
        (_gru_no_reset, "reset gate r_t is missing"),
        (lambda *args: gru_cell(*args)[:, :2], "should have shape"),
    ],
)
def test_gru_cell_rejects_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.gru_cell(wrong)


def test_set_forget_bias_accepts_reference():
    check.set_forget_bias(set_forget_bias)


def _set_input_gate(lstm, value):
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_ih"):
                param[: lstm.hidden_size] = value
            elif name.startswith("bias_hh"):
                param[: lstm.hidden_size] = 0.0


def _set_both(lstm, value):
    hidden_size = lstm.hidden_size
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias"):
                param[hidden_size : 2 * hidden_size] = value


def _first_layer_only(lstm, value):
    hidden_size = lstm.hidden_size
    with torch.no_grad():
        lstm.bias_ih_l0[hidden_size : 2 * hidden_size] = value
        lstm.bias_hh_l0[hidden_size : 2 * hidden_size] = 0.0


def _whole_bias(lstm, value):
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_ih"):
                param.fill_(value)
            elif name.startswith("bias_hh"):
                param.zero_()


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_set_input_gate, "input \\(i\\) gate's bias was set"),
        (_set_both, "twice the value"),
        (_first_layer_only, "layer 1: the forget-gate bias of this layer was not changed"),
        (_whole_bias, "input \\(i\\) gate's bias was set"),
        (lambda lstm, value: None, "layer 0: b_if \\+ b_hf should be 2.5"),
    ],
)
def test_set_forget_bias_rejects_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.set_forget_bias(wrong)
