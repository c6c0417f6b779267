"""Checks for lesson 02's exercises: make_windows, standardize, seasonal_naive_forecast."""

from __future__ import annotations

import torch

from ._core import (
    CheckFailed,
    call,
    exercise,
    expect_close,
    expect_sequence,
    expect_tensor,
    name_mistake,
    same,
)

F64 = torch.float64


def _known(mistakes: dict, expected: torch.Tensor) -> dict:
    """The known mistakes (why -> function giving its value) that can be told apart here."""
    values = {}
    for why, mistake in mistakes.items():
        try:
            value = mistake()
        except (RuntimeError, IndexError):  # crashes on these inputs: the answer raised instead
            continue
        if not same(value, expected):
            values[why] = value
    return values


def _series(generator, length: int, dtype=torch.float32) -> torch.Tensor:
    """Values of both signs, in no order: a window of positions cannot pass for one of values."""
    return 5 * torch.randn(length, generator=generator, dtype=dtype)


# ----------------------------------------------------------------------------- make_windows


def _make_windows(series, window, horizon=1):
    """The course's solution: inputs (n, window) and targets (n, horizon), in time order."""
    n = len(series) - window - horizon + 1
    inputs = torch.stack([series[i : i + window] for i in range(n)])
    targets = torch.stack([series[i + window : i + window + horizon] for i in range(n)])
    return inputs, targets


def _windows_at(series, starts, length):
    return torch.stack([series[s : s + length] for s in starts])


MAKE_WINDOWS_HINTS = [
    (
        r"stack expects each tensor to be equal size|expects a non-empty TensorList",
        "some windows run past the end of the series: there are time - window - horizon + 1 "
        "windows, the last one ends where its target ends",
    ),
    (
        r"missing 1 required positional argument: 'horizon'",
        "give horizon a default of 1: def make_windows(series, window, horizon=1)",
    ),
]


def _windows_case(answer, series, window: int, horizon: int, *, default: bool = False) -> None:
    time = len(series)
    n = time - window - horizon + 1
    sizes = f"{time} values, window {window}, horizon {horizon}"
    args = (series, window) if default else (series, window, horizon)
    if default:
        sizes += " (the default)"
    got = expect_sequence(
        call(answer, *args), 2, f"make_windows for {sizes}", "a pair (inputs, targets)"
    )
    inputs, targets = got
    expected_inputs, expected_targets = _make_windows(series, window, horizon)
    if (
        isinstance(inputs, torch.Tensor)
        and isinstance(targets, torch.Tensor)
        and inputs.shape == expected_targets.shape != expected_inputs.shape
        and targets.shape == expected_inputs.shape
    ):
        raise CheckFailed(f"for {sizes}, the pair is (targets, inputs): return (inputs, targets)")
    if isinstance(inputs, torch.Tensor) and inputs.shape != expected_inputs.shape:
        shape = tuple(inputs.shape)
        if shape == (n - 1, window):
            raise CheckFailed(
                f"for {sizes}, the inputs hold {n - 1} windows, one short: there are "
                f"time - window - horizon + 1 = {n}"
            )
        if shape == (time - window + 1, window) and horizon >= 1:
            raise CheckFailed(
                f"for {sizes}, the inputs hold {time - window + 1} windows: the last {horizon} "
                f"have no target after them; keep time - window - horizon + 1 = {n}"
            )
        if shape == (window, n) and window != n:
            raise CheckFailed(
                f"for {sizes}, the inputs have shape {shape}: transposed; one row per window, "
                f"({n}, {window})"
            )
        if len(shape) == 2 and shape[1] == window and shape[0] == (time - horizon) // window:
            raise CheckFailed(
                f"for {sizes}, the inputs hold {shape[0]} windows that do not overlap: window i "
                "starts at series[i], one step after window i - 1"
            )
        if shape == (n, window + horizon):
            raise CheckFailed(
                f"for {sizes}, the inputs have {window + horizon} values: the target follows "
                "the window, it is not part of it"
            )
    expect_tensor(inputs, expected_inputs, f"the inputs for {sizes}")
    if isinstance(targets, torch.Tensor) and targets.shape == (n,) and horizon == 1:
        raise CheckFailed(
            f"for {sizes}, the targets have shape ({n},): keep one row of `horizon` values per "
            f"window, ({n}, 1)"
        )
    if isinstance(targets, torch.Tensor) and targets.shape == (n, 1) and horizon > 1:
        raise CheckFailed(
            f"for {sizes}, the targets have shape ({n}, 1): each target holds the next "
            f"`horizon` = {horizon} values, series[i + window : i + window + horizon]"
        )
    expect_tensor(targets, expected_targets, f"the targets for {sizes}")
    starts = range(n)
    name_mistake(
        inputs,
        _known(
            {
                "the windows are in reverse time order: row i is series[i : i + window]": lambda: (
                    expected_inputs.flip(0)
                ),
                "the windows hold positions, not the series' values: row i is "
                "series[i : i + window]": lambda: torch.stack(
                    [torch.arange(i, i + window) for i in starts]
                ).to(series.dtype),
            },
            expected_inputs,
        ),
    )
    expect_close(
        inputs, expected_inputs, f"the inputs for {sizes}", "row i is series[i : i + window]"
    )
    name_mistake(
        targets,
        _known(
            {
                "each target is the last value of its window: it must be the value after it": lambda: (
                    _windows_at(series, [i + window - horizon for i in starts], horizon)
                ),
                "the targets are in reverse time order": lambda: expected_targets.flip(0),
            },
            expected_targets,
        ),
    )
    if n > 1 and not same(targets, expected_targets):
        late = _windows_at(series, [i + window + 1 for i in range(n - 1)], horizon)
        if same(targets[:-1], late):
            raise CheckFailed(
                f"for {sizes}, each target starts one step late: the target of window i starts "
                "at series[i + window]"
            )
    expect_close(
        targets,
        expected_targets,
        f"the targets for {sizes}",
        "the target of window i is series[i + window : i + window + horizon]",
    )


