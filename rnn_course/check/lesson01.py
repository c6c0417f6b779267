"""Checks for lesson 01's exercises: linear_forward, cross_entropy_from_logits, train_step."""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from ._core import CheckFailed, call, exercise, expect_close, expect_tensor


@exercise
def linear_forward(answer) -> int:
    """`linear_forward(x, weight, bias)`: x (batch, in), weight (out, in), bias (out,) -> (batch, out)."""
    g = torch.Generator().manual_seed(1)
    x, weight, bias = (
        torch.randn(5, 3, generator=g),
        torch.randn(4, 3, generator=g),
        torch.randn(4, generator=g),
    )
    out = call(answer, x, weight, bias)
    expect_tensor(out, torch.empty(5, 4), "the output for x (5, 3), weight (4, 3), bias (4,)")
    only_bias = call(answer, x, torch.zeros(4, 3), bias)
    expect_close(
        only_bias, bias.expand(5, 4), "with a zero weight, the output", "is the bias missing?"
    )
    square = torch.randn(3, 3, generator=g)
    only_weight = call(answer, x, square, torch.zeros(3))
    if torch.allclose(only_weight, x @ square, atol=1e-5):
        raise CheckFailed("the weight term is x @ weight; nn.Linear computes x @ weight.T")
    expect_close(only_weight, x @ square.T, "with a zero bias, the output", "check the weight term")
    expect_close(out, F.linear(x, weight, bias), "the output")
    return 4


@exercise
def cross_entropy_from_logits(answer) -> int:
    """`cross_entropy_from_logits(logits, targets)`: logits (batch, classes), targets (batch,) -> scalar."""
    g = torch.Generator().manual_seed(2)
    logits, targets = 3 * torch.randn(6, 4, generator=g), torch.randint(0, 4, (6,), generator=g)
    loss = call(answer, logits, targets)
    expect_tensor(loss, torch.tensor(0.0), "the loss (a single number, a 0-D tensor)")
    expected = F.cross_entropy(logits, targets)
    probabilities = logits.softmax(dim=1)
    wrong = {
        "the sum over the batch, not the mean": F.cross_entropy(logits, targets, reduction="sum"),
        "-softmax of the right class, without the log": -probabilities[range(6), targets].mean(),
        "the softmax taken over the batch (dim=0) instead of the classes (dim=1)": (
            -logits.log_softmax(dim=0)[range(6), targets].mean()
        ),
        "-logits of the right class, without the softmax": -logits[range(6), targets].mean(),
    }
    for mistake, value in wrong.items():
        if torch.isclose(loss.detach(), value, atol=1e-5):
            raise CheckFailed(f"the loss equals {mistake}")
    expect_close(loss, expected, "the loss", "compare with -log(softmax(logits)[target]), averaged")
    big = call(answer, 100 * logits, targets)
    expect_close(
        big,
        F.cross_entropy(100 * logits, targets),
        "the loss for large logits (x100)",
        "subtract the largest logit before exp, or use log_softmax, to avoid overflow",
    )
    return 3


@exercise(
    params=("model", "optimizer", "loss_fn", "inputs", "targets"), mutable=("model", "optimizer")
)
def train_step(answer) -> int:
    """`train_step(model, optimizer, loss_fn, inputs, targets)`: one step; returns the loss as a float."""
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    reference = copy.deepcopy(model)
    inputs, targets = torch.randn(16, 4), torch.randint(0, 3, (16,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()

    expected_losses = []
    for _ in range(2):
        reference_optimizer.zero_grad()
        loss = loss_fn(reference(inputs), targets)
        loss.backward()
        reference_optimizer.step()
        expected_losses.append(loss.item())

    before = [p.detach().clone() for p in model.parameters()]
    first = call(answer, model, optimizer, loss_fn, inputs, targets)
    if not isinstance(first, float):
        raise CheckFailed(
            f"train_step should return the loss as a Python float (loss.item()), got {type(first).__name__}"
        )
    if abs(first - expected_losses[0]) > 1e-5:
        raise CheckFailed(
            f"the returned loss is {first:.6g}, expected {expected_losses[0]:.6g} (the loss before the step)"
        )
    if all(torch.equal(b, p) for b, p in zip(before, model.parameters())):
        raise CheckFailed(
            "the parameters did not change: did you call loss.backward() and optimizer.step()?"
        )
    call(answer, model, optimizer, loss_fn, inputs, targets)
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        if not torch.allclose(p, q, atol=1e-6):
            raise CheckFailed(
                f"after two steps, parameter {name} is wrong: did you call optimizer.zero_grad() "
                "before backward()? Without it, the gradients of both steps add up"
            )
    return 4
