"""Plots the lessons share, drawn with matplotlib so they look the same everywhere.

Each function draws on `ax` (or a new figure) and returns the Axes it drew on.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from .validation import as_tensor, check_tensor, describe


def _axes(ax, figsize=(8, 3.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_series(
    series,
    forecast=None,
    forecast_start: int | None = None,
    *,
    labels: list[str] | None = None,
    title: str = "Series",
    xlabel: str = "time step",
    ylabel: str = "value",
    ax=None,
):
    """A series of shape (time,) and, optionally, a forecast of shape (horizon,) (lesson 02).

    The forecast is drawn from `forecast_start` (default: right after the series ends);
    `labels` are tick labels for the time axis (for example months), one per time step.
    """
    series = as_tensor("series", series, torch.float32)
    if series.dim() != 1:
        raise ValueError(f"series must be 1-D with shape (time,), got {describe(series)}")
    ax = _axes(ax)
    ax.plot(np.arange(len(series)), series.numpy(), label="observed", color="tab:blue")
    if forecast is not None:
        forecast = as_tensor("forecast", forecast, torch.float32)
        if forecast.dim() != 1:
            raise ValueError(
                f"forecast must be 1-D with shape (horizon,), got {describe(forecast)}"
            )
        start = len(series) if forecast_start is None else forecast_start
        steps = np.arange(start, start + len(forecast))
        ax.plot(steps, forecast.numpy(), label="forecast", color="tab:orange", linestyle="--")
        ax.legend()
    if labels is not None:
        if len(labels) < len(series):
            raise ValueError(f"labels has {len(labels)} entries, expected {len(series)}")
        ticks = np.linspace(0, len(series) - 1, min(len(series), 8)).round().astype(int)
        ax.set_xticks(ticks, [labels[i] for i in ticks])
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    return ax


def plot_history(history: dict[str, list[float]], title: str = "Training curves", axes=None):
    """Loss per epoch (train and validation) and, when present, validation accuracy (lesson 01).

    `history` is what `fit` returns. Returns the array of Axes.
    """
    if not isinstance(history, dict) or not history.get("train_loss"):
        raise ValueError(
            f"history must be the dict that fit() returns, with 'train_loss', got {describe(history)}"
        )
    has_accuracy = "val_accuracy" in history
    if axes is None:
        _, axes = plt.subplots(1, 1 + has_accuracy, figsize=(5 * (1 + has_accuracy), 3.5))
    axes = np.atleast_1d(axes)
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    axes[0].plot(epochs, history["train_loss"], marker="o", label="train")
    if "val_loss" in history:
        axes[0].plot(epochs, history["val_loss"], marker="o", label="validation")
    axes[0].set(title=f"{title}: loss", xlabel="epoch", ylabel="loss")
    axes[0].legend()
    if has_accuracy:
        axes[1].plot(
            epochs, 100 * np.asarray(history["val_accuracy"]), marker="o", color="tab:green"
        )
        axes[1].set(title=f"{title}: validation accuracy", xlabel="epoch", ylabel="accuracy (%)")
    for ax in axes:
        ax.grid(alpha=0.3)
    return axes


def plot_digits(images, labels, predictions=None, *, columns: int = 8, title: str = "Digits"):
    """A grid of images (n, 28, 28) titled with their labels (and predictions) (lesson 01).

    Returns the array of Axes.
    """
    images = check_tensor("images", images, 3, "(n, height, width)")
    labels = as_tensor("labels", labels)
    if len(labels) != len(images):
        raise ValueError(
            f"labels has {len(labels)} entries, expected one per image ({len(images)})"
        )
    if predictions is not None:
        predictions = as_tensor("predictions", predictions)
        if len(predictions) != len(images):
            raise ValueError(
                f"predictions has {len(predictions)} entries, expected one per image ({len(images)})"
            )
    columns = max(1, min(columns, len(images)))
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(1.3 * columns, 1.5 * rows + 0.4), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        ax.imshow(images[i].cpu(), cmap="gray_r")
        text = f"label {int(labels[i])}"
        if predictions is not None:
            wrong = int(predictions[i]) != int(labels[i])
            text += f"\npred {int(predictions[i])}"
            ax.set_title(text, fontsize=9, color="tab:red" if wrong else "black")
        else:
            ax.set_title(text, fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return axes
