"""Lesson 03's checks: plausible wrong answers rejected with the right message, correct ones passed."""

import numpy as np
import torch
from catalogue import catalogue_tests
from torch import nn

# ----------------------------------------------------------------------------- rnn_step


def step(x, h, W_xh, W_hh, b):
    return torch.tanh(x @ W_xh.T + h @ W_hh.T + b)


def step_numpy(x, h, W_xh, W_hh, b):
    return np.tanh(x.numpy() @ W_xh.numpy().T + h.numpy() @ W_hh.numpy().T + b.numpy())


def step_no_grad(x, h, W_xh, W_hh, b):
    with torch.no_grad():
        return step(x, h, W_xh, W_hh, b)


def step_in_place(x, h, W_xh, W_hh, b):
    h_new = h.mul_(0).add_(torch.tanh(x @ W_xh.T + h @ W_hh.T + b))
    return h_new


def step_rnn_cell_copied(x, h, W_xh, W_hh, b):
    cell = nn.RNNCell(W_xh.shape[1], W_xh.shape[0]).to(x.dtype)
    with torch.no_grad():
        cell.bias_hh.zero_()
    cell.weight_ih, cell.weight_hh, cell.bias_ih = (nn.Parameter(w) for w in (W_xh, W_hh, b))
    return cell(x, h)  # nn.Parameter(w) is a new leaf: no gradient reaches the weights passed


def step_rnn_cell(x, h, W_xh, W_hh, b):
    cell = nn.RNNCell(W_xh.shape[1], W_xh.shape[0], device="meta")
    weights = {"weight_ih": W_xh, "weight_hh": W_hh, "bias_ih": b, "bias_hh": torch.zeros_like(b)}
    return torch.func.functional_call(cell, weights, (x, h))


def step_concat(x, h, W_xh, W_hh, b):
    return torch.tanh(torch.cat([x, h], dim=1) @ torch.cat([W_xh, W_hh], dim=1).T + b)


def step_float32(x, h, W_xh, W_hh, b):
    return torch.tanh(x.float() @ W_xh.float().T + h.float() @ W_hh.float().T + b.float())


# ----------------------------------------------------------------------------- parameter count


def count(i, h, o, s):
    return h * (i + h) + 2 * h + o * (h + 1)


def count_by_modules(i, h, o, s):
    rnn, head = nn.RNN(i, h), nn.Linear(h, o)
    return sum(p.numel() for p in [*rnn.parameters(), *head.parameters()])


# ----------------------------------------------------------------------------- BPTT many-to-many


def bptt(local, states, W):
    T = local.shape[1]
    grads = [local[:, T - 1]]
    for t in range(T - 2, -1, -1):
        grads.insert(0, local[:, t] + (grads[0] * (1 - states[:, t + 1] ** 2)) @ W)
    return torch.stack(grads, dim=1)


def _recursion(local, states, W, step, forward=False):
    T = local.shape[1]
    order = range(1, T) if forward else range(T - 2, -1, -1)
    out = [None] * T
    out[0 if forward else T - 1] = local[:, 0 if forward else T - 1]
    for t in order:
        s = t - 1 if forward else t + 1
        out[t] = local[:, t] + step(out[s], states, W, s, t)
    return torch.stack(out, dim=1)


def bptt_future_only(local, states, W):
    T = local.shape[1]
    grads = [local[:, T - 1]]
    for t in range(T - 2, -1, -1):
        grads.insert(0, (grads[0] * (1 - states[:, t + 1] ** 2)) @ W)
    return torch.stack(grads, dim=1)


def bptt_in_place(local, states, W):
    for t in range(local.shape[1] - 2, -1, -1):
        local[:, t] += (local[:, t + 1] * (1 - states[:, t + 1] ** 2)) @ W
    return local


def bptt_reversed(local, states, W):
    T = local.shape[1]
    grads, g = [], local[:, T - 1]
    grads.append(g)
    for t in range(T - 2, -1, -1):
        g = local[:, t] + (g * (1 - states[:, t + 1] ** 2)) @ W
        grads.append(g)
    return torch.stack(grads, dim=1)


def bptt_time_first(local, states, W):
    return bptt(local, states, W).transpose(0, 1)


def bptt_list(local, states, W):
    return list(bptt(local, states, W).unbind(1))


def bptt_delta(local, states, W):
    return bptt(local, states, W) * (1 - states**2)


def bptt_preallocated(local, states, W):
    grads = torch.zeros_like(local)
    grads[:, -1] = local[:, -1]
    for t in reversed(range(local.shape[1] - 1)):
        grads[:, t] = local[:, t] + (grads[:, t + 1] * (1 - states[:, t + 1] ** 2)) @ W
    return grads


