"""Lesson 07's checks accept the reference solutions and reject plausible wrong answers."""

import pytest
import torch

from rnn_course import check
from rnn_course.check import CheckFailed


def rows_as_sequence(images):
    return images[:, 0]


def confusion_matrix(labels, predictions, num_classes):
    counts = torch.bincount(labels * num_classes + predictions, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


@torch.no_grad()
def right_class_probability_by_row(model, images, labels):
    output, _ = model.rnn(images)
    probabilities = model.head(output).softmax(dim=-1)
    return probabilities[torch.arange(len(labels)), :, labels]


def test_rows_as_sequence_accepts_reference():
    check.rows_as_sequence(rows_as_sequence)
    check.rows_as_sequence(lambda images: images.squeeze(1))


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (lambda images: images.flatten(1), "flattened"),
        (lambda images: images[:, 0].transpose(0, 1), "batch_first=False"),
        (lambda images: images[:, 0].transpose(1, 2), "columns"),
        (lambda images: images, "shape"),
        (lambda images: images[:, 0] * 2, "the sequences"),
    ],
)
def test_rows_as_sequence_rejects(answer, match):
    with pytest.raises(CheckFailed, match=match):
        check.rows_as_sequence(answer)


def test_confusion_matrix_accepts_reference():
    check.confusion_matrix(confusion_matrix)


def _loop(labels, predictions, num_classes):
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for label, prediction in zip(labels.tolist(), predictions.tolist()):
        matrix[label, prediction] += 1
    return matrix


def test_confusion_matrix_accepts_loop():
    check.confusion_matrix(_loop)


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (lambda y, p, n: confusion_matrix(y, p, n).T, "transposed"),
        (
            lambda y, p, n: confusion_matrix(y, p, int(max(y.max(), p.max())) + 1),
            "size it by num_classes",
        ),
        (lambda y, p, n: confusion_matrix(y, p, n).float() / len(y), "fractions"),
        (lambda y, p, n: confusion_matrix(y, p, n) * 2, "add up to"),
    ],
)
def test_confusion_matrix_rejects(answer, match):
    with pytest.raises(CheckFailed, match=match):
        check.confusion_matrix(answer)


def test_right_class_probability_accepts_reference():
    check.right_class_probability_by_row(right_class_probability_by_row)


@torch.no_grad()
def _logits(model, images, labels):
    output, _ = model.rnn(images)
    return model.head(output)[torch.arange(len(labels)), :, labels]


@torch.no_grad()
def _softmax_rows(model, images, labels):
    output, _ = model.rnn(images)
    return model.head(output).softmax(dim=1)[torch.arange(len(labels)), :, labels]


@torch.no_grad()
def _predicted(model, images, labels):
    output, _ = model.rnn(images)
    return model.head(output).softmax(dim=-1).amax(dim=-1)


@torch.no_grad()
def _last_only(model, images, labels):
    final = model(images).softmax(dim=-1)[torch.arange(len(labels)), labels]
    return final.unsqueeze(1).expand(-1, images.shape[1])


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (_logits, "logits"),
        (_softmax_rows, "over the rows"),
        (_predicted, "predicted class"),
        (_last_only, "every row"),
        (lambda model, images, labels: model(images).softmax(dim=-1), "shape"),
    ],
)
def test_right_class_probability_rejects(answer, match):
    with pytest.raises(CheckFailed, match=match):
        check.right_class_probability_by_row(answer)
