"""Lesson 04's checks: catalogues of plausible wrong answers and of correct alternatives."""

import numpy as np
import torch
from catalogue import catalogue_tests
from torch.nn import functional as F

# ----------------------------------------------------------------------------- rnn_forward


def forward(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for x_t in x:
        h = torch.tanh(x_t @ W_xh.T + h @ W_hh.T + b_h)
        states.append(h)
    return torch.stack(states)


def forward_einsum(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for t in range(x.shape[0]):
        h = torch.tanh(
            torch.einsum("bi,hi->bh", x[t], W_xh) + torch.einsum("bj,hj->bh", h, W_hh) + b_h
        )
        states.append(h)
    return torch.stack(states, dim=0)


def forward_projected_first(x, h0, W_xh, W_hh, b_h):
    inputs = x @ W_xh.T + b_h  # every step's input term at once
    h, states = h0, []
    for projected in inputs:
        h = torch.tanh(projected + F.linear(h, W_hh))
        states.append(h.unsqueeze(0))
    return torch.cat(states)


def forward_preallocated(x, h0, W_xh, W_hh, b_h):
    states = torch.empty(x.shape[0], *h0.shape, dtype=x.dtype)
    h = h0
    for t, x_t in enumerate(x):
        h = torch.tanh(torch.addmm(b_h, x_t, W_xh.T) + h @ W_hh.T)
        states[t] = h
    return states


def forward_matmul(x, h0, W_xh, W_hh, b_h):
    states, h = [], h0
    for t in range(len(x)):
        h = torch.matmul(x[t], W_xh.t()) + torch.matmul(h, W_hh.t())
        h = (h + b_h).tanh()
        states += [h]
    return torch.stack(states)


def forward_late(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for x_t in x:
        states.append(h)
        h = torch.tanh(x_t @ W_xh.T + h @ W_hh.T + b_h)
    return torch.stack(states)


def forward_with_h0(x, h0, W_xh, W_hh, b_h):
    h, states = h0, [h0]
    for x_t in x:
        h = torch.tanh(x_t @ W_xh.T + h @ W_hh.T + b_h)
        states.append(h)
    return torch.stack(states)


def forward_no_memory(x, h0, W_xh, W_hh, b_h):
    return torch.stack([torch.tanh(x_t @ W_xh.T + h0 @ W_hh.T + b_h) for x_t in x])


def forward_no_tanh(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for x_t in x:
        h = x_t @ W_xh.T + h @ W_hh.T + b_h
        states.append(h)
    return torch.stack(states)


def forward_tanh_before_bias(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for x_t in x:
        h = torch.tanh(x_t @ W_xh.T + h @ W_hh.T) + b_h
        states.append(h)
    return torch.stack(states)


def forward_extra_relu(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for x_t in x:
        h = torch.relu(torch.tanh(x_t @ W_xh.T + h @ W_hh.T + b_h))
        states.append(h)
    return torch.stack(states)


def forward_skips_first(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for x_t in x[1:]:
        h = torch.tanh(x_t @ W_xh.T + h @ W_hh.T + b_h)
        states.append(h)
    return torch.stack(states)


def forward_no_bias(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for x_t in x:
        h = torch.tanh(x_t @ W_xh.T + h @ W_hh.T)
        states.append(h)
    return torch.stack(states)


def forward_W_hh_not_transposed(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for x_t in x:
        h = torch.tanh(x_t @ W_xh.T + h @ W_hh + b_h)
        states.append(h)
    return torch.stack(states)


def forward_W_xh_not_transposed(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for x_t in x:
        h = torch.tanh(x_t @ W_xh + h @ W_hh.T + b_h)
        states.append(h)
    return torch.stack(states)


def forward_under_no_grad(x, h0, W_xh, W_hh, b_h):
    with torch.no_grad():
        return forward(x, h0, W_xh, W_hh, b_h)


def forward_detached_steps(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for x_t in x:
        h = torch.tanh(x_t @ W_xh.T + h @ W_hh.T + b_h).detach()
        states.append(h)
    return torch.stack(states)


def forward_in_place_state(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for x_t in x:
        h.copy_(torch.tanh(x_t @ W_xh.T + h @ W_hh.T + b_h).detach())
        states.append(h.clone())
    return torch.stack(states)


def forward_list(x, h0, W_xh, W_hh, b_h):
    return list(forward(x, h0, W_xh, W_hh, b_h))


def forward_batch_stacked(x, h0, W_xh, W_hh, b_h):
    return forward(x, h0, W_xh, W_hh, b_h).transpose(0, 1)


def forward_backwards(x, h0, W_xh, W_hh, b_h):
    return forward(x.flip(0), h0, W_xh, W_hh, b_h)


def forward_last_only(x, h0, W_xh, W_hh, b_h):
    return forward(x, h0, W_xh, W_hh, b_h)[-1]


def forward_numpy(x, h0, W_xh, W_hh, b_h):
    return forward(x, h0, W_xh, W_hh, b_h).detach().numpy()


# ----------------------------------------------------------------------------- collapse_linear_rnn


def collapse(W_xh, W_hh, b_h, seq_len):
    power = torch.eye(W_hh.shape[0], dtype=W_hh.dtype)
    blocks, bias = [], torch.zeros_like(b_h)
    for _ in range(seq_len):
        blocks.insert(0, power @ W_xh)
        bias = bias + power @ b_h
        power = W_hh @ power
    return torch.cat(blocks, dim=1), bias


def collapse_matrix_power(W_xh, W_hh, b_h, seq_len):
    powers = [torch.linalg.matrix_power(W_hh, seq_len - 1 - k) for k in range(seq_len)]
    weight = torch.cat([p @ W_xh for p in powers], dim=1)
    bias = sum(p @ b_h for p in powers)
    return weight, bias


def collapse_recursive(W_xh, W_hh, b_h, seq_len):
    # h_t = W_hh h_(t-1) + W_xh x_t + b: after each step, old blocks go through W_hh once more
    weight, bias = W_xh, b_h
    for _ in range(seq_len - 1):
        weight = torch.cat([W_hh @ weight, W_xh], dim=1)
        bias = W_hh @ bias + b_h
    return [weight, bias]


def collapse_by_probing(W_xh, W_hh, b_h, seq_len):
    # the cell is linear: run it on unit inputs and read the columns off
    hidden_size, input_size = W_xh.shape
    n = seq_len * input_size

    def last_state(x_flat):  # (batch, n) -> h_T
        h = torch.zeros(x_flat.shape[0], hidden_size, dtype=W_xh.dtype)
        for x_t in x_flat.reshape(-1, seq_len, input_size).transpose(0, 1):
            h = x_t @ W_xh.T + h @ W_hh.T + b_h
        return h

    bias = last_state(torch.zeros(1, n, dtype=W_xh.dtype))[0]
    weight = (last_state(torch.eye(n, dtype=W_xh.dtype)) - bias).T
    return weight, bias


def collapse_float32(W_xh, W_hh, b_h, seq_len):
    weight, bias = collapse_matrix_power(W_xh.float(), W_hh.float(), b_h.float(), seq_len)
    return weight, bias


def collapse_einsum(W_xh, W_hh, b_h, seq_len):
    hidden_size = W_hh.shape[0]
    powers = [torch.eye(hidden_size, dtype=W_hh.dtype)]
    for _ in range(seq_len - 1):
        powers.append(torch.einsum("ij,jk->ik", W_hh, powers[-1]))
    powers = torch.stack(powers[::-1])  # (seq_len, hidden, hidden), x_1's power first
    weight = torch.einsum("khj,ji->hki", powers, W_xh).reshape(hidden_size, -1)
    return weight, torch.einsum("khj,j->h", powers, b_h)


def collapse_reversed(W_xh, W_hh, b_h, seq_len):
    weight, bias = collapse_matrix_power(W_xh, W_hh, b_h, seq_len)
    input_size = W_xh.shape[1]
    return torch.cat(weight.split(input_size, dim=1)[::-1], dim=1), bias


def collapse_extra_power(W_xh, W_hh, b_h, seq_len):
    powers = [torch.linalg.matrix_power(W_hh, seq_len - k) for k in range(seq_len)]
    return torch.cat([p @ W_xh for p in powers], dim=1), sum(p @ b_h for p in powers)


def collapse_transposed_W_hh(W_xh, W_hh, b_h, seq_len):
    return collapse_matrix_power(W_xh, W_hh.T, b_h, seq_len)


def collapse_elementwise(W_xh, W_hh, b_h, seq_len):
    powers = [W_hh ** (seq_len - 1 - k) for k in range(seq_len)]
    return torch.cat([p @ W_xh for p in powers], dim=1), sum(p @ b_h for p in powers)


def collapse_factor_order(W_xh, W_hh, b_h, seq_len):
    powers = [torch.linalg.matrix_power(W_hh, seq_len - 1 - k) for k in range(seq_len)]
    return torch.cat([W_xh @ p for p in powers], dim=1), sum(p @ b_h for p in powers)


def collapse_plain_bias(W_xh, W_hh, b_h, seq_len):
    return collapse_matrix_power(W_xh, W_hh, b_h, seq_len)[0], b_h


def collapse_bias_times_length(W_xh, W_hh, b_h, seq_len):
    return collapse_matrix_power(W_xh, W_hh, b_h, seq_len)[0], seq_len * b_h


def collapse_bias_extra_power(W_xh, W_hh, b_h, seq_len):
    weight, _ = collapse_matrix_power(W_xh, W_hh, b_h, seq_len)
    return weight, sum(torch.linalg.matrix_power(W_hh, k) @ b_h for k in range(1, seq_len + 1))


def collapse_weight_transposed(W_xh, W_hh, b_h, seq_len):
    weight, bias = collapse_matrix_power(W_xh, W_hh, b_h, seq_len)
    return weight.T, bias


def collapse_stacked_rows(W_xh, W_hh, b_h, seq_len):
    powers = [torch.linalg.matrix_power(W_hh, seq_len - 1 - k) for k in range(seq_len)]
    return torch.cat([p @ W_xh for p in powers], dim=0), sum(p @ b_h for p in powers)


def collapse_swapped(W_xh, W_hh, b_h, seq_len):
    weight, bias = collapse_matrix_power(W_xh, W_hh, b_h, seq_len)
    return bias, weight


def collapse_in_place_bias(W_xh, W_hh, b_h, seq_len):
    weight, _ = collapse_matrix_power(W_xh, W_hh, b_h, seq_len)
    bias, power = b_h, torch.eye(W_hh.shape[0], dtype=W_hh.dtype)
    for _ in range(seq_len - 1):
        power = W_hh @ power
        bias += power @ b_h  # bias is b_h itself
    return weight, bias


def collapse_last_block(W_xh, W_hh, b_h, seq_len):
    return W_xh, collapse_matrix_power(W_xh, W_hh, b_h, seq_len)[1]


# ----------------------------------------------------------------------------- rnn_backward


def backward(x, h0, states, W_hh, grad_last):
    previous = torch.cat([h0.unsqueeze(0), states[:-1]])
    grad_W_xh = torch.zeros(W_hh.shape[0], x.shape[2], dtype=x.dtype)
    grad_W_hh = torch.zeros_like(W_hh)
    grad_b_h = torch.zeros(W_hh.shape[0], dtype=x.dtype)
    grad_h = grad_last
    for t in reversed(range(len(x))):
        delta = grad_h * (1 - states[t] ** 2)
        grad_W_xh += delta.T @ x[t]
        grad_W_hh += delta.T @ previous[t]
        grad_b_h += delta.sum(dim=0)
        grad_h = delta @ W_hh
    return grad_W_xh, grad_W_hh, grad_b_h


def backward_float32_accumulators(x, h0, states, W_hh, grad_last):
    grad_W_xh = torch.zeros(W_hh.shape[0], x.shape[2])  # float32: the default dtype
    grad_W_hh = torch.zeros(W_hh.shape)
    grad_b_h = torch.zeros(W_hh.shape[0])
    grad_h = grad_last
    for t in range(len(x) - 1, -1, -1):
        h_prev = states[t - 1] if t > 0 else h0
        delta = grad_h * (1 - states[t] * states[t])
        grad_W_xh += (delta.T @ x[t]).float()
        grad_W_hh += (delta.T @ h_prev).float()
        grad_b_h += delta.sum(0).float()
        grad_h = delta @ W_hh
    return grad_W_xh, grad_W_hh, grad_b_h


def backward_einsum(x, h0, states, W_hh, grad_last):
    deltas, grad_h = [], grad_last
    for t in reversed(range(len(x))):
        delta = grad_h * (1 - states[t].pow(2))
        deltas.insert(0, delta)
        grad_h = torch.einsum("bh,hk->bk", delta, W_hh)
    deltas = torch.stack(deltas)  # (seq_len, batch, hidden)
    previous = torch.cat([h0[None], states[:-1]])
    return (
        torch.einsum("tbh,tbi->hi", deltas, x),
        torch.einsum("tbh,tbk->hk", deltas, previous),
        deltas.sum(dim=(0, 1)),
    )


def backward_addmm(x, h0, states, W_hh, grad_last):
    grads = [torch.zeros(W_hh.shape[0], x.shape[2], dtype=x.dtype), 0 * W_hh, 0 * W_hh[0]]
    grad_h = grad_last.clone()
    for t in reversed(range(len(x))):
        delta = grad_h.mul_(1 - states[t] ** 2)  # in place on its own copy
        h_prev = h0 if t == 0 else states[t - 1]
        grads[0] = torch.addmm(grads[0], delta.T, x[t])
        grads[1] = torch.addmm(grads[1], delta.T, h_prev)
        grads[2] = grads[2] + delta.sum(0)
        grad_h = torch.mm(delta, W_hh)
    return grads


def backward_numpy_style(x, h0, states, W_hh, grad_last):
    x, h0, states, W_hh, grad_last = (v.numpy() for v in (x, h0, states, W_hh, grad_last))
    dW_xh = np.zeros((W_hh.shape[0], x.shape[2]))
    dW_hh, db = np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    dh = grad_last
    for t in reversed(range(len(x))):
        dz = dh * (1 - states[t] ** 2)
        dW_xh += dz.T @ x[t]
        dW_hh += dz.T @ (states[t - 1] if t else h0)
        db += dz.sum(0)
        dh = dz @ W_hh
    return tuple(torch.from_numpy(g) for g in (dW_xh, dW_hh, db))


def backward_with(**wrong):
    def answer(x, h0, states, W_hh, grad_last):
        previous = torch.cat([h0.unsqueeze(0), states[:-1]])
        if wrong.get("wrap"):
            previous = torch.stack([states[t - 1] for t in range(len(states))])
        grad_W_xh = torch.zeros(W_hh.shape[0], x.shape[2], dtype=x.dtype)
        grad_W_hh = torch.zeros_like(W_hh)
        grad_b_h = torch.zeros(W_hh.shape[0], dtype=x.dtype)
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
            grad_W_xh += delta.T @ x[t]
            grad_W_hh += delta.T @ (states[t] if wrong.get("h_t") else previous[t])
            grad_b_h += delta.mean(0) if wrong.get("mean") else delta.sum(0)
            grad_h = (grad_h if wrong.get("skip") else delta) @ (
                W_hh.T if wrong.get("carry_transposed") else W_hh
            )
            if wrong.get("last_only"):
                break
        if wrong.get("transpose_xh"):
            grad_W_xh = grad_W_xh.T
        if wrong.get("transpose_hh"):
            grad_W_hh = grad_W_hh.T
        return grad_W_xh, grad_W_hh, grad_b_h

    return answer


def backward_in_place_grad(x, h0, states, W_hh, grad_last):
    grad_h = grad_last
    previous = torch.cat([h0.unsqueeze(0), states[:-1]])
    grads = [torch.zeros(W_hh.shape[0], x.shape[2], dtype=x.dtype), 0 * W_hh, 0 * W_hh[0]]
    for t in reversed(range(len(x))):
        grad_h *= 1 - states[t] ** 2  # changes grad_last at the first step
        grads[0] += grad_h.T @ x[t]
        grads[1] += grad_h.T @ previous[t]
        grads[2] += grad_h.sum(0)
        grad_h = grad_h @ W_hh
    return tuple(grads)


def backward_unsummed_bias(x, h0, states, W_hh, grad_last):
    grad_W_xh, grad_W_hh, _ = backward(x, h0, states, W_hh, grad_last)
    grad_h, grad_b_h = grad_last, 0
    for t in reversed(range(len(x))):
        delta = grad_h * (1 - states[t] ** 2)
        grad_b_h = grad_b_h + delta
        grad_h = delta @ W_hh
    return grad_W_xh, grad_W_hh, grad_b_h


def backward_pair(x, h0, states, W_hh, grad_last):
    return backward(x, h0, states, W_hh, grad_last)[:2]


def backward_shapes_crossed(x, h0, states, W_hh, grad_last):
    grad_W_xh = torch.zeros(W_hh.shape[0], x.shape[2], dtype=x.dtype)
    grad_h = grad_last
    for t in reversed(range(len(x))):
        delta = grad_h * (1 - states[t] ** 2)
        grad_W_xh += x[t] @ delta.T  # (batch, input) @ (hidden, batch)
        grad_h = delta @ W_hh
    return grad_W_xh, W_hh, W_hh[0]


def forward_in_place_on_tanh(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for t in range(len(x)):
        h = torch.tanh(x[t] @ W_xh.T + h @ W_hh.T + b_h)
        h *= 1.0  # tanh's backward needs its output as it was
        states.append(h)
    return torch.stack(states)


WRONG = {
    "rnn_forward": [
        (
            "tanh's output changed in place",
            forward_in_place_on_tanh,
            r"changed in place.*build a new",
        ),
        ("tanh missing", forward_no_tanh, r"tanh is missing"),
        ("bias missing", forward_no_bias, r"bias b_h is missing"),
        ("tanh before the bias", forward_tanh_before_bias, r"tanh is applied before the bias"),
        ("an extra ReLU", forward_extra_relu, r"ReLU is applied after the tanh"),
        ("W_xh not transposed", forward_W_xh_not_transposed, r"W_xh is transposed"),
        ("W_hh not transposed", forward_W_hh_not_transposed, r"W_hh is transposed"),
        ("states one step late", forward_late, r"one time step late"),
        ("h0 included", forward_with_h0, r"hold 6 steps: return h_1 \.\.\. h_T, without h_0"),
        ("no memory", forward_no_memory, r"every step starts from h0"),
        ("skips x_1", forward_skips_first, r"hold 4 steps: the loop must read every x_t, x_1 too"),
        ("reads backwards", forward_backwards, r"reads the sequence backwards"),
        ("stacked along the batch", forward_batch_stacked, r"should have shape|batch dimension"),
        ("last state only", forward_last_only, r"should have shape \(5, 3, 4\), got \(3, 4\)"),
        ("under no_grad", forward_under_no_grad, r"no gradient reaches W_xh"),
        ("detached every step", forward_detached_steps, r"no gradient reaches W_xh"),
        ("h0 changed in place", forward_in_place_state, r"changed its argument `h0` in place"),
        ("a list of states", forward_list, r"should be a tensor, got list"),
        ("a NumPy array", forward_numpy, r"should be a tensor, got ndarray"),
    ],
    "collapse_linear_rnn": [
        ("float32 accumulators", collapse_float32, r"lesson compares this result at 1e-10"),
        ("blocks in reverse order", collapse_reversed, r"reverse time order"),
        ("one power too many", collapse_extra_power, r"one power of W_hh too many"),
        ("W_hh transposed", collapse_transposed_W_hh, r"W_hh is transposed"),
        ("element-wise powers", collapse_elementwise, r"element by element"),
        ("W_xh @ power", collapse_factor_order, r"in this order: W_hh\^k @ W_xh"),
        ("bias is b_h", collapse_plain_bias, r"the bias is b_h alone"),
        ("bias is seq_len * b_h", collapse_bias_times_length, r"the bias is seq_len \* b_h"),
        ("bias power off by one", collapse_bias_extra_power, r"bias has one power of W_hh too"),
        ("weight transposed", collapse_weight_transposed, r"it is transposed"),
        ("blocks stacked as rows", collapse_stacked_rows, r"stacked along dim 0"),
        ("(bias, weight)", collapse_swapped, r"the pair is \(bias, weight\)"),
        ("b_h changed in place", collapse_in_place_bias, r"changed its argument `b_h` in place"),
        (
            "only W_xh",
            collapse_last_block,
            r"weight for .* should have shape \(4, 6\), got \(4, 2\)",
        ),
        ("a weight only", lambda *a: collapse(*a)[0], r"should return a pair \(weight, bias\)"),
    ],
    "rnn_backward": [
        ("last step only", backward_with(last_only=True), r"only the last time step counts"),
        ("h_t for W_hh", backward_with(h_t=True), r"uses h_t where it needs h_\(t-1\)"),
        ("states[-1] as h_0", backward_with(wrap=True), r"previous state is h0, not states\[-1\]"),
        ("no tanh derivative", backward_with(no_derivative=True), r"tanh derivative is missing"),
        (
            "derivative of h_(t-1)",
            backward_with(derivative_of_previous=True),
            r"tanh derivative uses h_\(t-1\)",
        ),
        ("tanh applied again", backward_with(tanh_of_state=True), r"do not apply tanh to it again"),
        (
            "carried through W_hh.T",
            backward_with(carry_transposed=True),
            r"carried back through W_hh transposed",
        ),
        ("carry skips the derivative", backward_with(skip=True), r"skips the tanh derivative"),
        ("forward in time", backward_with(forward_order=True), r"loop runs forward in time"),
        ("bias gradient averaged", backward_with(mean=True), r"averages over the batch"),
        ("grad_W_xh transposed", backward_with(transpose_xh=True), r"grad_W_xh .* transposed"),
        ("grad_W_hh transposed", backward_with(transpose_hh=True), r"grad_W_hh is transposed"),
        ("grad_last in place", backward_in_place_grad, r"changed its argument `grad_last`"),
        ("bias not summed", backward_unsummed_bias, r"not summed over the batch"),
        ("two gradients", backward_pair, r"should return three tensors"),
        ("crossed shapes", backward_shapes_crossed, r"raised RuntimeError(.|\n)*hint: in the row"),
    ],
}

RIGHT = {
    "rnn_forward": [
        ("the loop", forward),
        ("einsum", forward_einsum),
        ("input projection first, F.linear", forward_projected_first),
        ("preallocated, addmm", forward_preallocated),
        ("torch.matmul, a list", forward_matmul),
    ],
    "collapse_linear_rnn": [
        ("powers built step by step", collapse),
        ("matrix_power", collapse_matrix_power),
        ("recursion, a list", collapse_recursive),
        ("probing the linear cell", collapse_by_probing),
        ("einsum", collapse_einsum),
    ],
    "rnn_backward": [
        ("the loop", backward),
        ("float32 accumulators", backward_float32_accumulators),
        ("einsum over stacked deltas", backward_einsum),
        ("addmm, a list, in place on a copy", backward_addmm),
        ("NumPy", backward_numpy_style),
    ],
}

test_wrong, test_right = catalogue_tests(WRONG, RIGHT)
