"""Lesson 01's checks: plausible wrong answers rejected with the right message, correct ones passed."""

import pytest
import torch
from catalogue import catalogue_tests
from torch import nn
from torch.nn import functional as F

from rnn_course import check
from rnn_course.check import CheckFailed

# ----------------------------------------------------------------------------- linear_forward


def linear_loop(x, weight, bias):
    rows = [torch.stack([(row * w).sum() for w in weight]) + bias for row in x]
    return torch.stack(rows)


def linear_in_place_transpose(x, weight, bias):
    return x @ weight.t_() + bias


def linear_unsqueeze_bias(x, weight, bias):
    bias.unsqueeze_(0)
    return x @ weight.T + bias


def linear_no_grad(x, weight, bias):
    with torch.no_grad():
        return x @ weight.T + bias


def linear_numpy(x, weight, bias):
    return x.numpy() @ weight.numpy().T + bias.numpy()


def linear_own_output(x, weight, bias):
    out = x @ weight.T
    out += bias  # in place, but on its own tensor
    return out


# ----------------------------------------------------------------------------- cross-entropy


def ce_unstable(logits, targets):
    e = logits.exp()
    return -(e / e.sum(dim=1, keepdim=True)).log()[torch.arange(len(targets)), targets].mean()


def ce_softmax_then_log(logits, targets):  # what the lesson's cell computes: underflows
    probabilities = logits.softmax(dim=1)
    return -probabilities[range(len(targets)), targets].log().mean()


def ce_global_max(logits, targets):
    z = logits - logits.max()
    log_p = z - z.exp().sum(dim=1, keepdim=True).log()
    return -log_p[torch.arange(len(targets)), targets].mean()


def ce_subtract_in_place(logits, targets):
    logits -= logits.max(dim=1, keepdim=True).values
    log_p = logits - logits.exp().sum(dim=1, keepdim=True).log()
    return -log_p[torch.arange(len(targets)), targets].mean()


def ce_one_hot(logits, targets):
    return -(logits.log_softmax(dim=1) * F.one_hot(targets)).sum(dim=1).mean()


def ce_item(logits, targets):
    return -logits.log_softmax(dim=1)[torch.arange(len(targets)), targets].mean().item()


def ce_detached(logits, targets):
    log_p = logits.detach().log_softmax(dim=1)
    return -log_p[torch.arange(len(targets)), targets].mean()


def ce_stable_by_hand(logits, targets):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_p = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    return -log_p.gather(1, targets[:, None]).mean()


def ce_loop(logits, targets):
    losses = [torch.logsumexp(row, dim=0) - row[k] for row, k in zip(logits, targets)]
    return torch.stack(losses).mean()


# ----------------------------------------------------------------------------- train_step


def step(model, optimizer, loss_fn, inputs, targets):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_no_zero_grad(model, optimizer, loss_fn, inputs, targets):
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_no_step(model, optimizer, loss_fn, inputs, targets):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    return loss.item()


def step_no_backward(model, optimizer, loss_fn, inputs, targets):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    optimizer.step()
    return loss.item()


def step_zero_grad_before_step(model, optimizer, loss_fn, inputs, targets):
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


def step_returns_tensor(model, optimizer, loss_fn, inputs, targets):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss


def step_loss_after(model, optimizer, loss_fn, inputs, targets):
    optimizer.zero_grad()
    loss_fn(model(inputs), targets).backward()
    optimizer.step()
    return loss_fn(model(inputs), targets).item()


def step_own_optimizer(model, optimizer, loss_fn, inputs, targets):
    own = torch.optim.SGD(model.parameters(), lr=0.01)
    own.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    own.step()
    return loss.item()


def step_by_hand(model, optimizer, loss_fn, inputs, targets):
    model.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    return loss.item()


def step_no_grad_forward(model, optimizer, loss_fn, inputs, targets):
    optimizer.zero_grad()
    with torch.no_grad():
        outputs = model(inputs)
    loss = loss_fn(outputs, targets)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_item_too_early(model, optimizer, loss_fn, inputs, targets):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets).item()
    loss.backward()
    optimizer.step()
    return loss


def step_scales_inputs(model, optimizer, loss_fn, inputs, targets):
    inputs /= inputs.abs().max()
    return step(model, optimizer, loss_fn, inputs, targets)


def step_zero_grad_after(model, optimizer, loss_fn, inputs, targets):
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.tolist()  # a 0-D tensor gives a Python float


