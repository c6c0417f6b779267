"""Lesson 02's checks: plausible wrong answers rejected with the right message, correct ones passed."""

import numpy as np
import torch
from catalogue import catalogue_tests

# ----------------------------------------------------------------------------- make_windows


def windows(series, window, horizon=1):
    n = len(series) - window - horizon + 1
    inputs = torch.stack([series[i : i + window] for i in range(n)])
    targets = torch.stack([series[i + window : i + window + horizon] for i in range(n)])
    return inputs, targets


def windows_one_short(series, window, horizon=1):
    inputs, targets = windows(series, window, horizon)
    return inputs[:-1], targets[:-1]


def windows_one_too_many(series, window, horizon=1):
    n = len(series) - window + 1
    inputs = torch.stack([series[i : i + window] for i in range(n)])
    targets = torch.stack([series[i + window : i + window + horizon] for i in range(n)])
    return inputs, targets


def windows_last_value_target(series, window, horizon=1):
    inputs, _ = windows(series, window, horizon)
    return inputs, inputs[:, -horizon:]


def windows_flat_targets(series, window, horizon=1):
    inputs, targets = windows(series, window, horizon)
    return inputs, targets.squeeze(1)


def windows_horizon_ignored(series, window, horizon=1):
    inputs, _ = windows(series, window, horizon)
    return inputs, series[window : window + len(inputs)].unsqueeze(1)


def windows_late_target(series, window, horizon=1):
    n = len(series) - window - horizon
    inputs = torch.stack([series[i : i + window] for i in range(n + 1)])
    targets = torch.stack(
        [series[i + window + 1 : i + window + 1 + horizon] for i in range(n)] + [series[-horizon:]]
    )
    return inputs, targets


def windows_not_overlapping(series, window, horizon=1):
    starts = range(0, len(series) - window - horizon + 1, window)
    inputs = torch.stack([series[s : s + window] for s in starts])
    targets = torch.stack([series[s + window : s + window + horizon] for s in starts])
    return inputs, targets


def windows_transposed(series, window, horizon=1):
    inputs, targets = windows(series, window, horizon)
    return inputs.T, targets


def windows_newest_first(series, window, horizon=1):
    inputs, targets = windows(series, window, horizon)
    return inputs.flip(0), targets.flip(0)


def windows_positions(series, window, horizon=1):
    n = len(series) - window - horizon + 1
    inputs = torch.stack([torch.arange(i, i + window, dtype=series.dtype) for i in range(n)])
    return inputs, windows(series, window, horizon)[1]


def windows_with_target(series, window, horizon=1):
    n = len(series) - window - horizon + 1
    inputs = torch.stack([series[i : i + window + horizon] for i in range(n)])
    return inputs, windows(series, window, horizon)[1]


def windows_swapped(series, window, horizon=1):
    inputs, targets = windows(series, window, horizon)
    return targets, inputs


def windows_lists(series, window, horizon=1):
    n = len(series) - window - horizon + 1
    return [series[i : i + window] for i in range(n)], [
        series[i + window : i + window + horizon] for i in range(n)
    ]


def windows_no_default(series, window, horizon):
    return windows(series, window, horizon)


def windows_unfold(series, window, horizon=1):
    n = len(series) - window - horizon + 1
    return series.unfold(0, window, 1)[:n], series[window:].unfold(0, horizon, 1)[:n]


def windows_indices(series, window, horizon=1):
    n = len(series) - window - horizon + 1
    starts = torch.arange(n)[:, None]
    return series[starts + torch.arange(window)], series[starts + window + torch.arange(horizon)]


def windows_numpy(series, window, horizon=1):
    view = np.lib.stride_tricks.sliding_window_view(series.numpy(), window + horizon)
    both = torch.from_numpy(view.copy())
    return [both[:, :window], both[:, window:]]


def windows_float_lists(series, window, horizon=1):
    values = series.tolist()
    n = len(values) - window - horizon + 1
    inputs = torch.tensor([values[i : i + window] for i in range(n)])
    targets = torch.tensor([values[i + window : i + window + horizon] for i in range(n)])
    return inputs, targets


