"""Lesson 07's checks: each plausible wrong answer rejected with its mistake named, each right one passed."""

import numpy as np
import torch
from catalogue import catalogue_tests
from torch.nn import functional as F  # noqa: N812

# ----------------------------------------------------------------------------- rows_as_sequence


def rows_by_loop(images):
    return torch.stack([image[0] for image in images])


def rows_in_place(images):
    return images.squeeze_(1)


WRONG_ROWS = [
    ("flattened", lambda images: images.flatten(1), "flattened"),
    ("time first", lambda images: images[:, 0].transpose(0, 1), "batch_first=False"),
    ("columns, not square", lambda images: images[:, 0].transpose(1, 2), "columns"),
    ("columns with mT", lambda images: images[:, 0].mT, "columns"),
    ("channel kept", lambda images: images, "channel axis"),
    ("squeeze() drops a batch of one", lambda images: images.squeeze(), "batch axis is gone"),
    ("first image only", lambda images: images[0], "only one image"),
    ("wrong axis indexed", lambda images: images[:, :, 0], r"shape \(3, 4, 5\), got \(3, 1, 5\)"),
    ("bottom to top", lambda images: images[:, 0].flip(1), "bottom up"),
    ("rows reversed", lambda images: images[:, 0].flip(2), "pixels of each row are reversed"),
    ("scaled to bytes", lambda images: images[:, 0] * 255, "scaled by 255"),
    ("float64", lambda images: images[:, 0].double(), "dtype torch.float64"),
    ("numpy array", lambda images: images[:, 0].numpy(), "should be a tensor, got ndarray"),
    ("in place", rows_in_place, "changed its argument `images` in place"),
    (
        "view as width by height",
        lambda images: images.reshape(len(images), images.shape[3], images.shape[2]),
        "columns",
    ),
]

RIGHT_ROWS = [
    ("index", lambda images: images[:, 0]),
    ("squeeze(1)", lambda images: images.squeeze(1)),
    ("flatten(1, 2)", lambda images: images.flatten(1, 2)),
    ("reshape", lambda images: images.reshape(len(images), *images.shape[2:])),
    ("loop", rows_by_loop),
    ("permute", lambda images: images.permute(0, 2, 3, 1)[..., 0]),
    ("einsum", lambda images: torch.einsum("bchw->bhw", images)),
]

# ----------------------------------------------------------------------------- confusion_matrix


def confusion_by_bincount(labels, predictions, num_classes):
    counts = torch.bincount(labels * num_classes + predictions, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def confusion_by_loop(labels, predictions, num_classes):
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for label, prediction in zip(labels.tolist(), predictions.tolist()):
        matrix[label, prediction] += 1
    return matrix


def confusion_by_tensor_loop(labels, predictions, num_classes):
    matrix = torch.zeros((num_classes, num_classes), dtype=torch.long)
    for label, prediction in zip(labels, predictions):
        matrix[label][prediction] += 1
    return matrix


def confusion_by_index_put(labels, predictions, num_classes):
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    return matrix.index_put_((labels, predictions), torch.ones_like(labels), accumulate=True)


def confusion_by_one_hot(labels, predictions, num_classes):
    return F.one_hot(labels, num_classes).T @ F.one_hot(predictions, num_classes)


def confusion_by_rows(labels, predictions, num_classes):
    return torch.stack(
        [
            torch.bincount(predictions[labels == c], minlength=num_classes)
            for c in range(num_classes)
        ]
    )


def confusion_fancy_index(labels, predictions, num_classes):
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    matrix[labels, predictions] += 1
    return matrix


def confusion_float(labels, predictions, num_classes):
    matrix = torch.zeros(num_classes, num_classes)
    for label, prediction in zip(labels.tolist(), predictions.tolist()):
        matrix[label, prediction] += 1
    return matrix


def confusion_int32(labels, predictions, num_classes):
    return confusion_by_loop(labels, predictions, num_classes).int()


def confusion_without_minlength(labels, predictions, num_classes):
    return torch.bincount(labels * num_classes + predictions).reshape(num_classes, num_classes)


def confusion_seen_classes(labels, predictions, num_classes):
    seen = int(max(labels.max(), predictions.max())) + 1
    return confusion_by_bincount(labels, predictions, seen)


def confusion_in_place(labels, predictions, num_classes):
    pairs = labels.mul_(num_classes).add_(predictions)
    return torch.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)


