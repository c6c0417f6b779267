"""`assets`: draw the course's figures in assets/ with the package's own drawing code.

`python -m rnn_course assets` writes one SVG per figure in `FIGURES`: the course map, the
diagrams the lessons draw (`rnn_course.diagrams`) and the results chart, redrawn from the
results that `run-all --inplace` stamps into each committed notebook. Nothing else is written.

The SVGs are deterministic: no date, fixed ids (`svg.hashsalt`), matplotlib's default style
whatever the local matplotlibrc says. No PNG is made: the README shows the SVGs through relative
paths, which GitHub and JupyterLab render, and the lessons draw their diagrams with the same
functions rather than embedding a file (a lesson that ever embeds one needs an absolute URL to
work in Colab: raw.githubusercontent.com/OWNER/NAME/main/assets/NAME.svg). So only SVGs need to
stay current.

The same figure drawn by two matplotlib releases differs in its bytes, so each SVG carries the
matplotlib version that drew it and a fingerprint of what it was drawn from (the drawing code and
the figure's data). `stale` compares the bytes when the versions agree and the fingerprints when
they do not, so that the staleness test holds on every matplotlib the course supports.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import matplotlib
import matplotlib.pyplot as plt
import nbformat
from matplotlib.patches import FancyBboxPatch, Rectangle

from .. import diagrams
from ..diagrams import COLORS, draw_arrow
from ..settings import REPO_ROOT
from .notebook import STAMP_KEY, code_hash
from .runner import NOTEBOOKS_DIR, RESULTS_DIR, device_of, lessons

ASSETS_DIR = REPO_ROOT / "assets"
COMMAND = "python -m rnn_course assets"
RIGHTS = "CC BY 4.0, the RNN course authors (see README.md, Licence)"


class Lesson(NamedTuple):
    number: str
    title: str
    builds_on: tuple[str, ...]
    part: str


PARTS = {"before RNNs": COLORS["input"], "the plain RNN": COLORS["hidden"]}
PARTS |= {"gates and beyond": COLORS["decoder"]}

# The course map: every lesson, what it builds on, and where it stands (column, row).
LESSONS = (
    Lesson("01", "Fully connected layers and an MLP", (), "before RNNs"),
    Lesson("02", "Sequences and time series", (), "before RNNs"),
    Lesson("03", "The maths of RNNs", ("01",), "the plain RNN"),
    Lesson("04", "An RNN built by hand", ("03",), "the plain RNN"),
    Lesson("05", "PyTorch's nn.RNN", ("04",), "the plain RNN"),
    Lesson("06", "Forecasting a sine wave, air passengers", ("02", "05"), "the plain RNN"),
    Lesson("07", "Reading MNIST row by row", ("01", "05"), "the plain RNN"),
    Lesson("08", "The LSTM and the GRU", ("03", "07"), "gates and beyond"),
    Lesson("09", "A character-level language model", ("05", "08"), "gates and beyond"),
    Lesson("10", "Encoder–decoder and attention", ("08", "09"), "gates and beyond"),
)
POSITIONS = {"02": (0, 0), "06": (3, 0), "01": (0, 1), "03": (1, 1), "04": (2, 1)}
POSITIONS |= {"05": (3, 1), "07": (4, 1), "08": (4, 2), "09": (3, 2), "10": (2, 2)}


class Measure(NamedTuple):
    label: str
    lesson: str
    result: str  # the name the lesson passes to `record`


class Headline(NamedTuple):
    lesson: str
    title: str
    axis: str
    scale: float  # multiplies the recorded value (100 turns a fraction into a percentage)
    fmt: str
    higher_is_better: bool
    target: float | None
    measures: tuple[Measure, ...]  # the lesson's own model first, then its baselines


# The results chart: each lesson's headline figure beside its baselines and its target (the
# targets are COURSE.md's). Rename a result here when a lesson renames it.
ACCURACY = ("test accuracy (%)", 100.0, "{:.2f}%", True)
HEADLINES = (
    Headline("01", "MLP on MNIST", *ACCURACY, 97.0, (Measure("MLP", "01", "mlp_test_accuracy"),)),
    Headline(
        "06",
        "Airline passengers, 1959–1960",
        "RMSE (thousand passengers)",
        1.0,
        "{:.1f}",
        False,
        None,
        (
            Measure("RNN", "06", "airline_rnn_rmse"),
            Measure("seasonal naive", "06", "airline_seasonal_naive_rmse"),
            Measure("naive", "06", "airline_naive_rmse"),
        ),
    ),
    Headline(
        "07",
        "RNN on MNIST, row by row",
        *ACCURACY,
        97.0,
        (
            Measure("RNN", "07", "rnn_test_accuracy"),
            Measure("MLP, same data", "07", "mlp_test_accuracy"),
        ),
    ),
    Headline(
        "08",
        "LSTM on MNIST, row by row",
        *ACCURACY,
        98.5,
        (
            Measure("LSTM", "08", "mnist_lstm_test_accuracy"),
            Measure("GRU", "08", "mnist_gru_test_accuracy"),
            Measure("RNN, same recipe", "08", "mnist_rnn_test_accuracy"),
        ),
    ),
    Headline(
        "09",
        "Character-level language model",
        "validation nats per character",
        1.0,
        "{:.2f}",
        False,
        1.48,
        (
            Measure("LSTM", "09", "val_nats_per_char"),
            Measure("best n-gram (Kneser–Ney)", "09", "kneser_ney_nats_per_char"),
        ),
    ),
    Headline(
        "10",
        "Dates to ISO dates, held out",
        "exact match (%)",
        100.0,
        "{:.2f}%",
        True,
        99.5,
        (
            Measure("with attention, single dates", "10", "exact_match_short_with_attention"),
            Measure("without, single dates", "10", "exact_match_short_without_attention"),
            Measure("with attention, ranges", "10", "exact_match_ranges_with_attention"),
            Measure("without, ranges", "10", "exact_match_ranges_without_attention"),
        ),
    ),
)


class TableRow(NamedTuple):
    lesson: str
    shows: str  # a str.format template over the lesson's recorded results, e.g. {rnn_test_accuracy:.2%}
    target: str


# The README's results table, one row per lesson, filled from the same stamps as the chart.
# Rename a field here when a lesson renames a result.
RESULTS_TABLE = (
    TableRow(
        "01",
        "MLP on MNIST: test accuracy {mlp_test_accuracy:.2%}, {mlp_parameters:,} parameters, "
        "{mlp_train_seconds:.1f} s of training",
        ">= 97%",
    ),
    TableRow(
        "02",
        "airline, last 24 months: naive RMSE {naive_rmse:.1f} (MAPE {naive_mape:.1f}%), seasonal "
        "naive RMSE {seasonal_naive_rmse:.1f} (MAPE {seasonal_naive_mape:.1f}%)",
        "",
    ),
    TableRow(
        "03",
        "gradient norm carried 39 steps back (tanh): x{tanh_gradient_ratio_radius_0_5:.1e} at "
        "spectral radius 0.5, x{tanh_gradient_ratio_radius_2_0:.0f} at 2.0; with clipping, final "
        "loss {clipped_final_loss:.3f} (mean of 5 seeds; without clipping, every seed's loss blows up)",
        "",
    ),
    TableRow(
        "04",
        "BPTT by hand vs autograd: {bptt_max_abs_diff:.1e} (float64); hand-built RNN vs "
        "`nn.RNN`: {nn_rnn_max_abs_diff:.1e}; the hand-built RNN on the sign of a sum: test "
        "accuracy {hand_rnn_test_accuracy:.2%}; its loop takes {hand_vs_nn_rnn_time_ratio:.2f}x "
        "`nn.RNN`'s time",
        "<= 1e-10, <= 1e-6",
    ),
    TableRow(
        "05",
        "equations vs `nn.RNN` from its named parameters: {equations_vs_nn_rnn_max_abs_diff:.1e}; "
        "truncated BPTT over a long sequence, final mean loss {truncated_bptt_final_loss:.4f}; "
        "`output[:, -1]` of a padded batch off by up to {padded_last_step_max_error:.2f}",
        "<= 1e-6",
    ),
    TableRow(
        "06",
        "clean sine: one-step test MSE {sine_test_mse:.1e} after {sine_training_seconds:.1f} s of "
        "training; noisy sine: {noisy_sine_mse_over_floor:.2f}x the noise floor, 50 steps ahead "
        "RMSE {recursive_rmse_h50:.2f} recursive (always 0: {zero_forecast_rmse_h50:.2f}), "
        "{recursive_finished_rmse_h50:.2f} after L-BFGS, {direct_rmse_h50:.2f} direct; airline, "
        "last 24 months: RNN (5 seeds averaged) RMSE {airline_rnn_rmse:.1f} (MAPE "
        "{airline_rnn_mape:.1f}%) vs naive {airline_naive_rmse:.1f} ({airline_naive_mape:.1f}%) "
        "and seasonal naive {airline_seasonal_naive_rmse:.1f} ({airline_seasonal_naive_mape:.1f}%)",
        "MSE <= 3.7e-6 in < 4 s",
    ),
    TableRow(
        "07",
        "RNN (tanh) row by row: test accuracy {rnn_test_accuracy:.2%} (validation "
        "{rnn_val_accuracy:.2%}), {rnn_seconds_per_epoch:.1f} s per epoch; an MLP on the same "
        "55,000 training images: {mlp_test_accuracy:.2%}; linear probes on the state, mean "
        "P(right class) after row 14 {probe_p_right_row_14:.2f}, after row 28 "
        "{probe_p_right_row_28:.2f}",
        ">= 97%",
    ),
    TableRow(
        "08",
        "row-by-row MNIST, one recipe for all three: LSTM {mnist_lstm_test_accuracy:.2%} "
        "({mnist_lstm_seconds_per_epoch:.1f} s per epoch), GRU {mnist_gru_test_accuracy:.2%} "
        "({mnist_gru_seconds_per_epoch:.1f} s), RNN {mnist_rnn_test_accuracy:.2%} "
        "({mnist_rnn_seconds_per_epoch:.1f} s); at equal time ({equal_time_budget:.0f} s; the "
        "slowest epoch took {equal_time_cost_ratio:.2f}x the fastest's), "
        "validation LSTM {mnist_lstm_val_accuracy_at_equal_time:.2%}, GRU "
        "{mnist_gru_val_accuracy_at_equal_time:.2%}, RNN {mnist_rnn_val_accuracy_at_equal_time:.2%}; "
        "long-memory task at distance {memory_longest_distance}, share of {memory_seeds} seeds "
        "reaching 90%: LSTM with forget bias 3 {memory_lstm_share_longest:.0%}, default LSTM "
        "{memory_lstm_default_share_longest:.0%}, RNN {memory_rnn_share_longest:.0%}; hand-built "
        "LSTM vs `nn.LSTM`: "
        "{lstm_output_max_diff:.1e}",
        ">= 98.5%",
    ),
    TableRow(
        "09",
        "LSTM language model, {train_seconds:.0f} s of training: validation "
        "{val_nats_per_char:.3f} nats per character ({val_bits_per_char:.2f} bits, perplexity "
        "{val_perplexity:.2f}) vs Kneser–Ney n-gram {kneser_ney_nats_per_char:.2f} (add-½ "
        "{add_half_nats_per_char:.2f}), bigram "
        "{bigram_nats_per_char:.2f}, unigram {unigram_nats_per_char:.2f}, uniform "
        "{uniform_nats_per_char:.2f}; {known_word_fraction:.0%} of the words it writes occur in "
        "the training text",
        "<= 1.48 nats, 0.05 below Kneser–Ney",
    ),
    TableRow(
        "10",
        "held-out dates to ISO dates, exact match with attention (the model kept by validation "
        "loss) / context at every step / first state only: single dates in short styles "
        "{exact_match_short_with_attention:.2%} / {exact_match_short_context_every_step:.1%} / "
        "{exact_match_short_without_attention:.1%}, in long styles "
        "{exact_match_long_with_attention:.2%} / {exact_match_long_context_every_step:.1%} / "
        "{exact_match_long_without_attention:.1%}, ranges of two dates "
        "{exact_match_ranges_with_attention:.1%} / {exact_match_ranges_context_every_step:.1%} / "
        "{exact_match_ranges_without_attention:.1%}; validation dates beside ranges with no "
        "padding mask: dot product {exact_match_valid_no_masks_dot_product_attention:.1%}, "
        "additive {exact_match_valid_no_masks_additive_attention:.1%}",
        ">= 99.5% on every style",
    ),
)
README = REPO_ROOT / "README.md"
TABLE_BEGIN = (
    "<!-- results table: written by `python -m rnn_course assets` from the run-all stamps -->"
)
TABLE_END = "<!-- end of the results table -->"


# The README's results table has one column per device, each from that device's run-all stamps.
DEVICES = (("cpu", "CPU"), ("cuda", "GPU"))
NOT_MEASURED = "not yet measured"


def device_stamps(
    folder: Path = NOTEBOOKS_DIR, results_dir: Path = RESULTS_DIR
) -> dict[str, dict[str, dict]]:
    """device -> lesson number -> full-mode run-all stamp, from the notebooks and `results_dir`.

    A notebook's own stamp counts for the device it ran on; `results_dir`/DEVICE.json (written by
    `run-all --device-file`) adds the lessons of other devices. Raises ValueError when a notebook
    has no full-mode stamp.
    """
    found: dict[str, dict[str, dict]] = {}
    hashes = {}
    for path in lessons(folder):
        notebook = nbformat.read(path, as_version=4)
        stamp = notebook.metadata.get(STAMP_KEY) or {}
        if stamp.get("mode") != "full":
            raise ValueError(
                f"{path.name} has no full-mode results: run `python -m rnn_course run-all "
                f"--inplace {path.stem[:2]}`"
            )
        hashes[path.stem[:2]] = code_hash(notebook)
        found.setdefault(device_of(stamp), {})[path.stem[:2]] = stamp | {
            "current": stamp.get("code_hash") == hashes[path.stem[:2]]
        }
    for file in sorted(Path(results_dir).glob("*.json")):
        for report in json.loads(file.read_text()).values():
            number = report["lesson"][:2]
            ran_on = found.setdefault(device_of(report), {})
            if number in hashes and number not in ran_on:
                ran_on[number] = report | {"current": report.get("code_hash") == hashes[number]}
    return found


def results_table(
    folder: Path = NOTEBOOKS_DIR,
    table: tuple[TableRow, ...] = RESULTS_TABLE,
    results_dir: Path = RESULTS_DIR,
) -> str:
    """The README's results table (Markdown): one column per device of `DEVICES`, from the stamps.

    Raises ValueError when a lesson of `table` has no notebook, a notebook has no full-mode stamp,
    or a stamp lacks a result its row names.
    """
    numbers = {path.stem[:2] for path in lessons(folder)}
    for row in table:
        if row.lesson not in numbers:
            raise ValueError(f"no notebook {Path(folder).name}/{row.lesson}_*.ipynb for the table")
    stamps = device_stamps(folder, results_dir)
    rows = [
        "| lesson | target | " + " | ".join(f"{name}, full mode" for _, name in DEVICES) + " |",
        "|---|---|" + "---|" * len(DEVICES),
    ]
    for row in table:
        cells = []
        for device, _ in DEVICES:
            stamp = stamps.get(device, {}).get(row.lesson)
            cells.append(_table_cell(row, stamp) if stamp else NOT_MEASURED)
        rows.append(f"| {row.lesson} | {row.target} | " + " | ".join(cells) + " |")
    intro = []
    for device, name in DEVICES:
        runs: dict[str, list[str]] = {}
        for number, stamp in sorted(stamps.get(device, {}).items()):
            if any(row.lesson == number for row in table):
                run = f"{stamp.get('date', 'an unknown date')}, {_environment(stamp)}"
                runs.setdefault(run, []).append(number)
        where = "; ".join(
            f"{run} (lesson{'s' if len(found) > 1 else ''} {', '.join(found)})"
            if len(runs) > 1
            else run
            for run, found in runs.items()
        )
        intro.append(
            f"- {name}: {where}."
            if runs
            else f"- {name}: {NOT_MEASURED} (`run-all --device-file` "
            f"on such a machine writes `results/{device}.json`; commit it)."
        )
    head = (
        "Each column comes from `python -m rnn_course run-all` in full mode on one device: the "
        "committed notebooks carry the outputs of their own run (`--inplace`), `results/DEVICE.json` "
        f"those of other devices (`--device-file`); `{COMMAND}` writes this table from them. "
        "A cell marked (older code) was measured before the lesson's code last changed."
    )
    return "\n".join([head, "", *intro, "", *rows])


def _table_cell(row: TableRow, stamp: dict) -> str:
    """One device's cell of a row: wall time and the row's text filled from the stamp's results."""
    values = {name: item["value"] for name, item in stamp["results"].items()}
    fields = {field for _, field, _, _ in string.Formatter().parse(row.shows) if field}
    missing = sorted(fields - set(values))
    if missing:
        raise ValueError(
            f"lesson {row.lesson}'s {device_of(stamp) or 'unknown-device'} run recorded no "
            f"{', '.join(missing)} (it has {', '.join(values)}): rename the field in RESULTS_TABLE "
            "in rnn_course/tools/assets.py"
        )
    older = "" if stamp["current"] else " (older code)"
    return f"{stamp['wall_time_s']:.0f} s{older}: {row.shows.format(**values)}"


