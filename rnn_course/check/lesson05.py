"""Checks for lesson 05's exercises: bidirectional_final_hidden, bidirectional_output_by_hand,
last_valid_output."""

from __future__ import annotations

import re

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ._core import (
    CheckFailed,
    RuleBroken,
    call,
    exercise,
    expect_close,
    expect_tensor,
    forbid_forward,
    name_mistake,
    same,
)


def _name_if_wrong(got, expected: torch.Tensor, mistakes: dict[str, torch.Tensor]) -> None:
    """Name the first known mistake `got` equals, unless `got` is right."""
    if not same(got, expected):
        name_mistake(
            got, {text: value for text, value in mistakes.items() if not same(value, expected)}
        )


# ----------------------------------------------------------------------------- h_n's layout


def _bidirectional_final_hidden(h_n, num_layers):
    """The course's solution: the last layer's two final states side by side, (batch, 2 * hidden)."""
    return torch.cat([h_n[-2], h_n[-1]], dim=1)


def _final_hidden_hint(kind, message, args):
    if "out of" in message or "index" in message:
        return (
            "h_n has num_layers * 2 entries, ordered (layer, direction): the last layer's are "
            "h_n[-2] (forward) and h_n[-1] (backward)"
        )
    return None


@exercise(reference=_bidirectional_final_hidden, hints=[_final_hidden_hint])
def bidirectional_final_hidden(answer) -> int:
    """`bidirectional_final_hidden(h_n, num_layers)`: h_n of a bidirectional nn.RNN,
    (num_layers * 2, batch, hidden) -> the last layer's forward and backward final states side by
    side, (batch, 2 * hidden), forward first."""
    g = torch.Generator().manual_seed(54)
    passed = 0
    for num_layers, batch, hidden_size in ((1, 3, 4), (2, 3, 4), (3, 1, 2), (2, 4, 4)):
        h_n = torch.randn(num_layers * 2, batch, hidden_size, generator=g)
        expected = _bidirectional_final_hidden(h_n, num_layers)
        got = call(answer, h_n, num_layers)
        what = f"the result for num_layers={num_layers} (h_n of shape {tuple(h_n.shape)})"
        if isinstance(got, torch.Tensor) and got.shape == (batch, hidden_size):
            raise CheckFailed(
                f"{what} has shape {tuple(got.shape)}: put the forward and the backward "
                "direction side by side, (batch, 2 * hidden_size)"
            )
        if isinstance(got, torch.Tensor) and got.shape == (2, batch, hidden_size):
            raise CheckFailed(
                f"{what} has shape {tuple(got.shape)}: the two directions are stacked; put them "
                "side by side with torch.cat([forward, backward], dim=1)"
            )
        expect_tensor(got, expected, what)
        layers = h_n.view(num_layers, 2, batch, hidden_size)
        mistakes = {
            "the directions are swapped: h_n[-2] is the last layer's forward direction and goes "
            "first, h_n[-1] is its backward direction": torch.cat([h_n[-1], h_n[-2]], dim=1),
            "this is the first layer (h_n[0], h_n[1]); the last layer is h_n[-2], h_n[-1]": (
                torch.cat([h_n[0], h_n[1]], dim=1)
            ),
            "h_n was read as (direction, layer): its entries are ordered (layer, direction), "
            "[layer 0 forward, layer 0 backward, layer 1 forward, ...], so the last layer is "
            "h_n[-2], h_n[-1]": torch.cat([h_n[num_layers - 1], h_n[-1]], dim=1),
            "the two directions are interleaved element by element; put them side by side with "
            "torch.cat([forward, backward], dim=1)": torch.stack(
                [layers[-1, 0], layers[-1, 1]], dim=2
            ).reshape(batch, -1),
            "this is the last layer's backward state twice: the forward one is h_n[-2]": torch.cat(
                [h_n[-1], h_n[-1]], dim=1
            ),
            "the directions are added: put them side by side, (batch, 2 * hidden_size)": torch.cat(
                [h_n[-2] + h_n[-1], h_n[-2] + h_n[-1]], dim=1
            ),
        }
        if num_layers == 1:
            mistakes[
                "h_n.view(batch, -1) mixes the batch with the directions: h_n is (layers * "
                "directions, batch, hidden); take h_n[-2] and h_n[-1], then concatenate"
            ] = h_n.reshape(batch, -1)
        _name_if_wrong(got, expected, mistakes)
        expect_close(got, expected, what, "the layers are ordered (layer, direction)")
        passed += 1
    return passed


