"""The diagrams draw without error and validate their arguments."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from rnn_course import draw_gru_cell, draw_lstm_cell, draw_rnn_patterns, draw_unrolled_rnn
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


def _texts(ax) -> dict[str, tuple[float, float]]:
    """Each text on `ax` and where it stands."""
    return {t.get_text(): t.get_position() for t in ax.texts}


def test_rnn_patterns_draws_the_five_patterns():
    axes = draw_rnn_patterns()
    titles = [ax.get_title().splitlines()[0] for ax in axes]
    assert titles == [
        "one-to-one",
        "one-to-many",
        "many-to-one",
        "many-to-many, synchronous",
        "many-to-many, encoder–decoder: input and output of different lengths",
    ]
    texts = _texts(axes[-1])
    inputs = [t for t in texts if t.startswith("$x_")]
    outputs = [t for t, (_, y) in texts.items() if t.startswith("$y_") and y > 2]
    assert len(inputs) != len(outputs)  # the encoder-decoder's lengths differ
    assert {"encoder", "decoder"} <= set(texts)
    axes[0].figure.canvas.draw()


def test_lstm_cell_draws_gates_in_the_order_its_caption_states():
    texts = _texts(draw_lstm_cell())
    gates = {t.splitlines()[0]: x for t, (x, _) in texts.items() if re.match(r"\$\w_t\$\n", t)}
    assert sorted(gates, key=gates.get) == ["$f_t$", "$i_t$", "$g_t$", "$o_t$"]
    caption = next(t for t in texts if t.startswith("Drawn in the order"))
    assert "the gates act (f, i, g, o)" in caption
    assert "i, f, g, o: i = rows 0:H, f = H:2H, g = 2H:3H, o = 3H:4H" in caption


def test_gru_cell_draws_gates_and_states():
    ax = draw_gru_cell()
    assert "GRU" in ax.get_title()
    texts = " ".join(_texts(ax))
    for symbol in ("$r_t$", "$z_t$", "$n_t$", "$h_{t-1}$", "$h_t$", "$x_t$", "1−"):
        assert symbol in texts
    assert "r = rows 0:H, z = H:2H, n = 2H:3H" in texts
    ax.figure.canvas.draw()


@pytest.mark.parametrize("draw", [draw_lstm_cell, draw_gru_cell, draw_rnn_patterns])
def test_titles_must_be_strings(draw):
    with pytest.raises(TypeError, match="title must be a string, got int 3"):
        draw(title=3)