def _environment(stamp: dict) -> str:
    """'device cpu (2 CPU cores), python 3.11.9, torch 2.14.1' from a run-all stamp."""
    parts = {}
    for part in stamp.get("setup", "").split("|"):
        key, _, value = part.strip().partition(" ")
        parts[key.rstrip(":")] = value
    found = [f"{key} {parts[key]}" for key in ("device", "python", "torch") if parts.get(key)]
    if found and stamp.get("cpus"):
        found[0] += f" ({stamp['cpus']} CPU cores)"
    return ", ".join(found) or "an unrecorded environment"


def write_readme_table(
    readme: Path = README,
    folder: Path = NOTEBOOKS_DIR,
    table: tuple[TableRow, ...] = RESULTS_TABLE,
    results_dir: Path = RESULTS_DIR,
) -> bool:
    """Put `results_table` between the README's table markers; return True when it changed."""
    text = Path(readme).read_text(encoding="utf-8")
    before, begin, rest = text.partition(TABLE_BEGIN)
    old, end, after = rest.partition(TABLE_END)
    if not begin or not end:
        raise ValueError(f"{readme} lacks the lines {TABLE_BEGIN!r} and {TABLE_END!r}")
    new = f"\n{results_table(folder, table, results_dir)}\n"
    if new == old:
        return False
    Path(readme).write_text(before + begin + new + end + after, encoding="utf-8")
    return True


