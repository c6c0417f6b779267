"""Lesson 06's checks: catalogues of plausible wrong answers and of correct alternatives."""

import math
from collections import deque

import numpy as np
import torch
from catalogue import catalogue_tests
from torch.nn import functional as F

# ----------------------------------------------------------------------------- recursive_forecast


@torch.no_grad()
def recursive(model, windows, steps):
    window, forecasts = windows.clone(), []
    for _ in range(steps):
        next_value = model(window)
        forecasts.append(next_value)
        window = torch.cat([window[:, 1:], next_value], dim=1)
    return torch.cat(forecasts, dim=1)


def recursive_preallocated(model, windows, steps):
    size = windows.shape[1]
    values = torch.cat([windows, torch.zeros(windows.shape[0], steps)], dim=1)
    with torch.no_grad():
        for k in range(steps):
            values[:, size + k] = model(values[:, k : k + size])[:, 0]
    return values[:, size:]


def recursive_roll(model, windows, steps):
    window = windows.clone()
    out = torch.empty(windows.shape[0], steps)
    for k in range(steps):
        prediction = model(window).detach()
        out[:, k] = prediction.squeeze(1)
        window = window.roll(-1, dims=1)  # the oldest value goes to the end...
        window[:, -1] = prediction[:, 0]  # ...and is replaced there by the prediction
    return out


def recursive_keep_last(model, windows, steps):
    size, window, forecasts = windows.shape[1], windows, []
    for _ in range(steps):
        forecasts.append(model(window))
        window = torch.cat((window, forecasts[-1]), dim=1)[:, -size:]
    return torch.stack(forecasts, dim=1).squeeze(-1).detach()


def recursive_deque(model, windows, steps):
    rows = []
    for row in windows:
        window = deque(row.tolist(), maxlen=len(row))
        forecasts = []
        for _ in range(steps):
            value = model(torch.tensor([list(window)])).item()
            forecasts.append(value)
            window.append(value)  # maxlen drops the oldest
        rows.append(forecasts)
    return torch.tensor(rows)


def recursive_update(update, skip_first=False):
    @torch.no_grad()
    def answer(model, windows, steps):
        window, forecasts = windows.clone(), []
        for _ in range(steps + skip_first):
            next_value = model(window)
            forecasts.append(next_value)
            window = update(window, next_value)
        return torch.cat(forecasts[skip_first:], dim=1)

    return answer


def recursive_in_place(model, windows, steps):
    forecasts = []
    with torch.no_grad():
        for _ in range(steps):
            prediction = model(windows)
            forecasts.append(prediction)
            windows[:, :-1] = windows[:, 1:].clone()
            windows[:, -1:] = prediction
    return torch.cat(forecasts, dim=1)


def recursive_squeezed(model, windows, steps):
    return recursive(model, windows, steps).squeeze()


def recursive_stacked(model, windows, steps):
    window, forecasts = windows.clone(), []
    for _ in range(steps):
        next_value = model(window)
        forecasts.append(next_value)
        window = torch.cat([window[:, 1:], next_value], dim=1)
    return torch.stack(forecasts, dim=1)


def recursive_time_first(model, windows, steps):
    return recursive(model, windows, steps).T


def recursive_one_short(model, windows, steps):
    return (
        recursive(model, windows, steps - 1) if steps > 1 else recursive(model, windows, 1)[:, :0]
    )


def recursive_squeezed_prediction(model, windows, steps):
    window, forecasts = windows.clone(), []
    for _ in range(steps):
        next_value = model(window).squeeze()
        forecasts.append(next_value)
        window = torch.cat([window[:, 1:], next_value], dim=1)
    return torch.stack(forecasts, dim=1)


def recursive_list(model, windows, steps):
    return [column for column in recursive(model, windows, steps).T]


# ----------------------------------------------------------------------------- forecast_errors


def errors(forecast, truth):
    e = forecast - truth
    return e.pow(2).mean().sqrt().item(), 100 * (e.abs() / truth.abs()).mean().item()


def errors_torch_functions(forecast, truth):
    rmse = torch.sqrt(F.mse_loss(forecast, truth)).item()
    mape = torch.mean(torch.abs((forecast - truth) / truth)).item() * 100
    return [rmse, mape]


def errors_python(forecast, truth):
    pairs = list(zip(forecast.tolist(), truth.tolist()))
    rmse = math.sqrt(sum((f - y) ** 2 for f, y in pairs) / len(pairs))
    mape = 100 * sum(abs(f - y) / abs(y) for f, y in pairs) / len(pairs)
    return rmse, mape


def errors_numpy(forecast, truth):
    f, y = forecast.numpy().astype(np.float64), truth.numpy().astype(np.float64)
    return float(np.sqrt(np.mean((f - y) ** 2))), float(100 * np.mean(np.abs(f - y) / np.abs(y)))


def errors_norm(forecast, truth):
    n = truth.numel()
    rmse = (torch.linalg.vector_norm(forecast - truth) / math.sqrt(n)).item()
    mape = (forecast - truth).div(truth).abs().mul(100).mean().item()
    return rmse, mape


