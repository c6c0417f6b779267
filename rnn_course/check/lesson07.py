"""Checks for lesson 07's exercises: rows_as_sequence, confusion_matrix, right_class_probability."""

from __future__ import annotations

import torch

from ._core import (
    CheckFailed,
    call,
    exercise,
    expect_close,
    expect_dtype,
    expect_tensor,
    name_mistake,
    same,
)

# ----------------------------------------------------------------------------- rows_as_sequence


def _rows_as_sequence(images):
    """(batch, 1, height, width) -> (batch, time=height, features=width)."""
    return images[:, 0]


def _sequence_shape_mistake(result, images: torch.Tensor) -> None:
    """Name the shape a plausible mistake gives, before the generic shape message."""
    if not isinstance(result, torch.Tensor):
        return
    batch, _, height, width = images.shape
    shape = tuple(result.shape)
    mistakes = {
        (batch, height * width): "the images were flattened to (batch, height * width); keep the "
        "rows: (batch, height, width)",
        (batch, 1, height, width): "the channel axis is still there: drop axis 1, the channel, "
        "to get (batch, height, width)",
        (height, batch, width): "the result is (height, batch, width), the layout of "
        "batch_first=False; the course uses (batch, time, features)",
        (batch, width, height): "the result is (batch, width, height): the sequence runs over the "
        "columns; time step t must be row t of the image",
    }
    if batch == 1:
        mistakes[(height, width)] = (
            "the batch axis is gone for a batch of one image: squeeze() removes every axis of "
            "size 1; remove only the channel axis (squeeze(1) or images[:, 0])"
        )
    else:
        mistakes[(1, height, width)] = "only one image came back: keep every image of the batch"
    if shape != (batch, height, width) and shape in mistakes:
        raise CheckFailed(mistakes[shape])


@exercise(reference=_rows_as_sequence)
def rows_as_sequence(answer) -> int:
    """`rows_as_sequence(images)`: (batch, 1, height, width) -> (batch, height, width)."""
    g = torch.Generator().manual_seed(71)
    cases = [
        torch.rand(3, 1, 4, 5, generator=g),  # not square: a transpose changes the shape
        torch.rand(2, 1, 6, 6, generator=g),  # square: a transpose must be caught by value
        torch.rand(1, 1, 28, 28, generator=g),  # a batch of one, MNIST's size
    ]
    for images in cases:
        what = f"the sequences for images of shape {tuple(images.shape)}"
        result = call(answer, images)
        expected = images[:, 0]
        _sequence_shape_mistake(result, images)
        expect_tensor(result, expected, what)
        expect_dtype(result, images.dtype, what, "keep the pixels as they are")
        name_mistake(
            result,
            {
                "the sequence runs over the columns (height and width swapped): time step t must "
                "be row t of the image": expected.transpose(1, 2),
                "the rows run from the bottom up: time step t must be row t, counted from the "
                "top": expected.flip(1),
                "the pixels of each row are reversed: keep each row as it is": expected.flip(2),
                "the pixels were scaled by 255: keep their values": 255 * expected,
            },
        )
        expect_close(result, expected, what, "time step t is row t of each image")
    return len(cases)


# ----------------------------------------------------------------------------- confusion_matrix