@exercise(reference=_make_windows, hints=MAKE_WINDOWS_HINTS)
def make_windows(answer) -> int:
    """`make_windows(series, window, horizon=1)`: (time,) -> inputs (n, window), targets (n, horizon)."""
    g = torch.Generator().manual_seed(21)
    series = _series(g, 11)
    cases = [(3, 1), (4, 3), (1, 1), (9, 2)]  # (9, 2): a single window, a batch of one
    for window, horizon in cases:
        _windows_case(answer, series, window, horizon)
    _windows_case(answer, _series(g, 8, F64), 2, 1, default=True)
    return len(cases) + 1


# ----------------------------------------------------------------------------- standardize


def _standardize(train, test):
    """The course's solution: both parts scaled with the training part's mean and std."""
    mean, std = train.mean(), train.std()
    return (train - mean) / std, (test - mean) / std


def _scaling_mistakes(train, test) -> dict:
    both = torch.cat([train, test])
    mean, std = train.mean(), train.std()
    low, high = train.min(), train.max()
    return {
        "the statistics include the test part: fit the mean and std on train only": lambda: (
            (test - both.mean()) / both.std()
        ),
        "the test part was scaled with its own mean and std: use the training ones": lambda: (
            (test - test.mean()) / test.std()
        ),
        "the test part was centred on its own mean: subtract the training mean": lambda: (
            (test - test.mean()) / std
        ),
        "the test part was divided by its own std: use the training std": lambda: (
            (test - mean) / test.std()
        ),
        "that is min-max scaling: standardise, (x - mean) / std": lambda: (
            (test - low) / (high - low)
        ),
        "divided by the variance: divide by the standard deviation, train.std()": lambda: (
            (test - mean) / train.var()
        ),
        "the mean is not subtracted: (x - mean) / std": lambda: test / std,
        "not divided by the std: (x - mean) / std": lambda: test - mean,
        "multiplied by the std: divide by it": lambda: (test - mean) * std,
    }


def _standardize_case(answer, train, test, what: str) -> None:
    got = expect_sequence(
        call(answer, train, test), 2, f"standardize ({what})", "a pair (train_scaled, test_scaled)"
    )
    train_scaled, test_scaled = got
    if (
        len(train) != len(test)
        and isinstance(train_scaled, torch.Tensor)
        and train_scaled.shape == test.shape
        and isinstance(test_scaled, torch.Tensor)
        and test_scaled.shape == train.shape
    ):
        raise CheckFailed(
            f"the pair is (test_scaled, train_scaled) ({what}): return (train_scaled, test_scaled)"
        )
    expect_tensor(train_scaled, train, f"train_scaled ({what})")
    expect_tensor(test_scaled, test, f"test_scaled ({what})")
    mean = train.mean()
    # either definition of the standard deviation is accepted: n - 1 (torch's default) or n
    stds = [train.std(), train.std(correction=0)]
    std = min(stds, key=lambda s: float(((train - mean) / s - train_scaled).abs().max()))
    expected = (test - mean) / std
    name_mistake(test_scaled, _known(_scaling_mistakes(train, test), expected))
    expect_close(
        train_scaled,
        (train - mean) / std,
        f"train_scaled ({what})",
        "subtract the training mean, divide by the training std",
    )
    expect_close(test_scaled, expected, f"test_scaled ({what})", "use the training mean and std")


