"""Checks for lesson 03's exercises: rnn_step, rnn_parameter_count, bptt_many_to_many."""

from __future__ import annotations

import torch

from ._core import (
    CheckFailed,
    call,
    exercise,
    expect_close,
    expect_float64,
    expect_int,
    expect_tensor,
    name_mistake,
    same,
)

F64 = torch.float64


def _known(mistakes: dict, expected: torch.Tensor) -> dict:
    """The known mistakes (why -> function giving its value) that can be told apart here."""
    values = {}
    for why, mistake in mistakes.items():
        try:
            value = mistake()
        except RuntimeError:  # crashes on these shapes: the answer raised instead
            continue
        if not same(value, expected):
            values[why] = value
    return values


# ----------------------------------------------------------------------------- rnn_step


def _rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    """The course's solution: h_t = tanh(x_t W_xh^T + h_(t-1) W_hh^T + b_h), batch in rows."""
    return torch.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)


def _step_mistakes(x, h, W_xh, W_hh, b) -> dict:
    pre = x @ W_xh.T + h @ W_hh.T + b
    return {
        "the tanh is missing: h_t = tanh(pre-activation)": lambda: pre,
        "the tanh is applied before the bias is added: add b_h inside the tanh": lambda: (
            torch.tanh(x @ W_xh.T + h @ W_hh.T) + b
        ),
        "a ReLU is applied after the tanh: the cell has only the tanh": lambda: torch.relu(
            torch.tanh(pre)
        ),
        "a ReLU is used instead of the tanh": lambda: torch.relu(pre),
        "a sigmoid is used instead of the tanh": lambda: torch.sigmoid(pre),
        "each term has its own tanh: add the three terms, then one tanh": lambda: (
            torch.tanh(x @ W_xh.T) + torch.tanh(h @ W_hh.T) + torch.tanh(b)
        ),
        "W_xh and W_hh are swapped: W_xh multiplies x_t, W_hh multiplies h_prev": lambda: (
            torch.tanh(x @ W_hh.T + h @ W_xh.T + b)
        ),
        "W_xh and W_hh are both transposed: compute x_t @ W_xh.T and h_prev @ W_hh.T": lambda: (
            torch.tanh(x @ W_xh + h @ W_hh + b)
        ),
        "W_xh is transposed: compute x_t @ W_xh.T": lambda: torch.tanh(x @ W_xh + h @ W_hh.T + b),
        "W_hh is transposed: compute h_prev @ W_hh.T": lambda: torch.tanh(
            x @ W_xh.T + h @ W_hh + b
        ),
        "the previous state is left out: add h_prev @ W_hh.T": lambda: torch.tanh(x @ W_xh.T + b),
        "the input is left out: add x_t @ W_xh.T": lambda: torch.tanh(h @ W_hh.T + b),
        "the bias b_h is missing": lambda: torch.tanh(x @ W_xh.T + h @ W_hh.T),
        "the bias is subtracted: add b_h": lambda: torch.tanh(x @ W_xh.T + h @ W_hh.T - b),
    }


def _random(generator, *shape, dtype=torch.float32):
    return torch.randn(*shape, generator=generator, dtype=dtype)