def _wrap(text: str, width: int = 20) -> str:
    return "\n".join(textwrap.wrap(text, width))


def draw_course_map():
    """The lessons as boxes, an arrow from each to the next one to take. Returns the Figure."""
    numbers = {lesson.number for lesson in LESSONS}
    for lesson in LESSONS:
        unknown = set(lesson.builds_on) - numbers
        if unknown or lesson.number not in POSITIONS:
            raise ValueError(f"lesson {lesson.number}: no position or unknown lessons {unknown}")
    figure, ax = plt.subplots(figsize=(12, 5))
    step_x, step_y, width, height = 3.4, 2.0, 2.8, 1.5

    def centre(number: str) -> tuple[float, float]:
        column, row = POSITIONS[number]
        return column * step_x, -row * step_y

    for lesson in LESSONS:
        x, y = centre(lesson.number)
        ax.add_patch(
            FancyBboxPatch(
                (x - width / 2, y - height / 2),
                width,
                height,
                boxstyle="round,pad=0.02,rounding_size=0.15",
                facecolor=PARTS[lesson.part],
                edgecolor="black",
                linewidth=1.2,
            )
        )
        ax.text(x, y + 0.5, f"Lesson {lesson.number}", ha="center", va="center", weight="bold")
        ax.text(x, y + 0.05, _wrap(lesson.title), ha="center", va="center", fontsize=8.5)
        needs = ", ".join(lesson.builds_on) if lesson.builds_on else "start here"
        label = f"builds on {needs}" if lesson.builds_on else needs
        ax.text(x, y - 0.5, label, ha="center", va="center", fontsize=8, color="dimgray")
    for lesson in LESSONS:
        for earlier in _direct(lesson):
            (x0, y0), (x1, y1) = centre(earlier), centre(lesson.number)
            dx, dy = x1 - x0, y1 - y0
            # Leave each box from the side that faces the other one.
            if abs(dx) * height >= abs(dy) * width:
                start = (x0 + width / 2 * (1 if dx > 0 else -1), y0)
                end = (x1 - width / 2 * (1 if dx > 0 else -1), y1)
            else:
                start = (x0, y0 + height / 2 * (1 if dy > 0 else -1))
                end = (x1, y1 - height / 2 * (1 if dy > 0 else -1))
            draw_arrow(ax, start, end)
    for row, (part, color) in enumerate(PARTS.items()):
        y = -2 * step_y + 0.5 - 0.5 * row
        ax.add_patch(Rectangle((-1.25, y - 0.15), 0.3, 0.3, facecolor=color, edgecolor="black"))
        ax.text(-0.8, y, part, va="center", fontsize=9)
    ax.text(
        -1.25,
        -2 * step_y - 1.1,
        "An arrow points to the next lesson to take;\n'builds on' names every lesson one uses.",
        va="center",
        fontsize=8,
        color="dimgray",
    )
    ax.set_xlim(-1.5, 4 * step_x + 1.5)
    ax.set_ylim(-2 * step_y - 1.4, 0.9)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("The course at a glance: ten lessons and what each builds on", fontsize=13)
    return figure