def step_set_grads_to_none(model, optimizer, loss_fn, inputs, targets):
    for p in model.parameters():
        p.grad = None
    outputs = model.forward(inputs)
    loss = loss_fn(outputs, targets)
    loss.backward()
    optimizer.step()
    return loss.detach().item()


def step_module_zero_grad(model, optimizer, loss_fn, inputs, targets):
    model.zero_grad(set_to_none=False)
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return float(loss.detach().numpy())


def step_backward_twice(model, optimizer, loss_fn, inputs, targets):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward(retain_graph=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_backward_twice_no_retain(model, optimizer, loss_fn, inputs, targets):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    loss.backward()
    optimizer.step()
    return loss.item()


def step_two_forwards(model, optimizer, loss_fn, inputs, targets):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    loss_fn(model(inputs), targets).backward()
    optimizer.step()
    return loss.item()


WRONG = {
    "linear_forward": [
        ("bias missing", lambda x, w, b: x @ w.T, r"is the bias missing"),
        ("weight not transposed", lambda x, w, b: x @ w + b, r"x @ (W|weight)\.T"),
        ("bias added to x", lambda x, w, b: (x + b) @ w.T, r"add it to x @ weight\.T|not to x"),
        ("bias subtracted", lambda x, w, b: x @ w.T - b, r"bias is subtracted"),
        ("output transposed", lambda x, w, b: w @ x.T + b[:, None], r"transposed; return one row"),
        ("extra ReLU", lambda x, w, b: torch.relu(x @ w.T + b), r"ReLU is applied"),
        ("squeezed", lambda x, w, b: (x @ w.T + b).squeeze(), r"batch of one.*squeeze"),
        ("first row only", lambda x, w, b: x[0] @ w.T + b, r"should have shape \(5, 4\)"),
        ("summed over batch", lambda x, w, b: (x @ w.T).sum(0) + b, r"should have shape"),
        ("einsum wrong", lambda x, w, b: torch.einsum("bi,io->bo", x, w) + b, r"'bi,oi->bo'"),
        ("weight.t_() in place", linear_in_place_transpose, r"changed its argument `weight`"),
        ("bias.unsqueeze_", linear_unsqueeze_bias, r"changed its argument `bias`"),
        ("under no_grad", linear_no_grad, r"no gradient reaches x"),
        ("detached", lambda x, w, b: (x @ w.T + b).detach(), r"no gradient reaches"),
        ("numpy", linear_numpy, r"should be a tensor, got ndarray"),
        ("elementwise", lambda x, w, b: x * w + b, r"raised RuntimeError"),
    ],
    "cross_entropy_from_logits": [
        ("sum over batch", lambda z, y: F.cross_entropy(z, y, reduction="sum"), r"summed over"),
        ("no log", lambda z, y: -z.softmax(1)[torch.arange(len(y)), y].mean(), r"without the log"),
        (
            "softmax over dim 0",
            lambda z, y: -z.log_softmax(0)[torch.arange(len(y)), y].mean(),
            r"over the batch \(dim=0\)",
        ),
        ("no softmax", lambda z, y: F.nll_loss(z, y), r"without the softmax"),
        ("no minus", lambda z, y: z.log_softmax(1)[torch.arange(len(y)), y].mean(), r"sign"),
        (
            "every target per row",
            lambda z, y: -z.log_softmax(1)[:, y].mean(),
            r"every row picks every target",
        ),
        (
            "mean over classes too",
            lambda z, y: -(z.log_softmax(1) * F.one_hot(y, z.shape[1])).mean(),
            r"averaged over the classes",
        ),
        ("unstable exp", ce_unstable, r"large logits.*overflows"),
        ("softmax then log", ce_softmax_then_log, r"large logits.*underflows to 0"),
        ("global max", ce_global_max, r"large logits"),
        ("one_hot without num_classes", ce_one_hot, r"num_classes"),
        ("item", ce_item, r"0-D tensor, got a Python float"),
        ("detached", ce_detached, r"no gradient reaches the logits"),
        ("logits changed in place", ce_subtract_in_place, r"changed its argument `logits`"),
        (
            "binary cross-entropy",
            lambda z, y: F.binary_cross_entropy_with_logits(z, F.one_hot(y, z.shape[1]).to(z)),
            r"the loss for logits \(6, 5\) is wrong",
        ),
    ],
    "train_step": [
        ("no zero_grad", step_no_zero_grad, r"zero_grad\(\) before loss\.backward"),
        ("no step", step_no_step, r"parameters did not change"),
        ("no backward", step_no_backward, r"parameters did not change"),
        ("zero_grad before step", step_zero_grad_before_step, r"not between backward"),
        ("returns a tensor", step_returns_tensor, r"got a tensor: use \.item"),
        ("loss after the update", step_loss_after, r"the loss after the update"),
        ("own optimizer", step_own_optimizer, r"optimizer you are given"),
        ("update by hand", step_by_hand, r"optimizer you are given"),
        ("forward under no_grad", step_no_grad_forward, r"no graph to differentiate"),
        ("item before backward", step_item_too_early, r"only on the value you return"),
        ("inputs scaled in place", step_scales_inputs, r"changed its argument `inputs`"),
        ("backward twice, retain_graph", step_backward_twice, r"backward\(\) ran twice"),
        ("backward twice", step_backward_twice_no_retain, r"backward\(\) ran twice"),
        ("two forwards and backwards", step_two_forwards, r"backward\(\) ran twice"),
    ],
}

RIGHT = {
    "linear_forward": [
        ("x @ W.T + b", lambda x, w, b: x @ w.T + b),
        ("addmm", lambda x, w, b: torch.addmm(b, x, w.T)),
        ("einsum", lambda x, w, b: torch.einsum("bi,oi->bo", x, w) + b),
        ("matmul of the transposed product", lambda x, w, b: torch.matmul(w, x.T).T + b),
        ("loop over rows and units", linear_loop),
        ("in place on its own output", linear_own_output),
        ("float32 product", lambda x, w, b: x.float() @ w.float().T + b.float()),
    ],
    "cross_entropy_from_logits": [
        ("log_softmax and gather", lambda z, y: -z.log_softmax(1).gather(1, y[:, None]).mean()),
        ("logsumexp", lambda z, y: (z.logsumexp(1) - z[torch.arange(len(y)), y]).mean()),
        ("nll_loss of log_softmax", lambda z, y: F.nll_loss(F.log_softmax(z, dim=1), y)),
        (
            "one-hot with num_classes",
            lambda z, y: -(z.log_softmax(1) * F.one_hot(y, z.shape[1])).sum(1).mean(),
        ),
        ("max subtracted by hand", ce_stable_by_hand),
        (
            "a (batch, batch) broadcast, equal by linearity",
            lambda z, y: (z.logsumexp(1) - z.gather(1, y[:, None])).mean(),
        ),
        ("loop over rows", ce_loop),
    ],
    "train_step": [
        ("the five moves", step),
        ("zero_grad after step", step_zero_grad_after),
        ("grads set to None, forward()", step_set_grads_to_none),
        ("model.zero_grad, numpy float", step_module_zero_grad),
    ],
}

test_wrong, test_right = catalogue_tests(WRONG, RIGHT)


def test_a_verdict_says_how_many_tests_passed(capsys, monkeypatch):
    monkeypatch.setenv("RNN_COURSE_CHECKS", "strict")
    check.linear_forward(lambda x, w, b: x @ w.T + b)
    assert "PASS linear_forward: all 7 tests passed" in capsys.readouterr().out


def test_strict_mode_raises_one_block(monkeypatch):
    monkeypatch.setenv("RNN_COURSE_CHECKS", "strict")
    with pytest.raises(CheckFailed) as failure:
        check.linear_forward(lambda x, w, b: (_ for _ in ()).throw(NotImplementedError()))
    assert failure.value._render_traceback_() == [
        "FAIL linear_forward: not implemented yet: replace `raise NotImplementedError()` with "
        "your code"
    ]


def test_fallback_goes_on_with_the_reference(monkeypatch, capsys):
    monkeypatch.setenv("RNN_COURSE_CHECKS", "fallback")
    train_step = check.train_step(step_no_step)
    assert "using the reference `train_step` until yours passes" in capsys.readouterr().out
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.weight.detach().clone()
    loss = train_step(model, optimizer, nn.MSELoss(), torch.ones(4, 3), torch.zeros(4, 2))
    assert isinstance(loss, float) and not torch.equal(before, model.weight), (
        "the reference train_step should take a step and return the loss"
    )


def test_a_check_needs_a_function():
    verdict = check.linear_forward.verdict(3)
    assert "expected your function, got int" in verdict.message
