"""Lesson 05's checks: catalogues of plausible wrong answers and of correct alternatives."""

import numpy as np
import torch
from catalogue import catalogue_tests
from torch import nn
from torch.nn import functional as F

# ----------------------------------------------------------------------------- bidirectional_final_hidden


def final_hidden(h_n, num_layers):
    return torch.cat([h_n[-2], h_n[-1]], dim=1)


def final_hidden_view(h_n, num_layers):
    last_layer = h_n.view(num_layers, 2, h_n.shape[1], h_n.shape[2])[-1]
    return torch.cat([last_layer[0], last_layer[1]], dim=1)


def final_hidden_indices(h_n, num_layers):
    forward = h_n[2 * (num_layers - 1)]
    backward = h_n[2 * (num_layers - 1) + 1]
    return torch.hstack([forward, backward])


def final_hidden_permute(h_n, num_layers):
    return h_n[-2:].permute(1, 0, 2).reshape(h_n.shape[1], -1)


def final_hidden_list(h_n, num_layers):
    return torch.cat(list(h_n[-2:]), dim=-1)


def final_hidden_batch_first_in_place(h_n, num_layers):
    h_n.transpose_(0, 1)  # batch first, in place
    return h_n[:, -2:].reshape(h_n.shape[0], -1)


WRONG_FINAL = [
    ("directions swapped", lambda h_n, n: torch.cat([h_n[-1], h_n[-2]], dim=1), r"swapped"),
    ("first layer", lambda h_n, n: torch.cat([h_n[0], h_n[1]], dim=1), r"first layer"),
    (
        "(direction, layer) order",
        lambda h_n, n: torch.cat([h_n[n - 1], h_n[2 * n - 1]], dim=1),
        r"read as \(direction, layer\)",
    ),
    (
        "interleaved",
        lambda h_n, n: h_n[-2:].permute(1, 2, 0).reshape(h_n.shape[1], -1),
        r"interleaved",
    ),
    ("forward only", lambda h_n, n: h_n[-2], r"put the forward and the backward"),
    ("stacked", lambda h_n, n: h_n[-2:], r"the two directions are stacked"),
    ("view(batch, -1)", lambda h_n, n: h_n.view(h_n.shape[1], -1), r"mixes the batch"),
    (
        "backward twice",
        lambda h_n, n: torch.cat([h_n[-1], h_n[-1]], dim=1),
        r"backward state twice",
    ),
    ("summed", lambda h_n, n: (h_n[-2] + h_n[-1]).repeat(1, 2), r"directions are added"),
    (
        "index off the end",
        lambda h_n, n: torch.cat([h_n[2 * n - 1], h_n[2 * n]], dim=1),
        r"h_n\[-2\] \(forward\)",
    ),
    (
        "all layers",
        lambda h_n, n: h_n.permute(1, 0, 2).reshape(h_n.shape[1], -1),
        r"should have shape",
    ),
    ("a tuple", lambda h_n, n: (h_n[-2], h_n[-1]), r"should be a tensor, got tuple"),
    (
        "h_n changed in place",
        final_hidden_batch_first_in_place,
        r"changed its argument `h_n` in place",
    ),
]

# ----------------------------------------------------------------------------- bidirectional_output_by_hand


