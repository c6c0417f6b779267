"""Checks for lesson 06's exercises: recursive_forecast, forecast_errors."""

from __future__ import annotations

import torch
from torch import nn

from ._core import CheckFailed, call, exercise, expect_close, expect_tensor


def _reference_recursive(model, windows: torch.Tensor, steps: int) -> torch.Tensor:
    with torch.no_grad():
        window, forecasts = windows.clone(), []
        for _ in range(steps):
            next_value = model(window)  # (batch, 1)
            forecasts.append(next_value)
            window = torch.cat([window[:, 1:], next_value], dim=1)
    return torch.cat(forecasts, dim=1)


def _linear_model(window: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = nn.Linear(window, 1)
    with torch.no_grad():
        model.weight.mul_(0.8)
    return model.eval()


@exercise
def recursive_forecast(answer) -> int:
    """`recursive_forecast(model, windows, steps)`: (batch, window) -> (batch, steps), fed back."""
    model = _linear_model(5, 61)
    g = torch.Generator().manual_seed(62)
    windows = torch.randn(3, 5, generator=g)
    original = windows.clone()
    result = call(answer, model, windows, 4)
    expected = _reference_recursive(model, original, 4)
    expect_tensor(result, expected, "the forecast for 3 windows of 5 values, 4 steps")
    if not torch.equal(windows, original):
        raise CheckFailed("your function changed `windows` in place; work on a copy")
    result = result.detach()
    expect_close(
        result[:, :1], expected[:, :1], "the first step", "step 1 is model(windows) itself"
    )
    repeated = _reference_recursive(model, original, 1).expand(-1, 4)
    if torch.allclose(result, repeated, atol=1e-6):
        raise CheckFailed(
            "every step repeats the first prediction: slide the window, dropping its oldest "
            "value and appending the prediction"
        )
    with torch.no_grad():
        wrong_end = torch.cat(
            [model(original), model(torch.cat([model(original), original[:, :-1]], 1))], 1
        )
    if torch.allclose(result[:, :2], wrong_end, atol=1e-6):
        raise CheckFailed(
            "the prediction was put at the start of the window; the newest value goes last"
        )
    expect_close(
        result,
        expected,
        "the forecast",
        "after each step: window = cat(window[:, 1:], prediction)",
    )
    model = _linear_model(3, 63)
    windows = torch.randn(2, 3, generator=g)
    expect_close(
        call(answer, model, windows, 10).detach(),
        _reference_recursive(model, windows, 10),
        "the forecast for 2 windows of 3 values, 10 steps",
    )
    return 4


@exercise
def forecast_errors(answer) -> int:
    """`forecast_errors(forecast, truth)`: (n,), (n,) -> (rmse, mape in percent), floats."""
    forecast = torch.tensor([110.0, 190.0, 330.0, 380.0])
    truth = torch.tensor([100.0, 200.0, 300.0, 400.0])
    result = call(answer, forecast, truth)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed(
            f"forecast_errors should return a pair (rmse, mape), got {type(result).__name__}"
        )
    rmse, mape = (float(v) for v in result)
    errors = forecast - truth
    expected_rmse = errors.pow(2).mean().sqrt().item()
    expected_mape = 100 * (errors.abs() / truth).mean().item()
    if abs(rmse - errors.pow(2).mean().item()) < 1e-3:
        raise CheckFailed("rmse is the mean squared error: take its square root")
    if abs(rmse - errors.abs().mean().item()) < 1e-3:
        raise CheckFailed(
            "rmse is the mean absolute error: square the errors, average, take the root"
        )
    if abs(rmse - expected_rmse) > 1e-3 * expected_rmse:
        raise CheckFailed(f"rmse is {rmse:.6g}, expected {expected_rmse:.6g}")
    if abs(mape - expected_mape / 100) < 1e-6:
        raise CheckFailed("mape is a fraction; give it in percent (multiply by 100)")
    by_forecast = 100 * (errors.abs() / forecast).mean().item()
    if abs(mape - by_forecast) < 1e-4:
        raise CheckFailed("mape divides by the forecast; divide each error by the true value")
    if abs(mape - expected_mape) > 1e-4 * expected_mape:
        raise CheckFailed(f"mape is {mape:.6g} %, expected {expected_mape:.6g} %")
    g = torch.Generator().manual_seed(64)
    truth = 50 + 10 * torch.rand(30, generator=g)
    forecast = truth + torch.randn(30, generator=g)
    rmse, mape = (float(v) for v in call(answer, forecast, truth))
    errors = forecast - truth
    expect_close(
        torch.tensor([rmse, mape]),
        torch.tensor(
            [errors.pow(2).mean().sqrt().item(), 100 * (errors.abs() / truth).mean().item()]
        ),
        "(rmse, mape) for 30 random values",
    )
    return 3