# ----------------------------------------------------------------------------- standardize


def scaled(train, test):
    mean, std = train.mean(), train.std()
    return (train - mean) / std, (test - mean) / std


def scaled_leaky(train, test):
    both = torch.cat([train, test])
    return (train - both.mean()) / both.std(), (test - both.mean()) / both.std()


def scaled_own(train, test):
    return (train - train.mean()) / train.std(), (test - test.mean()) / test.std()


def scaled_own_mean(train, test):
    return (train - train.mean()) / train.std(), (test - test.mean()) / train.std()


def scaled_variance(train, test):
    mean, var = train.mean(), train.var()
    return (train - mean) / var, (test - mean) / var


def scaled_min_max(train, test):
    low, high = train.min(), train.max()
    return (train - low) / (high - low), (test - low) / (high - low)


def scaled_no_centring(train, test):
    return train / train.std(), test / train.std()


def scaled_centring_only(train, test):
    return train - train.mean(), test - train.mean()


def scaled_in_place(train, test):
    mean, std = train.mean(), train.std()
    train -= mean
    train /= std
    return train, (test - mean) / std


def scaled_swapped(train, test):
    train_scaled, test_scaled = scaled(train, test)
    return test_scaled, train_scaled


def scaled_concatenated(train, test):
    return torch.cat(scaled(train, test))


def scaled_numpy(train, test):
    a, b = train.numpy(), test.numpy()
    return (a - a.mean()) / a.std(ddof=1), (b - a.mean()) / a.std(ddof=1)


def scaled_std_mean(train, test):
    std, mean = torch.std_mean(train)
    return [(train - mean) / std, (test - mean) / std]


def scaled_population_std(train, test):
    mean, std = train.mean(), train.std(correction=0)
    return (train - mean) / std, (test - mean) / std


def scaled_by_hand(train, test):
    mean = train.sum() / len(train)
    std = (((train - mean) ** 2).sum() / (len(train) - 1)).sqrt()
    return (train - mean) / std, (test - mean) / std


def scaled_float64(train, test):
    mean, std = train.double().mean(), train.double().std()
    return ((train - mean) / std).to(train.dtype), ((test - mean) / std).to(test.dtype)


# ----------------------------------------------------------------------------- seasonal naive


def seasonal(history, horizon, season):
    return history[-season:][torch.arange(horizon) % season]


def seasonal_loop_python_floats(history, horizon, season):
    return [history[-season + h % season].item() for h in range(horizon)]