def direction(x, W_ih, W_hh, b_ih, b_hh, reverse=False):
    h = torch.zeros(x.shape[0], W_hh.shape[0])
    states = [None] * x.shape[1]
    steps = range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1])
    for t in steps:
        h = torch.tanh(x[:, t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        states[t] = h
    return torch.stack(states, dim=1)


def params(rnn, suffix=""):
    return [
        getattr(rnn, f"{n}_l0{suffix}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]


def by_hand(rnn, x):
    forward = direction(x, *params(rnn))
    backward = direction(x, *params(rnn, "_reverse"), reverse=True)
    return torch.cat([forward, backward], dim=2)


def by_hand_flip(rnn, x):
    forward = direction(x, *params(rnn))
    backward = direction(x.flip(1), *params(rnn, "_reverse")).flip(1)  # run on the reversed input
    return torch.cat((forward, backward), dim=-1)


def by_hand_cells(rnn, x):
    cells = []
    for suffix in ("", "_reverse"):
        cell = nn.RNNCell(rnn.input_size, rnn.hidden_size)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(rnn, f"{name}_l0{suffix}"))
        cells.append(cell)
    batch, seq_len, _ = x.shape
    out = torch.zeros(batch, seq_len, 2 * rnn.hidden_size)
    h_f = h_b = torch.zeros(batch, rnn.hidden_size)
    for t in range(seq_len):
        h_f = cells[0](x[:, t], h_f)
        h_b = cells[1](x[:, seq_len - 1 - t], h_b)
        out[:, t, : rnn.hidden_size] = h_f.detach()
        out[:, seq_len - 1 - t, rnn.hidden_size :] = h_b.detach()
    return out


def by_hand_einsum_float64(rnn, x):
    x = x.double()
    halves = []
    for suffix, reverse in (("", False), ("_reverse", True)):
        W_ih, W_hh, b_ih, b_hh = (p.detach().double() for p in params(rnn, suffix))
        inputs = torch.einsum("bti,hi->bth", x, W_ih) + b_ih + b_hh
        h = torch.zeros(x.shape[0], W_hh.shape[0], dtype=torch.float64)
        states = {}
        for t in sorted(range(x.shape[1]), reverse=reverse):
            h = torch.tanh(inputs[:, t] + torch.einsum("bj,hj->bh", h, W_hh))
            states[t] = h
        halves.append(torch.stack([states[t] for t in range(x.shape[1])], dim=1))
    return torch.cat(halves, dim=2)


def by_hand_linear(rnn, x):
    outputs = []
    for suffix in ("", "_reverse"):
        W_ih, W_hh, b_ih, b_hh = params(rnn, suffix)
        sequence = x if suffix == "" else torch.flip(x, dims=[1])
        h, states = torch.zeros(x.shape[0], rnn.hidden_size), []
        for x_t in sequence.unbind(1):
            h = torch.tanh(F.linear(x_t, W_ih, b_ih) + F.linear(h, W_hh, b_hh))
            states.append(h)
        if suffix:
            states = states[::-1]
        outputs.append(torch.stack(states, 1))
    return torch.cat(outputs, 2)


def by_hand_with(**wrong):
    def answer(rnn, x):
        forward_params = params(rnn)
        backward_params = params(rnn, "" if wrong.get("forward_weights") else "_reverse")
        if wrong.get("no_bias_hh"):
            forward_params[3] = 0 * forward_params[3]
            backward_params[3] = 0 * backward_params[3]
        if wrong.get("transpose_ih"):
            forward_params[0] = forward_params[0].T
            backward_params[0] = backward_params[0].T
        forward = direction(x, *forward_params)
        if wrong.get("backward_reads_forward"):
            backward = direction(x, *backward_params)
        else:
            backward = direction(x, *backward_params, reverse=True)
        if wrong.get("not_flipped_back"):
            backward = backward.flip(1)
        if wrong.get("swapped"):
            return torch.cat([backward, forward], dim=2)
        if wrong.get("along_time"):
            return torch.cat([forward, backward], dim=1)
        if wrong.get("forward_only"):
            return forward
        return torch.cat([forward, backward], dim=2)

    return answer


def by_hand_no_tanh(rnn, x):
    def linear_direction(W_ih, W_hh, b_ih, b_hh, steps):
        h, states = torch.zeros(x.shape[0], rnn.hidden_size), {}
        for t in steps:
            h = x[:, t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh
            states[t] = h
        return torch.stack([states[t] for t in range(x.shape[1])], 1)

    seq_len = x.shape[1]
    forward = linear_direction(*params(rnn), range(seq_len))
    backward = linear_direction(*params(rnn, "_reverse"), reversed(range(seq_len)))
    return torch.cat([forward, backward], 2)


def by_hand_shared_state(rnn, x):
    forward = direction(x, *params(rnn))
    W_ih, W_hh, b_ih, b_hh = params(rnn, "_reverse")
    h, states = forward[:, -1], [None] * x.shape[1]  # goes on from where the forward one ended
    for t in reversed(range(x.shape[1])):
        h = torch.tanh(x[:, t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        states[t] = h
    return torch.cat([forward, torch.stack(states, 1)], 2)


def by_hand_module(rnn, x):
    return rnn(x)[0]


def by_hand_new_rnn(rnn, x):
    twin = nn.RNN(rnn.input_size, rnn.hidden_size, batch_first=True, bidirectional=True)
    twin.load_state_dict(rnn.state_dict())
    return twin(x)[0]


def by_hand_functional_call(rnn, x):
    twin = nn.RNN(rnn.input_size, rnn.hidden_size, batch_first=True, bidirectional=True)
    return torch.func.functional_call(twin, dict(rnn.named_parameters()), (x,))[0]


def by_hand_vf(rnn, x):
    h0 = torch.zeros(2, x.shape[0], rnn.hidden_size)
    weights = [p for _, p in rnn.named_parameters()]
    return torch._VF.rnn_tanh(x, h0, weights, True, 1, 0.0, False, True, True)[0]


def by_hand_class_forward(rnn, x):
    return nn.RNN.forward(rnn, x)[0]


def by_hand_lstm_class(rnn, x):  # a GRU with the RNN's weights would still be a layer
    gru = nn.GRU(rnn.input_size, rnn.hidden_size, batch_first=True, bidirectional=True)
    return gru(x)[0][..., : 2 * rnn.hidden_size]


def by_hand_flips_x_in_place(rnn, x):
    forward = direction(x, *params(rnn))
    x[:] = x.flip(1)
    backward = direction(x, *params(rnn, "_reverse")).flip(1)
    return torch.cat([forward, backward], dim=2)


def by_hand_no_memory(rnn, x):
    halves = [
        torch.tanh(x @ W_ih.T + b_ih + b_hh)
        for W_ih, _, b_ih, b_hh in (params(rnn), params(rnn, "_reverse"))
    ]
    return torch.cat(halves, dim=2)


# ----------------------------------------------------------------------------- last_valid_output


def last_valid(output, lengths):
    return output[torch.arange(output.shape[0]), lengths - 1]


def last_valid_gather(output, lengths):
    index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, output.shape[2])
    return output.gather(1, index).squeeze(1)


def last_valid_loop(output, lengths):
    return torch.stack([output[i, int(n) - 1] for i, n in enumerate(lengths)])


def last_valid_mask(output, lengths):
    steps = torch.arange(output.shape[1])
    is_last = (steps[None, :] == (lengths - 1)[:, None]).to(output.dtype)  # one-hot over time
    return torch.einsum("bt,bth->bh", is_last, output)


def last_valid_take_along(output, lengths):
    return torch.take_along_dim(output, (lengths - 1)[:, None, None], dim=1)[:, 0]


def last_valid_numpy(output, lengths):
    array = output.numpy()
    return torch.from_numpy(array[np.arange(len(array)), lengths.numpy() - 1].copy())


def last_valid_in_place(output, lengths):
    lengths -= 1
    return output[torch.arange(output.shape[0]), lengths]


def last_valid_mean(output, lengths):
    mask = (torch.arange(output.shape[1])[None, :] < lengths[:, None]).unsqueeze(-1)
    return (output * mask).sum(dim=1) / lengths.unsqueeze(-1)


WRONG = {
    "bidirectional_final_hidden": WRONG_FINAL,
    "bidirectional_output_by_hand": [
        (
            "backward not put back in time order",
            by_hand_with(not_flipped_back=True),
            r"in the order it computed them",
        ),
        (
            "backward reads forward",
            by_hand_with(backward_reads_forward=True),
            r"reads the sequence from x_1 to x_T",
        ),
        (
            "forward weights for both",
            by_hand_with(forward_weights=True),
            r"uses the forward weights",
        ),
        ("directions swapped", by_hand_with(swapped=True), r"directions are swapped"),
        ("bias_hh missing", by_hand_with(no_bias_hh=True), r"bias_hh is missing"),
        (
            "weight_ih transposed",
            by_hand_with(transpose_ih=True),
            r"weight_ih matrices are transposed",
        ),
        ("tanh missing", by_hand_no_tanh, r"tanh is missing"),
        ("state not carried", by_hand_no_memory, r"not carried"),
        ("backward starts from forward's state", by_hand_shared_state, r"starts from the forward"),
        ("joined along time", by_hand_with(along_time=True), r"joined along time"),
        ("forward only", by_hand_with(forward_only=True), r"one direction only"),
        ("calls the module", by_hand_module, r"use rnn's parameters"),
        ("a new nn.RNN with its weights", by_hand_new_rnn, r"not a recurrent layer"),
        ("functional_call", by_hand_functional_call, r"not a recurrent layer"),
        ("torch._VF.rnn_tanh", by_hand_vf, r"not a recurrent layer.*torch\.rnn_tanh"),
        ("nn.RNN.forward on rnn", by_hand_class_forward, r"not a recurrent layer"),
        ("an nn.GRU", by_hand_lstm_class, r"not a recurrent layer.*torch\.gru"),
        ("x flipped in place", by_hand_flips_x_in_place, r"changed its argument `x` in place"),
    ],
    "last_valid_output": [
        (
            "gather along the features",
            lambda output, lengths: output.gather(
                2, (lengths - 1)[:, None, None].expand(-1, 1, output.shape[2])
            )[:, 0],
            r"gather picks along the dimension you name|gather picked along dimension 2",
        ),
        (
            "gather along the batch",
            lambda output, lengths: output.gather(
                0, (lengths - 1)[:, None, None].expand(-1, 1, output.shape[2])
            )[:, 0],
            r"nor a gather along dim 0|gather picked along dimension 0",
        ),
        (
            "gather with a (batch, 1) index",
            lambda output, lengths: output.gather(1, (lengths - 1)[:, None]),
            r"gather picks along the dimension you name.*\(batch, 1, hidden\)",
        ),
        (
            "output[:, -1]",
            lambda output, lengths: output[:, -1],
            r"output\[:, -1\], the last padded",
        ),
        (
            "one step early, clamped",
            lambda output, lengths: output[torch.arange(len(lengths)), (lengths - 2).clamp(min=0)],
            r"one step too early",
        ),
        (
            "one step early",
            lambda output, lengths: output[torch.arange(len(lengths)), lengths - 2],
            r"one step too early",
        ),
        ("first step", lambda output, lengths: output[:, 0], r"first time step"),
        (
            "lengths without - 1",
            lambda output, lengths: output[torch.arange(len(lengths)), lengths],
            r"raised IndexError(.|\n)*hint: indices start at 0",
        ),
        (
            "output[:, lengths - 1]",
            lambda output, lengths: output[:, lengths - 1],
            r"picks every sequence at every length",
        ),
        ("mean of the real steps", last_valid_mean, r"mean over the real steps"),
        (
            "lengths reversed",
            lambda output, lengths: output[torch.arange(len(lengths)), lengths.flip(0) - 1],
            r"paired with another sequence",
        ),
        (
            "lengths sorted",
            lambda output, lengths: output[
                torch.arange(len(lengths)), lengths.sort(descending=True).values - 1
            ],
            r"lengths were sorted",
        ),
        (
            "output[lengths - 1]",
            lambda output, lengths: output[lengths - 1],
            r"raised IndexError(.|\n)*hint: the lengths index the time dimension",
        ),
        (
            "lengths changed in place",
            last_valid_in_place,
            r"changed its argument `lengths` in place",
        ),
        (
            "a list",
            lambda output, lengths: list(last_valid(output, lengths)),
            r"should be a tensor, got list",
        ),
        (
            "max length for all",
            lambda output, lengths: output[:, lengths.max() - 1],
            r"output\[:, -1\]|is wrong",
        ),
    ],
}

RIGHT = {
    "bidirectional_final_hidden": [
        ("h_n[-2], h_n[-1]", final_hidden),
        ("view by layer and direction", final_hidden_view),
        ("explicit indices, hstack", final_hidden_indices),
        ("permute and reshape", final_hidden_permute),
        ("a list of the two", final_hidden_list),
    ],
    "bidirectional_output_by_hand": [
        ("two loops", by_hand),
        ("flip the input and the states", by_hand_flip),
        ("nn.RNNCell with copied weights", by_hand_cells),
        ("einsum in float64", by_hand_einsum_float64),
        ("F.linear, unbind", by_hand_linear),
    ],
    "last_valid_output": [
        ("advanced indexing", last_valid),
        ("gather", last_valid_gather),
        ("a loop", last_valid_loop),
        ("one-hot mask", last_valid_mask),
        ("take_along_dim", last_valid_take_along),
        ("NumPy", last_valid_numpy),
    ],
}

test_wrong, test_right = catalogue_tests(WRONG, RIGHT)
