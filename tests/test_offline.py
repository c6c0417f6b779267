"""Working offline: RNN_COURSE_DATA points the course at a student's own copy of MNIST.

The network is blocked in these tests, so a load that tried to download would fail.
"""

from __future__ import annotations

import gzip
import shutil
import socket
from pathlib import Path

import pytest

from rnn_course import data_root, load_mnist
from rnn_course.data import MNIST_FILES
from rnn_course.settings import DATA_ENV

# Where this run finds MNIST (CI sets RNN_COURSE_DATA to its offline copy), read before any
# test changes RNN_COURSE_DATA.
SOURCE = data_root() / "MNIST" / "raw"


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails, as on a laptop with no network."""

    def refuse(*args, **kwargs):
        raise OSError("the network is blocked in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _copy_mnist(target: Path, suffix: str) -> None:
    """Copy the four files into `target`/MNIST/raw, as `.gz` archives or decompressed."""
    raw = target / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES:
        source, archive = SOURCE / f"{name}{suffix}", SOURCE / f"{name}.gz"
        if source.is_file():
            shutil.copy(source, raw / source.name)
        elif archive.is_file():  # only the archive is there: decompress it into the copy
            with gzip.open(archive, "rb") as src, open(raw / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            pytest.skip(f"the offline MNIST copy is not prepared: {source} is missing")


@pytest.mark.parametrize("suffix", ["", ".gz"], ids=["decompressed", "gzip"])
def test_the_four_files_in_rnn_course_data_load_without_network(
    tmp_path, monkeypatch, no_network, suffix
):
    _copy_mnist(tmp_path, suffix)
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert data_root() == tmp_path.resolve()
    test_images, test_labels = load_mnist("test")
    assert test_images.shape == (10_000, 28, 28) and test_labels.shape == (10_000,)
    assert test_labels[:5].tolist() == [7, 2, 1, 0, 4]
    train_images, train_labels = load_mnist("train", limit=5)
    assert train_images.shape == (5, 28, 28)
    assert train_labels.tolist() == [5, 0, 4, 1, 9]
    assert 0.0 <= float(train_images.min()) and float(train_images.max()) <= 1.0


def test_rnn_course_data_without_the_files_says_where_to_put_them(
    tmp_path, monkeypatch, no_network
):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError) as error:
        load_mnist("test")
    message = str(error.value)
    assert f"MNIST is not in {tmp_path.resolve() / 'MNIST' / 'raw'}" in message
    assert "could not be downloaded" in message
    for name in MNIST_FILES:
        assert f"{name}.gz  (or {name})" in message
    assert f"set {DATA_ENV} to a folder that contains MNIST/raw/" in message
