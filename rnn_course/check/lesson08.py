"""Checks for lesson 08's exercises: lstm_cell, gru_cell, set_forget_bias."""

from __future__ import annotations

import copy

import torch
from torch import nn

from ._core import CheckFailed, call, exercise, expect_close, expect_tensor

# ----------------------------------------------------------------------------- LSTM cell


def _lstm_reference(
    x_t,
    h_prev,
    c_prev,
    weight_ih,
    weight_hh,
    bias_ih,
    bias_hh,
    *,
    order: str = "ifgo",
    gate=torch.sigmoid,
    candidate=torch.tanh,
    forget: bool = True,
    output_tanh: bool = True,
    hidden_term: bool = True,
    hidden_bias: bool = True,
):
    """PyTorch's LSTM cell, or one of its plausible mistakes chosen by the keyword arguments."""
    pre = x_t @ weight_ih.T + bias_ih
    if hidden_term:
        pre = pre + h_prev @ weight_hh.T
    if hidden_bias:
        pre = pre + bias_hh
    chunks = dict(zip(order, pre.chunk(4, dim=1)))
    i, f, o = gate(chunks["i"]), gate(chunks["f"]), gate(chunks["o"])
    g = candidate(chunks["g"])
    c_t = (f * c_prev if forget else 0) + i * g
    h_t = o * (torch.tanh(c_t) if output_tanh else c_t)
    return h_t, c_t


LSTM_MISTAKES = {
    "the gates are taken in the order (i, f, o, g); PyTorch's rows are (i, f, g, o)": {
        "order": "ifog"
    },
    "the gates are taken in the order (f, i, g, o); PyTorch's rows are (i, f, g, o)": {
        "order": "figo"
    },
    "the gates are taken in the order (i, g, f, o); PyTorch's rows are (i, f, g, o)": {
        "order": "igfo"
    },
    "the gates are taken in the order (g, i, f, o); PyTorch's rows are (i, f, g, o)": {
        "order": "gifo"
    },
    "the forget gate is missing: c_t must be f_t * c_prev + i_t * g_t": {"forget": False},
    "the gates i, f, o use tanh where sigmoid belongs (a gate lies between 0 and 1)": {
        "gate": torch.tanh
    },
    "the candidate g_t uses sigmoid where tanh belongs": {"candidate": torch.sigmoid},
    "every gate and the candidate use sigmoid: g_t needs tanh": {
        "candidate": torch.sigmoid,
        "gate": torch.sigmoid,
    },
    "h_t is o_t * c_t: the tanh of the cell state is missing (h_t = o_t * tanh(c_t))": {
        "output_tanh": False
    },
    "the W_hh h_prev term is missing from the gates": {"hidden_term": False},
    "bias_hh is missing: PyTorch adds both biases, bias_ih and bias_hh": {"hidden_bias": False},
}


def _lstm_inputs(generator, batch=3, input_size=4, hidden_size=5):
    def randn(*shape):
        return torch.randn(*shape, generator=generator)

    return (
        randn(batch, input_size),
        randn(batch, hidden_size),
        randn(batch, hidden_size),
        0.5 * randn(4 * hidden_size, input_size),
        0.5 * randn(4 * hidden_size, hidden_size),
        0.5 * randn(4 * hidden_size),
        0.5 * randn(4 * hidden_size),
    )


def _pair(result, what: str):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed(f"{what} should return a pair (h_t, c_t), got {type(result).__name__}")
    return result


def _name_mistake(got: torch.Tensor, args, mistakes: dict, reference, index: int | None) -> None:
    for mistake, options in mistakes.items():
        wrong = reference(*args, **options)
        if index is not None:
            wrong = wrong[index]
        if torch.allclose(got.detach().float(), wrong, atol=1e-5):
            raise CheckFailed(mistake)


