"""Diagrams of recurrent networks drawn with matplotlib (lessons 03 and 08).

They render the same in JupyterLab, Colab and on GitHub, and `python -m rnn_course assets` draws
the course's figures in assets/ with them. `draw_box` and `draw_arrow` are the building blocks;
`draw_unrolled_rnn` and `draw_rnn_patterns` (lesson 03) draw an RNN unrolled in time and its
input/output patterns; `draw_lstm_cell` and `draw_gru_cell` (lesson 08) draw the gated cells.
Each drawing function draws on `ax` (or a new figure) and returns the Axes it drew on.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from .errors import InputError, InputTypeError
from .validation import check_positive_int, describe

__all__ = [
    "draw_arrow",
    "draw_box",
    "draw_gru_cell",
    "draw_lstm_cell",
    "draw_rnn_patterns",
    "draw_unrolled_rnn",
]

COLORS = {
    "input": "#cfe2f3",
    "hidden": "#fce5cd",
    "decoder": "#e6d9f2",
    "output": "#d9ead3",
    "state": "#eeeeee",
}


def draw_box(ax, center: tuple[float, float], text: str, color: str = "white", size=(0.8, 0.55)):
    """A rounded box with `text` (LaTeX allowed) centred at `center`, in data coordinates."""
    width, height = size
    x, y = center
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.03,rounding_size=0.1",
            facecolor=color,
            edgecolor="black",
            linewidth=1.2,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=12)


def draw_arrow(
    ax,
    start: tuple[float, float],
    end: tuple[float, float],
    label: str = "",
    *,
    label_offset: tuple[float, float] = (0.12, 0.0),
    connectionstyle: str = "arc3",
    color: str = "black",
):
    """An arrow from `start` to `end` with an optional `label` near its middle."""
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=14,
            linewidth=1.2,
            color=color,
            connectionstyle=connectionstyle,
            shrinkA=0,
            shrinkB=0,
        )
    )
    if label:
        middle = (
            (start[0] + end[0]) / 2 + label_offset[0],
            (start[1] + end[1]) / 2 + label_offset[1],
        )
        ax.text(*middle, label, ha="left", va="center", fontsize=10, color="dimgray")


def _steps(name: str, value, steps: int) -> list[int]:
    if value is None:
        return list(range(steps))
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InputTypeError(f"{name} must be a list of time steps or None, got {describe(value)}")
    chosen = list(value)
    for step in chosen:
        if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step < steps:
            raise InputError(
                f"{name} must hold time steps between 0 and {steps - 1} (steps={steps}), "
                f"got {value!r}"
            )
    return sorted(set(chosen))


def draw_unrolled_rnn(
    steps: int = 4,
    *,
    input_steps: Sequence[int] | None = None,
    output_steps: Sequence[int] | None = None,
    folded: bool = True,
    title: str = "An RNN folded (left) and unrolled in time (right)",
    ax=None,
):
    """The RNN $h_t = \\tanh(W_{xh}x_t + W_{hh}h_{t-1} + b_h)$, $y_t = W_{hy}h_t + b_y$ (lesson 03).

    Draws `steps` copies of the cell, one per time step t = 1..steps, sharing the same weights.
    `input_steps` and `output_steps` (0-based indices, default: every step) choose which steps
    read an input x_t and emit an output y_t, which draws the four patterns: one-to-one
    (steps=1), one-to-many (input_steps=[0]), many-to-one (output_steps=[steps - 1]) and
    many-to-many (the default). `folded` adds the folded cell with its loop on the left.
    Returns the Axes.
    """
    check_positive_int("steps", steps)
    if steps > 12:
        raise InputError(f"steps must be at most 12 to stay readable, got {steps}")
    inputs = _steps("input_steps", input_steps, steps)
    outputs = _steps("output_steps", output_steps, steps)
    if not isinstance(folded, bool):
        raise InputTypeError(f"folded must be True or False, got {describe(folded)}")

    offset = 2.7 if folded else 0.0
    width = offset + 1.8 * steps + 1.0
    if ax is None:
        _, ax = plt.subplots(figsize=(min(1.25 * width, 16), 3.6))

    if folded:
        draw_box(ax, (0.6, 0), "$x_t$", COLORS["input"])
        draw_box(ax, (0.6, 1.4), "$h_t$", COLORS["hidden"])
        draw_box(ax, (0.6, 2.8), "$y_t$", COLORS["output"])
        draw_arrow(ax, (0.6, 0.28), (0.6, 1.12), "$W_{xh}$")
        draw_arrow(ax, (0.6, 1.68), (0.6, 2.52), "$W_{hy}$")
        draw_arrow(
            ax,
            (1.0, 1.55),
            (1.0, 1.25),
            connectionstyle="arc,angleA=0,armA=30,angleB=0,armB=30,rad=8",
        )
        ax.text(1.62, 1.4, "$W_{hh}$", ha="left", va="center", fontsize=10, color="dimgray")
        ax.text(2.3, 1.4, "=", ha="center", va="center", fontsize=20)

    draw_box(ax, (offset + 0.5, 1.4), "$h_0$", COLORS["state"], size=(0.6, 0.55))
    previous = (offset + 0.8, 1.4)
    for step in range(steps):
        x = offset + 0.4 + 1.8 * (step + 1)
        draw_box(ax, (x, 1.4), f"$h_{{{step + 1}}}$", COLORS["hidden"])
        draw_arrow(ax, previous, (x - 0.4, 1.4))
        ax.text(
            (previous[0] + x - 0.4) / 2, 1.62, "$W_{hh}$", ha="center", fontsize=9, color="dimgray"
        )
        if step in inputs:
            draw_box(ax, (x, 0), f"$x_{{{step + 1}}}$", COLORS["input"])
            draw_arrow(ax, (x, 0.28), (x, 1.12), "$W_{xh}$")
        if step in outputs:
            draw_box(ax, (x, 2.8), f"$y_{{{step + 1}}}$", COLORS["output"])
            draw_arrow(ax, (x, 1.68), (x, 2.52), "$W_{hy}$")
        previous = (x + 0.4, 1.4)

    ax.set_xlim(-0.1, width)
    ax.set_ylim(-0.5, 3.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)
    return ax


def _draw_operation(ax, center: tuple[float, float], symbol: str, radius: float = 0.2) -> None:
    """A small circle with an operation symbol (x, +) in it, at `center`."""
    ax.add_patch(Circle(center, radius, facecolor="white", edgecolor="black", linewidth=1.2))
    ax.text(*center, symbol, ha="center", va="center", fontsize=13 if len(symbol) == 1 else 10)


def _check_title(title) -> None:
    if not isinstance(title, str):
        raise InputTypeError(f"title must be a string, got {describe(title)}")


def _draw_cell_frame(ax, width: float, caption: str) -> None:
    """The dashed outline of a cell (x from 0.6, y from -0.35 to 3.5) and a caption below it."""
    ax.add_patch(
        FancyBboxPatch(
            (0.6, -0.35),
            width,
            3.85,
            boxstyle="round,pad=0.05,rounding_size=0.2",
            facecolor="#fafafa",
            edgecolor="gray",
            linestyle="--",
        )
    )
    ax.text(-0.7, -1.85, caption, ha="left", va="center", fontsize=9, color="dimgray")


def _draw_gates(ax, gates, gate_y: float, bus_y: float) -> None:
    """Gate boxes at (x, gate_y), each fed from the bus line at bus_y and named below."""
    for x, text, name in gates:
        draw_box(ax, (x, gate_y), text, COLORS["hidden"], size=(0.75, 0.7))
        draw_arrow(ax, (x, bus_y), (x, gate_y - 0.35))
        ax.text(x + 0.08, gate_y - 0.62, name, ha="left", fontsize=7, color="dimgray")


def _finish(ax, xlim, ylim, title: str):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)
    return ax


def draw_lstm_cell(title: str = "An LSTM cell", ax=None):
    """One LSTM cell with its gates, the cell state $c_t$ and the hidden state $h_t$ (lesson 08).

    Draws $f_t, i_t, o_t = \\sigma(\\cdot)$ and $g_t = \\tanh(\\cdot)$, each computed from $x_t$
    and $h_{t-1}$; the cell state line $c_t = f_t \\odot c_{t-1} + i_t \\odot g_t$ along the
    top; and $h_t = o_t \\odot \\tanh(c_t)$ on the right. The gates stand in the order they act
    on the cell state (f, i, g, o); the caption gives PyTorch's order of their rows in
    `weight_ih_l0` (i, f, g, o). Returns the Axes.
    """
    _check_title(title)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5.2))
    cell_y, gate_y, bus_y = 3.0, 1.0, 0.0
    _draw_cell_frame(
        ax,
        6.1,
        "Drawn in the order the gates act (f, i, g, o). PyTorch stacks their rows in weight_ih_l0\n"
        "in the order i, f, g, o: i = rows 0:H, f = H:2H, g = 2H:3H, o = 3H:4H (H = hidden size).",
    )
    # The cell state line: c_{t-1} -> x f_t -> + i_t g_t -> c_t.
    draw_box(ax, (-0.2, cell_y), "$c_{t-1}$", COLORS["state"])
    draw_box(ax, (7.6, cell_y), "$c_t$", COLORS["state"])
    _draw_operation(ax, (1.6, cell_y), "×")
    _draw_operation(ax, (3.3, cell_y), "+")
    draw_arrow(ax, (0.2, cell_y), (1.4, cell_y))
    draw_arrow(ax, (1.8, cell_y), (3.1, cell_y))
    draw_arrow(ax, (3.5, cell_y), (7.2, cell_y))
    ax.text(3.7, cell_y + 0.2, "cell state", fontsize=9, color="dimgray")
    # The four gates, fed by h_{t-1} and x_t.
    draw_box(ax, (-0.2, bus_y), "$h_{t-1}$", COLORS["hidden"])
    draw_box(ax, (1.0, -1.1), "$x_t$", COLORS["input"])
    ax.plot([0.2, 5.0], [bus_y, bus_y], color="black", linewidth=1.2)
    ax.plot([1.0, 1.0], [-0.82, bus_y], color="black", linewidth=1.2)
    _draw_gates(
        ax,
        [
            (1.6, "$f_t$\n$\\sigma$", "forget"),
            (2.7, "$i_t$\n$\\sigma$", "input"),
            (3.9, "$g_t$\ntanh", "candidate"),
            (5.0, "$o_t$\n$\\sigma$", "output"),
        ],
        gate_y,
        bus_y,
    )
    draw_arrow(ax, (1.6, gate_y + 0.35), (1.6, cell_y - 0.2))
    _draw_operation(ax, (3.3, 2.1), "×")
    draw_arrow(ax, (2.7, gate_y + 0.35), (3.15, 1.97))
    draw_arrow(ax, (3.9, gate_y + 0.35), (3.45, 1.97))
    draw_arrow(ax, (3.3, 2.3), (3.3, cell_y - 0.2))
    # The output: h_t = o_t * tanh(c_t).
    draw_box(ax, (6.1, 2.1), "tanh", COLORS["state"], size=(0.7, 0.45))
    draw_arrow(ax, (6.1, cell_y), (6.1, 2.33))
    _draw_operation(ax, (6.1, gate_y), "×")
    draw_arrow(ax, (6.1, 1.87), (6.1, gate_y + 0.2))
    draw_arrow(ax, (5.375, gate_y), (5.9, gate_y))
    draw_box(ax, (7.6, gate_y), "$h_t$", COLORS["hidden"])
    draw_arrow(ax, (6.3, gate_y), (7.2, gate_y))
    return _finish(ax, (-0.8, 8.2), (-2.2, 3.7), title)


def draw_gru_cell(title: str = "A GRU cell", ax=None):
    """One GRU cell in PyTorch's form, with its reset and update gates (lesson 08).

    Draws $r_t, z_t = \\sigma(\\cdot)$ from $x_t$ and $h_{t-1}$; the candidate
    $n_t = \\tanh(W_{in}x_t + b_{in} + r_t \\odot (W_{hn}h_{t-1} + b_{hn}))$, which the reset gate
    feeds; and $h_t = (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}$ along the top. The caption gives
    PyTorch's order of the rows in `weight_ih_l0` (r, z, n). Returns the Axes.
    """
    _check_title(title)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5.2))
    state_y, gate_y, bus_y = 3.0, 1.0, 0.0
    _draw_cell_frame(
        ax,
        4.2,
        "PyTorch stacks the rows of weight_ih_l0 in the order r, z, n:\n"
        "r = rows 0:H, z = H:2H, n = 2H:3H (H = hidden size).",
    )
    # The state line: h_{t-1} -> x z_t -> + (1 - z_t) n_t -> h_t.
    draw_box(ax, (-0.2, state_y), "$h_{t-1}$", COLORS["hidden"])
    draw_box(ax, (6.0, state_y), "$h_t$", COLORS["hidden"])
    _draw_operation(ax, (1.6, state_y), "×")
    _draw_operation(ax, (4.0, state_y), "+")
    draw_arrow(ax, (0.2, state_y), (1.4, state_y))
    draw_arrow(ax, (1.8, state_y), (3.8, state_y))
    draw_arrow(ax, (4.2, state_y), (5.6, state_y))
    # The gates, fed by h_{t-1} (brought down from the state line) and x_t.
    draw_box(ax, (1.0, -1.1), "$x_t$", COLORS["input"])
    ax.plot([0.35, 0.35, 4.0], [state_y, bus_y, bus_y], color="black", linewidth=1.2)
    ax.plot([1.0, 1.0], [-0.82, bus_y], color="black", linewidth=1.2)
    _draw_gates(
        ax,
        [
            (1.6, "$z_t$\n$\\sigma$", "update"),
            (2.8, "$r_t$\n$\\sigma$", "reset"),
            (4.0, "$n_t$\ntanh", "candidate"),
        ],
        gate_y,
        bus_y,
    )
    draw_arrow(ax, (3.175, gate_y), (3.625, gate_y))  # r_t scales the h_{t-1} part of n_t
    # z_t keeps the old state; 1 - z_t lets the candidate in.
    draw_arrow(ax, (1.6, gate_y + 0.35), (1.6, state_y - 0.2))
    _draw_operation(ax, (2.8, 2.1), "1−", radius=0.22)
    _draw_operation(ax, (4.0, 2.1), "×")
    ax.plot([1.6, 2.58], [2.1, 2.1], color="black", linewidth=1.2)
    draw_arrow(ax, (3.02, 2.1), (3.8, 2.1))
    draw_arrow(ax, (4.0, gate_y + 0.35), (4.0, 1.9))
    draw_arrow(ax, (4.0, 2.3), (4.0, state_y - 0.2))
    return _finish(ax, (-0.8, 6.6), (-2.2, 3.7), title)


def _draw_encoder_decoder(ax, source: int = 3, target: int = 2) -> None:
    """An encoder reading `source` inputs, then a decoder writing `target` outputs, on `ax`."""
    draw_box(ax, (0.5, 1.4), "$h_0$", COLORS["state"], size=(0.6, 0.55))
    previous = (0.8, 1.4)
    for step in range(source + target):
        x = 2.2 + 1.8 * step
        decoding = step >= source
        if decoding:
            label = f"$s_{{{step - source + 1}}}$"
            feed = "$y_{" + str(step - source) + "}$" if step > source else "<s>"
        else:
            label, feed = f"$h_{{{step + 1}}}$", f"$x_{{{step + 1}}}$"
        draw_box(ax, (x, 1.4), label, COLORS["decoder" if decoding else "hidden"])
        draw_arrow(ax, previous, (x - 0.4, 1.4))
        draw_box(ax, (x, 0), feed, COLORS["output" if step > source else "input"])
        draw_arrow(ax, (x, 0.28), (x, 1.12))
        if decoding:
            draw_box(ax, (x, 2.8), f"$y_{{{step - source + 1}}}$", COLORS["output"])
            draw_arrow(ax, (x, 1.68), (x, 2.52))
        previous = (x + 0.4, 1.4)
    middle = 2.2 + 1.8 * (source - 0.5)
    ax.plot([middle, middle], [-0.5, 3.3], color="gray", linestyle="--", linewidth=1)
    ax.text(middle - 0.1, 3.15, "encoder", ha="right", fontsize=10)
    ax.text(middle + 0.1, 3.15, "decoder", ha="left", fontsize=10)
    ax.text(middle, 1.65, "context", ha="center", fontsize=8, color="dimgray")
    _finish(ax, (-0.1, 2.2 + 1.8 * (source + target - 1) + 0.6), (-0.5, 3.5), "")


def draw_rnn_patterns(title: str = "What an RNN reads and writes"):
    """The five input/output patterns of an RNN in one figure (lesson 03).

    One-to-one, one-to-many, many-to-one, synchronous many-to-many (each drawn with
    `draw_unrolled_rnn`), and an encoder–decoder whose input and output differ in length, as in
    machine translation (lesson 10). Returns the five Axes, in that order.
    """
    _check_title(title)
    figure = plt.figure(figsize=(15, 7.2), layout="constrained")
    top, bottom = figure.subfigures(2, 1)
    panels = [
        ({"steps": 1}, "one-to-one\n(no sequence: lesson 01)"),
        ({"steps": 3, "input_steps": [0]}, "one-to-many\n(one input, a sequence out: a caption)"),
        (
            {"steps": 3, "output_steps": [2]},
            "many-to-one\n(one output for a sequence: lessons 06, 07)",
        ),
        ({"steps": 3}, "many-to-many, synchronous\n(an output at every step: lesson 09)"),
    ]
    # Width ratios are the panels' widths in data units, so that every box has the same size.
    top_axes = top.subplots(1, 3, gridspec_kw={"width_ratios": [2.9, 6.5, 6.5]})
    bottom_axes = bottom.subplots(1, 2, gridspec_kw={"width_ratios": [6.5, 10.1]})
    axes = [*top_axes, bottom_axes[0]]
    for ax, (kwargs, label) in zip(axes, panels):
        draw_unrolled_rnn(**kwargs, folded=False, title=label, ax=ax)
    ax = bottom_axes[1]
    _draw_encoder_decoder(ax)
    ax.set_title(
        "many-to-many, encoder–decoder: input and output of different lengths\n"
        "(machine translation; lesson 10 reads a date and writes it in ISO form)"
    )
    axes.append(ax)
    figure.suptitle(title, fontsize=14)
    return axes
