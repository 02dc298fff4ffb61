"""The workload: 784 -> Dense(128, relu) -> Dense(10) logits, 101,770 parameters.

The original design put a softmax on the output *and* used
``from_logits=True`` (a double softmax that flattens the gradients); here the
last layer emits logits and the loss applies the softmax once. This model is
``mnist_dense`` in the registry of :mod:`harness.components.models`, which
builds every model (built-in and user) for any image shape and class count.
"""

from __future__ import annotations

from typing import Any

HIDDEN_UNITS = 128
NUM_CLASSES = 10
INPUT_DIM = 784
NUM_PARAMS = INPUT_DIM * HIDDEN_UNITS + HIDDEN_UNITS + HIDDEN_UNITS * NUM_CLASSES + NUM_CLASSES


def build_model(seed: int, precision: str = "float32", input_shape: tuple[int, ...] = (INPUT_DIM,),
                num_classes: int = NUM_CLASSES) -> Any:
    """A fresh ``mnist_dense`` with seeded initial weights. Mixed precision: the logits stay float32."""
    from harness.components import models

    return models.build("mnist_dense", input_shape, num_classes, seed, precision)


def loss_object() -> Any:
    """Per-example sparse categorical cross-entropy on logits (reduction left to the step)."""
    import keras

    return keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
