"""Checks for lesson 01's exercises: linear_forward, cross_entropy_from_logits, train_step."""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from ._core import (
    CheckFailed,
    call,
    exercise,
    expect_close,
    expect_float,
    expect_tensor,
    name_mistake,
    same,
)

F64 = torch.float64


def _differing(mistakes: dict, expected: torch.Tensor) -> dict:
    """The known mistakes (why -> function giving its value) whose value on these inputs can be
    computed and differs from the right one."""
    values = {}
    for why, mistake in mistakes.items():
        try:
            value = mistake()
        except RuntimeError:  # this mistake crashes on these shapes: the answer raised instead
            continue
        if not same(value, expected):
            values[why] = value
    return values


# ----------------------------------------------------------------------------- linear_forward


def _linear_forward(x, weight, bias):
    """The course's solution: what nn.Linear computes, x @ weight.T + bias."""
    return x @ weight.T + bias


LINEAR_HINTS = [
    (
        r"subscript|einsum",
        "weight is (out_features, in_features): in einsum its second index is the input's, "
        "'bi,oi->bo'",
    ),
    (
        r"must match the size of tensor b",
        "the bias has out_features values: add it to the product x @ weight.T, not to x",
    ),
]


def _linear_mistakes(x, weight, bias) -> dict:
    return {
        "the bias is added to x before the product: add it to x @ weight.T": lambda: (
            (x + bias) @ weight.T
        ),
        "the bias is subtracted: the layer computes x @ weight.T + bias": lambda: (
            x @ weight.T - bias
        ),
        "weight is not transposed: nn.Linear computes x @ weight.T (weight is (out_features, "
        "in_features))": lambda: x @ weight + bias,
        "is the bias missing? got x @ weight.T": lambda: x @ weight.T,
        "a ReLU is applied: nn.Linear is linear, the ReLU is a layer of its own": lambda: (
            torch.relu(x @ weight.T + bias)
        ),
    }


def _linear_case(answer, x, weight, bias, what: str) -> None:
    expected = _linear_forward(x, weight, bias)
    got = call(answer, x, weight, bias)
    if isinstance(got, torch.Tensor) and got.shape == expected.T.shape != expected.shape:
        raise CheckFailed(
            f"{what}: the output has shape {tuple(got.shape)}, (out_features, batch): it is "
            f"transposed; return one row per example, {tuple(expected.shape)}"
        )
    expect_tensor(got, expected, what)
    name_mistake(got, _differing(_linear_mistakes(x, weight, bias), expected))
    expect_close(got, expected, what, "compare with x @ weight.T + bias")


@exercise(reference=_linear_forward, hints=LINEAR_HINTS)
def linear_forward(answer) -> int:
    """`linear_forward(x, weight, bias)`: x (batch, in), weight (out, in), bias (out,) -> (batch, out)."""
    g = torch.Generator().manual_seed(1)
    # in_features != out_features != batch: a transposed weight or output cannot pass
    x, weight = torch.randn(5, 3, generator=g), torch.randn(4, 3, generator=g)
    bias = torch.randn(4, generator=g)
    _linear_case(answer, x, weight, bias, "the output for x (5, 3), weight (4, 3), bias (4,)")

    # square weight: a transposed weight runs, and is named by its value
    x, weight, bias = (
        torch.randn(6, 4, generator=g, dtype=F64),
        torch.randn(4, 4, generator=g, dtype=F64),
        torch.randn(4, generator=g, dtype=F64),
    )
    _linear_case(answer, x, weight, bias, "the output for x (6, 4), weight (4, 4), float64")

    # one term at a time
    zero_weight = torch.zeros(4, 4, dtype=F64)
    got = call(answer, x, zero_weight, bias)
    expect_tensor(got, x, "the output with a zero weight")
    expect_close(got, bias.expand(6, 4), "with a zero weight, the output", "it should be the bias")
    got = call(answer, x, weight, torch.zeros(4, dtype=F64))
    expect_close(got, x @ weight.T, "with a zero bias, the output", "it should be x @ weight.T")

    # a batch of one
    x, weight, bias = (
        torch.randn(1, 2, generator=g),
        torch.randn(3, 2, generator=g),
        torch.randn(3, generator=g),
    )
    got = call(answer, x, weight, bias)
    if isinstance(got, torch.Tensor) and got.shape == (3,):
        raise CheckFailed(
            "for a batch of one, x (1, 2), the output has shape (3,): keep the batch dimension, "
            "(1, 3) (is there a .squeeze()?)"
        )
    _linear_case(answer, x, weight, bias, "the output for a batch of one, x (1, 2), weight (3, 2)")

    # gradients reach every input, as they do through nn.Linear
    x, weight, bias = (
        torch.randn(5, 3, generator=g).requires_grad_(True),
        torch.randn(2, 3, generator=g).requires_grad_(True),
        torch.randn(2, generator=g).requires_grad_(True),
    )
    probe = torch.randn(5, 2, generator=g)

    def loss(out):
        ok = isinstance(out, torch.Tensor) and out.shape == probe.shape
        return (out * probe).sum() if ok else None

    _, grads = call(answer, x, weight, bias, grad_of=loss)
    wanted = torch.autograd.grad(loss(_linear_forward(x, weight, bias)), (x, weight, bias))
    for name, grad, reference in zip(("x", "weight", "bias"), grads, wanted):
        if grad is None:
            raise CheckFailed(
                f"no gradient reaches {name} through your output: training needs it, so keep the "
                "computation in torch (no torch.no_grad(), .detach(), .data or .numpy())"
            )
        expect_close(
            grad, reference, f"the gradient of a loss on your output with respect to {name}"
        )
    return 7


