import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision import datasets

from rnn_course import data
from rnn_course.settings import data_root

MNIST_RAW = data_root() / "MNIST" / "raw"
needs_mnist = pytest.mark.skipif(
    not any(
        (MNIST_RAW / f"{name}{ext}").exists() for name in data.MNIST_FILES for ext in ("", ".gz")
    ),
    reason=f"the MNIST files are not in {MNIST_RAW} (set RNN_COURSE_DATA)",
)


def test_airline_passengers_are_the_box_jenkins_series():
    months, values = data.load_airline_passengers()
    assert len(months) == len(values) == 144
    assert months[0] == "1949-01" and months[-1] == "1960-12"
    assert values.sum().item() == 40363 and values[0].item() == 112


def test_sine_wave_is_seeded_and_validated():
    clean = data.sine_wave(100, periods=2)
    assert clean.shape == (100,) and clean.dtype == torch.float32
    assert torch.allclose(clean[[0, -1]], torch.zeros(2), atol=1e-6)
    noisy = data.sine_wave(100, noise_std=0.1, seed=1)
    assert torch.equal(noisy, data.sine_wave(100, noise_std=0.1, seed=1))
    assert not torch.equal(noisy, data.sine_wave(100, noise_std=0.1, seed=2))
    with pytest.raises(ValueError, match="n_points must be a positive int"):
        data.sine_wave(0)


def test_make_windows_pairs_each_window_with_the_values_after_it():
    inputs, targets = data.make_windows(np.arange(10.0), window=3, horizon=2)
    assert inputs.shape == (6, 3) and targets.shape == (6, 2)
    assert inputs[0].tolist() == [0, 1, 2] and targets[0].tolist() == [3, 4]
    assert inputs[-1].tolist() == [5, 6, 7] and targets[-1].tolist() == [8, 9]


@pytest.mark.parametrize(
    ("series", "window", "error", "message"),
    [
        (
            torch.zeros(3, 2),
            2,
            ValueError,
            r"series must be 1-D with shape \(time,\), got a 2-D tensor",
        ),
        ("abc", 2, TypeError, "series must be a tensor, a NumPy array or a list of numbers"),
        (torch.zeros(5), 0, ValueError, "window must be a positive int, got int 0"),
        (torch.zeros(5), 5, ValueError, "series has 5 values, too few for window=5 and horizon=1"),
    ],
)
def test_make_windows_rejects_bad_input(series, window, error, message):
    with pytest.raises(error, match=message):
        data.make_windows(series, window)


def test_time_split_keeps_order():
    train, test = data.time_split(torch.arange(10), 0.8)
    assert train.tolist() == list(range(8)) and test.tolist() == [8, 9]
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        data.time_split(torch.arange(10), 1.0)
    with pytest.raises(ValueError, match="leaves an empty part"):
        data.time_split(torch.arange(2), 0.9)


# ----------------------------------------------------------------------------- MNIST loader


def _copy_raw(tmp_path: Path, decompressed: bool) -> Path:
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in data.MNIST_FILES:
        source = MNIST_RAW / (name if decompressed else f"{name}.gz")
        if source.exists():
            shutil.copy(source, raw / source.name)
        elif decompressed:  # only the archive exists: decompress it for this test
            with gzip.open(MNIST_RAW / f"{name}.gz") as src, open(raw / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:  # only the decompressed file exists: compress it for this test
            with open(MNIST_RAW / name, "rb") as src, gzip.open(raw / f"{name}.gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
    return raw


@pytest.fixture(autouse=True)
def _fresh_cache():
    data._load_split.cache_clear()
    yield
    data._load_split.cache_clear()


@needs_mnist
def test_mnist_from_decompressed_files(tmp_path):
    _copy_raw(tmp_path, decompressed=True)
    images, labels = data.load_mnist("test", root=tmp_path)
    assert images.shape == (10000, 28, 28) and images.dtype == torch.float32
    assert 0 <= images.min() and images.max() <= 1 and labels.dtype == torch.int64
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]


@needs_mnist
def test_mnist_from_gz_archives_only_decompresses_them_and_keeps_the_archives(tmp_path):
    raw = _copy_raw(tmp_path, decompressed=False)
    archives = {p.name: p.read_bytes() for p in raw.iterdir()}
    images, labels = data.load_mnist("train", limit=100, root=tmp_path)
    assert images.shape == (100, 28, 28) and labels[:3].tolist() == [5, 0, 4]
    for name in data.MNIST_FILES:
        assert (raw / name).is_file()
    assert {p.name: p.read_bytes() for p in raw.glob("*.gz")} == archives


def test_mnist_missing_and_offline_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])  # a closed local port
    with pytest.raises(FileNotFoundError) as caught:
        data.load_mnist("test", root=tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "MNIST" / "raw") in message and "RNN_COURSE_DATA" in message
    for name in data.MNIST_FILES:
        assert name in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@needs_mnist
def test_mnist_truncated_file_is_named(tmp_path):
    raw = _copy_raw(tmp_path, decompressed=True)
    labels_file = raw / "t10k-labels-idx1-ubyte"
    labels_file.write_bytes(labels_file.read_bytes()[:5000])
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte is 5,000 bytes, expected 10,008"):
        data.load_mnist("test", root=tmp_path)
    assert labels_file.stat().st_size == 5000  # the user's file is left as it was


@needs_mnist
def test_mnist_corrupted_content_and_archive_are_named(tmp_path):
    raw = _copy_raw(tmp_path, decompressed=True)
    images_file = raw / "t10k-images-idx3-ubyte"
    content = bytearray(images_file.read_bytes())
    content[1000] ^= 0xFF
    images_file.write_bytes(bytes(content))
    with pytest.raises(
        ValueError, match="t10k-images-idx3-ubyte has the right size but the wrong content"
    ):
        data.load_mnist("test", root=tmp_path)

    images_file.unlink()
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08 not really gzip")
    data._load_split.cache_clear()
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz is not a valid gzip archive"):
        data.load_mnist("test", root=tmp_path)
    assert not images_file.exists() and not list(raw.glob(".t10k-images*"))


def test_load_mnist_rejects_bad_arguments():
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'val'"):
        data.load_mnist("val")
    with pytest.raises(ValueError, match="limit must be a positive int"):
        data.load_mnist("test", limit=0)