@exercise(reference=_standardize)
def standardize(answer) -> int:
    """`standardize(train, test)`: both scaled with the training part's mean and std only."""
    g = torch.Generator().manual_seed(22)
    train = -2 + 3 * torch.randn(50, generator=g)  # values of both signs
    test = 6 + 5 * torch.randn(20, generator=g)  # a higher, wider future
    _standardize_case(answer, train, test, "50 training and 20 test values")
    train = 100 + 10 * torch.randn(5, generator=g, dtype=F64)
    test = 130 + 10 * torch.randn(3, generator=g, dtype=F64)
    _standardize_case(answer, train, test, "5 training and 3 test values, float64")
    return 2


# ----------------------------------------------------------------------------- seasonal naive


def _seasonal_naive(history, horizon, season):
    """The course's solution: step h repeats the value of the last season at h % season."""
    last_season = history[-season:]
    return last_season[torch.arange(horizon) % season]


def _seasonal_mistakes(history, horizon: int, season: int) -> dict:
    steps = torch.arange(horizon)
    time = len(history)
    return {
        "the forecast repeats the last value: that is the naive forecast; seasonal naive "
        "repeats the value one season earlier": lambda: history[-1].repeat(horizon),
        "the forecast is the last `horizon` values: step h takes history[-season:][h % "
        "season], the same month of the last observed season": lambda: history[-horizon:],
        "the forecast uses the first season of the history: take the last one, "
        "history[-season:]": lambda: history[:season][steps % season],
        "the last season is read backwards: step h is history[-season:][h % season]": lambda: (
            history.flip(0)[steps % season]
        ),
        "the forecast starts one step early: step 0 is history[-season]": lambda: history[
            -season - 1 : -1
        ][steps % season],
        "the forecast starts one step late: step 0 is history[-season]": lambda: history[
            time - season + (steps + 1) % season
        ],
        "for h >= season the index h - season counts from the start of the history: use "
        "h % season": lambda: history[steps - season],
    }


def _seasonal_case(answer, history, horizon: int, season: int) -> None:
    what = f"the forecast for horizon {horizon}, season {season}"
    forecast = call(answer, history, horizon, season)
    expected = _seasonal_naive(history, horizon, season)
    if isinstance(forecast, torch.Tensor) and horizon > season and forecast.shape == (season,):
        raise CheckFailed(
            f"{what} has {season} values: for a horizon longer than a season, repeat the last "
            "season (step h takes history[-season:][h % season])"
        )
    covered = season * (horizon // season)
    if isinstance(forecast, torch.Tensor) and covered != horizon and forecast.shape == (covered,):
        raise CheckFailed(
            f"{what} has {covered} values: repeating the season horizon // season times falls "
            "short; repeat it once more and cut, or index with h % season"
        )
    expect_tensor(forecast, expected, what)
    name_mistake(forecast, _known(_seasonal_mistakes(history, horizon, season), expected))
    expect_close(
        forecast,
        expected,
        what,
        "step h takes the value of the last observed season at position h % season",
    )


SEASONAL_HINTS = [
    (
        r"out of (bounds|range)",
        "an index runs past the end of the history: for h >= season, wrap around with h % season",
    ),
]


@exercise(reference=_seasonal_naive, hints=SEASONAL_HINTS)
def seasonal_naive_forecast(answer) -> int:
    """`seasonal_naive_forecast(history, horizon, season)`: (time,) -> (horizon,)."""
    g = torch.Generator().manual_seed(23)
    history = _series(g, 30)
    cases = [(5, 4), (12, 12), (30, 12), (3, 7), (1, 5)]
    for horizon, season in cases:
        _seasonal_case(answer, history, horizon, season)
    _seasonal_case(answer, _series(g, 9, F64), 7, 3)
    return len(cases) + 1
