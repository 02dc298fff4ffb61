"""The validation split: deterministic, stratified, sized by `validation`, never touching the test set."""

from __future__ import annotations

import numpy as np
import pytest

from harness.components import datasets, validation
from harness.errors import DatasetError, SuiteError
from harness.suite import parse_suite


def test_split_is_deterministic_stratified_and_disjoint():
    y = np.repeat(np.arange(4), [60, 30, 60, 90])
    x = np.arange(len(y))[:, None].astype(np.float32)
    xtr, ytr, xva, yva = validation.split(x, y, 40)
    again = validation.split(x, y, 40)
    assert all(np.array_equal(a, b) for a, b in zip((xtr, ytr, xva, yva), again, strict=True))
    assert len(xva) == 40 and len(xtr) == 200
    assert np.bincount(yva).tolist() == [10, 5, 10, 15]  # the training data's class mix
    assert not set(xtr[:, 0]) & set(xva[:, 0])  # disjoint
    assert np.all(np.diff(xtr[:, 0]) > 0)  # the rest keeps its order


def test_sizes_counts_fractions_and_defaults():
    assert validation.validation_size(60_000, None) == 10_000  # DeepOBS' MNIST split
    assert validation.validation_size(4000, {}) == 667
    assert validation.validation_size(4000, {"validation": 0.25}) == 1000
    assert validation.validation_size(4000, {"validation": 500}) == 500
    assert validation.validation_size(4000, {"validation": 0}) == 0
    for bad in (4000, -1, 1.5, "x", True):
        with pytest.raises(ValueError, match="validation"):
            validation.validation_size(4000, {"validation": bad})


def test_load_carves_validation_and_keeps_the_test_set():
    plain = datasets.load("mnist-sample", {"validation": 0})
    ds = datasets.load("mnist-sample", {"validation": 400})
    assert len(ds.x_val) == 400 and len(ds.x_train) == 3600
    np.testing.assert_array_equal(ds.x_test, plain.x_test)
    assert datasets.train_size("mnist-sample", {"validation": 400}) == 3600
    with pytest.raises(DatasetError, match="validation"):
        datasets.load("mnist-sample", {"validation": 4000})


def test_suite_rejects_a_bad_validation_value():
    with pytest.raises(SuiteError) as info:
        parse_suite('[defaults]\ndataset = { name = "mnist-sample", validation = 4000 }\n', "s.toml")
    assert "dataset.validation" in str(info.value) and "4000" in str(info.value)
