"""One check per exercise, named after the exercise: `check.linear_forward(linear_forward)`."""

from ._core import CheckFailed
from .lesson01 import cross_entropy_from_logits, linear_forward, train_step
from .lesson02 import make_windows, seasonal_naive_forecast, standardize
from .lesson03 import bptt_step, rnn_parameter_count, rnn_step
from .lesson04 import concat_weights, rnn_backward, rnn_forward
from .lesson05 import bidirectional_final_hidden, last_valid_output, rnn_output_by_hand
from .lesson06 import forecast_errors, recursive_forecast
from .lesson07 import confusion_matrix, right_class_probability_by_row, rows_as_sequence
from .lesson08 import gru_cell, lstm_cell, set_forget_bias

__all__ = [
    "CheckFailed",
    "cross_entropy_from_logits",
    "linear_forward",
    "make_windows",
    "seasonal_naive_forecast",
    "standardize",
    "train_step",
    "bptt_step",
    "rnn_parameter_count",
    "rnn_step",
    "concat_weights",
    "rnn_backward",
    "rnn_forward",
    "bidirectional_final_hidden",
    "last_valid_output",
    "rnn_output_by_hand",
    "forecast_errors",
    "recursive_forecast",
    "confusion_matrix",
    "right_class_probability_by_row",
    "rows_as_sequence",
    "gru_cell",
    "lstm_cell",
    "set_forget_bias",
]
