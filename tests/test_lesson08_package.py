"""Lesson 08's package helpers: the long-memory task and the LSTM cell diagram."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnn_course import draw_lstm_cell, long_memory_task  # noqa: E402


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