def _direct(lesson: Lesson) -> list[str]:
    """The lessons `lesson` builds on that no other lesson it builds on already leads to."""
    by_number = {item.number: item for item in LESSONS}

    def reachable(number: str) -> set[str]:
        found = set()
        for earlier in by_number[number].builds_on:
            found |= {earlier} | reachable(earlier)
        return found

    indirect = set().union(*(reachable(n) for n in lesson.builds_on)) if lesson.builds_on else set()
    return [n for n in lesson.builds_on if n not in indirect]


def headline_results(folder: Path = NOTEBOOKS_DIR) -> tuple[list[tuple[Headline, list]], list[str]]:
    """The values `HEADLINES` names, read from the run-all stamps of the lessons in `folder`.

    Returns the headlines that have their lesson's own result, each with its (measure, value)
    pairs, and one message for each headline or measure left out and why.
    """
    if not Path(folder).is_dir():
        raise ValueError(f"{folder} is not a folder of lessons (expected notebooks/NN_*.ipynb)")
    notebooks = {path.stem[:2]: path for path in lessons(folder)}
    stamps, problems = {}, {}
    for number in sorted({m.lesson for h in HEADLINES for m in h.measures}):
        path = notebooks.get(number)
        stamp = nbformat.read(path, as_version=4).metadata.get(STAMP_KEY) if path else None
        if path is None:
            problems[number] = f"no notebook {folder.name}/{number}_*.ipynb"
        elif not stamp or not stamp.get("results"):
            problems[number] = f"{path.name} has no run-all results"
        elif stamp.get("mode") != "full":
            problems[number] = f"{path.name} holds the results of a {stamp.get('mode')} run"
        else:
            stamps[number] = (path.name, stamp["results"])
    found, left_out = [], []
    for headline in HEADLINES:
        values = []
        for measure in headline.measures:
            problem = problems.get(measure.lesson)
            if problem is None:
                name, results = stamps[measure.lesson]
                if measure.result in results:
                    values.append((measure, results[measure.result]["value"] * headline.scale))
                    continue
                problem = f"{name} recorded no '{measure.result}' (it has {', '.join(results)})"
            if measure is headline.measures[0]:
                left_out.append(f"left out lesson {headline.lesson}'s panel: {problem}")
                break
            left_out.append(
                f"left out '{measure.label}' from lesson {headline.lesson}'s panel: {problem}"
            )
        else:
            found.append((headline, values))
    return found, left_out


