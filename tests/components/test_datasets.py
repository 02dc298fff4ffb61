"""Dataset loaders: IDX (gzipped or not), npz, mnist-sample's stratified split, synthetic, errors."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from harness.components import datasets
from harness.errors import DatasetError


def write_idx(path, arr: np.ndarray, gz: bool = False) -> None:
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)


def make_idx_folder(folder, n_train=20, n_test=8, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28)), "y_train": rng.integers(0, 10, n_train),
        "x_test": rng.integers(0, 256, (n_test, 28, 28)), "y_test": rng.integers(0, 10, n_test),
    }
    folder.mkdir(exist_ok=True)
    for key, stem in datasets.IDX_FILES.items():
        write_idx(folder / stem, arrays[key], gz)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder_round_trip(tmp_path, gz):
    arrays = make_idx_folder(tmp_path / "idx", gz=gz)
    ds = datasets.load("mnist", {"path": str(tmp_path / "idx"), "validation": 0})
    assert ds.x_train.shape == (20, 28, 28, 1) and ds.x_test.shape == (8, 28, 28, 1)  # shape kept (issue 24)
    assert ds.x_train.dtype == np.float32 and ds.x_train.min() >= 0.0 and ds.x_train.max() <= 1.0
    np.testing.assert_allclose(ds.x_train[3], arrays["x_train"][3][..., None] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(ds.y_test, arrays["y_test"])
    assert len(ds.sha) == 16
    # the same loader serves any MNIST-format folder
    assert datasets.load("idx", {"path": str(tmp_path / "idx"), "validation": 0}).sha == ds.sha


def test_npz_round_trip(tmp_path):
    arrays = make_idx_folder(tmp_path / "idx")
    np.savez(tmp_path / "mnist.npz", **arrays)
    ds = datasets.load("mnist", {"path": str(tmp_path / "mnist.npz"), "validation": 0})
    np.testing.assert_array_equal(ds.y_train, arrays["y_train"])
    assert ds.sha == datasets.load("mnist", {"path": str(tmp_path / "idx"), "validation": 0}).sha


def test_malformed_idx_names_the_file(tmp_path):
    make_idx_folder(tmp_path / "idx")
    bad = tmp_path / "idx" / "train-labels-idx1-ubyte"
    bad.write_bytes(bad.read_bytes()[:-3])
    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte.*holds"):
        datasets.load("mnist", {"path": str(tmp_path / "idx")})
    bad.write_bytes(b"\x12\x34\x56\x78rubbish")
    with pytest.raises(DatasetError, match="bad magic number"):
        datasets.load("mnist", {"path": str(tmp_path / "idx")})


def test_missing_idx_file_and_missing_path(tmp_path):
    make_idx_folder(tmp_path / "idx")
    (tmp_path / "idx" / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(DatasetError, match="missing IDX file t10k-images"):
        datasets.load("mnist", {"path": str(tmp_path / "idx")})
    with pytest.raises(DatasetError, match="does not exist"):
        datasets.load("mnist", {"path": str(tmp_path / "nope")})


def test_npz_missing_array(tmp_path):
    np.savez(tmp_path / "m.npz", x_train=np.zeros((2, 784)))
    with pytest.raises(DatasetError, match="lacks array"):
        datasets.load("mnist", {"path": str(tmp_path / "m.npz")})


def test_mnist_offline_without_cache_names_alternatives(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DatasetError) as info:
        datasets.load("mnist")
    msg = str(info.value)
    assert "mnist-sample" in msg and "path" in msg and "synthetic" in msg


def test_mnist_uses_keras_cache(tmp_path, monkeypatch):
    arrays = make_idx_folder(tmp_path / "idx")
    (tmp_path / "datasets").mkdir()
    np.savez(tmp_path / "datasets" / "mnist.npz", **arrays)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    ds = datasets.load("mnist")
    assert len(ds.x_train) + len(ds.x_val) == 20 and len(ds.x_val) == 3  # 1/6 held out for validation


def test_mnist_sample_is_a_seeded_stratified_split():
    ds = datasets.load("mnist-sample")
    assert ds.x_train.shape == (3333, 28, 28, 1) and ds.x_val.shape == (667, 28, 28, 1)
    assert ds.x_test.shape == (1000, 28, 28, 1)  # shape kept (issue 24)
    assert np.bincount(np.concatenate([ds.y_train, ds.y_val])).tolist() == [400] * 10
    assert sorted(np.bincount(ds.y_val).tolist()) == [66] * 3 + [67] * 7  # stratified
    assert np.bincount(ds.y_test).tolist() == [100] * 10
    assert ds.sha == datasets.load("mnist-sample").sha  # deterministic
    assert ds.sha != datasets.load("mnist-sample", {"split_seed": 1}).sha
    assert len(set(ds.y_train[:20].tolist())) > 3  # shuffled, not ordered by class


def test_synthetic_sizes_and_learnable_labels():
    ds = datasets.load("synthetic", {"n_train": 300, "n_test": 50})
    assert ds.x_train.shape == (300, 784) and ds.x_val.shape == (50, 784) and ds.y_test.shape == (50,)
    assert datasets.train_size("synthetic", {"n_train": 300}) == 300  # validation generated on top
    assert len(np.unique(ds.y_train)) > 5


def test_unknown_dataset():
    with pytest.raises(DatasetError, match="unknown dataset"):
        datasets.load("cifar")
