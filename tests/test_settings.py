import random

import numpy as np
import pytest
import torch

from rnn_course import settings


def test_quick_mode_follows_the_environment(monkeypatch):
    monkeypatch.setenv("RNN_COURSE_QUICK", "1")
    assert (
        settings.is_quick() and settings.pick(full=10, quick=1) == 1 and settings.mode() == "quick"
    )
    monkeypatch.setenv("RNN_COURSE_QUICK", "0")
    assert not settings.is_quick() and settings.pick(full=10, quick=1) == 10
    monkeypatch.delenv("RNN_COURSE_QUICK")
    assert settings.mode() == "full"


def test_a_bad_quick_value_is_named(monkeypatch):
    monkeypatch.setenv("RNN_COURSE_QUICK", "maybe")
    with pytest.raises(ValueError, match="RNN_COURSE_QUICK is 'maybe'"):
        settings.is_quick()


def test_seed_everything_repeats_every_generator():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    settings.seed_everything(7)
    first = draw()
    settings.seed_everything(7)
    assert draw() == first
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        settings.seed_everything(-1)


def test_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("RNN_COURSE_DATA", str(tmp_path))
    assert settings.data_root() == tmp_path.resolve()
    monkeypatch.delenv("RNN_COURSE_DATA")
    assert settings.data_root() == settings.REPO_ROOT / "data"


def test_setup_prints_one_line(capsys):
    device = settings.setup(seed=3)
    line = capsys.readouterr().out.strip()
    assert isinstance(device, torch.device) and "\n" not in line
    assert line.startswith(f"device: {device} | mode: ") and "torch" in line
