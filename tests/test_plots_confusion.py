"""plot_confusion_matrix (lesson 07): counts in the right cells, clear errors for bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from rnn_course import plot_confusion_matrix


def test_counts_rows_true_columns_predicted():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    predictions = torch.tensor([0, 1, 1, 2, 0, 2])
    ax = plot_confusion_matrix(labels, predictions, num_classes=3, title="t")
    grid = ax.images[0].get_array()
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(np.asarray(grid), expected)
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert ax.get_title() == "t"
    assert sorted(t.get_text() for t in ax.texts) == ["1", "1", "1", "1", "2"]
    plt.close("all")


def test_default_num_classes_and_lists():
    ax = plot_confusion_matrix([0, 3], [3, 3])
    assert np.asarray(ax.images[0].get_array()).shape == (4, 4)
    plt.close("all")


@pytest.mark.parametrize(
    ("labels", "predictions", "kwargs", "match"),
    [
        (torch.tensor([0, 1]), torch.tensor([0]), {}, "predictions has 1 entries"),
        (
            torch.tensor([0.0, 1.0]),
            torch.tensor([0, 1]),
            {},
            "labels must be a 1-D tensor of class",
        ),
        (torch.zeros(2, 2, dtype=torch.long), torch.tensor([0, 1]), {}, "labels must be a 1-D"),
        (torch.tensor([0, -1]), torch.tensor([0, 1]), {}, "labels must hold class indices"),
        (torch.tensor([0, 5]), torch.tensor([0, 1]), {"num_classes": 3}, "num_classes must be"),
        (torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long), {}, "empty"),
    ],
)
def test_rejects_bad_input(labels, predictions, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_confusion_matrix(labels, predictions, **kwargs)
    plt.close("all")
