"""How far back a gradient reaches: the gradient norm at each time step (lessons 03 and 08).

Lesson 03 measures ||dL/dh_t|| for a hand-written tanh or ReLU step and shows it vanish or
explode with the spectral radius of W_hh; lesson 08 measures the same for an LSTM. The loss L
depends on the last time step only, so entry t of the result is the gradient that reaches time
step t from a loss `seq_len - 1 - t` steps later: `norms.flip(0)` orders it by that distance.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .errors import InputError, InputTypeError
from .validation import check_tensor, describe

__all__ = ["gradient_norms_over_time"]


def _sum_loss(last: torch.Tensor) -> torch.Tensor:
    return last.sum()


def _check_state(state) -> None:
    if isinstance(state, torch.Tensor):
        return
    if (
        isinstance(state, (tuple, list))
        and len(state) > 0
        and all(isinstance(s, torch.Tensor) for s in state)
    ):
        return
    raise InputTypeError(
        "initial_state must be a tensor h of shape (batch, hidden_size) or a tuple of such "
        f"tensors such as (h, c), got {describe(state)}"
    )


def _pick(state, state_index: int, where: str) -> torch.Tensor:
    if isinstance(state, torch.Tensor):
        if state_index != 0:
            raise InputError(
                f"state_index is {state_index} but the state {where} is a single tensor; use 0"
            )
        return state
    if not isinstance(state, (tuple, list)) or not all(isinstance(s, torch.Tensor) for s in state):
        raise InputTypeError(
            f"the step function must return a tensor h or a tuple of tensors (h, c, ...), "
            f"got {describe(state)} {where}"
        )
    if not 0 <= state_index < len(state):
        raise InputError(
            f"state_index is {state_index} but the state {where} has {len(state)} tensors"
        )
    return state[state_index]


def _norms(gradient: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of the per-example L2 norm; (batch, ...) -> scalar."""
    if gradient is None:  # the loss does not depend on this step at all
        return torch.zeros((), dtype=torch.float64)
    return gradient.detach().reshape(like.shape[0], -1).double().norm(dim=1).mean().cpu()


def gradient_norms_over_time(
    model_or_step_fn: Callable,
    inputs: torch.Tensor,
    initial_state=None,
    *,
    loss_fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
    state_index: int = 0,
) -> torch.Tensor:
    """The norm of the loss's gradient at every time step, shape (seq_len,) (lessons 03, 08).

    `inputs` has shape (batch, seq_len, input_size), batch first. Two ways to call it:

    - With `initial_state` (a step function): `model_or_step_fn(x_t, state) -> new_state` is
      called once per time step with x_t of shape (batch, input_size). A state is a tensor h of
      shape (batch, hidden_size) (an RNN, `nn.RNNCell`, `nn.GRUCell`) or a tuple of tensors
      such as (h, c) (`nn.LSTMCell`); `state_index` picks the tensor to measure (0: h, 1: c).
      Entry t is ||dL/dh_t||, h_t being the state after reading x_t.
    - Without `initial_state` (a sequence model): `model_or_step_fn(inputs)` returns an output
      of shape (batch, seq_len, features), or a tuple whose first element is one (`nn.RNN`,
      `nn.LSTM`, `nn.GRU` with `batch_first=True`). Entry t is ||dL/dx_t||, the gradient that
      reaches the input at time t (the hidden states inside a cuDNN kernel are not visible).

    The loss is `loss_fn(last)` on the last time step's h (or output), shape (batch, hidden);
    the default is `last.sum()`. Each entry is the mean over the batch of the per-example L2
    norm, as float64 on the CPU; entry t lies `seq_len - 1 - t` steps before the loss. The
    parameters' `.grad` fields are left untouched.
    """
    if not callable(model_or_step_fn):
        raise InputTypeError(
            "model_or_step_fn must be a recurrent module or a step function "
            f"step(x_t, state) -> state, got {describe(model_or_step_fn)}"
        )
    inputs = check_tensor("inputs", inputs, 3, "(batch, seq_len, input_size)")
    if inputs.shape[0] == 0 or inputs.shape[1] == 0:
        raise InputError(
            f"inputs must hold at least one sequence of at least one step, got {describe(inputs)}"
        )
    if not inputs.is_floating_point():
        raise InputTypeError(f"inputs must be a floating-point tensor, got {describe(inputs)}")
    if loss_fn is None:
        loss_fn = _sum_loss
    elif not callable(loss_fn):
        raise InputTypeError(f"loss_fn must be a function last -> scalar, got {describe(loss_fn)}")
    if not isinstance(state_index, int) or isinstance(state_index, bool) or state_index < 0:
        raise InputError(f"state_index must be an int >= 0, got {state_index!r}")

    with torch.enable_grad():
        if initial_state is None:
            if isinstance(model_or_step_fn, nn.RNNBase) and not model_or_step_fn.batch_first:
                raise InputError(
                    "model_or_step_fn is a recurrent module with batch_first=False; build it "
                    "with batch_first=True (inputs here are (batch, seq_len, input_size)), or "
                    "pass initial_state to measure a step function"
                )
            leaf = inputs.detach().clone().requires_grad_(True)
            output = model_or_step_fn(leaf)
            if isinstance(output, (tuple, list)):
                output = output[0]
            if not isinstance(output, torch.Tensor) or output.dim() != 3:
                raise InputError(
                    "model_or_step_fn(inputs) must return an output of shape (batch, seq_len, "
                    f"features) or a tuple starting with one, got {describe(output)}"
                )
            loss = _scalar(loss_fn(output[:, -1]))
            (gradient,) = torch.autograd.grad(loss, leaf, allow_unused=True)
            if gradient is None:
                gradient = torch.zeros_like(leaf)
            return gradient.detach().double().norm(dim=2).mean(dim=0).cpu()

        _check_state(initial_state)
        # A state that needs a gradient makes every h_t part of the graph, even when the step
        # function's weights are plain tensors.
        if isinstance(initial_state, torch.Tensor):
            state = initial_state.detach().clone().requires_grad_(True)
        else:
            state = tuple(s.detach().clone().requires_grad_(True) for s in initial_state)
        measured = []
        for t in range(inputs.shape[1]):
            state = model_or_step_fn(inputs[:, t], state)
            measured.append(_pick(state, state_index, f"returned at step {t}"))
        if not all(h.requires_grad for h in measured):
            raise InputError(
                "the measured state does not depend on the previous state; the step function "
                "must compute its new state from the state it is given"
            )
        loss = _scalar(loss_fn(measured[-1]))
        gradients = torch.autograd.grad(loss, measured, allow_unused=True)
        return torch.stack([_norms(g, h) for g, h in zip(gradients, measured)])


def _scalar(loss) -> torch.Tensor:
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise InputError(
            f"loss_fn must return a single number (a 0-D tensor), got {describe(loss)}"
        )
    return loss.reshape(())