def draw_results(panels: list[tuple[Headline, list]]):
    """One small dot plot per headline: the model, its baselines and the target. Returns the Figure."""
    if not panels:
        raise ValueError(
            "no lesson has full-mode results to chart: run `python -m rnn_course run-all --inplace`"
        )
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.6 * columns, 2.3 * rows), layout="constrained", squeeze=False
    )
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    for ax, (headline, values) in zip(axes.flat, panels):
        numbers = [value for _, value in values]
        bounds = numbers + ([headline.target] if headline.target is not None else [])
        low, high = min(bounds), max(bounds)
        pad = (high - low) * 0.2 or abs(high) * 0.05 or 1.0
        ax.set_xlim(max(low - pad, 0.0) if low >= 0 else low - pad, high + pad)
        for row, value in enumerate(numbers):
            color = "#1f4e79" if row == 0 else "gray"  # the lesson's model, then its baselines
            ax.plot(value, -row, "o", ms=9, color=color, zorder=3)
            ax.text(value, -row + 0.32, headline.fmt.format(value), ha="center", fontsize=9)
        ax.set_yticks([-row for row in range(len(values))], [m.label for m, _ in values])
        ax.set_ylim(-len(values) + 0.1, 0.8)
        if headline.target is not None:
            sign = "≥" if headline.higher_is_better else "≤"
            ax.axvline(headline.target, color="#c0392b", linestyle="--", linewidth=1.2)
            right = headline.target > sum(ax.get_xlim()) / 2  # keep the label inside
            ax.text(
                headline.target,
                -len(values) + 0.15,
                f" target {sign} {headline.target:g}{'%' if headline.fmt.endswith('%') else ''} ",
                color="#c0392b",
                fontsize=8,
                va="bottom",
                ha="right" if right else "left",
            )
        better = "higher" if headline.higher_is_better else "lower"
        ax.set_xlabel(f"{headline.axis}, {better} is better", fontsize=9)
        ax.set_title(f"Lesson {headline.lesson}: {headline.title}", fontsize=10, loc="left")
        ax.grid(axis="x", alpha=0.3)
    figure.suptitle("Results of the last full run of every lesson (python -m rnn_course run-all)")
    return figure