def _check_terms(answer) -> int:
    """Check h_t = tanh(x_t W_xh^T + h_prev W_hh^T + b_h): known mistakes first, then one term at
    a time, then sizes where a transposed weight cannot run. Returns the number of tests passed.
    """
    what = "h_t"
    g = torch.Generator().manual_seed(31)
    # input_size == hidden_size: a transposed or swapped weight runs, and is named by its value
    batch, size = 3, 4
    x, h = _random(g, batch, size), _random(g, batch, size)
    W_xh, W_hh, b_h = _random(g, size, size), _random(g, size, size), _random(g, size)
    expected = _rnn_step(x, h, W_xh, W_hh, b_h)
    full = call(answer, x, h, W_xh, W_hh, b_h)
    sizes = f"a batch of {batch}, input_size {size}, hidden_size {size}"
    expect_tensor(full, expected, f"{what} for {sizes}")
    name_mistake(full, _known(_step_mistakes(x, h, W_xh, W_hh, b_h), expected))

    zero_x, zero_h, zero_w, zero_b = (
        torch.zeros_like(x),
        torch.zeros_like(h),
        torch.zeros_like(W_hh),
        torch.zeros_like(b_h),
    )
    probes = [
        ("x_t = 0 and h_prev = 0, so only the bias: tanh(b_h)", (zero_x, zero_h, W_xh, W_hh, b_h)),
        ("only the input term: tanh(x_t @ W_xh.T)", (x, zero_h, W_xh, zero_w, zero_b)),
        ("only the previous state: tanh(h_prev @ W_hh.T)", (zero_x, h, zero_w, W_hh, zero_b)),
    ]
    for term, args in probes:
        got = call(answer, *args)
        expect_tensor(got, expected, f"{what} with {term}")
        expect_close(got, _rnn_step(*args), f"{what} with {term}")
    expect_close(full, expected, f"{what} for {sizes}")

    # input_size 3 != hidden_size 5, a batch of one, float64
    x, h = _random(g, 1, 3, dtype=F64), _random(g, 1, 5, dtype=F64)
    W_xh, W_hh, b_h = (
        _random(g, 5, 3, dtype=F64),
        _random(g, 5, 5, dtype=F64),
        _random(g, 5, dtype=F64),
    )
    expected = _rnn_step(x, h, W_xh, W_hh, b_h)
    got = call(answer, x, h, W_xh, W_hh, b_h)
    sizes = "a batch of one, input_size 3, hidden_size 5, float64"
    expect_tensor(got, expected, f"{what} for {sizes}")
    expect_float64(got, f"{what} for {sizes}", "x_t")  # lesson 03 runs BPTT on it at 1e-10
    expect_close(got, expected, f"{what} for {sizes}")
    return len(probes) + 3


@exercise(reference=_rnn_step)
def rnn_step(answer) -> int:
    """`rnn_step(x_t, h_prev, W_xh, W_hh, b_h)`: (batch, input), (batch, hidden) -> h_t (batch, hidden)."""
    passed = _check_terms(answer)
    g = torch.Generator().manual_seed(32)
    args = [
        _random(g, 2, 3),
        _random(g, 2, 4),
        _random(g, 4, 3),
        _random(g, 4, 4),
        _random(g, 4),
    ]
    args = [a.requires_grad_(True) for a in args]
    probe = _random(g, 2, 4)

    def loss(h_t):
        ok = isinstance(h_t, torch.Tensor) and h_t.shape == probe.shape
        return (h_t * probe).sum() if ok else None

    _, grads = call(answer, *args, grad_of=loss)
    wanted = torch.autograd.grad(loss(_rnn_step(*args)), args)
    for name, grad, reference in zip(rnn_step.params, grads, wanted):
        if grad is None:
            raise CheckFailed(
                f"no gradient reaches {name} through h_t: backpropagation through time needs it, "
                "so keep the step in torch (no torch.no_grad(), .detach(), .data or .numpy())"
            )
        expect_close(grad, reference, f"the gradient of a loss on h_t with respect to {name}")
    return passed + 1


# ----------------------------------------------------------------------------- parameter count


def _rnn_parameter_count(input_size, hidden_size, output_size, seq_len):
    """The course's solution: what PyTorch counts for nn.RNN + nn.Linear (both RNN biases)."""
    recurrent = hidden_size * input_size + hidden_size * hidden_size + 2 * hidden_size
    return recurrent + output_size * hidden_size + output_size


def _count_mistakes(I: int, H: int, O: int, T: int) -> list[tuple[int, str]]:  # noqa: E741
    right = _rnn_parameter_count(I, H, O, T)
    return [
        (
            right * T,
            "it grows with seq_len, but the same weights serve every time step (parameter "
            "sharing): the count does not depend on seq_len",
        ),
        (
            right - H,
            "one bias is missing: the exercise counts what PyTorch counts, and nn.RNN has two, "
            "bias_ih and bias_hh, of hidden_size values each",
        ),
        (right - 2 * H, "both biases of nn.RNN (bias_ih and bias_hh) are missing"),
        (
            right - O * H - O,
            "the output layer W_hy, b_y (nn.Linear(hidden_size, output_size)) is missing",
        ),
        (right - O, "the output bias b_y is missing"),
        (
            right - H * H + H * I,
            "W_hh has hidden_size x hidden_size values (it maps h_(t-1) to h_t), not "
            "hidden_size x input_size",
        ),
        (right + H, "h_0 is not a parameter: it is the starting state, zero unless you pass one"),
        (
            right - O * H + H * H,
            "W_hy has output_size x hidden_size values, not hidden_size x hidden_size",
        ),
    ]