@exercise
def lstm_cell(answer) -> int:
    """`lstm_cell(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh) -> (h_t, c_t)`.

    x_t (batch, input_size); h_prev, c_prev (batch, hidden_size); weight_ih (4*hidden,
    input_size); weight_hh (4*hidden, hidden); biases (4*hidden,); PyTorch's gate order.
    """
    g = torch.Generator().manual_seed(8)
    args = _lstm_inputs(g)
    h_t, c_t = _pair(call(answer, *args), "lstm_cell")
    expected_h, expected_c = _lstm_reference(*args)
    expect_tensor(h_t, expected_h, "h_t for a batch of 3, input_size 4, hidden_size 5")
    expect_tensor(c_t, expected_c, "c_t for a batch of 3, input_size 4, hidden_size 5")
    if torch.allclose(h_t.detach().float(), expected_c, atol=1e-5):
        raise CheckFailed("the pair is in the wrong order: return (h_t, c_t), h_t first")
    # The cell state first: a wrong c_t names the gate equations' mistake.
    if not torch.allclose(c_t.detach().float(), expected_c, atol=1e-5):
        _name_mistake(c_t, args, LSTM_MISTAKES, _lstm_reference, 1)
        expect_close(c_t, expected_c, "c_t", "c_t = f_t * c_prev + i_t * g_t")
    if not torch.allclose(h_t.detach().float(), expected_h, atol=1e-5):
        _name_mistake(h_t, args, LSTM_MISTAKES, _lstm_reference, 0)
        expect_close(h_t, expected_h, "h_t", "h_t = o_t * tanh(c_t)")
    # The same weights in PyTorch's own cell, on new inputs.
    reference = nn.LSTMCell(6, 7)
    with torch.no_grad():
        for p in reference.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=g))
    x_t, h_prev, c_prev = (torch.randn(2, n, generator=g) for n in (6, 7, 7))
    weights = (reference.weight_ih, reference.weight_hh, reference.bias_ih, reference.bias_hh)
    h_t, c_t = _pair(call(answer, x_t, h_prev, c_prev, *weights), "lstm_cell")
    with torch.no_grad():
        expected_h, expected_c = reference(x_t, (h_prev, c_prev))
    expect_close(c_t, expected_c, "c_t against nn.LSTMCell (input_size 6, hidden_size 7)")
    expect_close(h_t, expected_h, "h_t against nn.LSTMCell (input_size 6, hidden_size 7)")
    return 4


# ----------------------------------------------------------------------------- GRU cell


def _gru_reference(
    x_t,
    h_prev,
    weight_ih,
    weight_hh,
    bias_ih,
    bias_hh,
    *,
    order: str = "rzn",
    gate=torch.sigmoid,
    swap_update: bool = False,
    reset_before_bias: bool = False,
    reset_on_state: bool = False,
    reset: bool = True,
):
    """PyTorch's GRU cell, or one of its plausible mistakes chosen by the keyword arguments."""
    hidden_size = h_prev.shape[1]
    x_part = dict(zip(order, (x_t @ weight_ih.T + bias_ih).chunk(3, dim=1)))
    h_part = dict(zip(order, (h_prev @ weight_hh.T + bias_hh).chunk(3, dim=1)))
    r = gate(x_part["r"] + h_part["r"])
    z = gate(x_part["z"] + h_part["z"])
    if not reset:
        r = torch.ones_like(r)
    if reset_on_state:
        position = order.index("n") * hidden_size
        w_hn = weight_hh[position : position + hidden_size]
        b_hn = bias_hh[position : position + hidden_size]
        n = torch.tanh(x_part["n"] + (r * h_prev) @ w_hn.T + b_hn)
    elif reset_before_bias:
        position = order.index("n") * hidden_size
        b_hn = bias_hh[position : position + hidden_size]
        n = torch.tanh(x_part["n"] + r * (h_part["n"] - b_hn) + b_hn)
    else:
        n = torch.tanh(x_part["n"] + r * h_part["n"])
    if swap_update:
        return z * n + (1 - z) * h_prev
    return (1 - z) * n + z * h_prev


GRU_MISTAKES = {
    "z_t and 1 - z_t are swapped: PyTorch's GRU computes h_t = (1 - z_t) * n_t + z_t * h_prev": {
        "swap_update": True
    },
    "the gates are taken in the order (z, r, n); PyTorch's rows are (r, z, n)": {"order": "zrn"},
    "the reset gate multiplies h_prev before W_hn (the 2014 paper's form); PyTorch computes "
    "n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_prev + b_hn))": {"reset_on_state": True},
    "the reset gate leaves b_hn out; PyTorch computes r_t * (W_hn h_prev + b_hn)": {
        "reset_before_bias": True
    },
    "the reset gate r_t is missing from n_t": {"reset": False},
    "the gates r and z use tanh where sigmoid belongs": {"gate": torch.tanh},
}


