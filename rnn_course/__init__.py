"""Helpers for the RNN course: settings, data, training, plots, results and exercise checks.

The lessons in `notebooks/` teach the code; this package holds the plumbing they share.
"""

from . import check
from .data import (
    load_airline_passengers,
    load_mnist,
    long_memory_task,
    make_windows,
    mnist_splits,
    sine_wave,
    time_split,
)
from .diagrams import draw_gru_cell, draw_lstm_cell, draw_rnn_patterns, draw_unrolled_rnn
from .gradients import gradient_norms_over_time
from .models import MLP, SequenceClassifier, count_parameters
from .plots import (
    plot_confusion_matrix,
    plot_digits,
    plot_gradient_norms,
    plot_history,
    plot_series,
    show,
)
from .results import record
from .settings import (
    data_root,
    get_device,
    is_quick,
    lesson_seed,
    mode,
    pick,
    quick_note,
    seed_everything,
    setup,
)
from .text import (
    Vocabulary,
    common_lines,
    known_word_fraction,
    load_shakespeare,
    load_text,
    plot_text_activation,
    require_length,
    separates_words,
)
from .training import evaluate, fit, predict

__all__ = [
    "MLP",
    "SequenceClassifier",
    "Vocabulary",
    "check",
    "common_lines",
    "count_parameters",
    "data_root",
    "draw_gru_cell",
    "draw_lstm_cell",
    "draw_rnn_patterns",
    "draw_unrolled_rnn",
    "evaluate",
    "fit",
    "get_device",
    "gradient_norms_over_time",
    "is_quick",
    "known_word_fraction",
    "lesson_seed",
    "load_airline_passengers",
    "load_mnist",
    "load_shakespeare",
    "load_text",
    "long_memory_task",
    "make_windows",
    "mnist_splits",
    "mode",
    "pick",
    "plot_confusion_matrix",
    "plot_digits",
    "plot_gradient_norms",
    "plot_history",
    "plot_series",
    "plot_text_activation",
    "predict",
    "quick_note",
    "record",
    "require_length",
    "seed_everything",
    "separates_words",
    "setup",
    "show",
    "sine_wave",
    "time_split",
]