@exercise(reference=_rnn_parameter_count)
def rnn_parameter_count(answer) -> int:
    """`rnn_parameter_count(input_size, hidden_size, output_size, seq_len)` -> int.

    What PyTorch counts for nn.RNN(input_size, hidden_size) plus nn.Linear(hidden_size,
    output_size): both of nn.RNN's biases count.
    """
    # the first case tells every known mistake apart; the others vary each size
    cases = [(3, 6, 2, 10), (28, 128, 10, 28), (1, 1, 1, 7), (7, 2, 4, 100), (5, 3, 9, 1)]
    for input_size, hidden_size, output_size, seq_len in cases:
        label = (
            f"rnn_parameter_count(input_size={input_size}, hidden_size={hidden_size}, "
            f"output_size={output_size}, seq_len={seq_len})"
        )
        got = expect_int(
            call(answer, input_size, hidden_size, output_size, seq_len), f"the count of {label}"
        )
        expected = _rnn_parameter_count(input_size, hidden_size, output_size, seq_len)
        if got == expected:
            continue
        mistakes = _count_mistakes(input_size, hidden_size, output_size, seq_len)
        matches = [why for value, why in mistakes if value == got and value != expected]
        hint = (
            matches[0]
            if len(matches) == 1
            else "count W_xh, W_hh, bias_ih, bias_hh, W_hy and b_y one by one"
        )
        raise CheckFailed(f"{label} returned {got}, expected {expected}: {hint}")
    return len(cases)


# ----------------------------------------------------------------------------- BPTT


def _bptt_many_to_many(local_grads, states, W_hh):
    """The course's solution: dL/dh_t for L = sum_t L_t, from the last step back to the first."""
    seq_len = local_grads.shape[1]
    grads = [local_grads[:, seq_len - 1]]  # dL/dh_T = dL_T/dh_T: no future after T
    for t in range(seq_len - 2, -1, -1):
        delta = grads[0] * (1 - states[:, t + 1] ** 2)  # dL/da_(t+1)
        grads.insert(0, local_grads[:, t] + delta @ W_hh)
    return torch.stack(grads, dim=1)


def _backward(local, states, W, *, step, forward=False):
    """g_t = local_t + step(g_s, s), s = t + 1 (or t - 1 when `forward`): the known mistakes."""
    seq_len = local.shape[1]
    order = range(1, seq_len) if forward else range(seq_len - 2, -1, -1)
    last = 0 if forward else seq_len - 1
    grads = {last: local[:, last]}
    for t in order:
        previous = grads[t - 1] if forward else grads[t + 1]
        grads[t] = local[:, t] + step(previous, t - 1 if forward else t + 1)
    return torch.stack([grads[t] for t in range(seq_len)], dim=1)


