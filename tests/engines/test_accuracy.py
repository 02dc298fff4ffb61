"""Correctness of the workload: reference accuracies (Adam 1e-3, batch 128)."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow")

from harness.components import datasets, model, optimizers  # noqa: E402
from harness.engines import get  # noqa: E402
from harness.engines.base import NoHooks, TrainSpec  # noqa: E402
from harness.errors import DatasetError  # noqa: E402


def final_accuracy(ds: datasets.Dataset, epochs: int, engine: str = "fast") -> float:
    spec = TrainSpec(ds.x_train, ds.y_train, ds.x_test, ds.y_test, 128, epochs, 0, 0.97)
    net = model.build_model(0, input_shape=ds.input_shape)
    res = get(engine)(net, optimizers.build({"name": "adam", "params": {}}, 1e-3), spec, NoHooks())
    assert res.status == "ok"
    return res.epochs[-1]["test_accuracy"]


@pytest.mark.slow
def test_adam_on_mnist_sample_reaches_089_in_10_epochs():
    assert final_accuracy(datasets.load("mnist-sample"), 10) >= 0.89


@pytest.mark.slow
def test_adam_on_full_mnist_reaches_097_in_5_epochs():
    try:
        ds = datasets.load("mnist")
    except DatasetError as exc:
        pytest.skip(f"full MNIST not available offline here: {exc}")
    assert final_accuracy(ds, 5) >= 0.97
