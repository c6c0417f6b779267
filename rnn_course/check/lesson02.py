"""Checks for lesson 02's exercises: make_windows, seasonal_naive_forecast, standardize."""

from __future__ import annotations

import torch

from .. import data
from ._core import CheckFailed, call, exercise, expect_close, expect_tensor


def _pair(result, what: str):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed(
            f"{what} should return a pair (inputs, targets), got {type(result).__name__}"
        )
    return result


@exercise
def make_windows(answer) -> int:
    """`make_windows(series, window, horizon)`: (time,) -> inputs (n, window), targets (n, horizon)."""
    series = torch.arange(10, dtype=torch.float32)
    inputs, targets = _pair(call(answer, series, 3, 1), "make_windows(series, 3, 1)")
    expected_inputs, expected_targets = data.make_windows(series, 3, 1)
    expect_tensor(inputs, expected_inputs, "the inputs for 10 values, window 3, horizon 1")
    if isinstance(targets, torch.Tensor) and targets.shape == (7,):
        raise CheckFailed(
            "targets should have shape (7, 1): one row of `horizon` values per window"
        )
    expect_tensor(targets, expected_targets, "the targets for 10 values, window 3, horizon 1")
    expect_close(
        inputs,
        expected_inputs,
        "the inputs (series = 0, 1, ..., 9)",
        "window i is series[i : i + window]",
    )
    if torch.equal(targets.float(), inputs[:, -1:].float()):
        raise CheckFailed(
            "each target equals the last value of its window: it must be the value after it"
        )
    expect_close(
        targets,
        expected_targets,
        "the targets (series = 0, 1, ..., 9)",
        "the target of window i starts at series[i + window]",
    )
    for window, horizon in [(4, 3), (1, 1), (7, 3)]:
        inputs, targets = _pair(
            call(answer, series, window, horizon), f"make_windows(series, {window}, {horizon})"
        )
        expected_inputs, expected_targets = data.make_windows(series, window, horizon)
        expect_close(
            inputs,
            expected_inputs,
            f"the inputs for window {window}, horizon {horizon}",
            "count the windows: there are time - window - horizon + 1",
        )
        expect_close(
            targets, expected_targets, f"the targets for window {window}, horizon {horizon}"
        )
    return 6


def _seasonal_naive(history: torch.Tensor, horizon: int, season: int) -> torch.Tensor:
    last_season = history[-season:]
    return last_season[torch.arange(horizon) % season]


@exercise
def seasonal_naive_forecast(answer) -> int:
    """`seasonal_naive_forecast(history, horizon, season)`: (time,) -> (horizon,)."""
    g = torch.Generator().manual_seed(4)
    history = torch.randn(30, generator=g)
    for horizon, season in [(12, 12), (5, 4), (30, 12)]:
        forecast = call(answer, history, horizon, season)
        expected = _seasonal_naive(history, horizon, season)
        expect_tensor(forecast, expected, f"the forecast for horizon {horizon}, season {season}")
        if torch.allclose(forecast, history[-1].expand(horizon)):
            raise CheckFailed(
                "the forecast repeats the last value: that is the naive forecast; "
                "seasonal naive repeats the value one season earlier"
            )
        expect_close(
            forecast,
            expected,
            f"the forecast for horizon {horizon}, season {season}",
            "step h takes the value `season` steps before it, from the last observed season",
        )
    return 3


@exercise
def standardize(answer) -> int:
    """`standardize(train, test)`: both scaled with the training part's mean and std only."""
    g = torch.Generator().manual_seed(5)
    train, test = 10 + 2 * torch.randn(50, generator=g), 40 + 5 * torch.randn(20, generator=g)
    result = call(answer, train, test)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed(
            f"standardize should return a pair (train_scaled, test_scaled), got {type(result).__name__}"
        )
    train_scaled, test_scaled = result
    expect_tensor(train_scaled, train, "train_scaled")
    expect_tensor(test_scaled, test, "test_scaled")
    both = torch.cat([train, test])
    leaked = (test - both.mean()) / both.std()
    if torch.allclose(test_scaled, leaked, atol=1e-4):
        raise CheckFailed(
            "the statistics include the test part: fit the mean and std on train only"
        )
    own = (test - test.mean()) / test.std()
    if torch.allclose(test_scaled, own, atol=1e-4):
        raise CheckFailed(
            "the test part was scaled with its own statistics: use the training mean and std"
        )
    mean = train.mean()
    stds = [train.std(), train.std(correction=0)]  # either definition of the std is accepted
    std = min(stds, key=lambda s: ((train - mean) / s - train_scaled).abs().max().item())
    expect_close(
        train_scaled,
        (train - mean) / std,
        "train_scaled",
        "subtract the training mean, divide by its std",
    )
    expect_close(test_scaled, (test - mean) / std, "test_scaled", "use the training mean and std")
    return 3
