"""Checks for lesson 04's exercises: rnn_forward, collapse_linear_rnn, rnn_backward."""

from __future__ import annotations

import re

import torch
from torch import nn

from ._core import (
    CheckFailed,
    call,
    exercise,
    expect_close,
    expect_float64,
    expect_sequence,
    expect_tensor,
    name_mistake,
    same,
)

F64 = torch.float64
_SHAPE_IN_MESSAGE = re.compile(r"\((\d+)x(\d+) and (\d+)x(\d+)\)")


def _loop(x, h0, W_xh, W_hh, b_h, activation=torch.tanh):
    h, states = h0, []
    for x_t in x:
        h = activation(x_t @ W_xh.T + h @ W_hh.T + b_h)
        states.append(h)
    return torch.stack(states)


def _rnn_forward(x, h0, W_xh, W_hh, b_h):
    """The course's solution: the states h_1 ... h_T, (seq_len, batch, hidden_size)."""
    return _loop(x, h0, W_xh, W_hh, b_h)


def _random(generator, *shape, scale=1.0, dtype=F64):
    return scale * torch.randn(*shape, generator=generator, dtype=dtype)


def _weights(generator, input_size, hidden_size, dtype=F64):
    return (
        _random(generator, hidden_size, input_size, scale=0.8, dtype=dtype),
        _random(generator, hidden_size, hidden_size, scale=0.5, dtype=dtype),
        _random(generator, hidden_size, dtype=dtype),
    )


def _forward_mistakes(x, h0, W_xh, W_hh, b_h) -> dict[str, torch.Tensor]:
    expected = _loop(x, h0, W_xh, W_hh, b_h)
    tanh = torch.tanh
    return {
        "the states are one time step late: the output at step t must be h_t (after reading "
        "x_t), not h_(t-1); return h_1 ... h_T, without h_0": torch.cat([h0[None], expected[:-1]]),
        "every step starts from h0: carry the state, h = tanh(... + h @ W_hh.T + ...) with the "
        "h of the previous step": torch.stack(
            [tanh(x_t @ W_xh.T + h0 @ W_hh.T + b_h) for x_t in x]
        ),
        "the states are in reverse time order: stack them as h_1, ..., h_T": expected.flip(0),
        "the loop reads the sequence backwards (x_T first): walk through x in time order, "
        "for x_t in x": _loop(x.flip(0), h0, W_xh, W_hh, b_h),
        "the tanh is missing: h_t = tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)": _loop(
            x, h0, W_xh, W_hh, b_h, activation=lambda v: v
        ),
        "the bias b_h is missing": _loop(x, h0, W_xh, W_hh, 0 * b_h),
        "the tanh is applied before the bias is added: add b_h inside the tanh": _bias_outside(
            x, h0, W_xh, W_hh, b_h
        ),
        "a ReLU is applied after the tanh: the RNN cell has only the tanh": _loop(
            x, h0, W_xh, W_hh, b_h, activation=lambda v: torch.relu(torch.tanh(v))
        ),
        "W_xh is transposed: compute x_t @ W_xh.T": _loop(x, h0, W_xh.T, W_hh, b_h),
        "W_hh is transposed: compute h_prev @ W_hh.T": _loop(x, h0, W_xh, W_hh.T, b_h),
        "the states are stacked along the batch dimension: torch.stack(states) (dim=0) gives "
        "(seq_len, batch, hidden_size)": expected.transpose(0, 1),
    }