def _bptt_mistakes(local, states, W) -> dict:
    def d(t):
        return 1 - states[:, t] ** 2

    def own(t):  # the derivative of the step the gradient arrives at, one step too early
        return 1 - states[:, t - 1] ** 2

    right = _bptt_many_to_many(local, states, W)
    last_only = torch.zeros_like(local)
    last_only[:, -1] = local[:, -1]
    many_to_one = _bptt_many_to_many(last_only, states, W)
    return {
        "this is dL_t/dh_t alone: add the gradient that comes back from the future, "
        "(dL/dh_(t+1) * (1 - h_(t+1)**2)) @ W_hh": lambda: local,
        "only the last step's loss reaches back: every step has its own loss L_t, so add "
        "dL_t/dh_t at every step, not only at T": lambda: many_to_one,
        "W_hh is transposed: in rows, W_hh^T delta is delta @ W_hh": lambda: _backward(
            local, states, W, step=lambda g, s: (g * d(s)) @ W.T
        ),
        "the tanh derivative (1 - h**2) is missing": lambda: _backward(
            local, states, W, step=lambda g, s: g @ W
        ),
        "the tanh derivative is taken at h_t: it belongs to the step the gradient comes from, "
        "1 - h_(t+1)**2": lambda: _backward(local, states, W, step=lambda g, s: (g * own(s)) @ W),
        "the tanh derivative is 1 - h**2 (the states are already tanh of the pre-activation), "
        "not 1 - tanh(h)**2": lambda: _backward(
            local, states, W, step=lambda g, s: (g * (1 - torch.tanh(states[:, s]) ** 2)) @ W
        ),
        "the tanh derivative is 1 - h**2, not 1 - h": lambda: _backward(
            local, states, W, step=lambda g, s: (g * (1 - states[:, s])) @ W
        ),
        "the tanh derivative multiplies after the product: (dL/dh_(t+1) * (1 - h_(t+1)**2)) "
        "@ W_hh": lambda: _backward(local, states, W, step=lambda g, s: (g @ W) * d(s)),
        "the tanh derivative multiplies after the product, at h_t: compute "
        "(dL/dh_(t+1) * (1 - h_(t+1)**2)) @ W_hh": lambda: _backward(
            local, states, W, step=lambda g, s: (g @ W) * own(s)
        ),
        "the loop runs forward in time: gradients flow from the loss back, from t = T down "
        "to t = 1": lambda: _backward(
            local, states, W, step=lambda g, s: (g * d(s)) @ W, forward=True
        ),
        "the gradients are in reverse time order: entry t must be dL/dh_t (stack them "
        "as t = 1 ... T)": lambda: right.flip(1),
        "this is dL/da_t, the gradient of the pre-activation: return dL/dh_t, before the "
        "tanh derivative": lambda: right * (1 - states**2),
    }


def _bptt_case(answer, local, states, W_hh, what: str, mistakes: bool = True) -> None:
    expected = _bptt_many_to_many(local, states, W_hh)
    got = call(answer, local, states, W_hh)
    batch, seq_len, hidden = local.shape
    if isinstance(got, torch.Tensor) and got.shape == (seq_len, batch, hidden) != local.shape:
        raise CheckFailed(
            f"{what}: the gradients have shape {tuple(got.shape)}, (seq_len, batch, hidden): "
            f"keep the layout of the inputs, (batch, seq_len, hidden) = {tuple(local.shape)} "
            "(torch.stack(grads, dim=1))"
        )
    expect_tensor(got, expected, what)
    expect_float64(got, what, "local_grads")
    if mistakes:
        name_mistake(got, _known(_bptt_mistakes(local, states, W_hh), expected))
    expect_close(got, expected, what, "compare with the recursion, one step at a time")


@exercise(reference=_bptt_many_to_many)
def bptt_many_to_many(answer) -> int:
    """`bptt_many_to_many(local_grads, states, W_hh)`: dL_t/dh_t and h_1..h_T, both (batch,
    seq_len, hidden) -> dL/dh_t for L = sum_t L_t, (batch, seq_len, hidden)."""
    g = torch.Generator().manual_seed(33)
    batch, seq_len, hidden = 3, 5, 4
    W_hh = _random(g, hidden, hidden, dtype=F64)
    states = torch.tanh(2 * _random(g, batch, seq_len, hidden, dtype=F64))
    local = _random(g, batch, seq_len, hidden, dtype=F64)
    what = f"dL/dh_t for a batch of {batch}, {seq_len} steps, hidden_size {hidden}"
    _bptt_case(answer, local, states, W_hh, what)

    last_only = torch.zeros_like(local)
    last_only[:, -1] = local[:, -1]
    _bptt_case(answer, last_only, states, W_hh, "dL/dh_t when only the last step has a loss")
    _bptt_case(
        answer,
        local,
        states,
        torch.zeros_like(W_hh),
        "dL/dh_t with W_hh = 0 (no path back in time): it equals dL_t/dh_t",
        mistakes=False,
    )
    _bptt_case(
        answer,
        local,
        torch.zeros_like(states),
        W_hh,
        "dL/dh_t with every h_t = 0 (tanh' = 1 there)",
    )
    local, states = local[:1, :1], states[:1, :1]
    _bptt_case(answer, local, states, W_hh, "dL/dh_t for one sequence of one step", mistakes=False)
    return 5