WRONG = {
    "make_windows": [
        ("one window short", windows_one_short, r"one short: there are time - window"),
        ("one window too many", windows_one_too_many, r"run past the end"),
        ("target is the last value", windows_last_value_target, r"last value of its window"),
        ("targets (n,)", windows_flat_targets, r"one row of `horizon` values"),
        ("horizon ignored", windows_horizon_ignored, r"next `horizon` = 3 values"),
        ("target one step late", windows_late_target, r"one step late"),
        ("windows do not overlap", windows_not_overlapping, r"do not overlap"),
        ("inputs transposed", windows_transposed, r"transposed; one row per window"),
        ("newest window first", windows_newest_first, r"reverse time order"),
        ("positions, not values", windows_positions, r"positions, not the series' values"),
        ("target inside the window", windows_with_target, r"not part of it"),
        ("pair swapped", windows_swapped, r"the pair is \(targets, inputs\)"),
        ("lists of windows", windows_lists, r"inputs for .* should be a tensor, got list"),
        ("no default horizon", windows_no_default, r"horizon a default of 1"),
        ("in place", lambda s, w, h=1: windows(s.unsqueeze_(0)[0], w, h), r"argument `series`"),
        (
            "unfold without the cut",
            lambda s, w, h=1: (s.unfold(0, w, 1), s[w:].unfold(0, h, 1)),
            r"have no target after them",
        ),
    ],
    "standardize": [
        ("statistics of both parts", scaled_leaky, r"include the test part"),
        ("test with its own statistics", scaled_own, r"its own mean and std"),
        ("test centred on its own mean", scaled_own_mean, r"centred on its own mean"),
        ("divided by the variance", scaled_variance, r"divided by the variance"),
        ("min-max", scaled_min_max, r"min-max scaling"),
        ("not centred", scaled_no_centring, r"mean is not subtracted"),
        ("not divided", scaled_centring_only, r"not divided by the std"),
        ("train changed in place", scaled_in_place, r"changed its argument `train`"),
        ("pair swapped", scaled_swapped, r"\(test_scaled, train_scaled\)"),
        ("one tensor", scaled_concatenated, r"should return a pair"),
        ("numpy arrays", scaled_numpy, r"should be a tensor, got ndarray"),
        (
            "multiplied by std",
            lambda a, b: ((a - a.mean()) * a.std(), (b - a.mean()) * a.std()),
            r"multiplied by the std",
        ),
        (
            "test divided by its own std",
            lambda a, b: ((a - a.mean()) / a.std(), (b - a.mean()) / b.std()),
            r"its own std",
        ),
    ],
    "seasonal_naive_forecast": [
        ("naive", lambda h, n, s: h[-1].repeat(n), r"that is the naive forecast"),
        ("last horizon values", lambda h, n, s: h[-n:], r"the last `horizon` values"),
        ("one season only", lambda h, n, s: h[-s:][:n], r"repeat the last season"),
        (
            "repeat too few",
            lambda h, n, s: h[-s:].repeat(n // s),
            r"falls short|repeat the last season",
        ),
        ("first season", lambda h, n, s: h[:s][torch.arange(n) % s], r"first season"),
        ("backwards", lambda h, n, s: h[-1 - torch.arange(n) % s], r"read backwards"),
        ("one step early", lambda h, n, s: h[-s - 1 : -1][torch.arange(n) % s], r"one step early"),
        ("one step late", lambda h, n, s: h[-s:][(torch.arange(n) + 1) % s], r"one step late"),
        ("no modulo", lambda h, n, s: h[torch.arange(n) - s], r"counts from the start"),
        ("python floats", seasonal_loop_python_floats, r"should be a tensor, got list"),
        (
            "0-D for horizon 1",
            lambda h, n, s: h[-s] if n == 1 else seasonal(h, n, s),
            r"shape \(1,\)",
        ),
        (
            "seasonal mean",
            lambda h, n, s: h[len(h) % s :].reshape(-1, s).mean(0)[torch.arange(n) % s],
            r"horizon 5, season 4 is wrong",
        ),
        (
            "index past the end",
            lambda h, n, s: torch.stack([h[len(h) - s + k] for k in range(n)]),
            r"raised IndexError(.|\n)*wrap around with h % season",
        ),
    ],
}

RIGHT = {
    "make_windows": [
        ("loop and stack", windows),
        ("unfold", windows_unfold),
        ("index arithmetic", windows_indices),
        ("numpy sliding window, a list", windows_numpy),
        ("Python lists to tensors", windows_float_lists),
    ],
    "standardize": [
        ("mean and std", scaled),
        ("std_mean, a list", scaled_std_mean),
        ("population std", scaled_population_std),
        ("by hand", scaled_by_hand),
        ("float64 inside", scaled_float64),
    ],
    "seasonal_naive_forecast": [
        ("modulo index", seasonal),
        ("repeat the season", lambda h, n, s: h[-s:].repeat(n // s + 1)[:n]),
        ("loop and stack", lambda h, n, s: torch.stack([h[-s + k % s] for k in range(n)])),
        ("tile", lambda h, n, s: torch.tile(h[len(h) - s :], (-(-n // s),))[:n]),
        (
            "float32 tensor of floats",
            lambda h, n, s: torch.tensor(seasonal_loop_python_floats(h, n, s)),
        ),
    ],
}

test_wrong, test_right = catalogue_tests(WRONG, RIGHT)