def bptt_einsum_flip(local, states, W):
    out, g = [], None
    for local_t, h_next in zip(local.flip(1).unbind(1), [None, *states.flip(1).unbind(1)]):
        g = local_t if g is None else local_t + torch.einsum("bj,jk->bk", g * (1 - h_next**2), W)
        out.append(g)
    return torch.stack(out[::-1], dim=1)


def bptt_float32(local, states, W):
    grads = torch.zeros(local.shape)  # float32: the default dtype
    grads[:, -1] = local[:, -1]
    for t in range(local.shape[1] - 2, -1, -1):
        grads[:, t] = local[:, t] + (grads[:, t + 1] * (1 - states[:, t + 1] ** 2)) @ W
    return grads


def bptt_clone_in_place(local, states, W):
    grads = local.clone()
    for t in range(local.shape[1] - 2, -1, -1):
        grads[:, t] += (W.T @ (grads[:, t + 1] * (1 - states[:, t + 1] ** 2)).T).T
    return grads


WRONG = {
    "rnn_step": [
        ("float32 products", step_float32, r"lesson compares this result at 1e-10"),
        ("tanh missing", lambda x, h, Wx, Wh, b: x @ Wx.T + h @ Wh.T + b, r"tanh is missing"),
        (
            "tanh before bias",
            lambda x, h, Wx, Wh, b: torch.tanh(x @ Wx.T + h @ Wh.T) + b,
            r"before the bias is added",
        ),
        (
            "extra ReLU",
            lambda x, h, Wx, Wh, b: torch.relu(step(x, h, Wx, Wh, b)),
            r"ReLU is applied after the tanh",
        ),
        (
            "ReLU instead of tanh",
            lambda x, h, Wx, Wh, b: torch.relu(x @ Wx.T + h @ Wh.T + b),
            r"ReLU is used instead",
        ),
        (
            "bias missing",
            lambda x, h, Wx, Wh, b: torch.tanh(x @ Wx.T + h @ Wh.T),
            r"bias b_h is missing",
        ),
        (
            "W_xh transposed",
            lambda x, h, Wx, Wh, b: torch.tanh(x @ Wx + h @ Wh.T + b),
            r"W_xh is transposed",
        ),
        (
            "W_hh transposed",
            lambda x, h, Wx, Wh, b: torch.tanh(x @ Wx.T + h @ Wh + b),
            r"W_hh is transposed",
        ),
        (
            "weights swapped",
            lambda x, h, Wx, Wh, b: torch.tanh(x @ Wh.T + h @ Wx.T + b),
            r"swapped",
        ),
        (
            "no memory",
            lambda x, h, Wx, Wh, b: torch.tanh(x @ Wx.T + b),
            r"previous state is left out",
        ),
        ("no input", lambda x, h, Wx, Wh, b: torch.tanh(h @ Wh.T + b), r"input is left out"),
        (
            "a tanh per term",
            lambda x, h, Wx, Wh, b: torch.tanh(x @ Wx.T) + torch.tanh(h @ Wh.T) + torch.tanh(b),
            r"each term has its own tanh",
        ),
        ("numpy", step_numpy, r"should be a tensor, got ndarray"),
        ("nn.RNNCell with copied weights", step_rnn_cell_copied, r"no gradient reaches W_xh"),
        ("no_grad", step_no_grad, r"no gradient reaches x_t"),
        ("h_prev changed in place", step_in_place, r"changed its argument `h_prev`"),
        (
            "bias times two",
            lambda x, h, Wx, Wh, b: torch.tanh(x @ Wx.T + h @ Wh.T + 2 * b),
            r"only the bias: tanh\(b_h\)",
        ),
    ],
    "rnn_parameter_count": [
        ("grows with seq_len", lambda i, h, o, s: s * count(i, h, o, s), r"parameter sharing"),
        (
            "the formula's one bias",
            lambda i, h, o, s: h * (i + h) + h + o * (h + 1),
            r"one bias is missing",
        ),
        ("no biases", lambda i, h, o, s: h * (i + h) + o * (h + 1), r"both biases"),
        ("no output layer", lambda i, h, o, s: h * (i + h) + 2 * h, r"output layer"),
        ("no output bias", lambda i, h, o, s: h * (i + h) + 2 * h + o * h, r"output bias"),
        ("W_hh as H x I", lambda i, h, o, s: 2 * h * i + 2 * h + o * (h + 1), r"W_hh has"),
        ("h_0 counted", lambda i, h, o, s: count(i, h, o, s) + h, r"h_0 is not a parameter"),
        ("W_hy as H x H", lambda i, h, o, s: h * (i + h) + 2 * h + h * h + o, r"W_hy has"),
        ("a float", lambda i, h, o, s: float(count(i, h, o, s)), r"should be an int, got float"),
        (
            "a tensor",
            lambda i, h, o, s: torch.tensor(count(i, h, o, s)),
            r"got a tensor: use \.item",
        ),
        ("W_xh as I x I", lambda i, h, o, s: i * i + h * h + 2 * h + o * (h + 1), r"one by one"),
        ("a string", lambda i, h, o, s: f"{count(i, h, o, s)}", r"should be an int, got str"),
    ],
    "bptt_many_to_many": [
        ("float32 accumulator", bptt_float32, r"lesson compares this result at 1e-10"),
        (
            "the local terms alone",
            lambda local, states, W: local.clone(),
            r"add the gradient that comes back",
        ),
        ("future only", bptt_future_only, r"add dL_t/dh_t at every step"),
        (
            "W_hh transposed",
            lambda loc, s, W: _recursion(
                loc, s, W, lambda g, st, W, n, t: (g * (1 - st[:, n] ** 2)) @ W.T
            ),
            r"W_hh is transposed",
        ),
        (
            "no tanh derivative",
            lambda loc, s, W: _recursion(loc, s, W, lambda g, st, W, n, t: g @ W),
            r"derivative \(1 - h\*\*2\) is missing",
        ),
        (
            "derivative at h_t",
            lambda loc, s, W: _recursion(
                loc, s, W, lambda g, st, W, n, t: (g * (1 - st[:, t] ** 2)) @ W
            ),
            r"taken at h_t",
        ),
        (
            "1 - tanh(h)**2",
            lambda loc, s, W: _recursion(
                loc, s, W, lambda g, st, W, n, t: (g * (1 - torch.tanh(st[:, n]) ** 2)) @ W
            ),
            r"not 1 - tanh\(h\)\*\*2",
        ),
        (
            "1 - h",
            lambda loc, s, W: _recursion(
                loc, s, W, lambda g, st, W, n, t: (g * (1 - st[:, n])) @ W
            ),
            r"not 1 - h$",
        ),
        (
            "derivative after the product",
            lambda loc, s, W: _recursion(
                loc, s, W, lambda g, st, W, n, t: (g @ W) * (1 - st[:, n] ** 2)
            ),
            r"multiplies after the product",
        ),
        (
            "forward in time",
            lambda loc, s, W: _recursion(
                loc, s, W, lambda g, st, W, n, t: (g * (1 - st[:, n] ** 2)) @ W, forward=True
            ),
            r"runs forward in time",
        ),
        ("reverse order", bptt_reversed, r"reverse time order"),
        ("time first", bptt_time_first, r"keep the layout of the inputs"),
        ("a list", bptt_list, r"should be a tensor, got list"),
        ("dL/da", bptt_delta, r"gradient of the pre-activation"),
        ("local_grads changed in place", bptt_in_place, r"changed its argument `local_grads`"),
    ],
}

