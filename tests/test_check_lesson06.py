"""Lesson 06's checks accept the reference solutions and reject plausible wrong answers."""

import pytest
import torch

from rnn_course import check
from rnn_course.check import CheckFailed


@torch.no_grad()
def recursive_forecast(model, windows, steps):
    window, forecasts = windows.clone(), []
    for _ in range(steps):
        next_value = model(window)
        forecasts.append(next_value)
        window = torch.cat([window[:, 1:], next_value], dim=1)
    return torch.cat(forecasts, dim=1)


def forecast_errors(forecast, truth):
    errors = forecast - truth
    return errors.pow(2).mean().sqrt().item(), 100 * (errors.abs() / truth.abs()).mean().item()


def test_recursive_forecast_accepts_reference():
    check.recursive_forecast(recursive_forecast)


@torch.no_grad()
def _no_slide(model, windows, steps):
    return model(windows).expand(-1, steps)


@torch.no_grad()
def _prepend(model, windows, steps):
    window, out = windows.clone(), []
    for _ in range(steps):
        value = model(window)
        out.append(value)
        window = torch.cat([value, window[:, :-1]], dim=1)
    return torch.cat(out, dim=1)


@torch.no_grad()
def _in_place(model, windows, steps):
    out = []
    for _ in range(steps):
        value = model(windows)
        out.append(value)
        windows[:] = torch.cat([windows[:, 1:], value], dim=1)
    return torch.cat(out, dim=1)


@torch.no_grad()
def _off_by_one(model, windows, steps):
    return recursive_forecast(model, windows, steps + 1)[:, 1:]


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (_no_slide, "repeats the first prediction"),
        (_prepend, "put at the start of the window"),
        (_in_place, "in place"),
        (_off_by_one, "the first step"),
        (lambda model, windows, steps: recursive_forecast(model, windows, steps)[:, :-1], "shape"),
    ],
)
def test_recursive_forecast_rejects(answer, match):
    with pytest.raises(CheckFailed, match=match):
        check.recursive_forecast(answer)


def test_forecast_errors_accepts_reference():
    check.forecast_errors(forecast_errors)


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (lambda f, t: ((f - t).pow(2).mean().item(), 0.0), "mean squared error"),
        (lambda f, t: ((f - t).abs().mean().item(), 0.0), "mean absolute error"),
        (lambda f, t: (forecast_errors(f, t)[0], forecast_errors(f, t)[1] / 100), "percent"),
        (
            lambda f, t: (forecast_errors(f, t)[0], 100 * ((f - t).abs() / f).mean().item()),
            "divides by the forecast",
        ),
        (lambda f, t: forecast_errors(f, t)[0], "pair"),
    ],
)
def test_forecast_errors_rejects(answer, match):
    with pytest.raises(CheckFailed, match=match):
        check.forecast_errors(answer)
