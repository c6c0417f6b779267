"""Checks for lesson 06's exercises: recursive_forecast, forecast_errors."""

from __future__ import annotations

import re

import torch
from torch import nn

from ._core import (
    CheckFailed,
    call,
    exercise,
    expect_close,
    expect_float,
    expect_sequence,
    expect_tensor,
    name_mistake,
    same,
)

F64 = torch.float64

# ----------------------------------------------------------------------------- recursive_forecast


class _TinyForecaster(nn.Module):
    """Lesson 06's forecaster, small: windows (batch, window) of any length -> (batch, 1)."""

    def __init__(self, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.rnn = nn.RNN(1, 4, batch_first=True)
        self.head = nn.Linear(4, 1)

    def forward(self, windows):
        output, _ = self.rnn(windows.unsqueeze(-1))
        return self.head(output[:, -1])


def _linear_model(window: int, seed: int) -> nn.Module:
    """A forecaster that takes windows of exactly `window` values."""
    torch.manual_seed(seed)
    return nn.Linear(window, 1).eval()


@torch.no_grad()
def _recursive_forecast(model, windows, steps):
    """The course's solution: each forecast appended to the window, the oldest value dropped."""
    window, forecasts = windows.clone(), []
    for _ in range(steps):
        next_value = model(window)  # (batch, 1)
        forecasts.append(next_value)
        window = torch.cat([window[:, 1:], next_value], dim=1)
    return torch.cat(forecasts, dim=1)


@torch.no_grad()
def _variant(model, windows, steps, update, skip_first=False):
    """A recursive forecast whose window is updated by `update(window, prediction)`."""
    window, forecasts = windows.clone(), []
    for _ in range(steps + skip_first):
        next_value = model(window)
        forecasts.append(next_value)
        window = update(window, next_value)
    return torch.cat(forecasts[skip_first:], dim=1)


def _slide(window, prediction):
    """The right update: drop the oldest value, append the prediction."""
    return torch.cat([window[:, 1:], prediction], dim=1)


_UPDATES = {
    "every step repeats the first forecast: the window never changes; after each step, drop its "
    "oldest value and append the prediction": lambda w, p: w,
    "the prediction is put at the start of the window: the newest value goes last, "
    "torch.cat([window[:, 1:], prediction], dim=1)": lambda w, p: torch.cat([p, w[:, :-1]], dim=1),
    "the newest value is dropped instead of the oldest: keep window[:, 1:], then append the "
    "prediction": lambda w, p: torch.cat([w[:, :-1], p], dim=1),
    "the window gets its own last observed value again, not the prediction: append the "
    "prediction, so that the next step reads it": lambda w, p: torch.cat([w[:, 1:], w[:, -1:]], 1),
}

_WINDOW_SIZES = re.compile(r"\((\d+)x(\d+) and (\d+)x(\d+)\)")


def _window_hint(kind, message, args):
    """Say how the window changed size when a fixed-size model rejects it."""
    windows = args[1] if len(args) > 1 else None
    found = _WINDOW_SIZES.search(message)
    if found and isinstance(windows, torch.Tensor) and windows.dim() == 2:
        size, given = int(found.group(2)), windows.shape[1]
        if size > given:
            return (
                f"the window grew from {given} to {size} values: drop the oldest value when you "
                "append the prediction, window = torch.cat([window[:, 1:], prediction], dim=1)"
            )
        if size < given:
            return (
                f"the window shrank from {given} to {size} values: keep window[:, 1:] and append "
                "the prediction"
            )
    if "same number of dimensions" in message or "Tensors must have" in message:
        return (
            "the model returns (batch, 1): append it as it is, torch.cat([window[:, 1:], "
            "prediction], dim=1) (a (batch,) prediction needs .unsqueeze(1))"
        )
    return None


def _recursive_case(answer, model, windows, steps) -> int:
    batch, size = windows.shape
    expected = _recursive_forecast(model, windows, steps)
    what = f"the forecast for {batch} window(s) of {size} values, {steps} steps"
    got = call(answer, model, windows, steps)
    if isinstance(got, torch.Tensor) and got.shape != expected.shape:
        shape = tuple(got.shape)
        if shape == (batch, steps, 1):
            raise CheckFailed(
                f"{what} has shape {shape}: return (batch, steps), torch.cat of the (batch, 1) "
                "forecasts along dim 1"
            )
        if shape == (steps, batch) and batch != steps:
            raise CheckFailed(
                f"{what} has shape {shape}: the steps are stacked along dim 0; the result is "
                "(batch, steps), one row per window"
            )
        if shape == (steps,) and batch == 1:
            raise CheckFailed(
                f"{what} has shape {shape}: a batch of one lost its batch dimension (squeeze()?); "
                "keep (batch, steps)"
            )
        if len(shape) == 2 and shape[0] == batch and shape[1] != steps:
            raise CheckFailed(f"{what} has {shape[1]} forecasts per window, expected {steps}")
    expect_tensor(got, expected, what)
    if not same(got, expected):
        mistakes = {}
        for text, update in _UPDATES.items():
            try:
                mistakes[text] = _variant(model, windows, steps, update)
            except RuntimeError:  # this model rejects such a window: the answer raised instead
                continue
        mistakes[
            "the first forecast is missing: step 1 is model(windows) itself, before any "
            "prediction is appended"
        ] = _variant(model, windows, steps, _slide, skip_first=True)
        name_mistake(got, {t: v for t, v in mistakes.items() if not same(v, expected)})
    expect_close(
        got,
        expected,
        what,
        "step 1 is model(windows); after each step, window = cat(window[:, 1:], prediction)",
    )
    return 1


@exercise(reference=_recursive_forecast, hints=[_window_hint])
def recursive_forecast(answer) -> int:
    """`recursive_forecast(model, windows, steps)`: model maps (batch, window) -> (batch, 1);
    windows (batch, window) -> the `steps` forecasts (batch, steps), each one computed from a
    window that ends with the previous forecasts."""
    g = torch.Generator().manual_seed(62)
    # a model that takes exactly 5 values first: a window that grows or shrinks raises there
    passed = _recursive_case(answer, _linear_model(5, 63), torch.randn(3, 5, generator=g), 4)
    rnn = _TinyForecaster(61).eval()
    passed += _recursive_case(answer, rnn, torch.randn(1, 6, generator=g), 7)  # a batch of one
    passed += _recursive_case(answer, rnn, torch.randn(4, 3, generator=g), 10)
    passed += _recursive_case(answer, rnn, torch.randn(2, 2, generator=g), 1)
    return passed


# ----------------------------------------------------------------------------- forecast_errors


def _forecast_errors(forecast, truth):
    """The course's solution: (RMSE, MAPE in percent) as Python floats."""
    errors = forecast - truth
    rmse = errors.pow(2).mean().sqrt().item()
    mape = 100 * (errors.abs() / truth.abs()).mean().item()
    return rmse, mape


def _errors_case(answer, forecast, truth) -> int:
    what = f"for {len(truth)} values ({str(truth.dtype).removeprefix('torch.')})"
    got = call(answer, forecast, truth)
    rmse, mape = expect_sequence(got, 2, "forecast_errors", "a pair (rmse, mape)")
    expect_float(rmse, f"rmse {what}")
    expect_float(mape, f"mape {what}")
    f, y = forecast.to(F64), truth.to(F64)
    errors = f - y
    expected_rmse = errors.pow(2).mean().sqrt().item()
    expected_mape = 100 * (errors.abs() / y.abs()).mean().item()
    close = lambda a, b: abs(a - b) <= 1e-5 * (1 + abs(b))  # noqa: E731
    if close(rmse, expected_mape) and close(mape, expected_rmse) and not close(rmse, mape):
        raise CheckFailed("the pair is (mape, rmse): return (rmse, mape)")
    rmse_mistakes = {
        "rmse is the mean squared error: take its square root": errors.pow(2).mean(),
        "rmse is the mean absolute error: square the errors, average, then take the root": (
            errors.abs().mean()
        ),
        "rmse is the root of the sum of squares: average the squares (divide by n) before the "
        "root": errors.pow(2).sum().sqrt(),
        "rmse is the error of the means: average the squared errors of each value, not the "
        "difference of the averages": errors.mean().abs(),
    }
    if not close(rmse, expected_rmse):
        for text, value in rmse_mistakes.items():
            if close(rmse, value.item()) and not close(value.item(), expected_rmse):
                raise CheckFailed(text)
        raise CheckFailed(
            f"rmse {what} is {rmse!r}, expected {expected_rmse!r}: it is "
            "sqrt(mean((forecast - truth) ** 2))"
        )
    mape_mistakes = {
        "mape is a fraction; give it in percent (multiply by 100)": expected_mape / 100,
        "mape divides by the forecast; divide each error by the true value": (
            100 * (errors.abs() / f.abs()).mean()
        ),
        "mape averages signed errors: take the absolute value of each error": (
            100 * (errors / y.abs()).mean()
        ).abs(),
        "mape divides by y_t without its absolute value: divide by |y_t| (a negative value "
        "would make a negative percentage)": 100 * (errors.abs() / y).mean(),
        "mape divides the mean error by the mean of the truth: average each value's own "
        "percentage error instead": 100 * errors.abs().mean() / y.abs().mean(),
    }
    if not close(mape, expected_mape):
        for text, value in mape_mistakes.items():
            value = float(value)
            if close(mape, value) and not close(value, expected_mape):
                raise CheckFailed(text)
        raise CheckFailed(
            f"mape {what} is {mape!r} %, expected {expected_mape!r} %: it is "
            "100 * mean(|forecast - truth| / |truth|)"
        )
    return 1


@exercise(reference=_forecast_errors)
def forecast_errors(answer) -> int:
    """`forecast_errors(forecast, truth)`: two tensors (n,) -> (rmse, mape in percent), Python
    floats."""
    g = torch.Generator().manual_seed(64)
    passed = _errors_case(
        answer,
        torch.tensor([110.0, 190.0, 330.0, 380.0]),
        torch.tensor([100.0, 200.0, 300.0, 400.0]),
    )
    truth = 50 + 10 * torch.rand(30, generator=g)
    passed += _errors_case(answer, truth + 3 * torch.randn(30, generator=g), truth)
    signed = torch.tensor([2.0, -1.5, 0.8, -3.0, 1.2], dtype=F64)  # values of both signs
    passed += _errors_case(
        answer, signed + torch.tensor([0.3, 0.4, -0.2, 0.5, -0.1], dtype=F64), signed
    )
    passed += _errors_case(answer, torch.tensor([7.0]), torch.tensor([5.0]))
    return passed