class Asset(NamedTuple):
    name: str
    draw: Callable  # returns a matplotlib Figure
    data: object  # what the drawing depends on besides the code, for the fingerprint


def figures(folder: Path = NOTEBOOKS_DIR) -> tuple[list[Asset], list[str]]:
    """Every asset to draw, and the messages about results left out of the chart."""
    panels, left_out = headline_results(folder)
    data = [[h.lesson, [[m.result, v] for m, v in values]] for h, values in panels]
    return [
        Asset("course_map", draw_course_map, None),
        Asset("unrolled_rnn", lambda: diagrams.draw_unrolled_rnn(4).figure, None),
        Asset("rnn_patterns", lambda: diagrams.draw_rnn_patterns()[0].figure.figure, None),
        Asset("lstm_cell", lambda: diagrams.draw_lstm_cell().figure, None),
        Asset("gru_cell", lambda: diagrams.draw_gru_cell().figure, None),
        Asset("results", lambda: draw_results(panels), data),
    ], left_out


def fingerprint(asset: Asset) -> str:
    """SHA-256 of what `asset` is drawn from: the drawing code, its name and its data."""
    digest = hashlib.sha256()
    for module in (diagrams.__file__, __file__):
        digest.update(Path(module).read_text(encoding="utf-8").replace("\r\n", "\n").encode())
    digest.update(json.dumps([asset.name, asset.data], default=list).encode())
    return digest.hexdigest()


