import pytest
import torch
from torch import nn

from rnn_course import MLP, SequenceClassifier, count_parameters, evaluate, fit, predict


def _toy_classification(n=256):
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(n, 4, generator=generator)
    targets = (inputs[:, 0] + inputs[:, 1] > 0).long()
    return inputs, targets


def test_fit_lowers_the_loss_and_records_a_history(capsys):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    data = _toy_classification()
    before = evaluate(model, data, nn.CrossEntropyLoss())
    history = fit(
        model,
        data,
        epochs=5,
        loss_fn=nn.CrossEntropyLoss(),
        lr=1e-2,
        val_data=data,
        clip_grad_norm=1.0,
        progress=False,
    )
    after = evaluate(model, data, nn.CrossEntropyLoss())
    assert after["loss"] < before["loss"] / 2 and after["accuracy"] > 0.9
    assert set(history) == {"train_loss", "epoch_seconds", "val_loss", "val_accuracy"}
    assert all(len(values) == 5 for values in history.values())
    assert history["train_loss"][-1] < history["train_loss"][0]
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5 and lines[-1].startswith("epoch 5/5 | train loss")


def test_fit_on_regression_has_no_accuracy():
    torch.manual_seed(0)
    inputs = torch.randn(64, 3)
    targets = inputs.sum(dim=1, keepdim=True)
    model = nn.Linear(3, 1)
    history = fit(
        model,
        (inputs, targets),
        epochs=3,
        loss_fn=nn.MSELoss(),
        lr=0.1,
        val_data=(inputs, targets),
        progress=False,
        verbose=False,
    )
    assert "val_accuracy" not in history and history["val_loss"][-1] < history["val_loss"][0]


def test_predict_returns_outputs_in_order():
    model = nn.Linear(3, 2)
    inputs = torch.randn(10, 3)
    with torch.no_grad():
        expected = model(inputs)
    assert torch.allclose(predict(model, inputs, batch_size=3), expected, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"train_data": torch.zeros(3)},
            TypeError,
            r"train_data must be a pair of tensors \(inputs, targets\)",
        ),
        (
            {"train_data": (torch.zeros(3, 4), torch.zeros(2))},
            ValueError,
            "as many targets as inputs",
        ),
        ({"epochs": 0}, ValueError, "epochs must be a positive int"),
        ({"clip_grad_norm": -1.0}, ValueError, "clip_grad_norm must be positive or None"),
    ],
)
def test_fit_rejects_bad_arguments(kwargs, error, message):
    arguments = {
        "train_data": _toy_classification(8),
        "epochs": 1,
        "loss_fn": nn.CrossEntropyLoss(),
    }
    arguments.update(kwargs)
    train_data = arguments.pop("train_data")
    with pytest.raises(error, match=message):
        fit(nn.Linear(4, 2), train_data, progress=False, **arguments)


def test_reference_models_shapes_and_counts():
    assert count_parameters(MLP()) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert MLP()(torch.zeros(5, 28, 28)).shape == (5, 10)
    for cell in ("rnn", "lstm", "gru"):
        model = SequenceClassifier(input_size=28, hidden_size=16, cell=cell)
        assert model(torch.zeros(3, 28, 28)).shape == (3, 10)
    assert (
        count_parameters(SequenceClassifier(hidden_size=128))
        == 28 * 128 + 128 * 128 + 2 * 128 + 1290
    )
    with pytest.raises(
        ValueError, match=r"cell must be one of \['gru', 'lstm', 'rnn'\], got 'transformer'"
    ):
        SequenceClassifier(cell="transformer")
    with pytest.raises(ValueError, match=r"x must have shape \(batch, time, 28\), got \(3, 784\)"):
        SequenceClassifier()(torch.zeros(3, 784))
