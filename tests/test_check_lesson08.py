"""Lesson 08's checks: each plausible wrong answer rejected with its mistake named, each right one passed."""

from __future__ import annotations

import torch
from catalogue import catalogue_tests
from torch import nn
from torch.nn import functional as F  # noqa: N812

# ----------------------------------------------------------------------------- lstm_cell


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


def lstm_forget_on_h(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = x_t @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh
    i, f, g, o = gates.chunk(4, dim=1)
    c_t = torch.sigmoid(f) * h_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_t), c_t


def lstm_old_cell_out(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = x_t @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh
    i, f, g, o = gates.chunk(4, dim=1)
    c_t = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_prev), c_t


def lstm_no_grad(*args):
    with torch.no_grad():
        return lstm_cell(*args)


def lstm_detached_state(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    return lstm_cell(x_t, h_prev.detach(), c_prev, weight_ih, weight_hh, bias_ih, bias_hh)


def lstm_in_place(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = x_t @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh
    i, f, g, o = gates.chunk(4, dim=1)
    c_prev.mul_(torch.sigmoid(f)).add_(torch.sigmoid(i) * torch.tanh(g))
    return torch.sigmoid(o) * torch.tanh(c_prev), c_prev


def lstm_weight_not_transposed(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = x_t @ weight_ih + bias_ih + h_prev @ weight_hh + bias_hh
    i, f, g, o = gates.chunk(4, dim=1)
    c_t = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_t), c_t


def lstm_einsum(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = torch.einsum("bi,gi->bg", x_t, weight_ih) + torch.einsum("bh,gh->bg", h_prev, weight_hh)
    gates = gates + bias_ih + bias_hh
    i, f, g, o = gates.split(h_prev.shape[1], dim=1)
    c_t = f.sigmoid() * c_prev + i.sigmoid() * g.tanh()
    return [o.sigmoid() * c_t.tanh(), c_t]  # a list is a pair too


def lstm_addmm(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = torch.addmm(bias_ih + bias_hh, x_t, weight_ih.T)
    gates = torch.addmm(gates, h_prev, weight_hh.T)
    hidden_size = h_prev.shape[1]
    i = torch.sigmoid(gates[:, :hidden_size])
    f = torch.sigmoid(gates[:, hidden_size : 2 * hidden_size])
    g = torch.tanh(gates[:, 2 * hidden_size : 3 * hidden_size])
    o = torch.sigmoid(gates[:, 3 * hidden_size :])
    c_t = f * c_prev + i * g
    return o * torch.tanh(c_t), c_t


def lstm_with_module(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    cell = nn.LSTMCell(x_t.shape[1], h_prev.shape[1]).to(x_t.dtype)
    with torch.no_grad():
        cell.weight_ih.copy_(weight_ih)
        cell.weight_hh.copy_(weight_hh)
        cell.bias_ih.copy_(bias_ih)
        cell.bias_hh.copy_(bias_hh)
    return cell(x_t, (h_prev, c_prev))


def lstm_functional(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = F.linear(x_t, weight_ih, bias_ih) + F.linear(h_prev, weight_hh, bias_hh)
    i, f, g, o = gates.chunk(4, 1)
    c_t = torch.addcmul(torch.sigmoid(f) * c_prev, torch.sigmoid(i), torch.tanh(g))
    return (torch.sigmoid(o) * torch.tanh(c_t), c_t)


def lstm_float32(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    args = (x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh)
    return lstm_cell(*(arg.float() for arg in args))


def lstm_in_place_on_its_gate(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = x_t @ weight_ih.T + h_prev @ weight_hh.T + bias_ih + bias_hh
    i, f, g, o = gates.chunk(4, dim=1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c_t = f * c_prev + i * g
    h_t = o * c_t.tanh()
    i.mul_(1.0)  # the product i * g needs i as it was
    return h_t, c_t


WRONG_LSTM = [
    ("i and f swapped", make_lstm(order="figo"), r"order \(f, i, g, o\)"),
    ("g and o swapped", make_lstm(order="ifog"), r"order \(i, f, o, g\)"),
    ("f and g swapped", make_lstm(order="igfo"), r"order \(i, g, f, o\)"),
    ("no forget gate", make_lstm(forget=False), "forget gate is missing"),
    ("forget gate on h_prev", lstm_forget_on_h, "forget gate multiplies h_prev"),
    ("tanh gates", make_lstm(gate=torch.tanh), "tanh where sigmoid belongs"),
    ("sigmoid candidate", make_lstm(candidate=torch.sigmoid), "candidate g_t uses sigmoid"),
    ("no tanh on the output", make_lstm(out=False), "tanh of the cell state is missing"),
    ("output from the old cell", lstm_old_cell_out, "computed from c_prev"),
    ("pair reversed", lambda *args: lstm_cell(*args)[::-1], r"wrong order: return \(h_t, c_t\)"),
    ("h_t only", lambda *args: lstm_cell(*args)[0], r"the pair \(h_t, c_t\), got Tensor"),
    (
        "no bias_hh",
        lambda x, h, c, wi, wh, bi, bh: lstm_cell(x, h, c, wi, wh, bi, torch.zeros_like(bh)),
        "bias_hh is missing",
    ),
    (
        "no hidden term",
        lambda x, h, c, wi, wh, bi, bh: lstm_cell(x, 0 * h, c, wi, wh, bi, bh),
        "W_hh h_prev term is missing",
    ),
    ("weights not transposed", lstm_weight_not_transposed, "needs .T"),
    ("under no_grad", lstm_no_grad, "no gradient reaches x_t"),
    ("h_prev detached", lstm_detached_state, "no gradient reaches h_prev"),
    ("c_prev changed in place", lstm_in_place, "changed its argument `c_prev` in place"),
    ("its own gate changed in place", lstm_in_place_on_its_gate, "changed in place.*build a new"),
]

RIGHT_LSTM = [
    ("matmul and chunk", lstm_cell),
    ("einsum, split, a list", lstm_einsum),
    ("addmm and slices", lstm_addmm),
    ("nn.LSTMCell with copied weights", lstm_with_module),
    ("F.linear and addcmul", lstm_functional),
    ("float32 accumulators", lstm_float32),
]

# ----------------------------------------------------------------------------- set_forget_bias


def set_forget_bias(lstm, value):
    hidden_size = lstm.hidden_size
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_ih"):
                param[hidden_size : 2 * hidden_size] = value
            elif name.startswith("bias_hh"):
                param[hidden_size : 2 * hidden_size] = 0.0


def forget_bias_split(lstm, value):
    hidden_size = lstm.hidden_size
    with torch.no_grad():
        for layer in range(lstm.num_layers):
            for kind in ("ih", "hh"):
                getattr(lstm, f"bias_{kind}_l{layer}")[hidden_size : 2 * hidden_size] = value / 2


def forget_bias_data(lstm, value):
    hidden_size = lstm.hidden_size
    for name, param in lstm.named_parameters():
        if "bias" in name:
            param.data[hidden_size : 2 * hidden_size] = value if "ih" in name else 0.0


def forget_bias_fill(lstm, value):
    hidden_size = lstm.hidden_size
    with torch.no_grad():
        for layer in range(lstm.num_layers):
            getattr(lstm, f"bias_ih_l{layer}")[hidden_size : 2 * hidden_size].fill_(value)
            getattr(lstm, f"bias_hh_l{layer}")[hidden_size : 2 * hidden_size].zero_()


def forget_bias_chunk(lstm, value):
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_hh"):
                param.chunk(4)[1].zero_()
            elif name.startswith("bias_ih"):
                nn.init.constant_(param.chunk(4)[1], value)


def forget_bias_rows(rows):
    def answer(lstm, value):
        hidden_size = lstm.hidden_size
        block = slice(rows * hidden_size, (rows + 1) * hidden_size)
        with torch.no_grad():
            for name, param in lstm.named_parameters():
                if name.startswith("bias_ih"):
                    param[block] = value
                elif name.startswith("bias_hh"):
                    param[block] = 0.0

    return answer


def forget_bias_input_rows_of_both(lstm, value):
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias"):
                param[: lstm.hidden_size] = value


def forget_bias_both(lstm, value):
    hidden_size = lstm.hidden_size
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias"):
                param[hidden_size : 2 * hidden_size] = value


def forget_bias_ih_only(lstm, value):
    hidden_size = lstm.hidden_size
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_ih"):
                param[hidden_size : 2 * hidden_size] = value


def forget_bias_first_layer(lstm, value):
    hidden_size = lstm.hidden_size
    with torch.no_grad():
        lstm.bias_ih_l0[hidden_size : 2 * hidden_size] = value
        lstm.bias_hh_l0[hidden_size : 2 * hidden_size] = 0.0


def forget_bias_whole(lstm, value):
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_ih"):
                param.fill_(value)
            elif name.startswith("bias_hh"):
                param.zero_()


def forget_bias_input_size(lstm, value):
    size = lstm.input_size  # the wrong size: the gates have hidden_size rows each
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_ih"):
                param[size : 2 * size] = value
            elif name.startswith("bias_hh"):
                param[size : 2 * size] = 0.0


def forget_bias_weights_too(lstm, value):
    hidden_size = lstm.hidden_size
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("weight_hh"):
                param[hidden_size : 2 * hidden_size] = 0.0
    set_forget_bias(lstm, value)


def forget_bias_new_parameters(lstm, value):
    hidden_size = lstm.hidden_size
    for name, param in list(lstm.named_parameters()):
        if name.startswith("bias"):
            new = param.detach().clone()
            new[hidden_size : 2 * hidden_size] = value if name.startswith("bias_ih") else 0.0
            setattr(lstm, name, nn.Parameter(new))


def forget_bias_frozen(lstm, value):
    set_forget_bias(lstm, value)
    for name, param in lstm.named_parameters():
        if name.startswith("bias"):
            param.requires_grad_(False)


def forget_bias_without_no_grad(lstm, value):
    hidden_size = lstm.hidden_size
    for name, param in lstm.named_parameters():
        if name.startswith("bias_ih"):
            param[hidden_size : 2 * hidden_size] = value


def forget_bias_new_lstm(lstm, value):
    new = nn.LSTM(lstm.input_size, lstm.hidden_size, lstm.num_layers, batch_first=True)
    set_forget_bias(new, value)
    return new


WRONG_FORGET = [
    ("input gate's rows", forget_bias_rows(0), r"input \(i\) gate's bias was set"),
    ("candidate's rows", forget_bias_rows(2), r"candidate \(g\) gate's bias was set"),
    ("output gate's rows", forget_bias_rows(3), r"output \(o\) gate's bias was set"),
    ("both biases set", forget_bias_both, "twice the value"),
    (
        "input rows of both biases",
        forget_bias_input_rows_of_both,
        r"forget gate's bias did not change, the input \(i\) gate's did",
    ),
    ("bias_hh left as it was", forget_bias_ih_only, "bias_hh's kept their old values"),
    ("first layer only", forget_bias_first_layer, "layer 1: the forget gate's bias did not change"),
    ("whole bias filled", forget_bias_whole, "changed outside the forget gate's rows"),
    ("input_size for hidden_size", forget_bias_input_size, "b_if \\+ b_hf should be 2.5"),
    ("weights changed too", forget_bias_weights_too, "weight_hh_l0 changed"),
    ("new Parameters", forget_bias_new_parameters, "replaced parameters of `lstm`"),
    ("requires_grad switched off", forget_bias_frozen, "no longer requires a gradient"),
    ("no torch.no_grad()", forget_bias_without_no_grad, "only under torch.no_grad"),
    ("a new LSTM returned", forget_bias_new_lstm, "did not change"),
    ("nothing done", lambda lstm, value: None, "did not change"),
]

RIGHT_FORGET = [
    ("named_parameters", set_forget_bias),
    ("split over both biases", forget_bias_split),
    ("through .data", forget_bias_data),
    ("fill_ and zero_ per layer", forget_bias_fill),
    ("chunk and nn.init.constant_", forget_bias_chunk),
]

# ----------------------------------------------------------------------------- gru_cell


def gru_cell(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    x_r, x_z, x_n = (x_t @ weight_ih.T + bias_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h_prev @ weight_hh.T + bias_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h_prev


def make_gru(order="rzn", gate=torch.sigmoid, candidate=torch.tanh, swap=False, reset="pytorch"):
    def cell(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
        hidden_size = h_prev.shape[1]
        x_parts = dict(zip(order, (x_t @ weight_ih.T + bias_ih).chunk(3, dim=1)))
        h_parts = dict(zip(order, (h_prev @ weight_hh.T + bias_hh).chunk(3, dim=1)))
        r = gate(x_parts["r"] + h_parts["r"])
        z = gate(x_parts["z"] + h_parts["z"])
        rows = slice(order.index("n") * hidden_size, (order.index("n") + 1) * hidden_size)
        if reset == "pytorch":
            n = candidate(x_parts["n"] + r * h_parts["n"])
        elif reset == "paper":
            n = candidate(x_parts["n"] + (r * h_prev) @ weight_hh[rows].T + bias_hh[rows])
        elif reset == "all":
            n = candidate(r * (x_parts["n"] + h_parts["n"]))
        else:
            n = candidate(x_parts["n"] + h_parts["n"])
        return z * n + (1 - z) * h_prev if swap else (1 - z) * n + z * h_prev

    return cell


def gru_bias_outside(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    w_hr, w_hz, w_hn = weight_hh.chunk(3)
    b_hr, b_hz, b_hn = bias_hh.chunk(3)
    x_r, x_z, x_n = (x_t @ weight_ih.T + bias_ih).chunk(3, dim=1)
    r = torch.sigmoid(x_r + h_prev @ w_hr.T + b_hr)
    z = torch.sigmoid(x_z + h_prev @ w_hz.T + b_hz)
    n = torch.tanh(x_n + r * (h_prev @ w_hn.T) + b_hn)
    return (1 - z) * n + z * h_prev


def gru_einsum(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    gi = torch.einsum("bi,gi->bg", x_t, weight_ih) + bias_ih
    gh = torch.einsum("bh,gh->bg", h_prev, weight_hh) + bias_hh
    hidden_size = h_prev.shape[1]
    r = torch.sigmoid(gi[:, :hidden_size] + gh[:, :hidden_size])
    z = torch.sigmoid(gi[:, hidden_size : 2 * hidden_size] + gh[:, hidden_size : 2 * hidden_size])
    n = torch.tanh(gi[:, 2 * hidden_size :] + r * gh[:, 2 * hidden_size :])
    return n + z * (h_prev - n)


def gru_with_module(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    cell = nn.GRUCell(x_t.shape[1], h_prev.shape[1]).to(x_t.dtype)
    cell.weight_ih, cell.weight_hh = nn.Parameter(weight_ih), nn.Parameter(weight_hh)
    cell.bias_ih, cell.bias_hh = nn.Parameter(bias_ih), nn.Parameter(bias_hh)
    return cell(x_t, h_prev)


def gru_functional(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    x_r, x_z, x_n = F.linear(x_t, weight_ih, bias_ih).split(h_prev.shape[1], dim=1)
    h_r, h_z, h_n = F.linear(h_prev, weight_hh, bias_hh).split(h_prev.shape[1], dim=1)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(torch.addcmul(x_n, torch.sigmoid(x_r + h_r), h_n))
    return torch.lerp(n, h_prev, z)


def gru_float32(*args):
    return gru_cell(*(arg.float() for arg in args))


def gru_no_grad(*args):
    with torch.no_grad():
        return gru_cell(*args)


def gru_in_place(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    x_r, x_z, x_n = (x_t @ weight_ih.T + bias_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h_prev @ weight_hh.T + bias_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return h_prev.mul_(z).add_((1 - z) * n)


def gru_not_transposed(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    x_r, x_z, x_n = (x_t @ weight_ih + bias_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h_prev @ weight_hh + bias_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    return (1 - z) * torch.tanh(x_n + r * h_n) + z * h_prev


def gru_in_place_on_its_gate(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    x_r, x_z, x_n = (x_t @ weight_ih.T + bias_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h_prev @ weight_hh.T + bias_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    h_t = (1 - z) * n + z * h_prev
    n.mul_(1.0)  # tanh's backward needs n as it was
    return h_t


WRONG_GRU = [
    ("z and 1 - z swapped", make_gru(swap=True), "z_t and 1 - z_t are swapped"),
    ("order z, r, n", make_gru(order="zrn"), r"order \(z, r, n\)"),
    ("order n, r, z", make_gru(order="nrz"), r"order \(n, r, z\)"),
    ("the paper's reset", make_gru(reset="paper"), "2014 paper's form"),
    ("b_hn outside the reset", gru_bias_outside, "leaves b_hn out"),
    ("reset on everything", make_gru(reset="all"), "multiplies the input part too"),
    ("no reset gate", make_gru(reset="none"), "reset gate r_t is missing"),
    ("tanh gates", make_gru(gate=torch.tanh), "tanh where sigmoid belongs"),
    ("sigmoid candidate", make_gru(candidate=torch.sigmoid), "candidate n_t uses sigmoid"),
    (
        "no bias_hh",
        lambda x, h, wi, wh, bi, bh: gru_cell(x, h, wi, wh, bi, torch.zeros_like(bh)),
        "bias_hh is missing",
    ),
    ("a pair returned", lambda *args: (gru_cell(*args), gru_cell(*args)), "h_t alone"),
    ("too few units", lambda *args: gru_cell(*args)[:, :1], "should have shape"),
    ("weights not transposed", gru_not_transposed, "needs .T"),
    ("under no_grad", gru_no_grad, "no gradient reaches x_t"),
    ("h_prev changed in place", gru_in_place, "changed its argument `h_prev` in place"),
    (
        "its own candidate changed in place",
        gru_in_place_on_its_gate,
        "changed in place.*build a new",
    ),
]

RIGHT_GRU = [
    ("matmul and chunk", gru_cell),
    ("einsum and slices, n + z (h - n)", gru_einsum),
    ("nn.GRUCell with the given weights", gru_with_module),
    ("F.linear, addcmul, lerp", gru_functional),
    ("float32 accumulators", gru_float32),
]

WRONG = {"lstm_cell": WRONG_LSTM, "set_forget_bias": WRONG_FORGET, "gru_cell": WRONG_GRU}
RIGHT = {"lstm_cell": RIGHT_LSTM, "set_forget_bias": RIGHT_FORGET, "gru_cell": RIGHT_GRU}

test_wrong, test_right = catalogue_tests(WRONG, RIGHT)
