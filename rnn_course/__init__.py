"""Helpers for the RNN course: settings, data, training, plots, results and exercise checks.

The lessons in `notebooks/` teach the code; this package holds the plumbing they share.
"""

from . import check
from .data import load_airline_passengers, load_mnist, make_windows, sine_wave, time_split
from .models import MLP, SequenceClassifier, count_parameters
from .plots import plot_digits, plot_history, plot_series
from .results import record
from .settings import data_root, get_device, is_quick, mode, pick, seed_everything, setup
from .training import evaluate, fit, predict

__all__ = [
    "MLP",
    "SequenceClassifier",
    "check",
    "count_parameters",
    "data_root",
    "evaluate",
    "fit",
    "get_device",
    "is_quick",
    "load_airline_passengers",
    "load_mnist",
    "make_windows",
    "mode",
    "pick",
    "plot_digits",
    "plot_history",
    "plot_series",
    "predict",
    "record",
    "seed_everything",
    "setup",
    "sine_wave",
    "time_split",
]
