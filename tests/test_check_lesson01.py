import pytest
import torch
from torch.nn import functional as F

from rnn_course import check
from rnn_course.check import CheckFailed


def test_linear_forward_accepts_the_solution_and_locates_mistakes(capsys):
    check.linear_forward(lambda x, w, b: x @ w.T + b)
    assert "PASS linear_forward: all 4 tests passed" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="is the bias missing"):
        check.linear_forward(lambda x, w, b: x @ w.T)
    with pytest.raises(CheckFailed, match=r"nn.Linear computes x @ weight.T"):
        check.linear_forward(lambda x, w, b: x @ (w if w.shape[0] == w.shape[1] else w.T) + b)
    with pytest.raises(CheckFailed, match=r"should have shape \(5, 4\), got \(5, 3\)"):
        check.linear_forward(lambda x, w, b: x)
    with pytest.raises(CheckFailed, match="not implemented yet"):
        check.linear_forward(lambda x, w, b: (_ for _ in ()).throw(NotImplementedError()))
    assert "FAIL linear_forward: not implemented yet" in capsys.readouterr().out


def _solution(logits, targets):
    return -logits.log_softmax(dim=1)[torch.arange(len(targets)), targets].mean()


def test_cross_entropy_accepts_the_solution_and_names_mistakes():
    check.cross_entropy_from_logits(_solution)
    with pytest.raises(CheckFailed, match="the sum over the batch"):
        check.cross_entropy_from_logits(lambda z, y: F.cross_entropy(z, y, reduction="sum"))
    with pytest.raises(CheckFailed, match="without the log"):
        check.cross_entropy_from_logits(lambda z, y: -z.softmax(1)[torch.arange(len(y)), y].mean())
    with pytest.raises(CheckFailed, match="over the batch"):
        check.cross_entropy_from_logits(
            lambda z, y: -z.log_softmax(0)[torch.arange(len(y)), y].mean()
        )

    def unstable(z, y):
        return -(z.exp() / z.exp().sum(1, keepdim=True)).log()[torch.arange(len(y)), y].mean()

    with pytest.raises(CheckFailed, match="large logits"):
        check.cross_entropy_from_logits(unstable)


def _train_step(model, optimizer, loss_fn, inputs, targets):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


def test_train_step_accepts_the_solution_and_names_mistakes():
    check.train_step(_train_step)

    def no_zero_grad(model, optimizer, loss_fn, inputs, targets):
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss.item()

    def no_step(model, optimizer, loss_fn, inputs, targets):
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        return loss.item()

    def returns_tensor(model, optimizer, loss_fn, inputs, targets):
        _train_step(model, optimizer, loss_fn, inputs, targets)
        return loss_fn(model(inputs), targets)

    with pytest.raises(CheckFailed, match="zero_grad"):
        check.train_step(no_zero_grad)
    with pytest.raises(CheckFailed, match="parameters did not change"):
        check.train_step(no_step)
    with pytest.raises(CheckFailed, match="Python float"):
        check.train_step(returns_tensor)


def test_a_check_needs_a_function():
    with pytest.raises(CheckFailed, match="expected your function, got int"):
        check.linear_forward(3)