RIGHT = {
    "rnn_step": [
        ("tanh of the sum", step),
        (
            "addmm",
            lambda x, h, Wx, Wh, b: torch.tanh(torch.addmm(b, x, Wx.T) + torch.mm(h, Wh.t())),
        ),
        (
            "einsum",
            lambda x, h, Wx, Wh, b: torch.tanh(
                torch.einsum("bi,hi->bh", x, Wx) + torch.einsum("bj,hj->bh", h, Wh) + b
            ),
        ),
        ("nn.RNNCell called with the weights", step_rnn_cell),
        ("concatenated input and state", step_concat),
        ("column vectors", lambda x, h, Wx, Wh, b: torch.tanh(Wx @ x.T + Wh @ h.T + b[:, None]).T),
    ],
    "rnn_parameter_count": [
        ("formula", count),
        ("term by term", lambda i, h, o, s: h * i + h * h + h + h + o * h + o),
        ("by building the modules", count_by_modules),
        ("numpy int", lambda i, h, o, s: np.int64(count(i, h, o, s))),
    ],
    "bptt_many_to_many": [
        ("insert at the front", bptt),
        ("preallocated", bptt_preallocated),
        ("einsum over flipped sequences", bptt_einsum_flip),
        ("in place on a clone, column vectors", bptt_clone_in_place),
    ],
}

test_wrong, test_right = catalogue_tests(WRONG, RIGHT)
