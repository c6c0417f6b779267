"""Checks for lesson 08's exercises: lstm_cell, set_forget_bias, gru_cell."""

from __future__ import annotations

import torch
from torch import nn

from ._core import (
    CheckFailed,
    call,
    exercise,
    expect_close,
    expect_sequence,
    expect_tensor,
    name_mistake,
    same,
)

# ----------------------------------------------------------------------------- LSTM cell


def _lstm_cell(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One LSTM step in PyTorch's gate order (i, f, g, o); returns (h_t, c_t)."""
    return _lstm_variant(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh)


def _lstm_variant(
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
    forget_state: str = "c",
    output_tanh: bool = True,
    output_state: str = "new",
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
    kept = c_prev if forget_state == "c" else h_prev
    c_t = (f * kept if forget else 0) + i * g
    shown = c_t if output_state == "new" else c_prev
    h_t = o * (torch.tanh(shown) if output_tanh else shown)
    return h_t, c_t


def _order_mistake(order: str) -> str:
    return (
        f"the gates are taken in the order ({', '.join(order)}); PyTorch's rows are (i, f, g, o): "
        "i = rows 0:H, f = H:2H, g = 2H:3H, o = 3H:4H"
    )


LSTM_MISTAKES = {
    _order_mistake("figo"): {"order": "figo"},
    _order_mistake("ifog"): {"order": "ifog"},
    _order_mistake("igfo"): {"order": "igfo"},
    _order_mistake("gifo"): {"order": "gifo"},
    _order_mistake("oifg"): {"order": "oifg"},
    "the forget gate is missing: c_t = f_t * c_prev + i_t * g_t": {"forget": False},
    "the forget gate multiplies h_prev; it keeps the previous cell state: "
    "c_t = f_t * c_prev + i_t * g_t": {"forget_state": "h"},
    "the gates i, f, o use tanh where sigmoid belongs (a gate lies between 0 and 1)": {
        "gate": torch.tanh
    },
    "the candidate g_t uses sigmoid where tanh belongs": {"candidate": torch.sigmoid},
    "h_t = o_t * c_t: the tanh of the cell state is missing (h_t = o_t * tanh(c_t))": {
        "output_tanh": False
    },
    "h_t is computed from c_prev; it shows the new cell state: h_t = o_t * tanh(c_t)": {
        "output_state": "old"
    },
    "the W_hh h_prev term is missing from the gates": {"hidden_term": False},
    "bias_hh is missing: PyTorch adds both biases, bias_ih and bias_hh": {"hidden_bias": False},
}


def _lstm_inputs(g, batch, input_size, hidden_size, dtype=torch.float64):
    def randn(*shape, scale=1.0):
        return scale * torch.randn(*shape, generator=g, dtype=dtype)

    return (
        randn(batch, input_size),
        randn(batch, hidden_size),
        randn(batch, hidden_size),
        randn(4 * hidden_size, input_size, scale=0.6),
        randn(4 * hidden_size, hidden_size, scale=0.6),
        randn(4 * hidden_size, scale=0.6),
        randn(4 * hidden_size, scale=0.6),
    )


def _lstm_mistakes(args, index: int) -> dict[str, torch.Tensor]:
    return {
        mistake: _lstm_variant(*args, **options)[index]
        for mistake, options in LSTM_MISTAKES.items()
    }


def _check_lstm_values(result, args, what: str) -> None:
    h_t, c_t = expect_sequence(result, 2, "lstm_cell", "the pair (h_t, c_t)")
    expected_h, expected_c = _lstm_cell(*args)
    expect_tensor(h_t, expected_h, f"h_t {what}")
    expect_tensor(c_t, expected_c, f"c_t {what}")
    name_mistake(h_t, {"the pair is in the wrong order: return (h_t, c_t), h_t first": expected_c})
    # The cell state first: a wrong c_t names the gate equations' mistake.
    if not same(c_t, expected_c):
        name_mistake(c_t, _lstm_mistakes(args, 1))
        expect_close(c_t, expected_c, f"c_t {what}", "c_t = f_t * c_prev + i_t * g_t")
    if not same(h_t, expected_h):
        name_mistake(h_t, _lstm_mistakes(args, 0))
        expect_close(h_t, expected_h, f"h_t {what}", "h_t = o_t * tanh(c_t)")


def _check_gradients(names, grads, expected_grads, what: str) -> None:
    """Fail when no gradient reaches an input or a state (a cut graph), or when it is wrong.

    Only the inputs and states count: a layer built from the cell backpropagates through them
    over time. The weights may reach the cell cut off from the caller (nn.LSTMCell with copied
    weights is a right answer).
    """
    for name, got, expected in zip(names, grads, expected_grads):
        if got is None:
            raise CheckFailed(
                f"no gradient reaches {name} through your {what}: it cuts the graph "
                "(torch.no_grad, .detach(), .data, .item() or a new tensor built from numbers), "
                "so a layer built from it could not backpropagate through time"
            )
        # float32 accumulators give float64 gradients with float32 errors: float32's tolerance
        expect_close(got, expected, f"the gradient with respect to {name}", tol=1e-5)


def _loss_weights(g, *shapes, dtype=torch.float64):
    return [torch.randn(*shape, generator=g, dtype=dtype) for shape in shapes]


@exercise(reference=_lstm_cell)
def lstm_cell(answer) -> int:
    """`lstm_cell(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh) -> (h_t, c_t)`.

    x_t (batch, input_size); h_prev, c_prev (batch, hidden_size); weight_ih (4*hidden,
    input_size); weight_hh (4*hidden, hidden); biases (4*hidden,); PyTorch's gate order.
    """
    g = torch.Generator().manual_seed(8)
    tests = 0
    for batch, input_size, hidden_size in [(3, 4, 5), (1, 6, 2)]:
        args = _lstm_inputs(g, batch, input_size, hidden_size)
        what = f"for a batch of {batch}, input_size {input_size}, hidden_size {hidden_size}"
        _check_lstm_values(call(answer, *args), args, what)
        tests += 1
    # Gradients must flow back to the input and the states, as they do through nn.LSTM.
    args = _lstm_inputs(g, 3, 4, 5)
    args = tuple(arg.requires_grad_(index < 3) for index, arg in enumerate(args))
    u, v = _loss_weights(g, (3, 5), (3, 5))

    def loss(result):
        return (result[0] * u).sum() + (result[1] * v).sum()

    _, grads = call(answer, *args, grad_of=loss)
    expected = torch.autograd.grad(loss(_lstm_cell(*args)), args[:3])
    _check_gradients(("x_t", "h_prev", "c_prev"), grads, expected, "lstm_cell")
    tests += 1
    # The same weights in PyTorch's own cell, float32, on new sizes.
    torch.manual_seed(80)
    reference = nn.LSTMCell(6, 7)
    x_t, h_prev, c_prev = (torch.randn(2, n) for n in (6, 7, 7))
    weights = tuple(p.detach() for p in reference.parameters())  # weight_ih, weight_hh, biases
    result = call(answer, x_t, h_prev, c_prev, *weights)
    h_t, c_t = expect_sequence(result, 2, "lstm_cell", "the pair (h_t, c_t)")
    with torch.no_grad():
        expected_h, expected_c = reference(x_t, (h_prev, c_prev))
    expect_close(c_t, expected_c, "c_t against nn.LSTMCell (input_size 6, hidden_size 7)")
    expect_close(h_t, expected_h, "h_t against nn.LSTMCell (input_size 6, hidden_size 7)")
    return tests + 1


# ----------------------------------------------------------------------------- forget bias


def _set_forget_bias(lstm, value):
    """In place: b_if + b_hf = value in every layer of `lstm`; nothing else changes."""
    hidden_size = lstm.hidden_size
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_ih"):
                param[hidden_size : 2 * hidden_size] = value
            elif name.startswith("bias_hh"):
                param[hidden_size : 2 * hidden_size] = 0.0


GATE_NAMES = ("input (i)", "forget (f)", "candidate (g)", "output (o)")


def _call_in_place(answer, lstm, value) -> None:
    try:
        call(answer, lstm, value)
    except CheckFailed as failure:
        if "changed which parameters" in str(failure):
            raise CheckFailed(
                "your function removed or added parameters of `lstm`: change the values of the "
                "forget gate's biases in place, under torch.no_grad(): param[rows] = ..."
            ) from None
        raise


def _name_forget_mistake(where, layer, total, old_total, old_bias_hh, value) -> None:
    """Fail with what went wrong when b_if + b_hf of one layer is not `value`."""
    hidden_size = len(total) // 4
    forget = slice(hidden_size, 2 * hidden_size)
    target = torch.full((hidden_size,), value, dtype=total.dtype)
    for index, gate in enumerate(GATE_NAMES):
        rows = slice(index * hidden_size, (index + 1) * hidden_size)
        if index != 1 and torch.allclose(total[rows], target, atol=1e-6):
            raise CheckFailed(
                f"{where}: the {gate} gate's bias was set, not the forget gate's; PyTorch's rows "
                "are (i, f, g, o): the forget gate owns rows hidden_size:2*hidden_size"
            )
    if torch.allclose(total[forget], 2 * target, atol=1e-6):
        raise CheckFailed(
            f"{where}: b_if + b_hf is {2 * value:g}, twice the value: both biases were set to it, "
            "but PyTorch adds bias_ih and bias_hh (set one, zero the other)"
        )
    if torch.allclose(total[forget], target + old_bias_hh[forget], atol=1e-6):
        raise CheckFailed(
            f"{where}: bias_ih's forget rows are {value:g} but bias_hh's kept their old values, "
            "and PyTorch adds the two: set bias_hh's forget rows to 0"
        )
    if torch.equal(total[forget], old_total[forget]):
        moved = [
            gate
            for index, gate in enumerate(GATE_NAMES)
            if not torch.equal(
                total[index * hidden_size : (index + 1) * hidden_size],
                old_total[index * hidden_size : (index + 1) * hidden_size],
            )
        ]
        if moved:
            raise CheckFailed(
                f"{where}: the forget gate's bias did not change, the {' and '.join(moved)} "
                "gate's did; PyTorch's rows are (i, f, g, o): the forget gate owns rows "
                "hidden_size:2*hidden_size"
            )
        raise CheckFailed(
            f"{where}: the forget gate's bias did not change: set it in every layer "
            f"(bias_ih_l{layer} and bias_hh_l{layer}; lstm.named_parameters() lists them all)"
        )
    raise CheckFailed(
        f"{where}: b_if + b_hf should be {value:g} for every unit, got "
        f"{[round(v, 4) for v in total[forget].tolist()]}"
    )


def _check_forget_bias(lstm: nn.LSTM, before: dict, value: float) -> None:
    hidden_size = lstm.hidden_size
    forget = slice(hidden_size, 2 * hidden_size)
    target = torch.full((hidden_size,), value)
    changed_any = any(
        not torch.equal(param.detach(), before[name]) for name, param in lstm.named_parameters()
    )
    if not changed_any:
        raise CheckFailed(
            "the lstm you were given did not change: set its biases in place (the function "
            "returns nothing; a new LSTM it builds or returns is not used)"
        )
    for layer in range(lstm.num_layers):
        names = (f"bias_ih_l{layer}", f"bias_hh_l{layer}")
        bias_ih, bias_hh = (getattr(lstm, name).detach() for name in names)
        total = bias_ih + bias_hh
        old_total = before[names[0]] + before[names[1]]
        where = f"layer {layer}" if lstm.num_layers > 1 else "the LSTM"
        if not torch.allclose(total[forget], target, atol=1e-6):
            _name_forget_mistake(where, layer, total, old_total, before[names[1]], value)
        for name in names:
            new, old = getattr(lstm, name).detach(), before[name]
            others = torch.ones(4 * hidden_size, dtype=torch.bool)
            others[forget] = False
            if not torch.equal(new[others], old[others]):
                rows = [int(i) for i in ((new != old) & others).nonzero().flatten()[:3]]
                raise CheckFailed(
                    f"{name} changed outside the forget gate's rows {hidden_size}:"
                    f"{2 * hidden_size} (rows {rows}...): only the forget gate's bias may change"
                )
    for name, param in lstm.named_parameters():
        if name.startswith("weight") and not torch.equal(param.detach(), before[name]):
            raise CheckFailed(f"{name} changed: only the biases of the forget gate may change")
        if not param.requires_grad:
            raise CheckFailed(
                f"{name} no longer requires a gradient, so it would never be trained: change "
                "values under torch.no_grad() and leave requires_grad as it is"
            )


@exercise(reference=_set_forget_bias, mutable=("lstm",))
def set_forget_bias(answer) -> int:
    """`set_forget_bias(lstm, value)`: in place, make b_if + b_hf = value in every layer.

    Every other parameter (the other gates' biases, the weights) must stay as it was.
    """
    cases = [(3, 4, 2, 2.5), (5, 3, 1, -1.0)]  # input_size, hidden_size, num_layers, value
    for seed, (input_size, hidden_size, num_layers, value) in enumerate(cases):
        torch.manual_seed(10 + seed)
        lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        before = {name: p.detach().clone() for name, p in lstm.named_parameters()}
        _call_in_place(answer, lstm, value)
        _check_forget_bias(lstm, before, value)
    return len(cases)


# ----------------------------------------------------------------------------- GRU cell


def _gru_cell(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU step in PyTorch's form and gate order (r, z, n); returns h_t."""
    return _gru_variant(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh)


def _gru_variant(
    x_t,
    h_prev,
    weight_ih,
    weight_hh,
    bias_ih,
    bias_hh,
    *,
    order: str = "rzn",
    gate=torch.sigmoid,
    candidate=torch.tanh,
    swap_update: bool = False,
    reset: str = "pytorch",
    hidden_bias: bool = True,
):
    """PyTorch's GRU cell, or one of its plausible mistakes chosen by the keyword arguments."""
    hidden_size = h_prev.shape[1]
    if not hidden_bias:
        bias_hh = torch.zeros_like(bias_hh)
    x_part = dict(zip(order, (x_t @ weight_ih.T + bias_ih).chunk(3, dim=1)))
    h_part = dict(zip(order, (h_prev @ weight_hh.T + bias_hh).chunk(3, dim=1)))
    r = gate(x_part["r"] + h_part["r"])
    z = gate(x_part["z"] + h_part["z"])
    position = order.index("n") * hidden_size
    w_hn = weight_hh[position : position + hidden_size]
    b_hn = bias_hh[position : position + hidden_size]
    if reset == "pytorch":
        n = candidate(x_part["n"] + r * h_part["n"])
    elif reset == "on_state":  # the 2014 paper's form
        n = candidate(x_part["n"] + (r * h_prev) @ w_hn.T + b_hn)
    elif reset == "bias_outside":
        n = candidate(x_part["n"] + r * (h_prev @ w_hn.T) + b_hn)
    elif reset == "everything":
        n = candidate(r * (x_part["n"] + h_part["n"]))
    else:  # no reset gate
        n = candidate(x_part["n"] + h_part["n"])
    if swap_update:
        return z * n + (1 - z) * h_prev
    return (1 - z) * n + z * h_prev


GRU_MISTAKES = {
    "z_t and 1 - z_t are swapped: PyTorch's GRU computes h_t = (1 - z_t) * n_t + z_t * h_prev": {
        "swap_update": True
    },
    "the gates are taken in the order (z, r, n); PyTorch's rows are (r, z, n)": {"order": "zrn"},
    "the gates are taken in the order (n, r, z); PyTorch's rows are (r, z, n)": {"order": "nrz"},
    "the reset gate multiplies h_prev before W_hn (the 2014 paper's form); PyTorch computes "
    "n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_prev + b_hn))": {"reset": "on_state"},
    "the reset gate leaves b_hn out; PyTorch computes r_t * (W_hn h_prev + b_hn)": {
        "reset": "bias_outside"
    },
    "the reset gate multiplies the input part too; it scales only W_hn h_prev + b_hn": {
        "reset": "everything"
    },
    "the reset gate r_t is missing from n_t": {"reset": "none"},
    "the gates r and z use tanh where sigmoid belongs (a gate lies between 0 and 1)": {
        "gate": torch.tanh
    },
    "the candidate n_t uses sigmoid where tanh belongs": {"candidate": torch.sigmoid},
    "bias_hh is missing: PyTorch adds both biases, bias_ih and bias_hh": {"hidden_bias": False},
}


def _gru_inputs(g, batch, input_size, hidden_size, dtype=torch.float64):
    def randn(*shape, scale=1.0):
        return scale * torch.randn(*shape, generator=g, dtype=dtype)

    return (
        randn(batch, input_size),
        randn(batch, hidden_size),
        randn(3 * hidden_size, input_size, scale=0.6),
        randn(3 * hidden_size, hidden_size, scale=0.6),
        randn(3 * hidden_size, scale=0.6),
        randn(3 * hidden_size, scale=0.6),
    )


@exercise(reference=_gru_cell)
def gru_cell(answer) -> int:
    """`gru_cell(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh) -> h_t`.

    x_t (batch, input_size); h_prev (batch, hidden_size); weight_ih (3*hidden, input_size);
    weight_hh (3*hidden, hidden); biases (3*hidden,); PyTorch's gate order (r, z, n).
    """
    g = torch.Generator().manual_seed(9)
    tests = 0
    for batch, input_size, hidden_size in [(3, 4, 5), (1, 6, 2)]:
        args = _gru_inputs(g, batch, input_size, hidden_size)
        what = f"h_t for a batch of {batch}, input_size {input_size}, hidden_size {hidden_size}"
        h_t = call(answer, *args)
        expected = _gru_cell(*args)
        if isinstance(h_t, (tuple, list)):
            raise CheckFailed(
                f"gru_cell should return h_t alone (a GRU has no cell state), got {type(h_t).__name__}"
            )
        expect_tensor(h_t, expected, what)
        if not same(h_t, expected):
            mistakes = {
                text: _gru_variant(*args, **options) for text, options in GRU_MISTAKES.items()
            }
            name_mistake(h_t, mistakes)
        expect_close(h_t, expected, what, "h_t = (1 - z_t) * n_t + z_t * h_prev")
        tests += 1
    args = _gru_inputs(g, 3, 4, 5)
    args = tuple(arg.requires_grad_(index < 2) for index, arg in enumerate(args))
    (u,) = _loss_weights(g, (3, 5))

    def loss(result):
        return (result * u).sum()

    _, grads = call(answer, *args, grad_of=loss)
    expected = torch.autograd.grad(loss(_gru_cell(*args)), args[:2])
    _check_gradients(("x_t", "h_prev"), grads, expected, "gru_cell")
    torch.manual_seed(90)
    reference = nn.GRUCell(6, 7)
    x_t, h_prev = torch.randn(2, 6), torch.randn(2, 7)
    weights = tuple(p.detach() for p in reference.parameters())
    h_t = call(answer, x_t, h_prev, *weights)
    with torch.no_grad():
        expected = reference(x_t, h_prev)
    expect_close(h_t, expected, "h_t against nn.GRUCell (input_size 6, hidden_size 7)")
    return tests + 2
