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


def test_lesson_seed_is_offset_by_rnn_course_seed(monkeypatch, capsys):
    monkeypatch.delenv("RNN_COURSE_SEED", raising=False)
    assert settings.lesson_seed(4) == 4, "without RNN_COURSE_SEED the lessons keep their seeds"
    monkeypatch.setenv("RNN_COURSE_SEED", "3")
    assert settings.lesson_seed(4) == 7 and settings.lesson_seed(0) == 3
    settings.setup(seed=1)
    assert capsys.readouterr().out.strip().endswith("| seed 4")
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        settings.lesson_seed(-1)
    monkeypatch.setenv("RNN_COURSE_SEED", "-2")
    with pytest.raises(ValueError, match="RNN_COURSE_SEED is '-2'"):
        settings.lesson_seed(0)


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


@pytest.mark.parametrize("version, warned", [("2.1.2+cpu", True), (settings.TORCH_FLOOR, False)])
def test_setup_warns_in_one_line_on_a_torch_older_than_the_floor(
    monkeypatch, capsys, version, warned
):
    monkeypatch.setattr(torch, "__version__", version)
    settings.setup()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("device: ") and len(lines) == 1 + warned
    if warned:
        assert lines[1].startswith(
            f"warning: torch {version} is older than {settings.TORCH_FLOOR},"
        )
