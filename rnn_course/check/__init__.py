"""One check per exercise, named after the exercise: `check.linear_forward(linear_forward)`."""

from ._core import CheckFailed
from .lesson01 import cross_entropy_from_logits, linear_forward, train_step
from .lesson02 import make_windows, seasonal_naive_forecast, standardize

__all__ = [
    "CheckFailed",
    "cross_entropy_from_logits",
    "linear_forward",
    "make_windows",
    "seasonal_naive_forecast",
    "standardize",
    "train_step",
]
