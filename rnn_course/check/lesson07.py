"""Checks for lesson 07's exercises: rows_as_sequence, confusion_matrix, right_class_probability_by_row."""

from __future__ import annotations

import torch

from ..models import SequenceClassifier
from ._core import CheckFailed, call, exercise, expect_close, expect_tensor


@exercise
def rows_as_sequence(answer) -> int:
    """`rows_as_sequence(images)`: (batch, 1, height, width) -> (batch, time=height, features=width)."""
    g = torch.Generator().manual_seed(71)
    images = torch.rand(3, 1, 4, 5, generator=g)
    result = call(answer, images)
    expected = images[:, 0]
    if isinstance(result, torch.Tensor) and result.shape == (3, 20):
        raise CheckFailed(
            "the images were flattened to (batch, 20); keep the rows: (batch, height, width)"
        )
    if isinstance(result, torch.Tensor) and result.shape == (4, 3, 5):
        raise CheckFailed(
            "the result is (height, batch, width): that is batch_first=False; "
            "the course uses (batch, time, features)"
        )
    if isinstance(result, torch.Tensor) and result.shape == (3, 5, 4):
        raise CheckFailed(
            "the result is (batch, width, height): the sequence runs over the columns; "
            "time step t must be row t of the image"
        )
    expect_tensor(result, expected, "the sequences for images of shape (3, 1, 4, 5)")
    expect_close(result, expected, "the sequences", "time step t is row t of each image")
    square = torch.rand(2, 1, 6, 6, generator=g)
    result = call(answer, square)
    expect_tensor(result, square[:, 0], "the sequences for 6x6 images")
    if torch.allclose(result, square[:, 0].transpose(1, 2)):
        raise CheckFailed(
            "the sequence runs over the columns (height and width swapped): "
            "time step t must be row t of the image"
        )
    expect_close(result, square[:, 0], "the sequences for 6x6 images")
    return 3


def _confusion(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int) -> torch.Tensor:
    pairs = labels * num_classes + predictions
    return torch.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)


@exercise
def confusion_matrix(answer) -> int:
    """`confusion_matrix(labels, predictions, num_classes)`: (n,), (n,) -> (classes, classes) counts."""
    labels = torch.tensor([0, 0, 1, 2, 2, 2, 1])
    predictions = torch.tensor([0, 1, 1, 2, 0, 2, 1])
    result = call(answer, labels, predictions, 4)
    expected = _confusion(labels, predictions, 4)
    if isinstance(result, torch.Tensor) and result.shape == (3, 3):
        raise CheckFailed(
            "the matrix is 3 x 3 for num_classes=4: size it by num_classes, not by the classes seen"
        )
    expect_tensor(result, expected, "the matrix for num_classes=4")
    if result.is_floating_point() and not torch.equal(result, result.round()):
        raise CheckFailed("the matrix should hold whole counts, got fractions (normalized?)")
    result = result.to(torch.int64)
    if torch.equal(result, expected.T):
        raise CheckFailed(
            "the matrix is transposed: row i is the true class, column j the predicted class"
        )
    if result.sum() != len(labels):
        raise CheckFailed(
            f"the counts add up to {int(result.sum())}, expected one per example ({len(labels)})"
        )
    diagonal = torch.diag(expected)
    if not torch.equal(torch.diag(result), diagonal):
        raise CheckFailed(
            f"the diagonal (right answers per class) is {torch.diag(result).tolist()}, "
            f"expected {diagonal.tolist()}"
        )
    expect_close(
        result.float(), expected.float(), "the matrix", "cell (i, j) counts label i, prediction j"
    )
    g = torch.Generator().manual_seed(72)
    labels, predictions = (
        torch.randint(0, 10, (500,), generator=g),
        torch.randint(0, 10, (500,), generator=g),
    )
    result = call(answer, labels, predictions, 10)
    expect_close(
        torch.as_tensor(result).float(),
        _confusion(labels, predictions, 10).float(),
        "the matrix for 500 random labels and predictions",
    )
    return 5


def _probability_by_row(model, images, labels) -> torch.Tensor:
    with torch.no_grad():
        output, _ = model.rnn(images)
        probabilities = model.head(output).softmax(dim=-1)
    return probabilities.gather(2, labels.view(-1, 1, 1).expand(-1, images.shape[1], 1)).squeeze(2)


@exercise
def right_class_probability_by_row(answer) -> int:
    """`right_class_probability_by_row(model, images, labels)`: (batch, rows, width), (batch,) -> (batch, rows)."""
    torch.manual_seed(73)
    model = SequenceClassifier(input_size=6, hidden_size=8, num_classes=5).eval()
    g = torch.Generator().manual_seed(74)
    images = torch.rand(4, 7, 6, generator=g)
    labels = torch.tensor([0, 3, 4, 1])
    result = call(answer, model, images, labels)
    expected = _probability_by_row(model, images, labels)
    expect_tensor(result, expected, "the probabilities for 4 images of 7 rows")
    result = result.detach()
    with torch.no_grad():
        output, _ = model.rnn(images)
        logits = model.head(output)
    rows = torch.arange(4)
    wrong = {
        "the logits of the right class, not probabilities (apply softmax over the classes)": (
            logits[rows, :, labels]
        ),
        "the softmax taken over the rows (dim=1) instead of the classes": (
            logits.softmax(dim=1)[rows, :, labels]
        ),
        "the probability of the predicted class (the largest), not of the right class": (
            logits.softmax(dim=-1).amax(dim=-1)
        ),
    }
    for mistake, value in wrong.items():
        if torch.allclose(result, value, atol=1e-5):
            raise CheckFailed(f"the result is {mistake}")
    final = model(images).softmax(dim=-1)[rows, labels].detach()
    expect_close(
        result[:, -1],
        final,
        "the probability after the last row",
        "after the last row it must equal softmax(model(images)) at the label",
    )
    expect_close(
        result,
        expected,
        "the probabilities",
        "apply model.head to the RNN output at every row (output[:, t]), then softmax",
    )
    return 3
