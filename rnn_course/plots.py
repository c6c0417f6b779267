"""Plots the lessons share, drawn with matplotlib so they look the same everywhere.

Each plot_ function draws on `ax` (or a new figure) and returns the Axes it drew on; `show`
puts a figure in the notebook with its alt text.
"""

from __future__ import annotations

import base64
import io

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython import get_ipython
from IPython.display import display

from .errors import InputError
from .validation import as_tensor, check_tensor, describe


def show(alt: str, fig=None) -> None:
    """Show `fig` (default: the current figure) with `alt`, a sentence that says what it shows,
    and close it: `plt.show()` with alt text.

    In a notebook the figure becomes a PNG output whose metadata carries `alt` (as IPython's
    `Image(alt=...)` does), which HTML exports put on the image (nbconvert, nbgrader's
    feedback); `alt` is also the output's plain-text form. Outside IPython it is `plt.show()`.
    """
    if not isinstance(alt, str) or not alt.strip():
        raise InputError(f"alt must be a sentence that says what the figure shows, got {alt!r}")
    fig = plt.gcf() if fig is None else fig
    if get_ipython() is None:
        plt.show()
        return
    png = io.BytesIO()
    fig.savefig(png, format="png", bbox_inches="tight")  # as the inline backend draws it
    plt.close(fig)
    data = {"image/png": base64.b64encode(png.getvalue()).decode("ascii"), "text/plain": alt}
    display(data, raw=True, metadata={"image/png": {"alt": alt}})


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
        raise InputError(f"series must be 1-D with shape (time,), got {describe(series)}")
    ax = _axes(ax)
    ax.plot(np.arange(len(series)), series.numpy(), label="observed", color="tab:blue")
    if forecast is not None:
        forecast = as_tensor("forecast", forecast, torch.float32)
        if forecast.dim() != 1:
            raise InputError(
                f"forecast must be 1-D with shape (horizon,), got {describe(forecast)}"
            )
        start = len(series) if forecast_start is None else forecast_start
        steps = np.arange(start, start + len(forecast))
        ax.plot(steps, forecast.numpy(), label="forecast", color="tab:orange", linestyle="--")
        ax.legend()
    if labels is not None:
        if len(labels) < len(series):
            raise InputError(f"labels has {len(labels)} entries, expected {len(series)}")
        ticks = np.linspace(0, len(series) - 1, min(len(series), 6)).round().astype(int)
        ax.set_xticks(ticks, [labels[i] for i in ticks])
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    return ax


def plot_history(history: dict[str, list[float]], title: str = "Training curves", axes=None):
    """Loss per epoch (train and validation) and, when present, validation accuracy (lesson 01).

    `history` is what `fit` returns. Returns the array of Axes.
    """
    if not isinstance(history, dict) or not history.get("train_loss"):
        raise InputError(
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
        raise InputError(
            f"labels has {len(labels)} entries, expected one per image ({len(images)})"
        )
    if predictions is not None:
        predictions = as_tensor("predictions", predictions)
        if len(predictions) != len(images):
            raise InputError(
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
        ax.imshow(images[i].cpu().numpy(), cmap="gray_r")
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


def plot_confusion_matrix(
    labels,
    predictions,
    num_classes: int | None = None,
    *,
    title: str = "Confusion matrix",
    ax=None,
):
    """Counts of (true class, predicted class) pairs as an annotated grid (lesson 07).

    `labels` and `predictions` hold class indices, shape (n,) each; `num_classes` defaults to
    the largest index seen plus one. Row i, column j counts the examples of class i predicted
    as j, so the diagonal holds the right answers. Returns the Axes.
    """
    labels = as_tensor("labels", labels).cpu()
    predictions = as_tensor("predictions", predictions).cpu()
    for name, value in (("labels", labels), ("predictions", predictions)):
        if value.dim() != 1 or value.is_floating_point() or value.is_complex():
            raise InputError(
                f"{name} must be a 1-D tensor of class indices, shape (n,), got {describe(value)}"
            )
        if len(value) and value.min() < 0:
            raise InputError(f"{name} must hold class indices >= 0, got {int(value.min())}")
    if len(labels) != len(predictions):
        raise InputError(
            f"predictions has {len(predictions)} entries, expected one per label ({len(labels)})"
        )
    if len(labels) == 0:
        raise InputError("labels is empty; expected at least one example")
    seen = int(max(labels.max(), predictions.max())) + 1
    if num_classes is None:
        num_classes = seen
    elif not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < seen:
        raise InputError(
            f"num_classes must be an int >= {seen} (the largest class index plus one), "
            f"got {num_classes!r}"
        )
    pairs = labels.long() * num_classes + predictions.long()
    counts = torch.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)
    ax = _axes(ax, figsize=(0.55 * num_classes + 2, 0.55 * num_classes + 1.5))
    image = ax.imshow(counts.numpy(), cmap="Blues")
    threshold = counts.max().item() / 2
    for i in range(num_classes):
        for j in range(num_classes):
            value = counts[i, j].item()
            if value:
                ax.text(
                    j,
                    i,
                    str(value),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if value > threshold else "black",
                )
    ax.set_xticks(range(num_classes))
    ax.set_yticks(range(num_classes))
    ax.set(title=title, xlabel="predicted class", ylabel="true class")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="examples")
    return ax


def plot_gradient_norms(
    norms_by_label: dict,
    *,
    title: str = "Gradient norm against distance",
    ylabel: str = "gradient norm (log scale)",
    ax=None,
):
    """Gradient norms on a log scale against the distance from the loss (lessons 03 and 08).

    `norms_by_label` maps a curve's label to a 1-D tensor of shape (seq_len,) whose entry d is
    the norm d time steps before the loss (flip what `gradient_norms_over_time` returns).
    Returns the Axes.
    """
    if not isinstance(norms_by_label, dict) or not norms_by_label:
        raise InputError(
            f"norms_by_label must be a non-empty dict of label -> norms, got {describe(norms_by_label)}"
        )
    ax = _axes(ax, figsize=(8, 4))
    for label, norms in norms_by_label.items():
        norms = as_tensor(f"norms_by_label[{label!r}]", norms, torch.float64)
        if norms.dim() != 1:
            raise InputError(
                f"norms_by_label[{label!r}] must be 1-D with shape (seq_len,), got {describe(norms)}"
            )
        ax.semilogy(np.arange(len(norms)), norms.cpu().numpy(), label=str(label))
    ax.set(title=title, xlabel="distance from the loss (time steps)", ylabel=ylabel)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax
