"""Reference models that later lessons reuse once a lesson has built them."""

from __future__ import annotations

import torch
from torch import nn

from .errors import InputError, InputTypeError


class MLP(nn.Sequential):
    """Lesson 01's classifier: flatten, then Linear-ReLU layers, then a Linear to class logits.

    Input: images of shape (batch, 28, 28) (any trailing shape whose size is `in_features`);
    output: logits of shape (batch, num_classes).
    """

    def __init__(
        self,
        in_features: int = 784,
        hidden_sizes: tuple[int, ...] = (256, 128),
        num_classes: int = 10,
    ) -> None:
        layers: list[nn.Module] = [nn.Flatten()]
        sizes = (in_features, *hidden_sizes)
        for size_in, size_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(size_in, size_out), nn.ReLU()]
        layers.append(nn.Linear(sizes[-1], num_classes))
        super().__init__(*layers)


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters (elements) of `model`."""
    if not isinstance(model, nn.Module):
        raise InputTypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class SequenceClassifier(nn.Module):
    """A recurrent layer over the sequence, then a Linear from its last hidden state to logits.

    Taught in lesson 07 (RNN) and reused in lesson 08 (LSTM, GRU). Input: (batch, time,
    input_size), batch first; output: logits of shape (batch, num_classes).
    """

    CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

    def __init__(
        self,
        input_size: int = 28,
        hidden_size: int = 128,
        num_classes: int = 10,
        cell: str = "rnn",
        num_layers: int = 1,
    ) -> None:
        super().__init__()
        if cell not in self.CELLS:
            raise InputError(f"cell must be one of {sorted(self.CELLS)}, got {cell!r}")
        self.rnn = self.CELLS[cell](
            input_size, hidden_size, num_layers=num_layers, batch_first=True
        )
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[-1] != self.rnn.input_size:
            raise InputError(
                f"x must have shape (batch, time, {self.rnn.input_size}), got {tuple(x.shape)}"
            )
        output, _ = self.rnn(x)
        return self.head(output[:, -1])
