"""The diagrams draw without error and validate their arguments."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from rnn_course import draw_unrolled_rnn
from rnn_course.diagrams import draw_arrow, draw_box


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_draws_unrolled_rnn():
    ax = draw_unrolled_rnn(4)
    assert ax.get_title().startswith("An RNN")
    assert len(ax.patches) > 20  # boxes and arrows
    ax.figure.canvas.draw()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"steps": 1, "folded": False},
        {"steps": 3, "input_steps": [0]},
        {"steps": 3, "output_steps": [2]},
        {"steps": 12, "folded": False},
    ],
)
def test_patterns_draw(kwargs):
    ax = draw_unrolled_rnn(**kwargs)
    ax.figure.canvas.draw()


def test_fewer_outputs_draw_fewer_boxes():
    many = len(draw_unrolled_rnn(3, folded=False).patches)
    one = len(draw_unrolled_rnn(3, folded=False, output_steps=[2]).patches)
    assert one == many - 4  # two boxes and two arrows fewer


def test_draws_on_given_axes():
    _, ax = plt.subplots()
    assert draw_unrolled_rnn(2, ax=ax) is ax


def test_building_blocks():
    _, ax = plt.subplots()
    draw_box(ax, (0, 0), "$c_t$")
    draw_arrow(ax, (0, 0), (1, 1), "label")
    assert len(ax.patches) == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"steps": 0}, ValueError, "steps must be a positive int"),
        ({"steps": 2.5}, ValueError, "steps must be a positive int"),
        ({"steps": 13}, ValueError, "at most 12"),
        (
            {"steps": 3, "input_steps": [3]},
            ValueError,
            "input_steps must hold time steps between 0 and 2",
        ),
        ({"steps": 3, "output_steps": "all"}, TypeError, "output_steps must be a list"),
        ({"steps": 3, "folded": 1}, TypeError, "folded must be True or False"),
    ],
)
def test_validation(kwargs, error, message):
    with pytest.raises(error, match=message):
        draw_unrolled_rnn(**kwargs)
