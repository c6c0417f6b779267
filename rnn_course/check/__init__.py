"""One check per exercise, named after the exercise: `rnn_step = check.rnn_step(rnn_step)`.

A check returns the function the rest of the lesson should use: the student's when it passes,
else (for a student, see `settings.check_mode`) the course's reference, and says so.
"""

from ._core import RECORD_MIME, CheckFailed, Exercise, Verdict, exercises
from .lesson01 import cross_entropy_from_logits, linear_forward, train_step
from .lesson02 import make_windows, seasonal_naive_forecast, standardize
from .lesson03 import bptt_many_to_many, rnn_parameter_count, rnn_step
from .lesson04 import collapse_linear_rnn, rnn_backward, rnn_forward
from .lesson05 import (
    bidirectional_final_hidden,
    bidirectional_output_by_hand,
    last_valid_output,
)
from .lesson06 import forecast_errors, recursive_forecast
from .lesson07 import confusion_matrix, right_class_probability, rows_as_sequence
from .lesson08 import gru_cell, lstm_cell, set_forget_bias
from .lesson09 import bits_per_char, detach_state, make_streams, sample_next
from .lesson10 import attention_weights, greedy_decode, sequence_accuracy

__all__ = [
    "RECORD_MIME",
    "CheckFailed",
    "Exercise",
    "Verdict",
    "exercises",
    # lesson 01
    "cross_entropy_from_logits",
    "linear_forward",
    "train_step",
    # lesson 02
    "make_windows",
    "seasonal_naive_forecast",
    "standardize",
    # lesson 03
    "bptt_many_to_many",
    "rnn_parameter_count",
    "rnn_step",
    # lesson 04
    "collapse_linear_rnn",
    "rnn_backward",
    "rnn_forward",
    # lesson 05
    "bidirectional_final_hidden",
    "bidirectional_output_by_hand",
    "last_valid_output",
    # lesson 06
    "forecast_errors",
    "recursive_forecast",
    # lesson 07
    "confusion_matrix",
    "right_class_probability",
    "rows_as_sequence",
    # lesson 08
    "gru_cell",
    "lstm_cell",
    "set_forget_bias",
    # lesson 09
    "bits_per_char",
    "detach_state",
    "make_streams",
    "sample_next",
    # lesson 10
    "attention_weights",
    "greedy_decode",
    "sequence_accuracy",
]
