import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

from rnn_course import plot_digits, plot_gradient_norms, plot_history, plot_series, plots, show


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_series_draws_the_series_and_the_forecast():
    ax = plot_series(torch.arange(10.0), torch.ones(3), labels=[str(i) for i in range(10)])
    assert [len(line.get_xdata()) for line in ax.get_lines()] == [10, 3]
    assert list(ax.get_lines()[1].get_xdata()) == [10, 11, 12]
    with pytest.raises(ValueError, match=r"series must be 1-D with shape \(time,\)"):
        plot_series(torch.zeros(2, 3))


def test_plot_history_adds_an_accuracy_panel_when_there_is_one():
    assert len(plot_history({"train_loss": [1.0, 0.5]})) == 1
    axes = plot_history(
        {"train_loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "val_accuracy": [0.5, 0.9]}
    )
    assert len(axes) == 2 and list(axes[1].get_lines()[0].get_ydata()) == [50.0, 90.0]
    with pytest.raises(ValueError, match="history must be the dict that fit"):
        plot_history([1.0])


def test_plot_digits_titles_each_image():
    axes = plot_digits(torch.rand(3, 28, 28), torch.tensor([1, 2, 3]), torch.tensor([1, 2, 4]))
    assert axes.flat[2].get_title() == "label 3\npred 4"
    with pytest.raises(ValueError, match="labels has 2 entries, expected one per image"):
        plot_digits(torch.rand(3, 28, 28), [1, 2])


def test_plot_gradient_norms_draws_one_curve_per_label_against_distance():
    ax = plot_gradient_norms({"rnn": torch.tensor([1.0, 0.1, 0.01]), "lstm": torch.ones(3)})
    assert [line.get_label() for line in ax.get_lines()] == ["rnn", "lstm"]
    assert list(ax.get_lines()[0].get_xdata()) == [0, 1, 2] and ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="must be a non-empty dict"):
        plot_gradient_norms({})
    with pytest.raises(ValueError, match=r"norms_by_label\['rnn'\] must be 1-D"):
        plot_gradient_norms({"rnn": torch.ones(2, 2)})


def test_show_puts_the_alt_text_on_the_figure_and_closes_it(monkeypatch):
    shown = []
    monkeypatch.setattr(plots, "get_ipython", lambda: object())  # as in a notebook
    monkeypatch.setattr(plots, "display", lambda *a, **k: shown.append((a, k)))
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    show("A line rising from 1 to 3")
    (data,), options = shown[0]
    assert options == {"raw": True, "metadata": {"image/png": {"alt": "A line rising from 1 to 3"}}}
    assert data["text/plain"] == "A line rising from 1 to 3" and data["image/png"].startswith(
        "iVBOR"
    )
    assert not plt.fignum_exists(fig.number)
    with pytest.raises(ValueError, match="alt must be a sentence that says what the figure shows"):
        show("  ")