# ----------------------------------------------------------------------------- cross-entropy


def _cross_entropy(logits, targets):
    """The course's solution: the mean of -log softmax(logits)[target], computed stably."""
    log_probabilities = logits.log_softmax(dim=1)
    return -log_probabilities[torch.arange(len(targets)), targets].mean()


CROSS_ENTROPY_HINTS = [
    (
        r"one_hot|must match the size of tensor b",
        "F.one_hot(targets) has max(targets) + 1 columns: pass num_classes=logits.shape[1]",
    ),
]


def _cross_entropy_mistakes(logits, targets) -> dict:
    rows = torch.arange(len(targets))
    log_p = logits.log_softmax(dim=1)
    p = logits.softmax(dim=1)
    return {
        "the loss is summed over the batch: take the mean": lambda: -log_p[rows, targets].sum(),
        "the loss is averaged over the classes as well: sum over classes, average over the "
        "batch only": lambda: -(log_p * F.one_hot(targets, logits.shape[1])).mean(),
        "the sign is wrong: the loss is -log p of the right class (a positive number)": lambda: (
            log_p[rows, targets].mean()
        ),
        "the loss is -softmax of the right class, without the log": lambda: (
            -p[rows, targets].mean()
        ),
        "the softmax is taken over the batch (dim=0) instead of the classes (dim=1)": lambda: (
            -logits.log_softmax(dim=0)[rows, targets].mean()
        ),
        "the loss is -logits of the right class, without the softmax (log_softmax first)": (
            lambda: -logits[rows, targets].mean()
        ),
        "every row picks every target (log_p[:, targets]): pick one per row, "
        "log_p[torch.arange(batch), targets]": lambda: -log_p[:, targets].mean(),
    }


def _cross_entropy_case(answer, logits, targets, what: str, hint: str = "") -> torch.Tensor:
    loss = call(answer, logits, targets)
    if isinstance(loss, (float, int)):
        raise CheckFailed(
            f"{what} should be a 0-D tensor, got a Python {type(loss).__name__}: return the "
            "tensor (no .item()), so that backward() can run through it"
        )
    expect_tensor(loss, torch.tensor(0.0), f"{what} (a single number, a 0-D tensor)")
    expected = _cross_entropy(logits, targets)
    name_mistake(loss, _differing(_cross_entropy_mistakes(logits, targets), expected))
    if not bool(loss.isfinite()) and bool(expected.isfinite()):
        raise CheckFailed(
            f"{what} is {loss.item()}: exp overflows or a probability underflows to 0 before "
            "the log; use log_softmax (or subtract each row's largest logit before exp)"
        )
    expect_close(
        loss, expected, what, hint or "compare with -log(softmax(logits)[target]), averaged"
    )
    return loss


@exercise(reference=_cross_entropy, hints=CROSS_ENTROPY_HINTS)
def cross_entropy_from_logits(answer) -> int:
    """`cross_entropy_from_logits(logits, targets)`: logits (batch, classes), targets (batch,) -> 0-D."""
    g = torch.Generator().manual_seed(2)
    # targets that miss the last class, so F.one_hot without num_classes has too few columns
    logits = 3 * torch.randn(6, 5, generator=g)
    targets = torch.tensor([2, 0, 3, 3, 1, 0])
    _cross_entropy_case(answer, logits, targets, "the loss for logits (6, 5)")
    logits = 2 * torch.randn(1, 3, generator=g, dtype=F64)
    _cross_entropy_case(answer, logits, torch.tensor([1]), "the loss for a batch of one, float64")
    logits = 1000 * torch.randn(4, 3, generator=g)
    _cross_entropy_case(
        answer,
        logits,
        logits.argmin(dim=1),  # the right class gets a probability that underflows to 0
        "the loss for large logits (about 1000)",
        "subtract each row's largest logit before exp, or use log_softmax",
    )
    logits = torch.randn(8, 4, generator=g, dtype=F64).requires_grad_(True)
    targets = torch.randint(0, 4, (8,), generator=g)

    def itself(loss):
        return loss if isinstance(loss, torch.Tensor) and loss.dim() == 0 else None

    _, (grad,) = call(answer, logits, targets, grad_of=itself)
    if grad is None:
        raise CheckFailed(
            "no gradient reaches the logits through your loss: keep it in torch (no .detach(), "
            "torch.no_grad(), .item() or .numpy()), or backward() cannot train the model"
        )
    (wanted,) = torch.autograd.grad(_cross_entropy(logits, targets), logits)
    expect_close(grad, wanted, "the gradient of your loss with respect to the logits")
    return 4


# ----------------------------------------------------------------------------- train_step