def confusion_numpy(labels, predictions, num_classes):
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels.numpy(), predictions.numpy()), 1)
    return matrix


def confusion_one_too_many(labels, predictions, num_classes):
    return confusion_by_bincount(labels, predictions, num_classes + 1)


WRONG_CONFUSION = [
    ("transposed", lambda y, p, n: confusion_by_bincount(y, p, n).T, "transposed"),
    (
        "pairs the other way",
        lambda y, p, n: confusion_by_bincount(p, y, n),
        "transposed",
    ),
    ("sized by classes seen", confusion_seen_classes, "size it by num_classes"),
    ("one class too many", confusion_one_too_many, r"shape \(4, 4\), got \(5, 5\)"),
    ("no minlength", confusion_without_minlength, "pass minlength"),
    ("float counts", confusion_float, "dtype torch.float32, expected torch.int64"),
    ("int32 counts", confusion_int32, "dtype torch.int32, expected torch.int64"),
    (
        "divided by n",
        lambda y, p, n: confusion_by_loop(y, p, n).double() / len(y),
        "divided by the number of examples",
    ),
    (
        "rows normalised",
        lambda y, p, n: confusion_float(y, p, n) / confusion_float(y, p, n).sum(1, keepdim=True),
        "normalised",
    ),
    ("fancy index += 1", confusion_fancy_index, "counted once however often"),
    ("counted twice", lambda y, p, n: 2 * confusion_by_loop(y, p, n), "add up to 14"),
    (
        "diagonal only",
        lambda y, p, n: torch.diag(torch.diag(confusion_by_loop(y, p, n))),
        "add up to",
    ),
    ("numpy array", confusion_numpy, "should be a tensor, got ndarray"),
    ("list of lists", lambda y, p, n: confusion_by_loop(y, p, n).tolist(), "got list"),
    ("in place", confusion_in_place, "changed its argument `labels` in place"),
]

RIGHT_CONFUSION = [
    ("bincount", confusion_by_bincount),
    ("loop over ints", confusion_by_loop),
    ("loop over tensors", confusion_by_tensor_loop),
    ("index_put_ accumulate", confusion_by_index_put),
    ("one-hot product", confusion_by_one_hot),
    ("bincount per class", confusion_by_rows),
]

# ----------------------------------------------------------------------------- probability by row


def probability_einsum(states, weight, bias, labels):
    logits = torch.einsum("bth,tch->btc", states, weight) + bias
    return logits.softmax(dim=-1)[torch.arange(len(labels)), :, labels]


def probability_loop(states, weight, bias, labels):
    columns = []
    for t in range(states.shape[1]):
        logits = F.linear(states[:, t], weight[t], bias[t])
        columns.append(logits.softmax(dim=1).gather(1, labels[:, None])[:, 0])
    return torch.stack(columns, dim=1)


def probability_baddbmm(states, weight, bias, labels):
    logits = torch.baddbmm(bias[:, None, :], states.transpose(0, 1), weight.transpose(1, 2))
    probabilities = logits.softmax(dim=-1).transpose(0, 1)  # (batch, rows, classes)
    return probabilities[torch.arange(len(labels)), :, labels]


def probability_cross_entropy(states, weight, bias, labels):
    logits = torch.einsum("bth,tch->btc", states, weight) + bias
    targets = labels[:, None].expand(-1, states.shape[1])
    return torch.exp(-F.cross_entropy(logits.transpose(1, 2), targets, reduction="none"))


def probability_log_softmax(states, weight, bias, labels):
    logits = (states.unsqueeze(2) @ weight.transpose(1, 2)).squeeze(2) + bias
    return (
        logits.log_softmax(dim=2)
        .exp()
        .gather(2, labels.view(-1, 1, 1).expand(-1, states.shape[1], 1))[..., 0]
    )