def _bias_outside(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for x_t in x:
        h = torch.tanh(x_t @ W_xh.T + h @ W_hh.T) + b_h
        states.append(h)
    return torch.stack(states)


def _name_if_wrong(got, expected: torch.Tensor, mistakes: dict[str, torch.Tensor]) -> None:
    """Name the first known mistake `got` equals, unless `got` is right (at its own precision)."""
    if not same(got, expected):
        name_mistake(
            got, {text: value for text, value in mistakes.items() if not same(value, expected)}
        )


def _one_step_probes(answer, generator) -> int:
    """One-step sequences with a single non-zero term: locates a mistake no pattern names."""
    batch, size = 2, 3
    x, h0 = _random(generator, 1, batch, size), _random(generator, batch, size)
    W_xh, W_hh, b_h = _weights(generator, size, size)
    zx, zh, zw, zb = torch.zeros_like(x), torch.zeros_like(h0), torch.zeros_like(W_hh), 0 * b_h
    probes = [
        ("x = 0 and h0 = 0, so h_1 = tanh(b_h)", (zx, zh, zw, zw, b_h)),
        ("only the input term, h_1 = tanh(x_1 @ W_xh.T)", (x, zh, W_xh, zw, zb)),
        ("only the previous state, h_1 = tanh(h0 @ W_hh.T)", (zx, h0, zw, W_hh, zb)),
    ]
    for what, args in probes:
        got = call(answer, *args)
        expected = _loop(*args)
        expect_tensor(got, expected, f"the states for one step with {what}")
        expect_close(got, expected, f"h_1 for one step with {what}")
    return len(probes)


@exercise(reference=_rnn_forward)
def rnn_forward(answer) -> int:
    """`rnn_forward(x, h0, W_xh, W_hh, b_h)`: x (seq_len, batch, input_size), h0 (batch, hidden)
    -> the states h_1 ... h_T, (seq_len, batch, hidden_size); gradients must reach the weights."""
    g = torch.Generator().manual_seed(41)
    # input_size == hidden_size: a transposed weight runs and is caught by its value
    seq_len, batch, size = 5, 3, 4
    x, h0 = _random(g, seq_len, batch, size), _random(g, batch, size)
    W_xh, W_hh, b_h = (w.requires_grad_(True) for w in _weights(g, size, size))
    probe = _random(g, seq_len, batch, size)

    def loss(states):
        if isinstance(states, torch.Tensor) and states.shape == probe.shape:
            return (states * probe).sum()
        return None

    got, grads = call(answer, x, h0, W_xh, W_hh, b_h, grad_of=loss)
    expected = _loop(x, h0, W_xh, W_hh, b_h)
    what = "the states for x of shape (5, 3, 4)"
    if isinstance(got, torch.Tensor) and got.shape == (seq_len + 1, batch, size):
        raise CheckFailed(f"{what} hold {seq_len + 1} steps: return h_1 ... h_T, without h_0")
    if isinstance(got, torch.Tensor) and got.shape == (seq_len - 1, batch, size):
        raise CheckFailed(f"{what} hold {seq_len - 1} steps: the loop must read every x_t, x_1 too")
    expect_tensor(got, expected, what)
    weights = (w.detach() for w in (W_xh, W_hh, b_h))
    _name_if_wrong(got, expected.detach(), _forward_mistakes(x, h0, *weights))
    passed = _one_step_probes(answer, g)
    expect_close(got, expected, what, "compare your loop with the cell, step by step")

    wanted = torch.autograd.grad(loss(expected), (W_xh, W_hh, b_h))
    for name, grad, reference in zip(("W_xh", "W_hh", "b_h"), grads, wanted):
        if grad is None:
            raise CheckFailed(
                f"no gradient reaches {name} through your states: the lesson trains the weights "
                "through rnn_forward, so keep every step in the graph (no torch.no_grad(), "
                ".detach(), .item() or .numpy())"
            )
        expect_close(
            grad, reference, f"the gradient of a loss on your states with respect to {name}"
        )

    # another shape: input_size != hidden_size, a batch of one, float32
    x = _random(g, 7, 1, 3, dtype=torch.float32)
    h0 = _random(g, 1, 5, dtype=torch.float32)
    weights = _weights(g, 3, 5, dtype=torch.float32)
    expected = _loop(x, h0, *weights)
    got = call(answer, x, h0, *weights)
    what = "the states for x of shape (7, 1, 3) (a batch of one) and hidden_size 5, float32"
    expect_tensor(got, expected, what)
    expect_close(got, expected, what)
    return passed + 6


def _collapse_linear_rnn(W_xh, W_hh, b_h, seq_len):
    """The course's solution: (weight, bias) of the Linear over the flattened sequence."""
    power = torch.eye(W_hh.shape[0], dtype=W_hh.dtype)  # W_hh^0
    blocks, bias = [], torch.zeros_like(b_h)
    for _ in range(seq_len):  # from x_T (power 0) back to x_1 (power seq_len - 1)
        blocks.insert(0, power @ W_xh)
        bias = bias + power @ b_h
        power = W_hh @ power
    return torch.cat(blocks, dim=1), bias


def _collapsed(W_xh, W_hh, b_h, seq_len, power_of=None, first=0, order=None):
    """The weight and bias with block k = power_of(seq_len - 1 - k + first) @ W_xh."""
    power_of = power_of or (lambda k: torch.linalg.matrix_power(W_hh, k))
    powers = [power_of(seq_len - 1 - k + first) for k in range(seq_len)]
    blocks = [order(p, W_xh) if order else p @ W_xh for p in powers]
    return torch.cat(blocks, dim=1), sum(p @ b_h for p in powers)


def _collapse_case(answer, W_xh, W_hh, b_h, seq_len: int) -> int:
    hidden_size, input_size = W_xh.shape
    expected_weight, expected_bias = _collapse_linear_rnn(W_xh, W_hh, b_h, seq_len)
    sizes = f"input_size {input_size}, hidden_size {hidden_size}, seq_len {seq_len}"
    got = expect_sequence(
        call(answer, W_xh, W_hh, b_h, seq_len), 2, "collapse_linear_rnn", "a pair (weight, bias)"
    )
    weight, bias = got
    if (
        isinstance(weight, torch.Tensor)
        and isinstance(bias, torch.Tensor)
        and weight.shape == expected_bias.shape != bias.shape
    ):
        raise CheckFailed("the pair is (bias, weight): return (weight, bias)")
    if isinstance(weight, torch.Tensor) and weight.shape != expected_weight.shape:
        shape = tuple(weight.shape)
        if shape == expected_weight.T.shape:
            raise CheckFailed(
                f"the weight for {sizes} has shape {shape}: it is transposed; like nn.Linear's "
                "weight it is (hidden_size, seq_len * input_size)"
            )
        if shape == (seq_len * hidden_size, input_size) and seq_len > 1:
            raise CheckFailed(
                f"the weight for {sizes} has shape {shape}: the blocks are stacked along dim 0; "
                "put them side by side, torch.cat(blocks, dim=1)"
            )
    expect_tensor(weight, expected_weight, f"the weight for {sizes}")
    expect_tensor(bias, expected_bias, f"the bias for {sizes}")
    if W_xh.dtype == torch.float64:
        expect_float64(weight, f"the weight for {sizes}", "W_xh")
        expect_float64(bias, f"the bias for {sizes}", "b_h")
    matrix_power = torch.linalg.matrix_power
    W_hh_T = W_hh.T
    weight_mistakes = {
        "the blocks are in reverse time order: x_T enters through W_xh alone (power 0) and x_1 "
        "through W_hh^(seq_len - 1) @ W_xh": torch.cat(
            list(_collapsed(W_xh, W_hh, b_h, seq_len)[0].split(input_size, dim=1))[::-1], dim=1
        ),
        "each block has one power of W_hh too many: x_T enters through W_xh alone (W_hh^0)": (
            _collapsed(W_xh, W_hh, b_h, seq_len, first=1)[0]
        ),
        "W_hh is transposed: h_t = W_hh h_(t-1) + ..., so x_k reaches h_T through "
        "W_hh^(T - k) @ W_xh, with W_hh as given": _collapsed(
            W_xh, W_hh_T, b_h, seq_len, power_of=lambda k: matrix_power(W_hh_T, k)
        )[0],
        "the powers of W_hh are taken element by element (W_hh ** k): a power here is a matrix "
        "product, torch.linalg.matrix_power(W_hh, k)": _collapsed(
            W_xh, W_hh, b_h, seq_len, power_of=lambda k: W_hh**k
        )[0],
    }
    if input_size == hidden_size:
        weight_mistakes[
            "the factors of each block are in the wrong order: the input goes through W_xh "
            "first, then through W_hh, so the block is W_hh^k @ W_xh"
        ] = _collapsed(W_xh, W_hh, b_h, seq_len, order=lambda p, w: w @ p)[0]
    _name_if_wrong(weight, expected_weight, weight_mistakes)
    expect_close(
        weight,
        expected_weight,
        f"the weight for {sizes}",
        "block k (the columns that multiply x_(k+1)) is W_hh^(seq_len - 1 - k) @ W_xh",
    )
    bias_mistakes = {
        "the bias is b_h alone: the bias of every step also travels through W_hh, so the bias "
        "is b_h + W_hh b_h + ... + W_hh^(seq_len - 1) b_h": b_h,
        "the bias is seq_len * b_h: each step's bias travels through W_hh too, b_h + W_hh b_h "
        "+ ... + W_hh^(seq_len - 1) b_h": seq_len * b_h,
        "the bias has one power of W_hh too many: it is b_h + W_hh b_h + ... + "
        "W_hh^(seq_len - 1) b_h (h_0 = 0 adds nothing)": _collapsed(
            W_xh, W_hh, b_h, seq_len, first=1
        )[1],
        "the bias misses the last step's b_h (the W_hh^0 term)": _collapsed(
            W_xh, W_hh, b_h, seq_len
        )[1]
        - b_h,
        "W_hh is transposed in the bias": _collapsed(
            W_xh, W_hh_T, b_h, seq_len, power_of=lambda k: matrix_power(W_hh_T, k)
        )[1],
    }
    _name_if_wrong(bias, expected_bias, bias_mistakes)
    expect_close(
        bias,
        expected_bias,
        f"the bias for {sizes}",
        "it is b_h + W_hh b_h + ... + W_hh^(seq_len - 1) b_h",
    )
    return 2


def _collapse_hint(kind, message, args):
    if _SHAPE_IN_MESSAGE.search(message):
        return (
            "each block is a power of W_hh (hidden, hidden) times W_xh (hidden, input), in this "
            "order: W_hh^k @ W_xh, since the input goes through W_xh first"
        )
    return None


@exercise(reference=_collapse_linear_rnn, hints=[_collapse_hint])
def collapse_linear_rnn(answer) -> int:
    """`collapse_linear_rnn(W_xh, W_hh, b_h, seq_len)` -> (weight, bias): the cell without tanh,
    h_t = x_t W_xh^T + h_(t-1) W_hh^T + b_h from h_0 = 0, gives h_T = x_flat @ weight.T + bias,
    x_flat = (x_1, ..., x_T) side by side: weight (hidden, seq_len * input), bias (hidden,)."""
    g = torch.Generator().manual_seed(44)
    passed = _collapse_case(answer, *_weights(g, 2, 4), seq_len=3)
    passed += _collapse_case(answer, *_weights(g, 3, 3), seq_len=4)  # square: order of factors
    passed += _collapse_case(answer, *_weights(g, 3, 2), seq_len=1)
    passed += _collapse_case(answer, *_weights(g, 1, 5, dtype=torch.float32), seq_len=6)
    # as the lesson calls it: slices of a Linear's float64 weight (not contiguous), its bias
    i2h = nn.Linear(2 + 3, 3, dtype=torch.float64)
    with torch.no_grad():
        i2h.weight.copy_(torch.cat(_weights(g, 2, 3)[:2], dim=1))
        W_xh, W_hh = i2h.weight[:, :2], i2h.weight[:, 2:]
    passed += _collapse_case(answer, W_xh, W_hh, i2h.bias, seq_len=5)
    return passed


def _rnn_backward(x, h0, states, W_hh, grad_last):
    """The course's solution: BPTT for a loss on h_T alone."""
    previous = torch.cat([h0.unsqueeze(0), states[:-1]])
    grad_W_xh = torch.zeros(W_hh.shape[0], x.shape[2], dtype=x.dtype)
    grad_W_hh = torch.zeros_like(W_hh)
    grad_b_h = torch.zeros(W_hh.shape[0], dtype=x.dtype)
    grad_h = grad_last
    for t in reversed(range(len(x))):
        delta = grad_h * (1 - states[t] ** 2)
        grad_W_xh = grad_W_xh + delta.T @ x[t]
        grad_W_hh = grad_W_hh + delta.T @ previous[t]
        grad_b_h = grad_b_h + delta.sum(dim=0)
        grad_h = delta @ W_hh
    return grad_W_xh, grad_W_hh, grad_b_h


def _backward_variant(x, h0, states, W_hh, grad_last, **wrong):
    """BPTT with one mistake switched on (the flags of `_BACKWARD_MISTAKES`)."""
    previous = torch.cat([h0.unsqueeze(0), states[:-1]])
    if wrong.get("wrap"):
        previous = torch.cat([states[-1:], states[:-1]])
    grad_W_xh = torch.zeros(W_hh.shape[0], x.shape[2], dtype=x.dtype)
    grad_W_hh, grad_b_h = torch.zeros_like(W_hh), torch.zeros(W_hh.shape[0], dtype=x.dtype)
    grad_h = grad_last
    steps = range(len(x)) if wrong.get("forward_order") else reversed(range(len(x)))
    for t in steps:
        if wrong.get("no_derivative"):
            delta = grad_h
        elif wrong.get("derivative_of_previous"):
            delta = grad_h * (1 - previous[t] ** 2)
        elif wrong.get("tanh_of_state"):
            delta = grad_h * (1 - torch.tanh(states[t]) ** 2)
        else:
            delta = grad_h * (1 - states[t] ** 2)
        grad_W_xh = grad_W_xh + delta.T @ x[t]
        grad_W_hh = grad_W_hh + delta.T @ (states[t] if wrong.get("h_t") else previous[t])
        grad_b_h = grad_b_h + (delta.mean(0) if wrong.get("mean") else delta.sum(0))
        if wrong.get("skip_derivative_in_carry"):
            grad_h = grad_h @ W_hh
        else:
            grad_h = delta @ (W_hh.T if wrong.get("carry_transposed") else W_hh)
        if wrong.get("last_only"):
            break
    return grad_W_xh, grad_W_hh, grad_b_h


_BACKWARD_MISTAKES = {
    "last_only": "only the last time step counts: carry dL/dh_(t-1) = delta_t @ W_hh back and "
    "add every step's contribution",
    "h_t": "grad_W_hh uses h_t where it needs h_(t-1): W_hh multiplies the previous state, so "
    "grad_W_hh += delta_t.T @ h_(t-1) (h_0 at the first step)",
    "wrap": "at the first step the previous state is h0, not states[-1]: build h_0 ... h_(T-1) "
    "as torch.cat([h0.unsqueeze(0), states[:-1]])",
    "no_derivative": "the tanh derivative is missing: delta_t = dL/dh_t * (1 - h_t**2)",
    "derivative_of_previous": "the tanh derivative uses h_(t-1): delta_t = dL/dh_t * "
    "(1 - h_t**2), with the state that the tanh produced at step t",
    "tanh_of_state": "the tanh derivative is 1 - h_t**2 with h_t = states[t] itself (already "
    "the tanh's output): do not apply tanh to it again",
    "carry_transposed": "the gradient is carried back through W_hh transposed: dL/dh_(t-1) = "
    "delta_t @ W_hh (row convention)",
    "skip_derivative_in_carry": "the gradient carried back skips the tanh derivative: "
    "dL/dh_(t-1) = delta_t @ W_hh, with delta_t, not dL/dh_t",
    "forward_order": "the loop runs forward in time: BPTT walks back from t = T to 1, since "
    "dL/dh_t needs delta_(t+1)",
    "mean": "grad_b_h averages over the batch: the loss adds the batch's terms, so sum "
    "delta_t over the batch",
}


def _autograd_backward(x, h0, W_xh, W_hh, b_h, grad_last):
    params = [p.detach().clone().requires_grad_(True) for p in (W_xh, W_hh, b_h)]
    states = _loop(x, h0, *params)
    return torch.autograd.grad((states[-1] * grad_last).sum(), params)


_GRAD_NAMES = ("grad_W_xh", "grad_W_hh", "grad_b_h")


def _backward_case(answer, generator, seq_len, batch, input_size, hidden_size) -> int:
    W_xh, W_hh, b_h = _weights(generator, input_size, hidden_size)
    W_hh = 1.5 * W_hh  # the first steps' share of the gradient must be large enough to see
    x = _random(generator, seq_len, batch, input_size)
    h0 = _random(generator, batch, hidden_size)
    grad_last = _random(generator, batch, hidden_size)
    states = _loop(x, h0, W_xh, W_hh, b_h)
    expected = _autograd_backward(x, h0, W_xh, W_hh, b_h, grad_last)
    sizes = f"{seq_len} steps, batch {batch}, input_size {input_size}, hidden_size {hidden_size}"
    got = expect_sequence(
        call(answer, x, h0, states, W_hh, grad_last),
        3,
        "rnn_backward",
        "three tensors (grad_W_xh, grad_W_hh, grad_b_h)",
    )
    for name, value, reference in zip(_GRAD_NAMES, got, expected):
        if isinstance(value, torch.Tensor) and value.shape != reference.shape:
            if reference.dim() == 2 and value.shape == reference.T.shape:
                raise CheckFailed(
                    f"{name} ({sizes}) has shape {tuple(value.shape)}: it is transposed, it "
                    f"must have its weight's shape {tuple(reference.shape)} (delta_t.T @ ...)"
                )
            if name == "grad_b_h" and value.shape == (batch, hidden_size):
                raise CheckFailed("grad_b_h is not summed over the batch: delta_t.sum(dim=0)")
        expect_tensor(value, reference, f"{name} ({sizes})")
    if not all(same(value, reference) for value, reference in zip(got, expected)):
        for flag, message in _BACKWARD_MISTAKES.items():
            wrong = _backward_variant(x, h0, states, W_hh, grad_last, **{flag: True})
            if all(same(value, bad) for value, bad in zip(got, wrong)) and not all(
                same(bad, right) for bad, right in zip(wrong, expected)
            ):
                raise CheckFailed(message)
        if same(got[1], expected[1].T):
            raise CheckFailed("grad_W_hh is transposed: it is delta_t.T @ h_(t-1)")
    hints = {
        "grad_W_xh": "it is the sum over t of delta_t.T @ x_t",
        "grad_W_hh": "it is the sum over t of delta_t.T @ h_(t-1), with h_0 at t = 1",
        "grad_b_h": "it is the sum over t of delta_t, summed over the batch",
    }
    for name, value, reference in zip(_GRAD_NAMES, got, expected):
        expect_close(value, reference, f"{name} ({sizes})", hints[name])
    return 3


def _backward_hint(kind, message, args):
    if _SHAPE_IN_MESSAGE.search(message) or "must match the size" in message:
        return (
            "in the row convention delta_t is (batch, hidden_size): grad_W_xh += delta_t.T @ "
            "x_t, grad_W_hh += delta_t.T @ h_(t-1), and dL/dh_(t-1) = delta_t @ W_hh"
        )
    return None


@exercise(reference=_rnn_backward, hints=[_backward_hint])
def rnn_backward(answer) -> int:
    """`rnn_backward(x, h0, states, W_hh, grad_last)`: backpropagation through time by hand for
    a loss on h_T alone: x (seq_len, batch, input), h0 (batch, hidden), states h_1..h_T
    (seq_len, batch, hidden), W_hh (hidden, hidden), grad_last = dL/dh_T (batch, hidden)
    -> (grad_W_xh (hidden, input), grad_W_hh (hidden, hidden), grad_b_h (hidden,))."""
    g = torch.Generator().manual_seed(43)
    passed = _backward_case(answer, g, seq_len=4, batch=3, input_size=2, hidden_size=4)
    passed += _backward_case(answer, g, seq_len=1, batch=2, input_size=3, hidden_size=5)
    passed += _backward_case(answer, g, seq_len=5, batch=1, input_size=3, hidden_size=3)
    return passed