@exercise
def gru_cell(answer) -> int:
    """`gru_cell(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh) -> h_t`.

    x_t (batch, input_size); h_prev (batch, hidden_size); weight_ih (3*hidden, input_size);
    weight_hh (3*hidden, hidden); biases (3*hidden,); PyTorch's gate order (r, z, n).
    """
    g = torch.Generator().manual_seed(9)

    def randn(*shape, scale=1.0):
        return scale * torch.randn(*shape, generator=g)

    args = (
        randn(3, 4),
        randn(3, 5),
        randn(15, 4, scale=0.5),
        randn(15, 5, scale=0.5),
        randn(15, scale=0.5),
        randn(15, scale=0.5),
    )
    h_t = call(answer, *args)
    expected = _gru_reference(*args)
    expect_tensor(h_t, expected, "h_t for a batch of 3, input_size 4, hidden_size 5")
    if not torch.allclose(h_t.detach().float(), expected, atol=1e-5):
        _name_mistake(h_t, args, GRU_MISTAKES, _gru_reference, None)
        expect_close(h_t, expected, "h_t", "h_t = (1 - z_t) * n_t + z_t * h_prev")
    reference = nn.GRUCell(6, 7)
    with torch.no_grad():
        for p in reference.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=g))
    x_t, h_prev = randn(2, 6), randn(2, 7)
    weights = (reference.weight_ih, reference.weight_hh, reference.bias_ih, reference.bias_hh)
    h_t = call(answer, x_t, h_prev, *weights)
    with torch.no_grad():
        expected = reference(x_t, h_prev)
    expect_close(h_t, expected, "h_t against nn.GRUCell (input_size 6, hidden_size 7)")
    return 2


# ----------------------------------------------------------------------------- forget bias


@exercise(params=("lstm", "value"), mutable=("lstm",))
def set_forget_bias(answer) -> int:
    """`set_forget_bias(lstm, value)`: in place, make b_if + b_hf = value in every layer.

    Every other parameter (the other gates' biases, the weights) must stay as it was.
    """
    torch.manual_seed(10)
    hidden_size, value = 4, 2.5
    lstm = nn.LSTM(3, hidden_size, num_layers=2, batch_first=True)
    before = copy.deepcopy(lstm)
    call(answer, lstm, value)
    forget = slice(hidden_size, 2 * hidden_size)
    gate_names = ["input (i)", "forget (f)", "candidate (g)", "output (o)"]
    for layer in range(2):
        bias_ih = getattr(lstm, f"bias_ih_l{layer}").detach()
        bias_hh = getattr(lstm, f"bias_hh_l{layer}").detach()
        total = bias_ih + bias_hh
        for gate_index, gate_name in enumerate(gate_names):
            rows = slice(gate_index * hidden_size, (gate_index + 1) * hidden_size)
            if gate_index != 1 and torch.allclose(total[rows], torch.full((hidden_size,), value)):
                raise CheckFailed(
                    f"layer {layer}: the {gate_name} gate's bias was set, not the forget gate's; "
                    "PyTorch's rows are (i, f, g, o): the forget gate is rows "
                    "hidden_size:2*hidden_size"
                )
        if torch.allclose(total[forget], torch.full((hidden_size,), 2 * value)):
            raise CheckFailed(
                f"layer {layer}: b_if + b_hf is {2 * value}, twice the value: both biases were set "
                "to it, but PyTorch adds bias_ih and bias_hh (set one, zero the other)"
            )
        if not torch.allclose(total[forget], torch.full((hidden_size,), value), atol=1e-6):
            changed = not torch.equal(bias_ih, getattr(before, f"bias_ih_l{layer}").detach())
            hint = (
                "the forget-gate bias of this layer was not changed: set it in every layer"
                if not changed and layer > 0
                else f"b_if + b_hf should be {value}, got {total[forget].tolist()}"
            )
            raise CheckFailed(f"layer {layer}: {hint}")
        for name in (f"bias_ih_l{layer}", f"bias_hh_l{layer}"):
            new = getattr(lstm, name).detach()
            old = getattr(before, name).detach()
            others = torch.ones(4 * hidden_size, dtype=torch.bool)
            others[forget] = False
            if not torch.equal(new[others], old[others]):
                raise CheckFailed(
                    f"{name} changed outside the forget gate's rows {hidden_size}:{2 * hidden_size}"
                    ": only the forget gate's bias may change"
                )
    for name, param in lstm.named_parameters():
        if name.startswith("weight") and not torch.equal(
            param, dict(before.named_parameters())[name]
        ):
            raise CheckFailed(f"{name} changed: only the biases of the forget gate may change")
        if not param.requires_grad:
            raise CheckFailed(
                f"{name} no longer requires a gradient: change it under torch.no_grad()"
            )
    return 3