def probability_bias_in_place(states, weight, bias, labels):
    bias.unsqueeze_(0)  # (1, rows, classes), to broadcast over the batch
    return probability_einsum(states, weight, bias, labels)


def _logits(states, weight, bias):
    return torch.einsum("bth,tch->btc", states, weight) + bias


def _at_labels(values, labels):
    return values[torch.arange(len(labels)), :, labels]


WRONG_PROBABILITY = [
    ("logits", lambda s, w, b, y: _at_labels(_logits(s, w, b), y), "logits of the right class"),
    (
        "softmax over rows",
        lambda s, w, b, y: _at_labels(_logits(s, w, b).softmax(dim=1), y),
        r"over the rows \(dim=1\)",
    ),
    (
        "softmax without dim",
        lambda s, w, b, y: _at_labels(F.softmax(_logits(s, w, b), dim=0), y),
        r"over the batch \(dim=0\)",
    ),
    (
        "log_softmax",
        lambda s, w, b, y: _at_labels(_logits(s, w, b).log_softmax(dim=-1), y),
        "log-probabilities",
    ),
    ("sigmoid", lambda s, w, b, y: _at_labels(_logits(s, w, b).sigmoid(), y), "sigmoid"),
    (
        "predicted class",
        lambda s, w, b, y: _logits(s, w, b).softmax(dim=-1).amax(dim=-1),
        "predicted",
    ),
    (
        "row 0's read-out everywhere",
        lambda s, w, b, y: _at_labels((s @ w[0].T + b[0]).softmax(dim=-1), y),
        r"weight\[0\]",
    ),
    (
        "last read-out everywhere",
        lambda s, w, b, y: _at_labels((s @ w[-1].T + b[-1]).softmax(dim=-1), y),
        r"weight\[-1\]",
    ),
    (
        "no bias",
        lambda s, w, b, y: _at_labels(torch.einsum("bth,tch->btc", s, w).softmax(dim=-1), y),
        "bias is missing",
    ),
    (
        "last state everywhere",
        lambda s, w, b, y: _at_labels(_logits(s[:, -1:].expand_as(s), w, b).softmax(dim=-1), y),
        r"last state",
    ),
    (
        "weight not transposed",
        lambda s, w, b, y: _at_labels((torch.einsum("bth,thc->btc", s, w) + b).softmax(dim=-1), y),
        "(transposed|einsum subscript joins)",
    ),
    (
        "every label for every image",
        lambda s, w, b, y: _logits(s, w, b).softmax(dim=-1)[:, :, y],
        "each image's own label",
    ),
    (
        "rows first",
        lambda s, w, b, y: _at_labels(_logits(s, w, b).softmax(dim=-1), y).T,
        r"\(rows, batch\)",
    ),
    (
        "squeeze() on a batch of one",
        lambda s, w, b, y: (
            _logits(s, w, b)
            .softmax(dim=-1)
            .gather(2, y.view(-1, 1, 1).expand(-1, s.shape[1], 1))
            .squeeze()
        ),
        "batch axis is gone",
    ),
    ("in place", probability_bias_in_place, "changed its argument `bias` in place"),
]

RIGHT_PROBABILITY = [
    ("einsum and fancy index", probability_einsum),
    ("loop over rows with F.linear", probability_loop),
    ("baddbmm", probability_baddbmm),
    ("exp of minus cross-entropy", probability_cross_entropy),
    ("matmul, log_softmax, gather", probability_log_softmax),
    (
        "float32 accumulators",
        lambda s, w, b, y: probability_einsum(s.float(), w.float(), b.float(), y),
    ),
]

WRONG = {
    "rows_as_sequence": WRONG_ROWS,
    "confusion_matrix": WRONG_CONFUSION,
    "right_class_probability": WRONG_PROBABILITY,
}
RIGHT = {
    "rows_as_sequence": RIGHT_ROWS,
    "confusion_matrix": RIGHT_CONFUSION,
    "right_class_probability": RIGHT_PROBABILITY,
}

test_wrong, test_right = catalogue_tests(WRONG, RIGHT)