def _confusion_matrix(labels, predictions, num_classes):
    """(n,), (n,) int64 -> (num_classes, num_classes) int64 counts, [true, predicted]."""
    pairs = labels * num_classes + predictions
    counts = torch.bincount(pairs, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def _bincount_hint(kind: str, message: str, args) -> str | None:
    if "invalid for input of size" in message:
        return (
            "torch.bincount returns max + 1 bins, fewer than num_classes * num_classes when the "
            "last pairs never occur: pass minlength=num_classes * num_classes"
        )
    if "out of bounds" in message or "out of range" in message:
        return "an index reaches num_classes: size the matrix (num_classes, num_classes)"
    return None


def _check_counts(result, labels, predictions, num_classes: int) -> None:
    expected = _confusion_matrix(labels, predictions, num_classes)
    what = f"the matrix for {len(labels)} examples, num_classes={num_classes}"
    if isinstance(result, torch.Tensor):
        seen = int(max(labels.max(), predictions.max())) + 1
        if seen != num_classes and result.shape == (seen, seen):
            raise CheckFailed(
                f"the matrix is {seen} x {seen} for num_classes={num_classes}: size it by "
                "num_classes, not by the classes that occur"
            )
    expect_tensor(result, expected, what)
    if result.is_floating_point():
        total = expected.sum()
        name_mistake(
            result,
            {
                "the counts were divided by the number of examples: return whole counts": (
                    expected.double() / total
                ),
                "each row was normalised to sum to 1: return whole counts": (
                    expected.double() / expected.sum(1, keepdim=True)
                ),
            },
            tol=1e-6,
        )
    expect_dtype(
        result,
        torch.int64,
        what,
        "counts are whole numbers: create the matrix with dtype=torch.int64 (or use torch.bincount)",
    )
    if same(result, expected):
        return
    name_mistake(
        result,
        {
            "the matrix is transposed: row i is the true class, column j the predicted class": (
                expected.T
            ),
            "each (label, prediction) pair is counted once however often it occurs: "
            "`matrix[labels, predictions] += 1` does not add up repeated pairs; use a loop, "
            "torch.bincount or index_put_(..., accumulate=True)": (expected > 0).long(),
        },
    )
    if int(result.sum()) != len(labels):
        raise CheckFailed(
            f"{what}: the counts add up to {int(result.sum())}, expected one per example "
            f"({len(labels)})"
        )
    diagonal = torch.diag(expected)
    if not torch.equal(torch.diag(result), diagonal):
        raise CheckFailed(
            f"{what}: the diagonal (right answers per class) is {torch.diag(result).tolist()}, "
            f"expected {diagonal.tolist()}"
        )
    expect_close(result, expected, what, "entry [i, j] counts true class i predicted as j")


@exercise(reference=_confusion_matrix, hints=[_bincount_hint])
def confusion_matrix(answer) -> int:
    """`confusion_matrix(labels, predictions, num_classes)`: (n,), (n,) -> (C, C) int64 counts."""
    g = torch.Generator().manual_seed(72)
    cases = [
        # Repeated pairs, and a class (3) that never occurs.
        (torch.tensor([0, 0, 1, 2, 2, 2, 1]), torch.tensor([0, 1, 1, 2, 0, 2, 1]), 4),
        (torch.randint(0, 10, (500,), generator=g), torch.randint(0, 10, (500,), generator=g), 10),
        (torch.tensor([2]), torch.tensor([0]), 3),  # one example
    ]
    for labels, predictions, num_classes in cases:
        result = call(answer, labels, predictions, num_classes)
        _check_counts(result, labels, predictions, num_classes)
    return len(cases)


# ----------------------------------------------------------------------------- probability by row


def _right_class_probability(states, weight, bias, labels):
    """(batch, rows, hidden), (rows, classes, hidden), (rows, classes), (batch,) -> (batch, rows)."""
    logits = torch.einsum("bth,tch->btc", states, weight) + bias
    probabilities = logits.softmax(dim=-1)
    index = labels.view(-1, 1, 1).expand(-1, states.shape[1], 1)
    return probabilities.gather(2, index).squeeze(2)


def _pick_labels(values: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """values (batch, rows, classes) at each image's label -> (batch, rows)."""
    return values[torch.arange(len(labels)), :, labels]


def _probability_mistakes(states, weight, bias, labels) -> dict[str, torch.Tensor]:
    rows = states.shape[1]
    logits = torch.einsum("bth,tch->btc", states, weight) + bias
    first = torch.einsum("bth,ch->btc", states, weight[0]) + bias[0]
    last = torch.einsum("bth,ch->btc", states, weight[-1]) + bias[-1]
    final_state = states[:, -1:].expand(-1, rows, -1)
    mistakes = {
        "the logits of the right class, not probabilities: apply softmax over the classes": (
            _pick_labels(logits, labels)
        ),
        "the softmax is taken over the rows (dim=1); take it over the classes (dim=-1)": (
            _pick_labels(logits.softmax(dim=1), labels)
        ),
        "the softmax is taken over the batch (dim=0); take it over the classes (dim=-1)": (
            _pick_labels(logits.softmax(dim=0), labels)
        ),
        "these are log-probabilities (log_softmax): return probabilities (softmax)": (
            _pick_labels(logits.log_softmax(dim=-1), labels)
        ),
        "the sigmoid of each logit: the probability of a class is the softmax over all classes": (
            _pick_labels(logits.sigmoid(), labels)
        ),
        "this is the probability of the predicted (most likely) class, not of the right class": (
            logits.softmax(dim=-1).amax(dim=-1)
        ),
        "every row is read with weight[0] and bias[0]: row t has its own read-out, weight[t] "
        "and bias[t]": _pick_labels(first.softmax(dim=-1), labels),
        "every row is read with the last read-out, weight[-1] and bias[-1]: row t has its own, "
        "weight[t] and bias[t]": _pick_labels(last.softmax(dim=-1), labels),
        "the bias is missing: logits_t = states[:, t] @ weight[t].T + bias[t]": _pick_labels(
            torch.einsum("bth,tch->btc", states, weight).softmax(dim=-1), labels
        ),
        "every row reads the last state states[:, -1]: row t must read states[:, t]": (
            _pick_labels(
                (torch.einsum("bth,tch->btc", final_state, weight) + bias).softmax(dim=-1), labels
            )
        ),
    }
    if weight.shape[1] == weight.shape[2]:  # square read-outs: a transpose runs without error
        transposed = torch.einsum("bth,thc->btc", states, weight) + bias
        mistakes[
            "weight[t] is used transposed: logits_t = states[:, t] @ weight[t].T + bias[t], "
            "with weight[t] of shape (classes, hidden)"
        ] = _pick_labels(transposed.softmax(dim=-1), labels)
    return mistakes


def _probability_inputs(g, batch, rows, hidden, classes, dtype=torch.float32):
    states = torch.randn(batch, rows, hidden, generator=g, dtype=dtype)
    weight = torch.randn(rows, classes, hidden, generator=g, dtype=dtype)
    bias = torch.randn(rows, classes, generator=g, dtype=dtype)
    labels = torch.randperm(classes, generator=g)[:batch] if batch <= classes else None
    if labels is None:
        labels = torch.randint(0, classes, (batch,), generator=g)
    return states, weight, bias, labels


EINSUM_HINT = (
    r"einsum\(\)",
    "an einsum subscript joins two axes of different sizes: states is (batch, rows, hidden) and "
    "weight (rows, classes, hidden), e.g. 'bth,tch->btc'",
)
PRODUCT_HINT = (
    r"mat1 and mat2|shapes cannot be multiplied|size mismatch",
    "weight[t] has shape (classes, hidden): the read-out of row t is states[:, t] @ weight[t].T",
)


@exercise(reference=_right_class_probability, hints=[EINSUM_HINT, PRODUCT_HINT])
def right_class_probability(answer) -> int:
    """`right_class_probability(states, weight, bias, labels)` -> (batch, rows)."""
    g = torch.Generator().manual_seed(73)
    cases = [
        _probability_inputs(g, batch=4, rows=7, hidden=6, classes=5),
        _probability_inputs(g, batch=1, rows=3, hidden=5, classes=5),  # square read-outs
        _probability_inputs(g, batch=6, rows=4, hidden=3, classes=10, dtype=torch.float64),
    ]
    for states, weight, bias, labels in cases:
        batch, rows = states.shape[:2]
        what = (
            f"the probabilities for {batch} image(s) of {rows} rows, hidden size "
            f"{states.shape[2]}, {weight.shape[1]} classes"
        )
        result = call(answer, states, weight, bias, labels)
        expected = _right_class_probability(states, weight, bias, labels)
        if isinstance(result, torch.Tensor) and batch == 1 and result.shape == (rows,):
            raise CheckFailed(
                f"{what} have shape {tuple(result.shape)}: the batch axis is gone for a batch of "
                "one; squeeze() removes every axis of size 1, squeeze(2) only the last"
            )
        if isinstance(result, torch.Tensor) and batch > 1:
            if result.shape == (batch, rows, batch):
                raise CheckFailed(
                    f"{what} have shape {tuple(result.shape)}: `probabilities[:, :, labels]` takes "
                    "every image's label for every image; pick each image's own label, e.g. "
                    "probabilities[torch.arange(batch), :, labels]"
                )
            if result.shape == (rows, batch) and rows != batch:
                raise CheckFailed(
                    f"{what} have shape (rows, batch) = {tuple(result.shape)}; return (batch, rows)"
                )
        expect_tensor(result, expected, what)
        name_mistake(result, _probability_mistakes(states, weight, bias, labels))
        expect_close(
            result,
            expected,
            what,
            "row t: softmax over the classes of states[:, t] @ weight[t].T + bias[t], taken at "
            "each image's label",
        )
    return len(cases)