def errors_with(rmse=None, mape=None):
    def answer(forecast, truth):
        e = forecast - truth
        right_rmse, right_mape = errors(forecast, truth)
        values = {
            "mse": e.pow(2).mean().item(),
            "mae": e.abs().mean().item(),
            "sqrt sum": e.pow(2).sum().sqrt().item(),
            "fraction": (e.abs() / truth.abs()).mean().item(),
            "by forecast": 100 * (e.abs() / forecast.abs()).mean().item(),
            "signed": abs(100 * (e / truth.abs()).mean().item()),
            "no abs truth": 100 * (e.abs() / truth).mean().item(),
            "ratio of means": 100 * e.abs().mean().item() / truth.abs().mean().item(),
        }
        return values.get(rmse, right_rmse), values.get(mape, right_mape)

    return answer


def errors_in_place(forecast, truth):
    forecast -= truth
    return forecast.pow(2).mean().sqrt().item(), 100 * (forecast.abs() / truth.abs()).mean().item()


WRONG = {
    "recursive_forecast": [
        (
            "window grows",
            recursive_update(lambda w, p: torch.cat([w, p], dim=1)),
            r"raised RuntimeError(.|\n)*hint: the window grew from 5 to 6 values: drop the oldest",
        ),
        (
            "window shrinks",
            recursive_update(lambda w, p: torch.cat([w[:, 2:], p], dim=1)),
            r"hint: the window shrank from 5 to 4 values",
        ),
        ("never updated", recursive_update(lambda w, p: w), r"repeats the first forecast"),
        (
            "prediction first",
            recursive_update(lambda w, p: torch.cat([p, w[:, :-1]], dim=1)),
            r"put at the start of the window",
        ),
        (
            "newest dropped",
            recursive_update(lambda w, p: torch.cat([w[:, :-1], p], dim=1)),
            r"newest value is dropped",
        ),
        (
            "last observed value appended",
            recursive_update(lambda w, p: torch.cat([w[:, 1:], w[:, -1:]], dim=1)),
            r"own last observed value",
        ),
        (
            "first forecast skipped",
            recursive_update(lambda w, p: torch.cat([w[:, 1:], p], dim=1), skip_first=True),
            r"first forecast is missing",
        ),
        (
            "windows changed in place",
            recursive_in_place,
            r"changed its argument `windows` in place",
        ),
        ("squeezed", recursive_squeezed, r"batch of one lost its batch dimension"),
        ("stacked (batch, steps, 1)", recursive_stacked, r"return \(batch, steps\)"),
        ("time first", recursive_time_first, r"steps are stacked along dim 0"),
        ("one step short", recursive_one_short, r"has 3 forecasts per window, expected 4"),
        (
            "prediction squeezed before cat",
            recursive_squeezed_prediction,
            r"raised RuntimeError(.|\n)*hint: the model returns \(batch, 1\)",
        ),
        ("a list", recursive_list, r"should be a tensor, got list"),
    ],
    "forecast_errors": [
        ("MSE", errors_with(rmse="mse"), r"rmse is the mean squared error"),
        ("MAE", errors_with(rmse="mae"), r"rmse is the mean absolute error"),
        ("root of the sum", errors_with(rmse="sqrt sum"), r"root of the sum of squares"),
        ("MAPE as a fraction", errors_with(mape="fraction"), r"give it in percent"),
        ("divides by the forecast", errors_with(mape="by forecast"), r"divides by the forecast"),
        ("signed errors", errors_with(mape="signed"), r"averages signed errors"),
        ("no abs on the truth", errors_with(mape="no abs truth"), r"without its absolute value"),
        ("ratio of means", errors_with(mape="ratio of means"), r"divides the mean error by"),
        ("(mape, rmse)", lambda f, y: errors(f, y)[::-1], r"the pair is \(mape, rmse\)"),
        (
            "tensors",
            lambda f, y: ((f - y).pow(2).mean().sqrt(), 100 * ((f - y).abs() / y.abs()).mean()),
            r"should be a Python float, got a tensor: use .item",
        ),
        ("forecast changed in place", errors_in_place, r"changed its argument `forecast` in place"),
        (
            "rmse only",
            lambda f, y: errors(f, y)[0],
            r"should return a pair \(rmse, mape\), got float",
        ),
        ("a dict", lambda f, y: dict(zip(("rmse", "mape"), errors(f, y))), r"got dict"),
    ],
}

RIGHT = {
    "recursive_forecast": [
        ("cat and slide", recursive),
        ("preallocated series", recursive_preallocated),
        ("roll and overwrite", recursive_roll),
        ("append, keep the last window", recursive_keep_last),
        ("a deque per window, Python floats", recursive_deque),
    ],
    "forecast_errors": [
        (".item() on tensors", errors),
        ("F.mse_loss, a list", errors_torch_functions),
        ("plain Python", errors_python),
        ("NumPy", errors_numpy),
        ("vector norm", errors_norm),
    ],
}

test_wrong, test_right = catalogue_tests(WRONG, RIGHT)
