"""Lessons 07 and 08's package helpers: MNIST's three-way split, fit's learning-rate schedule and
progress bar, the long-memory task and the LSTM cell diagram."""

from __future__ import annotations

from collections import Counter

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from rnn_course import (  # noqa: E402
    data,
    draw_lstm_cell,
    fit,
    long_memory_task,
    mnist_splits,
    training,
)
from rnn_course.errors import InputError  # noqa: E402
from rnn_course.settings import data_root  # noqa: E402

needs_mnist = pytest.mark.skipif(
    not any(
        (data_root() / "MNIST" / "raw" / f"{name}{ext}").exists()
        for name in data.MNIST_FILES
        for ext in ("", ".gz")
    ),
    reason="the MNIST files are not under the data root (set RNN_COURSE_DATA)",
)


@needs_mnist
def test_mnist_splits_holds_out_a_seeded_validation_set(monkeypatch):
    monkeypatch.setenv("RNN_COURSE_QUICK", "1")
    sizes = (5_000, 1_000, 2_000)
    (train, val, test), again = mnist_splits(), mnist_splits(seed=0)
    assert tuple(len(images) for images, _ in (train, val, test)) == sizes
    assert all(torch.equal(a[0], b[0]) for a, b in zip((train, val, test), again))

    # Training and validation sets together hold each of the first 6,000 images once, with its label.
    def keys(images, labels):
        return Counter(
            (image.numpy().tobytes(), int(label)) for image, label in zip(images, labels)
        )

    assert keys(*train) + keys(*val) == keys(*data.load_mnist("train", limit=6_000))
    assert torch.equal(test[0], data.load_mnist("test", limit=2_000)[0])
    other = mnist_splits(seed=1)[1][1]
    assert not torch.equal(other, val[1]), "another seed draws another validation set"
    with pytest.raises(InputError, match="seed must be a non-negative int"):
        mnist_splits(seed=-1)


def _toy():
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(64, 3, generator=generator)
    return inputs, (inputs[:, 0] > 0).long()


def test_fit_steps_the_scheduler_once_per_epoch():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2], gamma=0.1)
    fit(
        model,
        _toy(),
        epochs=3,
        loss_fn=nn.CrossEntropyLoss(),
        optimizer=optimizer,
        scheduler=schedule,
        progress=False,
        verbose=False,
    )
    assert schedule.last_epoch == 3
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-3)


def test_fit_refuses_a_scheduler_of_another_optimizer():
    model = nn.Linear(3, 2)
    other = torch.optim.SGD(model.parameters(), lr=0.1)
    schedule = torch.optim.lr_scheduler.StepLR(other, step_size=1)
    with pytest.raises(InputError, match="scheduler must schedule the optimizer that fit uses"):
        fit(model, _toy(), epochs=1, loss_fn=nn.CrossEntropyLoss(), scheduler=schedule)


@pytest.mark.parametrize(("value", "shown"), [(None, True), ("1", False), ("0", True)])
def test_fit_hides_its_progress_bar_when_tqdm_disable_is_set(monkeypatch, value, shown):
    seen = []

    def fake_tqdm(iterable, **kwargs):
        seen.append(kwargs["disable"])
        return iterable

    monkeypatch.setattr(training, "tqdm", fake_tqdm)
    if value is None:
        monkeypatch.delenv("TQDM_DISABLE", raising=False)
    else:
        monkeypatch.setenv("TQDM_DISABLE", value)
    fit(nn.Linear(3, 2), _toy(), epochs=2, loss_fn=nn.CrossEntropyLoss(), verbose=False)
    assert seen == [not shown] * 2


def test_long_memory_task_shapes_marker_and_labels():
    inputs, labels = long_memory_task(50, distance=7, seed=3)
    assert inputs.shape == (50, 8, 2) and inputs.dtype == torch.float32
    assert labels.shape == (50,) and labels.dtype == torch.int64
    assert torch.equal(inputs[:, 0, 1], torch.ones(50))
    assert torch.equal(inputs[:, 1:, 1], torch.zeros(50, 7))
    assert torch.equal(inputs[:, 0, 0], 2.0 * labels.float() - 1.0)
    assert 0 < labels.sum() < 50


def test_long_memory_task_is_seeded_and_noise_scales():
    first, _ = long_memory_task(20, 5, seed=1)
    again, _ = long_memory_task(20, 5, seed=1)
    other, _ = long_memory_task(20, 5, seed=2)
    assert torch.equal(first, again) and not torch.equal(first, other)
    quiet, _ = long_memory_task(20, 5, noise_std=0.0, seed=1)
    assert torch.equal(quiet[:, 1:], torch.zeros(20, 5, 2))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_sequences": 0, "distance": 3}, "n_sequences must be a positive int"),
        ({"n_sequences": 5, "distance": 2.5}, "distance must be a positive int"),
        ({"n_sequences": 5, "distance": 3, "noise_std": -1.0}, "noise_std must be a number >= 0"),
    ],
)
def test_long_memory_task_validates(kwargs, message):
    with pytest.raises(ValueError, match=message):
        long_memory_task(**kwargs)


def test_draw_lstm_cell_draws_and_validates():
    ax = draw_lstm_cell()
    assert "LSTM" in ax.get_title()
    texts = " ".join(t.get_text() for t in ax.texts)
    for symbol in ("$f_t$", "$i_t$", "$g_t$", "$o_t$", "$c_t$", "$h_t$"):
        assert symbol in texts
    plt.close("all")
    with pytest.raises(TypeError, match="title must be a string"):
        draw_lstm_cell(title=3)