def _train_step(model, optimizer, loss_fn, inputs, targets):
    """The course's solution: one step, returning the loss before the update as a float."""
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


TRAIN_STEP_HINTS = [
    (
        r"does not require grad|does not have a grad_fn",
        "the loss has no graph to differentiate: compute it from model(inputs) outside "
        "torch.no_grad(), without .detach() or .item() before backward()",
    ),
    (
        r"has no attribute 'backward'",
        "call .item() only on the value you return, after loss.backward()",
    ),
    (
        r"expected scalar type|Expected floating point|not implemented for 'Long'|"
        r"0D or 1D target|multi-target",
        "the loss function takes (outputs, targets), outputs first: loss_fn(model(inputs), targets)",
    ),
]


def _model_and_data(seed: int):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    inputs, targets = torch.randn(16, 4), torch.randint(0, 3, (16,))
    return model, inputs, targets


def _double_backward_step(model, optimizer, loss_fn, inputs, targets):
    """A mistake: backward() twice on one loss (retain_graph=True), so the gradients double."""
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward(retain_graph=True)
    loss.backward()
    optimizer.step()


def _no_zero_grad_step(model, optimizer, loss_fn, inputs, targets):
    """A mistake: no zero_grad(), so each step's gradients add to the last step's."""
    loss_fn(model(inputs), targets).backward()
    optimizer.step()


TRAIN_STEP_MISTAKES = {
    "the gradients are twice autograd's: backward() ran twice on the same loss (a second "
    "loss.backward(), or retain_graph=True and backward again); call it once per step": (
        _double_backward_step
    ),
    "the gradients of this step were added to the last step's: call optimizer.zero_grad() "
    "before loss.backward() (not between backward() and step())": _no_zero_grad_step,
}


def _same_parameters(model, other) -> bool:
    return all(
        torch.allclose(p, q, atol=1e-6) for p, q in zip(model.parameters(), other.parameters())
    )


def _compare_parameters(model, reference, mistakes: dict, after: str) -> None:
    """Fail unless `model` matches `reference`, naming the mistake whose model it matches."""
    if _same_parameters(model, reference):
        return
    for description, (shadow, _) in mistakes.items():
        if _same_parameters(model, shadow):
            raise CheckFailed(f"{after}: {description}")
    name = next(
        name
        for (name, p), q in zip(model.named_parameters(), reference.parameters())
        if not torch.allclose(p, q, atol=1e-6)
    )
    raise CheckFailed(
        f"{after}, parameter {name} is not what one optimizer.step() gives: clear the gradients "
        "with optimizer.zero_grad(), compute the loss, call loss.backward() once and then "
        "optimizer.step() of the optimizer you are given"
    )


@exercise(reference=_train_step, mutable=("model", "optimizer"), hints=TRAIN_STEP_HINTS)
def train_step(answer) -> int:
    """`train_step(model, optimizer, loss_fn, inputs, targets)`: one step; returns the loss as a float."""
    passed = 0
    for seed, make_optimizer in [
        (3, lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9)),
        (4, lambda params: torch.optim.Adam(params, lr=0.01)),
    ]:
        model, inputs, targets = _model_and_data(seed)
        reference = copy.deepcopy(model)
        optimizer, reference_optimizer = (
            make_optimizer(model.parameters()),
            make_optimizer(reference.parameters()),
        )
        mistakes = {}
        for description in TRAIN_STEP_MISTAKES:
            shadow = copy.deepcopy(model)
            mistakes[description] = (shadow, make_optimizer(shadow.parameters()))
        loss_fn = nn.CrossEntropyLoss()
        name = type(optimizer).__name__
        for step in (1, 2):
            before = [p.detach().clone() for p in model.parameters()]
            expected = _train_step(reference, reference_optimizer, loss_fn, inputs, targets)
            for description, (shadow, shadow_optimizer) in mistakes.items():
                TRAIN_STEP_MISTAKES[description](shadow, shadow_optimizer, loss_fn, inputs, targets)
            got = expect_float(
                call(answer, model, optimizer, loss_fn, inputs, targets),
                "the value train_step returns (the loss, loss.item())",
            )
            if all(torch.equal(b, p) for b, p in zip(before, model.parameters())):
                raise CheckFailed(
                    f"the parameters did not change in step {step} ({name}): call "
                    "loss.backward() and then optimizer.step(), with optimizer.zero_grad() "
                    "before backward() (not between backward() and step())"
                )
            if abs(got - expected) > 1e-5 * (1 + abs(expected)):
                with torch.no_grad():
                    after = loss_fn(reference(inputs), targets).item()
                why = (
                    "the loss after the update: return the loss computed before optimizer.step()"
                    if abs(got - after) <= 1e-5 * (1 + abs(after))
                    else "compare with loss_fn(model(inputs), targets)"
                )
                raise CheckFailed(
                    f"step {step} ({name}) returned the loss {got:.6g}, expected {expected:.6g}: "
                    f"{why}"
                )
            _compare_parameters(
                model, reference, mistakes, f"after {step} step{'s' * (step > 1)} ({name})"
            )
            passed += 1
    return passed
