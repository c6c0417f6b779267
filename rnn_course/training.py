"""The training loop that lesson 01 builds by hand, kept here for the later lessons.

Data stay in memory as tensors and move to the device once; batches are slices of them.
"""

from __future__ import annotations

import os
import time

import torch
from torch import nn
from tqdm.auto import tqdm

from .errors import InputError
from .validation import check_positive_int, describe

_TRUE = ("1", "true", "yes", "on")


def _check_data(name: str, data) -> tuple[torch.Tensor, torch.Tensor]:
    if (
        not isinstance(data, (tuple, list))
        or len(data) != 2
        or not all(isinstance(t, torch.Tensor) for t in data)
    ):
        raise TypeError(f"{name} must be a pair of tensors (inputs, targets), got {describe(data)}")
    inputs, targets = data
    if len(inputs) != len(targets) or len(inputs) == 0:
        raise ValueError(
            f"{name} must hold as many targets as inputs (at least one), got {len(inputs)} inputs "
            f"and {len(targets)} targets"
        )
    return inputs, targets


def _batches(n: int, batch_size: int, shuffle: bool, device: torch.device):
    order = torch.randperm(n, device=device) if shuffle else torch.arange(n, device=device)
    return order.split(batch_size)


def _is_classification(outputs: torch.Tensor, targets: torch.Tensor) -> bool:
    return outputs.dim() == 2 and targets.dim() == 1 and not targets.is_floating_point()


@torch.no_grad()
def predict(
    model: nn.Module, inputs: torch.Tensor, batch_size: int = 1024, device=None
) -> torch.Tensor:
    """The model's outputs for `inputs` (first axis: batch), computed in eval mode, on the CPU."""
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"inputs must be a tensor with the batch first, got {describe(inputs)}")
    check_positive_int("batch_size", batch_size)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.eval()
    inputs = inputs.to(device)
    outputs = [model(inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)]
    return torch.cat(outputs).cpu()


@torch.no_grad()
def evaluate(
    model: nn.Module, data, loss_fn: nn.Module, batch_size: int = 1024, device=None
) -> dict[str, float]:
    """Mean loss over `data` = (inputs, targets), and accuracy when targets are class labels."""
    inputs, targets = _check_data("data", data)
    check_positive_int("batch_size", batch_size)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    inputs, targets = inputs.to(device), targets.to(device)
    model.eval()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    classification = False
    for index in _batches(len(inputs), batch_size, shuffle=False, device=device):
        outputs = model(inputs[index])
        total_loss += loss_fn(outputs, targets[index]) * len(index)
        classification = _is_classification(outputs, targets)
        if classification:
            correct += (outputs.argmax(dim=1) == targets[index]).sum()
    result = {"loss": total_loss.item() / len(inputs)}
    if classification:
        result["accuracy"] = correct.item() / len(inputs)
    return result


def fit(
    model: nn.Module,
    train_data,
    *,
    epochs: int,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 1e-3,
    batch_size: int = 64,
    val_data=None,
    clip_grad_norm: float | None = None,
    device=None,
    progress: bool = True,
    verbose: bool = True,
    scheduler=None,
) -> dict[str, list[float]]:
    """Train `model` on `train_data` = (inputs, targets) for `epochs` epochs (lesson 01's loop).

    Inputs have the batch first, e.g. (batch, time, features); they and the model move to
    `device` (default: the model's) once. The optimizer defaults to Adam with `lr`;
    `clip_grad_norm` clips the gradient norm of each step; `scheduler` (a learning-rate
    scheduler of `optimizer`, lessons 07 and 08) is stepped once after each epoch. Prints one
    line per epoch unless `verbose=False`; `progress` shows a progress bar over the batches.

    Returns the history: lists 'train_loss', 'epoch_seconds', and with `val_data` 'val_loss'
    (and 'val_accuracy' for class labels), one value per epoch.
    """
    inputs, targets = _check_data("train_data", train_data)
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    if clip_grad_norm is not None and not clip_grad_norm > 0:
        raise ValueError(f"clip_grad_norm must be positive or None, got {clip_grad_norm!r}")
    if val_data is not None:
        _check_data("val_data", val_data)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    inputs, targets = inputs.to(device), targets.to(device)
    if val_data is not None:
        val_data = tuple(tensor.to(device) for tensor in val_data)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    if scheduler is not None and getattr(scheduler, "optimizer", None) is not optimizer:
        raise InputError(
            "scheduler must schedule the optimizer that fit uses: pass that optimizer as "
            "optimizer= and build the scheduler on it"
        )

    # TQDM_DISABLE=1 (run-all, grading) turns the bar off; tqdm's notebook bar ignores it itself.
    show_bar = progress and os.environ.get("TQDM_DISABLE", "").strip().lower() not in _TRUE
    history: dict[str, list[float]] = {"train_loss": [], "epoch_seconds": []}
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        total_loss = torch.zeros((), device=device)
        batches = _batches(len(inputs), batch_size, shuffle=True, device=device)
        bar = tqdm(batches, desc=f"epoch {epoch}/{epochs}", leave=False, disable=not show_bar)
        for index in bar:
            optimizer.zero_grad()
            loss = loss_fn(model(inputs[index]), targets[index])
            loss.backward()
            if clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()
            total_loss += loss.detach() * len(index)
        history["train_loss"].append(total_loss.item() / len(inputs))
        history["epoch_seconds"].append(time.perf_counter() - start)
        if scheduler is not None:
            scheduler.step()
        line = f"epoch {epoch}/{epochs} | train loss {history['train_loss'][-1]:.4g}"
        if val_data is not None:
            for key, value in evaluate(model, val_data, loss_fn, device=device).items():
                history.setdefault(f"val_{key}", []).append(value)
                line += f" | val {key} " + (f"{value:.2%}" if key == "accuracy" else f"{value:.4g}")
        if verbose:
            print(f"{line} | {history['epoch_seconds'][-1]:.1f} s")
    return history