def write_assets(
    out_dir: Path = ASSETS_DIR, folder: Path = NOTEBOOKS_DIR
) -> tuple[list[Path], list[str]]:
    """Draw every figure into `out_dir` as NAME.svg; return the paths and the left-out messages."""
    items, left_out = figures(folder)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    settings = {"svg.hashsalt": "rnn-course", "svg.fonttype": "path"}
    for item in items:
        with plt.style.context("default"), matplotlib.rc_context(settings):
            figure = item.draw()
            path = out_dir / f"{item.name}.svg"
            description = (
                f"Drawn by `{COMMAND}` with matplotlib {matplotlib.__version__}; "
                f"inputs sha256:{fingerprint(item)}"
            )
            metadata = {"Date": None, "Title": item.name, "Description": description}
            metadata["Rights"] = RIGHTS
            figure.savefig(path, bbox_inches="tight", metadata=metadata)
            plt.close(figure)
        written.append(path)
    return written, left_out


def _stamp(svg: str) -> tuple[str, str] | None:
    match = re.search(r"with matplotlib (\S+); inputs sha256:([0-9a-f]{64})", svg)
    return match.groups() if match else None


def stale(committed: Path, fresh: Path) -> str | None:
    """Why the committed SVG differs from a freshly drawn one, or None when it is current.

    Same matplotlib: the bytes must agree. Different matplotlib: the fingerprints must.
    """
    if not committed.is_file():
        return f"{committed.name} is missing"
    old, new = committed.read_text(encoding="utf-8"), fresh.read_text(encoding="utf-8")
    old_stamp, new_stamp = _stamp(old), _stamp(new)
    if old_stamp is None:
        return f"{committed.name} was not drawn by `{COMMAND}`"
    if old_stamp[0] == new_stamp[0]:
        return None if old == new else f"{committed.name} differs from a fresh drawing"
    if old_stamp[1] != new_stamp[1]:
        return f"{committed.name} was drawn from older code or results"
    return None