# ----------------------------------------------------------------------------- a bidirectional RNN


def _direction(x, W_ih, W_hh, b_ih, b_hh, reverse=False, activation=torch.tanh, h=None):
    """One direction over x (batch, seq_len, input): its states in time order."""
    seq_len = x.shape[1]
    h = torch.zeros(x.shape[0], W_hh.shape[0], dtype=x.dtype) if h is None else h
    states = [None] * seq_len
    for t in reversed(range(seq_len)) if reverse else range(seq_len):
        h = activation(x[:, t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        states[t] = h
    return torch.stack(states, dim=1)


def _parameters(rnn, suffix=""):
    return tuple(
        getattr(rnn, f"{name}_l0{suffix}").detach()
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )


def _bidirectional_output_by_hand(rnn, x):
    """The course's solution: rnn(x)[0] of a one-layer bidirectional tanh RNN, batch first."""
    forward = _direction(x, *_parameters(rnn))
    backward = _direction(x, *_parameters(rnn, "_reverse"), reverse=True)
    return torch.cat([forward, backward], dim=2)


def _bidirectional_mistakes(rnn, x) -> dict[str, torch.Tensor]:
    W_ih, W_hh, b_ih, b_hh = forward_params = _parameters(rnn)
    R_ih, R_hh, r_ih, r_hh = backward_params = _parameters(rnn, "_reverse")
    forward = _direction(x, *forward_params)
    backward = _direction(x, *backward_params, reverse=True)

    def both(f, b):
        return torch.cat([f, b], dim=2)

    identity = lambda v: v  # noqa: E731
    zero_f, zero_b = 0 * b_hh, 0 * r_hh
    mistakes = {
        "the backward direction's states are in the order it computed them (h for x_T "
        "first): put each one at the step it read, so that output[:, 0] holds the backward "
        "state after reading the whole sequence": both(forward, backward.flip(1)),
        "the backward direction reads the sequence from x_1 to x_T: it must start at the last "
        "step and walk back to the first": both(forward, _direction(x, *backward_params)),
        "the backward direction uses the forward weights: its parameters end in _reverse "
        "(weight_ih_l0_reverse, ...)": both(forward, _direction(x, *forward_params, reverse=True)),
        "the two directions are swapped: the forward direction's features come first, "
        "torch.cat([forward, backward], dim=2)": both(backward, forward),
        "bias_hh is missing: nn.RNN adds two biases in each direction, bias_ih and bias_hh": both(
            _direction(x, W_ih, W_hh, b_ih, zero_f),
            _direction(x, R_ih, R_hh, r_ih, zero_b, reverse=True),
        ),
        "bias_ih is missing: nn.RNN adds two biases in each direction, bias_ih and bias_hh": both(
            _direction(x, W_ih, W_hh, zero_f, b_hh),
            _direction(x, R_ih, R_hh, zero_b, r_hh, reverse=True),
        ),
        "the tanh is missing": both(
            _direction(x, *forward_params, activation=identity),
            _direction(x, *backward_params, reverse=True, activation=identity),
        ),
        "the weight_hh matrices are transposed: compute h_prev @ weight_hh.T": both(
            _direction(x, W_ih, W_hh.T, b_ih, b_hh),
            _direction(x, R_ih, R_hh.T, r_ih, r_hh, reverse=True),
        ),
        "the hidden state is not carried from one step to the next": torch.cat(
            [torch.tanh(x @ W_ih.T + b_ih + b_hh), torch.tanh(x @ R_ih.T + r_ih + r_hh)], dim=2
        ),
        "the backward direction starts from the forward direction's last state: each "
        "direction starts from h0 = 0": both(
            forward,
            _direction(x, *backward_params, reverse=True, h=forward[:, -1]),
        ),
    }
    if W_ih.shape[0] == W_ih.shape[1]:
        mistakes["the weight_ih matrices are transposed: compute x_t @ weight_ih.T"] = both(
            _direction(x, W_ih.T, W_hh, b_ih, b_hh),
            _direction(x, R_ih.T, R_hh, r_ih, r_hh, reverse=True),
        )
    return mistakes


RECURRENT_LAYER_FUNCTIONS = {"rnn_tanh", "rnn_relu", "lstm", "gru", "_cudnn_rnn"}
NO_LAYER_RULE = (
    "use rnn's parameters (weight_ih_l0, ..., bias_hh_l0_reverse), not a recurrent layer: "
    "rnn(x), a new nn.RNN with its weights, or torch's rnn functions all run {name}; the exercise "
    "is to compute what nn.RNN computes"
)


class _NoRecurrentLayers(TorchFunctionMode):
    """While active, any whole-sequence recurrent layer (nn.RNN, nn.LSTM, nn.GRU, torch's rnn
    functions however reached) raises `RuleBroken`: what the rule forbids, in every spelling."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in RECURRENT_LAYER_FUNCTIONS:
            raise RuleBroken(NO_LAYER_RULE.format(name=f"torch.{name}"))
        return func(*args, **(kwargs or {}))


def _bidirectional_case(answer, seed, batch, seq_len, input_size, hidden_size) -> int:
    torch.manual_seed(seed)
    rnn = nn.RNN(input_size, hidden_size, batch_first=True, bidirectional=True)
    x = torch.randn(batch, seq_len, input_size)
    with torch.no_grad():
        expected = rnn(x)[0]
    ruled = forbid_forward(rnn, NO_LAYER_RULE.format(name="nn.RNN's forward"))
    with _NoRecurrentLayers():
        got = call(answer, ruled, x)
    what = f"the output for x of shape {tuple(x.shape)} and hidden_size {hidden_size}"
    if isinstance(got, torch.Tensor) and got.shape != expected.shape:
        shape = tuple(got.shape)
        if shape == (batch, seq_len, hidden_size):
            raise CheckFailed(
                f"{what} has shape {shape}, one direction only: the output holds both "
                "directions side by side, (batch, seq_len, 2 * hidden_size)"
            )
        if shape == (batch, 2 * seq_len, hidden_size):
            raise CheckFailed(
                f"{what} has shape {shape}: the directions are joined along time; put them "
                "side by side in the features, torch.cat([forward, backward], dim=2)"
            )
    expect_tensor(got, expected, what)
    _name_if_wrong(got, expected, _bidirectional_mistakes(rnn, x))
    expect_close(got, expected, what, "compare each direction with rnn(x)[0] step by step")
    return 1


@exercise(reference=_bidirectional_output_by_hand)
def bidirectional_output_by_hand(answer) -> int:
    """`bidirectional_output_by_hand(rnn, x)`: a one-layer tanh nn.RNN with batch_first=True and
    bidirectional=True, x (batch, seq_len, input_size) -> rnn(x)[0], (batch, seq_len,
    2 * hidden_size), h0 = 0, computed from the parameters of both directions, without running
    any recurrent layer."""
    # input_size == hidden_size first: a transposed weight runs and is caught by its value
    passed = _bidirectional_case(answer, 51, batch=2, seq_len=3, input_size=4, hidden_size=4)
    passed += _bidirectional_case(answer, 52, batch=1, seq_len=6, input_size=3, hidden_size=5)
    passed += _bidirectional_case(answer, 53, batch=4, seq_len=1, input_size=2, hidden_size=3)
    return passed


# ----------------------------------------------------------------------------- a padded batch


def _last_valid_output(output, lengths):
    """The course's solution: output[i, lengths[i] - 1] for every i, (batch, hidden)."""
    return output[torch.arange(output.shape[0]), lengths - 1]


def _last_valid_hint(kind, message, args):
    if "dimension 0" in message:
        return (
            "the lengths index the time dimension (dim 1) of each row: output[i, lengths[i] - 1] "
            "(or a gather along dim 1), not output[lengths - 1] nor a gather along dim 0"
        )
    if re.search(r"out of bounds for dimension [02]", message) or "same number of dim" in message:
        return (
            "gather picks along the dimension you name: the lengths index time, dim 1, with an "
            "index of shape (batch, 1, hidden): output.gather(1, (lengths - 1).view(-1, 1, "
            "1).expand(-1, 1, output.shape[2])).squeeze(1)"
        )
    if "out of bounds" in message or "out of range" in message:
        return "indices start at 0: the last real step of sequence i is at index lengths[i] - 1"
    return None


def _last_valid_case(answer, output, lengths) -> int:
    batch, max_len, hidden_size = output.shape
    expected = _last_valid_output(output, lengths)
    got = call(answer, output, lengths)
    what = f"the result for output of shape {tuple(output.shape)} and lengths {lengths.tolist()}"
    if isinstance(got, torch.Tensor) and got.shape == (batch, batch, hidden_size) and batch > 1:
        raise CheckFailed(
            f"{what} has shape {tuple(got.shape)}: output[:, lengths - 1] picks every "
            "sequence at every length; pair row i with lengths[i] - 1, "
            "output[torch.arange(batch), lengths - 1]"
        )
    expect_tensor(got, expected, what)
    rows = torch.arange(batch)
    mask = torch.arange(max_len)[None, :] < lengths[:, None]
    mistakes = {
        "this is output[:, -1], the last padded step: for a sequence shorter than the batch's "
        "longest, it is the state after reading padding; index output[i, lengths[i] - 1]": output[
            :, -1
        ],
        "one step too early: the last real step of sequence i is at index lengths[i] - 1": output[
            rows, lengths - 2
        ],
        "one step too early (lengths[i] - 2, clamped at 0): the last real step of sequence i is "
        "at index lengths[i] - 1": output[rows, (lengths - 2).clamp(min=0)],
        "this is the first time step; the last real step is at index lengths[i] - 1": output[:, 0],
        "this is the mean over the real steps; the exercise asks for the output at the last "
        "one, lengths[i] - 1": (output * mask[..., None]).sum(1) / lengths[:, None],
        "lengths[i] is paired with another sequence: row i of output goes with lengths[i] (do "
        "not sort or reverse the lengths)": output[rows, lengths.flip(0) - 1],
        "the lengths were sorted: keep them in the batch's order, row i goes with lengths[i]": (
            output[rows, lengths.sort(descending=True).values - 1]
        ),
    }
    index = (lengths - 1)[:, None, None].expand(-1, 1, hidden_size)
    for dim, name, size in ((0, "the batch", batch), (2, "the features", hidden_size)):
        if int(lengths.max()) <= size:  # otherwise gather raises, and the hint says so
            mistakes[
                f"gather picked along dimension {dim} ({name}): the lengths index time, so "
                "gather along dim 1, output.gather(1, index) with index (batch, 1, hidden) "
                "holding lengths[i] - 1"
            ] = output.gather(dim, index)[:, 0]
    _name_if_wrong(got, expected, mistakes)
    expect_close(got, expected, what, "index output[i, lengths[i] - 1] for every i")
    return 1


@exercise(reference=_last_valid_output, hints=[_last_valid_hint])
def last_valid_output(answer) -> int:
    """`last_valid_output(output, lengths)`: a padded batch's output (batch, max_len, hidden),
    batch first, and the true lengths (batch,), int64 -> the output at each sequence's last real
    step, (batch, hidden)."""
    g = torch.Generator().manual_seed(53)
    passed = _last_valid_case(answer, torch.randn(4, 6, 3, generator=g), torch.tensor([6, 2, 4, 1]))
    passed += _last_valid_case(answer, torch.randn(3, 5, 2, generator=g), torch.tensor([3, 5, 2]))
    passed += _last_valid_case(answer, torch.randn(1, 4, 5, generator=g), torch.tensor([3]))
    passed += _last_valid_case(answer, torch.randn(2, 3, 4, generator=g), torch.tensor([3, 3]))
    # lengths within every dimension's size: a gather along the wrong one runs, and is named
    passed += _last_valid_case(answer, torch.randn(3, 4, 5, generator=g), torch.tensor([2, 1, 3]))
    return passed
